// The pipeline with compiled profiles on real mbufs, driven by a test clock: what each stage does
// to frames and how every frame is accounted for.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_ip.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "dataplane/fastpath/clock.h"
#include "dataplane/models/delay_distribution.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/reporting/stats.h"
#include "tests/eal_environment.h"

namespace faultline {
namespace {

using testing::EalEnvironment;

// Nanosecond clock units and 1 ns ticks: departures are exact. Far from zero, as live.
const TimeBase kNs = TimeBase::Nanoseconds();
constexpr uint64_t kStart = 1'000'000'000'000;
constexpr uint64_t kMs = 1'000'000;
constexpr uint16_t kFrameLength = 64;
constexpr size_t kPayload = 42;  // UDP payload: the id and flow, three copies of each

// A 64-byte IPv4/UDP frame of flow `flow` (source port) carrying `id` in its payload. The id and
// flow are stored three times, so a frame with one flipped bit (corrupt) still says what it is.
rte_mbuf* MakeUdp(uint32_t id, uint16_t flow = 0, uint8_t tos = 0) {
  rte_mbuf* packet = rte_pktmbuf_alloc(EalEnvironment::pool());
  if (packet == nullptr) return nullptr;
  char* appended = rte_pktmbuf_append(packet, kFrameLength);
  if (appended == nullptr) return packet;
  uint8_t* data = reinterpret_cast<uint8_t*>(appended);
  std::memset(data, 0, kFrameLength);
  // clang-format off
  const uint8_t header[] = {
      0x02, 0, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0, 0xaa, 0x08, 0x00,            // Ethernet
      0x45, tos, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 1, 1, 10, 0, 2, 2,  // IPv4
      static_cast<uint8_t>(flow >> 8), static_cast<uint8_t>(flow), 0x13, 0x88, 0, 30, 0, 0};  // UDP
  // clang-format on
  std::memcpy(data, header, sizeof(header));
  auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + 14);
  ip->hdr_checksum = rte_ipv4_cksum(ip);
  for (int copy = 0; copy < 3; ++copy) {
    std::memcpy(data + kPayload + 4 * copy, &id, sizeof(id));
    std::memcpy(data + kPayload + 12 + 2 * copy, &flow, sizeof(flow));
  }
  return packet;
}

// A non-IP frame (ethertype 0xabab), as tests/eal_environment.h makes them.
rte_mbuf* MakeOther(uint64_t id) { return testing::MakePacket(EalEnvironment::pool(), id); }

template <typename T>
T Majority(const rte_mbuf* packet, size_t offset) {
  T copies[3];
  for (int i = 0; i < 3; ++i) {
    std::memcpy(&copies[i], rte_pktmbuf_mtod(packet, const uint8_t*) + offset + i * sizeof(T),
                sizeof(T));
  }
  return copies[0] == copies[1] || copies[0] == copies[2] ? copies[0] : copies[1];
}

uint64_t UdpId(const rte_mbuf* packet) { return Majority<uint32_t>(packet, kPayload); }
uint16_t UdpFlow(const rte_mbuf* packet) { return Majority<uint16_t>(packet, kPayload + 12); }

ProfileSpec OneRule(const ImpairmentSpec& impairment, MatchSpec match = {}) {
  ProfileSpec spec;
  spec.impairments.push_back(impairment);
  spec.impairments.back().name = "impairment";
  spec.rules.push_back(RuleSpec{.name = "rule", .match = std::move(match), .impairment = 0});
  return spec;
}

std::shared_ptr<const CompiledProfile> Compile(const ProfileSpec& spec, uint64_t seed = 1,
                                               const TimeBase& time_base = kNs) {
  return CompileProfile(spec, time_base, seed);
}

std::unique_ptr<Pipeline> MakePipeline(const ProfileSpec& spec, uint64_t hold_limit = 100'000,
                                       uint64_t seed = 1, uint64_t stream = 0) {
  return std::make_unique<Pipeline>(
      PipelineConfig{.hold_limit = hold_limit,
                     .profile = Compile(spec, seed),
                     .rng_stream = stream,
                     .flow_idle = FlowIdleTimeout(kNs, ProfileDelayHorizonNs(spec))},
      kNs.wheel_tick_shift, kStart);
}

void Ingest(Pipeline& pipeline, uint16_t port, std::vector<rte_mbuf*> packets, uint64_t now) {
  pipeline.Ingest(port, packets.data(), static_cast<uint16_t>(packets.size()), now);
}

// Pops every ready frame (they count as forwarded), frees it, returns their ids.
std::vector<uint64_t> PopIds(Pipeline& pipeline, uint64_t (*id)(const rte_mbuf*) = UdpId) {
  std::vector<uint64_t> ids;
  while (rte_mbuf* packet = pipeline.PopReady()) {
    ids.push_back(id(packet));
    rte_pktmbuf_free(packet);
  }
  return ids;
}

// Pops every ready frame as PopIds does, each transmitted at its departure as replay transmits
// it: its delay, residence and lateness (0) go to the histograms, in ns of `base`.
std::vector<uint64_t> TransmitIds(Pipeline& pipeline, const TimeBase& base = kNs) {
  std::vector<uint64_t> ids;
  while (rte_mbuf* packet = pipeline.PopReady()) {
    const PacketMeta* meta = Meta(packet);
    pipeline.RecordTransmit(meta->out_port, meta->rule_slot,
                            base.ToNs(meta->departure - meta->arrival), 0);
    ids.push_back(UdpId(packet));
    rte_pktmbuf_free(packet);
  }
  return ids;
}

struct Totals {
  uint64_t matched = 0, duplicated = 0, forwarded = 0, dropped = 0;
};

Totals RuleTotals(const Pipeline& pipeline) {
  Totals totals;
  for (const RuleCounters& counters : pipeline.rule_counters()) {
    totals.matched += counters.matched.Get();
    totals.duplicated += counters.duplicated.Get();
    totals.forwarded += counters.forwarded.Get();
    for (const Counter& dropped : counters.dropped) totals.dropped += dropped.Get();
  }
  return totals;
}

uint64_t PipelineDropped(const Pipeline& pipeline) {
  uint64_t dropped = 0;
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    dropped += pipeline.counters().Dropped(static_cast<DropCause>(cause));
  }
  return dropped;
}

