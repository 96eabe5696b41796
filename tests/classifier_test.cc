// Rule matching on parsed frames: direction, IPv4/IPv6 prefixes, protocol, port ranges, first
// match wins, -1 when nothing matches.
#include "dataplane/classifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace faultline {
namespace {

Prefix MakePrefix(const std::string& text) {
  Prefix prefix;
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  if (inet_pton(AF_INET, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = 4;
    prefix.length = 32;
  } else {
    EXPECT_EQ(inet_pton(AF_INET6, address.c_str(), prefix.address.data()), 1) << text;
    prefix.family = 6;
    prefix.length = 128;
  }
  if (slash != std::string::npos)
    prefix.length = static_cast<uint8_t>(std::stoi(text.substr(slash + 1)));
  return prefix;
}

// An IP frame as the parser would describe it.
ParsedFrame Ip(const std::string& src, const std::string& dst, uint8_t proto = kProtoUdp,
               uint16_t src_port = 1000, uint16_t dst_port = 2000) {
  ParsedFrame frame{};  // zeroed, as ParseFrame leaves it
  const bool v6 = src.find(':') != std::string::npos;
  frame.key.family = v6 ? 6 : 4;
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, src.c_str(), frame.key.src), 1) << src;
  EXPECT_EQ(inet_pton(v6 ? AF_INET6 : AF_INET, dst.c_str(), frame.key.dst), 1) << dst;
  frame.key.proto = proto;
  frame.l3_offset = 14;
  frame.has_l4 = proto == kProtoTcp || proto == kProtoUdp || proto == kProtoSctp;
  frame.has_ports = frame.has_l4;
  if (frame.has_l4) {
    frame.key.src_port = src_port;
    frame.key.dst_port = dst_port;
    frame.l4_offset = v6 ? 54 : 34;
  }
  return frame;
}

// A non-IP frame (ARP): family 0, MACs in the address fields, the ethertype in src_port.
ParsedFrame NonIp() {
  ParsedFrame frame{};  // zeroed, as ParseFrame leaves it
  std::memset(frame.key.src, 0x0a, 6);
  std::memset(frame.key.dst, 0xff, 6);
  frame.key.src_port = 0x0806;
  frame.l3_offset = 14;
  return frame;
}

constexpr Direction kAToB = Direction::kAToB;
constexpr Direction kBToA = Direction::kBToA;

TEST(ClassifierTest, EmptyMatchTakesEverything) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{});
  EXPECT_EQ(classifier.size(), 1u);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("fd00::1", "fd00::2"), kBToA), 0);
  EXPECT_EQ(classifier.Classify(NonIp(), kAToB), 0);
  EXPECT_EQ(classifier.Classify(ParsedFrame{}, kAToB), 0) << "a runt";
}

TEST(ClassifierTest, NoRulesMatchesNothing) {
  RuleClassifier classifier;
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2"), kAToB), -1);
}

TEST(ClassifierTest, Direction) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.direction = Direction::kAToB});
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2"), kBToA), -1);
  RuleClassifier reverse;
  reverse.Add(MatchSpec{.direction = Direction::kBToA});
  EXPECT_EQ(reverse.Classify(NonIp(), kAToB), -1);
  EXPECT_EQ(reverse.Classify(NonIp(), kBToA), 0);
}

TEST(ClassifierTest, Ipv4Prefixes) {
  RuleClassifier classifier;
  classifier.Add(
      MatchSpec{.src = {{MakePrefix("10.0.1.0/24")}}, .dst = {{MakePrefix("10.0.2.7")}}});
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.0", "10.0.2.7"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.255", "10.0.2.7"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.255", "10.0.2.7"), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.2.1", "10.0.2.7"), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.5", "10.0.2.8"), kAToB), -1) << "/32";
  EXPECT_EQ(classifier.Classify(Ip("10.0.2.7", "10.0.1.5"), kAToB), -1) << "src and dst swapped";
  EXPECT_EQ(classifier.Classify(Ip("fd00::1", "fd00::2"), kAToB), -1) << "IPv6 frame";
  EXPECT_EQ(classifier.Classify(NonIp(), kAToB), -1) << "non-IP frame";
}

TEST(ClassifierTest, ZeroLengthPrefixMatchesItsFamilyOnly) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.src = {{MakePrefix("0.0.0.0/0")}}});
  classifier.Add(MatchSpec{.src = {{MakePrefix("::/0")}}});
  EXPECT_EQ(classifier.Classify(Ip("203.0.113.9", "10.0.0.1"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("2001:db8::1", "fd00::2"), kAToB), 1);
  EXPECT_EQ(classifier.Classify(NonIp(), kAToB), -1);
}

