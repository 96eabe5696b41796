// The pipeline on real mbufs (EAL without hugepages or devices), driven by a test clock.
#include "dataplane/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/fastpath/clock.h"
#include "tests/eal_environment.h"

namespace faultline {
namespace {

using testing::EalEnvironment;
using testing::MakePacket;
using testing::PacketId;

// A TSC-like time base far from zero, as on a machine that has been up for hours.
constexpr uint64_t kStart = 40'000'000'000'000;
const TimeBase kTsc = TimeBase::ForHz(2'600'000'000);

std::vector<rte_mbuf*> MakeBurst(uint64_t first_id, int count) {
  std::vector<rte_mbuf*> burst;
  for (int i = 0; i < count; ++i) burst.push_back(MakePacket(EalEnvironment::pool(), first_id + i));
  return burst;
}

std::vector<uint64_t> PopIds(Pipeline& pipeline) {
  std::vector<uint64_t> ids;
  while (rte_mbuf* packet = pipeline.PopReady()) {
    ids.push_back(PacketId(packet));
    rte_pktmbuf_free(packet);
  }
  return ids;
}

TEST(PipelineTest, ConstantDelayReleasesAtArrivalPlusDelay) {
  const uint64_t delay = kTsc.FromNs(1'000'000);
  Pipeline pipeline({.delay = delay, .hold_limit = 1000}, kTsc.wheel_tick_shift, kStart);
  std::vector<rte_mbuf*> burst = MakeBurst(0, 32);
  pipeline.Ingest(0, burst.data(), 32, kStart);
  pipeline.Advance(kStart + delay - 1);
  EXPECT_TRUE(PopIds(pipeline).empty()) << "released before arrival + delay";
  EXPECT_EQ(pipeline.held(), 32u);
  // Never early, and late by less than one wheel tick.
  pipeline.Advance(kStart + delay + (uint64_t{1} << kTsc.wheel_tick_shift));
  const std::vector<uint64_t> ids = PopIds(pipeline);
  ASSERT_EQ(ids.size(), 32u);
  for (uint64_t i = 0; i < 32; ++i) EXPECT_EQ(ids[i], i);
}

TEST(PipelineTest, SendsEachPacketOutOfTheOtherSide) {
  Pipeline pipeline({.delay = 0, .hold_limit = 100}, kTsc.wheel_tick_shift, kStart);
  for (uint16_t in_port : {0, 1, 2, 3}) {
    rte_mbuf* packet = MakePacket(EalEnvironment::pool(), in_port);
    pipeline.Ingest(in_port, &packet, 1, kStart);
    // Zero delay: due at once, released when the current tick is whole (never early).
    pipeline.Advance(kStart + (uint64_t{1} << kTsc.wheel_tick_shift));
    rte_mbuf* out = pipeline.PopReady();
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(Meta(out)->out_port, in_port ^ 1);
    rte_pktmbuf_free(out);
  }
  EXPECT_EQ(pipeline.counters().rx[2].Get(), 1u);
}

TEST(PipelineTest, HoldLimitDropsAndCountsBufferExhausted) {
  Pipeline pipeline({.delay = kTsc.FromNs(5'000'000), .hold_limit = 40}, kTsc.wheel_tick_shift,
                    kStart);
  std::vector<rte_mbuf*> burst = MakeBurst(0, 32);
  pipeline.Ingest(0, burst.data(), 32, kStart);
  burst = MakeBurst(32, 32);
  pipeline.Ingest(1, burst.data(), 32, kStart);
  EXPECT_EQ(pipeline.held(), 40u);
  EXPECT_EQ(pipeline.counters().Dropped(DropCause::kBufferExhausted), 24u);
  EXPECT_EQ(pipeline.counters().rx[0].Get() + pipeline.counters().rx[1].Get(), 64u);
  const unsigned in_use = rte_mempool_in_use_count(EalEnvironment::pool());
  EXPECT_EQ(in_use, 40u) << "dropped packets must go back to the pool";
  pipeline.DropAll(DropCause::kShutdown);
  EXPECT_EQ(pipeline.counters().Dropped(DropCause::kShutdown), 40u);
  EXPECT_EQ(rte_mempool_in_use_count(EalEnvironment::pool()), 0u);
}

TEST(PipelineTest, SteadyStreamHoldsRatePerDelayInFlight) {
  // One packet every 1000 cycles with a 1 ms delay: 2600 in flight once warm.
  const uint64_t delay = kTsc.FromNs(1'000'000);
  Pipeline pipeline({.delay = delay, .hold_limit = 10'000}, kTsc.wheel_tick_shift, kStart);
  uint64_t next_out = 0, id = 0;
  for (uint64_t now = kStart; now < kStart + 2 * delay; now += 1000) {
    rte_mbuf* packet = MakePacket(EalEnvironment::pool(), id++);
    pipeline.Ingest(0, &packet, 1, now);
    pipeline.Advance(now);
    for (uint64_t out : PopIds(pipeline)) ASSERT_EQ(out, next_out++);
  }
  EXPECT_NEAR(static_cast<double>(pipeline.held()), 2600.0, 2.0);
  pipeline.AdvanceAll();
  for (uint64_t out : PopIds(pipeline)) ASSERT_EQ(out, next_out++);
  EXPECT_EQ(next_out, id);
}

}  // namespace
}  // namespace faultline
