// The units of the user contract (docs/formats.md): durations, rates and sizes need a unit; a bare
// number is an error, because "10" could be 10 ms or 10 s and a fault emulator must not guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace faultline {

// Decimal digits only: YAML would also read "0x10", "+5" or "1_000" as integers, and a file that
// means something different to another YAML reader is not worth the convenience.
std::optional<uint64_t> ParseUnsigned(const std::string& text);

// ASCII letters in lower case ("ICMP" -> "icmp").
std::string Lowercase(std::string text);

// Parses "1.5ms", "30d", "250ns" into nanoseconds. Units: ns, us, ms, s, m, h, d.
// Returns nullopt and sets *error on a bare number, an unknown unit, a negative value, a value
// finer than a nanosecond or one that does not fit in 64 bits.
std::optional<uint64_t> ParseDuration(const std::string& text, std::string* error);

// "5ms", "1.5s": the shortest exact spelling of a duration.
std::string FormatDuration(uint64_t ns);

// Parses a probability: a percentage ("1%", "0.25%") or a fraction ("0.01", "1", "0", "1e-6").
// Returns nullopt and sets *error on anything else or on a value outside [0, 1].
std::optional<double> ParseProbability(const std::string& text, std::string* error);

// "1%", "0.25%", "100%": a probability as a percentage, to 6 significant digits.
std::string FormatProbability(double probability);

// Parses a tc-style rate in bits per second: "100mbit", "1.5gbit". Units (case-insensitive):
// bit, kbit, mbit, gbit, tbit, powers of 1000. A bare number is an error, and so are tc's byte
// units (kbps, mbps, ...), which are easily misread as bits.
std::optional<uint64_t> ParseRate(const std::string& text, std::string* error);

// "100mbit", "1500kbit": the shortest exact spelling of a rate.
std::string FormatRate(uint64_t bits_per_second);

// A size in bytes or in packets.
struct Size {
  uint64_t value = 0;
  bool packets = false;
};

// Parses "1500B", "64KiB", "1.5MB", "1000pkt". Units: B, KB, MB, GB (powers of 1000), KiB, MiB,
// GiB (powers of 1024) and pkt. Returns nullopt and sets *error on a bare number, an unknown unit,
// a value that is not a whole number of bytes or packets, or one that does not fit in 64 bits.
std::optional<Size> ParseSize(const std::string& text, std::string* error);

// "1000pkt", "64KiB", "1500B": the shortest exact spelling of a size.
std::string FormatSize(Size size);

// A positive, finite decimal number ("1440", "0.5", "2e3"): --compress, --scale, --speed.
std::optional<double> ParsePositiveNumber(const std::string& text);

// Parses an RFC 3339 time ("2026-11-22T10:00:00Z", "2026-11-22T11:00:00.250+01:00") into
// nanoseconds since the Unix epoch. A zone (Z or +-HH:MM) is required: a time without one means
// something else on every host.
std::optional<int64_t> ParseRfc3339(const std::string& text, std::string* error);

// "2026-11-22T10:00:00.250000Z": a Unix time in UTC with microseconds.
std::string FormatRfc3339(int64_t unix_ns);

// The wall clock (CLOCK_REALTIME) now, in nanoseconds since the Unix epoch.
int64_t WallClockNs();

}  // namespace faultline
