#include "dataplane/fastpath/random.h"

#include <array>
#include <cmath>

namespace faultline {
namespace {

constexpr int kTableBits = 11;
constexpr int kTableSize = 1 << kTableBits;

// kNegLogMantissa[i] = -ln(0.5 + i / (2 * kTableSize)): the mantissa of x, once its leading one
// is shifted to the top, lies in [0.5, 1).
struct NegLogTable {
  std::array<double, kTableSize + 1> values;
  NegLogTable() {
    for (int i = 0; i <= kTableSize; ++i) values[i] = -std::log(0.5 + 0.5 * i / kTableSize);
  }
};

const NegLogTable& Table() {
  static const NegLogTable table;
  return table;
}

}  // namespace

double NegLogUniform(uint64_t x) {
  if (x == 0) x = 1;  // the smallest non-zero draw stands for 0 (probability 2^-64)
  const int leading_zeros = __builtin_clzll(x);
  const uint64_t mantissa = x << leading_zeros;  // top bit set: value in [0.5, 1) * 2^64
  // Index by the 11 bits after the leading one; interpolate with the next 32 bits.
  const uint64_t below_top = mantissa << 1;
  const uint32_t index = static_cast<uint32_t>(below_top >> (64 - kTableBits));
  const double fraction =
      static_cast<double>((below_top << kTableBits) >> 32) * (1.0 / 4294967296.0);
  const auto& values = Table().values;
  const double neg_log_mantissa = values[index] + (values[index + 1] - values[index]) * fraction;
  // x / 2^64 = (mantissa / 2^64) * 2^-leading_zeros, and -ln(0.5 * 2) = 0 at the top.
  return neg_log_mantissa + leading_zeros * 0.69314718055994530942;
}

}  // namespace faultline
