// Unit tests of the timing wheel, without EAL: nodes are plain structs.
#include "dataplane/fastpath/timing_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace faultline {
namespace {

struct Node {
  uint64_t time = 0;
  uint64_t id = 0;
  Node* next = nullptr;
};

struct NodeTraits {
  static uint64_t Time(const Node* n) { return n->time; }
  static Node* Next(Node* n) { return n->next; }
  static void SetNext(Node* n, Node* next) { n->next = next; }
};

using Wheel = TimingWheel<Node, NodeTraits>;
// Tiny wheel (2 levels of 4 slots: span 16 ticks) to push nodes onto the overflow list.
using TinyWheel = TimingWheel<Node, NodeTraits, 2, 2>;

template <typename W>
std::vector<Node*> PopAll(W& wheel) {
  std::vector<Node*> out;
  while (Node* n = wheel.PopReady()) out.push_back(n);
  return out;
}

TEST(TimingWheelTest, ReleasesAtDepartureTimeNeverEarly) {
  Wheel wheel(/*tick_shift=*/0, /*start_time=*/1000, /*capacity=*/1);
  Node node{.time = 1500};
  wheel.Insert(&node);
  wheel.Advance(1499);
  EXPECT_EQ(wheel.PopReady(), nullptr);
  wheel.Advance(1500);
  EXPECT_EQ(wheel.PopReady(), &node);
  EXPECT_TRUE(wheel.empty());
}

TEST(TimingWheelTest, CoarseTicksReleaseOnlyWholePastTicks) {
  // Tick = 8 units: a node due at 17 (tick 2 = [16, 24)) leaves once 23 has passed, never
  // before 17.
  Wheel wheel(3, 0, 1);
  Node node{.time = 17};
  wheel.Insert(&node);
  wheel.Advance(22);
  EXPECT_EQ(wheel.PopReady(), nullptr);
  wheel.Advance(23);
  EXPECT_EQ(wheel.PopReady(), &node);
}

TEST(TimingWheelTest, PastAndPresentTimesAreReadyAtOnce) {
  Wheel wheel(0, 1000, 2);
  Node past{.time = 10}, present{.time = 1000};
  wheel.Insert(&past);
  wheel.Insert(&present);
  EXPECT_EQ(PopAll(wheel), (std::vector<Node*>{&past, &present}));
}

TEST(TimingWheelTest, FifoAmongEqualTimes) {
  std::vector<Node> nodes(1000);
  Wheel wheel(0, 0, nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i] = {.time = 5'000'000, .id = i};
    wheel.Insert(&nodes[i]);
  }
  wheel.Advance(5'000'000);
  const std::vector<Node*> out = PopAll(wheel);
  ASSERT_EQ(out.size(), nodes.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i]->id, i);
}

// The order guarantee under cascading: nodes inserted with non-decreasing times, at moments
// spread over many level boundaries, come out in insertion order.
TEST(TimingWheelTest, NonDecreasingInsertionsLeaveInOrderAcrossCascades) {
  std::mt19937_64 rng(7);
  std::vector<Node> nodes(200'000);
  Wheel wheel(0, 0, nodes.size());
  uint64_t now = 0, last_departure = 0;
  size_t next_out = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    now += rng() % 300;
    // A delay that jumps between every level of the wheel, clamped to keep order.
    const uint64_t delay = (rng() % 4 == 0) ? rng() % (1u << 26) : rng() % 2000;
    last_departure = std::max(last_departure, now + delay);
    nodes[i] = {.time = last_departure, .id = i};
    wheel.Insert(&nodes[i]);
    wheel.Advance(now);
    while (Node* n = wheel.PopReady()) {
      ASSERT_EQ(n->id, next_out) << "node left out of insertion order";
      ASSERT_LE(n->time, now) << "node left early";
      ++next_out;
    }
  }
  wheel.AdvanceAll();
  while (Node* n = wheel.PopReady()) ASSERT_EQ(n->id, next_out++);
  EXPECT_EQ(next_out, nodes.size());
}

