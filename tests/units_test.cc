#include "control/base/units.h"

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
  EXPECT_NE(Error("9999999999999999999999999ns").find("too long"), std::string::npos);
  EXPECT_NE(Error("1.00000000000000000000001s").find("finer than a nanosecond"), std::string::npos);
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

double Probability(const std::string& text) {
  std::string error;
  const auto probability = ParseProbability(text, &error);
  EXPECT_TRUE(probability.has_value()) << text << ": " << error;
  return probability.value_or(-1);
}

std::string ProbabilityError(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseProbability(text, &error).has_value()) << text;
  return error;
}

TEST(ParseProbabilityTest, PercentagesAndFractions) {
  EXPECT_DOUBLE_EQ(Probability("1%"), 0.01);
  EXPECT_DOUBLE_EQ(Probability("0.25%"), 0.0025);
  EXPECT_DOUBLE_EQ(Probability("100%"), 1.0);
  EXPECT_DOUBLE_EQ(Probability("0%"), 0.0);
  EXPECT_DOUBLE_EQ(Probability("0.01"), 0.01);
  EXPECT_DOUBLE_EQ(Probability("1"), 1.0);
  EXPECT_DOUBLE_EQ(Probability("0"), 0.0);
  EXPECT_DOUBLE_EQ(Probability("1e-6"), 1e-6);
  EXPECT_DOUBLE_EQ(Probability(".5"), 0.5);
}

TEST(ParseProbabilityTest, RejectsOutOfRangeAndMalformed) {
  EXPECT_NE(ProbabilityError("150%").find("outside [0, 1]"), std::string::npos);
  EXPECT_NE(ProbabilityError("1.01").find("outside [0, 1]"), std::string::npos);
  EXPECT_NE(ProbabilityError("-1%").find("outside [0, 1]"), std::string::npos);
  EXPECT_NE(ProbabilityError("50").find("did you mean 50%?"), std::string::npos);
  EXPECT_EQ(ProbabilityError("500").find("did you mean"), std::string::npos);
  for (const char* text : {"", "%", "abc", "1 %", " 1%", "+1%", "1%%", "inf", "nan", "0x1"}) {
    EXPECT_NE(ProbabilityError(text).find("is not a probability"), std::string::npos) << text;
  }
}

uint64_t Bps(const std::string& text) {
  std::string error;
  const auto bps = ParseRate(text, &error);
  EXPECT_TRUE(bps.has_value()) << text << ": " << error;
  return bps.value_or(0);
}

std::string RateError(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseRate(text, &error).has_value()) << text;
  return error;
}

