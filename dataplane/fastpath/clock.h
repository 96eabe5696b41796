// Time for the dataplane: a time base (units per second, fixed at start) and two clocks.
//
// Stages never read a clock: the loop that drives them reads one clock per burst and passes
// `now` down (as BESS does with its Context). Live runs use the TSC; offline replay uses a
// virtual clock set from pcap timestamps, in nanoseconds. Tests set time directly.
#pragma once

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

// Reads the TSC; needs rte_eal_init for its frequency only (see TimeBase::Tsc).
struct TscClock {
  uint64_t Now() const;
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
