// The fast path's randomness: seeded generator streams, bounded draws, 33-bit probability
// thresholds, netem's correlation and the table logarithm.
#include "dataplane/fastpath/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

namespace faultline {
namespace {

std::vector<uint64_t> Draws(uint64_t seed, uint64_t stream, int count) {
  Rng rng(seed, stream);
  std::vector<uint64_t> draws;
  for (int i = 0; i < count; ++i) draws.push_back(rng.Next());
  return draws;
}

TEST(RngTest, SameSeedAndStreamGiveTheSameSequence) {
  EXPECT_EQ(Draws(42, 0, 1000), Draws(42, 0, 1000));
  EXPECT_EQ(Draws(42, 3, 1000), Draws(42, 3, 1000));
  EXPECT_EQ(Draws(0, 0, 1000), Draws(0, 0, 1000));
}

TEST(RngTest, StreamsAndSeedsDiffer) {
  const std::vector<uint64_t> base = Draws(42, 0, 64);
  // Small seeds and streams are what users and workers use: none may collide.
  std::set<std::vector<uint64_t>> seen = {base};
  for (uint64_t stream = 1; stream < 8; ++stream) {
    EXPECT_TRUE(seen.insert(Draws(42, stream, 64)).second) << "stream " << stream;
  }
  for (uint64_t seed : {0, 1, 2, 43}) {
    EXPECT_TRUE(seen.insert(Draws(seed, 0, 64)).second) << "seed " << seed;
  }
  // Not merely shifted copies: streams 0 and 1 share no value in their first 1000 draws.
  const std::vector<uint64_t> a = Draws(42, 0, 1000), b = Draws(42, 1, 1000);
  const std::set<uint64_t> a_values(a.begin(), a.end());
  for (uint64_t value : b) EXPECT_EQ(a_values.count(value), 0u);
}

TEST(RngTest, Next32IsTheHighHalf) {
  Rng a(7, 1), b(7, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next32(), static_cast<uint32_t>(b.Next() >> 32));
}

TEST(RngTest, BelowStaysInRange) {
  Rng rng(1);
  for (uint32_t bound : {1u, 2u, 3u, 7u, 1000u, 65537u, 0x80000000u, 0xFFFFFFFFu}) {
    for (int i = 0; i < 20000; ++i) {
      const uint32_t value = rng.Below(bound);
      ASSERT_LT(value, bound) << "bound " << bound;
    }
  }
  // Every value of a small range comes up, roughly equally (20000 draws per value expected;
  // 5 sigma is about 700).
  std::vector<int> histogram(5, 0);
  for (int i = 0; i < 100000; ++i) ++histogram[rng.Below(5)];
  for (int count : histogram) EXPECT_NEAR(count, 20000, 700);
}

TEST(ProbabilityThresholdTest, EdgeCases) {
  EXPECT_EQ(ProbabilityThreshold(0.0), 0u);
  EXPECT_EQ(ProbabilityThreshold(-0.5), 0u);
  EXPECT_EQ(ProbabilityThreshold(1.0), uint64_t{1} << 32);
  EXPECT_EQ(ProbabilityThreshold(1.5), uint64_t{1} << 32);
  EXPECT_EQ(ProbabilityThreshold(0.5), uint64_t{1} << 31);
  EXPECT_EQ(ProbabilityThreshold(0.25), uint64_t{1} << 30);
  // Rounded to the nearest 2^-32: 1% is 42949672.96 -> 42949673.
  EXPECT_EQ(ProbabilityThreshold(0.01), 42949673u);
  // 100% must win against every 32-bit draw, 0% against none.
  EXPECT_TRUE(uint64_t{0xFFFFFFFFu} < ProbabilityThreshold(1.0));
  EXPECT_FALSE(uint64_t{0} < ProbabilityThreshold(0.0));
}

TEST(CorrelationTest, ZeroPassesDrawsThroughAndKeepsNoMemory) {
  const Correlation none = Correlation::FromFraction(0);
  EXPECT_EQ(none.rho, 0u);
  Rng rng(5), twin(5);
  uint32_t last = 12345;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(none.Draw(rng, &last), twin.Next32());
    ASSERT_EQ(last, 12345u);
  }
}

TEST(CorrelationTest, FullCorrelationRepeatsTheLastValue) {
  const Correlation full = Correlation::FromFraction(1.0);
  EXPECT_EQ(full.rho, uint64_t{1} << 32);
  Rng rng(5);
  uint32_t last = 0xDEADBEEF;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(full.Draw(rng, &last), 0xDEADBEEFu);
  EXPECT_EQ(last, 0xDEADBEEFu);
}

TEST(CorrelationTest, HalfCorrelationIsTheMeanOfFreshAndLast) {
  const Correlation half = Correlation::FromFraction(0.5);
  Rng rng(9), twin(9);
  uint32_t last = 1000;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t fresh = twin.Next32();
    const uint32_t expected = static_cast<uint32_t>((fresh + last) / 2);
    ASSERT_EQ(half.Draw(rng, &last), expected);
    ASSERT_EQ(last, expected);
  }
}

// -ln(x / 2^64) in long double as the reference.
double ReferenceNegLog(uint64_t x) {
  return static_cast<double>(-(std::log(static_cast<long double>(x)) - 64 * std::log(2.0L)));
}

TEST(NegLogUniformTest, MatchesLogEverywhere) {
  constexpr double kTolerance = 1e-6;  // the table claims 1e-7
  // Edges: the smallest and largest draws, powers of two and their neighbours.
  EXPECT_NEAR(NegLogUniform(0), 64 * std::log(2.0), kTolerance) << "0 stands for 1";
  EXPECT_NEAR(NegLogUniform(UINT64_MAX), 0.0, kTolerance);
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t power = uint64_t{1} << bit;
    EXPECT_NEAR(NegLogUniform(power), (64 - bit) * std::log(2.0), kTolerance) << bit;
    if (bit > 1) {
      EXPECT_NEAR(NegLogUniform(power - 1), ReferenceNegLog(power - 1), kTolerance) << bit;
      EXPECT_NEAR(NegLogUniform(power + 1), ReferenceNegLog(power + 1), kTolerance) << bit;
    }
  }
  // Uniform draws (the way the corruptor uses it), and draws spread over every exponent.
  Rng rng(2024);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    uint64_t x = rng.Next();
    if (i % 2) x >>= rng.Below(64);
    if (x == 0) continue;
    worst = std::max(worst, std::fabs(NegLogUniform(x) - ReferenceNegLog(x)));
  }
  EXPECT_LT(worst, kTolerance);
}

}  // namespace
}  // namespace faultline
