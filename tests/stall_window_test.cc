// Stall windows: placement from the epoch, repetition, release times, per-window hold limits.
#include "dataplane/models/stall_window.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace faultline {
namespace {

constexpr uint64_t kEpoch = 1'000'000;

TEST(StallWindowTest, SingleWindowFromStart) {
  const CompiledStall stall{.start = 100, .duration = 50};
  StallState state;
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch), 0u) << "before the window";
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 99), 0u);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 100), kEpoch + 150) << "start is inside";
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 149), kEpoch + 150);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 150), 0u) << "end is outside";
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 100'000), 0u) << "no repetition";
}

TEST(StallWindowTest, WindowAtTheEpochWhenStartIsZero) {
  const CompiledStall stall{.start = 0, .duration = 10};
  StallState state;
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch), kEpoch + 10);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 10), 0u);
}

TEST(StallWindowTest, RepeatingWindows) {
  // [100, 150), [300, 350), [500, 550), ... after the epoch.
  const CompiledStall stall{.start = 100, .duration = 50, .every = 200};
  StallState state;
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 50), 0u);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 120), kEpoch + 150);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 200), 0u);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 299), 0u);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 300), kEpoch + 350);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 349), kEpoch + 350);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 350), 0u);
  // Far ahead, skipping many periods in one call: window 1000 is [200100, 200150).
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 200'120), kEpoch + 200'150);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 200'150), 0u);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 200'299), 0u);
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 200'300), kEpoch + 200'350);
}

TEST(StallWindowTest, FirstCallInsideALaterWindow) {
  const CompiledStall stall{.start = 100, .duration = 50, .every = 200};
  StallState state;
  EXPECT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 710), kEpoch + 750);
}

TEST(StallWindowTest, PacketLimitResetsPerWindow) {
  const CompiledStall stall{.start = 0, .duration = 50, .every = 100, .limit = {.packets = 2}};
  StallState state;
  ASSERT_NE(state.ReleaseTime(stall, kEpoch, kEpoch + 1), 0u);
  EXPECT_TRUE(state.Hold(stall, 64));
  EXPECT_TRUE(state.Hold(stall, 64));
  EXPECT_FALSE(state.Hold(stall, 64));
  EXPECT_FALSE(state.Hold(stall, 1));
  EXPECT_EQ(state.held_packets, 2u);
  // The next window starts with an empty budget.
  ASSERT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 100), kEpoch + 150);
  EXPECT_TRUE(state.Hold(stall, 64));
  EXPECT_TRUE(state.Hold(stall, 64));
  EXPECT_FALSE(state.Hold(stall, 64));
  // Also when whole windows passed without a frame.
  ASSERT_EQ(state.ReleaseTime(stall, kEpoch, kEpoch + 1020), kEpoch + 1050);
  EXPECT_TRUE(state.Hold(stall, 64));
}

TEST(StallWindowTest, ByteLimit) {
  const CompiledStall stall{.start = 0, .duration = 50, .every = 100, .limit = {.bytes = 1000}};
  StallState state;
  ASSERT_NE(state.ReleaseTime(stall, kEpoch, kEpoch), 0u);
  EXPECT_TRUE(state.Hold(stall, 600));
  EXPECT_FALSE(state.Hold(stall, 401)) << "would exceed 1000 B";
  EXPECT_TRUE(state.Hold(stall, 400)) << "exactly at the limit";
  EXPECT_FALSE(state.Hold(stall, 1));
  EXPECT_EQ(state.held_bytes, 1000u);
  ASSERT_NE(state.ReleaseTime(stall, kEpoch, kEpoch + 100), 0u);
  EXPECT_TRUE(state.Hold(stall, 1000));
}

TEST(StallWindowTest, NoLimitHoldsEverything) {
  const CompiledStall stall{.start = 0, .duration = 50};
  StallState state;
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(state.Hold(stall, 9000));
}

}  // namespace
}  // namespace faultline
