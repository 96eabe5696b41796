// A box's clock against the caller's, as `faultline fleet trace start` checks it before starting
// a trace at one wall-clock time on every box: the caller reads its clock (t_send), asks the box
// for its wall clock (GET /v1/time), reads its clock again (t_recv). If the box read its clock
// half-way, offset = box - (t_send + t_recv) / 2; wherever in the round trip it read it, the true
// offset is within half the round trip of that, so the round trip bounds the error. Of several
// samples, the one with the shortest round trip is the most precise.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace faultline {

struct ClockSample {
  int64_t send_ns = 0;  // caller's wall clock before the request
  int64_t box_ns = 0;   // the box's answer
  int64_t recv_ns = 0;  // caller's wall clock after the answer
};

struct ClockOffset {
  int64_t offset_ns = 0;      // box minus caller
  int64_t round_trip_ns = 0;  // the error bound: |true offset - offset_ns| <= round_trip_ns / 2
};

// The estimate of one sample; nullopt when its receive time precedes its send time (the caller's
// clock stepped back).
std::optional<ClockOffset> OffsetOf(const ClockSample& sample);

// The estimate of the sample with the shortest round trip (nullopt if none is usable).
std::optional<ClockOffset> BestOffset(std::span<const ClockSample> samples);

// "" when |offset| <= max_offset_ns; else why not: "clock offset +1.523ms (+-0.120ms) is beyond
// --max-offset 1ms".
std::string CheckOffset(const ClockOffset& offset, uint64_t max_offset_ns);

// "+1.523ms" / "-0.012ms": a signed offset for messages, to the microsecond.
std::string FormatOffset(int64_t ns);

}  // namespace faultline
