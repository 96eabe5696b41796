// The configured delay CDF of `faultline report` (control/report/configured_cdf.h), checked
// against the distributions' closed forms. The tolerances come from the model: a table of N =
// 4096 equally likely entries (uniform: 4096 evenly spaced draws) steps by 1/N, and the report
// keeps at most 512 points, so a CDF read at a point is within 1/512 of the exact one; iproute2's
// normal table is itself a quantised normal (values rounded to sigma/8192), far finer than that.
#include "control/report/configured_cdf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace faultline {
namespace {

using Cdf = std::vector<std::pair<uint64_t, double>>;

// P[delay <= x] read off the points (the last point at or below x).
double At(const Cdf& cdf, uint64_t x) {
  double p = 0;
  for (const auto& [delay, probability] : cdf) {
    if (delay <= x) p = probability;
  }
  return p;
}

Cdf Must(uint64_t delay, uint64_t jitter, const std::string& distribution) {
  std::string error;
  const auto cdf = ConfiguredDelayCdf(delay, jitter, distribution, &error);
  EXPECT_TRUE(cdf.has_value()) << error;
  return cdf.value_or(Cdf{});
}

constexpr double kPointStep = 1.0 / 512;

TEST(ConfiguredCdf, UniformIsLinearOverMuPlusMinusSigma) {
  const Cdf cdf = Must(10'000'000, 2'000'000, "uniform");
  ASSERT_EQ(cdf.size(), 512u);
  EXPECT_GE(cdf.front().first, 8'000'000u);
  EXPECT_LT(cdf.back().first, 12'000'000u);
  EXPECT_DOUBLE_EQ(cdf.back().second, 1.0);
  for (uint64_t x = 8'500'000; x < 12'000'000; x += 500'000) {
    EXPECT_NEAR(At(cdf, x), (x - 8'000'000.0) / 4'000'000.0, kPointStep) << x;
  }
}

TEST(ConfiguredCdf, NormalFollowsPhi) {
  const Cdf cdf = Must(5'000'000, 1'000'000, "normal");
  const auto phi = [](double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); };
  for (double z : {-2.0, -1.0, 0.0, 0.5, 1.0, 2.0}) {
    const auto x = static_cast<uint64_t>(5'000'000 + z * 1'000'000);
    EXPECT_NEAR(At(cdf, x), phi(z), 2 * kPointStep) << z;
  }
}

TEST(ConfiguredCdf, NegativeDrawsCountAsZero) {
  // Uniform over [-4 ms, 6 ms): 40% of the draws clamp to 0.
  const Cdf cdf = Must(1'000'000, 5'000'000, "uniform");
  EXPECT_EQ(cdf.front().first, 0u);
  EXPECT_NEAR(At(cdf, 0), 0.4, kPointStep);
}

TEST(ConfiguredCdf, ParetoTablesAreMonotoneWithAHeavyRightTail) {
  for (const std::string kind : {"pareto", "paretonormal"}) {
    const Cdf cdf = Must(5'000'000, 1'000'000, kind);
    for (size_t i = 1; i < cdf.size(); ++i) {
      EXPECT_LE(cdf[i - 1].first, cdf[i].first);
      EXPECT_LT(cdf[i - 1].second, cdf[i].second);
    }
    // Zero-mean tables of sigma/8192 units: the mean of the draws is mu (within rounding), and a
    // right tail means the median sits below it.
    EXPECT_LT(cdf[cdf.size() / 2].first, 5'000'000u) << kind;
    EXPECT_GT(cdf.back().first, 7'000'000u) << kind;
  }
}

TEST(ConfiguredCdf, NoJitterIsAStep) {
  EXPECT_EQ(Must(3'000'000, 0, "normal"), (Cdf{{3'000'000, 1.0}}));
  EXPECT_EQ(Must(3'000'000, 500, "none"), (Cdf{{3'000'000, 1.0}}));
}

TEST(ConfiguredCdf, UnknownDistributionAndMissingTableAreErrors) {
  std::string error;
  EXPECT_FALSE(ConfiguredDelayCdf(1, 1, "lognormal", &error).has_value());
  EXPECT_NE(error.find("unknown delay distribution \"lognormal\""), std::string::npos) << error;
  EXPECT_FALSE(ConfiguredDelayCdf(1, 1, "table:/nonexistent.dist", &error).has_value());
  EXPECT_EQ(error.rfind("/nonexistent.dist: cannot read", 0), 0u) << error;
}

}  // namespace
}  // namespace faultline
