// The classifier's burst path and its group tables across profile changes: LocateBurst (one
// bulk LPM lookup for a burst's IPv4 addresses) gives exactly what Locate gives frame by frame,
// for IPv4, IPv6 and non-IP frames, found and not found; a classifier built with a previous one
// shares its group tables when the endpoint sets are the same (other match fields may change)
// and builds its own when they differ, and classifies like one built from scratch.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/fastpath/classifier.h"

namespace faultline {
namespace {

Prefix Net(const char* address, uint8_t length) {
  Prefix prefix;
  prefix.family = std::strchr(address, ':') ? 6 : 4;
  prefix.length = length;
  EXPECT_EQ(inet_pton(prefix.family == 4 ? AF_INET : AF_INET6, address, prefix.address.data()), 1);
  return prefix;
}

// Frame i of a varied burst: IPv4 inside and outside the groups, IPv6, and non-IP frames.
ParsedFrame Frame(uint32_t i) {
  ParsedFrame frame{};
  frame.src_mac = 0x020000000000 + i % 3;
  frame.dst_mac = 0x020000000010 + i % 5;
  switch (i % 8) {
    case 6: {
      frame.key.family = 6;
      const std::string src = "2001:db8::" + std::to_string(i);
      EXPECT_EQ(inet_pton(AF_INET6, src.c_str(), frame.key.src), 1);
      EXPECT_EQ(inet_pton(AF_INET6, i % 16 < 8 ? "2001:db9::1" : "::1", frame.key.dst), 1);
      break;
    }
    case 7:
      break;  // non-IP: family 0
    default: {
      frame.key.family = 4;
      const uint8_t src[4] = {10, static_cast<uint8_t>(i % 6), static_cast<uint8_t>(i), 7};
      const uint8_t dst[4] = {static_cast<uint8_t>(i % 4 ? 10 : 192), static_cast<uint8_t>(i % 5),
                              1, static_cast<uint8_t>(i)};
      std::memcpy(frame.key.src, src, 4);
      std::memcpy(frame.key.dst, dst, 4);
    }
  }
  frame.key.proto = i % 2 ? 6 : 17;
  frame.has_l4 = frame.has_ports = frame.key.family != 0;
  frame.key.dst_port = static_cast<uint16_t>(80 + i % 3);  // batch sources (i % 6 == 2): 82
  return frame;
}

struct Profile {
  std::vector<MatchSpec> rules;
  std::vector<PartitionSpec> partitions;
};

Profile Groups(uint16_t port) {
  EndpointSet web{.prefixes = {Net("10.1.0.0", 16), Net("2001:db8::", 32)}};
  EndpointSet batch{.prefixes = {Net("10.2.0.0", 16), Net("10.2.3.0", 28)}};
  batch.macs.push_back({0x02, 0, 0, 0, 0, 0x11});
  Profile profile;
  profile.rules.push_back(MatchSpec{.src = web, .dst = batch});
  MatchSpec by_port{.src = batch};
  by_port.has_dst_port = true;
  by_port.dst_port_min = by_port.dst_port_max = port;
  profile.rules.push_back(by_port);
  PartitionSpec partition;
  partition.cuts.push_back({.from = batch, .to = web});
  profile.partitions.push_back(partition);
  return profile;
}

void ExpectSameEndpoints(const FrameEndpoints& a, const FrameEndpoints& b, uint32_t i) {
  EXPECT_EQ(a.src_ip, b.src_ip) << i;
  EXPECT_EQ(a.dst_ip, b.dst_ip) << i;
  EXPECT_EQ(a.src_mac, b.src_mac) << i;
  EXPECT_EQ(a.dst_mac, b.dst_mac) << i;
}

TEST(ClassifierGroupTablesTest, LocateBurstAgreesWithLocate) {
  const Profile profile = Groups(80);
  const Classifier classifier(profile.rules, profile.partitions);
  std::vector<ParsedFrame> frames;
  for (uint32_t i = 0; i < 200; ++i) frames.push_back(Frame(i));
  int located = 0;
  for (const unsigned n : {1u, 7u, 32u}) {
    for (size_t first = 0; first + n <= frames.size(); first += n) {
      FrameEndpoints where[Classifier::kLocateBurst];
      classifier.LocateBurst(&frames[first], n, where);
      for (unsigned i = 0; i < n; ++i) {
        const FrameEndpoints one = classifier.Locate(frames[first + i]);
        ExpectSameEndpoints(where[i], one, static_cast<uint32_t>(first + i));
        located += one.src_ip != 0 || one.dst_ip != 0;
      }
    }
  }
  EXPECT_GT(located, 100);  // the frames do fall in groups (and others do not)
  EXPECT_LT(located, 3 * 200);
}

// Every answer of `classifier` on 400 varied frames, both directions, and its cuts.
std::vector<int> Answers(const Classifier& classifier) {
  std::vector<int> answers;
  for (uint32_t i = 0; i < 400; ++i) {
    const ParsedFrame frame = Frame(i);
    answers.push_back(classifier.Classify(frame, Direction::kAToB));
    answers.push_back(classifier.Classify(frame, Direction::kBToA));
    answers.push_back(classifier.Cut(frame));
  }
  return answers;
}

// One IPv4 table of 64 MiB at a time (the test EAL has 256 MiB); the profile with other groups
// names MACs only (a small hash table) so it can be built beside `before`.
TEST(ClassifierGroupTablesTest, SharesGroupTablesOnlyWhenTheGroupsAreTheSame) {
  const Profile first = Groups(82), same_groups = Groups(81);
  Profile other_groups = Groups(82);
  for (MatchSpec& rule : other_groups.rules) rule.src.prefixes.clear(), rule.dst.prefixes.clear();
  other_groups.partitions[0].cuts[0].to.macs.push_back({0x02, 0, 0, 0, 0, 0x12});
  other_groups.partitions[0].cuts[0].to.prefixes.clear();
  other_groups.partitions[0].cuts[0].from.prefixes.clear();
  const std::vector<int> fresh_answers =
      Answers(Classifier(same_groups.rules, same_groups.partitions));
  const Classifier before(first.rules, first.partitions);
  const Classifier after(same_groups.rules, same_groups.partitions, &before);
  EXPECT_TRUE(after.SharesGroupTables(before));
  EXPECT_EQ(Answers(after), fresh_answers);
  EXPECT_NE(Answers(before), fresh_answers);  // the port change is seen by the frames
  const Classifier changed(other_groups.rules, other_groups.partitions, &before);
  EXPECT_FALSE(changed.SharesGroupTables(before));
  const Classifier changed_fresh(other_groups.rules, other_groups.partitions);
  EXPECT_EQ(Answers(changed), Answers(changed_fresh));
  EXPECT_NE(Answers(changed), fresh_answers);
  EXPECT_GT(std::count_if(fresh_answers.begin(), fresh_answers.end(), [](int a) { return a >= 0; }),
            0);
}

}  // namespace
}  // namespace faultline
