// The statistics document's text form (what `faultline stats` and the end of `run` print).
#include "dataplane/reporting/stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace faultline {
namespace {

StatsReport OneRuleReport() {
  StatsReport report;
  report.ports.resize(2);
  report.ports[1].port = 1;
  RuleReport rule;
  rule.name = "everything";
  rule.impairment = "slow";
  rule.total.matched = 10;
  rule.total.forwarded = 3;
  rule.total.dropped[static_cast<int>(DropCause::kLoss)] = 2;
  rule.total.dropped[static_cast<int>(DropCause::kBufferExhausted)] = 5;
  report.rules.push_back(rule);
  return report;
}

// Every cause a rule can drop for is on its line: the total must be the sum of what is shown.
TEST(StatsText, RuleLineShowsEveryCauseItsTotalCounts) {
  const std::string text = ToText(OneRuleReport());
  const size_t rule = text.find("rule everything (slow):");
  ASSERT_NE(rule, std::string::npos) << text;
  const std::string line = text.substr(rule, text.find('\n', rule) - rule);
  EXPECT_NE(line.find("dropped 7 (loss 2 queue 0 stall-limit 0 buffer_exhausted 5)"),
            std::string::npos)
      << line;
}

TEST(StatsText, ElapsedTimeIsReadable) {
  StatsReport report = OneRuleReport();
  report.elapsed_ns = 2'924'170'407'000;
  EXPECT_NE(ToText(report).find("elapsed 48m44.17s"), std::string::npos) << ToText(report);
}

// A report with every latency histogram filled: ports (residence, lateness) and rules (delay,
// residence, lateness) in both directions.
StatsReport LatencyReport() {
  StatsReport report = OneRuleReport();
  auto histogram = std::make_unique<LatencyHistogram>();
  for (uint64_t value = 1; value <= 1000; ++value) histogram->Record(value * 5000);
  HistogramSummary summary;
  summary.Add(*histogram);
  report.lateness_ns = report.residence_ns = summary;
  for (PortReport& port : report.ports) port.lateness_ns = port.residence_ns = summary;
  for (RuleTotals* totals :
       {&report.rules[0].total, &report.rules[0].direction[0], &report.rules[0].direction[1]}) {
    totals->delay_ns = totals->residence_ns = totals->lateness_ns = summary;
  }
  return report;
}

TEST(StatsLatency, EveryHistogramHasItsPercentilesInEveryForm) {
  const StatsReport report = LatencyReport();
  const nlohmann::json json = ToJson(report);
  for (const nlohmann::json* latency :
       {&json["residence_ns"], &json["ports"][1]["lateness_ns"], &json["rules"][0]["residence_ns"],
        &json["rules"][0]["directions"]["b-to-a"]["lateness_ns"], &json["rules"][0]["delay_ns"]}) {
    EXPECT_EQ((*latency)["count"], 1000u);
    // The exact p50 is 2.5 ms; its bucket is [2'498'560, 2'500'608): the middle, 0.017% off.
    EXPECT_EQ((*latency)["p50"], 2'499'584u);
    EXPECT_EQ((*latency)["max"], 5'000'000u);
    EXPECT_NEAR((*latency)["p9999"].get<double>(), 5e6, 5e6 * 0.001);
  }
  const std::string text = ToText(report);
  EXPECT_NE(text.find("residence all ports: p50 "), std::string::npos) << text;
  EXPECT_NE(text.find("residence rule everything: p50 "), std::string::npos) << text;
  const std::string prometheus = ToPrometheus(report);
  EXPECT_NE(
      prometheus.find("faultline_rule_residence_seconds{rule=\"everything\",direction=\"a-to-b\","
                      "quantile=\"0.9999\"}"),
      std::string::npos);
  EXPECT_NE(prometheus.find("faultline_port_residence_seconds_count{port=\"1\",side=\"b\"} 1000"),
            std::string::npos);
}

// Prometheus's own checker accepts the exposition (Debian's prometheus package has promtool).
TEST(StatsLatency, PromtoolAcceptsThePrometheusText) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed (FAULTLINE_TEST_TOOLS=1 scripts/setup.sh)";
  }
  const std::string path = "/tmp/faultline_stats_test_" + std::to_string(getpid()) + ".prom";
  std::ofstream(path) << ToPrometheus(LatencyReport());
  const std::string command = "promtool check metrics < " + path + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  std::remove(path.c_str());
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << "promtool's complaints";
}

}  // namespace
}  // namespace faultline
