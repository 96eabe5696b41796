// Delay: a base plus a jitter drawn from a distribution with netem's correlation, in clock units.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/fastpath/random.h"
#include "dataplane/models/delay_distribution.h"

namespace faultline {

struct CompiledDelay {
  int64_t base = 0;   // clock units
  int64_t sigma = 0;  // jitter, clock units
  Correlation correlation;
  std::vector<int16_t> table;  // empty: uniform in [base - sigma, base + sigma)

  // The delay of one packet; never negative (netem would send a "negative" delay at once).
  uint64_t Draw(Rng& rng, uint32_t* last) const {
    if (sigma == 0) return static_cast<uint64_t>(base);
    const int64_t delay = TableDistribution(base, sigma, correlation.Draw(rng, last), table.data(),
                                            static_cast<uint32_t>(table.size()));
    return delay > 0 ? static_cast<uint64_t>(delay) : 0;
  }
};

}  // namespace faultline
