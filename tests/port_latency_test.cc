// A port's residence and lateness histograms derived from its rules' (PipelineConfig::
// derive_port_latency, one port pair) are exactly those recorded frame by frame at the port; on a
// TSC-like clock, the histograms hold clock units (HistogramUnits) and read in ns.
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
             derived->histogram_hz());
  }
  EXPECT_GT(rule.residence_ns.total, total / 2);
  EXPECT_LT(rule.residence_ns.total, total);
}

// A live pipeline's clock (2.6 GHz, as this machine's TSC; histograms in units of 2 ticks) and an
// odd one (3.1 GHz + 123 Hz): a constant 5 ms delay, each frame sent 700 ns after its departure,
// reads 5 ms, 700 ns and 5.0007 ms in ns (to the ns rounding and the 0.1% of a bucket).
TEST(PortLatencyTest, ClockUnitsReadInNanoseconds) {
  for (uint64_t hz : {uint64_t{2'600'000'000}, uint64_t{3'100'000'123}}) {
    const TimeBase base = TimeBase::ForHz(hz);
    EXPECT_EQ(HistogramUnits(hz).shift, 1u);
    ProfileSpec spec;
    spec.impairments.push_back({.name = "constant", .delay = DelaySpec{.base_ns = 5'000'000}});
    MatchSpec udp;
    udp.proto = 17;
    spec.rules.push_back(RuleSpec{.name = "udp", .match = udp, .impairment = 0});
    Pipeline pipeline(PipelineConfig{.hold_limit = 10'000,
                                     .profile = CompileProfile(spec, base, 15),
                                     .derive_port_latency = true,
                                     .clock_hz = hz},
                      base.wheel_tick_shift, kStart);
    uint64_t now = kStart;
    for (uint64_t id = 0; id < 400; ++id) {
      rte_mbuf* frame = MakeFrame(id, true);
      ASSERT_NE(frame, nullptr);
      pipeline.Ingest(static_cast<uint16_t>(id & 1), &frame, 1, now);
      now += base.FromNs(50'000);
      pipeline.Advance(now);
      while (rte_mbuf* packet = pipeline.PopReady()) {
        pipeline.RecordTransmitAt(*Meta(packet), Meta(packet)->departure + base.FromNs(700));
        rte_pktmbuf_free(packet);
      }
    }
    pipeline.DropAll(DropCause::kShutdown);
    RuleTotals rule, a_to_b;
    for (int direction = 0; direction < 2; ++direction) {
      const RuleCounters& counters =
          *pipeline.FindRuleCounters(pipeline.profile()->rule_counter_id[0], direction);
      rule.Add(counters, pipeline.histogram_hz());
      if (direction == 0) a_to_b.Add(counters, pipeline.histogram_hz());
    }
    // To the ns: the units are rounded once at the conversion, and the shift to histogram units
    // drops at most one tick (0.4 ns) before it.
    ASSERT_GT(rule.delay_ns.total, 250u) << hz;  // 400 in, the last 5 ms still held
    EXPECT_NEAR(static_cast<double>(rule.delay_ns.min), 5e6, 1.0) << hz;
    EXPECT_NEAR(static_cast<double>(rule.delay_ns.Percentile(0.5)), 5e6, 1.0) << hz;
    EXPECT_EQ(rule.delay_ns.max, rule.delay_ns.min) << hz;
    EXPECT_NEAR(static_cast<double>(rule.lateness_ns.Percentile(0.5)), 700.0, 1.0) << hz;
    EXPECT_NEAR(static_cast<double>(rule.residence_ns.Percentile(0.5)), 5'000'700.0, 5'000.7) << hz;
    HistogramSummary residence, lateness;
    pipeline.AddPortLatency(1, &residence, &lateness);  // a-to-b's rule histograms, derived
    EXPECT_EQ(residence.total, a_to_b.residence_ns.total) << hz;
    EXPECT_EQ(residence.counts, a_to_b.residence_ns.counts) << hz;
  }
}

}  // namespace
}  // namespace faultline
