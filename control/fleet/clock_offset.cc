#include "control/fleet/clock_offset.h"

#include <cstdio>

#include "control/base/units.h"

namespace faultline {

std::optional<ClockOffset> OffsetOf(const ClockSample& sample) {
  if (sample.recv_ns < sample.send_ns) return std::nullopt;
  const int64_t round_trip = sample.recv_ns - sample.send_ns;
  // send + round_trip / 2 rather than (send + recv) / 2: the sum of two times since 1970 in ns
  // is fine in int64 until 2146, but this never overflows.
  const int64_t midpoint = sample.send_ns + round_trip / 2;
  return ClockOffset{.offset_ns = sample.box_ns - midpoint, .round_trip_ns = round_trip};
}

std::optional<ClockOffset> BestOffset(std::span<const ClockSample> samples) {
  std::optional<ClockOffset> best;
  for (const ClockSample& sample : samples) {
    const std::optional<ClockOffset> offset = OffsetOf(sample);
    if (offset && (!best || offset->round_trip_ns < best->round_trip_ns)) best = offset;
  }
  return best;
}

namespace {

// |ns|, also for INT64_MIN.
uint64_t Magnitude(int64_t ns) {
  return ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1 : static_cast<uint64_t>(ns);
}

}  // namespace

std::string FormatOffset(int64_t ns) {
  char text[48];
  std::snprintf(text, sizeof(text), "%c%.3fms", ns < 0 ? '-' : '+',
                static_cast<double>(Magnitude(ns)) / 1e6);
  return text;
}

std::string CheckOffset(const ClockOffset& offset, uint64_t max_offset_ns) {
  if (Magnitude(offset.offset_ns) <= max_offset_ns) return "";
  return "clock offset " + FormatOffset(offset.offset_ns) + " (+-" +
         FormatOffset(offset.round_trip_ns / 2).substr(1) + ") is beyond " + "--max-offset " +
         FormatDuration(max_offset_ns);
}

}  // namespace faultline
