#include "dataplane/config/duration_text.h"

#include <cstdio>

namespace faultline {

namespace {

constexpr uint64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;
constexpr uint64_t kMinute = 60 * kS, kHour = 60 * kMinute, kDay = 24 * kHour;

// An exact spelling with at most this many digits is short enough to print as it is.
constexpr size_t kShortDigits = 3;

// "12.30" -> "12.3", "44.00" -> "44".
std::string TrimZeros(std::string number) {
  if (number.find('.') == std::string::npos) return number;
  while (number.back() == '0') number.pop_back();
  if (number.back() == '.') number.pop_back();
  return number;
}

// Two decimals ("44.17").
std::string Decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", value);
  return TrimZeros(text);
}

// Four significant digits ("2.924", "12.35", "123.5").
std::string Significant(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.*f", value >= 100 ? 1 : value >= 10 ? 2 : 3, value);
  return TrimZeros(text);
}

}  // namespace

std::string FormatHumanDuration(uint64_t ns) {
  if (ns == 0) return "0s";
  static constexpr std::pair<const char*, uint64_t> kUnits[] = {
      {"d", kDay}, {"h", kHour}, {"m", kMinute}, {"s", kS}, {"ms", kMs}, {"us", kUs}, {"ns", 1}};
  for (const auto& [unit, scale] : kUnits) {
    if (ns >= scale && ns % scale == 0) {
      const std::string count = std::to_string(ns / scale);
      if (count.size() <= kShortDigits) return count + unit;
      break;
    }
  }
  if (ns >= kMinute) {
    // Whole days, hours and minutes, then seconds to 10 ms ("1h0m5s" keeps the zero minutes, as
    // Go's durations do, so the fields line up).
    const uint64_t centiseconds = (ns + 5 * kMs) / (10 * kMs);
    const uint64_t per_minute = 6000;
    const uint64_t minutes = centiseconds / per_minute;
    std::string text;
    if (minutes >= 24 * 60) text += std::to_string(minutes / (24 * 60)) + "d";
    if (minutes >= 60) text += std::to_string(minutes / 60 % 24) + "h";
    text += std::to_string(minutes % 60) + "m";
    return text + Decimal(static_cast<double>(centiseconds % per_minute) / 100) + "s";
  }
  for (const auto& [unit, scale] : kUnits) {
    if (ns >= scale)
      return Significant(static_cast<double>(ns) / static_cast<double>(scale)) + unit;
  }
  return std::to_string(ns) + "ns";
}

}  // namespace faultline
