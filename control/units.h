// The units of the user contract (docs/formats.md): durations need a unit; a bare number is an
// error, because "10" could be 10 ms or 10 s and a fault emulator must not guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace faultline {

// Parses "1.5ms", "30d", "250ns" into nanoseconds. Units: ns, us, ms, s, m, h, d.
// Returns nullopt and sets *error on a bare number, an unknown unit, a negative value, a value
// finer than a nanosecond or one that does not fit in 64 bits.
std::optional<uint64_t> ParseDuration(const std::string& text, std::string* error);

// "5ms", "1.5s": the shortest exact spelling of a duration.
std::string FormatDuration(uint64_t ns);

}  // namespace faultline
