// What happened to the frames of one rule in one direction on one worker.
#pragma once

#include "dataplane/counters.h"
#include "dataplane/latency_histogram.h"

namespace faultline {

struct alignas(64) RuleCounters {
  Counter matched;     // frames the rule matched (originals, not copies)
  Counter forwarded;   // frames (copies included) handed to transmission
  Counter duplicated;  // copies made
  Counter corrupted;   // frames with at least one flipped bit
  Counter bits_flipped;
  Counter reordered;   // frames chosen by the reorder model to go ahead
  Counter ecn_marked;  // frames marked CE instead of being dropped
  Counter dropped[static_cast<int>(DropCause::kCount)];
  LatencyHistogram delay_ns;  // departure - arrival of every scheduled frame

  void Drop(DropCause cause) { dropped[static_cast<int>(cause)].Add(1); }
};

// What one partition did in one direction on one worker.
struct PartitionCounters {
  Counter dropped;   // frames it cut
  Counter answered;  // of those, frames answered (ICMP unreachable, TCP RST)
};

}  // namespace faultline
