// The series' arithmetic: window percentiles as the difference of cumulative histograms
// (HistogramSummary::Subtract), interval lines as differences of statistics documents, the
// bounded ring and its count of lines let go, and the status and progress lines' text.
#include "dataplane/reporting/series.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "control/server/series_sampler.h"
#include "dataplane/fastpath/latency_histogram.h"
#include "dataplane/runtime/progress_line.h"

namespace faultline {
namespace {

HistogramSummary SummaryOf(const std::vector<uint64_t>& values) {
  auto histogram = std::make_unique<LatencyHistogram>();
  for (uint64_t value : values) histogram->Record(value);
  HistogramSummary summary;
  summary.Add(*histogram);
  return summary;
}

std::vector<uint64_t> Draw(size_t count, double mean_ns, uint32_t seed) {
  std::mt19937_64 random(seed);
  std::exponential_distribution<double> exponential(1 / mean_ns);
  std::vector<uint64_t> values;
  for (size_t i = 0; i < count; ++i) values.push_back(static_cast<uint64_t>(exponential(random)));
  return values;
}

TEST(HistogramSubtractTest, TheDifferenceOfCumulativeSummariesIsTheWindowExactly) {
  const std::vector<uint64_t> before = Draw(20000, 50'000, 1);
  const std::vector<uint64_t> window = Draw(5000, 3'000'000, 2);
  std::vector<uint64_t> all = before;
  all.insert(all.end(), window.begin(), window.end());
  HistogramSummary difference = SummaryOf(all);
  difference.Subtract(SummaryOf(before));
  const HistogramSummary expected = SummaryOf(window);
  EXPECT_EQ(difference.counts, expected.counts);
  EXPECT_EQ(difference.total, expected.total);
  for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
    EXPECT_EQ(difference.Percentile(q), expected.Percentile(q)) << q;
  }
  // The window's maximum is known to its bucket: at least the true one, at most the later max.
  EXPECT_GE(difference.max, expected.max);
  EXPECT_LE(difference.max, SummaryOf(all).max);
}

TEST(HistogramSubtractTest, NothingNewIsEmpty) {
  HistogramSummary same = SummaryOf({5, 500, 50'000});
  same.Subtract(SummaryOf({5, 500, 50'000}));
  EXPECT_EQ(same.total, 0u);
  EXPECT_EQ(same.max, 0u);
  EXPECT_EQ(same.Percentile(0.99), 0u);
}

// A statistics document of one rule with `frames` delivered, each held `held_ns`.
StatsReport Report(uint64_t frames, uint64_t lost, std::vector<uint64_t> held_ns,
                   uint64_t resets = 0) {
  StatsReport report;
  report.ports = {PortReport{.port = 0, .rx = frames + lost}, PortReport{.port = 1, .tx = frames}};
  report.dropped[static_cast<int>(DropCause::kLoss)] = lost;
  report.resets = resets;
  RuleReport rule;
  rule.name = std::string(1, 'r');  // not = "r": GCC 12 -O3 warns wrongly (-Wrestrict)
  rule.total.matched = frames + lost;
  rule.total.forwarded = frames;
  rule.total.dropped[static_cast<int>(DropCause::kLoss)] = lost;
  rule.total.delay_ns = SummaryOf(held_ns);
  rule.total.residence_ns = rule.total.delay_ns;  // offline, no lateness: the same frames
  report.rules.push_back(rule);
  return report;
}

TEST(SeriesRecorderTest, IntervalLinesAreDifferencesAndTheRingIsBounded) {
  SeriesRecorder recorder({{"start_ns", 1000}, {"source", "replay"}}, /*capacity=*/3);
  std::vector<std::string> sunk;
  recorder.SetSink([&sunk](const std::string& line) { sunk.push_back(line); });
  recorder.Sample(2000, Report(10, 1, std::vector<uint64_t>(10, 100)));
  recorder.Sample(3000, Report(30, 4, [] {
                    std::vector<uint64_t> v(10, 100);
                    v.insert(v.end(), 20, 7000);
                    return v;
                  }()));
  recorder.Event(3500, "stall", "stall n3", 3600);
  recorder.Sample(4000, Report(30, 4, std::vector<uint64_t>(30, 100), /*resets=*/1));
  recorder.Sample(5000, Report(35, 4, std::vector<uint64_t>(35, 100), /*resets=*/1));
  ASSERT_EQ(sunk.size(), 6u);  // header, 4 intervals, 1 event: the sink keeps everything
  const nlohmann::json second = nlohmann::json::parse(sunk[2]);
  EXPECT_EQ(second["interval_ns"], 1000);
  EXPECT_EQ(second["delivered"], 20);
  EXPECT_EQ(second["ports"][0]["rx"], 23);
  EXPECT_EQ(second["dropped"]["loss"], 3);
  EXPECT_EQ(second["rules"]["r"]["residence_ns"]["count"], 20);
  EXPECT_EQ(second["residence_ns"]["p50"], SummaryOf({7000}).Percentile(0.5));
  // After a reset the counters count from 0 again: the interval is the document itself.
  EXPECT_EQ(nlohmann::json::parse(sunk[4])["delivered"], 30);
  EXPECT_EQ(nlohmann::json::parse(sunk[5])["delivered"], 5);
  uint64_t dropped = 0;
  const std::vector<std::string> kept = recorder.LinesSince(0, &dropped);
  ASSERT_EQ(kept.size(), 4u);  // the header and the last 3
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(nlohmann::json::parse(kept[1])["type"], "event");
  EXPECT_EQ(nlohmann::json::parse(kept[1])["until_ns"], 3600);
  // An interval line says how many lines the ring had let go before it was made: the fourth
  // line (sunk[4]) pushed the first out, the fifth the second.
  EXPECT_EQ(nlohmann::json::parse(sunk[4])["ring_dropped"], 0);
  EXPECT_EQ(nlohmann::json::parse(sunk[5])["ring_dropped"], 1);
  EXPECT_EQ(recorder.LinesSince(4500, nullptr).size(), 1u);
}

TEST(SeriesRecorderTest, WindowIsTheDifferenceOfTwoSamples) {
  SeriesRecorder recorder(nlohmann::json{{"start_ns", 0}});
  EXPECT_TRUE(recorder.Window(1000).is_null());
  std::vector<uint64_t> held;
  for (uint64_t t = 1; t <= 5; ++t) {
    held.insert(held.end(), 100, t * 1000);  // 100 frames held t us in second t
    recorder.Sample(t * 1'000'000'000, Report(held.size(), 0, held));
  }
  const nlohmann::json window = recorder.Window(2'000'000'000);
  EXPECT_EQ(window["window_ns"], 2'000'000'000);
  const nlohmann::json& residence = window["rules"]["r"]["residence_ns"];
  EXPECT_EQ(residence["count"], 200);  // seconds 4 and 5
  // The window's percentiles are those of a histogram of its own samples (100 x 4 us, 100 x
  // 5 us): the same buckets, so the same values.
  std::vector<uint64_t> own(100, 4000);
  own.insert(own.end(), 100, 5000);
  EXPECT_EQ(residence["p50"], SummaryOf(own).Percentile(0.5));
  EXPECT_EQ(residence["p99"], SummaryOf(own).Percentile(0.99));
  EXPECT_NEAR(residence["p50"].get<double>(), 4000, 4000 * 0.0005);  // HDR: within 0.05%
}

TEST(SeriesRecorderTest, HistogramLineHasTheNonzeroBuckets) {
  SeriesRecorder recorder(nlohmann::json{{"start_ns", 0}});
  const nlohmann::json line =
      nlohmann::json::parse(recorder.HistogramLine(9, Report(3, 0, {10, 10, 5000})));
  EXPECT_EQ(line["type"], "histogram");
  const nlohmann::json& buckets = line["rules"]["r"]["residence_ns"];
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0][0], 10);
  EXPECT_EQ(buckets[0][1], 2);
  EXPECT_LE(buckets[1][0].get<uint64_t>(), 5000u);
  EXPECT_EQ(buckets[1][1], 1);
}

TEST(StatusLineTest, SaysRatesResidenceAndTheLastEvent) {
  const std::string line =
      SeriesSampler::StatusLine(Report(1000, 0, std::vector<uint64_t>(1000, 100)),
                                Report(21000, 100, std::vector<uint64_t>(21000, 100)),
                                10'000'000'000, "link: step 3: link b down");
  EXPECT_NE(line.find("2000 forwarded/s"), std::string::npos) << line;
  EXPECT_NE(line.find("10 dropped/s"), std::string::npos) << line;
  EXPECT_NE(line.find("residence p99"), std::string::npos) << line;
  EXPECT_NE(line.find("last event link: step 3"), std::string::npos) << line;
}

TEST(ProgressLineTest, TextHasFramesShareAndRate) {
  EXPECT_EQ(ProgressLine::Text(5000, 250, 1000, 2.0),
            "faultline replay: 5000 frames, 25.0% of input, 2500 frames/s");
  EXPECT_EQ(ProgressLine::Text(5000, 250, 0, 0), "faultline replay: 5000 frames, 0 frames/s");
}

}  // namespace
}  // namespace faultline