// Random times: every node leaves exactly once, never before its time and within one advance
// step after it, and the release sequence is sorted by tick.
TEST(TimingWheelTest, RandomTimesLeaveOnTimeAndSorted) {
  std::mt19937_64 rng(11);
  std::vector<Node> nodes(100'000);
  Wheel wheel(0, 0, nodes.size());
  uint64_t now = 0;
  size_t inserted = 0, released = 0;
  uint64_t previous_time = 0;
  while (released < nodes.size()) {
    for (int k = 0; k < 8 && inserted < nodes.size(); ++k, ++inserted) {
      nodes[inserted] = {.time = now + rng() % 100'000'000, .id = inserted};
      wheel.Insert(&nodes[inserted]);
    }
    const uint64_t step = 1 + rng() % 50'000;
    now += step;
    wheel.Advance(now);
    while (Node* n = wheel.PopReady()) {
      ASSERT_LE(n->time, now);
      ASSERT_GT(n->time + step, now) << "released later than the advance that passed its time";
      ASSERT_GE(n->time, previous_time) << "out of time order";
      previous_time = n->time;
      ++released;
    }
  }
  EXPECT_TRUE(wheel.empty());
}

TEST(TimingWheelTest, SixtySecondsAtSubMicrosecondTicks) {
  // 2.5 GHz TSC, 64-cycle ticks (25.6 ns): 60 s is 2^32.8 ticks, inside a 5-level wheel's span.
  Wheel wheel(6, 0, 1);
  const uint64_t sixty_seconds = 150'000'000'000;
  Node node{.time = sixty_seconds};
  wheel.Insert(&node);
  EXPECT_EQ(wheel.overflow_size(), 0u);
  wheel.Advance(sixty_seconds - 1);
  EXPECT_EQ(wheel.PopReady(), nullptr);
  wheel.Advance(sixty_seconds + 63);
  EXPECT_EQ(wheel.PopReady(), &node);
}

TEST(TimingWheelTest, BeyondSpanWaitsOnOverflowAndKeepsOrder) {
  TinyWheel wheel(0, 0, 5);  // span 16 ticks
  std::vector<Node> nodes = {{.time = 100, .id = 0},
                             {.time = 40, .id = 1},
                             {.time = 100, .id = 2},
                             {.time = 5, .id = 3},
                             {.time = 1000, .id = 4}};
  for (Node& n : nodes) wheel.Insert(&n);
  EXPECT_EQ(wheel.overflow_size(), 4u);
  std::vector<uint64_t> order;
  for (uint64_t now = 0; now <= 1000; ++now) {
    wheel.Advance(now);
    while (Node* n = wheel.PopReady()) {
      EXPECT_EQ(n->time, now) << "node " << n->id;
      order.push_back(n->id);
    }
  }
  EXPECT_EQ(order, (std::vector<uint64_t>{3, 1, 0, 2, 4}));
  EXPECT_TRUE(wheel.empty());
}

TEST(TimingWheelTest, IdleJumpSkipsEmptyTimeAndReportsNextEvent) {
  Wheel wheel(0, 0, 1);
  EXPECT_EQ(wheel.NextEventTick(), UINT64_MAX);
  Node node{.time = 123'456'789};
  wheel.Insert(&node);
  EXPECT_LE(wheel.NextEventTick(), node.time);
  wheel.Advance(100'000'000);  // one call crosses ~10^8 empty ticks
  EXPECT_EQ(wheel.PopReady(), nullptr);
  wheel.Advance(123'456'789);
  EXPECT_EQ(wheel.PopReady(), &node);
}

TEST(TimingWheelTest, ForEachAndClearVisitsEveryNode) {
  std::vector<Node> nodes(50);
  TinyWheel wheel(0, 0, nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].time = i * 7;
    wheel.Insert(&nodes[i]);
  }
  wheel.Advance(20);
  size_t visited = 0;
  wheel.ForEachAndClear([&visited](Node*) { ++visited; });
  EXPECT_EQ(visited, nodes.size());
  EXPECT_TRUE(wheel.empty());
  wheel.AdvanceAll();
  EXPECT_EQ(wheel.PopReady(), nullptr);
}

