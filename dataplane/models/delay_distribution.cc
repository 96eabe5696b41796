#include "dataplane/models/delay_distribution.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "dataplane/config/regular_file.h"

namespace faultline {
namespace {

// The generators below follow iproute2's netem/normal.c, pareto.c and paretonormal.c
// statement for statement (same constants, same double expressions, same rint and integer
// truncation), because the point is to produce the very tables `tc` ships: a profile saying
// "normal" must behave like `netem ... distribution normal`. The test compares the result with
// Debian's .dist files value for value.
//
// Floating-point contraction (-march=native enables FMA) cannot change the results: the only
// multiply-add, .5 + .5 * erf(), multiplies by a power of two and so is exact either way.
constexpr int kGeneratorTableSize = 16384;  // TABLESIZE: CDF resolution of the generators
constexpr double kTableFactor = kNetemDistScale;
constexpr double kParetoShape = 3.0;  // `a` in pareto.c and paretonormal.c

// The tc parser's limit on loaded tables: beyond this the netlink attribute no longer fits.
constexpr size_t kMaxTableEntries = 65536;

int ClampToShort(int value) { return std::clamp(value, SHRT_MIN, SHRT_MAX); }

// normal.c's first pass: table[i] = the largest x on the grid -10, -10 + .00005, ... whose
// normal CDF rounds to i / TABLESIZE. x is accumulated by repeated addition, not computed as
// -10 + k * .00005, because the rounding of that running sum decides some entries.
//
// In normal.c the table is an uninitialised stack array; it is only safe because the CDF never
// advances by more than 0.33 index per step (16384 * .00005 / sqrt(2 pi)), so every index from
// 0 to TABLESIZE is written. Here the vector starts at zero, which changes nothing.
std::vector<double> NormalQuantiles() {
  std::vector<double> table(kGeneratorTableSize + 1, 0.0);
  for (double x = -10.0; x < 10.05; x += .00005) {
    const int i =
        static_cast<int>(std::rint(kGeneratorTableSize * (.5 + .5 * std::erf(x / std::sqrt(2.0)))));
    table[i] = x;
  }
  return table;
}

// normal.c's second pass and paretonormal.c's normvalue: every 4th quantile, scaled, before
// clamping (paretonormal.c mixes the unclamped value).
int NormalValue(const std::vector<double>& quantiles, int i) {
  return static_cast<int>(std::rint(quantiles[i] * kTableFactor));
}

// pareto.c's loop body for i in 65536, 65520, ..., 16 (and paretonormal.c's paretovalue()):
// the Pareto(a = 3, scale 1) quantile at 1 - i / 65536, less its mean 1.5, times (4/3) * 8192.
int ParetoValue(int i) {
  double value = static_cast<double>(i) / 65536.0;
  value = 1.0 / std::pow(value, 1.0 / kParetoShape);
  value -= 1.5;
  value *= (4.0 / 3.0) * kTableFactor;
  if (value > 32767) value = 32767;
  return static_cast<int>(std::rint(value));
}

std::string Location(const std::string& path, int line, int column) {
  return path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

}  // namespace

std::vector<int16_t> GenerateDistributionTable(DistributionKind kind) {
  std::vector<int16_t> table;
  switch (kind) {
    case DistributionKind::kNormal: {
      const std::vector<double> quantiles = NormalQuantiles();
      for (int i = 0; i < kGeneratorTableSize; i += 4) {
        table.push_back(static_cast<int16_t>(ClampToShort(NormalValue(quantiles, i))));
      }
      break;
    }
    case DistributionKind::kPareto:
      for (int i = 65536; i > 0; i -= 16) table.push_back(static_cast<int16_t>(ParetoValue(i)));
      break;
    case DistributionKind::kParetoNormal: {
      const std::vector<double> quantiles = NormalQuantiles();
      for (int i = 0; i < kGeneratorTableSize; i += 4) {
        // The same quantile index as pareto.c's i = 65536, 65520, ...: the two components are
        // mixed quantile by quantile (a comonotone mix), with C's truncating division.
        const int value = (NormalValue(quantiles, i) + 3 * ParetoValue(65536 - 4 * i)) / 4;
        table.push_back(static_cast<int16_t>(ClampToShort(value)));
      }
      break;
    }
    case DistributionKind::kUniform:  // netem's table-less jitter
    case DistributionKind::kTable:    // comes from a file: LoadDistributionTable
      break;
  }
  return table;
}

std::optional<std::vector<int16_t>> LoadDistributionTable(const std::string& path,
                                                          std::string* error) {
  // Tables are at most a few hundred KiB; a flat buffer makes line and column tracking trivial.
  const std::optional<std::string> contents = ReadRegularFile(path, error);
  if (!contents) return std::nullopt;
  const std::string& text = *contents;

  // Unlike tc, which stops reading a line at the first thing strtol() rejects and ignores the
  // rest, every token must be a number: a typo silently shortening a table would change the
  // distribution without any sign.
  std::vector<int16_t> table;
  int line = 1;
  size_t line_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '\n') {
      ++line;
      line_start = ++pos;
      continue;
    }
    if (c == '#') {
      while (pos < text.size() && text[pos] != '\n') ++pos;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++pos;
      continue;
    }
    const size_t start = pos;
    while (pos < text.size() && text[pos] != '#' &&
           !std::isspace(static_cast<unsigned char>(text[pos]))) {
      ++pos;
    }
    const std::string token = text.substr(start, pos - start);
    const std::string where = Location(path, line, static_cast<int>(start - line_start) + 1);

