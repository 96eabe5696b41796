#include "dataplane/models/delay_distribution.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

namespace faultline {
namespace {

// Installed by iproute2 (scripts/setup.sh). Missing files fail the test: a skip would hide that
// the generators are no longer checked against the tables tc actually uses.
const char kDebianTcDir[] = "/usr/lib/x86_64-linux-gnu/tc/";

std::vector<int16_t> LoadDebianTable(const std::string& name) {
  std::string error;
  const std::optional<std::vector<int16_t>> table =
      LoadDistributionTable(kDebianTcDir + name + ".dist", &error);
  EXPECT_TRUE(table.has_value()) << error << " (install iproute2: scripts/setup.sh)";
  return table.value_or(std::vector<int16_t>{});
}

void ExpectSameTable(DistributionKind kind, const std::string& name) {
  const std::vector<int16_t> expected = LoadDebianTable(name);
  ASSERT_EQ(expected.size(), 4096u) << name;
  const std::vector<int16_t> generated = GenerateDistributionTable(kind);
  ASSERT_EQ(generated.size(), expected.size()) << name;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ(generated[i], expected[i]) << name << ".dist entry " << i;
  }
}

TEST(GenerateDistributionTableTest, NormalMatchesIproute2) {
  ExpectSameTable(DistributionKind::kNormal, "normal");
}

TEST(GenerateDistributionTableTest, ParetoMatchesIproute2) {
  ExpectSameTable(DistributionKind::kPareto, "pareto");
}

TEST(GenerateDistributionTableTest, ParetoNormalMatchesIproute2) {
  ExpectSameTable(DistributionKind::kParetoNormal, "paretonormal");
}

TEST(GenerateDistributionTableTest, KindsWithoutAGeneratorGiveNoTable) {
  EXPECT_TRUE(GenerateDistributionTable(DistributionKind::kUniform).empty());
  EXPECT_TRUE(GenerateDistributionTable(DistributionKind::kTable).empty());
}

// Each test gets its own directory, so that parallel runs do not share file names.
class LoadDistributionTableTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "delay_distribution_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string Write(const std::string& contents) {
    const std::string path = (dir_ / "table.dist").string();
    std::ofstream(path, std::ios::binary) << contents;
    return path;
  }

  // The error for a file holding `contents`, with the path replaced by "PATH".
  std::string ErrorFor(const std::string& contents) {
    const std::string path = Write(contents);
    std::string error;
    const std::optional<std::vector<int16_t>> table = LoadDistributionTable(path, &error);
    EXPECT_FALSE(table.has_value());
    if (error.compare(0, path.size(), path) != 0) return "unexpected path: " + error;
    return "PATH" + error.substr(path.size());
  }

  std::filesystem::path dir_;
};

TEST_F(LoadDistributionTableTest, ReadsValuesCommentsAndAnyWhitespace) {
  std::string error;
  const std::optional<std::vector<int16_t>> table = LoadDistributionTable(
      Write("# header\n 1 -2\t+3 # 99 is commented out\n\n32767 -32768\r\n4#5\n0"), &error);
  ASSERT_TRUE(table.has_value()) << error;
  EXPECT_EQ(*table, (std::vector<int16_t>{1, -2, 3, 32767, -32768, 4, 0}));
}

TEST_F(LoadDistributionTableTest, AcceptsExactly65536Values) {
  std::string contents;
  for (int i = 0; i < 65536; ++i) contents += std::to_string(i % 100 - 50) + (i % 8 ? " " : "\n");
  std::string error;
  const std::optional<std::vector<int16_t>> table = LoadDistributionTable(Write(contents), &error);
  ASSERT_TRUE(table.has_value()) << error;
  EXPECT_EQ(table->size(), 65536u);
}

TEST_F(LoadDistributionTableTest, PointsAtTheTokenThatIsNotAnInteger) {
  EXPECT_EQ(ErrorFor("1 2\n 3 x4 5\n"), "PATH:2:4: not an integer: \"x4\"");
  EXPECT_EQ(ErrorFor("12abc"), "PATH:1:1: not an integer: \"12abc\"");
  EXPECT_EQ(ErrorFor("# c\n\t- 1"), "PATH:2:2: not an integer: \"-\"");
  EXPECT_EQ(ErrorFor("1.5"), "PATH:1:1: not an integer: \"1.5\"");
  EXPECT_EQ(ErrorFor("0x10"), "PATH:1:1: not an integer: \"0x10\"");
}