// Capacity: the wheel holds at most `capacity` nodes, counting released ones not yet popped.
// Past that, Insert refuses and the node stays the caller's; nothing accepted is ever lost.
TEST(TimingWheelTest, InsertRefusesBeyondCapacityAndLosesNothing) {
  constexpr size_t kCapacity = 100;
  Wheel wheel(0, 0, kCapacity);
  EXPECT_EQ(wheel.capacity(), kCapacity);
  std::mt19937_64 rng(3);
  std::vector<Node> nodes(300);
  for (size_t i = 0; i < nodes.size(); ++i) nodes[i] = {.time = 1 + rng() % 5000, .id = i};
  std::vector<int> accepted(nodes.size(), 0);
  size_t next = 0;
  for (; next < 150; ++next) {
    const bool taken = wheel.Insert(&nodes[next]);
    EXPECT_EQ(taken, next < kCapacity) << "node " << next;
    accepted[next] = taken;
  }
  EXPECT_EQ(wheel.size(), kCapacity);
  // Released but not popped still counts: the ready ring is part of what the wheel holds.
  wheel.Advance(5000);
  EXPECT_FALSE(wheel.Insert(&nodes[next]));
  size_t popped_now = 0;
  std::vector<int> seen(nodes.size(), 0);
  for (; popped_now < 30; ++popped_now) ++seen[wheel.PopReady()->id];
  for (size_t k = 0; k < 40; ++k, ++next) {
    const bool taken = wheel.Insert(&nodes[next]);
    EXPECT_EQ(taken, k < popped_now) << "node " << next;
    accepted[next] = taken;
  }
  wheel.AdvanceAll();
  while (Node* n = wheel.PopReady()) ++seen[n->id];
  EXPECT_TRUE(wheel.empty());
  EXPECT_EQ(seen, accepted) << "every accepted node leaves exactly once, no refused one does";
}

// The block pool's worst case: every list of the wheel (each slot of each level and the
// overflow list) holds a partial block while the wheel is full, and cascades refill lists from
// lists. Kept full at every step with times over all levels and beyond the span; a pool
// smaller than the sizing argument says would stop the process (the wheel traps rather than
// corrupt memory), a lost or duplicated node fails the counts.
template <typename W>
void KeepFullAndCheck(uint64_t capacity, uint64_t time_range, uint64_t max_step, int steps) {
  W wheel(0, 0, capacity);
  std::mt19937_64 rng(capacity);
  std::vector<Node> nodes(capacity * 2);
  std::vector<Node*> spare;
  for (Node& n : nodes) spare.push_back(&n);
  uint64_t now = 0, inserted = 0, released = 0;
  for (int step = 0; step < steps; ++step) {
    while (!spare.empty()) {
      Node* n = spare.back();
      n->time = now + rng() % time_range;
      n->id = inserted;
      const uint64_t held_before = wheel.size();
      const bool taken = wheel.Insert(n);
      ASSERT_EQ(taken, held_before < capacity);
      if (!taken) break;
      spare.pop_back();
      ++inserted;
    }
    ASSERT_EQ(wheel.size(), capacity) << "refused while not full";
    now += 1 + rng() % max_step;
    wheel.Advance(now);
    while (Node* n = wheel.PopReady()) {
      ASSERT_LE(n->time, now) << "left early";
      spare.push_back(n);
      ++released;
    }
  }
  wheel.AdvanceAll();
  while (Node* n = wheel.PopReady()) ++released;
  EXPECT_EQ(released, inserted);
  EXPECT_TRUE(wheel.empty());
  // Clearing returns every block: a full wheel fits again.
  for (uint64_t i = 0; i < capacity; ++i) {
    nodes[i].time = now + rng() % time_range;
    ASSERT_TRUE(wheel.Insert(&nodes[i]));
  }
  uint64_t cleared = 0;
  wheel.ForEachAndClear([&cleared](Node*) { ++cleared; });
  EXPECT_EQ(cleared, capacity);
  for (uint64_t i = 0; i < capacity; ++i) ASSERT_TRUE(wheel.Insert(&nodes[i]));
}

