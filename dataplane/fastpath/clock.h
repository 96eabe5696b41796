// Time for the dataplane: a time base (units per second, fixed at start) and two clocks.
//
// Stages never read a clock: the loop that drives them reads one clock per burst and passes
// `now` down (as BESS does with its Context). Live runs use the TSC; offline replay uses a
// virtual clock set from pcap timestamps, in nanoseconds. Tests set time directly.
#pragma once

#include <rte_cycles.h>

#include <cstdint>

namespace faultline {

struct TimeBase {
  uint64_t hz = 1'000'000'000;    // clock units per second
  unsigned wheel_tick_shift = 0;  // timing-wheel tick = 2^shift clock units

  // Conversions happen when configuration is compiled, never per packet.
  uint64_t FromNs(uint64_t ns) const;
  uint64_t ToNs(uint64_t units) const;
  double TickNs() const { return double(uint64_t{1} << wheel_tick_shift) * 1e9 / double(hz); }

  // A base of `hz` units per second whose wheel tick is the longest power of two of units not
  // above `max_tick_ns` (sub-microsecond scheduling resolution).
  static TimeBase ForHz(uint64_t hz, double max_tick_ns = 64.0);
  // Nanosecond units and 1 ns ticks: replay is exact to the nanosecond.
  static TimeBase Nanoseconds() { return TimeBase{}; }
  // The TSC of this machine (needs rte_eal_init).
  static TimeBase Tsc();
};

// Clock units to ns per frame (the latency histograms): ns = units * 1e9 / hz as a 32.32
// fixed-point factor, one multiply where a division would cost tens of cycles; rounded to the
// nearest ns (exact for nanosecond units).
class NsPerUnit {
 public:
  explicit NsPerUnit(uint64_t hz)
      : q32_(static_cast<uint64_t>(
            ((static_cast<unsigned __int128>(1'000'000'000) << 32) + hz / 2) / hz)) {}
  uint64_t ToNs(uint64_t units) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(units) * q32_ + kHalf) >> 32);
  }
  // A difference of two times, either sign (one signed multiply).
  int64_t ToNs(int64_t units) const {
    return static_cast<int64_t>(
        (static_cast<__int128>(units) * static_cast<int64_t>(q32_) + kHalf) >> 32);
  }

 private:
  static constexpr uint64_t kHalf = uint64_t{1} << 31;
  uint64_t q32_;
};

// Reads the TSC; needs rte_eal_init for its frequency only (see TimeBase::Tsc). Inline: the
// worker reads it several times per loop (each burst is dated, each transmit call timed), and
// the call around the one instruction cost as much as the instruction.
struct TscClock {
  uint64_t Now() const { return rte_rdtsc(); }
};

// Virtual time of offline replay. Never moves backwards: an input stamped earlier than the
// previous one is taken to arrive at the previous time (and the caller counts it).
class VirtualClock {
 public:
  explicit VirtualClock(uint64_t start_ns = 0) : now_(start_ns) {}
  uint64_t Now() const { return now_; }
  // Returns false if `ns` lies in the past and the clock stayed where it was.
  bool AdvanceTo(uint64_t ns) {
    if (ns < now_) return false;
    now_ = ns;
    return true;
  }

 private:
  uint64_t now_;
};

}  // namespace faultline
