// The fragment tracker on hand-built parser results: later fragments get the ports (and the
// flow key) of their first fragment, within the timeout, by (addresses, id, IPv4 protocol).
#include "dataplane/fastpath/fragment_tracker.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace faultline {
namespace {

constexpr uint64_t kTimeout = 1000;

// A fragment as ParseFrame describes it: a first one carries the transport ports, a later one
// has none (and, on IPv6, maybe another next-header value than the first one reaches).
ParsedFrame Fragment4(Fragment kind, uint32_t id, const char* src = "10.0.0.1",
                      const char* dst = "10.0.0.2", uint8_t proto = kProtoUdp) {
  ParsedFrame frame{};
  frame.key.family = 4;
  EXPECT_EQ(inet_pton(AF_INET, src, frame.key.src), 1);
  EXPECT_EQ(inet_pton(AF_INET, dst, frame.key.dst), 1);
  frame.key.proto = proto;
  frame.fragment = kind;
  frame.fragment_id = id;
  if (kind == Fragment::kFirst && proto != kProtoIcmp) {
    frame.has_l4 = frame.has_ports = true;
    frame.key.src_port = 4000;
    frame.key.dst_port = 53;
  }
  return frame;
}

ParsedFrame Fragment6(Fragment kind, uint32_t id, uint8_t proto = kProtoUdp) {
  ParsedFrame frame{};
  frame.key.family = 6;
  EXPECT_EQ(inet_pton(AF_INET6, "fd00:1::5", frame.key.src), 1);
  EXPECT_EQ(inet_pton(AF_INET6, "fd00:2::7", frame.key.dst), 1);
  frame.key.proto = proto;
  frame.fragment = kind;
  frame.fragment_id = id;
  if (kind == Fragment::kFirst) {
    frame.has_l4 = frame.has_ports = true;
    frame.key.src_port = 5353;
    frame.key.dst_port = 443;
  }
  return frame;
}

TEST(FragmentTrackerTest, LaterFragmentGetsTheFirstFragmentsKey) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame first = Fragment4(Fragment::kFirst, 7);
  EXPECT_TRUE(tracker.Track(&first, 100));
  EXPECT_EQ(first.key.dst_port, 53) << "a first fragment is left as it is";
  ParsedFrame later = Fragment4(Fragment::kLater, 7);
  EXPECT_TRUE(tracker.Track(&later, 150));
  EXPECT_TRUE(later.key == first.key) << "same flow key: same rule, flow state and order";
  EXPECT_TRUE(later.has_ports);
  EXPECT_FALSE(later.has_l4) << "still no transport header in the frame";
  // Every later fragment of the datagram resolves, the last one too.
  ParsedFrame last = Fragment4(Fragment::kLater, 7);
  EXPECT_TRUE(tracker.Track(&last, 160));
  EXPECT_TRUE(last.key == first.key);
}

TEST(FragmentTrackerTest, Ipv6IgnoresTheLaterFragmentsNextHeader) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame first = Fragment6(Fragment::kFirst, 0xdeadbeef);
  tracker.Track(&first, 0);
  // The fragmentable part starts with a destination options header (60): later fragments name
  // it, the first fragment's parse reached UDP behind it.
  ParsedFrame later = Fragment6(Fragment::kLater, 0xdeadbeef, 60);
  EXPECT_TRUE(tracker.Track(&later, 1));
  EXPECT_TRUE(later.key == first.key);
  EXPECT_EQ(later.key.proto, kProtoUdp);
  ParsedFrame other_id = Fragment6(Fragment::kLater, 0xdeadbeee);
  EXPECT_FALSE(tracker.Track(&other_id, 1));
}

TEST(FragmentTrackerTest, IdentityIsAddressesIdAndIpv4Protocol) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame first = Fragment4(Fragment::kFirst, 7);
  tracker.Track(&first, 0);
  for (ParsedFrame later :
       {Fragment4(Fragment::kLater, 8), Fragment4(Fragment::kLater, 7 | 1 << 16),
        Fragment4(Fragment::kLater, 7, "10.0.0.9"),
        Fragment4(Fragment::kLater, 7, "10.0.0.1", "10.0.0.9"),
        Fragment4(Fragment::kLater, 7, "10.0.0.2", "10.0.0.1"),
        Fragment4(Fragment::kLater, 7, "10.0.0.1", "10.0.0.2", kProtoTcp)}) {
    const ParsedFrame before = later;
    EXPECT_FALSE(tracker.Track(&later, 1));
    EXPECT_TRUE(later.key == before.key) << "unresolved: left without ports";
    EXPECT_FALSE(later.has_ports);
  }
  // The rule slot (set later by the pipeline) is not part of the identity.
  ParsedFrame with_slot = Fragment4(Fragment::kLater, 7);
  with_slot.key.rule_slot = 3;
  EXPECT_TRUE(tracker.Track(&with_slot, 1));
}

