// Live capture of the faults (`faultline capture`): a worker copies the frames a capture asks
// for at their fate point (dropped before they are freed, a duplicate's copy, a corrupted frame
// after corruption, a delayed frame at departure) into a bounded single-producer
// single-consumer rte_ring of fixed-size slots that the control thread drains. A full ring
// loses the copy, counted as `capture_lost`; the worker never waits. The filter arrives in one
// per-worker atomic the worker reads once per burst (Worker::Poll): capture off costs one
// predictable branch there, and the tap is reached through the frame recorder's hooks.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>

#include "dataplane/fastpath/counters.h"

namespace faultline {

// What a capture takes, as bits of CaptureFilter::what (and CaptureSlot::what, one bit).
enum CaptureWhat : uint8_t {
  kCaptureDropped = 1,
  kCaptureDuplicated = 2,
  kCaptureCorrupted = 4,
  kCaptureDelayed = 8,
  kCaptureAll = 15,
};
// "dropped", "duplicated", "corrupted", "delayed" for one bit; "" otherwise.
const char* CaptureWhatName(uint8_t what);

// Bytes of a frame a slot keeps (the frame's length is kept too): headers and the start of the
// payload of any frame, whole frames up to 512 bytes.
inline constexpr uint32_t kCaptureSnap = 512;
// Slots of a live worker's ring: 1024 x 544 bytes = 544 KiB of DPDK memory per worker.
inline constexpr unsigned kCaptureRingSlots = 1024;

// One captured frame, as the ring holds it (element size: a multiple of 4 bytes).
struct CaptureSlot {
  uint64_t time;      // the worker's clock (TSC) at the fate point
  uint32_t length;    // the frame's length
  uint16_t captured;  // bytes in data (min(length, kCaptureSnap))
  uint16_t rule;      // the rule's counter id, or 0xffff (kNoRule): none
  uint8_t what;       // one CaptureWhat bit
  uint8_t cause;      // DropCause when dropped
  uint8_t direction;  // 0: a-to-b, 1: b-to-a
  uint8_t reserved[5];
  uint8_t data[kCaptureSnap];
};
static_assert(sizeof(CaptureSlot) % 4 == 0);

// The filter packed in one 64-bit word: bits 0-7 `what`, 8-23 rule counter id + 1 (0: any
// rule), 32-63 the capture's id (so a new capture with the same filter is seen as new).
struct CaptureFilter {
  uint8_t what = 0;      // 0: off
  uint32_t rule_id = 0;  // counter id + 1; 0: any
  uint32_t session = 0;
  uint64_t Pack() const {
    return what | (uint64_t{rule_id & 0xffff} << 8) | (uint64_t{session} << 32);
  }
  static CaptureFilter Unpack(uint64_t word) {
    return {static_cast<uint8_t>(word & 0xff), static_cast<uint32_t>((word >> 8) & 0xffff),
            static_cast<uint32_t>(word >> 32)};
  }
};

class CaptureTap {
 public:
  // A ring of `slots` (a power of two) slots; null ring() when DPDK had no memory for it.
  CaptureTap(const char* name, unsigned slots, int socket);
  ~CaptureTap();
  CaptureTap(const CaptureTap&) = delete;
  CaptureTap& operator=(const CaptureTap&) = delete;
  rte_ring* ring() const { return ring_; }

  // Control thread: the filter the worker applies from its next burst on.
  void Publish(const CaptureFilter& filter) {
    filter_word_.store(filter.Pack(), std::memory_order_release);
  }

  // Worker, once per burst: whether the filter changed since it last looked (then Apply).
  bool Changed() const { return filter_word_.load(std::memory_order_relaxed) != seen_; }
  // Takes the published filter; returns whether capture is on.
  bool Apply() {
    seen_ = filter_word_.load(std::memory_order_acquire);
    active_ = CaptureFilter::Unpack(seen_);
    return active_.what != 0;
  }
  // Where copies a full ring could not take are counted (the pipeline's `capture_lost`).
  void CountLostIn(Counter* lost) { lost_ = lost; }

  // The fate points (worker): each copies `packet` if the filter takes it.
  void Dropped(const rte_mbuf* packet, uint8_t cause) { Take(packet, kCaptureDropped, cause); }
  void Duplicated(const rte_mbuf* copy) { Take(copy, kCaptureDuplicated, 0); }
  void Corrupted(const rte_mbuf* packet) { Take(packet, kCaptureCorrupted, 0); }
  // At the device's first offer of `n` frames: the ones held past their arrival.
  void Departing(rte_mbuf* const* packets, uint16_t n);

  // Control thread: up to `max` slots into `out`; returns how many.
  unsigned Drain(CaptureSlot* out, unsigned max);
  // Control thread: empties the ring (the end of a capture).
  void Discard();
  // Copies taken since the tap was made (any thread).
  uint64_t captured() const { return captured_.Get(); }
  // Copies lost to a full ring since the tap was made (any thread; not reset with statistics).
  uint64_t lost() const { return lost_total_.Get(); }

 private:
  void Take(const rte_mbuf* packet, uint8_t what, uint8_t cause);

  rte_ring* ring_ = nullptr;
  alignas(64) std::atomic<uint64_t> filter_word_{0};  // written by the control thread
  alignas(64) uint64_t seen_ = 0;                     // the worker's own from here on
  CaptureFilter active_;
  Counter captured_;
  Counter lost_total_;
  Counter* lost_ = nullptr;
};

}  // namespace faultline