// Every frame of a profile that matches everything is forwarded, dropped or still held.
void ExpectAccounted(const Pipeline& pipeline) {
  const Totals totals = RuleTotals(pipeline);
  EXPECT_EQ(totals.matched + totals.duplicated,
            totals.forwarded + totals.dropped + pipeline.held());
  EXPECT_EQ(PipelineDropped(pipeline), totals.dropped) << "rule and pipeline drops agree";
}

class PipelineImpairmentTest : public ::testing::Test {
 protected:
  void SetUp() override { in_use_ = rte_mempool_in_use_count(EalEnvironment::pool()); }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(EalEnvironment::pool()), in_use_) << "mbufs leaked";
  }
  unsigned in_use_ = 0;
};

TEST_F(PipelineImpairmentTest, LossOfAllDropsEverything) {
  ImpairmentSpec impairment;
  impairment.loss = LossSpec{.probability = 1.0};
  auto pipeline = MakePipeline(OneRule(impairment));
  for (uint64_t i = 0; i < 32; ++i) {
    Ingest(*pipeline, 0, {MakeUdp(i, static_cast<uint16_t>(i))}, kStart + i);
    Ingest(*pipeline, 1, {MakeUdp(100 + i)}, kStart + i);
  }
  EXPECT_EQ(pipeline->held(), 0u);
  const Pipeline::RuleCounterView rules = pipeline->rule_counters();
  ASSERT_EQ(rules.size(), 2u);
  for (int slot : {0, 1}) {  // a-to-b, b-to-a
    EXPECT_EQ(rules[slot].matched.Get(), 32u);
    EXPECT_EQ(rules[slot].dropped[static_cast<int>(DropCause::kLoss)].Get(), 32u);
    EXPECT_EQ(rules[slot].forwarded.Get(), 0u);
    EXPECT_EQ(rules[slot].delay_ns.Max(), 0u) << "nothing scheduled";
  }
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kLoss), 64u);
  EXPECT_EQ(pipeline->counters().rx[0].Get(), 32u);
  EXPECT_EQ(pipeline->counters().rx[1].Get(), 32u);
  pipeline->AdvanceAll();
  EXPECT_TRUE(PopIds(*pipeline).empty());
  ExpectAccounted(*pipeline);
}

TEST_F(PipelineImpairmentTest, DuplicateOfAllDoubles) {
  ImpairmentSpec impairment;
  impairment.duplicate = DuplicateSpec{.probability = 1.0};
  impairment.delay = DelaySpec{.base_ns = kMs};
  auto pipeline = MakePipeline(OneRule(impairment));
  std::vector<rte_mbuf*> burst;
  for (uint64_t i = 0; i < 32; ++i) burst.push_back(MakeUdp(i));
  Ingest(*pipeline, 0, burst, kStart);
  EXPECT_EQ(pipeline->held(), 64u);
  pipeline->Advance(kStart + kMs - 1);
  EXPECT_EQ(pipeline->PeekReady(), nullptr);
  pipeline->Advance(kStart + kMs);
  // Original then copy, frame after frame; each a frame of its own with the same bytes.
  std::vector<uint64_t> ids;
  while (rte_mbuf* original = pipeline->PopReady()) {
    rte_mbuf* copy = pipeline->PopReady();
    ASSERT_NE(copy, nullptr);
    EXPECT_NE(copy, original);
    EXPECT_NE(rte_pktmbuf_mtod(copy, void*), rte_pktmbuf_mtod(original, void*));
    ASSERT_EQ(rte_pktmbuf_pkt_len(copy), rte_pktmbuf_pkt_len(original));
    EXPECT_EQ(
        std::memcmp(rte_pktmbuf_mtod(copy, void*), rte_pktmbuf_mtod(original, void*), kFrameLength),
        0);
    EXPECT_EQ(Meta(copy)->out_port, 1);
    ids.push_back(UdpId(original));
    ids.push_back(UdpId(copy));
    rte_pktmbuf_free(original);
    rte_pktmbuf_free(copy);
  }
  ASSERT_EQ(ids.size(), 64u);
  for (uint64_t i = 0; i < 64; ++i) EXPECT_EQ(ids[i], i / 2);
  const RuleCounters& rule = pipeline->rule_counters()[0];
  EXPECT_EQ(rule.matched.Get(), 32u);
  EXPECT_EQ(rule.duplicated.Get(), 32u);
  EXPECT_EQ(rule.forwarded.Get(), 64u);
  ExpectAccounted(*pipeline);
}

// A frame of no bytes (a capture may hold one) is duplicated like any other: rte_pktmbuf_copy
// refuses it, so it once counted as buffer_exhausted with mbufs to spare.
TEST_F(PipelineImpairmentTest, DuplicateOfAnEmptyFrame) {
  ImpairmentSpec impairment;
  impairment.duplicate = DuplicateSpec{.probability = 1.0};
  auto pipeline = MakePipeline(OneRule(impairment));
  rte_mbuf* empty = rte_pktmbuf_alloc(EalEnvironment::pool());
  ASSERT_NE(empty, nullptr);
  Meta(empty)->original_length = 60;
  Ingest(*pipeline, 0, {empty}, kStart);
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kBufferExhausted), 0u);
  EXPECT_EQ(pipeline->held(), 2u);
  pipeline->AdvanceAll();
  std::vector<rte_mbuf*> out;
  while (rte_mbuf* packet = pipeline->PopReady()) out.push_back(packet);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_NE(out[0], out[1]);
  for (rte_mbuf* packet : out) {
    EXPECT_EQ(rte_pktmbuf_pkt_len(packet), 0u);
    EXPECT_EQ(Meta(packet)->out_port, 1);
    EXPECT_EQ(Meta(packet)->original_length, 60u) << "the copy keeps the captured length";
    rte_pktmbuf_free(packet);
  }
  const RuleCounters& rule = pipeline->rule_counters()[0];
  EXPECT_EQ(rule.duplicated.Get(), 1u);
  EXPECT_EQ(rule.forwarded.Get(), 2u);
  ExpectAccounted(*pipeline);
}

