// Delay distribution tables in iproute2's netem format, and netem's table lookup.
//
// A table holds N signed 16-bit values t[i]: the quantiles of a zero-mean distribution in units
// of sigma / 8192 (NETEM_DIST_SCALE). netem draws a uniform 32-bit value u and returns
//   mu + t[u % N] * sigma / 8192
// (rounded as in the kernel's tabledist()). iproute2 ships normal, pareto, paretonormal and
// experimental tables (Debian: /usr/lib/x86_64-linux-gnu/tc/*.dist); faultline generates the
// first three itself with the same formulas as iproute2's generators and loads any other file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"

namespace faultline {

inline constexpr int64_t kNetemDistScale = 8192;

// The table iproute2 generates for `kind` (kNormal, kPareto, kParetoNormal): 4096 entries,
// identical to Debian's normal.dist, pareto.dist and paretonormal.dist.
std::vector<int16_t> GenerateDistributionTable(DistributionKind kind);

// Parses iproute2's .dist text format: '#' comments, whitespace-separated integers in
// [-32768, 32767]. Returns nullopt and sets *error on bad input: "PATH: cannot read: why" for a
// file that cannot be read, is not a regular file or is too large (dataplane/regular_file.h);
// "PATH:LINE:COL: message" for a non-number, out-of-range value, empty table, more than 65536
// entries.
std::optional<std::vector<int16_t>> LoadDistributionTable(const std::string& path,
                                                          std::string* error);

// netem's tabledist(): mu + sigma * table[rnd % size] / 8192 with the kernel's rounding; with an
// empty table a uniform draw in [mu - sigma, mu + sigma), computed as mu - sigma +
// (rnd * 2 sigma) >> 32 rather than netem's rnd % (2 sigma): no division, and exact for sigma
// beyond 2^31 where the modulo degenerates. May be negative (callers clamp).
int64_t TableDistribution(int64_t mu, int64_t sigma, uint32_t rnd, const int16_t* table,
                          uint32_t table_size);

}  // namespace faultline
