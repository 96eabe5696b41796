// The express lane's ring of runs on its own (no EAL: the mbufs are plain structs that are only
// pointed at and prefetched).
#include "dataplane/fastpath/express_lane.h"

#include <gtest/gtest.h>

#include <vector>

namespace faultline {
namespace {

// Frames are told apart by their address in this array.
rte_mbuf frames[256];

std::vector<rte_mbuf*> Frames(int first, int count) {
  std::vector<rte_mbuf*> out;
  for (int i = 0; i < count; ++i) out.push_back(&frames[first + i]);
  return out;
}

// Sends everything due at `now`, taking at most `room` frames per call; returns the indexes sent.
std::vector<int> SendDue(ExpressLane& lane, uint64_t now, uint32_t room = UINT32_MAX) {
  std::vector<int> sent;
  ExpressLane::Batch batch;
  while (lane.Due(now, &batch)) {
    const uint32_t take = std::min(batch.count, room);
    for (uint32_t i = 0; i < take; ++i) sent.push_back(static_cast<int>(batch.frames[i] - frames));
    lane.Consume(take);
    if (take < batch.count) break;
  }
  return sent;
}

TEST(ExpressLaneTest, RunsLeaveInOrderWhenDue) {
  ExpressLane lane(64, 8);
  std::vector<rte_mbuf*> a = Frames(0, 3), b = Frames(3, 2);
  lane.Push(a.data(), 3, 100, 1100, 0);
  lane.Push(b.data(), 2, 200, 1200, 5);
  EXPECT_EQ(lane.size(), 5u);
  EXPECT_EQ(lane.NextDeparture(), 1100u);
  EXPECT_TRUE(SendDue(lane, 1099).empty()) << "never before its departure";
  EXPECT_EQ(SendDue(lane, 1100), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(lane.NextDeparture(), 1200u);
  ExpressLane::Batch batch;
  ASSERT_TRUE(lane.Due(5000, &batch));
  EXPECT_EQ(batch.run->arrival, 200u);
  EXPECT_EQ(batch.run->rule_slot, 5u);
  EXPECT_EQ(SendDue(lane, 5000), (std::vector<int>{3, 4}));
  EXPECT_TRUE(lane.empty());
  EXPECT_EQ(lane.NextDeparture(), UINT64_MAX);
}

TEST(ExpressLaneTest, RefusesARunDueBeforeTheLastOne) {
  ExpressLane lane(64, 8);
  std::vector<rte_mbuf*> a = Frames(0, 1);
  lane.Push(a.data(), 1, 100, 1100, 0);
  EXPECT_FALSE(lane.Accepts(1099, 1)) << "it would wait behind a later frame";
  EXPECT_TRUE(lane.Accepts(1100, 1));
  SendDue(lane, 1100);
  EXPECT_TRUE(lane.Accepts(5, 1)) << "an empty lane takes any departure";
}

TEST(ExpressLaneTest, BoundedByFramesAndByRuns) {
  ExpressLane lane(8, 2);  // 8 frames, 2 runs
  std::vector<rte_mbuf*> a = Frames(0, 8);
  EXPECT_FALSE(lane.Accepts(0, 9));
  lane.Push(a.data(), 5, 0, 0, 0);
  EXPECT_FALSE(lane.Accepts(0, 4)) << "5 + 4 frames > 8";
  EXPECT_TRUE(lane.Accepts(0, 3));
  lane.Push(a.data() + 5, 1, 0, 0, 0);
  EXPECT_FALSE(lane.Accepts(0, 1)) << "two runs already";
}

TEST(ExpressLaneTest, ARunAcrossTheRingEndComesInTwoPieces) {
  ExpressLane lane(8, 4);
  std::vector<rte_mbuf*> a = Frames(0, 11);
  lane.Push(a.data(), 6, 0, 10, 0);      // slots 0-5
  lane.Push(a.data() + 6, 1, 0, 30, 0);  // slot 6: keeps the lane from emptying (and rewinding)
  EXPECT_EQ(SendDue(lane, 10), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  lane.Push(a.data() + 7, 4, 0, 30, 0);  // slots 7, 0, 1, 2
  ExpressLane::Batch batch;
  ASSERT_TRUE(lane.Due(30, &batch));
  EXPECT_EQ(batch.count, 1u);
  lane.Consume(1);  // frame 6
  ASSERT_TRUE(lane.Due(30, &batch));
  EXPECT_EQ(batch.count, 1u) << "the part before the ring's end";
  EXPECT_EQ(SendDue(lane, 30), (std::vector<int>{7, 8, 9, 10}));
}

TEST(ExpressLaneTest, APartlyTakenRunKeepsTheRestFirst) {
  ExpressLane lane(64, 8);
  std::vector<rte_mbuf*> a = Frames(0, 10), b = Frames(10, 2);
  lane.Push(a.data(), 10, 0, 10, 0);
  lane.Push(b.data(), 2, 0, 10, 0);
  EXPECT_EQ(SendDue(lane, 10, 4), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(lane.size(), 8u);
  EXPECT_EQ(SendDue(lane, 10, 0), (std::vector<int>{}));
  EXPECT_EQ(SendDue(lane, 10), (std::vector<int>{4, 5, 6, 7, 8, 9, 10, 11}));
}

TEST(ExpressLaneTest, ClearHandsOverEveryFrameWithItsRun) {
  ExpressLane lane(64, 8);
  std::vector<rte_mbuf*> a = Frames(0, 3), b = Frames(3, 2);
  lane.Push(a.data(), 3, 1, 11, 1);
  lane.Push(b.data(), 2, 2, 12, 2);
  SendDue(lane, 11, 1);  // frame 0 left
  std::vector<std::pair<int, uint64_t>> seen;
  lane.ForEachAndClear([&seen](rte_mbuf* frame, const ExpressLane::Run& run) {
    seen.emplace_back(static_cast<int>(frame - frames), run.departure);
  });
  EXPECT_EQ(seen, (std::vector<std::pair<int, uint64_t>>{{1, 11}, {2, 11}, {3, 12}, {4, 12}}));
  EXPECT_TRUE(lane.empty());
  EXPECT_EQ(lane.NextDeparture(), UINT64_MAX);
}

}  // namespace
}  // namespace faultline
