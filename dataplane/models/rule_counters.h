// What the frames of one rule (and of one partition) did, per direction and worker, and the
// totals the reports add up from them.
//
// Every rule counter is declared once, in FAULTLINE_RULE_COUNTERS: the row drives the live
// counter (RuleCounters), its total (RuleTotals), the sum across workers, Reset, and every
// rendering (reporting/stats.cc: JSON key = member name, text label, Prometheus metric
// faultline_rule_<member>_frames_total with its help). Adding a counter is adding a row.
#pragma once

#include <cstdint>

#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/latency_histogram.h"

namespace faultline {

// X(member, text label (nullptr: not in the text summary), Prometheus help (nullptr: not exported))
#define FAULTLINE_RULE_COUNTERS(X)                                                       \
  X(matched, "matched", "Frames a rule matched.") /* originals, not copies */            \
  X(forwarded, "forwarded", "Frames of a rule handed to transmission.") /* copies too */ \
  X(duplicated, "duplicated", "Copies a rule made.")                                     \
  X(corrupted, "corrupted", "Frames a rule corrupted.") /* at least one bit flipped */   \
  X(bits_flipped, nullptr, nullptr)                                                      \
  X(reordered, "reordered", "Frames a rule sent ahead.") /* chosen to go ahead */        \
  X(ecn_marked, "ecn", "Frames a rule marked CE.")       /* instead of being dropped */

struct alignas(64) RuleCounters {
#define FAULTLINE_RULE_COUNTER_MEMBER(member, text, help) Counter member;
  FAULTLINE_RULE_COUNTERS(FAULTLINE_RULE_COUNTER_MEMBER)
#undef FAULTLINE_RULE_COUNTER_MEMBER
  Counter dropped[static_cast<int>(DropCause::kCount)];
  // In clock units despite the names (the names are the statistics keys; summaries are in ns).
  LatencyHistogram delay_ns;  // departure - arrival of every frame that left
  // Measured at the transmit call (replay: at the departure written): transmit - arrival and
  // transmit - scheduled departure of every frame the rule forwarded.
  LatencyHistogram residence_ns;
  LatencyHistogram lateness_ns;

  void Drop(DropCause cause) { dropped[static_cast<int>(cause)].Add(1); }
  // Every counter and the histogram back to 0 (the writer's thread only).
  void Reset() {
#define FAULTLINE_RULE_COUNTER_RESET(member, text, help) member.Set(0);
    FAULTLINE_RULE_COUNTERS(FAULTLINE_RULE_COUNTER_RESET)
#undef FAULTLINE_RULE_COUNTER_RESET
    for (Counter& counter : dropped) counter.Set(0);
    delay_ns.Reset();
    residence_ns.Reset();
    lateness_ns.Reset();
  }
};

// What one rule did, in one direction or both, over workers.
struct RuleTotals {
#define FAULTLINE_RULE_TOTAL_MEMBER(member, text, help) uint64_t member = 0;
  FAULTLINE_RULE_COUNTERS(FAULTLINE_RULE_TOTAL_MEMBER)
#undef FAULTLINE_RULE_TOTAL_MEMBER
  uint64_t dropped[static_cast<int>(DropCause::kCount)] = {};
  HistogramSummary delay_ns;
  HistogramSummary residence_ns;
  HistogramSummary lateness_ns;

  // Adds one worker's counters (any thread may read them while it runs), whose histograms hold
  // units of a clock of `clock_hz` (Pipeline::histogram_hz).
  void Add(const RuleCounters& counters, uint64_t clock_hz) {
#define FAULTLINE_RULE_TOTAL_ADD(member, text, help) member += counters.member.Get();
    FAULTLINE_RULE_COUNTERS(FAULTLINE_RULE_TOTAL_ADD)
#undef FAULTLINE_RULE_TOTAL_ADD
    for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
      dropped[cause] += counters.dropped[cause].Get();
    }
    delay_ns.Add(counters.delay_ns, clock_hz);
    residence_ns.Add(counters.residence_ns, clock_hz);
    lateness_ns.Add(counters.lateness_ns, clock_hz);
  }
  uint64_t TotalDropped() const {
    uint64_t total = 0;
    for (uint64_t n : dropped) total += n;
    return total;
  }
};

// One row of FAULTLINE_RULE_COUNTERS, for the renderers.
struct RuleCounterColumn {
  const char* name;  // the member's name: the JSON key and the Prometheus metric's middle
  const char* text;  // nullptr: not in the text summary
  const char* help;  // nullptr: not exported to Prometheus
  uint64_t RuleTotals::*total;
};
inline constexpr RuleCounterColumn kRuleCounterColumns[] = {
#define FAULTLINE_RULE_COUNTER_COLUMN(member, text, help) \
  {#member, text, help, &RuleTotals::member},
    FAULTLINE_RULE_COUNTERS(FAULTLINE_RULE_COUNTER_COLUMN)
#undef FAULTLINE_RULE_COUNTER_COLUMN
};

// What one partition did in one direction on one worker.
struct PartitionCounters {
  Counter dropped;   // frames it cut
  Counter answered;  // of those, frames answered (ICMP unreachable, TCP RST)

  void Reset() {
    dropped.Set(0);
    answered.Set(0);
  }
};

}  // namespace faultline
