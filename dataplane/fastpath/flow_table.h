// Per-lcore flow state: what the impairment models remember per flow (correlation, loss-model
// state, the last departure time for order keeping). Fixed capacity, open addressing with short
// linear probes; when a flow finds no free slot it is handled statelessly and counted, never an
// allocation on the fast path. Entries idle longer than a timeout are reused in place by new
// flows (idle ageing): nothing is ever deleted, so a probe can stop at the first empty slot.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/frame_parser.h"
#include "dataplane/fastpath/huge_page_array.h"

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
  uint64_t last_seen;  // clock time of the flow's latest frame (idle ageing)
};

struct alignas(64) FlowEntry {
  FlowKey key;
  FlowState state;
};
static_assert(sizeof(FlowEntry) == 128);

inline constexpr uint64_t kFlowIdleNs = 30'000'000'000;

// How long a flow may be idle before its entry can go to another flow, in `time_base` units:
// 30 s, but never less than twice the longest a frame can be held (`delay_horizon_ns`, from
// ProfileDelayHorizonNs), so a flow with frames in flight keeps its order state.
uint64_t FlowIdleTimeout(const TimeBase& time_base, uint64_t delay_horizon_ns);

class FlowTable {
 public:
  static constexpr uint32_t kMaxProbe = 16;

  // `capacity` is rounded up to a power of two. Each flow gets a ring of `ring_length` departure
  // times (0: none) for the reorder displacement bound.
  FlowTable(uint32_t capacity, uint32_t ring_length);

  enum class Lookup : uint8_t {
    kFound,     // the flow's live entry
    kInserted,  // a new entry in a never-used slot
    kReused,    // a new entry in the slot of a flow idle past the timeout (or this flow's own)
  };

  // The state of `key` at time `now`. A live entry (seen within `idle_timeout` clock units) is
  // returned with its last-seen time refreshed. Otherwise the flow gets a zeroed entry: in its
  // own expired slot if it has one, else in the first empty or expired slot of its probe window
  // (an expired entry is one with now - last_seen > idle_timeout). The whole window is searched
  // for the key before an expired slot is taken, so a key never has two entries. nullptr if the
  // window holds kMaxProbe live entries of other flows (the caller falls back to shared state
  // and counts it). Times earlier than an entry's last-seen count as no idle time at all.
  FlowState* FindOrInsert(const FlowKey& key, uint64_t hash, uint64_t now, uint64_t idle_timeout,
                          Lookup* lookup) {
    FlowEntry* free_slot = nullptr;  // the first expired entry of the window, if any
    for (uint32_t probe = 0; probe < kMaxProbe; ++probe) {
      FlowEntry& entry = entries_[(hash + probe) & mask_];
      if (!entry.state.used) {
        // Slots are never emptied, so the key is not further on: insert here or in an earlier
        // expired slot.
        if (free_slot != nullptr) return Claim(free_slot, key, now, Lookup::kReused, lookup);
        ++size_;
        return Claim(&entry, key, now, Lookup::kInserted, lookup);
      }
      const bool expired =
          now > entry.state.last_seen && now - entry.state.last_seen > idle_timeout;
      if (entry.key == key) {
        if (expired) return Claim(&entry, key, now, Lookup::kReused, lookup);
        entry.state.last_seen = now;
        *lookup = Lookup::kFound;
        return &entry.state;
      }
      if (expired && free_slot == nullptr) free_slot = &entry;
    }
    if (free_slot != nullptr) return Claim(free_slot, key, now, Lookup::kReused, lookup);
    return nullptr;
  }

  // Starts loading the first entry of the probe window of `hash` (the staged burst hashes every
  // frame's flow and prefetches its bucket before any frame runs the models): both of its
  // lines, as FindOrInsert's first test (`used`) and the idle check read the second.
  void Prefetch(uint64_t hash) const {
    const char* entry = reinterpret_cast<const char*>(&entries_[hash & mask_]);
    __builtin_prefetch(entry, 1, 3);
    __builtin_prefetch(entry + 64, 1, 3);
  }

  // The displacement ring of a flow returned by FindOrInsert (ring_length entries).
  uint64_t* Ring(const FlowState* state) {
    const size_t index = reinterpret_cast<const FlowEntry*>(reinterpret_cast<const char*>(state) -
                                                            offsetof(FlowEntry, state)) -
                         entries_.get();
    return rings_.get() + index * ring_length_;
  }

  uint32_t capacity() const { return mask_ + 1; }
  // Slots ever used (live or expired): at most capacity().
  uint32_t size() const { return size_; }
  uint32_t ring_length() const { return ring_length_; }

 private:
  // Makes `entry` the zeroed state of `key` (its ring too), seen at `now`.
  FlowState* Claim(FlowEntry* entry, const FlowKey& key, uint64_t now, Lookup result,
                   Lookup* lookup);

  uint32_t mask_;
  uint32_t size_ = 0;
  uint32_t ring_length_;
  HugePageArray<FlowEntry> entries_;
  HugePageArray<uint64_t> rings_;
};

}  // namespace faultline
