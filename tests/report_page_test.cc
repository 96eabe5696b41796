// The report page's data and HTML (control/report/report_page.h): rates per second, empty
// intervals left off the log axis, bands of partitions and stalls, whole-run percentiles from the
// histogram, and text from the series that cannot break out of the page.
#include "control/report/report_page.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace faultline {
namespace {

Series TwoIntervals() {
  Series series;
  series.header.start_ns = 1'000'000'000;
  series.header.interval_ns = 500'000'000;
  series.header.profile = "<b>profile</b>";
  series.header.rules = {{"r", 5'000'000, 1'000'000, "uniform"}};
  SeriesInterval first{.t_ns = 1'500'000'000, .interval_ns = 500'000'000, .delivered = 100};
  first.dropped = {{"loss", 5}};
  first.residence = {.count = 100, .p50 = 5'000'000, .p99 = 5'900'000, .p999 = 5'990'000};
  SeriesInterval second{.t_ns = 2'000'000'000, .interval_ns = 500'000'000};  // no frames
  series.intervals = {first, second};
  series.events = {{1'100'000'000, "partition", "a | b", std::nullopt},
                   {1'200'000'000, "stall", "</script><script>alert(1)</script>", 1'300'000'000},
                   {1'400'000'000, "heal-partitions", "", std::nullopt}};
  // 1000 frames: 500 at 5.0 ms, 490 at 5.5 ms, 10 at 6.0 ms.
  series.residence_histograms["r"] = {{5'000'000, 500}, {5'500'000, 490}, {6'000'000, 10}};
  return series;
}

TEST(ReportPage, DataHasRatesPercentilesBandsAndCdfs) {
  std::vector<std::string> notes;
  const nlohmann::json data = nlohmann::json::parse(ReportData(TwoIntervals(), &notes));
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(data["t"], nlohmann::json({0.5, 1.0}));
  EXPECT_EQ(data["delivered"], nlohmann::json({200.0, 0.0}));  // per second over 0.5 s
  EXPECT_EQ(data["dropped"]["loss"], nlohmann::json({10.0, 0.0}));
  EXPECT_EQ(data["residence"]["p50"][0], 5000.0);      // microseconds
  EXPECT_TRUE(data["residence"]["p99"][1].is_null());  // no frames: off the log axis
  // The partition lasts until heal-partitions; the stall until its until_ns.
  EXPECT_DOUBLE_EQ(data["events"][0]["until"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(data["events"][1]["until"].get<double>(), 0.3);
  EXPECT_TRUE(data["events"][2]["until"].is_null());
  const nlohmann::json& cdf = data["cdfs"][0];
  EXPECT_EQ(cdf["rule"], "r");
  EXPECT_EQ(cdf["count"], 1000);
  EXPECT_EQ(cdf["p50_us"], 5000.0);
  EXPECT_EQ(cdf["p99_us"], 5500.0);
  EXPECT_EQ(cdf["p999_us"], 6000.0);
  EXPECT_EQ(cdf["measured"].back(), nlohmann::json({6.0, 1.0}));
  EXPECT_EQ(cdf["configured"].back()[1], 1.0);
  EXPECT_GE(cdf["configured"].front()[0].get<double>(), 4.0);  // uniform over 5 +- 1 ms
}

TEST(ReportPage, SeriesTextCannotBreakOutOfThePage) {
  std::vector<std::string> notes;
  const std::string page = RenderReportPage(TwoIntervals(), "/* chart */", &notes);
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.find("\\u003c/script>\\u003cscript>alert(1)"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;profile&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<b>profile"), std::string::npos);
  // The data, Chart.js and the drawing script: three script elements, each closed once.
  size_t closes = 0;
  for (size_t at = page.find("</script>"); at != std::string::npos;
       at = page.find("</script>", at + 1)) {
    ++closes;
  }
  EXPECT_EQ(closes, 3u);
}

TEST(ReportPage, UndrawableDistributionIsANote) {
  Series series = TwoIntervals();
  series.header.rules[0].distribution = "table:/nonexistent.dist";
  std::vector<std::string> notes;
  const nlohmann::json data = nlohmann::json::parse(ReportData(series, &notes));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("rule r: configured delay not drawn: /nonexistent.dist"),
            std::string::npos)
      << notes[0];
  EXPECT_TRUE(data["cdfs"][0]["configured"].is_null());
  EXPECT_EQ(data["notes"][0], notes[0]);
}

}  // namespace
}  // namespace faultline