TEST_F(LoadDistributionTableTest, PointsAtTheValueOutOfRange) {
  EXPECT_EQ(ErrorFor("1\n  -32769\n"), "PATH:2:3: value -32769 is out of range [-32768, 32767]");
  EXPECT_EQ(ErrorFor("32768"), "PATH:1:1: value 32768 is out of range [-32768, 32767]");
  // Long enough to overflow 64 bits if it were parsed naively.
  EXPECT_EQ(ErrorFor("0 99999999999999999999999"),
            "PATH:1:3: value 99999999999999999999999 is out of range [-32768, 32767]");
}

TEST_F(LoadDistributionTableTest, EmptyTablePointsAtTheEndOfTheFile) {
  EXPECT_EQ(ErrorFor(""), "PATH:1:1: empty table: no values");
  EXPECT_EQ(ErrorFor("# only\n# comments\n"), "PATH:3:1: empty table: no values");
  EXPECT_EQ(ErrorFor("  \n  "), "PATH:2:3: empty table: no values");
}

TEST_F(LoadDistributionTableTest, PointsAtThe65537thValue) {
  std::string contents;
  for (int i = 0; i < 65536; ++i) contents += "7\n";
  contents += "  1 2";  // "1" is the 65537th
  EXPECT_EQ(ErrorFor(contents), "PATH:65537:3: more than 65536 values");
}

TEST_F(LoadDistributionTableTest, ReportsFilesThatCannotBeRead) {
  std::string error;
  const std::string missing = (dir_ / "missing.dist").string();
  EXPECT_FALSE(LoadDistributionTable(missing, &error).has_value());
  EXPECT_EQ(error, missing + ": cannot read: No such file or directory");

  EXPECT_FALSE(LoadDistributionTable(dir_.string(), &error).has_value());
  EXPECT_EQ(error, dir_.string() + ": cannot read: it is a directory");
}

TEST(TableDistributionTest, ZeroSigmaIsMu) {
  const int16_t table[] = {8192};
  EXPECT_EQ(TableDistribution(1000, 0, 12345, nullptr, 0), 1000);
  EXPECT_EQ(TableDistribution(1000, 0, 12345, table, 1), 1000);
}

TEST(TableDistributionTest, UniformStaysInMuPlusMinusSigma) {
  const int64_t mu = 5'000'000;
  const int64_t sigma = 1'000'000;
  EXPECT_EQ(TableDistribution(mu, sigma, 0, nullptr, 0), mu - sigma);
  EXPECT_EQ(TableDistribution(mu, sigma, UINT32_MAX, nullptr, 0), mu + sigma - 1);
  EXPECT_EQ(TableDistribution(mu, sigma, 1u << 31, nullptr, 0), mu);
  // An empty table is the uniform draw too.
  const int16_t table[] = {8192};
  EXPECT_EQ(TableDistribution(mu, sigma, 0, table, 0), mu - sigma);

  // sigma = 1: the two outcomes mu - 1 and mu, each for half of the draws.
  EXPECT_EQ(TableDistribution(mu, 1, (1u << 31) - 1, nullptr, 0), mu - 1);
  EXPECT_EQ(TableDistribution(mu, 1, 1u << 31, nullptr, 0), mu);

  // Far beyond 32 bits the draw still covers [mu - sigma, mu + sigma), at a step of
  // 2 sigma / 2^32 = 512 ns for sigma = 2^40.
  const int64_t big = int64_t{1} << 40;
  EXPECT_EQ(TableDistribution(0, big, 0, nullptr, 0), -big);
  EXPECT_EQ(TableDistribution(0, big, 1, nullptr, 0), -big + 512);
  EXPECT_EQ(TableDistribution(0, big, 1u << 31, nullptr, 0), 0);
  EXPECT_EQ(TableDistribution(0, big, UINT32_MAX, nullptr, 0), big - 512);
}