TEST_F(PipelineImpairmentTest, CopyIsCorruptedOnItsOwn) {
  ImpairmentSpec impairment;
  impairment.duplicate = DuplicateSpec{.probability = 1.0};
  impairment.corrupt = CorruptSpec{.probability = 1.0};
  auto pipeline = MakePipeline(OneRule(impairment));
  rte_mbuf* pristine = MakeUdp(7);
  Ingest(*pipeline, 0, {MakeUdp(7)}, kStart);
  pipeline->Advance(kStart);
  int frames = 0;
  while (rte_mbuf* packet = pipeline->PopReady()) {
    // Exactly one flipped bit past the Ethernet header: had the copy shared the original's
    // data, both would show two flips (or none).
    int bits = 0;
    const uint8_t* a = rte_pktmbuf_mtod(packet, const uint8_t*);
    const uint8_t* b = rte_pktmbuf_mtod(pristine, const uint8_t*);
    for (int i = 0; i < kFrameLength; ++i) {
      bits += __builtin_popcount(a[i] ^ b[i]);
      if (i < 14) {
        EXPECT_EQ(a[i], b[i]) << "the Ethernet header is never corrupted";
      }
    }
    EXPECT_EQ(bits, 1);
    rte_pktmbuf_free(packet);
    ++frames;
  }
  EXPECT_EQ(frames, 2);
  EXPECT_EQ(pipeline->rule_counters()[0].corrupted.Get(), 2u);
  EXPECT_EQ(pipeline->rule_counters()[0].bits_flipped.Get(), 2u);
  rte_pktmbuf_free(pristine);
}

TEST_F(PipelineImpairmentTest, UnmatchedFramesLeaveAtOnceUntouched) {
  // Only UDP from a to b is impaired (everything lost); other frames pass as they came.
  ImpairmentSpec impairment;
  impairment.loss = LossSpec{.probability = 1.0};
  impairment.corrupt = CorruptSpec{.probability = 1.0};
  auto pipeline = MakePipeline(
      OneRule(impairment, MatchSpec{.direction = Direction::kAToB, .proto = kProtoUdp}));
  rte_mbuf* reference_udp = MakeUdp(5);
  rte_mbuf* reference_other = MakeOther(6);
  const uint64_t now = kStart + 12345;
  Ingest(*pipeline, 1, {MakeUdp(5)}, now);    // UDP, but b to a
  Ingest(*pipeline, 0, {MakeOther(6)}, now);  // a to b, not UDP
  Ingest(*pipeline, 0, {MakeUdp(5)}, now);    // matched: lost
  EXPECT_EQ(pipeline->counters().unmatched.Get(), 2u);
  EXPECT_EQ(pipeline->held(), 2u);
  pipeline->Advance(now);
  rte_mbuf* first = pipeline->PopReady();
  rte_mbuf* second = pipeline->PopReady();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(pipeline->PopReady(), nullptr);
  EXPECT_EQ(Meta(first)->out_port, 0);
  EXPECT_EQ(Meta(second)->out_port, 1);
  EXPECT_EQ(Meta(first)->rule_slot, 0) << "no rule";
  EXPECT_EQ(Meta(first)->departure, now) << "no delay";
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(first, void*), rte_pktmbuf_mtod(reference_udp, void*),
                        kFrameLength),
            0);
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(second, void*), rte_pktmbuf_mtod(reference_other, void*),
                        kFrameLength),
            0);
  const RuleCounters& a_to_b = pipeline->rule_counters()[0];
  EXPECT_EQ(a_to_b.matched.Get(), 1u);
  EXPECT_EQ(a_to_b.forwarded.Get(), 0u) << "unmatched frames are not the rule's";
  EXPECT_EQ(a_to_b.corrupted.Get(), 0u);
  EXPECT_EQ(pipeline->rule_counters()[1].matched.Get(), 0u);
  for (rte_mbuf* packet : {first, second, reference_udp, reference_other}) {
    rte_pktmbuf_free(packet);
  }
}

TEST_F(PipelineImpairmentTest, StallHoldsThenReleasesInArrivalOrder) {
  // Window [1 ms, 3 ms) after the pipeline's start.
  ImpairmentSpec impairment;
  impairment.stall = StallSpec{.duration_ns = 2 * kMs, .start_ns = kMs};
  auto pipeline = MakePipeline(OneRule(impairment));
  uint64_t id = 0;
  Ingest(*pipeline, 0, {MakeUdp(id++)}, kStart + kMs / 2);
  pipeline->Advance(kStart + kMs / 2);
  EXPECT_EQ(PopIds(*pipeline), std::vector<uint64_t>{0}) << "before the window: at once";
  // In the window, from several flows and both directions.
  for (uint64_t t = kStart + kMs; t < kStart + 3 * kMs; t += kMs / 8) {
    Ingest(*pipeline, static_cast<uint16_t>(id % 2), {MakeUdp(id, static_cast<uint16_t>(id % 5))},
           t);
    ++id;
    pipeline->Advance(t);
    ASSERT_EQ(pipeline->PeekReady(), nullptr);
  }
  EXPECT_EQ(pipeline->held(), 16u);
  pipeline->Advance(kStart + 3 * kMs - 1);
  EXPECT_EQ(pipeline->PeekReady(), nullptr);
  pipeline->Advance(kStart + 3 * kMs);
  std::vector<uint64_t> expected;
  for (uint64_t i = 1; i <= 16; ++i) expected.push_back(i);
  EXPECT_EQ(PopIds(*pipeline), expected);
  // After the window: at once again.
  Ingest(*pipeline, 0, {MakeUdp(99)}, kStart + 3 * kMs);
  pipeline->Advance(kStart + 3 * kMs);
  EXPECT_EQ(PopIds(*pipeline), std::vector<uint64_t>{99});
  ExpectAccounted(*pipeline);
}

TEST_F(PipelineImpairmentTest, DelayStartsWhenTheStallEnds) {
  ImpairmentSpec impairment;
  impairment.stall = StallSpec{.duration_ns = kMs};
  impairment.delay = DelaySpec{.base_ns = 5 * kMs};
  auto pipeline = MakePipeline(OneRule(impairment));
  Ingest(*pipeline, 0, {MakeUdp(1)}, kStart + 10);
  pipeline->Advance(kStart + 6 * kMs - 1);
  EXPECT_EQ(pipeline->PeekReady(), nullptr);
  pipeline->Advance(kStart + 6 * kMs);
  EXPECT_EQ(PopIds(*pipeline), std::vector<uint64_t>{1});
}

