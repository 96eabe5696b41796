// Flows through the pipeline on real mbufs: IPv4 and IPv6 later fragments classified and ordered
// with their first fragment, unresolved fragments counted and forwarded, malformed frames counted
// and forwarded, flow-table entries of idle flows reused.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/pipeline.h"
#include "tests/eal_environment.h"
#include "tests/frame_builder.h"

namespace faultline {
namespace {

using testing::EalEnvironment;

constexpr uint16_t kDnsPort = 53;
// Nanosecond clock units (exact departures), far from zero.
constexpr uint64_t kStart = 1'000'000'000'000, kMs = 1'000'000;

struct FragmentSpec {
  int family = 4;
  uint32_t datagram = 1;  // IP identification
  uint16_t offset = 0;    // in 8-byte units; 0: the first fragment, with the UDP header
  uint32_t tag = 0;       // tracking number, in the frame's last 4 bytes
  uint16_t src_port = 4000;
  bool more = true;  // the more-fragments flag (false with offset 0: not a fragment)
  // IPv6: the fragmentable part starts with a destination options header (later fragments then
  // name 60 as their next header, not UDP).
  bool destination_options = false;
};

// An Ethernet/IPv4 (10.0.1.1 -> 10.0.2.2) or IPv6 (fd00:1::1 -> fd00:2::2) fragment of a UDP
// datagram to port 53.
rte_mbuf* MakeFragment(const FragmentSpec& spec) {
  using namespace testing;
  Bytes frame;
  if (spec.family == 4) {
    frame = Ethernet(0x0800);
    AppendIpv4(&frame, {.fragment = static_cast<uint16_t>((spec.more ? 0x2000 : 0) | spec.offset),
                        .src = "10.0.1.1",
                        .dst = "10.0.2.2",
                        .id = static_cast<uint16_t>(spec.datagram)});
  } else {
    frame = Ethernet(0x86DD);
    AppendIpv6(&frame, 44, 0, "fd00:1::1", "fd00:2::2");
    AppendIpv6Fragment(&frame, spec.destination_options ? 60 : kProtoUdp, spec.offset, spec.more,
                       spec.datagram);
    if (spec.offset == 0 && spec.destination_options) AppendIpv6Extension(&frame, kProtoUdp);
  }
  if (spec.offset == 0) AppendPorts(&frame, spec.src_port, kDnsPort);
  frame.resize(frame.size() + 16, 0xee);
  for (int shift = 24; shift >= 0; shift -= 8)
    frame.push_back(static_cast<uint8_t>(spec.tag >> shift));
  rte_mbuf* packet = rte_pktmbuf_alloc(EalEnvironment::pool());
  EXPECT_NE(packet, nullptr);
  std::memcpy(rte_pktmbuf_append(packet, static_cast<uint16_t>(frame.size())), frame.data(),
              frame.size());
  return packet;
}

uint32_t Tag(const rte_mbuf* packet) {
  const uint8_t* end = rte_pktmbuf_mtod(packet, const uint8_t*) + packet->data_len;
  return uint32_t{end[-4]} << 24 | uint32_t{end[-3]} << 16 | uint32_t{end[-2]} << 8 | end[-1];
}

struct Departure {
  uint32_t tag;
  uint64_t time;
  bool matched;
};

// A pipeline whose one rule matches UDP to port 53 and applies `impairment`.
class PipelineFlowsTest : public ::testing::Test {
 protected:
  void SetUp() override { in_use_ = rte_mempool_in_use_count(EalEnvironment::pool()); }
  void TearDown() override {
    pipeline_.reset();
    EXPECT_EQ(rte_mempool_in_use_count(EalEnvironment::pool()), in_use_) << "mbufs leaked";
  }

  void Start(const DelaySpec& delay, uint32_t flow_capacity = 65536) {
    ProfileSpec spec;
    spec.impairments.push_back(ImpairmentSpec{.name = "slow", .delay = delay});
    spec.rules.push_back(RuleSpec{.name = "dns",
                                  .match = {.proto = kProtoUdp,
                                            .dst_port_min = kDnsPort,
                                            .dst_port_max = kDnsPort,
                                            .has_dst_port = true},
                                  .impairment = 0});
    pipeline_ = std::make_unique<Pipeline>(
        PipelineConfig{
            .hold_limit = 100'000,
            .profile = CompileProfile(spec, TimeBase::Nanoseconds(), 7),
            .flow_capacity = flow_capacity,
            .flow_idle = FlowIdleTimeout(TimeBase::Nanoseconds(), ProfileDelayHorizonNs(spec))},
        TimeBase::Nanoseconds().wheel_tick_shift, kStart);
  }

  void Ingest(rte_mbuf* packet, uint64_t now) { pipeline_->Ingest(0, &packet, 1, now); }

  // Everything still held, in departure order.
  std::vector<Departure> Drain() {
    pipeline_->AdvanceAll();
    std::vector<Departure> departures;
    while (rte_mbuf* packet = pipeline_->PopReady()) {
      departures.push_back({Tag(packet), Meta(packet)->departure, Meta(packet)->rule_slot != 0});
      rte_pktmbuf_free(packet);
    }
    return departures;
  }

