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

// Why a packet the dataplane received did not leave. Every drop has one.
enum class DropCause : uint8_t {
  kBufferExhausted,  // hold capacity (the mbuf pool) full: the packet could not be held
  kShutdown,         // still held when the dataplane stopped without --on-exit drain
  kLoss,             // a loss model chose it
  kQueue,            // tail drop: the rate queue was full
  kStallLimit,       // arrived during a stall with the stall's hold limit reached
  kPartition,        // a partition cuts its source from its destination
  kLinkDown,         // received on, or would leave by, a side a trace's `link` event took down
  kNoOutput,         // replay: would leave by a side without an output file (a partition's answer
                     // to side a when only --in and --out were given)
  kCount,
};

inline const char* DropCauseName(DropCause cause) {
  switch (cause) {
    case DropCause::kBufferExhausted:
      return "buffer_exhausted";
    case DropCause::kShutdown:
      return "shutdown";
    case DropCause::kLoss:
      return "loss";
    case DropCause::kQueue:
      return "queue";
    case DropCause::kStallLimit:
      return "stall-limit";
    case DropCause::kPartition:
      return "partition";
    case DropCause::kLinkDown:
      return "link-down";
    case DropCause::kNoOutput:
      return "no-output";
    case DropCause::kCount:
      break;
  }
  return "?";
}

// One per pipeline (per worker lcore), on its own cache lines.
struct alignas(64) PipelineCounters {
  Counter rx[kMaxPorts];
  Counter tx[kMaxPorts];
  Counter dropped[static_cast<int>(DropCause::kCount)];
  Counter tx_retries;            // tx bursts that sent less than offered (device queue full)
  Counter unmatched;             // frames no rule matched: forwarded untouched
  Counter flows_untracked;       // frames whose flow found no room in the flow table (shared state)
  Counter flows_expired;         // new flows that took over the entry of a flow idle past flow_idle
  Counter fragments_unresolved;  // later fragments without their first: classified without ports
  Counter malformed;             // frames with cut or invalid headers (forwarded all the same)

  void Drop(DropCause cause, uint64_t n = 1) { dropped[static_cast<int>(cause)].Add(n); }
  uint64_t Dropped(DropCause cause) const { return dropped[static_cast<int>(cause)].Get(); }
  // Every counter back to 0 (the owning lcore only).
  void Reset() {
    for (Counter& counter : rx) counter.Set(0);
    for (Counter& counter : tx) counter.Set(0);
    for (Counter& counter : dropped) counter.Set(0);
    for (Counter* counter : {&tx_retries, &unmatched, &flows_untracked, &flows_expired,
                             &fragments_unresolved, &malformed}) {
      counter->Set(0);
    }
  }
};

}  // namespace faultline
