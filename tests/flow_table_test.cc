// The per-lcore flow table: insert and find, the bounded probe window, per-entry rings.
#include "dataplane/flow_table.h"

#include <gtest/gtest.h>

#include <cstdint>
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
  FlowState* state = table.FindOrInsert(a, HashFlowKey(a), &inserted);
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(inserted);
  EXPECT_TRUE(state->used);
  EXPECT_EQ(state->last_departure, 0u) << "zeroed on insert";
  EXPECT_EQ(state->packets, 0u);
  EXPECT_EQ(state->loss_state, 0u);
  state->last_departure = 1234;
  state->loss_state = 2;

  FlowState* again = table.FindOrInsert(a, HashFlowKey(a), &inserted);
  EXPECT_FALSE(inserted);
  EXPECT_EQ(again, state);
  EXPECT_EQ(again->last_departure, 1234u) << "state survives";
  EXPECT_EQ(table.size(), 1u);

  // Another flow, and the same 5-tuple under another rule slot, are other entries.
  const FlowKey b = Key(2), a_other_rule = Key(1, 3);
  FlowState* other = table.FindOrInsert(b, HashFlowKey(b), &inserted);
  EXPECT_TRUE(inserted);
  EXPECT_NE(other, state);
  FlowState* other_rule = table.FindOrInsert(a_other_rule, HashFlowKey(a_other_rule), &inserted);
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
    FlowState* state = table.FindOrInsert(key, HashFlowKey(key), &inserted);
    ASSERT_NE(state, nullptr) << n;
    ASSERT_TRUE(inserted);
    state->packets = n;
    states.push_back(state);
  }
  EXPECT_EQ(table.size(), 1024u);
  EXPECT_EQ(std::set<FlowState*>(states.begin(), states.end()).size(), 1024u);
  for (uint32_t n = 0; n < 1024; ++n) {
    const FlowKey key = Key(n);
    FlowState* state = table.FindOrInsert(key, HashFlowKey(key), &inserted);
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
    FlowState* state = table.FindOrInsert(Key(n), kHash, &inserted);
    ASSERT_NE(state, nullptr) << n;
    ASSERT_TRUE(inserted);
    states.push_back(state);
  }
  inserted = true;
  EXPECT_EQ(table.FindOrInsert(Key(999), kHash, &inserted), nullptr);
  EXPECT_EQ(table.size(), FlowTable::kMaxProbe);
  // Keys already in the window are still found, even the last one.
  for (uint32_t n = 0; n < FlowTable::kMaxProbe; ++n) {
    ASSERT_EQ(table.FindOrInsert(Key(n), kHash, &inserted), states[n]);
    ASSERT_FALSE(inserted);
  }
  // A key starting its probe elsewhere still gets in.
  EXPECT_NE(table.FindOrInsert(Key(999), kHash + 500, &inserted), nullptr);
  EXPECT_TRUE(inserted);
}

TEST(FlowTableTest, ProbeWindowWrapsAroundTheEnd) {
  FlowTable table(16, 0);  // every slot is in the window of hash 15
  bool inserted = false;
  for (uint32_t n = 0; n < 16; ++n) ASSERT_NE(table.FindOrInsert(Key(n), 15, &inserted), nullptr);
  EXPECT_EQ(table.size(), 16u);
  EXPECT_EQ(table.FindOrInsert(Key(16), 3, &inserted), nullptr) << "the table is full";
}

TEST(FlowTableTest, RingsAreDistinctPerEntry) {
  constexpr uint32_t kRing = 8;
  FlowTable table(64, kRing);
  EXPECT_EQ(table.ring_length(), kRing);
  bool inserted = false;
  std::vector<uint64_t*> rings;
  for (uint32_t n = 0; n < 64; ++n) {
    // Sequential hashes fill every slot of the table.
    FlowState* state = table.FindOrInsert(Key(n), n, &inserted);
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

}  // namespace
}  // namespace faultline