TEST_F(PipelineImpairmentTest, StallLimitDropsBeyondItPerWindow) {
  ImpairmentSpec impairment;
  impairment.stall = StallSpec{.duration_ns = kMs, .every_ns = 10 * kMs, .limit = {.packets = 5}};
  auto pipeline = MakePipeline(OneRule(impairment));
  for (uint64_t i = 0; i < 8; ++i) Ingest(*pipeline, 0, {MakeUdp(i)}, kStart + i);
  const RuleCounters& rule = pipeline->rule_counters()[0];
  EXPECT_EQ(pipeline->held(), 5u);
  EXPECT_EQ(rule.dropped[static_cast<int>(DropCause::kStallLimit)].Get(), 3u);
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kStallLimit), 3u);
  // The next window has its own budget.
  for (uint64_t i = 0; i < 8; ++i) Ingest(*pipeline, 0, {MakeUdp(10 + i)}, kStart + 10 * kMs + i);
  EXPECT_EQ(pipeline->held(), 10u);
  EXPECT_EQ(rule.dropped[static_cast<int>(DropCause::kStallLimit)].Get(), 6u);
  pipeline->Advance(kStart + 11 * kMs);
  EXPECT_EQ(PopIds(*pipeline), (std::vector<uint64_t>{0, 1, 2, 3, 4, 10, 11, 12, 13, 14}));
  ExpectAccounted(*pipeline);
}

TEST_F(PipelineImpairmentTest, HoldLimitCountsBufferExhaustedPerRule) {
  ProfileSpec spec;
  ImpairmentSpec delay;
  delay.name = "delay";
  delay.delay = DelaySpec{.base_ns = kMs};
  spec.impairments.push_back(delay);
  spec.rules.push_back(RuleSpec{.name = "udp", .match = {.proto = kProtoUdp}, .impairment = 0});
  spec.rules.push_back(
      RuleSpec{.name = "b-to-a", .match = {.direction = Direction::kBToA}, .impairment = 0});
  auto pipeline = MakePipeline(spec, /*hold_limit=*/10);
  std::vector<rte_mbuf*> udp, other_a, other_b;
  for (uint64_t i = 0; i < 8; ++i) {
    udp.push_back(MakeUdp(i));
    other_a.push_back(MakeOther(100 + i));
    other_b.push_back(MakeOther(200 + i));
  }
  Ingest(*pipeline, 0, udp, kStart);      // rule 0 a-to-b: 8 held
  Ingest(*pipeline, 1, other_b, kStart);  // rule 1 b-to-a: 2 held, 6 dropped
  Ingest(*pipeline, 0, other_a, kStart);  // unmatched: 8 dropped, the pipeline's only
  EXPECT_EQ(pipeline->held(), 10u);
  const Pipeline::RuleCounterView rules = pipeline->rule_counters();
  const int exhausted = static_cast<int>(DropCause::kBufferExhausted);
  EXPECT_EQ(rules[0].dropped[exhausted].Get(), 0u);
  EXPECT_EQ(rules[3].dropped[exhausted].Get(), 6u);  // rule 1, b-to-a
  EXPECT_EQ(rules[3].matched.Get(), 8u);
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kBufferExhausted), 14u);
  EXPECT_EQ(pipeline->counters().unmatched.Get(), 8u);
  pipeline->AdvanceAll();
  PopIds(*pipeline);
  EXPECT_EQ(rules[0].forwarded.Get(), 8u);
  EXPECT_EQ(rules[3].forwarded.Get(), 2u);
}

TEST_F(PipelineImpairmentTest, EveryFrameIsAccountedForAndFlowsKeepTheirOrder) {
  // Everything at once: bursty loss, duplicates, 1 ms + normal jitter, a 100 Mbit/s link with a
  // short queue, corruption; 16 flows in both directions, a frame every 2 us (above the link
  // rate, so the queue fills and drops), and a hold limit that is reached.
  ImpairmentSpec impairment;
  impairment.delay = DelaySpec{.base_ns = kMs,
                               .jitter_ns = 200'000,
                               .distribution = DistributionKind::kNormal,
                               .table = GenerateDistributionTable(DistributionKind::kNormal)};
  impairment.loss =
      LossSpec{.model = LossModel::kGilbertElliott, .p = 0.02, .r = 0.3, .loss_bad = 0.9};
  impairment.duplicate = DuplicateSpec{.probability = 0.1};
  impairment.corrupt = CorruptSpec{.probability = 0.01};
  impairment.rate = RateSpec{.bandwidth_bps = 100'000'000, .queue_limit = {.packets = 20}};
  auto pipeline = MakePipeline(OneRule(impairment), /*hold_limit=*/300, /*seed=*/42);
  std::map<std::pair<uint16_t, uint16_t>, uint64_t> last_id;  // (out port, flow) -> id
  uint64_t id = 0, popped = 0;
  auto pop = [&] {
    while (rte_mbuf* packet = pipeline->PopReady()) {
      const auto key = std::make_pair(Meta(packet)->out_port, UdpFlow(packet));
      const uint64_t this_id = UdpId(packet);
      auto [it, first] = last_id.try_emplace(key, this_id);
      if (!first) {
        // A copy leaves right after its original (same id); otherwise ids only grow.
        EXPECT_GE(this_id, it->second) << "flow " << key.second << " reordered";
        it->second = this_id;
      }
      rte_pktmbuf_free(packet);
      ++popped;
    }
  };
  for (uint64_t t = kStart; t < kStart + 20 * kMs; t += 2000) {
    const uint16_t port = static_cast<uint16_t>((t / 2000) % 2);
    Ingest(*pipeline, port, {MakeUdp(id, static_cast<uint16_t>(id % 16))}, t);
    ++id;
    pipeline->Advance(t);
    if (id % 7 == 0) pop();  // not every time: some frames wait in the ready FIFO
    ExpectAccounted(*pipeline);
    if (::testing::Test::HasFailure()) return;
  }
  pipeline->AdvanceAll();
  pop();
  EXPECT_EQ(pipeline->held(), 0u);
  ExpectAccounted(*pipeline);
  // Every model did something.
  Totals totals = RuleTotals(*pipeline);
  EXPECT_EQ(totals.matched, id);
  EXPECT_EQ(totals.forwarded, popped);
  EXPECT_GT(totals.duplicated, 0u);
  EXPECT_GT(pipeline->counters().Dropped(DropCause::kLoss), 0u);
  EXPECT_GT(pipeline->counters().Dropped(DropCause::kQueue), 0u);
  EXPECT_GT(pipeline->counters().Dropped(DropCause::kBufferExhausted), 0u);
  uint64_t corrupted = 0;
  for (const RuleCounters& rule : pipeline->rule_counters()) corrupted += rule.corrupted.Get();
  EXPECT_GT(corrupted, 0u);
}