    // Decimal only, with an optional sign. Digits are accumulated with a cap so that a long
    // run of digits reads as out of range rather than overflowing.
    size_t digit = (token[0] == '-' || token[0] == '+') ? 1 : 0;
    if (digit == token.size()) {
      *error = where + "not an integer: \"" + token + "\"";
      return std::nullopt;
    }
    int64_t magnitude = 0;
    for (; digit < token.size(); ++digit) {
      if (token[digit] < '0' || token[digit] > '9') {
        *error = where + "not an integer: \"" + token + "\"";
        return std::nullopt;
      }
      magnitude = std::min<int64_t>(magnitude * 10 + (token[digit] - '0'), int64_t{1} << 32);
    }
    const int64_t value = token[0] == '-' ? -magnitude : magnitude;
    if (value < INT16_MIN || value > INT16_MAX) {
      *error = where + "value " + token + " is out of range [-32768, 32767]";
      return std::nullopt;
    }
    if (table.size() == kMaxTableEntries) {
      *error = where + "more than 65536 values";
      return std::nullopt;
    }
    table.push_back(static_cast<int16_t>(value));
  }
  if (table.empty()) {
    // No token to point at: report the end of the file, as compilers do.
    *error = Location(path, line, static_cast<int>(text.size() - line_start) + 1) +
             "empty table: no values";
    return std::nullopt;
  }
  return table;
}

int64_t TableDistribution(int64_t mu, int64_t sigma, uint32_t rnd, const int16_t* table,
                          uint32_t table_size) {
  if (sigma == 0) return mu;
  if (table == nullptr || table_size == 0) {
    // Uniform over [mu - sigma, mu + sigma). The kernel takes rnd % (2 sigma); the
    // multiply-shift floor(rnd * 2 sigma / 2^32) is the same uniform draw without a 64-bit
    // division per packet, and unlike the modulo it still spans the whole interval once
    // 2 sigma exceeds 2^32 (the modulo would then return rnd itself). It also keeps rnd's order,
    // so correlated draws give correlated delays. The 128-bit product is exact for any sigma.
    const uint64_t span = 2 * static_cast<uint64_t>(sigma);
    const auto offset = static_cast<uint64_t>((static_cast<unsigned __int128>(rnd) * span) >> 32);
    return mu - sigma + static_cast<int64_t>(offset);
  }
  // The kernel's tabledist(), widened to 64 bits: sigma * t / 8192 split as
  // (sigma / 8192) * t exactly plus (sigma % 8192) * t / 8192 rounded half away from zero, so
  // that t = +-8192 gives exactly mu +- sigma and t, -t give symmetric results. Divisions are
  // by the constant 8192 (shifts); |x| < 2^28 and |(sigma / 8192) * t| < 2^50 for sigma < 2^48.
  // rnd % table_size, as the kernel: a mask for a power-of-two size (every generated table
  // has 4096 entries), which saves a division per frame; the same index either way.
  const uint32_t index =
      (table_size & (table_size - 1)) == 0 ? rnd & (table_size - 1) : rnd % table_size;
  const int64_t t = table[index];
  int64_t x = (sigma % kNetemDistScale) * t;
  x += x >= 0 ? kNetemDistScale / 2 : -kNetemDistScale / 2;
  return x / kNetemDistScale + (sigma / kNetemDistScale) * t + mu;
}

}  // namespace faultline
