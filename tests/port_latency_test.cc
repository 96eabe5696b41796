// A port's residence and lateness histograms derived from its rules' (PipelineConfig::
// derive_port_latency, one port pair) are exactly those recorded frame by frame at the port.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/fastpath/clock.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/pipeline.h"
#include "tests/eal_environment.h"

namespace faultline {
namespace {

using testing::EalEnvironment;

const TimeBase kNs = TimeBase::Nanoseconds();
constexpr uint64_t kStart = 1'000'000'000'000;

// A 64-byte IPv4/UDP frame (the rule matches UDP) or, if `udp` is false, a non-IP frame that no
// rule matches (a port's own histogram holds those).
rte_mbuf* MakeFrame(uint64_t id, bool udp) {
  rte_mbuf* packet = testing::MakePacket(EalEnvironment::pool(), id);
  if (packet == nullptr || !udp) return packet;
  uint8_t* data = rte_pktmbuf_mtod(packet, uint8_t*);
  // clang-format off
  const uint8_t header[] = {
      0x02, 0, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0, 0xaa, 0x08, 0x00,            // Ethernet
      0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 1, 1, 10, 0, 2, 2,    // IPv4
      static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x13, 0x88, 0, 30, 0, 0};  // UDP
  // clang-format on
  std::memcpy(data, header, sizeof(header));
  return packet;
}

// Runs the same frames through a pipeline: delay 1 ms with 300 us jitter on UDP, every third
// frame non-IP (no rule), bursts alternating sides; each released frame is "sent" 0-6 us after
// the release and recorded as the worker records it.
std::unique_ptr<Pipeline> RunFrames(bool derive) {
  ProfileSpec spec;
  spec.impairments.push_back(
      {.name = "jitter", .delay = DelaySpec{.base_ns = 1'000'000, .jitter_ns = 300'000}});
  MatchSpec udp;
  udp.proto = 17;
  spec.rules.push_back(RuleSpec{.name = "udp", .match = udp, .impairment = 0});
  auto pipeline =
      std::make_unique<Pipeline>(PipelineConfig{.hold_limit = 100'000,
                                                .profile = CompileProfile(spec, kNs, 15),
                                                .derive_port_latency = derive},
                                 kNs.wheel_tick_shift, kStart);
  uint64_t id = 0;
  uint64_t now = kStart;
  for (int burst = 0; burst < 200; ++burst) {
    rte_mbuf* frames[16];
    for (rte_mbuf*& frame : frames) {
      frame = MakeFrame(id, id % 3 != 0);
      ++id;
    }
    pipeline->Ingest(static_cast<uint16_t>(burst & 1), frames, 16, now);
    now += 20'000;
    pipeline->Advance(now);
    uint64_t extra = 0;
    while (rte_mbuf* packet = pipeline->PopReady()) {
      const PacketMeta* meta = Meta(packet);
      const uint64_t sent = now + (extra++ % 7) * 1'000;
      pipeline->RecordTransmit(meta->out_port, meta->rule_slot, meta->departure - meta->arrival,
                               static_cast<int64_t>(sent - meta->departure));
      rte_pktmbuf_free(packet);
    }
  }
  pipeline->DropAll(DropCause::kShutdown);
  return pipeline;
}

TEST(PortLatencyTest, DerivedFromRulesEqualsRecordedAtThePort) {
  const std::unique_ptr<Pipeline> recorded = RunFrames(false);
  const std::unique_ptr<Pipeline> derived = RunFrames(true);
  for (uint16_t port : {0, 1}) {
    HistogramSummary residence[2], lateness[2];
    recorded->AddPortLatency(port, &residence[0], &lateness[0]);
    derived->AddPortLatency(port, &residence[1], &lateness[1]);
    ASSERT_GT(residence[0].total, 1000u) << "port " << port;
    EXPECT_GT(residence[0].max, residence[0].min) << "jitter: many buckets";
    for (const HistogramSummary* pair : {residence, lateness}) {
      EXPECT_EQ(pair[0].total, pair[1].total) << "port " << port;
      EXPECT_EQ(pair[0].max, pair[1].max) << "port " << port;
      EXPECT_EQ(pair[0].min, pair[1].min) << "port " << port;
      EXPECT_EQ(pair[0].counts, pair[1].counts) << "port " << port;
      EXPECT_EQ(pair[0].Percentile(0.999), pair[1].Percentile(0.999)) << "port " << port;
    }
  }
  // Both paths were taken: frames with the rule (in the rule's histograms) and without.
  uint64_t total = 0;
  for (uint16_t port : {0, 1}) {
    HistogramSummary residence, lateness;
    recorded->AddPortLatency(port, &residence, &lateness);
    total += residence.total;
  }
  RuleTotals rule;
  for (int direction = 0; direction < 2; ++direction) {
    rule.Add(*derived->FindRuleCounters(derived->profile()->rule_counter_id[0], direction),
             derived->clock_hz());
  }
  EXPECT_GT(rule.residence_ns.total, total / 2);
  EXPECT_LT(rule.residence_ns.total, total);
}

}  // namespace
}  // namespace faultline