TEST(TimingWheelTest, FullWheelNeverRunsOutOfBlocks) {
  // 2 levels of 4 slots, blocks of 4 entries: span 16 ticks, times up to 100 overflow.
  KeepFullAndCheck<TimingWheel<Node, NodeTraits, 2, 2, 4>>(37, 100, 6, 20'000);
  // 5 levels of 256 slots, more lists (1,280) than nodes, times across every level.
  KeepFullAndCheck<TimingWheel<Node, NodeTraits, 8, 5, 4>>(1000, uint64_t{1} << 36,
                                                           uint64_t{1} << 30, 3'000);
  KeepFullAndCheck<Wheel>(5000, 1u << 20, 1u << 12, 3'000);
}

// Nodes are prefetched before the caller needs them (Traits::Prefetch when the traits have it):
// the next kAhead nodes due, while they still wait in level-0 slots, and the ready nodes up to
// kAhead past the head, so the transmit side meets warm nodes. Only nodes that waited longer
// than a level-0 span (they came down from a higher level) are cold; nodes with shorter delays
// were touched by the caller moments ago and are not prefetched.
struct PrefetchCountingTraits : NodeTraits {
  static inline std::vector<const Node*> prefetched;
  static void Prefetch(const Node* n) { prefetched.push_back(n); }
  static bool WasPrefetched(const Node* n) {
    return std::find(prefetched.begin(), prefetched.end(), n) != prefetched.end();
  }
};

TEST(TimingWheelTest, PrefetchesColdNodesAheadOfRelease) {
  constexpr unsigned kAhead = 8;
  TimingWheel<Node, PrefetchCountingTraits, 8, 5, 16, kAhead> wheel(0, 0, 100);
  std::vector<Node> nodes(40);
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i] = {.time = 1000 + i, .id = i};  // level 1: beyond the first 256 ticks
    ASSERT_TRUE(wheel.Insert(&nodes[i]));
  }
  PrefetchCountingTraits::prefetched.clear();
  wheel.Advance(1004);  // releases nodes 0..4; 5..12 are the next kAhead due
  for (size_t i = 0; i < nodes.size(); ++i) {
    EXPECT_EQ(PrefetchCountingTraits::WasPrefetched(&nodes[i]), i < 5 + kAhead) << "node " << i;
  }
  for (size_t popped = 0; popped < 5; ++popped) ASSERT_EQ(wheel.PopReady(), &nodes[popped]);
  wheel.Advance(2000);  // releases the rest: the ready window now looks kAhead past the head
  for (size_t popped = 5; popped < nodes.size(); ++popped) {
    for (size_t i = popped; i < std::min(nodes.size(), popped + kAhead); ++i) {
      ASSERT_TRUE(PrefetchCountingTraits::WasPrefetched(&nodes[i]))
          << "node " << i << " with the head at " << popped;
    }
    ASSERT_EQ(wheel.PopReady(), &nodes[popped]);
  }
  // Each node is prefetched at most twice (as upcoming, then in the ready window).
  EXPECT_LE(PrefetchCountingTraits::prefetched.size(), 2 * nodes.size());

  // Short delays (inside the level-0 span) and packets due at once: warm, not prefetched.
  PrefetchCountingTraits::prefetched.clear();
  for (size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].time = 2000 + i % 3;
    ASSERT_TRUE(wheel.Insert(&nodes[i]));
  }
  wheel.Advance(2002);
  EXPECT_EQ(PopAll(wheel).size(), nodes.size());
  EXPECT_TRUE(PrefetchCountingTraits::prefetched.empty());
}

}  // namespace
}  // namespace faultline
