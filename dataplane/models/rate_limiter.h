// Rate: the link a rule's frames cross, one per rule and direction. Each frame is serialised at
// the bandwidth after the frames before it (its length plus a per-frame overhead, e.g. 20 B of
// preamble and inter-frame gap), waiting in a FIFO queue with a tail-drop limit in packets and/or
// bytes. Above an optional threshold, ECN-capable frames are marked CE (the step marking of
// DCTCP-style switches); the limit still drops. The queue is the set of frames that arrived and
// have not finished serialising, kept as a ring of finish times (they are increasing).
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/config/profile_spec.h"

namespace faultline {

struct CompiledRate {
  unsigned __int128 units_per_byte_fp = 0;  // clock units per byte, fixed point << kFracBits
  int32_t overhead_bytes = 0;
  SizeLimit limit;
  SizeLimit ecn_threshold;
  uint32_t ring_capacity = 0;  // the most frames the queue can hold
  static constexpr unsigned kFracBits = 24;

  bool operator==(const CompiledRate&) const = default;
};

class RateLink {
 public:
  enum class Verdict : uint8_t { kSent, kMarked, kDropped };

  // Keeps its own copy of `rate`: a link is per-rule state that lives as long as its pipeline,
  // while the compiled profile `rate` came from is freed when a live change replaces it.
  explicit RateLink(const CompiledRate& rate);

  // A frame of `bytes` entering the queue at `now` (non-decreasing across calls). Returns
  // kDropped (queue full), or the time its last bit leaves the link in *finish, with kMarked if
  // the queue was above the ECN threshold.
  Verdict Enqueue(uint32_t bytes, uint64_t now, uint64_t* finish);

  uint32_t queued_packets() const { return count_; }
  uint64_t queued_bytes() const { return bytes_; }
  const CompiledRate& rate() const { return rate_; }

 private:
  struct Entry {
    uint64_t finish;
    uint32_t bytes;
  };
  const CompiledRate rate_;  // a copy, never a reference into a profile (see the constructor)
  unsigned __int128 link_free_fp_ = 0;  // when the link finishes its current frame
  std::unique_ptr<Entry[]> ring_;
  uint32_t head_ = 0, count_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace faultline