// Ingests one UDP frame on port 0 every `step` for `duration` from kStart (numbered from *id
// on), then drains the pipeline; returns the ids in the order they left.
std::vector<uint64_t> SendOnePerStep(Pipeline& pipeline, uint64_t duration, uint64_t step,
                                     uint64_t* id) {
  std::vector<uint64_t> out;
  for (uint64_t t = kStart; t < kStart + duration; t += step) {
    Ingest(pipeline, 0, {MakeUdp((*id)++)}, t);
    pipeline.Advance(t);
    for (uint64_t popped : TransmitIds(pipeline)) out.push_back(popped);
  }
  pipeline.AdvanceAll();
  for (uint64_t popped : TransmitIds(pipeline)) out.push_back(popped);
  return out;
}

TEST_F(PipelineImpairmentTest, JitterNeverReordersAFlow) {
  // Large jitter against the frame spacing: without order keeping most frames would overtake.
  ImpairmentSpec impairment;
  impairment.delay = DelaySpec{.base_ns = kMs, .jitter_ns = 500'000};
  auto pipeline = MakePipeline(OneRule(impairment));
  uint64_t id = 0;
  const std::vector<uint64_t> out = SendOnePerStep(*pipeline, 5 * kMs, 1000, &id);
  ASSERT_EQ(out.size(), id);
  for (uint64_t i = 0; i < id; ++i) ASSERT_EQ(out[i], i);
  // The clamp lengthens delays, never shortens them: every recorded delay is >= base - jitter.
  HistogramSummary delays;
  delays.Add(pipeline->rule_counters()[0].delay_ns);
  EXPECT_EQ(delays.total, id);
  EXPECT_GE(delays.Percentile(0.001), (kMs - 500'000) * 63 / 64);
}

TEST_F(PipelineImpairmentTest, ReorderStaysWithinMaxDisplacement) {
  ImpairmentSpec impairment;
  impairment.delay = DelaySpec{.base_ns = kMs};
  impairment.reorder = ReorderSpec{.probability = 0.3, .max_displacement = 3};
  auto pipeline = MakePipeline(OneRule(impairment));
  uint64_t id = 0;
  const std::vector<uint64_t> out = SendOnePerStep(*pipeline, 4 * kMs, 10'000, &id);
  ASSERT_EQ(out.size(), id);
  int moved = 0;
  for (uint64_t position = 0; position < out.size(); ++position) {
    const int64_t displacement =
        static_cast<int64_t>(position) - static_cast<int64_t>(out[position]);
    ASSERT_LE(std::abs(displacement), 3) << "frame " << out[position] << " at " << position;
    moved += displacement != 0;
  }
  EXPECT_GT(moved, 0);
  EXPECT_GT(pipeline->rule_counters()[0].reordered.Get(), 0u);
}

TEST_F(PipelineImpairmentTest, RateQueueMarksEcnCapableFrames) {
  // 100 Mbit/s: a 64 B frame takes 5120 ns; a burst of 8 queues; from the 3rd frame on the
  // queue holds at least 2.
  ImpairmentSpec impairment;
  impairment.rate = RateSpec{
      .bandwidth_bps = 100'000'000, .queue_limit = {.packets = 6}, .ecn_threshold = {.packets = 2}};
  auto pipeline = MakePipeline(OneRule(impairment));
  std::vector<rte_mbuf*> ect, not_ect;
  for (uint64_t i = 0; i < 8; ++i) ect.push_back(MakeUdp(i, 1, /*tos=*/0x02));  // ECT(0)
  Ingest(*pipeline, 0, ect, kStart);
  pipeline->Advance(kStart + kMs);
  std::vector<uint64_t> ids;
  uint64_t expected_departure = kStart;
  while (rte_mbuf* packet = pipeline->PopReady()) {
    const uint64_t i = UdpId(packet);
    ids.push_back(i);
    expected_departure += 5120;
    EXPECT_EQ(Meta(packet)->departure, expected_departure) << "serialised one after another";
    auto* ip = rte_pktmbuf_mtod_offset(packet, rte_ipv4_hdr*, 14);
    EXPECT_EQ(ip->type_of_service & 3, i < 2 ? 2 : 3) << "frame " << i;
    // The header checksum still verifies: recomputing over the header gives the stored value.
    const uint16_t stored = ip->hdr_checksum;
    ip->hdr_checksum = 0;
    EXPECT_EQ(rte_ipv4_cksum(ip), stored) << "frame " << i;
    rte_pktmbuf_free(packet);
  }
  EXPECT_EQ(ids, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5})) << "the limit drops the last two";
  const RuleCounters& rule = pipeline->rule_counters()[0];
  EXPECT_EQ(rule.ecn_marked.Get(), 4u);
  EXPECT_EQ(rule.dropped[static_cast<int>(DropCause::kQueue)].Get(), 2u);
  // Not-ECT frames queue unmarked.
  for (uint64_t i = 0; i < 4; ++i) not_ect.push_back(MakeUdp(10 + i, 1, /*tos=*/0));
  Ingest(*pipeline, 0, not_ect, kStart + 2 * kMs);
  pipeline->AdvanceAll();
  while (rte_mbuf* packet = pipeline->PopReady()) {
    EXPECT_EQ(rte_pktmbuf_mtod_offset(packet, rte_ipv4_hdr*, 14)->type_of_service, 0);
    rte_pktmbuf_free(packet);
  }
  EXPECT_EQ(rule.ecn_marked.Get(), 4u);
}

TEST_F(PipelineImpairmentTest, SameSeedSameDecisionsOtherStreamOthers) {
  ImpairmentSpec impairment;
  impairment.loss = LossSpec{.probability = 0.3};
  const ProfileSpec spec = OneRule(impairment);
  auto survivors = [&](uint64_t seed, uint64_t stream) {
    auto pipeline = MakePipeline(spec, 100'000, seed, stream);
    for (uint64_t i = 0; i < 200; ++i) Ingest(*pipeline, 0, {MakeUdp(i)}, kStart + i);
    pipeline->AdvanceAll();
    return PopIds(*pipeline);
  };
  const std::vector<uint64_t> a = survivors(7, 0);
  EXPECT_EQ(a, survivors(7, 0));
  EXPECT_NE(a, survivors(7, 1));
  EXPECT_NE(a, survivors(8, 0));
  EXPECT_NEAR(static_cast<double>(a.size()), 140.0, 35.0);
}

TEST_F(PipelineImpairmentTest, DelayHistogramOnTheTsc) {
  // TSC units are converted to ns for the histogram.
  const TimeBase tsc = TimeBase::ForHz(2'600'000'000);
  ImpairmentSpec impairment;
  impairment.delay = DelaySpec{.base_ns = kMs};
  Pipeline pipeline({.hold_limit = 1000,
                     .profile = Compile(OneRule(impairment), 1, tsc),
                     .flow_idle = FlowIdleTimeout(tsc, kMs)},
                    tsc.wheel_tick_shift, kStart);
  for (uint64_t i = 0; i < 10; ++i) Ingest(pipeline, 0, {MakeUdp(i)}, kStart + i * 1000);
  pipeline.AdvanceAll();
  EXPECT_EQ(TransmitIds(pipeline, tsc).size(), 10u);
  // Recorded when the frames left (a frame dropped while held has no delay recorded).
  HistogramSummary delays;
  delays.Add(pipeline.rule_counters()[0].delay_ns);
  EXPECT_EQ(delays.total, 10u);
  EXPECT_EQ(delays.max, kMs);
  EXPECT_NEAR(static_cast<double>(delays.Percentile(0.5)), 1e6, 1e6 / 64);
}

// ---- Partitions: checked before rules; cut frames are dropped or answered, and counted. ----

Prefix V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t length) {
  Prefix prefix;
  prefix.family = 4;
  prefix.length = length;
  prefix.address[0] = a;
  prefix.address[1] = b;
  prefix.address[2] = c;
  prefix.address[3] = d;
  return prefix;
}

// MakeUdp frames go from 10.0.1.1 to 10.0.2.2.
PartitionSpec OneWay(const std::string& name, Prefix from, Prefix to,
                     PartitionMode mode = PartitionMode::kDrop) {
  return PartitionSpec{
      .name = name, .cuts = {PartitionCut{.from = {{from}, {}}, .to = {{to}, {}}}}, .mode = mode};
}

// The counters of the partition with counter id `id` (its position, without RuleIdentities).
const PartitionCounters& Cut(const Pipeline& pipeline, uint32_t id, int direction) {
  static const PartitionCounters kNone;
  const PartitionCounters* counters = pipeline.FindPartitionCounters(id, direction);
  EXPECT_NE(counters, nullptr) << "partition " << id << " was never prepared";
  return counters != nullptr ? *counters : kNone;
}

// One rule delaying everything by 1 ms.
ProfileSpec DelayEverything() {
  ImpairmentSpec delay;
  delay.delay = DelaySpec{.base_ns = kMs};
  return OneRule(delay);
}

TEST(PipelinePartitionTest, CutFramesAreDroppedAndCountedPerDirection) {
  ProfileSpec spec = DelayEverything();
  spec.partitions.push_back(OneWay("a1 -> b1", V4(10, 0, 1, 1, 32), V4(10, 0, 2, 0, 24)));
  auto pipeline = MakePipeline(spec);
  std::vector<rte_mbuf*> frames;
  for (uint32_t i = 0; i < 10; ++i) frames.push_back(MakeUdp(i));
  Ingest(*pipeline, 0, frames, kStart);
  Ingest(*pipeline, 1, {MakeUdp(10), MakeUdp(11)}, kStart);
  pipeline->AdvanceAll();
  EXPECT_TRUE(PopIds(*pipeline).empty());
  EXPECT_EQ(Cut(*pipeline, 0, 0).dropped.Get(), 10u) << "a-to-b";
  EXPECT_EQ(Cut(*pipeline, 0, 1).dropped.Get(), 2u) << "b-to-a";
  EXPECT_EQ(Cut(*pipeline, 0, 0).answered.Get(), 0u);
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kPartition), 12u);
  EXPECT_EQ(RuleTotals(*pipeline).matched, 0u) << "partitions come before rules";
}

TEST(PipelinePartitionTest, FramesOutsideThePartitionReachTheRules) {
  ProfileSpec spec = DelayEverything();
  // The reverse direction of the frames' flow is cut, not theirs.
  spec.partitions.push_back(OneWay("b -> a", V4(10, 0, 2, 0, 24), V4(10, 0, 1, 0, 24)));
  auto pipeline = MakePipeline(spec);
  Ingest(*pipeline, 0, {MakeUdp(1), MakeUdp(2)}, kStart);
  pipeline->Advance(kStart + kMs);
  EXPECT_EQ(PopIds(*pipeline), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(RuleTotals(*pipeline).matched, 2u);
  EXPECT_EQ(Cut(*pipeline, 0, 0).dropped.Get(), 0u);
}

TEST(PipelinePartitionTest, AnswersGoBackOutOfTheArrivalPortAtOnce) {
  ProfileSpec spec;
  spec.partitions.push_back(
      OneWay("reset", V4(10, 0, 1, 0, 24), V4(10, 0, 2, 2, 32), PartitionMode::kTcpReset));
  auto pipeline = MakePipeline(spec);
  Ingest(*pipeline, 1, {MakeUdp(1), MakeUdp(2), MakeUdp(3)}, kStart);
  pipeline->Advance(kStart + 1);
  int answers = 0;
  while (rte_mbuf* answer = pipeline->PopReady()) {
    EXPECT_EQ(Meta(answer)->out_port, 1) << "back to the sender's side";
    const uint8_t* data = rte_pktmbuf_mtod(answer, const uint8_t*);
    EXPECT_EQ(data[14 + 9], kProtoIcmp) << "UDP under tcp-reset: port unreachable";
    EXPECT_EQ(data[14 + 20], 3);
    EXPECT_EQ(data[14 + 21], 3);
    rte_pktmbuf_free(answer);
    ++answers;
  }
  EXPECT_EQ(answers, 3);
  EXPECT_EQ(Cut(*pipeline, 0, 1).dropped.Get(), 3u);
  EXPECT_EQ(Cut(*pipeline, 0, 1).answered.Get(), 3u);
}

TEST(PipelinePartitionTest, SwapKeepsCountersByNameAndChangesCutsAtOnce) {
  // As a live dataplane compiles: partitions keep their counters by name (RuleIdentities).
  RuleIdentities identities;
  auto compile = [&](const ProfileSpec& spec, const CompiledProfile* previous) {
    return CompileProfile(spec, kNs, 1,
                          CompileOptions{.identities = &identities, .previous = previous});
  };
  ProfileSpec spec;
  spec.partitions.push_back(OneWay("cut", V4(10, 0, 1, 0, 24), V4(10, 0, 2, 0, 24)));
  auto first = compile(spec, nullptr);
  auto pipeline = std::make_unique<Pipeline>(
      PipelineConfig{.hold_limit = 100'000, .profile = first}, kNs.wheel_tick_shift, kStart);
  Ingest(*pipeline, 0, {MakeUdp(1), MakeUdp(2)}, kStart);
  // Another partition in front: "cut" moves to index 1 and keeps its count.
  ProfileSpec moved = spec;
  moved.partitions.insert(moved.partitions.begin(),
                          OneWay("other", V4(10, 9, 0, 0, 16), V4(10, 9, 0, 0, 16)));
  auto second = compile(moved, first.get());
  ASSERT_EQ(pipeline->Prepare(*second), "");
  auto previous = pipeline->SwapProfile(second);
  EXPECT_EQ(previous->partitions.size(), 1u);
  const uint32_t cut = second->partitions[1].counter_id, other = second->partitions[0].counter_id;
  EXPECT_EQ(cut, first->partitions[0].counter_id);
  EXPECT_EQ(Cut(*pipeline, cut, 0).dropped.Get(), 2u);
  EXPECT_EQ(Cut(*pipeline, other, 0).dropped.Get(), 0u);
  Ingest(*pipeline, 0, {MakeUdp(3)}, kStart + 1);
  EXPECT_EQ(Cut(*pipeline, cut, 0).dropped.Get(), 3u);
  // Healed: the next frame goes through, and the healed partitions are history with their counts.
  auto healed = compile(ProfileSpec{}, second.get());
  ASSERT_EQ(healed->healed_partitions.size(), 2u);
  EXPECT_EQ(healed->healed_partitions[1].name, "cut");
  ASSERT_EQ(pipeline->Prepare(*healed), "");
  pipeline->SwapProfile(healed);
  Ingest(*pipeline, 0, {MakeUdp(4)}, kStart + 2);
  pipeline->Advance(kStart + 3);
  EXPECT_EQ(PopIds(*pipeline), (std::vector<uint64_t>{4}));
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kPartition), 3u);
  EXPECT_EQ(Cut(*pipeline, cut, 0).dropped.Get(), 3u) << "history";
  StatsReport report;
  SummarizeRules({pipeline.get()}, *healed, &report);
  ASSERT_EQ(report.partitions.size(), 1u) << "history that counted something";
  EXPECT_EQ(report.partitions[0].name, "cut");
  EXPECT_FALSE(report.partitions[0].in_force);
  EXPECT_EQ(report.partitions[0].total.dropped, 3u);
  // A reset empties the counters, and the history with them.
  pipeline->ResetCounters();
  EXPECT_EQ(Cut(*pipeline, cut, 0).dropped.Get(), 0u);
  EXPECT_EQ(pipeline->counters().Dropped(DropCause::kPartition), 0u);
  StatsReport after;
  SummarizeRules({pipeline.get()}, *healed, &after);
  EXPECT_TRUE(after.partitions.empty());
}

}  // namespace
}  // namespace faultline

