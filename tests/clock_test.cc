#include "dataplane/fastpath/clock.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

TEST(TimeBaseTest, NanosecondBaseIsExact) {
  const TimeBase base = TimeBase::Nanoseconds();
  EXPECT_EQ(base.wheel_tick_shift, 0u);
  EXPECT_EQ(base.FromNs(5'000'000), 5'000'000u);
  EXPECT_EQ(base.ToNs(123), 123u);
}

TEST(TimeBaseTest, TscTickIsTheLongestPowerOfTwoUnderTheBound) {
  // 2.6 GHz: 128 cycles = 49.2 ns <= 64 ns < 256 cycles = 98.5 ns.
  const TimeBase base = TimeBase::ForHz(2'600'000'000);
  EXPECT_EQ(base.wheel_tick_shift, 7u);
  EXPECT_LT(base.TickNs(), 64.0);
  EXPECT_NEAR(base.TickNs(), 49.23, 0.01);
  EXPECT_EQ(TimeBase::ForHz(1'000'000'000).wheel_tick_shift, 6u);
}

TEST(TimeBaseTest, ConversionsRoundToNearestAndDoNotOverflow) {
  const TimeBase base = TimeBase::ForHz(2'600'000'000);
  EXPECT_EQ(base.FromNs(1'000'000), 2'600'000u);
  EXPECT_EQ(base.FromNs(1), 3u);  // 2.6 cycles
  const uint64_t thirty_days_ns = 30ull * 86'400 * 1'000'000'000;
  EXPECT_EQ(base.ToNs(base.FromNs(thirty_days_ns)), thirty_days_ns);
}

TEST(VirtualClockTest, NeverMovesBackwards) {
  VirtualClock clock(100);
  EXPECT_TRUE(clock.AdvanceTo(150));
  EXPECT_FALSE(clock.AdvanceTo(120));
  EXPECT_EQ(clock.Now(), 150u);
  EXPECT_TRUE(clock.AdvanceTo(150));
}

}  // namespace
}  // namespace faultline