TEST(ParseRateTest, TcBitUnits) {
  EXPECT_EQ(Bps("800bit"), 800u);
  EXPECT_EQ(Bps("64kbit"), 64'000u);
  EXPECT_EQ(Bps("100mbit"), 100'000'000u);
  EXPECT_EQ(Bps("1.5gbit"), 1'500'000'000u);
  EXPECT_EQ(Bps("2tbit"), 2'000'000'000'000u);
  EXPECT_EQ(Bps("10Mbit"), 10'000'000u);  // tc's units are case-insensitive, and so are ours
  EXPECT_EQ(Bps("0bit"), 0u);
}

TEST(ParseRateTest, RejectsBareNumbersAndByteUnits) {
  EXPECT_NE(RateError("1000000").find("needs a unit"), std::string::npos);
  const std::string mbps = RateError("10mbps");
  EXPECT_NE(mbps.find("bits per second"), std::string::npos) << mbps;
  EXPECT_NE(mbps.find("10mbps is 80mbit"), std::string::npos) << mbps;
  EXPECT_NE(RateError("1kbps").find("1kbps is 8kbit"), std::string::npos);
  EXPECT_NE(RateError("5MBPS").find("bytes"), std::string::npos);
  EXPECT_NE(RateError("10mb").find("unknown unit 'mb'"), std::string::npos);
  EXPECT_NE(RateError("10 mbit").find("unknown unit"), std::string::npos);
  EXPECT_NE(RateError("kbit").find("not a rate"), std::string::npos);
  EXPECT_NE(RateError("-1mbit").find("not a rate"), std::string::npos);
  EXPECT_NE(RateError("1.5bit").find("not a whole number"), std::string::npos);
  EXPECT_NE(RateError("20000000tbit").find("too large"), std::string::npos);
}

TEST(FormatRateTest, ShortestExactSpellingRoundTrips) {
  EXPECT_EQ(FormatRate(100'000'000), "100mbit");
  EXPECT_EQ(FormatRate(1'500'000'000), "1500mbit");
  EXPECT_EQ(FormatRate(0), "0bit");
  for (uint64_t bps : {1ull, 999ull, 1'000'000'000'000ull, 123'456'789ull}) {
    EXPECT_EQ(Bps(FormatRate(bps)), bps);
  }
}

Size SizeOf(const std::string& text) {
  std::string error;
  const auto size = ParseSize(text, &error);
  EXPECT_TRUE(size.has_value()) << text << ": " << error;
  return size.value_or(Size{});
}

std::string SizeError(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseSize(text, &error).has_value()) << text;
  return error;
}

TEST(ParseSizeTest, BytesInBothPowersAndPackets) {
  EXPECT_EQ(SizeOf("1500B").value, 1500u);
  EXPECT_FALSE(SizeOf("1500B").packets);
  EXPECT_EQ(SizeOf("2KB").value, 2'000u);
  EXPECT_EQ(SizeOf("1.5MB").value, 1'500'000u);
  EXPECT_EQ(SizeOf("1GB").value, 1'000'000'000u);
  EXPECT_EQ(SizeOf("64KiB").value, 65'536u);
  EXPECT_EQ(SizeOf("1MiB").value, 1'048'576u);
  EXPECT_EQ(SizeOf("2GiB").value, 2'147'483'648u);
  EXPECT_EQ(SizeOf("1000pkt").value, 1000u);
  EXPECT_TRUE(SizeOf("1000pkt").packets);
  EXPECT_EQ(SizeOf("0B").value, 0u);
}

TEST(ParseSizeTest, RejectsBareNumbersAndUnknownUnits) {
  EXPECT_NE(SizeError("1500").find("needs a unit"), std::string::npos);
  EXPECT_NE(SizeError("10kb").find("unknown unit 'kb'"), std::string::npos);
  EXPECT_NE(SizeError("10pkts").find("unknown unit 'pkts'"), std::string::npos);
  EXPECT_NE(SizeError("10 B").find("unknown unit"), std::string::npos);
  EXPECT_NE(SizeError("B").find("not a size"), std::string::npos);
  EXPECT_NE(SizeError("-1B").find("not a size"), std::string::npos);
  EXPECT_NE(SizeError("1.5pkt").find("not a whole number of packets"), std::string::npos);
  EXPECT_NE(SizeError("1.5B").find("not a whole number of bytes"), std::string::npos);
  EXPECT_NE(SizeError("100000000000GiB").find("too large"), std::string::npos);
}

TEST(FormatSizeTest, ShortestExactSpellingRoundTrips) {
  EXPECT_EQ(FormatSize({.value = 1000, .packets = true}), "1000pkt");
  EXPECT_EQ(FormatSize({.value = 65'536, .packets = false}), "64KiB");
  EXPECT_EQ(FormatSize({.value = 1500, .packets = false}), "1500B");
  EXPECT_EQ(FormatSize({.value = 0, .packets = false}), "0B");
  for (uint64_t bytes : {1ull, 1000ull, 1024ull, 2'048'000ull, 1'000'000'007ull}) {
    const Size size = SizeOf(FormatSize({.value = bytes, .packets = false}));
    EXPECT_EQ(size.value, bytes);
    EXPECT_FALSE(size.packets);
  }
}

// RFC 3339 times (trace start --at) as nanoseconds since 1970 in a signed 64-bit number: a
// year far ahead overflowed it.
TEST(ParseRfc3339Test, TimesAndTheirRange) {
  std::string error;
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z", &error), 0);
  EXPECT_EQ(ParseRfc3339("2026-11-22T10:00:00.25+01:00", &error),
            int64_t{1'795'338'000} * 1'000'000'000 + 250'000'000);
  EXPECT_EQ(ParseRfc3339("2262-04-11T23:47:15Z", &error), int64_t{9'223'372'035} * 1'000'000'000);
  for (const char* outside : {"2262-04-11T23:47:16Z", "9999-12-31T23:59:59Z",
                              "1969-12-31T23:59:59Z", "-999-01-01T00:00:00Z"}) {
    EXPECT_FALSE(ParseRfc3339(outside, &error).has_value()) << outside;
  }
  EXPECT_EQ(error, "'-999-01-01T00:00:00Z' is outside 1970 to 2262, the times faultline handles");
  ParseRfc3339("9999-12-31T23:59:59Z", &error);
  EXPECT_EQ(error, "'9999-12-31T23:59:59Z' is outside 1970 to 2262, the times faultline handles");
}

}  // namespace
}  // namespace faultline