namespace faultline {
namespace {

// Live changes of rules and impairments (apply, trace steps): counters and flows follow a rule's
// name, model state its name and effects, and held frames leave as they were scheduled.
class PipelineLiveChangeTest : public ::testing::Test {
 protected:
  static ImpairmentSpec Delay(const std::string& name, uint64_t base, uint64_t jitter = 0) {
    ImpairmentSpec impairment;
    impairment.name = name;
    impairment.delay = DelaySpec{.base_ns = base, .jitter_ns = jitter};
    return impairment;
  }
  std::shared_ptr<const CompiledProfile> Next(const ProfileSpec& spec, uint64_t activation = 0) {
    auto next =
        CompileProfile(spec, kNs, 1,
                       CompileOptions{.activation = activation,
                                      .identities = &identities_,
                                      .previous = pipeline_ ? pipeline_->profile() : nullptr});
    return next;
  }
  void Start(const ProfileSpec& spec, uint32_t min_ring = 0) {
    pipeline_ =
        std::make_unique<Pipeline>(PipelineConfig{.hold_limit = 100'000,
                                                  .profile = Next(spec),
                                                  .flow_idle = FlowIdleTimeout(kNs, 100 * kMs),
                                                  .min_displacement_ring = min_ring},
                                   kNs.wheel_tick_shift, kStart);
  }
  // What a worker gets from the control thread: prepared, then swapped in.
  void Change(const ProfileSpec& spec, uint64_t activation = 0) {
    auto next = Next(spec, activation);
    ASSERT_EQ(pipeline_->Prepare(*next), "");
    pipeline_->SwapProfile(next);
  }
  const RuleCounters& Counters(const std::string& rule, int direction = 0) {
    const auto id = identities_.CounterId(rule);
    const RuleCounters* counters = pipeline_->FindRuleCounters(*id, direction);
    EXPECT_NE(counters, nullptr) << rule;
    return *counters;
  }

