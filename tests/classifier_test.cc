// Rule and partition matching on parsed frames: direction, IPv4/IPv6 prefixes and groups, MACs,
// protocol, port ranges, VLAN, DSCP, ethertype, first match wins, -1 when nothing matches; the
// bit-vector classifier against a plain linear reference on random rules and frames.
#include "dataplane/fastpath/classifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace faultline {
namespace {

// Collects rules and partitions, then builds the (immutable) classifier on first use.
class RuleClassifier {
 public:
  void Add(const MatchSpec& match) {
    rules_.push_back(match);
    built_.reset();
  }
  void AddPartition(const PartitionSpec& partition) {
    partitions_.push_back(partition);
    built_.reset();
  }
  int Classify(const ParsedFrame& frame, Direction direction) {
    return Get().Classify(frame, direction);
  }
  int Cut(const ParsedFrame& frame) { return Get().Cut(frame); }
  size_t size() const { return rules_.size(); }

 private:
  const Classifier& Get() {
    if (!built_) built_ = std::make_unique<Classifier>(rules_, partitions_);
    return *built_;
  }
  std::vector<MatchSpec> rules_;
  std::vector<PartitionSpec> partitions_;
  std::unique_ptr<Classifier> built_;
};

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
  frame.ether_type = v6 ? 0x86DD : 0x0800;
  frame.src_mac = 0x020000000001;
  frame.dst_mac = 0x020000000002;
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
  frame.ether_type = 0x0806;
  frame.src_mac = 0x0a0a0a0a0a0a;
  frame.dst_mac = 0xffffffffffff;
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

MacAddress Mac(uint64_t value) {
  MacAddress mac;
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(value >> (8 * (5 - i)));
  return mac;
}

TEST(ClassifierTest, VlanDscpEthertypeAndMacs) {
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.vlan = ValueRange{100, 199}});                // 0
  classifier.Add(MatchSpec{.dscp = ValueRange{46, 46}});                  // 1
  classifier.Add(MatchSpec{.src_mac = {Mac(0x0a0a0a0a0a0a)}});            // 2
  classifier.Add(MatchSpec{.dst_mac = {Mac(0x1), Mac(0x020000000002)}});  // 3
  classifier.Add(MatchSpec{.ether_type = 0x86DD});                        // 4
  ParsedFrame tagged = Ip("10.0.0.1", "10.0.0.2");
  tagged.vlan = 150;
  EXPECT_EQ(classifier.Classify(tagged, kAToB), 0);
  tagged.vlan = 200;
  EXPECT_EQ(classifier.Classify(tagged, kAToB), 3) << "outside the VLAN range: dst MAC rule";
  ParsedFrame expedited = Ip("10.0.0.1", "10.0.0.2");
  expedited.dscp = 46;
  EXPECT_EQ(classifier.Classify(expedited, kAToB), 1);
  ParsedFrame non_ip = NonIp();
  non_ip.dscp = 46;  // non-IP frames have no DSCP, whatever the field holds
  EXPECT_EQ(classifier.Classify(non_ip, kAToB), 2);
  ParsedFrame other = Ip("fd00::1", "fd00::2");
  other.dst_mac = 0x0200000000ff;
  EXPECT_EQ(classifier.Classify(other, kAToB), 4);
  other.ether_type = 0x0800;
  EXPECT_EQ(classifier.Classify(other, kAToB), -1);
  RuleClassifier untagged_only;
  untagged_only.Add(MatchSpec{.vlan = ValueRange{0, 4095}});
  EXPECT_EQ(untagged_only.Classify(Ip("10.0.0.1", "10.0.0.2"), kAToB), -1) << "untagged";
}

TEST(ClassifierTest, GroupWithMacsMatchesByMacOrAddress) {
  RuleClassifier classifier;
  // A node known by its address and by its MAC (e.g. its ARP traffic).
  classifier.Add(MatchSpec{.src = {{MakePrefix("10.0.0.1")}, {Mac(0x0a0a0a0a0a0a)}}});
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.1", "10.0.0.2"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(NonIp(), kAToB), 0) << "by MAC";
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.3", "10.0.0.2"), kAToB), -1);
}

