// Express lanes (PipelineConfig::express_ports) against the frame-by-frame path: for every
// profile whose route is the same for a whole direction, a pipeline with lanes must send the
// same frames, at the same times, in the same order, with the same counters and histograms as
// one without; and the lanes must be used only for such profiles.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "dataplane/config/starting_profile.h"
#include "dataplane/fastpath/clock.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/pipeline.h"
#include "tests/eal_environment.h"
#include "tests/frame_builder.h"

namespace faultline {
namespace {

using testing::Bytes;
using testing::EalEnvironment;

constexpr uint64_t kStart = 40'000'000'000'000;
const TimeBase kTsc = TimeBase::ForHz(2'600'000'000);
// Tick shift 0: the wheel releases a frame as soon as its departure is <= now, as a lane does,
// so the two paths must agree to the clock unit.
constexpr unsigned kExactTicks = 0;

// The kinds of frames a lane must not treat differently from the classifier: IPv4 UDP, IPv6
// TCP, a non-IP frame and a runt.
Bytes FrameBytes(int kind) {
  if (kind % 4 == 3) return Bytes(10, 0xab);
  const uint16_t ether_type = kind % 4 == 0 ? 0x0800 : kind % 4 == 1 ? 0x86DD : 0x0806;
  Bytes bytes(12, 0x02);  // MACs
  testing::Put16(&bytes, ether_type);
  if (kind % 4 == 0) {
    testing::AppendIpv4(&bytes, {.proto = 17});
    testing::AppendPorts(&bytes, 1000, 2000);
  } else if (kind % 4 == 1) {
    testing::AppendIpv6(&bytes, 6);
    testing::AppendPorts(&bytes, 3000, 4000, 20);
  } else {
    testing::PutZeros(&bytes, 28);
  }
  return bytes;
}

struct Sent {
  uint64_t id;
  uint64_t at;
  bool operator==(const Sent&) const = default;
};

// One pipeline driven as a worker drives it (lanes first, then the wheel's ready frames) by a
// test clock; frames are told apart by the id given when they were made.
class Driven {
 public:
  Driven(const PipelineConfig& config, bool lanes)
      : pipeline_(WithLanes(config, lanes), kExactTicks, kStart) {}

  Pipeline& pipeline() { return pipeline_; }
  const std::vector<Sent>& sent(uint16_t port) const { return sent_[port]; }
  uint64_t sent_total() const { return sent_[0].size() + sent_[1].size(); }

  void Ingest(uint16_t in_port, uint64_t first_id, int count, uint64_t now) {
    std::vector<rte_mbuf*> burst;
    for (int i = 0; i < count; ++i) {
      const Bytes bytes = FrameBytes(static_cast<int>(first_id) + i);
      rte_mbuf* packet = rte_pktmbuf_alloc(EalEnvironment::pool());
      ASSERT_NE(packet, nullptr);
      std::memcpy(rte_pktmbuf_append(packet, static_cast<uint16_t>(bytes.size())), bytes.data(),
                  bytes.size());
      ids_[packet] = first_id + i;
      burst.push_back(packet);
    }
    pipeline_.Ingest(in_port, burst.data(), static_cast<uint16_t>(count), now);
  }

  // Sends what is due at `now`; the device takes at most `room` frames per call.
  void Transmit(uint64_t now, uint32_t room = UINT32_MAX) {
    pipeline_.Advance(now);
    for (uint16_t port : {0, 1}) {
      pipeline_.TransmitLane(
          port, now,
          [&](rte_mbuf** frames, uint32_t n) {
            const uint32_t take = std::min(n, room);
            for (uint32_t i = 0; i < take; ++i) Take(frames[i], port, now);
            return take;
          },
          [now] { return now; });
    }
    while (rte_mbuf* packet = pipeline_.PopReady()) {
      pipeline_.RecordTransmitAt(*Meta(packet), now);
      Take(packet, Meta(packet)->out_port, now);
    }
  }

 private:
  static PipelineConfig WithLanes(PipelineConfig config, bool lanes) {
    config.express_ports = lanes ? 2 : 0;
    return config;
  }
  void Take(rte_mbuf* packet, uint16_t port, uint64_t now) {
    auto it = ids_.find(packet);
    ASSERT_NE(it, ids_.end()) << "a frame the test never made";
    sent_[port].push_back({it->second, now});
    ids_.erase(it);
    rte_pktmbuf_free(packet);
  }

  Pipeline pipeline_;
  std::map<const rte_mbuf*, uint64_t> ids_;
  std::vector<Sent> sent_[2];
};

std::vector<uint64_t> Counts(const LatencyHistogram& histogram) {
  std::vector<uint64_t> counts(LatencyHistogram::kBuckets);
  histogram.ReadCounts(counts.data());
  return counts;
}

// Everything the statistics read from a pipeline but its tx counters (the worker's transmit
// queue counts those for the wheel's frames) and `malformed`, which only a path that parses
// counts (docs/formats.md: express lanes parse nothing).
void ExpectSameStatistics(Pipeline& with, Pipeline& without) {
  const PipelineCounters& a = with.counters();
  const PipelineCounters& b = without.counters();
  for (uint16_t port = 0; port < 2; ++port) EXPECT_EQ(a.rx[port].Get(), b.rx[port].Get());
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    EXPECT_EQ(a.dropped[cause].Get(), b.dropped[cause].Get()) << DropCauseName(DropCause(cause));
  }
  EXPECT_EQ(a.unmatched.Get(), b.unmatched.Get());
  ASSERT_EQ(with.rule_counters().size(), without.rule_counters().size());
  for (size_t slot = 0; slot < with.rule_counters().size(); ++slot) {
    const RuleCounters& x = with.rule_counters()[slot];
    const RuleCounters& y = without.rule_counters()[slot];
    EXPECT_EQ(x.matched.Get(), y.matched.Get()) << "slot " << slot;
    EXPECT_EQ(x.forwarded.Get(), y.forwarded.Get()) << "slot " << slot;
    EXPECT_EQ(Counts(x.delay_ns), Counts(y.delay_ns)) << "slot " << slot;
    EXPECT_EQ(Counts(x.residence_ns), Counts(y.residence_ns)) << "slot " << slot;
    EXPECT_EQ(Counts(x.lateness_ns), Counts(y.lateness_ns)) << "slot " << slot;
  }
  for (uint16_t port = 0; port < 2; ++port) {
    HistogramSummary residence[2], lateness[2];
    with.AddPortLatency(port, &residence[0], &lateness[0]);
    without.AddPortLatency(port, &residence[1], &lateness[1]);
    EXPECT_EQ(residence[0].counts, residence[1].counts) << "port " << port;
    EXPECT_EQ(lateness[0].counts, lateness[1].counts) << "port " << port;
    EXPECT_EQ(residence[0].max, residence[1].max) << "port " << port;
  }
}

struct Case {
  const char* name;
  ProfileSpec spec;
  bool has_profile = true;
  uint64_t config_delay_ns = 0;
  bool lanes_expected[2] = {true, true};  // per direction
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

ProfileSpec OneDirectionDelay() {
  ProfileSpec spec = ConstantDelayProfile(700'000);
  spec.rules[0].match.direction = Direction::kAToB;
  return spec;
}

ProfileSpec Jittered() {
  ProfileSpec spec = ConstantDelayProfile(700'000);
  spec.impairments[0].delay->jitter_ns = 100'000;
  return spec;
}

class PipelineExpressTest : public ::testing::TestWithParam<Case> {};

// Bursts of 1 to 32 frames on both ports at uneven times, sent at every step and at the end:
// both pipelines send the same frames at the same times, and count and record alike.
TEST_P(PipelineExpressTest, SameFramesTimesAndStatisticsAsTheWheel) {
  const Case& param = GetParam();
  PipelineConfig config{.delay = kTsc.FromNs(param.config_delay_ns), .hold_limit = 4096};
  if (param.has_profile) config.profile = CompileProfile(param.spec, kTsc, 7);
  config.clock_hz = kTsc.hz;
  Driven with(config, true), without(config, false);
  uint64_t now = kStart, id = 0;
  for (int step = 0; step < 400; ++step) {
    const uint16_t in_port = static_cast<uint16_t>(step % 3 == 0);
    const int count = 1 + (step * 7) % 32;
    with.Ingest(in_port, id, count, now);
    without.Ingest(in_port, id, count, now);
    id += count;
    now += kTsc.FromNs(3'000 + (step * 997) % 20'000);
    with.Transmit(now);
    without.Transmit(now);
  }
  now += kTsc.FromNs(10'000'000);
  with.Transmit(now);
  without.Transmit(now);
  EXPECT_EQ(with.sent_total(), id) << "every frame left";
  EXPECT_EQ(with.pipeline().held(), 0u);
  for (uint16_t port : {0, 1}) {
    EXPECT_EQ(with.sent(port), without.sent(port)) << "port " << port;
    // The lanes count what the device took from them; the wheel's frames are counted by the
    // worker's transmit queue, which this test does not use.
    const bool lane = param.lanes_expected[port ^ 1];
    EXPECT_EQ(with.pipeline().counters().tx[port].Get(), lane ? with.sent(port).size() : 0u)
        << "port " << port << (lane ? ": its direction should take the lane" : ": no lane");
  }
  ExpectSameStatistics(with.pipeline(), without.pipeline());
  if (!param.lanes_expected[0] && !param.lanes_expected[1]) {
    EXPECT_EQ(with.pipeline().counters().malformed.Get(),
              without.pipeline().counters().malformed.Get());
  } else {
    EXPECT_EQ(with.pipeline().counters().malformed.Get() == 0, param.lanes_expected[1])
        << "only the direction that parses counts the runts";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Profiles, PipelineExpressTest,
    ::testing::Values(
        Case{.name = "PassThrough", .spec = ProfileSpec{}},
        Case{.name = "ConstantDelay", .spec = ConstantDelayProfile(700'000)},
        Case{.name = "NoProfile", .has_profile = false, .config_delay_ns = 700'000},
        Case{.name = "OneDirection", .spec = OneDirectionDelay(), .lanes_expected = {true, false}},
        Case{.name = "Jitter", .spec = Jittered(), .lanes_expected = {false, false}}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

TEST(ExpressRouteTest, OnlyWhenOneDecisionCoversEveryFrame) {
  auto route = [](const ProfileSpec& spec, int direction, bool rules_active = true) {
    return CompileProfile(spec, kTsc, 1, rules_active)->express[direction];
  };
  EXPECT_TRUE(route(ProfileSpec{}, 0).whole);
  EXPECT_EQ(route(ProfileSpec{}, 0).rule, -1);
  const ExpressRoute delay = route(ConstantDelayProfile(1'000'000), 1);
  EXPECT_TRUE(delay.whole);
  EXPECT_EQ(delay.rule, 0);
  EXPECT_EQ(delay.delay, kTsc.FromNs(1'000'000));
  EXPECT_FALSE(route(Jittered(), 0).whole) << "a draw per frame";
  EXPECT_TRUE(route(Jittered(), 0, /*rules_active=*/false).whole) << "healed: untouched";

  ProfileSpec lossy = ConstantDelayProfile(1'000'000);
  lossy.impairments[0].loss = LossSpec{.probability = 0.01};
  EXPECT_FALSE(route(lossy, 0).whole);
  ProfileSpec udp_only = ConstantDelayProfile(1'000'000);
  udp_only.rules[0].match.proto = 17;
  EXPECT_FALSE(route(udp_only, 0).whole) << "the first rule must match every frame";
  ProfileSpec down = ProfileSpec{};
  down.link_down[1] = true;
  EXPECT_FALSE(route(down, 0).whole);
  EXPECT_TRUE(route(OneDirectionDelay(), 0).whole);
  EXPECT_FALSE(route(OneDirectionDelay(), 1).whole);
}

// A device that takes part of a run: the rest waits, in order, and nothing is lost.
TEST(PipelineExpressDeviceTest, ADeviceTakingPartOfARunKeepsOrderAndLosesNothing) {
  PipelineConfig config{.hold_limit = 4096,
                        .profile = CompileProfile(ConstantDelayProfile(100'000), kTsc, 7)};
  Driven driven(config, true);
  uint64_t now = kStart, id = 0;
  for (int step = 0; step < 50; ++step) {
    driven.Ingest(0, id, 32, now);
    id += 32;
    now += kTsc.FromNs(50'000);
    driven.Transmit(now, /*room=*/step % 3 == 0 ? 0 : 13);
  }
  for (int i = 0; i < 200 && driven.pipeline().held() != 0; ++i) driven.Transmit(now += 1000, 13);
  ASSERT_EQ(driven.sent(1).size(), id);
  for (uint64_t i = 0; i < id; ++i) ASSERT_EQ(driven.sent(1)[i].id, i) << "out of order";
  EXPECT_GT(driven.pipeline().counters().tx_retries.Get(), 0u);
  EXPECT_EQ(driven.pipeline().counters().tx[1].Get(), id);
  EXPECT_EQ(driven.pipeline().rule_counters()[0].forwarded.Get(), id);
  HistogramSummary lateness;
  lateness.Add(driven.pipeline().rule_counters()[0].lateness_ns, kTsc.hz);
  EXPECT_EQ(lateness.total, id);
  EXPECT_GT(lateness.max, 0u) << "frames the device refused left late, and that is recorded";
}

// The hold limit applies to lanes and wheel together, with the same drops as without lanes.
TEST(PipelineExpressDeviceTest, HoldLimitCountsLaneFrames) {
  PipelineConfig config{.delay = kTsc.FromNs(5'000'000), .hold_limit = 40};
  Driven with(config, true), without(config, false);
  for (Driven* driven : {&with, &without}) {
    driven->Ingest(0, 0, 32, kStart);
    driven->Ingest(1, 32, 32, kStart);
    EXPECT_EQ(driven->pipeline().held(), 40u);
    EXPECT_EQ(driven->pipeline().counters().Dropped(DropCause::kBufferExhausted), 24u);
  }
  EXPECT_FALSE(with.pipeline().lanes_empty());
  with.pipeline().DropAll(DropCause::kShutdown);
  EXPECT_EQ(with.pipeline().counters().Dropped(DropCause::kShutdown), 40u);
  EXPECT_EQ(with.pipeline().held(), 0u);
  without.pipeline().DropAll(DropCause::kShutdown);
}

// A recorder attached while frames wait in a lane (a live capture turned on): they move to the
// wheel with their PacketMeta written, and leave at the same time as they would have.
TEST(PipelineExpressDeviceTest, ARecorderMovesLaneFramesToTheWheel) {
  PipelineConfig config{.hold_limit = 4096,
                        .profile = CompileProfile(ConstantDelayProfile(1'000'000), kTsc, 7)};
  Driven driven(config, true);
  driven.Ingest(0, 0, 32, kStart);
  driven.Ingest(1, 32, 5, kStart + 10);
  ASSERT_FALSE(driven.pipeline().lanes_empty());
  rte_ring* ring =
      rte_ring_create("express_spill", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  ASSERT_NE(ring, nullptr);
  FrameRecorder recorder(ring, /*lossless=*/false);
  driven.pipeline().set_recorder(&recorder);
  EXPECT_TRUE(driven.pipeline().lanes_empty());
  EXPECT_EQ(driven.pipeline().held(), 37u);
  const uint64_t delay = kTsc.FromNs(1'000'000);
  driven.Transmit(kStart + delay - 1);
  EXPECT_EQ(driven.sent_total(), 0u) << "not before the departure";
  driven.Transmit(kStart + delay + 10);
  ASSERT_EQ(driven.sent(1).size(), 32u);
  ASSERT_EQ(driven.sent(0).size(), 5u);
  EXPECT_EQ(driven.pipeline().rule_counters()[0].forwarded.Get(), 32u);
  EXPECT_EQ(driven.pipeline().rule_counters()[1].forwarded.Get(), 5u);
  HistogramSummary delays;
  delays.Add(driven.pipeline().rule_counters()[0].delay_ns, kTsc.hz);
  EXPECT_EQ(delays.total, 32u);
  EXPECT_EQ(delays.max, 1'000'000u) << "the meta written from the run: departure - arrival";
  driven.pipeline().set_recorder(nullptr);
  rte_ring_free(ring);
}

// A change to a shorter constant delay: the new frames are due before the lane's last ones, so
// they go through the wheel and leave at their own time, ahead of the older, longer-delayed
// ones.
TEST(PipelineExpressDeviceTest, AShorterDelayAfterAChangeIsNotHeldBehindTheLane) {
  RuleIdentities identities;
  auto compile = [&identities](uint64_t delay_ns) {
    return CompileProfile(ConstantDelayProfile(delay_ns), kTsc, 7,
                          CompileOptions{.identities = &identities});
  };
  PipelineConfig config{.hold_limit = 4096, .profile = compile(1'000'000)};
  Driven driven(config, true);
  driven.Ingest(0, 0, 8, kStart);
  auto shorter = compile(200'000);
  ASSERT_EQ(driven.pipeline().Prepare(*shorter), "");
  driven.pipeline().SwapProfile(shorter);
  driven.Ingest(0, 8, 8, kStart + kTsc.FromNs(100'000));
  driven.Transmit(kStart + kTsc.FromNs(300'000));
  ASSERT_EQ(driven.sent(1).size(), 8u);
  EXPECT_EQ(driven.sent(1)[0].id, 8u) << "the frames of the shorter delay left first";
  driven.Transmit(kStart + kTsc.FromNs(1'000'000));
  ASSERT_EQ(driven.sent(1).size(), 16u);
  EXPECT_EQ(driven.sent(1)[8].id, 0u);
  EXPECT_EQ(driven.pipeline().held(), 0u);
}

}  // namespace
}  // namespace faultline