  RuleIdentities identities_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineLiveChangeTest, RulesComeAndGoAndKeepTheirCountersByName) {
  ProfileSpec first;
  first.impairments = {Delay("one", kMs), Delay("five", 5 * kMs)};
  first.rules = {RuleSpec{.name = "old", .match = {}, .impairment = 0}};
  Start(first);
  Ingest(*pipeline_, 0, {MakeUdp(1), MakeUdp(2), MakeUdp(3)}, kStart);

  // A new rule in front that these frames do not match; "old" moves to index 1.
  ProfileSpec second = first;
  MatchSpec elsewhere;
  elsewhere.dst_port_min = elsewhere.dst_port_max = 9999;
  elsewhere.has_dst_port = true;
  second.rules.insert(second.rules.begin(),
                      RuleSpec{.name = "new", .match = elsewhere, .impairment = 1});
  Change(second);
  Ingest(*pipeline_, 0, {MakeUdp(4), MakeUdp(5)}, kStart + 1);
  pipeline_->Advance(kStart + 2 * kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Counters("old").matched.Get(), 5u) << "the frames before and after the change";
  EXPECT_EQ(Counters("old").forwarded.Get(), 5u);
  EXPECT_EQ(Counters("new").matched.Get(), 0u);
  EXPECT_EQ(pipeline_->rule_counters()[2].matched.Get(), 5u) << "the view follows rule order";

  // "old" goes; frames it held are still counted on it when they leave.
  Ingest(*pipeline_, 0, {MakeUdp(6)}, kStart + 3 * kMs);
  ProfileSpec third;
  third.impairments = first.impairments;
  third.rules = {RuleSpec{.name = "new", .match = {}, .impairment = 1}};
  Change(third);
  Ingest(*pipeline_, 0, {MakeUdp(7)}, kStart + 3 * kMs + 1);
  pipeline_->Advance(kStart + 20 * kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{6, 7}));
  EXPECT_EQ(Counters("old").forwarded.Get(), 6u);
  EXPECT_EQ(Counters("new").matched.Get(), 1u);
  EXPECT_EQ(Counters("new").forwarded.Get(), 1u);
  ASSERT_EQ(pipeline_->rule_counters().size(), 2u);
  EXPECT_EQ(pipeline_->rule_counters()[0].matched.Get(), 1u);
}

TEST_F(PipelineLiveChangeTest, ANewImpairmentKeepsTheFlowsOrder) {
  // With jitter the flow keeps its order by its last departure. After the rule switches from
  // 10 ms to 1 ms the flow's entry survives (it belongs to the rule's name), so the frames sent
  // after the change wait for those before it instead of overtaking them.
  ProfileSpec slow;
  slow.impairments = {Delay("slow", 10 * kMs, 1000), Delay("fast", kMs, 1000)};
  slow.rules = {RuleSpec{.name = "rule", .match = {}, .impairment = 0}};
  Start(slow);
  for (uint32_t id = 1; id <= 5; ++id) Ingest(*pipeline_, 0, {MakeUdp(id)}, kStart + id);
  ProfileSpec fast = slow;
  fast.rules[0].impairment = 1;
  Change(fast);
  for (uint32_t id = 6; id <= 10; ++id) Ingest(*pipeline_, 0, {MakeUdp(id)}, kStart + id);
  pipeline_->Advance(kStart + 5 * kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{})) << "nothing overtook the slow five";
  pipeline_->Advance(kStart + 30 * kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(Counters("rule").matched.Get(), 10u);
}

TEST_F(PipelineLiveChangeTest, ATraceStallStartsAtItsActivationTime) {
  ProfileSpec base;
  Start(base);
  ProfileSpec stalled;
  ImpairmentSpec pause;
  pause.name = "stall";
  pause.stall = StallSpec{.duration_ns = 4 * kMs, .at_activation = true};
  stalled.impairments = {pause};
  stalled.rules = {RuleSpec{.name = "stall n1", .match = {}, .impairment = 0}};
  const uint64_t activation = kStart + 10 * kMs;  // long after the pipeline's epoch
  Change(stalled, activation);
  Ingest(*pipeline_, 0, {MakeUdp(1)}, activation + kMs);
  pipeline_->Advance(activation + 4 * kMs - 1);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{})) << "held to the window's end";
  pipeline_->Advance(activation + 4 * kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{1}));
  // The same stall in a later round: the same state, a new window.
  Change(base);
  Change(stalled, activation + 100 * kMs);
  Ingest(*pipeline_, 0, {MakeUdp(2)}, activation + 100 * kMs + 1);
  pipeline_->Advance(activation + 104 * kMs - 1);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{}));
  pipeline_->Advance(activation + 104 * kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{2}));
}