TEST(ClassifierTest, OverlappingPrefixesOfManyGroups) {
  // Nested prefixes in different rules: the longest match must still report every set
  // containing the address.
  RuleClassifier classifier;
  classifier.Add(
      MatchSpec{.src = {{MakePrefix("10.1.2.3")}}, .dst = {{MakePrefix("10.9.0.0/16")}}});
  classifier.Add(
      MatchSpec{.src = {{MakePrefix("10.0.0.0/8")}}, .dst = {{MakePrefix("10.9.9.0/24")}}});
  classifier.Add(MatchSpec{.src = {{MakePrefix("0.0.0.0/0")}}, .dst = {{MakePrefix("10.9.9.9")}}});
  EXPECT_EQ(classifier.Classify(Ip("10.1.2.3", "10.9.9.9"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.1.2.4", "10.9.9.9"), kAToB), 1);
  EXPECT_EQ(classifier.Classify(Ip("11.1.2.4", "10.9.9.9"), kAToB), 2);
  EXPECT_EQ(classifier.Classify(Ip("11.1.2.4", "10.9.9.8"), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.1.2.4", "10.9.8.1"), kAToB), -1);
}

PartitionCut Cut(const std::string& from, const std::string& to, bool from_complement = false,
                 bool to_complement = false) {
  return PartitionCut{.from = {{MakePrefix(from)}, {}},
                      .to = {{MakePrefix(to)}, {}},
                      .from_complement = from_complement,
                      .to_complement = to_complement};
}

TEST(ClassifierTest, OneWayPartition) {
  RuleClassifier classifier;
  classifier.AddPartition({.name = "a -> b", .cuts = {Cut("10.0.1.0/24", "10.0.2.0/24")}});
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.5", "10.0.2.5")), 0);
  EXPECT_EQ(classifier.Cut(Ip("10.0.2.5", "10.0.1.5")), -1) << "the other way gets through";
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.5", "10.0.3.5")), -1);
  EXPECT_EQ(classifier.Cut(NonIp()), -1);
}

TEST(ClassifierTest, IsolateCutsEveryoneElseButNotTheGroupItself) {
  RuleClassifier classifier;
  classifier.AddPartition({.name = "isolate",
                           .cuts = {Cut("10.0.3.0/24", "10.0.3.0/24", false, true),
                                    Cut("10.0.3.0/24", "10.0.3.0/24", true, false)}});
  EXPECT_EQ(classifier.Cut(Ip("10.0.3.1", "10.0.1.1")), 0);
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.1", "10.0.3.1")), 0);
  EXPECT_EQ(classifier.Cut(Ip("fd00::1", "fd00::2")), -1) << "IPv6: neither side in the group";
  EXPECT_EQ(classifier.Cut(Ip("10.0.3.1", "10.0.3.2")), -1) << "inside the group";
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.1", "10.0.2.1")), -1) << "neither side in the group";
}

TEST(ClassifierTest, NewConnectionsOnlyCutsInitialSyns) {
  RuleClassifier classifier;
  classifier.AddPartition(
      {.name = "new", .cuts = {Cut("10.0.1.0/24", "10.0.2.0/24")}, .new_connections_only = true});
  ParsedFrame syn = Ip("10.0.1.1", "10.0.2.1", kProtoTcp);
  syn.tcp_flags = kTcpSyn;
  EXPECT_EQ(classifier.Cut(syn), 0);
  ParsedFrame syn_ack = syn;
  syn_ack.tcp_flags = kTcpSyn | kTcpAck;
  EXPECT_EQ(classifier.Cut(syn_ack), -1);
  ParsedFrame data = syn;
  data.tcp_flags = kTcpAck;
  EXPECT_EQ(classifier.Cut(data), -1);
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.1", "10.0.2.1", kProtoUdp)), -1);
  ParsedFrame reverse = Ip("10.0.2.1", "10.0.1.1", kProtoTcp);
  reverse.tcp_flags = kTcpSyn;
  EXPECT_EQ(classifier.Cut(reverse), -1) << "one-way";
}

TEST(ClassifierTest, FirstCuttingPartitionIsReported) {
  RuleClassifier classifier;
  classifier.AddPartition({.name = "p0", .cuts = {Cut("10.0.9.0/24", "10.0.9.0/24")}});
  classifier.AddPartition({.name = "p1", .cuts = {Cut("10.0.1.1", "10.0.2.0/24")}});
  classifier.AddPartition({.name = "p2", .cuts = {Cut("10.0.1.0/24", "10.0.2.0/24")}});
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.1", "10.0.2.1")), 1);
  EXPECT_EQ(classifier.Cut(Ip("10.0.1.2", "10.0.2.1")), 2);
}

// ---- The bit-vector classifier against a linear reference on random rules and frames. ----

bool InPrefix(const Prefix& prefix, uint8_t family, const uint8_t* address) {
  if (prefix.family != family) return false;
  for (int bit = 0; bit < prefix.length; ++bit) {
    const int mask = 0x80 >> (bit % 8);
    if ((prefix.address[bit / 8] & mask) != (address[bit / 8] & mask)) return false;
  }
  return true;
}

// Packed here rather than with the product's Load48, so the reference stays independent of it.
bool ContainsMac(const std::vector<MacAddress>& macs, uint64_t value) {
  for (const MacAddress& mac : macs) {
    uint64_t candidate = 0;
    for (uint8_t octet : mac) candidate = candidate << 8 | octet;
    if (candidate == value) return true;
  }
  return false;
}

bool InSet(const EndpointSet& set, const ParsedFrame& frame, bool source) {
  const uint8_t* address = source ? frame.key.src : frame.key.dst;
  for (const Prefix& prefix : set.prefixes) {
    if (InPrefix(prefix, frame.key.family, address)) return true;
  }
  return ContainsMac(set.macs, source ? frame.src_mac : frame.dst_mac);
}

bool InRange(const std::optional<ValueRange>& range, bool present, uint32_t value) {
  return !range || (present && range->min <= value && value <= range->max);
}

bool InMacs(const std::vector<MacAddress>& macs, uint64_t value) {
  return macs.empty() || ContainsMac(macs, value);
}

int ReferenceClassify(const std::vector<MatchSpec>& rules, const ParsedFrame& frame,
                      Direction direction) {
  const bool ip = frame.key.family != 0;
  for (size_t i = 0; i < rules.size(); ++i) {
    const MatchSpec& rule = rules[i];
    if (rule.direction != Direction::kBoth && rule.direction != direction) continue;
    if (!rule.src.empty() && !InSet(rule.src, frame, true)) continue;
    if (!rule.dst.empty() && !InSet(rule.dst, frame, false)) continue;
    if (rule.proto && (!ip || frame.key.proto != *rule.proto)) continue;
    if (rule.has_src_port && (!frame.has_ports || frame.key.src_port < rule.src_port_min ||
                              frame.key.src_port > rule.src_port_max)) {
      continue;
    }
    if (rule.has_dst_port && (!frame.has_ports || frame.key.dst_port < rule.dst_port_min ||
                              frame.key.dst_port > rule.dst_port_max)) {
      continue;
    }
    if (!InRange(rule.vlan, frame.vlan != kNoVlan, frame.vlan)) continue;
    if (!InRange(rule.dscp, ip, frame.dscp)) continue;
    if (rule.ether_type && frame.ether_type != *rule.ether_type) continue;
    if (!InMacs(rule.src_mac, frame.src_mac) || !InMacs(rule.dst_mac, frame.dst_mac)) continue;
    return static_cast<int>(i);
  }
  return -1;
}

int ReferenceCut(const std::vector<PartitionSpec>& partitions, const ParsedFrame& frame) {
  const bool syn = frame.has_l4 && frame.key.proto == kProtoTcp &&
                   (frame.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
  for (size_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i].new_connections_only && !syn) continue;
    for (const PartitionCut& cut : partitions[i].cuts) {
      const bool from = cut.from.empty() || InSet(cut.from, frame, true) != cut.from_complement;
      const bool to = cut.to.empty() || InSet(cut.to, frame, false) != cut.to_complement;
      if (from && to) return static_cast<int>(i);
    }
  }
  return -1;
}

// Addresses drawn from a small pool of networks so that prefixes nest and frames hit them.
class RandomWorld {
 public:
  explicit RandomWorld(uint64_t seed) : rng_(seed) {}

  uint32_t Below(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  void RandomAddress(uint8_t family, uint8_t* out) {
    std::memset(out, 0, 16);
    if (family == 4) {
      out[0] = 10;
      out[1] = static_cast<uint8_t>(Below(3));
      out[2] = static_cast<uint8_t>(Below(4));
      out[3] = static_cast<uint8_t>(Below(8));
    } else {
      out[0] = 0xfd;
      out[1] = static_cast<uint8_t>(Below(3));
      out[7] = static_cast<uint8_t>(Below(4));
      out[15] = static_cast<uint8_t>(Below(8));
    }
  }

  Prefix RandomPrefix() {
    Prefix prefix;
    prefix.family = Below(4) == 0 ? 6 : 4;
    RandomAddress(prefix.family, prefix.address.data());
    // Mostly narrow prefixes, so that rules are selective and later rules get their turn.
    static const uint8_t kV4[] = {0, 8, 16, 24, 29, 30, 32, 32, 32, 32};
    static const uint8_t kV6[] = {0, 16, 64, 100, 125, 126, 128, 128, 128, 128};
    prefix.length = prefix.family == 4 ? kV4[Below(10)] : kV6[Below(10)];
    return prefix;
  }

  uint64_t RandomMac() { return 0x020000000000 + Below(6); }

  EndpointSet RandomSet() {
    EndpointSet set;
    const uint32_t prefixes = 1 + Below(3);
    for (uint32_t i = 0; i < prefixes; ++i) set.prefixes.push_back(RandomPrefix());
    if (Below(3) == 0) set.macs.push_back(Mac(RandomMac()));
    return set;
  }

  std::optional<ValueRange> RandomRange(uint32_t limit) {
    if (Below(4) != 0) return std::nullopt;
    const uint32_t a = Below(limit), b = Below(limit);
    return ValueRange{std::min(a, b), std::max(a, b)};
  }

  MatchSpec RandomRule() {
    MatchSpec rule;
    rule.direction = static_cast<Direction>(Below(3));
    if (Below(4) != 0) rule.src = RandomSet();
    if (Below(4) != 0) rule.dst = RandomSet();
    if (Below(4) == 0) rule.proto = Below(2) ? kProtoTcp : kProtoUdp;
    if (Below(4) == 0) {
      rule.has_dst_port = true;
      rule.dst_port_min = static_cast<uint16_t>(Below(20));
      rule.dst_port_max = static_cast<uint16_t>(rule.dst_port_min + Below(10));
    }
    if (Below(6) == 0) {
      rule.has_src_port = true;
      rule.src_port_min = rule.src_port_max = static_cast<uint16_t>(Below(20));
    }
    rule.vlan = RandomRange(8);
    rule.dscp = RandomRange(8);
    if (Below(8) == 0) rule.ether_type = Below(2) ? 0x0800 : 0x0806;
    if (Below(8) == 0) rule.src_mac = {Mac(RandomMac())};
    if (Below(8) == 0) rule.dst_mac = {Mac(RandomMac()), Mac(RandomMac())};
    return rule;
  }

  ParsedFrame RandomFrame() {
    ParsedFrame frame{};
    frame.src_mac = RandomMac();
    frame.dst_mac = RandomMac();
    frame.vlan = Below(3) == 0 ? static_cast<uint16_t>(Below(8)) : kNoVlan;
    const uint32_t kind = Below(8);
    if (kind == 0) {  // non-IP
      frame.ether_type = 0x0806;
      frame.dscp = static_cast<uint8_t>(Below(8));  // ignored for non-IP
      return frame;
    }
    frame.key.family = kind == 1 ? 6 : 4;
    frame.ether_type = frame.key.family == 4 ? 0x0800 : 0x86DD;
    RandomAddress(frame.key.family, frame.key.src);
    RandomAddress(frame.key.family, frame.key.dst);
    frame.dscp = static_cast<uint8_t>(Below(8));
    const uint32_t proto = Below(3);
    frame.key.proto = proto == 0 ? kProtoTcp : proto == 1 ? kProtoUdp : kProtoIcmp;
    frame.has_l4 = frame.key.proto != kProtoIcmp && Below(8) != 0;  // some later fragments
    frame.has_ports = frame.has_l4 || (frame.key.proto != kProtoIcmp && Below(2) == 0);  // resolved
    if (frame.has_ports) {
      frame.key.src_port = static_cast<uint16_t>(Below(25));
      frame.key.dst_port = static_cast<uint16_t>(Below(35));
      if (frame.key.proto == kProtoTcp)
        frame.tcp_flags = static_cast<uint8_t>(Below(2) ? kTcpSyn : kTcpAck);
    }
    return frame;
  }

  PartitionSpec RandomPartition() {
    PartitionSpec partition;
    partition.name = "p";
    const uint32_t cuts = 1 + Below(3);
    for (uint32_t i = 0; i < cuts; ++i) {
      PartitionCut cut{.from = RandomSet(), .to = RandomSet()};
      if (cut.from.empty()) cut.from.prefixes.push_back(RandomPrefix());
      if (cut.to.empty()) cut.to.prefixes.push_back(RandomPrefix());
      cut.from_complement = Below(10) == 0;
      cut.to_complement = Below(10) == 0;
      partition.cuts.push_back(cut);
    }
    partition.new_connections_only = Below(4) == 0;
    return partition;
  }

 private:
  std::mt19937_64 rng_;
};

// Every rule count crosses a different number of 64-bit words (1, 2, 4) and the frames hit
// every field; a single disagreement fails.
TEST(ClassifierTest, AgreesWithLinearReferenceOnRandomRules) {
  for (const uint32_t rule_count : {1u, 10u, 70u, 200u}) {
    RandomWorld world(rule_count);
    std::vector<MatchSpec> rules;
    for (uint32_t i = 0; i < rule_count; ++i) rules.push_back(world.RandomRule());
    std::vector<PartitionSpec> partitions;
    for (uint32_t i = 0; i < rule_count / 10 + 1; ++i)
      partitions.push_back(world.RandomPartition());
    const Classifier classifier(rules, partitions);
    int matched = 0, cut = 0;
    std::vector<bool> won(rule_count, false);
    for (int i = 0; i < 20000; ++i) {
      const ParsedFrame frame = world.RandomFrame();
      const Direction direction = i % 2 ? kAToB : kBToA;
      const int expected = ReferenceClassify(rules, frame, direction);
      ASSERT_EQ(classifier.Classify(frame, direction), expected)
          << "rules " << rule_count << " frame " << i;
      const int expected_cut = ReferenceCut(partitions, frame);
      ASSERT_EQ(classifier.Cut(frame), expected_cut) << "rules " << rule_count << " frame " << i;
      matched += expected >= 0;
      cut += expected_cut >= 0;
      if (expected >= 0) won[expected] = true;
    }
    // The comparison is only worth something if both outcomes occur and many different rules
    // win (not just an early catch-all).
    const auto winners = std::count(won.begin(), won.end(), true);
    std::printf("rules %u: matched %d, cut %d, distinct first matches %ld\n", rule_count, matched,
                cut, static_cast<long>(winners));
    EXPECT_GT(matched, 50) << rule_count;
    EXPECT_LT(matched, 20000) << rule_count;
    EXPECT_GT(cut, 50) << rule_count;
    EXPECT_LT(cut, 20000) << rule_count;
    EXPECT_GE(winners, std::min<long>(rule_count, 1 + rule_count / 4)) << rule_count;
  }
}

TEST(ClassifierTest, TenThousandHostRoutesInOneGroup) {
  EndpointSet hosts;
  for (uint32_t i = 0; i < 10000; ++i) {
    Prefix prefix;
    prefix.family = 4;
    prefix.length = 32;
    const uint32_t address = 0x0A000000 + i * 3;  // 10.0.0.0, 10.0.0.3, ...
    for (int b = 0; b < 4; ++b) prefix.address[b] = static_cast<uint8_t>(address >> (24 - 8 * b));
    hosts.prefixes.push_back(prefix);
  }
  RuleClassifier classifier;
  classifier.Add(MatchSpec{.src = hosts});
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.3", "1.1.1.1"), kAToB), 0);
  EXPECT_EQ(classifier.Classify(Ip("10.0.0.4", "1.1.1.1"), kAToB), -1);
  EXPECT_EQ(classifier.Classify(Ip("10.0.117.45", "1.1.1.1"), kAToB), 0);   // 29997 = 0x752D
  EXPECT_EQ(classifier.Classify(Ip("10.0.117.48", "1.1.1.1"), kAToB), -1);  // 30000: beyond
}

}  // namespace
}  // namespace faultline
