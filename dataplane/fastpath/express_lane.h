// A FIFO of whole bursts that leave in the order they came, for frames that need no per-frame
// decision: every frame of a burst got the same departure (its arrival plus one constant delay,
// or its arrival: pass-through). Such a burst needs neither the parser nor the timing wheel,
// and its statistics are the same for all of its frames, so the lane keeps a burst as one run
// (arrival, departure, rule, count) over a ring of mbuf pointers, and the transmit side hands
// the device a run's pointers straight from the ring, recording a run at a time. That is what
// lets a pass-through or constant-delay dataplane forward at the device's own rate (docs/
// architecture.md, "Express lanes").
//
// Properties (tests/express_lane_test.cc):
//  - Order: frames leave in the order they were pushed; a run is accepted only if its departure
//    is not before the last one's, so the head run is always the earliest due.
//  - Bounded: at most `frame_capacity` frames and `run_capacity` runs; Accepts says whether a
//    push fits (the caller sends what does not fit the slow way, where the hold limit and its
//    drop count apply).
//  - A run's frames are contiguous in the ring or split once at its end: Due hands out the
//    contiguous part, the next call the rest.
//  - No allocation after construction.
#pragma once

#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>

namespace faultline {

class ExpressLane {
 public:
  // One pushed burst.
  struct Run {
    uint64_t arrival;    // clock units, the burst's receive time
    uint64_t departure;  // clock units, when its frames are due
    uint32_t count;      // frames of the run still in the lane
    uint16_t rule_slot;  // 1 + counter slot of the rule that delayed it; 0: no rule
  };
  // The head run's frames that are due and contiguous in the ring.
  struct Batch {
    rte_mbuf** frames;
    uint32_t count;
    const Run* run;
  };

  // Capacities are rounded up to powers of two.
  ExpressLane(uint64_t frame_capacity, uint64_t run_capacity)
      : frame_mask_(std::bit_ceil(frame_capacity < 2 ? uint64_t{2} : frame_capacity) - 1),
        run_mask_(std::bit_ceil(run_capacity < 2 ? uint64_t{2} : run_capacity) - 1),
        frames_(new rte_mbuf*[frame_mask_ + 1]),
        runs_(new Run[run_mask_ + 1]) {}

  uint64_t size() const { return frame_tail_ - frame_head_; }
  bool empty() const { return frame_tail_ == frame_head_; }
  // Whether `n` frames due at `departure` fit behind what the lane holds, in order.
  bool Accepts(uint64_t departure, uint32_t n) const {
    return frame_tail_ - frame_head_ + n <= frame_mask_ + 1 && run_tail_ - run_head_ <= run_mask_ &&
           (run_tail_ == run_head_ || departure >= last_departure_);
  }
  // Appends a burst (Accepts must have said yes).
  void Push(rte_mbuf* const* frames, uint32_t n, uint64_t arrival, uint64_t departure,
            uint16_t rule_slot) {
    // At most two copies: up to the ring's end, then from its front.
    const uint64_t start = frame_tail_ & frame_mask_;
    const uint64_t first = std::min<uint64_t>(n, frame_mask_ + 1 - start);
    std::memcpy(&frames_[start], frames, first * sizeof(rte_mbuf*));
    std::memcpy(&frames_[0], frames + first, (n - first) * sizeof(rte_mbuf*));
    frame_tail_ += n;
    runs_[run_tail_++ & run_mask_] = Run{arrival, departure, n, rule_slot};
    last_departure_ = departure;
  }

  // Departure of the head run, UINT64_MAX if empty.
  uint64_t NextDeparture() const {
    return run_head_ == run_tail_ ? UINT64_MAX : runs_[run_head_ & run_mask_].departure;
  }
  // The head run's due frames that lie contiguous in the ring; false if nothing is due at `now`.
  bool Due(uint64_t now, Batch* batch) {
    if (run_head_ == run_tail_) return false;
    Run& run = runs_[run_head_ & run_mask_];
    if (run.departure > now) return false;
    const uint64_t start = frame_head_ & frame_mask_;
    const uint64_t to_end = frame_mask_ + 1 - start;
    batch->frames = &frames_[start];
    batch->count = run.count < to_end ? run.count : static_cast<uint32_t>(to_end);
    batch->run = &run;
    return true;
  }
  // The first `n` frames of the head run left (the device took them).
  void Consume(uint32_t n) {
    Run& run = runs_[run_head_ & run_mask_];
    frame_head_ += n;
    run.count -= n;
    if (run.count == 0) ++run_head_;
    if (frame_head_ == frame_tail_) {
      // Empty: start again at the front, so a lane drained every burst (pass-through) stays in
      // a few warm cache lines instead of sweeping its whole capacity.
      frame_head_ = frame_tail_ = 0;
      run_head_ = run_tail_ = 0;
    }
  }
  // Starts loading the head run's mbufs (both lines the device and the free path read), so a
  // delayed run, cold after its wait, is in cache when it is sent.
  void PrefetchHead() const {
    if (run_head_ == run_tail_) return;
    const uint32_t count = runs_[run_head_ & run_mask_].count;
    for (uint32_t i = 0; i < count; ++i) {
      const rte_mbuf* frame = frames_[(frame_head_ + i) & frame_mask_];
      rte_prefetch0(frame);
      rte_prefetch0(reinterpret_cast<const char*>(frame) + RTE_CACHE_LINE_MIN_SIZE);
    }
  }

  // Calls `take(frame, run)` for every frame, oldest first, and empties the lane.
  template <typename Take>
  void ForEachAndClear(Take&& take) {
    while (run_head_ != run_tail_) {
      const Run& run = runs_[run_head_++ & run_mask_];
      for (uint32_t i = 0; i < run.count; ++i) take(frames_[frame_head_++ & frame_mask_], run);
    }
    frame_head_ = frame_tail_ = 0;
    run_head_ = run_tail_ = 0;
  }

 private:
  const uint64_t frame_mask_;
  const uint64_t run_mask_;
  std::unique_ptr<rte_mbuf*[]> frames_;
  std::unique_ptr<Run[]> runs_;
  uint64_t frame_head_ = 0, frame_tail_ = 0;
  uint64_t run_head_ = 0, run_tail_ = 0;
  uint64_t last_departure_ = 0;
};

}  // namespace faultline
