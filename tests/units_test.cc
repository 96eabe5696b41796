#include "control/units.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

uint64_t Ns(const std::string& text) {
  std::string error;
  const auto ns = ParseDuration(text, &error);
  EXPECT_TRUE(ns.has_value()) << text << ": " << error;
  return ns.value_or(0);
}

std::string Error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseDuration(text, &error).has_value()) << text;
  return error;
}

TEST(ParseDurationTest, EveryUnitOfTheContract) {
  EXPECT_EQ(Ns("250ns"), 250u);
  EXPECT_EQ(Ns("3us"), 3'000u);
  EXPECT_EQ(Ns("1.5ms"), 1'500'000u);
  EXPECT_EQ(Ns("2s"), 2'000'000'000u);
  EXPECT_EQ(Ns("1m"), 60'000'000'000u);
  EXPECT_EQ(Ns("1h"), 3'600'000'000'000u);
  EXPECT_EQ(Ns("30d"), 2'592'000'000'000'000u);
  EXPECT_EQ(Ns("0ns"), 0u);
  EXPECT_EQ(Ns("0.000001ms"), 1u);
}

TEST(ParseDurationTest, RejectsWhatCouldBeMisread) {
  EXPECT_NE(Error("5").find("needs a unit"), std::string::npos);
  EXPECT_NE(Error("5 ms").find("unknown unit"), std::string::npos);
  EXPECT_NE(Error("5sec").find("unknown unit"), std::string::npos);
  EXPECT_NE(Error("-5ms").find("not a duration"), std::string::npos);
  EXPECT_NE(Error("ms").find("not a duration"), std::string::npos);
  EXPECT_NE(Error("1.5ns").find("finer than a nanosecond"), std::string::npos);
  EXPECT_NE(Error("99999999999999999999d").find("too long"), std::string::npos);
}

TEST(FormatDurationTest, ShortestExactSpellingRoundTrips) {
  EXPECT_EQ(FormatDuration(5'000'000), "5ms");
  EXPECT_EQ(FormatDuration(1'500'000), "1500us");
  EXPECT_EQ(FormatDuration(0), "0ns");
  EXPECT_EQ(FormatDuration(61), "61ns");
  for (uint64_t ns : {1ull, 999ull, 60'000'000'000ull, 86'400'000'000'001ull}) {
    EXPECT_EQ(Ns(FormatDuration(ns)), ns);
  }
}

}  // namespace
}  // namespace faultline