TEST_F(PipelineLiveChangeTest, ALinkDownDropsEveryFrameWithItsOwnCause) {
  ProfileSpec base;
  Start(base);
  ProfileSpec down = base;
  down.link_down[1] = true;  // side b
  Change(down);
  Ingest(*pipeline_, 0, {MakeUdp(1), MakeUdp(2)}, kStart + 1);  // would leave by b
  Ingest(*pipeline_, 1, {MakeUdp(3)}, kStart + 1);              // arrived on b
  pipeline_->Advance(kStart + kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{}));
  EXPECT_EQ(pipeline_->counters().Dropped(DropCause::kLinkDown), 3u);
  Change(base);
  Ingest(*pipeline_, 0, {MakeUdp(4)}, kStart + 2);
  pipeline_->Advance(kStart + kMs);
  EXPECT_EQ(PopIds(*pipeline_), (std::vector<uint64_t>{4}));
}

TEST_F(PipelineLiveChangeTest, PrepareRefusesAReorderBoundBeyondTheFlowRings) {
  ProfileSpec base;
  Start(base, /*min_ring=*/16);
  ImpairmentSpec bounded = Delay("bounded", kMs);
  bounded.reorder = ReorderSpec{.probability = 0.5, .max_displacement = 14};
  ProfileSpec fits;
  fits.impairments = {bounded};
  fits.rules = {RuleSpec{.name = "r", .match = {}, .impairment = 0}};
  EXPECT_EQ(pipeline_->Prepare(*Next(fits)), "");
  fits.impairments[0].reorder->max_displacement = 15;
  EXPECT_NE(pipeline_->Prepare(*Next(fits))
                .find("rings of 32 entries and this dataplane has 16 (max-displacement up to 14)"),
            std::string::npos);
}

// Model state is shared by every profile that has the same state id, never rebuilt while the
// worker may be using it: a state id that comes back with other effects (profiles compiled with
// another RuleIdentities) is refused rather than run on the wrong model state.
TEST_F(PipelineLiveChangeTest, PrepareRefusesAStateIdWithOtherEffects) {
  ProfileSpec plain;
  plain.impairments = {Delay("plain", kMs)};
  plain.rules = {RuleSpec{.name = "r", .match = {}, .impairment = 0}};
  Start(plain);
  ProfileSpec limited = plain;
  limited.impairments[0].rate = RateSpec{.bandwidth_bps = 1'000'000};
  RuleIdentities other;  // gives "r" with a rate state id 0, which "r" without one has here
  const auto foreign = CompileProfile(limited, kNs, 1, CompileOptions{.identities = &other});
  EXPECT_NE(pipeline_->Prepare(*foreign).find("rule 'r' has state id 0 with other effects"),
            std::string::npos);
  EXPECT_EQ(pipeline_->Prepare(*Next(limited)), "") << "its own identities: a new state id";
}

}  // namespace
}  // namespace faultline
