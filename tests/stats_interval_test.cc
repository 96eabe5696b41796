// `stats --watch`'s intervals: two statistics documents in, what happened between them out.
#include "control/server/stats_interval.h"

#include <gtest/gtest.h>

#include <string>

namespace faultline {
namespace {

using Json = nlohmann::json;

Json Document(uint64_t elapsed_ns, uint64_t rx, uint64_t loss, uint64_t matched, uint64_t cut,
              uint64_t resets = 0) {
  Json document = {{"elapsed_ns", elapsed_ns},
                   {"resets", resets},
                   {"dropped", {{"loss", loss}, {"partition", cut}}}};
  document["ports"] = Json::array({Json{{"port", 0}, {"side", "a"}, {"rx", rx}, {"tx", rx - loss}},
                                   Json{{"port", 1}, {"side", "b"}, {"rx", 0}, {"tx", 0}}});
  document["rules"] = Json::array({Json{{"name", "lossy"},
                                        {"matched", matched},
                                        {"forwarded", matched - loss},
                                        {"dropped", {{"loss", loss}, {"total", loss}}}}});
  document["partitions"] =
      Json::array({Json{{"name", "cut"}, {"in_force", false}, {"dropped", cut}, {"answered", 0}}});
  return document;
}

TEST(StatsInterval, CountsAndRatesOfTheInterval) {
  const Json interval = StatsInterval(Document(1'000'000'000, 1000, 10, 900, 5),
                                      Document(3'000'000'000, 5000, 30, 4800, 7));
  EXPECT_EQ(interval["elapsed_ns"], 2'000'000'000u);
  EXPECT_EQ(interval["reset"], false);
  EXPECT_EQ(interval["ports"][0]["rx"], 4000u);
  EXPECT_EQ(interval["ports"][0]["tx"], 3980u);
  EXPECT_DOUBLE_EQ(interval["ports"][0]["rx_per_s"].get<double>(), 2000.0);
  EXPECT_EQ(interval["dropped"]["loss"], 20u);
  EXPECT_EQ(interval["dropped"]["total"], 22u);
  EXPECT_EQ(interval["rules"][0]["matched"], 3900u);
  EXPECT_EQ(interval["rules"][0]["dropped"]["loss"], 20u);
  EXPECT_EQ(interval["partitions"][0]["dropped"], 2u);
  const std::string text = IntervalText(interval);
  EXPECT_EQ(text.rfind("interval 2s: port 0 rx +4000 (2k/s) tx +3980 (1.99k/s); port 1 rx +0 (0/s) "
                       "tx +0 (0/s); dropped +22 (loss +20, partition +2)\n",
                       0),
            0u)
      << text;
  EXPECT_NE(text.find("\n  rule lossy: matched +3900 forwarded +3880 dropped +20 (loss +20)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  partition cut (healed): dropped +2 answered +0\n"), std::string::npos)
      << text;
}

// After a reset the interval starts at the reset: the new counts as they are, not negative ones.
TEST(StatsInterval, AResetInBetweenStartsTheIntervalThere) {
  const Json interval = StatsInterval(Document(9'000'000'000, 9000, 90, 8000, 5),
                                      Document(500'000'000, 700, 7, 600, 0, /*resets=*/1));
  EXPECT_EQ(interval["reset"], true);
  EXPECT_EQ(interval["elapsed_ns"], 500'000'000u);
  EXPECT_EQ(interval["ports"][0]["rx"], 700u);
  EXPECT_EQ(interval["rules"][0]["matched"], 600u);
  EXPECT_NE(IntervalText(interval).find("interval 500ms (since the statistics were reset):"),
            std::string::npos);
}

TEST(StatsInterval, ResetTextSaysWhatWasReset) {
  const Json response = {{"reset", Document(302'100'000'000, 1234, 4, 1200, 0)},
                         {"reset_at", "2026-11-22T10:00:00.000000Z"},
                         {"rules_reset", 3},
                         {"partitions_reset", 1}};
  EXPECT_EQ(ResetText(response),
            "counters and delay histograms reset at 2026-11-22T10:00:00.000000Z (3 rule(s), 1 "
            "partition(s)); over the 5m2.1s before, they counted: port 0 rx 1234 tx 1230; port 1 "
            "rx 0 tx 0; dropped 4 (loss 4); 0 frame(s) were in flight and count when they leave\n");
}

}  // namespace
}  // namespace faultline
