#include "control/units.h"

#include <array>
#include <cctype>
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
}  // namespace

std::optional<uint64_t> ParseDuration(const std::string& text, std::string* error) {
  size_t pos = 0;
  unsigned __int128 whole = 0;
  unsigned __int128 fraction = 0;
  unsigned __int128 fraction_scale = 1;
  bool any_digit = false;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    whole = whole * 10 + (text[pos++] - '0');
    any_digit = true;
    if (whole > UINT64_MAX) break;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (fraction_scale < 1'000'000'000'000'000'000ULL) {
        fraction = fraction * 10 + (text[pos] - '0');
        fraction_scale *= 10;
      }
      ++pos;
      any_digit = true;
    }
  }
  if (!any_digit) {
    *error = "'" + text + "' is not a duration (expected a number with a unit, like 1.5ms)";
    return std::nullopt;
  }
  const std::string unit = text.substr(pos);
  if (unit.empty()) {
    *error = "'" + text + "' needs a unit: ns, us, ms, s, m, h or d";
    return std::nullopt;
  }
  for (const auto& [name, scale] : kDurationUnits) {
    if (unit != name) continue;
    const unsigned __int128 fraction_ns = fraction * scale;
    if (fraction_ns % fraction_scale != 0) {
      *error = "'" + text + "' is finer than a nanosecond";
      return std::nullopt;
    }
    const unsigned __int128 total = whole * scale + fraction_ns / fraction_scale;
    if (whole > UINT64_MAX || total > UINT64_MAX) {
      *error = "'" + text + "' is too long";
      return std::nullopt;
    }
    return static_cast<uint64_t>(total);
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

}  // namespace faultline