TEST(ClassifierTest, Ipv6Prefixes) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.dst = {{MakePrefix("fd00:2::/64")}}});  // rule 0
  classifier.Add(
      MatchSpec{.dst = {{MakePrefix("fd00:3::8000:0:0:0/65")}}});  // rule 1: high half + 1 bit
  classifier.Add(MatchSpec{.src = {{MakePrefix("fd00::1")}}});     // rule 2: /128
  classifier.Add(MatchSpec{.src = {{MakePrefix("fd00::/16")}}});   // rule 3
  EXPECT_EQ(classifier.Classify(Ip("2001:db8::1", "fd00:2::abcd:1"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("2001:db8::1", "fd00:2:0:1::1"), kAToB), -1) << "outside /64";
  EXPECT_EQ(classifier.Classify(Ip("2001:db8::1", "fd00:3::8000:0:0:1"), kAToB), 1);
  EXPECT_EQ(classifier.Classify(Ip("2001:db8::1", "fd00:3::ffff:0:0:1"), kAToB), 1);
  EXPECT_EQ(classifier.Classify(Ip("2001:db8::1", "fd00:3::7fff:0:0:1"), kAToB), -1) << "bit 65";
  EXPECT_EQ(classifier.Classify(Ip("fd00::1", "2001:db8::1"), kAToB), 2);
  EXPECT_EQ(classifier.Classify(Ip("fd00::2", "2001:db8::1"), kAToB), 3);
  EXPECT_EQ(classifier.Classify(Ip("fd01::2", "2001:db8::1"), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2"), kAToB), -1) << "IPv4 frame";
}

TEST(ClassifierTest, MixedFamiliesInOneSet) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.src = {{MakePrefix("10.0.1.0/24"), MakePrefix("fd00:1::/64")}}});
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.9", "1.1.1.1"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("fd00:1::9", "fd00::1"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.2.9", "1.1.1.1"), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("fd00:2::9", "fd00::1"), kAToB), -1);
}

TEST(ClassifierTest, Protocol) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.proto = kProtoTcp});
  classifier.Add(MatchSpec{.proto = kProtoIcmp});
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("fd00::1", "fd00::2", kProtoTcp), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoIcmp), kAToB), 1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoUdp), kAToB), -1);
  // A non-IP frame has no protocol, whatever its key's proto byte holds.
  ParsedFrame non_ip = NonIp();
  non_ip.key.proto = kProtoTcp;
  EXPECT_EQ(classifier.Classify(non_ip, kAToB), -1);
}

TEST(ClassifierTest, PortRangesAreInclusive) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.dst_port_min = 2379, .dst_port_max = 2380, .has_dst_port = true});
  classifier.Add(MatchSpec{.src_port_min = 80, .src_port_max = 80, .has_src_port = true});
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp, 5000, 2379), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoUdp, 5000, 2380), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp, 5000, 2378), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp, 5000, 2381), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp, 80, 443), kAToB), 1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp, 81, 443), kAToB), -1);
  // Frames without ports (ICMP, unresolved later fragments, non-IP) never match a port rule,
  // even with zero ports that a 0-65535 range would contain.
  RuleClassifier any_port;
  any_port.Add(MatchSpec{.has_src_port = true});
  EXPECT_EQ(any_port.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoTcp, 0, 0), kAToB), 0);
  EXPECT_EQ(any_port.Classify(Ip("10.0.0.1", "10.0.0.2", kProtoIcmp), kAToB), -1);
  ParsedFrame fragment = Ip("10.0.0.1", "10.0.0.2", kProtoUdp, 0, 0);
  fragment.has_l4 = false;
  fragment.has_ports = false;
  EXPECT_EQ(any_port.Classify(fragment, kAToB), -1);
  // A later fragment with the ports of its first fragment: no transport header, but ports.
  ParsedFrame resolved = Ip("10.0.0.1", "10.0.0.2", kProtoUdp, 80, 443);
  resolved.has_l4 = false;
  EXPECT_EQ(any_port.Classify(resolved, kAToB), 0);
  EXPECT_EQ(any_port.Classify(NonIp(), kAToB), -1);
}

TEST(ClassifierTest, AllConditionsMustHold) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.direction = Direction::kAToB,
                           .src = {{MakePrefix("10.0.1.0/24")}},
                           .dst = {{MakePrefix("10.0.2.0/24")}},
                           .proto = kProtoTcp,
                           .dst_port_min = 2379,
                           .dst_port_max = 2380,
                           .has_dst_port = true});
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "10.0.2.1", kProtoTcp, 1, 2379), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "10.0.2.1", kProtoTcp, 1, 2379), kBToA), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "10.0.3.1", kProtoTcp, 1, 2379), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "10.0.2.1", kProtoUdp, 1, 2379), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "10.0.2.1", kProtoTcp, 1, 22), kAToB), -1);
}

TEST(ClassifierTest, FirstMatchWins) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.direction = Direction::kBToA});            // 0
  classifier.Add(MatchSpec{.src = {{MakePrefix("10.0.1.0/24")}}});     // 1
  classifier.Add(MatchSpec{.src = {{MakePrefix("10.0.0.0/8")}}});      // 2: shadowed for 10.0.1/24
  classifier.Add(MatchSpec{});                                         // 3: catch-all
  classifier.Add(MatchSpec{.src = {{MakePrefix("192.168.0.0/16")}}});  // 4: never reached
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "1.1.1.1"), kBToA), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.1.1", "1.1.1.1"), kAToB), 1);
  EXPECT_EQ(classifier.Classify(Ip("10.9.1.1", "1.1.1.1"), kAToB), 2);
  EXPECT_EQ(classifier.Classify(Ip("192.168.1.1", "1.1.1.1"), kAToB), 3);
  EXPECT_EQ(classifier.size(), 5u);
}

}  // namespace
}  // namespace faultline
