// The series reader of `faultline report` (control/report/series_reader.h): the fixture read
// whole, and bad input (not JSON, a field of the wrong type, no header) an error naming file:line.
#include "control/report/series_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace faultline {
namespace {

const std::string kHeader =
    R"({"type":"header","version":1,"source":"run","start_ns":1000,"interval_ns":1000000000,)"
    R"("seed":7,"profile":"p","rules":[{"name":"r","delay":{"delay_ns":5000000,)"
    R"("jitter_ns":100000,"distribution":"normal"}}]})";
const std::string kInterval =
    R"({"type":"interval","t_ns":1000001000,"interval_ns":1000000000,"delivered":10,)"
    R"("dropped":{"loss":2},"residence_ns":{"count":10,"p50":5,"p90":6,"p99":7,"p999":8,)"
    R"("p9999":8,"max":9}})";

std::string ErrorOf(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseSeries(text, "s.jsonl", &error).has_value()) << text;
  return error;
}

TEST(SeriesReader, ReadsTheFixture) {
  std::string error;
  const auto series = ReadSeries(FAULTLINE_SOURCE_ROOT "/tests/data/report/series.jsonl", &error);
  ASSERT_TRUE(series.has_value()) << error;
  EXPECT_EQ(series->header.source, "replay");
  ASSERT_EQ(series->header.rules.size(), 2u);
  EXPECT_EQ(series->header.rules[1].distribution, "pareto");
  EXPECT_EQ(series->intervals.size(), 12u);
  EXPECT_EQ(series->events.size(), 6u);
  EXPECT_EQ(series->intervals[3].dropped.at("partition"), 700u);
  EXPECT_EQ(series->events[1].until_ns, 1700000000000000000u + 6000000000u);
  EXPECT_EQ(series->residence_histograms.size(), 2u);
}

TEST(SeriesReader, ReadsLinesAndSkipsUnknownTypes) {
  std::string error;
  const auto series =
      ParseSeries(kHeader + "\n" + kInterval + "\n\n" + R"({"type":"later-addition","x":1})" +
                      "\n" + R"({"type":"event","t_ns":5,"kind":"stall","until_ns":9})" + "\n" +
                      R"({"type":"histogram","t_ns":9,"rules":{"r":)" +
                      R"({"residence_ns":[[5000000,3],[5005000,1]]}}})",
                  "s.jsonl", &error);
  ASSERT_TRUE(series.has_value()) << error;
  EXPECT_EQ(series->header.rules[0].jitter_ns, 100000u);
  ASSERT_EQ(series->intervals.size(), 1u);
  EXPECT_EQ(series->intervals[0].dropped.at("loss"), 2u);
  EXPECT_EQ(series->intervals[0].residence.p999, 8u);
  ASSERT_EQ(series->events.size(), 1u);
  EXPECT_EQ(series->events[0].until_ns, 9u);
  ASSERT_EQ(series->residence_histograms.at("r").size(), 2u);
  EXPECT_EQ(series->residence_histograms.at("r")[1].first, 5005000u);
}

TEST(SeriesReader, NotJsonNamesTheLine) {
  EXPECT_EQ(ErrorOf(kHeader + "\n" + kInterval + "\n{oops").rfind("s.jsonl:3: not JSON", 0), 0u);
}

TEST(SeriesReader, WrongTypeNamesTheLineAndField) {
  std::string bad = kInterval;
  bad.replace(bad.find("\"delivered\":10"), 14, "\"delivered\":\"ten\"");
  EXPECT_EQ(ErrorOf(kHeader + "\n" + bad),
            "s.jsonl:2: \"delivered\" must be a non-negative integer, not \"ten\"");
  EXPECT_EQ(ErrorOf(kHeader + "\n[1,2]"), "s.jsonl:2: each line must be a JSON object");
  EXPECT_EQ(ErrorOf(kHeader + "\n" + R"({"type":"event","t_ns":-5,"kind":"stall"})"),
            "s.jsonl:2: \"t_ns\" must be a non-negative integer, not -5");
  EXPECT_EQ(
      ErrorOf(kHeader + "\n" + R"({"type":"histogram","rules":{"r":{"residence_ns":[[1]]}}})"),
      "s.jsonl:2: a residence_ns bucket must be [LOW_NS, COUNT], not [1]");
}

TEST(SeriesReader, MissingHeaderIsAnError) {
  EXPECT_EQ(ErrorOf(kInterval), "s.jsonl:1: the first line must be the header, not \"interval\"");
  EXPECT_EQ(ErrorOf(""),
            "s.jsonl:1: no header line (the first line must be {\"type\":\"header\",...})");
  EXPECT_EQ(ErrorOf(kHeader + "\n" + kHeader), "s.jsonl:2: a second header");
  std::string no_start = kHeader;
  no_start.replace(no_start.find("\"start_ns\":1000,"), 16, "");
  EXPECT_EQ(ErrorOf(no_start), "s.jsonl:1: missing \"start_ns\"");
}

TEST(SeriesReader, UnreadableFileIsAnError) {
  std::string error;
  EXPECT_FALSE(ReadSeries("/nonexistent/series.jsonl", &error).has_value());
  EXPECT_EQ(error.rfind("/nonexistent/series.jsonl: cannot read", 0), 0u) << error;
}

}  // namespace
}  // namespace faultline
