// Statistics counters written by exactly one lcore and read by anyone.
#pragma once

#include <atomic>
#include <cstdint>

namespace faultline {

inline constexpr uint16_t kMaxPorts = 16;

// A single-writer counter: the owner adds with a plain load+store (no locked instruction on the
// fast path); readers on other threads see a consistent 64-bit value.
class Counter {
 public:
  void Add(uint64_t n) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void Set(uint64_t n) { value_.store(n, std::memory_order_relaxed); }
  uint64_t Get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Why a packet the dataplane received did not leave. Every drop has one. X(enumerator, name): the
// name is the JSON key, the text label and the Prometheus `cause` label.
#define FAULTLINE_DROP_CAUSES(X)                                                                   \
  X(kBufferExhausted, "buffer_exhausted") /* hold capacity (the mbuf pool) full */                 \
  X(kShutdown, "shutdown")                /* still held at a stop without --on-exit drain */       \
  X(kLoss, "loss")                        /* a loss model chose it */                              \
  X(kQueue, "queue")                      /* tail drop: the rate queue was full */                 \
  X(kStallLimit, "stall-limit")           /* arrived during a stall with its hold limit reached */ \
  X(kPartition, "partition")              /* a partition cuts its source from its destination */   \
  X(kLinkDown, "link-down") /* in or out by a side a trace's `link` event took down */             \
  X(kNoOutput, "no-output") /* replay: would leave by a side without an output file */

enum class DropCause : uint8_t {
#define FAULTLINE_DROP_CAUSE_ENUMERATOR(enumerator, name) enumerator,
  FAULTLINE_DROP_CAUSES(FAULTLINE_DROP_CAUSE_ENUMERATOR)
#undef FAULTLINE_DROP_CAUSE_ENUMERATOR
      kCount,
};

inline const char* DropCauseName(DropCause cause) {
  switch (cause) {
#define FAULTLINE_DROP_CAUSE_CASE(enumerator, name) \
  case DropCause::enumerator:                       \
    return name;
    FAULTLINE_DROP_CAUSES(FAULTLINE_DROP_CAUSE_CASE)
#undef FAULTLINE_DROP_CAUSE_CASE
    case DropCause::kCount:
      break;
  }
  return "?";
}

// The pipeline's counters of frames that no rule accounts for, declared once: X(member). Each is
// a member of PipelineCounters and of the statistics document (reporting/stats.h, JSON key =
// member), summed over workers with the rules.
#define FAULTLINE_FLOW_COUNTERS(X)                                                          \
  X(unmatched)            /* frames no rule matched: forwarded untouched */                 \
  X(flows_untracked)      /* no room in the flow table: handled with shared state */        \
  X(flows_expired)        /* new flows that took over the entry of an idle flow */          \
  X(fragments_unresolved) /* later fragments without their first: no ports */               \
  X(malformed)            /* frames with cut or invalid headers (forwarded all the same) */ \
  X(record_lost)          /* --record: records the writer's ring had no room for */         \
  X(capture_lost)         /* faultline capture: copies the capture ring had no room for */

// One per pipeline (per worker lcore), on its own cache lines.
struct alignas(64) PipelineCounters {
  Counter rx[kMaxPorts];
  Counter tx[kMaxPorts];
  Counter dropped[static_cast<int>(DropCause::kCount)];
  Counter tx_retries;  // tx bursts that sent less than offered (device queue full)
#define FAULTLINE_FLOW_COUNTER_MEMBER(member) Counter member;
  FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_MEMBER)
#undef FAULTLINE_FLOW_COUNTER_MEMBER

  void Drop(DropCause cause, uint64_t n = 1) { dropped[static_cast<int>(cause)].Add(n); }
  uint64_t Dropped(DropCause cause) const { return dropped[static_cast<int>(cause)].Get(); }
  // Every counter back to 0 (the owning lcore only).
  void Reset() {
    for (Counter& counter : rx) counter.Set(0);
    for (Counter& counter : tx) counter.Set(0);
    for (Counter& counter : dropped) counter.Set(0);
    tx_retries.Set(0);
#define FAULTLINE_FLOW_COUNTER_RESET(member) member.Set(0);
    FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_RESET)
#undef FAULTLINE_FLOW_COUNTER_RESET
  }
  // Sets every counter to what `other` holds now (a reset's snapshot, the owning lcore only).
  void CopyFrom(const PipelineCounters& other) {
    for (uint16_t port = 0; port < kMaxPorts; ++port) {
      rx[port].Set(other.rx[port].Get());
      tx[port].Set(other.tx[port].Get());
    }
    for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
      dropped[cause].Set(other.dropped[cause].Get());
    }
    tx_retries.Set(other.tx_retries.Get());
#define FAULTLINE_FLOW_COUNTER_COPY(member) member.Set(other.member.Get());
    FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_COPY)
#undef FAULTLINE_FLOW_COUNTER_COPY
  }
};

}  // namespace faultline
