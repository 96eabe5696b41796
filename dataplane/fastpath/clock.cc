#include "dataplane/fastpath/clock.h"

#include <rte_cycles.h>

namespace faultline {

uint64_t TimeBase::FromNs(uint64_t ns) const {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(ns) * hz + 500'000'000) /
                               1'000'000'000);
}

uint64_t TimeBase::ToNs(uint64_t units) const {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(units) * 1'000'000'000 + hz / 2) /
                               hz);
}

TimeBase TimeBase::ForHz(uint64_t hz, double max_tick_ns) {
  TimeBase base;
  base.hz = hz;
  base.wheel_tick_shift = 0;
  while (base.wheel_tick_shift < 32) {
    const double next_tick_ns = double(uint64_t{2} << base.wheel_tick_shift) * 1e9 / double(hz);
    if (next_tick_ns > max_tick_ns) break;
    ++base.wheel_tick_shift;
  }
  return base;
}

TimeBase TimeBase::Tsc() { return ForHz(rte_get_tsc_hz()); }

}  // namespace faultline
