// Durations for people: exact when short, rounded when the exact spelling is a wall of digits.
#include "dataplane/config/duration_text.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

constexpr uint64_t kUs = 1'000, kMs = 1'000'000, kS = 1'000'000'000;

TEST(FormatHumanDuration, ShortExactSpellingsStayExact) {
  EXPECT_EQ(FormatHumanDuration(0), "0s");
  EXPECT_EQ(FormatHumanDuration(250), "250ns");
  EXPECT_EQ(FormatHumanDuration(999 * kUs), "999us");
  EXPECT_EQ(FormatHumanDuration(800 * kMs), "800ms");
  EXPECT_EQ(FormatHumanDuration(59 * kS), "59s");
  EXPECT_EQ(FormatHumanDuration(90 * 60 * kS), "90m");
  EXPECT_EQ(FormatHumanDuration(30ull * 86400 * kS), "30d");
  EXPECT_EQ(FormatHumanDuration(9999 * kMs), "9.999s");
  EXPECT_EQ(FormatHumanDuration(1500 * kUs), "1.5ms");
  EXPECT_EQ(FormatHumanDuration(4500 * kMs), "4.5s");
}

TEST(FormatHumanDuration, LongOnesAreRoundedToMinutesAndCentiseconds) {
  // The example: a link down for 2924170407us.
  EXPECT_EQ(FormatHumanDuration(2'924'170'407 * kUs), "48m44.17s");
  EXPECT_EQ(FormatHumanDuration(3600 * kS + 5 * kS + 1), "1h0m5s");
  EXPECT_EQ(FormatHumanDuration(86400 * kS + 2 * 3600 * kS + 7 * kMs), "1d2h0m0.01s");
  EXPECT_EQ(FormatHumanDuration(61 * kS + 999 * kMs + 999 * kUs), "1m2s");
}

TEST(FormatHumanDuration, BelowAMinuteFourDigitsOfTheLargestUnit) {
  EXPECT_EQ(FormatHumanDuration(2'924'170'407), "2.924s");
  EXPECT_EQ(FormatHumanDuration(12'345'678), "12.35ms");
  EXPECT_EQ(FormatHumanDuration(12'300'001), "12.3ms");
  EXPECT_EQ(FormatHumanDuration(123'456'789), "123.5ms");
  EXPECT_EQ(FormatHumanDuration(1'234'567), "1.235ms");
  EXPECT_EQ(FormatHumanDuration(12'346), "12.35us");
}

}  // namespace
}  // namespace faultline
