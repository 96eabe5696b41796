// The clock offset of a box against the caller (control/fleet/clock_offset.h).
#include "control/fleet/clock_offset.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace faultline {
namespace {

constexpr int64_t kNow = 1'796'126'400'000'000'000;  // 2026-12-01T12:00:00Z

TEST(ClockOffset, IsBoxMinusTheMidpointWithTheRoundTripAsError) {
  // Sent at now, answered 200us later; the box said now + 100us + 30us: offset +30us.
  const auto offset =
      OffsetOf({.send_ns = kNow, .box_ns = kNow + 130'000, .recv_ns = kNow + 200'000});
  ASSERT_TRUE(offset);
  EXPECT_EQ(offset->offset_ns, 30'000);
  EXPECT_EQ(offset->round_trip_ns, 200'000);
  const auto behind = OffsetOf({.send_ns = kNow, .box_ns = kNow - 2'000'000, .recv_ns = kNow + 10});
  EXPECT_EQ(behind->offset_ns, -2'000'005);
  EXPECT_FALSE(OffsetOf({.send_ns = kNow, .box_ns = kNow, .recv_ns = kNow - 1}));
}

TEST(ClockOffset, BestSampleIsTheShortestRoundTrip) {
  const std::vector<ClockSample> samples = {
      {.send_ns = kNow, .box_ns = kNow + 900'000, .recv_ns = kNow + 1'000'000},
      {.send_ns = kNow, .box_ns = kNow + 50'000, .recv_ns = kNow + 80'000},
      {.send_ns = kNow, .box_ns = kNow, .recv_ns = kNow - 5},
      {.send_ns = kNow, .box_ns = kNow + 300'000, .recv_ns = kNow + 400'000}};
  const auto best = BestOffset(samples);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->round_trip_ns, 80'000);
  EXPECT_EQ(best->offset_ns, 10'000);
  EXPECT_FALSE(BestOffset(std::vector<ClockSample>{}));
}

TEST(ClockOffset, CheckRefusesBeyondTheBound) {
  EXPECT_EQ(CheckOffset({.offset_ns = 1'000'000, .round_trip_ns = 10}, 1'000'000), "");
  EXPECT_EQ(CheckOffset({.offset_ns = -1'000'000, .round_trip_ns = 10}, 1'000'000), "");
  EXPECT_EQ(CheckOffset({.offset_ns = -1'500'000, .round_trip_ns = 240'000}, 1'000'000),
            "clock offset -1.500ms (+-0.120ms) is beyond --max-offset 1ms");
  EXPECT_EQ(FormatOffset(INT64_MIN).substr(0, 1), "-");
  EXPECT_EQ(FormatOffset(0), "+0.000ms");
  EXPECT_EQ(FormatOffset(-12'400), "-0.012ms");
}

}  // namespace
}  // namespace faultline