  // 200 datagrams of 3 fragments, 10 us apart, tagged 0, 1, 2...; datagram d is flow d % flows
  // (source port 4000 + d % flows). IPv6 odd datagrams start with destination options. Returns
  // the number of frames.
  uint32_t IngestDatagrams(int family, uint16_t flows) {
    uint32_t tag = 0;
    for (uint32_t datagram = 0; datagram < 200; ++datagram) {
      for (uint16_t offset : {0, 185, 370}) {
        Ingest(MakeFragment({.family = family,
                             .datagram = datagram,
                             .offset = offset,
                             .tag = tag,
                             .src_port = static_cast<uint16_t>(4000 + datagram % flows),
                             .destination_options = family == 6 && datagram % 2 == 1}),
               kStart + tag * 10'000);
        ++tag;
      }
    }
    return tag;
  }

  const PipelineCounters& counters() const { return pipeline_->counters(); }

  std::unique_ptr<Pipeline> pipeline_;
  unsigned in_use_ = 0;
};

TEST_F(PipelineFlowsTest, LaterFragmentsGetTheFirstFragmentsDelay) {
  Start(DelaySpec{.base_ns = 10 * kMs});
  uint32_t tag = 0;
  std::vector<uint64_t> arrivals;
  for (int family : {4, 6}) {
    for (bool destination_options : {false, true}) {
      if (family == 4 && destination_options) continue;
      const uint32_t datagram = 100 + tag;
      for (uint16_t offset : {0, 10, 20, 30}) {
        arrivals.push_back(kStart + tag * 1000);
        Ingest(MakeFragment({.family = family,
                             .datagram = datagram,
                             .offset = offset,
                             .tag = tag,
                             .destination_options = destination_options}),
               arrivals.back());
        ++tag;
      }
    }
  }
  const std::vector<Departure> departures = Drain();
  ASSERT_EQ(departures.size(), tag);
  for (uint32_t i = 0; i < tag; ++i) {
    EXPECT_EQ(departures[i].tag, i) << "in order";
    EXPECT_TRUE(departures[i].matched) << i;
    EXPECT_EQ(departures[i].time, arrivals[i] + 10 * kMs) << i;
  }
  EXPECT_EQ(pipeline_->rule_counters()[0].matched.Get(), tag);
  EXPECT_EQ(counters().fragments_unresolved.Get(), 0u);
  EXPECT_EQ(counters().unmatched.Get(), 0u);
}

TEST_F(PipelineFlowsTest, FragmentsShareTheirFlowsStateAndOrder) {
  // Jitter of +-5 ms on frames 10 us apart would reorder them, but never within a flow: the
  // later fragments are the flow of their first fragment.
  for (int family : {4, 6}) {
    Start(DelaySpec{.base_ns = 10 * kMs, .jitter_ns = 5 * kMs});
    const uint32_t frames = IngestDatagrams(family, /*flows=*/1);
    EXPECT_EQ(pipeline_->flows()->size(), 1u);
    const std::vector<Departure> departures = Drain();
    ASSERT_EQ(departures.size(), frames);
    for (uint32_t i = 0; i < frames; ++i) ASSERT_EQ(departures[i].tag, i) << "family " << family;
  }
  // The same stream with two flows interleaved (other source ports) is reordered across flows:
  // the check above can fail.
  Start(DelaySpec{.base_ns = 10 * kMs, .jitter_ns = 5 * kMs});
  IngestDatagrams(4, /*flows=*/2);
  EXPECT_EQ(pipeline_->flows()->size(), 2u);
  const std::vector<Departure> departures = Drain();
  bool reordered = false;
  for (uint32_t i = 0; i < departures.size(); ++i) reordered |= departures[i].tag != i;
  EXPECT_TRUE(reordered);
}

TEST_F(PipelineFlowsTest, OneFlowEntryPerFragmentedFlow) {
  Start(DelaySpec{.base_ns = kMs, .jitter_ns = kMs});
  uint32_t tag = 0;
  for (int family : {4, 6}) {
    for (uint32_t datagram = 0; datagram < 10; ++datagram) {
      for (uint16_t offset : {0, 185}) {
        Ingest(MakeFragment({.family = family, .datagram = datagram, .offset = offset, .tag = tag}),
               kStart + tag);
        ++tag;
      }
    }
  }
  EXPECT_EQ(pipeline_->rule_counters()[0].matched.Get(), tag);
  EXPECT_EQ(pipeline_->flows()->size(), 2u) << "one per family: fragments join their flow";
  EXPECT_EQ(Drain().size(), tag);
}

TEST_F(PipelineFlowsTest, UnresolvedFragmentsAreCountedAndForwardedAtOnce) {
  Start(DelaySpec{.base_ns = 10 * kMs});
  uint64_t now = kStart;
  for (int family : {4, 6}) {
    // A later fragment before its first: no ports, so the port rule skips it; it leaves at once.
    Ingest(MakeFragment({.family = family, .datagram = 7, .offset = 185, .tag = 1}), now);
    // Its first fragment, then another later one: both delayed.
    Ingest(MakeFragment({.family = family, .datagram = 7, .offset = 0, .tag = 2}), now);
    Ingest(MakeFragment({.family = family, .datagram = 7, .offset = 370, .tag = 3}), now);
    // A later fragment of a datagram whose first fragment never came.
    Ingest(MakeFragment({.family = family, .datagram = 8, .offset = 185, .tag = 4}), now);
    // More than 30 s after the first fragment: the datagram is gone (Linux ipfrag_time).
    Ingest(MakeFragment({.family = family, .datagram = 7, .offset = 555, .tag = 5}),
           now + kFragmentTimeoutNs + 1);
    const std::vector<Departure> departures = Drain();
    ASSERT_EQ(departures.size(), 5u);
    std::vector<uint32_t> immediate, delayed;
    for (const Departure& departure : departures) {
      (departure.matched ? delayed : immediate).push_back(departure.tag);
      if (departure.matched) {
        EXPECT_EQ(departure.time, now + 10 * kMs);
      } else {
        EXPECT_TRUE(departure.time == now || departure.time > now + kMs);
      }
    }
    EXPECT_EQ(immediate, (std::vector<uint32_t>{1, 4, 5})) << "family " << family;
    EXPECT_EQ(delayed, (std::vector<uint32_t>{2, 3})) << "family " << family;
    now += 2 * kFragmentTimeoutNs;
  }
  EXPECT_EQ(counters().fragments_unresolved.Get(), 6u);
  EXPECT_EQ(counters().unmatched.Get(), 6u);
}

TEST_F(PipelineFlowsTest, MalformedFramesAreCountedAndForwardedUntouched) {
  Start(DelaySpec{.base_ns = 10 * kMs});
  rte_mbuf* valid = MakeFragment({.tag = 1});
  rte_mbuf* cut_udp = MakeFragment({.tag = 2});
  rte_pktmbuf_trim(cut_udp, static_cast<uint16_t>(cut_udp->data_len - 14 - 20 - 4));
  rte_mbuf* runt = rte_pktmbuf_alloc(EalEnvironment::pool());
  std::memset(rte_pktmbuf_append(runt, 13), 0, 13);
  const std::vector<uint8_t> cut_bytes(rte_pktmbuf_mtod(cut_udp, uint8_t*),
                                       rte_pktmbuf_mtod(cut_udp, uint8_t*) + cut_udp->data_len);
  Ingest(valid, kStart);
  Ingest(cut_udp, kStart);
  Ingest(runt, kStart);
  EXPECT_EQ(counters().malformed.Get(), 2u);
  EXPECT_EQ(counters().unmatched.Get(), 2u) << "a cut UDP header has no port to match";
  pipeline_->Advance(kStart);
  rte_mbuf* first = pipeline_->PopReady();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(std::vector<uint8_t>(rte_pktmbuf_mtod(first, uint8_t*),
                                 rte_pktmbuf_mtod(first, uint8_t*) + first->data_len),
            cut_bytes);
  rte_pktmbuf_free(first);
  rte_mbuf* second = pipeline_->PopReady();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->data_len, 13);
  rte_pktmbuf_free(second);
  EXPECT_EQ(pipeline_->PopReady(), nullptr);
  EXPECT_EQ(Drain().size(), 1u);
}

TEST_F(PipelineFlowsTest, IdleFlowsGiveTheirEntryToNewFlows) {
  // 16 flow-table slots: every flow's probe window is the whole table.
  Start(DelaySpec{.base_ns = kMs, .jitter_ns = kMs}, /*flow_capacity=*/16);
  const uint64_t idle = FlowIdleTimeout(TimeBase::Nanoseconds(), 5 * kMs);  // what Start configured
  ASSERT_EQ(idle, 30'000 * kMs);
  for (uint16_t flow = 0; flow < 16; ++flow) {
    Ingest(MakeFragment({.tag = flow, .src_port = flow, .more = false}), kStart);
    Ingest(MakeFragment({.tag = flow, .src_port = flow, .more = false}), kStart + 1);
  }
  EXPECT_EQ(pipeline_->flows()->size(), 16u);
  // Full of live flows: a 17th shares the rule's state.
  Ingest(MakeFragment({.tag = 16, .src_port = 16, .more = false}), kStart + idle + 1);
  EXPECT_EQ(counters().flows_untracked.Get(), 1u);
  EXPECT_EQ(counters().flows_expired.Get(), 0u);
  // One unit later the first 16 have been idle longer than the timeout: it takes an entry.
  Ingest(MakeFragment({.tag = 16, .src_port = 16, .more = false}), kStart + idle + 2);
  EXPECT_EQ(counters().flows_untracked.Get(), 1u);
  EXPECT_EQ(counters().flows_expired.Get(), 1u);
  Ingest(MakeFragment({.tag = 16, .src_port = 16, .more = false}), kStart + idle + 3);
  EXPECT_EQ(counters().flows_expired.Get(), 1u) << "then it is a live flow";
  EXPECT_EQ(pipeline_->flows()->size(), 16u);
  EXPECT_EQ(Drain().size(), 35u);
}

}  // namespace
}  // namespace faultline
