// Randomness for the fast path: one seeded generator per lcore, netem's correlated draws, and
// table-driven logarithms so no model calls a transcendental function per packet.
#pragma once

#include <cstdint>

namespace faultline {

// splitmix64: spreads a user seed (often small: 1, 42) over the whole state of Rng.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// xoshiro256** (Blackman and Vigna): 4 words of state, a few cycles per draw, passes BigCrush.
// One per lcore; never shared, so no atomics.
class Rng {
 public:
  // Generator `stream` of seed `seed`: workers of one run use streams 0, 1, ... so they draw
  // independent sequences from one user-visible seed.
  explicit Rng(uint64_t seed = 0, uint64_t stream = 0) {
    uint64_t mix = seed ^ (stream * 0xd1342543de82ef95ULL);
    for (uint64_t& word : state_) word = SplitMix64(&mix);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  // The high half: xoshiro's low bits are its weakest.
  uint32_t Next32() { return static_cast<uint32_t>(Next() >> 32); }
  // Uniform in [0, bound) without division (Lemire's multiply-shift; bias < bound / 2^32).
  uint32_t Below(uint32_t bound) {
    return static_cast<uint32_t>((static_cast<uint64_t>(Next32()) * bound) >> 32);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

// A probability as a 33-bit threshold: an event with draw u (uniform 32-bit) happens iff
// u < threshold, so P = threshold / 2^32 exactly, and 100% (2^32) always happens.
inline uint64_t ProbabilityThreshold(double p) {
  if (p <= 0) return 0;
  if (p >= 1) return uint64_t{1} << 32;
  return static_cast<uint64_t>(p * 4294967296.0 + 0.5);
}

// netem's correlation (get_crandom in sch_netem.c): the next value is a weighted mean of a fresh
// uniform draw and the previous value, with weight rho on the previous one. rho is the
// correlation scaled to 2^32; 0 means independent draws. The state is the previous value.
struct Correlation {
  uint64_t rho = 0;  // correlation * 2^32, in [0, 2^32]

  static Correlation FromFraction(double correlation) {
    return Correlation{ProbabilityThreshold(correlation)};
  }
  uint32_t Draw(Rng& rng, uint32_t* last) const {
    const uint64_t value = rng.Next32();
    if (rho == 0) return static_cast<uint32_t>(value);
    const uint64_t answer =
        (value * ((uint64_t{1} << 32) - rho) + static_cast<uint64_t>(*last) * rho) >> 32;
    *last = static_cast<uint32_t>(answer);
    return *last;
  }
};

// A correlated yes/no decision (loss, duplicate, reorder, corrupt): a two-state Markov chain whose
// stationary probability is exactly p and whose lag-1 correlation is exactly rho:
//   P(event | previous event) = p + rho (1 - p),   P(event | no event before) = p (1 - rho).
// netem feeds these decisions from get_crandom instead, whose averaged draws lose their spread,
// so the event rate falls far below p (2% with correlation 50% loses almost nothing): a
// parameter that does not mean what it says. netem's recursion is kept for delay jitter only.
struct CorrelatedChance {
  uint64_t after_event = 0;  // thresholds (see ProbabilityThreshold)
  uint64_t after_none = 0;

  static CorrelatedChance From(double p, double rho) {
    return CorrelatedChance{ProbabilityThreshold(p + rho * (1 - p)),
                            ProbabilityThreshold(p * (1 - rho))};
  }
  bool never() const { return after_event == 0 && after_none == 0; }
  // `previous` is the flow's memory: non-zero if the previous decision was yes.
  bool Draw(Rng& rng, uint32_t* previous) const {
    const bool event = rng.Next32() < (*previous ? after_event : after_none);
    *previous = event;
    return event;
  }
};

// -ln(x / 2^64) for x > 0, from a 2048-entry table with linear interpolation (absolute error
// below 1e-7). Used to draw geometric gaps (bit errors) without calling log() per packet.
double NegLogUniform(uint64_t x);

}  // namespace faultline
