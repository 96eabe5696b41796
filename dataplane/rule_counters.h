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
  // Every counter and the histogram back to 0 (the writer's thread only).
  void Reset() {
    for (Counter* counter :
         {&matched, &forwarded, &duplicated, &corrupted, &bits_flipped, &reordered, &ecn_marked}) {
      counter->Set(0);
    }
    for (Counter& counter : dropped) counter.Set(0);
    delay_ns.Reset();
  }
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
