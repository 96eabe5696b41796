// The rate link: exact serialisation times, the FIFO queue, tail drop and ECN marking. Rates are
// compiled the way the dataplane compiles them (CompileProfile of a one-rule profile).
#include "dataplane/models/rate_limiter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/pipeline/compiled_profile.h"

namespace faultline {
namespace {

using Verdict = RateLink::Verdict;

// The link and the compiled profile its rate came from.
struct Link {
  std::shared_ptr<const CompiledProfile> profile;
  std::unique_ptr<RateLink> link;

  explicit Link(const RateSpec& spec, const TimeBase& time_base = TimeBase::Nanoseconds()) {
    ProfileSpec profile_spec;
    ImpairmentSpec impairment;
    impairment.name = "link";
    impairment.rate = spec;
    profile_spec.impairments.push_back(impairment);
    profile_spec.rules.push_back(RuleSpec{.name = "all", .match = {}, .impairment = 0});
    profile = CompileProfile(profile_spec, time_base, 1);
    link = std::make_unique<RateLink>(profile->impairments[0].rate);
  }
  // The finish time of an accepted frame (fails the test on a drop).
  uint64_t Send(uint32_t bytes, uint64_t now, Verdict expected = Verdict::kSent) {
    uint64_t finish = 0;
    const Verdict verdict = link->Enqueue(bytes, now, &finish);
    EXPECT_EQ(verdict, expected) << bytes << " B at " << now;
    return finish;
  }
  bool Dropped(uint32_t bytes, uint64_t now) {
    uint64_t finish = 0;
    return link->Enqueue(bytes, now, &finish) == Verdict::kDropped;
  }
};

RateSpec Gbit(uint64_t gbits = 1) { return RateSpec{.bandwidth_bps = gbits * 1'000'000'000}; }

TEST(RateLinkTest, SerialisationTimeIsExact) {
  Link link(Gbit());  // 8 ns per byte
  EXPECT_EQ(link.Send(1250, 1000), 11000u);
  EXPECT_EQ(link.link->queued_packets(), 1u);
  EXPECT_EQ(link.link->queued_bytes(), 1250u);
  // An idle link starts a frame at its arrival.
  EXPECT_EQ(link.Send(64, 50'000), 50'512u);
}

TEST(RateLinkTest, BackToBackFramesQueue) {
  Link link(Gbit());
  EXPECT_EQ(link.Send(1250, 0), 10000u);
  EXPECT_EQ(link.Send(1250, 0), 20000u);
  EXPECT_EQ(link.Send(1250, 5000), 30000u) << "waits for the frames ahead of it";
  EXPECT_EQ(link.link->queued_packets(), 3u);
  EXPECT_EQ(link.link->queued_bytes(), 3750u);
}

TEST(RateLinkTest, OverheadIsPartOfTheWireTime) {
  RateSpec spec = Gbit();
  spec.overhead_bytes = 20;  // preamble + inter-frame gap
  Link link(spec);
  EXPECT_EQ(link.Send(1230, 0), 10000u);
  EXPECT_EQ(link.Send(44, 0), 10512u);  // 64 B on the wire, after the first frame
  // Overhead counts for time, not for the byte limit or the queued bytes.
  EXPECT_EQ(link.link->queued_bytes(), 1274u);
}

TEST(RateLinkTest, FractionalTimesRoundUpWithoutDrift) {
  RateSpec spec = Gbit(3);  // 8/3 ns per byte
  spec.queue_limit = SizeLimit{.packets = 10000};
  Link link(spec);
  EXPECT_EQ(link.Send(1, 0), 3u);  // 2.67 -> 3
  EXPECT_EQ(link.Send(1, 0), 6u);  // 5.33 -> 6
  EXPECT_EQ(link.Send(1, 0), 8u);  // exactly 8: rounding did not accumulate
  // 3000 bytes later the link is exactly 8000 ns further.
  uint64_t finish = 0;
  for (int i = 0; i < 3000; ++i) finish = link.Send(1, 0);
  EXPECT_EQ(finish, 8008u);
}

TEST(RateLinkTest, TscTimeBase) {
  // 2.6 GHz: 1 Gbit/s is 20.8 cycles per byte; 1250 B take exactly 10 us = 26000 cycles.
  Link link(Gbit(), TimeBase::ForHz(2'600'000'000));
  const uint64_t start = 40'000'000'000'000;
  EXPECT_EQ(link.Send(1250, start), start + 26000);
  EXPECT_EQ(link.Send(1250, start), start + 52000);
}

TEST(RateLinkTest, TailDropAtThePacketLimit) {
  RateSpec spec = Gbit();
  spec.queue_limit = SizeLimit{.packets = 3};
  Link link(spec);
  for (int i = 0; i < 3; ++i) link.Send(1250, 0);
  EXPECT_TRUE(link.Dropped(1250, 0));
  EXPECT_TRUE(link.Dropped(64, 9999)) << "the first frame is still on the link";
  EXPECT_EQ(link.link->queued_packets(), 3u);
  EXPECT_EQ(link.link->queued_bytes(), 3750u);
  // At 10000 ns the first frame has left: room for exactly one more.
  EXPECT_EQ(link.Send(1250, 10000), 40000u);
  EXPECT_TRUE(link.Dropped(1250, 10000));
}

TEST(RateLinkTest, DefaultLimitIsNetemsThousandPackets) {
  Link link(Gbit());
  for (int i = 0; i < 1000; ++i) link.Send(64, 0);
  EXPECT_TRUE(link.Dropped(64, 0));
  EXPECT_EQ(link.link->queued_packets(), 1000u);
}

TEST(RateLinkTest, TailDropAtTheByteLimit) {
  RateSpec spec = Gbit();
  spec.queue_limit = SizeLimit{.bytes = 3000};
  Link link(spec);
  link.Send(1000, 0);
  link.Send(1000, 0);
  link.Send(1000, 0);  // exactly at the limit: accepted
  EXPECT_EQ(link.link->queued_bytes(), 3000u);
  EXPECT_TRUE(link.Dropped(1, 0));
  // After the first 1000 B frame (8000 ns) a 1000 B frame fits again, a 1001 B one does not.
  EXPECT_TRUE(link.Dropped(1001, 8000));
  EXPECT_EQ(link.Send(1000, 8000), 32000u);
}

TEST(RateLinkTest, EcnMarksAboveThePacketThreshold) {
  RateSpec spec = Gbit();
  spec.queue_limit = SizeLimit{.packets = 4};
  spec.ecn_threshold = SizeLimit{.packets = 2};
  Link link(spec);
  link.Send(100, 0, Verdict::kSent);    // finds 0 queued
  link.Send(100, 0, Verdict::kSent);    // finds 1
  link.Send(100, 0, Verdict::kMarked);  // finds 2: at the threshold
  link.Send(100, 0, Verdict::kMarked);
  EXPECT_TRUE(link.Dropped(100, 0)) << "marking does not lift the limit";
  // Once the queue has drained below the threshold frames go unmarked again.
  link.Send(100, 2400, Verdict::kSent);  // 3 of 4 frames have left at 2400 ns: finds 1
}

TEST(RateLinkTest, EcnMarksAboveTheByteThreshold) {
  RateSpec spec = Gbit();
  spec.ecn_threshold = SizeLimit{.bytes = 1500};
  Link link(spec);
  link.Send(1000, 0, Verdict::kSent);
  link.Send(499, 0, Verdict::kSent);   // finds 1000 B
  link.Send(1, 0, Verdict::kSent);     // finds 1499 B
  link.Send(64, 0, Verdict::kMarked);  // finds 1500 B: at the threshold
}

TEST(RateLinkTest, QueueDrainsOverTime) {
  Link link(Gbit());
  EXPECT_EQ(link.Send(1250, 0), 10000u);
  EXPECT_EQ(link.Send(1250, 0), 20000u);
  EXPECT_EQ(link.Send(1250, 0), 30000u);
  // At 20000 the first two have finished: they leave the queue when the next frame arrives.
  EXPECT_EQ(link.Send(1250, 20000), 40000u);
  EXPECT_EQ(link.link->queued_packets(), 2u);
  EXPECT_EQ(link.link->queued_bytes(), 2500u);
  // Long idle: the queue is empty and the link starts the next frame at once.
  EXPECT_EQ(link.Send(1250, 100000), 110000u);
  EXPECT_EQ(link.link->queued_packets(), 1u);
}

// A link is per-rule state that outlives the profile it was made from (a live change or a trace
// step replaces and frees that profile while the rule keeps its queue): it keeps working after
// the profile is gone. (Under AddressSanitizer a link that kept a reference into the profile is a
// use after free; in any build the freed memory is first reused for other rates.)
TEST(RateLinkTest, WorksAfterTheProfileItCameFromIsFreed) {
  Link link(RateSpec{.bandwidth_bps = 1'000'000'000, .queue_limit = {.packets = 3}});
  EXPECT_EQ(link.Send(1250, 0), 10000u);
  link.profile.reset();
  // Whatever reuses the memory: a profile of a far slower link with a one-packet queue.
  std::vector<std::shared_ptr<const CompiledProfile>> reuse;
  for (int i = 0; i < 8; ++i) {
    reuse.push_back(Link(RateSpec{.bandwidth_bps = 1000, .queue_limit = {.packets = 1}}).profile);
  }
  EXPECT_EQ(link.Send(1250, 0), 20000u) << "1 Gbit/s, after the frame ahead";
  EXPECT_EQ(link.Send(1250, 0), 30000u) << "the queue holds 3";
  EXPECT_TRUE(link.Dropped(64, 0)) << "the 4th is dropped";
}

}  // namespace
}  // namespace faultline
