// The per-lcore flow table: insert and find, the bounded probe window, per-entry rings, idle
// ageing (expired entries reused in place, zeroed, never a second entry for one key).
#include "dataplane/fastpath/flow_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace faultline {
namespace {

FlowKey Key(uint32_t n, uint16_t rule_slot = 0) {
  FlowKey key{};
  key.family = 4;
  key.proto = 17;
  key.src[0] = 10;
  key.src[1] = static_cast<uint8_t>(n >> 16);
  key.src[2] = static_cast<uint8_t>(n >> 8);
  key.src[3] = static_cast<uint8_t>(n);
  key.dst[0] = 10;
  key.src_port = static_cast<uint16_t>(n);
  key.dst_port = 9;
  key.rule_slot = rule_slot;
  return key;
}

constexpr uint64_t kNever = UINT64_MAX;  // idle timeout under which nothing expires
using Lookup = FlowTable::Lookup;

// FindOrInsert at time 0 with no ageing; *inserted as the callers of the old interface saw it.
FlowState* Find(FlowTable& table, const FlowKey& key, uint64_t hash, bool* inserted) {
  Lookup lookup = Lookup::kFound;
  FlowState* state = table.FindOrInsert(key, hash, 0, kNever, &lookup);
  *inserted = lookup != Lookup::kFound;
  return state;
}

TEST(FlowTableTest, CapacityIsAPowerOfTwoOfAtLeast16) {
  EXPECT_EQ(FlowTable(1, 0).capacity(), 16u);
  EXPECT_EQ(FlowTable(16, 0).capacity(), 16u);
  EXPECT_EQ(FlowTable(100, 0).capacity(), 128u);
  EXPECT_EQ(FlowTable(65536, 0).capacity(), 65536u);
}

TEST(FlowTableTest, InsertThenFind) {
  FlowTable table(1024, 0);
  bool inserted = false;
  const FlowKey a = Key(1);
  FlowState* state = Find(table, a, HashFlowKey(a), &inserted);
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(inserted);
  EXPECT_TRUE(state->used);
  EXPECT_EQ(state->last_departure, 0u) << "zeroed on insert";
  EXPECT_EQ(state->packets, 0u);
  EXPECT_EQ(state->loss_state, 0u);
  state->last_departure = 1234;
  state->loss_state = 2;

  FlowState* again = Find(table, a, HashFlowKey(a), &inserted);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(again, state);
  EXPECT_EQ(again->last_departure, 1234u) << "state survives";
  EXPECT_EQ(table.size(), 1u);

  // Another flow, and the same 5-tuple under another rule slot, are other entries.
  const FlowKey b = Key(2), a_other_rule = Key(1, 3);
  FlowState* other = Find(table, b, HashFlowKey(b), &inserted);
  EXPECT_TRUE(inserted);
  EXPECT_NE(other, state);
  FlowState* other_rule = Find(table, a_other_rule, HashFlowKey(a_other_rule), &inserted);
  EXPECT_TRUE(inserted);
  EXPECT_NE(other_rule, state);
  EXPECT_EQ(table.size(), 3u);
}

TEST(FlowTableTest, ManyFlowsKeepTheirOwnState) {
  FlowTable table(4096, 0);
  std::vector<FlowState*> states;
  bool inserted = false;
  for (uint32_t n = 0; n < 1024; ++n) {
    const FlowKey key = Key(n);
    FlowState* state = Find(table, key, HashFlowKey(key), &inserted);
    ASSERT_NE(state, nullptr) << n;
    ASSERT_TRUE(inserted);
    state->packets = n;
    states.push_back(state);
  }
  EXPECT_EQ(table.size(), 1024u);
  EXPECT_EQ(std::set<FlowState*>(states.begin(), states.end()).size(), 1024u);
  for (uint32_t n = 0; n < 1024; ++n) {
    const FlowKey key = Key(n);
    FlowState* state = Find(table, key, HashFlowKey(key), &inserted);
    ASSERT_FALSE(inserted);
    ASSERT_EQ(state, states[n]);
    ASSERT_EQ(state->packets, n);
  }
}

TEST(FlowTableTest, FullProbeWindowReturnsNull) {
  // Every key hashes to the same slot: the first kMaxProbe fill the window, the next finds none.
  FlowTable table(1024, 0);
  constexpr uint64_t kHash = 100;
  bool inserted = false;
  std::vector<FlowState*> states;
  for (uint32_t n = 0; n < FlowTable::kMaxProbe; ++n) {
    FlowState* state = Find(table, Key(n), kHash, &inserted);
    ASSERT_NE(state, nullptr) << n;
    ASSERT_TRUE(inserted);
    states.push_back(state);
  }
  inserted = true;
  EXPECT_EQ(Find(table, Key(999), kHash, &inserted), nullptr);
  EXPECT_EQ(table.size(), FlowTable::kMaxProbe);
  // Keys already in the window are still found, even the last one.
  for (uint32_t n = 0; n < FlowTable::kMaxProbe; ++n) {
    ASSERT_EQ(Find(table, Key(n), kHash, &inserted), states[n]);
    ASSERT_FALSE(inserted);
  }
  // A key starting its probe elsewhere still gets in.
  EXPECT_NE(Find(table, Key(999), kHash + 500, &inserted), nullptr);
  EXPECT_TRUE(inserted);
}

TEST(FlowTableTest, ProbeWindowWrapsAroundTheEnd) {
  FlowTable table(16, 0);  // every slot is in the window of hash 15
  bool inserted = false;
  for (uint32_t n = 0; n < 16; ++n) ASSERT_NE(Find(table, Key(n), 15, &inserted), nullptr);
  EXPECT_EQ(table.size(), 16u);
  EXPECT_EQ(Find(table, Key(16), 3, &inserted), nullptr) << "the table is full";
}

TEST(FlowTableTest, RingsAreDistinctPerEntry) {
  constexpr uint32_t kRing = 8;
  FlowTable table(64, kRing);
  EXPECT_EQ(table.ring_length(), kRing);
  bool inserted = false;
  std::vector<uint64_t*> rings;
  for (uint32_t n = 0; n < 64; ++n) {
    // Sequential hashes fill every slot of the table.
    FlowState* state = Find(table, Key(n), n, &inserted);
    ASSERT_NE(state, nullptr);
    uint64_t* ring = table.Ring(state);
    ASSERT_EQ(ring, table.Ring(state)) << "stable";
    for (uint32_t i = 0; i < kRing; ++i) {
      ASSERT_EQ(ring[i], 0u) << "zeroed";
      ring[i] = uint64_t{n} * 100 + i;
    }
    rings.push_back(ring);
  }
  // Writing every ring did not disturb any other: no two rings overlap.
  for (uint32_t n = 0; n < 64; ++n) {
    for (uint32_t i = 0; i < kRing; ++i) ASSERT_EQ(rings[n][i], uint64_t{n} * 100 + i);
  }
  std::set<uint64_t*> distinct(rings.begin(), rings.end());
  EXPECT_EQ(distinct.size(), 64u);
}

TEST(FlowTableTest, HashSeparatesKeys) {
  std::set<uint64_t> hashes;
  for (uint32_t n = 0; n < 10000; ++n) hashes.insert(HashFlowKey(Key(n)));
  EXPECT_EQ(hashes.size(), 10000u);
  EXPECT_EQ(HashFlowKey(Key(5)), HashFlowKey(Key(5)));
  EXPECT_NE(HashFlowKey(Key(5)), HashFlowKey(Key(5, 1))) << "rule slot is part of the key";
}

// Idle ageing. Times are plain numbers; the timeout is 50 units.
constexpr uint64_t kIdle = 50;

TEST(FlowTableAgeingTest, ExpiresOnlyAfterMoreThanTheTimeout) {
  FlowTable table(64, 0);
  const FlowKey a = Key(1);
  Lookup lookup;
  FlowState* state = table.FindOrInsert(a, 7, 100, kIdle, &lookup);
  ASSERT_NE(state, nullptr);
  EXPECT_EQ(lookup, Lookup::kInserted);
  EXPECT_EQ(state->last_seen, 100u);
  state->packets = 5;
  // Exactly the timeout idle: still the same flow, its state kept and its last-seen refreshed.
  EXPECT_EQ(table.FindOrInsert(a, 7, 150, kIdle, &lookup), state);
  EXPECT_EQ(lookup, Lookup::kFound);
  EXPECT_EQ(state->packets, 5u);
  EXPECT_EQ(state->last_seen, 150u);
  // Refreshed at 150: at 200 it has been idle 50, not more.
  EXPECT_EQ(table.FindOrInsert(a, 7, 200, kIdle, &lookup), state);
  EXPECT_EQ(lookup, Lookup::kFound);
  EXPECT_EQ(state->packets, 5u);
  // One unit more than the timeout: the flow starts over in its own slot, zeroed.
  EXPECT_EQ(table.FindOrInsert(a, 7, 251, kIdle, &lookup), state);
  EXPECT_EQ(lookup, Lookup::kReused);
  EXPECT_EQ(state->packets, 0u);
  EXPECT_EQ(state->last_seen, 251u);
  EXPECT_EQ(table.size(), 1u);
  // A clock earlier than the last-seen time is no idle time at all.
  EXPECT_EQ(table.FindOrInsert(a, 7, 10, kIdle, &lookup), state);
  EXPECT_EQ(lookup, Lookup::kFound);
}

TEST(FlowTableAgeingTest, ExpiredEntryGoesToANewFlowNotBefore) {
  FlowTable table(1024, 0);
  constexpr uint64_t kHash = 100;
  Lookup lookup;
  std::vector<FlowState*> states;
  for (uint32_t n = 0; n < FlowTable::kMaxProbe; ++n) {
    states.push_back(table.FindOrInsert(Key(n), kHash, 1000 + n, kIdle, &lookup));
    ASSERT_NE(states.back(), nullptr);
  }
  // The window is full of live flows: a new one finds no room, up to the moment the oldest has
  // been idle for more than the timeout.
  EXPECT_EQ(table.FindOrInsert(Key(99), kHash, 1000 + kIdle, kIdle, &lookup), nullptr);
  FlowState* reused = table.FindOrInsert(Key(99), kHash, 1000 + kIdle + 1, kIdle, &lookup);
  EXPECT_EQ(reused, states[0]) << "the first expired slot of the window";
  EXPECT_EQ(lookup, Lookup::kReused);
  EXPECT_EQ(table.size(), FlowTable::kMaxProbe) << "no slot beyond the window was taken";
}

TEST(FlowTableAgeingTest, FindsAKeyBehindAnExpiredSlot) {
  FlowTable table(1024, 0);
  constexpr uint64_t kHash = 5;
  Lookup lookup;
  FlowState* first = table.FindOrInsert(Key(0), kHash, 0, kIdle, &lookup);
  FlowState* second = table.FindOrInsert(Key(1), kHash, 40, kIdle, &lookup);
  ASSERT_NE(first, second);
  second->packets = 42;
  // At 60 the first slot has expired, the second has not: Key(1) is found behind the expired
  // slot instead of getting a second entry in it.
  EXPECT_EQ(table.FindOrInsert(Key(1), kHash, 60, kIdle, &lookup), second);
  EXPECT_EQ(lookup, Lookup::kFound);
  EXPECT_EQ(second->packets, 42u);
  // A new key takes the expired slot.
  EXPECT_EQ(table.FindOrInsert(Key(2), kHash, 60, kIdle, &lookup), first);
  EXPECT_EQ(lookup, Lookup::kReused);
  // Both slots expired: Key(1) goes back to its own slot, not to the first expired one.
  EXPECT_EQ(table.FindOrInsert(Key(1), kHash, 1000, kIdle, &lookup), second);
  EXPECT_EQ(lookup, Lookup::kReused);
  EXPECT_EQ(table.size(), 2u);
}

TEST(FlowTableAgeingTest, ReusedSlotIsZeroed) {
  constexpr uint32_t kRing = 4;
  FlowTable table(64, kRing);
  Lookup lookup;
  FlowState* state = table.FindOrInsert(Key(1), 3, 0, kIdle, &lookup);
  ASSERT_NE(state, nullptr);
  *state = FlowState{.last_departure = 9,
                     .packets = 9,
                     .delay_last = 9,
                     .loss_last = 9,
                     .duplicate_last = 9,
                     .reorder_last = 9,
                     .corrupt_last = 9,
                     .reorder_counter = 9,
                     .loss_state = 9,
                     .used = true,
                     .last_seen = 0};
  uint64_t* ring = table.Ring(state);
  for (uint32_t i = 0; i < kRing; ++i) ring[i] = 77;
  ASSERT_EQ(table.FindOrInsert(Key(2), 3, kIdle + 1, kIdle, &lookup), state);
  EXPECT_EQ(lookup, Lookup::kReused);
  EXPECT_EQ(state->last_departure, 0u);
  EXPECT_EQ(state->packets, 0u);
  EXPECT_EQ(state->delay_last, 0u);
  EXPECT_EQ(state->loss_last, 0u);
  EXPECT_EQ(state->duplicate_last, 0u);
  EXPECT_EQ(state->reorder_last, 0u);
  EXPECT_EQ(state->corrupt_last, 0u);
  EXPECT_EQ(state->reorder_counter, 0u);
  EXPECT_EQ(state->loss_state, 0u);
  EXPECT_TRUE(state->used);
  EXPECT_EQ(state->last_seen, kIdle + 1);
  for (uint32_t i = 0; i < kRing; ++i) EXPECT_EQ(ring[i], 0u) << "ring entry " << i;
}

TEST(FlowTableAgeingTest, CapacityStaysBoundedAndEveryLiveKeyHasOneEntry) {
  // 40 keys over 4 starting slots of a 16-slot table, random arrivals: the table never grows
  // past its capacity, a key seen within the timeout always finds its own entry, live keys never
  // share one, and a flow is refused only when its window holds kMaxProbe live flows.
  FlowTable table(16, 0);
  std::mt19937_64 random(7);
  std::map<uint32_t, std::pair<FlowState*, uint64_t>> live;  // key -> entry, last seen
  uint64_t now = 0;
  uint64_t reused = 0, refused = 0;
  for (int step = 0; step < 200'000; ++step) {
    now += random() % 8;
    const uint32_t n = static_cast<uint32_t>(random() % 40);
    const uint64_t hash = n % 4;
    Lookup lookup;
    FlowState* state = table.FindOrInsert(Key(n), hash, now, kIdle, &lookup);
    ASSERT_LE(table.size(), table.capacity());
    auto known = live.find(n);
    const bool was_live = known != live.end() && now - known->second.second <= kIdle;
    if (was_live) {
      ASSERT_EQ(state, known->second.first) << "a live key keeps its entry";
      ASSERT_EQ(lookup, Lookup::kFound);
    }
    if (lookup == Lookup::kReused) ++reused;
    if (state == nullptr) {
      ++refused;
      uint32_t live_entries = 0;
      for (const auto& [key, entry] : live) live_entries += now - entry.second <= kIdle;
      ASSERT_GE(live_entries, FlowTable::kMaxProbe) << "refused with room in the window";
      live.erase(n);
      continue;
    }
    live[n] = {state, now};
    // Live keys sit in distinct entries.
    std::set<FlowState*> entries;
    for (const auto& [key, entry] : live) {
      if (now - entry.second <= kIdle) {
        ASSERT_TRUE(entries.insert(entry.first).second) << key;
      }
    }
  }
  EXPECT_GT(reused, 1000u);
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(table.size(), table.capacity());
}

TEST(FlowTableAgeingTest, IdleTimeoutIs30SecondsOrTwiceTheDelayHorizon) {
  const TimeBase ns = TimeBase::Nanoseconds();
  EXPECT_EQ(FlowIdleTimeout(ns, 0), 30'000'000'000u);
  EXPECT_EQ(FlowIdleTimeout(ns, 15'000'000'000), 30'000'000'000u);
  EXPECT_EQ(FlowIdleTimeout(ns, 20'000'000'000), 40'000'000'000u);
  EXPECT_EQ(FlowIdleTimeout(ns, UINT64_MAX), UINT64_MAX);
  const TimeBase tsc = TimeBase::ForHz(2'000'000'000);
  EXPECT_EQ(FlowIdleTimeout(tsc, 1'000'000), 60'000'000'000u) << "clock units, not ns";
}

}  // namespace
}  // namespace faultline