TEST(FragmentTrackerTest, LaterBeforeFirstIsUnresolvedThenResolves) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame early = Fragment4(Fragment::kLater, 9);
  EXPECT_FALSE(tracker.Track(&early, 10));
  EXPECT_EQ(early.key.dst_port, 0);
  ParsedFrame first = Fragment4(Fragment::kFirst, 9);
  tracker.Track(&first, 11);
  ParsedFrame late = Fragment4(Fragment::kLater, 9);
  EXPECT_TRUE(tracker.Track(&late, 12));
  EXPECT_EQ(late.key.dst_port, 53);
}

TEST(FragmentTrackerTest, ExpiresOnlyAfterMoreThanTheTimeout) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame first = Fragment4(Fragment::kFirst, 1);
  tracker.Track(&first, 500);
  ParsedFrame at_timeout = Fragment4(Fragment::kLater, 1);
  EXPECT_TRUE(tracker.Track(&at_timeout, 500 + kTimeout));
  // Resolving does not extend the entry: the timeout runs from the first fragment (ipfrag_time).
  ParsedFrame past = Fragment4(Fragment::kLater, 1);
  EXPECT_FALSE(tracker.Track(&past, 500 + kTimeout + 1));
  EXPECT_FALSE(past.has_ports);
  // A new first fragment of the same identity (the id came round again) starts over.
  tracker.Track(&first, 5000);
  ParsedFrame again = Fragment4(Fragment::kLater, 1);
  EXPECT_TRUE(tracker.Track(&again, 5001));
  EXPECT_EQ(kFragmentTimeoutNs, 30'000'000'000u) << "Linux ipfrag_time";
}

TEST(FragmentTrackerTest, FirstFragmentWithoutPortsResolvesWithoutPorts) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame first = Fragment4(Fragment::kFirst, 3, "10.0.0.1", "10.0.0.2", kProtoIcmp);
  tracker.Track(&first, 0);
  ParsedFrame later = Fragment4(Fragment::kLater, 3, "10.0.0.1", "10.0.0.2", kProtoIcmp);
  EXPECT_TRUE(tracker.Track(&later, 1)) << "its first fragment was seen";
  EXPECT_FALSE(later.has_ports);
  EXPECT_TRUE(later.key == first.key);
}

TEST(FragmentTrackerTest, UnfragmentedFramesAreLeftAlone) {
  FragmentTracker tracker(64, kTimeout);
  ParsedFrame frame = Fragment4(Fragment::kFirst, 0);
  frame.fragment = Fragment::kNone;
  const ParsedFrame before = frame;
  EXPECT_TRUE(tracker.Track(&frame, 0));
  EXPECT_TRUE(frame.key == before.key);
  ParsedFrame later = Fragment4(Fragment::kLater, 0);
  EXPECT_FALSE(tracker.Track(&later, 0)) << "an unfragmented frame is not remembered";
}

TEST(FragmentTrackerTest, FullTableReplacesTheOldestFirstFragment) {
  // kMaxProbe slots: every identity's window is the whole table.
  FragmentTracker tracker(1, kTimeout);
  ASSERT_EQ(tracker.capacity(), FragmentTracker::kMaxProbe);
  for (uint32_t id = 0; id <= FragmentTracker::kMaxProbe; ++id) {
    ParsedFrame first = Fragment4(Fragment::kFirst, id);
    first.key.dst_port = static_cast<uint16_t>(1000 + id);
    tracker.Track(&first, 10 + id);
    // A retransmitted first fragment takes no second slot.
    tracker.Track(&first, 10 + id);
  }
  ParsedFrame oldest = Fragment4(Fragment::kLater, 0);
  EXPECT_FALSE(tracker.Track(&oldest, 100)) << "the oldest gave way";
  for (uint32_t id = 1; id <= FragmentTracker::kMaxProbe; ++id) {
    ParsedFrame later = Fragment4(Fragment::kLater, id);
    EXPECT_TRUE(tracker.Track(&later, 100)) << id;
    EXPECT_EQ(later.key.dst_port, 1000 + id);
  }
  // Expired entries are taken before live ones: after the timeout, new datagrams all fit.
  for (uint32_t id = 100; id < 100 + FragmentTracker::kMaxProbe; ++id) {
    ParsedFrame first = Fragment4(Fragment::kFirst, id);
    tracker.Track(&first, 10 * kTimeout);
  }
  for (uint32_t id = 100; id < 100 + FragmentTracker::kMaxProbe; ++id) {
    ParsedFrame later = Fragment4(Fragment::kLater, id);
    EXPECT_TRUE(tracker.Track(&later, 10 * kTimeout)) << id;
  }
}

}  // namespace
}  // namespace faultline
