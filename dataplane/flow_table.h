// Per-lcore flow state: what the impairment models remember per flow (correlation, loss-model
// state, the last departure time for order keeping). Fixed capacity, open addressing with short
// linear probes; when a flow finds no free slot it is handled statelessly and counted, never an
// allocation on the fast path.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/frame_parser.h"

namespace faultline {

// The memory of every model for one flow. Zero-initialised on insert, then seeded by the
// pipeline (netem starts each correlation from a random value).
struct FlowState {
  uint64_t last_departure;  // order keeping: no packet of the flow leaves before this
  uint64_t packets;         // packets scheduled so far (indexes the displacement ring)
  uint32_t delay_last, loss_last, duplicate_last, reorder_last, corrupt_last;
  uint32_t reorder_counter;  // netem's gap counter
  uint8_t loss_state;        // Gilbert-Elliott or 4-state Markov state
  bool used;
};

struct alignas(64) FlowEntry {
  FlowKey key;
  FlowState state;
};
static_assert(sizeof(FlowEntry) == 128);

class FlowTable {
 public:
  static constexpr uint32_t kMaxProbe = 16;

  // `capacity` is rounded up to a power of two. Each flow gets a ring of `ring_length` departure
  // times (0: none) for the reorder displacement bound.
  FlowTable(uint32_t capacity, uint32_t ring_length);

  // The state of `key`, inserted zeroed (*inserted = true) if new; nullptr if the probe window
  // is full (the caller falls back to shared state and counts it).
  FlowState* FindOrInsert(const FlowKey& key, uint64_t hash, bool* inserted) {
    for (uint32_t probe = 0; probe < kMaxProbe; ++probe) {
      FlowEntry& entry = entries_[(hash + probe) & mask_];
      if (!entry.state.used) {
        entry.key = key;
        entry.state = FlowState{};
        entry.state.used = true;
        ++size_;
        *inserted = true;
        return &entry.state;
      }
      if (entry.key == key) {
        *inserted = false;
        return &entry.state;
      }
    }
    return nullptr;
  }

  // The displacement ring of a flow returned by FindOrInsert (ring_length entries).
  uint64_t* Ring(const FlowState* state) {
    const size_t index = reinterpret_cast<const FlowEntry*>(reinterpret_cast<const char*>(state) -
                                                            offsetof(FlowEntry, state)) -
                         entries_.get();
    return rings_.get() + index * ring_length_;
  }

  uint32_t capacity() const { return mask_ + 1; }
  uint32_t size() const { return size_; }
  uint32_t ring_length() const { return ring_length_; }

 private:
  uint32_t mask_;
  uint32_t size_ = 0;
  uint32_t ring_length_;
  std::unique_ptr<FlowEntry[]> entries_;
  std::unique_ptr<uint64_t[]> rings_;
};

}  // namespace faultline