TEST(TableDistributionTest, TableValuesScaleBySigma) {
  const int16_t table[] = {8192, -8192, 4096, -4096, 1, -32768};
  for (const int64_t sigma : {int64_t{1}, int64_t{3}, int64_t{8191}, int64_t{1'000'000},
                              int64_t{123'456'789'123}, int64_t{1} << 40}) {
    // A table value of 8192 is one sigma, exactly, whatever the remainder sigma % 8192.
    EXPECT_EQ(TableDistribution(100, sigma, 0, table, 6), 100 + sigma) << sigma;
    EXPECT_EQ(TableDistribution(100, sigma, 1, table, 6), 100 - sigma) << sigma;
    // rnd indexes the table modulo its size.
    EXPECT_EQ(TableDistribution(100, sigma, 6, table, 6), 100 + sigma) << sigma;
    EXPECT_EQ(TableDistribution(100, sigma, 5, table, 6), 100 - 4 * sigma) << sigma;
  }
  EXPECT_EQ(TableDistribution(0, int64_t{1} << 40, 4, table, 6), int64_t{1} << 27);
}

// The kernel picks table[rnd % size]; a power-of-two size takes a mask instead of the division,
// and must pick the same entry. With t[i] = i and sigma = 8192 (one table unit per unit) the
// result is the index itself.
TEST(TableDistributionTest, PicksEntryRndModuloSizeForAnySize) {
  for (uint32_t size : {4096u, 4095u, 1u, 65536u, 3000u}) {
    std::vector<int16_t> table(size);
    for (uint32_t i = 0; i < size; ++i) table[i] = static_cast<int16_t>(i % 32768);
    for (uint32_t rnd : {0u, 1u, 4095u, 4096u, 123456789u, 0xFFFFFFFFu, 0x80000001u}) {
      EXPECT_EQ(TableDistribution(0, 8192, rnd, table.data(), size), (rnd % size) % 32768)
          << "size " << size << " rnd " << rnd;
    }
  }
}

TEST(TableDistributionTest, RoundsHalfAwayFromZeroSymmetrically) {
  const int16_t table[] = {4096, -4096, 4095, -4095, 12288, -12288};
  // sigma 1: 0.5 rounds to +-1, 0.4999 to 0.
  EXPECT_EQ(TableDistribution(10, 1, 0, table, 6), 11);
  EXPECT_EQ(TableDistribution(10, 1, 1, table, 6), 9);
  EXPECT_EQ(TableDistribution(10, 1, 2, table, 6), 10);
  EXPECT_EQ(TableDistribution(10, 1, 3, table, 6), 10);
  // sigma 3: 1.5 sigma-units -> +-4.5 -> +-5.
  EXPECT_EQ(TableDistribution(10, 3, 4, table, 6), 15);
  EXPECT_EQ(TableDistribution(10, 3, 5, table, 6), 5);
  // Below zero overall (callers clamp).
  EXPECT_EQ(TableDistribution(0, 3, 5, table, 6), -5);
}

// normal.dist holds the 4096 quantiles of N(0, 1) at k / 4096, k = 0..4095, in units of
// sigma / 8192, with the tails beyond about +-4 sigma clipped (entry 0 is -32768: -4 sigma;
// the largest is 28858, 3.52 sigma, as k / 4096 never reaches 1). Applying it once per entry
// is the distribution netem draws from, so its mean must be mu (here 0) and its standard
// deviation sigma, up to the discretisation and the clipping: the lone -4 sigma entry without
// a positive twin pulls the mean down by about 4 sigma / 4096 = 0.1%, and the quantile grid
// loses well under 1% of the variance.
TEST(TableDistributionTest, NormalTableHasMeanZeroAndDeviationSigma) {
  const std::vector<int16_t> table = GenerateDistributionTable(DistributionKind::kNormal);
  ASSERT_EQ(table.size(), 4096u);
  const int64_t sigma = 1'000'000;
  double sum = 0, sum_squares = 0;
  for (uint32_t i = 0; i < table.size(); ++i) {
    const double value =
        static_cast<double>(TableDistribution(0, sigma, i, table.data(), table.size()));
    sum += value;
    sum_squares += value * value;
  }
  const double n = static_cast<double>(table.size());
  const double mean = sum / n;
  const double deviation = std::sqrt(sum_squares / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.01 * sigma);
  EXPECT_NEAR(deviation, static_cast<double>(sigma), 0.02 * sigma);
}

}  // namespace
}  // namespace faultline
