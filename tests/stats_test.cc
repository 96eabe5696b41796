// The statistics document's text form (what `faultline stats` and the end of `run` print).
#include "dataplane/reporting/stats.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace faultline
