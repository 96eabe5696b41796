#include "control/base/units.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <utility>

namespace faultline {

namespace {

constexpr std::array<std::pair<const char*, uint64_t>, 7> kDurationUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
    {"d", 86'400'000'000'000},
}};

constexpr std::array<std::pair<const char*, uint64_t>, 5> kRateUnits = {{
    {"bit", 1},
    {"kbit", 1'000},
    {"mbit", 1'000'000},
    {"gbit", 1'000'000'000},
    {"tbit", 1'000'000'000'000},
}};

// tc's byte-per-second units. faultline refuses them rather than converting, because "mbps" reads
// as megabits to most people and tc takes it as megabytes: a silent factor of 8.
constexpr std::array<std::pair<const char*, uint64_t>, 5> kByteRateUnits = {{
    {"bps", 1},
    {"kbps", 1'000},
    {"mbps", 1'000'000},
    {"gbps", 1'000'000'000},
    {"tbps", 1'000'000'000'000},
}};

// Ordered largest first, so that FormatSize picks the largest unit that divides exactly.
constexpr std::array<std::pair<const char*, uint64_t>, 7> kByteUnits = {{
    {"GiB", 1ull << 30},
    {"GB", 1'000'000'000},
    {"MiB", 1ull << 20},
    {"MB", 1'000'000},
    {"KiB", 1ull << 10},
    {"KB", 1'000},
    {"B", 1},
}};

constexpr char kPacketUnit[] = "pkt";

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// An unsigned decimal number exactly as written (whole + fraction / fraction_scale), so that a
// value with a unit can be checked for being a whole number of the base unit without rounding.
struct Decimal {
  unsigned __int128 whole = 0;
  unsigned __int128 fraction = 0;
  unsigned __int128 fraction_scale = 1;
  bool whole_overflow = false;      // more than 64 bits before the point
  bool fraction_truncated = false;  // nonzero digits beyond the ones kept after the point
};

// 19 digits after the point: enough for any unit here (the largest scale, a day in nanoseconds,
// has 14 digits), and fraction * scale still fits in 128 bits.
constexpr unsigned __int128 kMaxFractionScale = 10'000'000'000'000'000'000ull;

// Reads the number at the start of `text` and sets *unit_start to the first character after it.
// nullopt: `text` does not start with a digit or a point followed by a digit.
std::optional<Decimal> ReadDecimal(const std::string& text, size_t* unit_start) {
  Decimal number;
  size_t pos = 0;
  bool any_digit = false;
  for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
    any_digit = true;
    if (number.whole_overflow) continue;
    number.whole = number.whole * 10 + (text[pos] - '0');
    number.whole_overflow = number.whole > UINT64_MAX;
  }
  if (pos < text.size() && text[pos] == '.') {
    for (++pos; pos < text.size() && IsDigit(text[pos]); ++pos) {
      any_digit = true;
      if (number.fraction_scale < kMaxFractionScale) {
        number.fraction = number.fraction * 10 + (text[pos] - '0');
        number.fraction_scale *= 10;
      } else if (text[pos] != '0') {
        number.fraction_truncated = true;
      }
    }
  }
  if (!any_digit) return std::nullopt;
  *unit_start = pos;
  return number;
}

enum class Scaled { kExact, kInexact, kTooLarge };

// number * scale as a 64-bit integer in *out, if it is a whole number that fits.
Scaled ScaleExactly(const Decimal& number, uint64_t scale, uint64_t* out) {
  if (number.whole_overflow) return Scaled::kTooLarge;
  const unsigned __int128 fraction_part = number.fraction * scale;
  if (number.fraction_truncated || fraction_part % number.fraction_scale != 0) {
    return Scaled::kInexact;
  }
  const unsigned __int128 total = number.whole * scale + fraction_part / number.fraction_scale;
  if (total > UINT64_MAX) return Scaled::kTooLarge;
  *out = static_cast<uint64_t>(total);
  return Scaled::kExact;
}

}  // namespace

std::string Lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::optional<uint64_t> ParseUnsigned(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = c - '0';
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<uint64_t> ParseDuration(const std::string& text, std::string* error) {
  size_t unit_start = 0;
  const std::optional<Decimal> number = ReadDecimal(text, &unit_start);
  if (!number) {
    *error = "'" + text + "' is not a duration (expected a number with a unit, like 1.5ms)";
    return std::nullopt;
  }
  const std::string unit = text.substr(unit_start);
  if (unit.empty()) {
    *error = "'" + text + "' needs a unit: ns, us, ms, s, m, h or d";
    return std::nullopt;
  }
  for (const auto& [name, scale] : kDurationUnits) {
    if (unit != name) continue;
    uint64_t ns = 0;
    switch (ScaleExactly(*number, scale, &ns)) {
      case Scaled::kExact:
        return ns;
      case Scaled::kInexact:
        *error = "'" + text + "' is finer than a nanosecond";
        return std::nullopt;
      case Scaled::kTooLarge:
        *error = "'" + text + "' is too long";
        return std::nullopt;
    }
  }
  *error = "'" + text + "' has an unknown unit '" + unit + "' (use ns, us, ms, s, m, h or d)";
  return std::nullopt;
}

std::string FormatDuration(uint64_t ns) {
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    const uint64_t scale = it->second;
    if (ns >= scale && ns % scale == 0) return std::to_string(ns / scale) + it->first;
  }
  // Not a whole number of any unit above ns: ns is always exact.
  return std::to_string(ns) + "ns";
}

std::optional<double> ParseProbability(const std::string& text, std::string* error) {
  const bool percent = !text.empty() && text.back() == '%';
  const char* begin = text.data();
  const char* end = text.data() + text.size() - (percent ? 1 : 0);
  double value = 0;
  // from_chars takes no leading '+' or spaces and no hex, so "1%", "0.01" and "1e-6" are the only
  // shapes that get through; std::isfinite then rules out "inf" and "nan".
  const auto [stop, status] = std::from_chars(begin, end, value, std::chars_format::general);
  if (begin == end || status != std::errc() || stop != end || !std::isfinite(value)) {
    *error = "'" + text +
             "' is not a probability (expected a percentage like 1% or a fraction like 0.01)";
    return std::nullopt;
  }
  if (percent) value /= 100;
  if (value < 0 || value > 1) {
    *error = "'" + text + "' is outside [0, 1]";
    // "50" is almost certainly meant as 50%, not an error in the number itself.
    if (!percent && value > 1 && value <= 100) *error += " (did you mean " + text + "%?)";
    return std::nullopt;
  }
  return value;
}

std::string FormatProbability(double probability) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.6g%%", probability * 100);
  return buffer;
}

std::optional<uint64_t> ParseRate(const std::string& text, std::string* error) {
  size_t unit_start = 0;
  const std::optional<Decimal> number = ReadDecimal(text, &unit_start);
  if (!number) {
    *error = "'" + text + "' is not a rate (expected bits per second with a unit, like 100mbit)";
    return std::nullopt;
  }
  const std::string unit = Lowercase(text.substr(unit_start));
  if (unit.empty()) {
    *error = "'" + text + "' needs a unit: bit, kbit, mbit, gbit or tbit (bits per second)";
    return std::nullopt;
  }
  for (const auto& [name, scale] : kRateUnits) {
    if (unit != name) continue;
    uint64_t bits_per_second = 0;
    switch (ScaleExactly(*number, scale, &bits_per_second)) {
      case Scaled::kExact:
        return bits_per_second;
      case Scaled::kInexact:
        *error = "'" + text + "' is not a whole number of bits per second";
        return std::nullopt;
      case Scaled::kTooLarge:
        *error = "'" + text + "' is too large";
        return std::nullopt;
    }
  }
  for (const auto& [name, scale] : kByteRateUnits) {
    if (unit != name) continue;
    *error = "'" + text + "' is in bytes per second: faultline rates are bits per second (bit, " +
             "kbit, mbit, gbit, tbit) because tc reads '" + unit + "' as bytes, not bits";
    uint64_t bits_per_second = 0;
    if (ScaleExactly(*number, scale * 8, &bits_per_second) == Scaled::kExact) {
      *error += "; " + text + " is " + FormatRate(bits_per_second);
    }
    return std::nullopt;
  }
  *error = "'" + text + "' has an unknown unit '" + text.substr(unit_start) +
           "' (use bit, kbit, mbit, gbit or tbit)";
  return std::nullopt;
}

std::string FormatRate(uint64_t bits_per_second) {
  for (auto it = kRateUnits.rbegin(); it != kRateUnits.rend(); ++it) {
    const uint64_t scale = it->second;
    if (bits_per_second >= scale && bits_per_second % scale == 0) {
      return std::to_string(bits_per_second / scale) + it->first;
    }
  }
  return std::to_string(bits_per_second) + "bit";
}

std::optional<Size> ParseSize(const std::string& text, std::string* error) {
  size_t unit_start = 0;
  const std::optional<Decimal> number = ReadDecimal(text, &unit_start);
  if (!number) {
    *error = "'" + text + "' is not a size (expected a number with a unit, like 1500B or 1000pkt)";
    return std::nullopt;
  }
  const std::string unit = text.substr(unit_start);
  if (unit.empty()) {
    *error = "'" + text + "' needs a unit: B, KB, MB, GB, KiB, MiB, GiB or pkt";
    return std::nullopt;
  }
  auto scale_to = [&](uint64_t scale, bool packets) -> std::optional<Size> {
    Size size{.value = 0, .packets = packets};
    switch (ScaleExactly(*number, scale, &size.value)) {
      case Scaled::kExact:
        return size;
      case Scaled::kInexact:
        *error = "'" + text + "' is not a whole number of " + (packets ? "packets" : "bytes");
        return std::nullopt;
      case Scaled::kTooLarge:
        *error = "'" + text + "' is too large";
        return std::nullopt;
    }
    return std::nullopt;
  };
  if (unit == kPacketUnit) return scale_to(1, /*packets=*/true);
  for (const auto& [name, scale] : kByteUnits) {
    if (unit == name) return scale_to(scale, /*packets=*/false);
  }
  *error = "'" + text + "' has an unknown unit '" + unit +
           "' (use B, KB, MB, GB, KiB, MiB, GiB or pkt; units are case-sensitive)";
  return std::nullopt;
}

std::string FormatSize(Size size) {
  if (size.packets) return std::to_string(size.value) + kPacketUnit;
  for (const auto& [name, scale] : kByteUnits) {
    if (size.value >= scale && size.value % scale == 0) {
      return std::to_string(size.value / scale) + name;
    }
  }
  return std::to_string(size.value) + "B";
}

std::optional<double> ParsePositiveNumber(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, status] = std::from_chars(text.data(), end, value);
  if (text.empty() || status != std::errc() || stop != end || !std::isfinite(value) ||
      !(value > 0)) {
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> ParseRfc3339(const std::string& text, std::string* error) {
  const std::string form = "'" + text + "' is not an RFC 3339 time like 2026-11-22T10:00:00Z";
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &month, &day, &hour,
                  &minute, &second, &consumed) != 6 ||
      consumed != 19) {
    *error = form;
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    *error = "'" + text + "' has a field out of range";
    return std::nullopt;
  }
  size_t at = 19;
  int64_t fraction_ns = 0;
  if (at < text.size() && text[at] == '.') {
    int64_t scale = 100'000'000;
    size_t digits = 0;
    for (++at; at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])); ++at) {
      fraction_ns += (text[at] - '0') * scale;
      scale /= 10;
      ++digits;
    }
    if (digits == 0) {
      *error = form;
      return std::nullopt;
    }
  }
  int64_t offset_s = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z') && at + 1 == text.size()) {
    offset_s = 0;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-') && at + 6 == text.size() &&
             text[at + 3] == ':' && std::isdigit(static_cast<unsigned char>(text[at + 1])) &&
             std::isdigit(static_cast<unsigned char>(text[at + 2])) &&
             std::isdigit(static_cast<unsigned char>(text[at + 4])) &&
             std::isdigit(static_cast<unsigned char>(text[at + 5]))) {
    const int hours = (text[at + 1] - '0') * 10 + (text[at + 2] - '0');
    const int minutes = (text[at + 4] - '0') * 10 + (text[at + 5] - '0');
    offset_s = (hours * 3600 + minutes * 60) * (text[at] == '+' ? 1 : -1);
  } else {
    *error = "'" + text + "' needs a zone: Z (UTC) or an offset like +01:00";
    return std::nullopt;
  }
  std::tm utc{};
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  const int64_t seconds = int64_t{timegm(&utc)} - offset_s;
  // Nanoseconds since 1970 in a signed 64-bit number reach into 2262.
  if (seconds < 0 || seconds >= INT64_MAX / 1'000'000'000) {
    *error = "'" + text + "' is outside 1970 to 2262, the times faultline handles";
    return std::nullopt;
  }
  return seconds * 1'000'000'000 + fraction_ns;
}

int64_t WallClockNs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

std::string FormatRfc3339(int64_t unix_ns) {
  const time_t seconds = static_cast<time_t>(unix_ns / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  const size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(text + length, sizeof(text) - length, ".%06ldZ",
                static_cast<long>(unix_ns % 1'000'000'000 / 1000));
  return text;
}

}  // namespace faultline
