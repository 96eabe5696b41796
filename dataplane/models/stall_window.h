// Stall (process-pause emulation): during a window every frame of the rule is held; when the
// window ends they are all released in arrival order. Windows start `start` after the epoch (the
// dataplane's start, or the first frame offline) and repeat every `every` if set.
#pragma once

#include <cstdint>

#include "dataplane/config/profile_spec.h"

namespace faultline {

struct CompiledStall {
  uint64_t start = 0, duration = 0, every = 0;  // clock units
  SizeLimit limit;                              // held per window at most
  bool absolute = false;  // `start` is a clock time (a trace's stall), not after the epoch
};

struct StallState {
  uint64_t window_start = UINT64_MAX;  // UINT64_MAX: not yet placed (no epoch)
  uint64_t window_end = 0;
  uint64_t placed_start = UINT64_MAX;         // the first window's start this state was placed for
  uint64_t held_packets = 0, held_bytes = 0;  // held in the current window

  // If `now` lies inside a stall window, returns its end (the release time); else 0.
  uint64_t ReleaseTime(const CompiledStall& stall, uint64_t epoch, uint64_t now) {
    const uint64_t first = (stall.absolute ? 0 : epoch) + stall.start;
    // A trace's stall state is kept by rule name and effects, so the same stall in the next
    // round of a repeating trace comes back with a later start: place its window anew.
    if (window_start == UINT64_MAX || first != placed_start) {
      placed_start = first;
      window_start = first;
      window_end = window_start + stall.duration;
      held_packets = held_bytes = 0;
    }
    if (stall.every && now >= window_start + stall.every) {
      // Crossed at least one period: move to the window of `now` (a division per period only).
      window_start += (now - window_start) / stall.every * stall.every;
      window_end = window_start + stall.duration;
      held_packets = held_bytes = 0;
    }
    return now >= window_start && now < window_end ? window_end : 0;
  }

  // Whether one more frame of `bytes` fits under the limit; counts it if so.
  bool Hold(const CompiledStall& stall, uint32_t bytes) {
    if ((stall.limit.packets && held_packets >= stall.limit.packets) ||
        (stall.limit.bytes && held_bytes + bytes > stall.limit.bytes)) {
      return false;
    }
    ++held_packets;
    held_bytes += bytes;
    return true;
  }
};

}  // namespace faultline
