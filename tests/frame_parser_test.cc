// The frame parser on real mbufs: Ethernet, VLAN and QinQ, IPv4 (options, fragments), IPv6
// (extension headers, fragments), transport ports, ECN bits, every kind of short or invalid
// frame (which must fall back to the MAC key, be reported malformed, and never be read past the
// first segment), and a million random frames behind a guard page.
#include "dataplane/fastpath/frame_parser.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "tests/eal_environment.h"
#include "tests/frame_builder.h"

namespace faultline {
namespace {

using testing::AppendIpv4;
using testing::AppendIpv6;
using testing::AppendIpv6Extension;
using testing::AppendPorts;
using testing::Bytes;
using testing::EalEnvironment;
using testing::Ethernet;
using testing::kDstMac;
using testing::kSrcMac;
using testing::PutZeros;

// Frees the heap buffer of an external-buffer mbuf and its shared info.
void FreeExternal(void* buffer, void* shinfo) {
  std::free(buffer);
  delete static_cast<rte_mbuf_ext_shared_info*>(shinfo);
}

// An mbuf holding `bytes` (one segment), freed by the fixture. The data lives in a heap buffer
// of exactly that size (an external buffer), so under valgrind or ASan any read past the
// frame's end is reported, not absorbed by the rest of a 2 KB mbuf.
class FrameParserTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (rte_mbuf* packet : packets_) rte_pktmbuf_free(packet);
  }
  rte_mbuf* Mbuf(const Bytes& bytes) {
    rte_mbuf* packet = rte_pktmbuf_alloc(EalEnvironment::pool());
    EXPECT_NE(packet, nullptr);
    void* buffer = std::malloc(std::max<size_t>(bytes.size(), 1));
    auto* shinfo = new rte_mbuf_ext_shared_info{};
    shinfo->free_cb = FreeExternal;
    shinfo->fcb_opaque = shinfo;
    rte_mbuf_ext_refcnt_set(shinfo, 1);
    rte_pktmbuf_attach_extbuf(packet, buffer, 0, static_cast<uint16_t>(bytes.size()), shinfo);
    char* data = rte_pktmbuf_append(packet, static_cast<uint16_t>(bytes.size()));
    if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
    packets_.push_back(packet);
    return packet;
  }
  ParsedFrame Parse(const Bytes& bytes) {
    ParsedFrame parsed;
    std::memset(static_cast<void*>(&parsed), 0x5a,
                sizeof(parsed));  // whatever was there must be overwritten
    ParseFrame(Mbuf(bytes), &parsed);
    return parsed;
  }

 private:
  std::vector<rte_mbuf*> packets_;
};

void ExpectAddress4(const uint8_t* field, const char* text) {
  uint8_t address[4];
  inet_pton(AF_INET, text, address);
  EXPECT_EQ(std::memcmp(field, address, 4), 0) << text;
  for (int i = 4; i < 16; ++i) EXPECT_EQ(field[i], 0) << "byte " << i << " of an IPv4 address";
}

void ExpectAddress6(const uint8_t* field, const char* text) {
  uint8_t address[16];
  inet_pton(AF_INET6, text, address);
  EXPECT_EQ(std::memcmp(field, address, 16), 0) << text;
}

// The key of a frame the parser could not read as IP: MACs, ethertype, nothing else.
void ExpectMacKey(const ParsedFrame& parsed, uint16_t ether_type, uint16_t l3_offset) {
  const FlowKey& key = parsed.key;
  EXPECT_EQ(key.family, 0);
  EXPECT_EQ(std::memcmp(key.dst, kDstMac, 6), 0);
  EXPECT_EQ(std::memcmp(key.src, kSrcMac, 6), 0);
  for (int i = 6; i < 16; ++i) {
    EXPECT_EQ(key.src[i], 0);
    EXPECT_EQ(key.dst[i], 0);
  }
  EXPECT_EQ(key.src_port, ether_type);
  EXPECT_EQ(key.dst_port, 0);
  EXPECT_EQ(key.proto, 0);
  EXPECT_EQ(key.rule_slot, 0);
  EXPECT_FALSE(parsed.has_l4);
  EXPECT_FALSE(parsed.has_ports);
  EXPECT_EQ(parsed.ecn, 0);
  EXPECT_EQ(parsed.l3_offset, l3_offset);
}

void ExpectMalformedMacKey(const ParsedFrame& parsed, uint16_t ether_type, uint16_t l3_offset) {
  ExpectMacKey(parsed, ether_type, l3_offset);
  EXPECT_TRUE(parsed.malformed);
}

TEST_F(FrameParserTest, Ipv4Udp) {
  Bytes frame = Ethernet(0x0800);
  AppendIpv4(&frame, {});
  AppendPorts(&frame, 5000, 53);
  PutZeros(&frame, 18);
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.family, 4);
  EXPECT_EQ(parsed.key.proto, kProtoUdp);
  ExpectAddress4(parsed.key.src, "10.0.1.5");
  ExpectAddress4(parsed.key.dst, "10.0.2.7");
  EXPECT_TRUE(parsed.has_l4);
  EXPECT_TRUE(parsed.has_ports);
  EXPECT_FALSE(parsed.malformed);
  EXPECT_EQ(parsed.key.src_port, 5000);
  EXPECT_EQ(parsed.key.dst_port, 53);
  EXPECT_EQ(parsed.l3_offset, 14);
  EXPECT_EQ(parsed.l4_offset, 34);
  EXPECT_EQ(parsed.ecn, 0);
  EXPECT_EQ(parsed.key.rule_slot, 0);
}

TEST_F(FrameParserTest, Ipv4WithOptions) {
  Bytes frame = Ethernet(0x0800);
  AppendIpv4(&frame, {.ihl = 6});
  AppendPorts(&frame, 1234, 4321);
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.family, 4);
  EXPECT_EQ(parsed.l4_offset, 38);
  EXPECT_TRUE(parsed.has_l4);
  EXPECT_EQ(parsed.key.src_port, 1234);
  EXPECT_EQ(parsed.key.dst_port, 4321);
}

TEST_F(FrameParserTest, Ipv4Tcp) {
  Bytes frame = Ethernet(0x0800);
  AppendIpv4(&frame, {.proto = kProtoTcp});
  AppendPorts(&frame, 40000, 2379, 20);
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.proto, kProtoTcp);
  EXPECT_TRUE(parsed.has_l4);
  EXPECT_EQ(parsed.key.src_port, 40000);
  EXPECT_EQ(parsed.key.dst_port, 2379);
}

TEST_F(FrameParserTest, IcmpHasNoPorts) {
  Bytes frame = Ethernet(0x0800);
  AppendIpv4(&frame, {.proto = kProtoIcmp});
  AppendPorts(&frame, 0x0800, 0x1234);  // echo request: type/code, checksum
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.family, 4);
  EXPECT_EQ(parsed.key.proto, kProtoIcmp);
  EXPECT_FALSE(parsed.has_l4);
  EXPECT_FALSE(parsed.has_ports);
  EXPECT_FALSE(parsed.malformed);
  EXPECT_EQ(parsed.key.src_port, 0);
  EXPECT_EQ(parsed.key.dst_port, 0);
}

TEST_F(FrameParserTest, VlanAndQinQ) {
  Bytes vlan = Ethernet(0x0800, {0x8100});
  AppendIpv4(&vlan, {});
  AppendPorts(&vlan, 7, 9);
  ParsedFrame parsed = Parse(vlan);
  EXPECT_EQ(parsed.key.family, 4);
  EXPECT_EQ(parsed.l3_offset, 18);
  EXPECT_EQ(parsed.l4_offset, 38);
  EXPECT_EQ(parsed.key.src_port, 7);
  EXPECT_EQ(parsed.key.dst_port, 9);

  Bytes qinq = Ethernet(0x86DD, {0x88A8, 0x8100});
  AppendIpv6(&qinq, kProtoUdp);
  AppendPorts(&qinq, 7, 9);
  parsed = Parse(qinq);
  EXPECT_EQ(parsed.key.family, 6);
  EXPECT_EQ(parsed.l3_offset, 22);
  EXPECT_EQ(parsed.l4_offset, 62);
  EXPECT_EQ(parsed.key.src_port, 7);

  // Two 802.1Q tags (an old-style double tag) are QinQ too.
  Bytes double_q = Ethernet(0x0800, {0x8100, 0x8100});
  AppendIpv4(&double_q, {});
  AppendPorts(&double_q, 7, 9);
  EXPECT_EQ(Parse(double_q).l3_offset, 22);

  // A third tag is not parsed: the frame is keyed by MACs with the third TPID as ethertype.
  Bytes triple = Ethernet(0x0800, {0x88A8, 0x8100, 0x8100});
  AppendIpv4(&triple, {});
  AppendPorts(&triple, 7, 9);
  ExpectMacKey(Parse(triple), 0x8100, 22);
  EXPECT_FALSE(Parse(triple).malformed) << "valid, only not followed";
  EXPECT_FALSE(Parse(qinq).malformed);
}

TEST_F(FrameParserTest, CutVlanTagIsMalformed) {
  Bytes vlan = Ethernet(0x0800, {0x8100});
  AppendIpv4(&vlan, {});
  for (size_t length = 14; length < 18; ++length) {
    ExpectMalformedMacKey(Parse(Bytes(vlan.begin(), vlan.begin() + length)), 0x8100, 14);
  }
  // The tag is whole, the IPv4 header behind it is cut.
  ExpectMalformedMacKey(Parse(Bytes(vlan.begin(), vlan.begin() + 18)), 0x0800, 18);
  Bytes qinq = Ethernet(0x0806, {0x88A8, 0x8100});
  ExpectMalformedMacKey(Parse(Bytes(qinq.begin(), qinq.begin() + 20)), 0x8100, 18);
  const ParsedFrame arp = Parse(qinq);
  ExpectMacKey(arp, 0x0806, 22);
  EXPECT_FALSE(arp.malformed);
}

TEST_F(FrameParserTest, Ipv6WithHopByHopAndFragmentHeaders) {
  Bytes frame = Ethernet(0x86DD);
  AppendIpv6(&frame, 0);                                               // hop-by-hop
  frame.insert(frame.end(), {44, 0, 1, 4, 0, 0, 0, 0});                // -> fragment, 8 bytes, PadN
  frame.insert(frame.end(), {kProtoUdp, 0, 0x00, 0x01, 0, 0, 0, 42});  // offset 0, M = 1
  AppendPorts(&frame, 5353, 5354);
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.family, 6);
  ExpectAddress6(parsed.key.src, "fd00:1::5");
  ExpectAddress6(parsed.key.dst, "fd00:2::7");
  EXPECT_EQ(parsed.key.proto, kProtoUdp);
  EXPECT_EQ(parsed.l3_offset, 14);
  EXPECT_EQ(parsed.l4_offset, 14 + 40 + 8 + 8);
  EXPECT_TRUE(parsed.has_l4) << "first fragment";
  EXPECT_EQ(parsed.key.src_port, 5353);
  EXPECT_EQ(parsed.key.dst_port, 5354);
}

TEST_F(FrameParserTest, Ipv6RoutingAndDestinationOptions) {
  Bytes frame = Ethernet(0x86DD);
  AppendIpv6(&frame, 43);  // routing header of 16 bytes (length field 1)
  frame.insert(frame.end(), {60, 1, 0, 0, 0, 0, 0, 0});
  PutZeros(&frame, 8);
  frame.insert(frame.end(), {kProtoTcp, 0, 1, 4, 0, 0, 0, 0});  // destination options, 8 bytes
  AppendPorts(&frame, 22, 60000, 20);
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.proto, kProtoTcp);
  EXPECT_EQ(parsed.l4_offset, 14 + 40 + 16 + 8);
  EXPECT_EQ(parsed.key.src_port, 22);
  EXPECT_EQ(parsed.key.dst_port, 60000);
}

TEST_F(FrameParserTest, Ipv6LaterFragmentHasNoPorts) {
  Bytes frame = Ethernet(0x86DD);
  AppendIpv6(&frame, 44);
  frame.insert(frame.end(), {kProtoUdp, 0, 0x05, 0xc8, 0, 0, 0, 42});  // offset 185 * 8
  AppendPorts(&frame, 5353, 5354);  // payload bytes, not a header
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.family, 6);
  EXPECT_EQ(parsed.key.proto, kProtoUdp);
  EXPECT_FALSE(parsed.has_l4);
  EXPECT_FALSE(parsed.malformed);
  EXPECT_EQ(parsed.fragment, Fragment::kLater);
  EXPECT_EQ(parsed.fragment_id, 42u);
  EXPECT_EQ(parsed.key.src_port, 0);
  EXPECT_EQ(parsed.key.dst_port, 0);
}

TEST_F(FrameParserTest, Ipv6LaterFragmentPayloadIsNotParsedAsHeaders) {
  // The fragmentable part starts with destination options: a later fragment names it, and what
  // follows its fragment header is payload (here bytes that would be an endless header chain).
  Bytes frame = Ethernet(0x86DD);
  AppendIpv6(&frame, 44);
  frame.insert(frame.end(), {60, 0, 0x05, 0xc8, 0, 0, 0, 42});
  for (int i = 0; i < 12; ++i) frame.insert(frame.end(), {60, 200, 0, 0, 0, 0, 0, 0});
  const ParsedFrame parsed = Parse(frame);
  EXPECT_EQ(parsed.key.family, 6);
  EXPECT_EQ(parsed.key.proto, 60);
  EXPECT_EQ(parsed.l4_offset, 14 + 40 + 8);
  EXPECT_FALSE(parsed.has_l4);
  EXPECT_FALSE(parsed.malformed);
  EXPECT_EQ(parsed.fragment, Fragment::kLater);
}

TEST_F(FrameParserTest, Ipv6ExtensionChainLongerThanEightIsMalformed) {
  for (int headers = 1; headers <= 20; ++headers) {
    Bytes frame = Ethernet(0x86DD);
    AppendIpv6(&frame, 0);
    // Hop-by-hop, then destination options pointing at each other (a loop), then UDP.
    for (int i = 0; i < headers; ++i) AppendIpv6Extension(&frame, i + 1 < headers ? 60 : kProtoUdp);
    AppendPorts(&frame, 1000, 2000);
    const ParsedFrame parsed = Parse(frame);
    EXPECT_EQ(parsed.key.family, 6) << headers << ": the IP key stays (prefix rules match)";
    ExpectAddress6(parsed.key.dst, "fd00:2::7");
    EXPECT_EQ(parsed.malformed, headers > 8) << headers;
    EXPECT_EQ(parsed.has_l4, headers <= 8) << headers;
    EXPECT_EQ(parsed.has_ports, headers <= 8) << headers;
    if (headers <= 8) {
      EXPECT_EQ(parsed.key.dst_port, 2000);
    }
  }
}

TEST_F(FrameParserTest, Ipv4Fragments) {
  // First fragment (more fragments, offset 0): ports are there.
  Bytes first = Ethernet(0x0800);
  AppendIpv4(&first, {.fragment = 0x2000});
  AppendPorts(&first, 1000, 2000);
  ParsedFrame parsed = Parse(first);
  EXPECT_TRUE(parsed.has_l4);
  EXPECT_EQ(parsed.key.src_port, 1000);
  // A later fragment: same addresses and protocol, no ports (its payload is not a header).
  Bytes later = Ethernet(0x0800);
  AppendIpv4(&later, {.fragment = 0x2000 | 185});
  AppendPorts(&later, 1000, 2000);
  parsed = Parse(later);
  EXPECT_EQ(parsed.key.family, 4);
  EXPECT_EQ(parsed.key.proto, kProtoUdp);
  ExpectAddress4(parsed.key.src, "10.0.1.5");
  EXPECT_FALSE(parsed.has_l4);
  EXPECT_EQ(parsed.key.src_port, 0);
  EXPECT_EQ(parsed.key.dst_port, 0);
  // The last fragment (no MF, offset set) and "don't fragment" (0x4000, offset 0).
  Bytes last = Ethernet(0x0800);
  AppendIpv4(&last, {.fragment = 185});
  AppendPorts(&last, 1000, 2000);
  EXPECT_FALSE(Parse(last).has_l4);
  Bytes dont_fragment = Ethernet(0x0800);
  AppendIpv4(&dont_fragment, {.fragment = 0x4000});
  AppendPorts(&dont_fragment, 1000, 2000);
  EXPECT_TRUE(Parse(dont_fragment).has_l4);
}

TEST_F(FrameParserTest, NonIpFramesAreKeyedByMacs) {
  Bytes arp = Ethernet(0x0806);
  PutZeros(&arp, 28);
  ExpectMacKey(Parse(arp), 0x0806, 14);
  Bytes vlan_arp = Ethernet(0x0806, {0x8100});
  PutZeros(&vlan_arp, 28);
  ExpectMacKey(Parse(vlan_arp), 0x0806, 18);
}

TEST_F(FrameParserTest, RuntsShareOneZeroKey) {
  Bytes full = Ethernet(0x0800);
  for (size_t length = 0; length < 14; ++length) {
    const ParsedFrame parsed = Parse(Bytes(full.begin(), full.begin() + length));
    const FlowKey zero{};
    EXPECT_TRUE(parsed.key == zero) << length << " bytes";
    EXPECT_EQ(parsed.key.rule_slot, 0);
    EXPECT_EQ(parsed.l3_offset, 0);
    EXPECT_FALSE(parsed.has_l4);
    EXPECT_TRUE(parsed.malformed) << length << " bytes";
  }
}

TEST_F(FrameParserTest, TruncatedIpv4FallsBackToTheMacKey) {
  Bytes frame = Ethernet(0x0800);
  AppendIpv4(&frame, {});
  AppendPorts(&frame, 1000, 2000);
  // Every cut inside the IPv4 header.
  for (size_t length = 14; length < 34; ++length) {
    ExpectMalformedMacKey(Parse(Bytes(frame.begin(), frame.begin() + length)), 0x0800, 14);
  }
  // Header complete, UDP header cut: IP key without ports, malformed.
  for (size_t length = 34; length < 42; ++length) {
    const ParsedFrame parsed = Parse(Bytes(frame.begin(), frame.begin() + length));
    EXPECT_EQ(parsed.key.family, 4) << length;
    EXPECT_FALSE(parsed.has_l4) << length;
    EXPECT_FALSE(parsed.has_ports) << length;
    EXPECT_TRUE(parsed.malformed) << length;
    EXPECT_EQ(parsed.key.src_port, 0);
  }
  EXPECT_TRUE(Parse(Bytes(frame.begin(), frame.begin() + 42)).has_l4);
  EXPECT_FALSE(Parse(Bytes(frame.begin(), frame.begin() + 42)).malformed);
  // Options announced (IHL 15: 60 bytes) but the frame ends before them.
  Bytes options = Ethernet(0x0800);
  AppendIpv4(&options, {.ihl = 15});
  ExpectMalformedMacKey(Parse(Bytes(options.begin(), options.begin() + 14 + 40)), 0x0800, 14);
  // Nonsense headers: IHL below 5, version 6 under the IPv4 ethertype.
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes short_ihl = Ethernet(0x0800);
    AppendIpv4(&short_ihl, {.ihl = ihl});
    PutZeros(&short_ihl, 40);
    ExpectMalformedMacKey(Parse(short_ihl), 0x0800, 14);
  }
  Bytes wrong_version = Ethernet(0x0800);
  AppendIpv6(&wrong_version, kProtoUdp);
  ExpectMalformedMacKey(Parse(wrong_version), 0x0800, 14);
  Bytes v4_as_v6 = Ethernet(0x86DD);
  AppendIpv4(&v4_as_v6, {});
  PutZeros(&v4_as_v6, 40);
  ExpectMalformedMacKey(Parse(v4_as_v6), 0x86DD, 14);
}

TEST_F(FrameParserTest, CutTransportHeadersAreMalformed) {
  struct Case {
    uint8_t proto;
    size_t header;
  };
  for (const Case& c : {Case{kProtoTcp, 20}, Case{kProtoUdp, 8}, Case{kProtoSctp, 12}}) {
    Bytes v4 = Ethernet(0x0800);
    AppendIpv4(&v4, {.proto = c.proto});
    AppendPorts(&v4, 1000, 2000, c.header);
    Bytes v6 = Ethernet(0x86DD);
    AppendIpv6(&v6, c.proto);
    AppendPorts(&v6, 1000, 2000, c.header);
    for (const Bytes& frame : {v4, v6}) {
      const size_t l4 = frame.size() - c.header;
      for (size_t length = l4; length < frame.size(); ++length) {
        const ParsedFrame parsed = Parse(Bytes(frame.begin(), frame.begin() + length));
        EXPECT_NE(parsed.key.family, 0) << "the IP key stays";
        EXPECT_TRUE(parsed.malformed) << int(c.proto) << " cut at " << length;
        EXPECT_FALSE(parsed.has_l4);
      }
      const ParsedFrame whole = Parse(frame);
      EXPECT_FALSE(whole.malformed) << int(c.proto);
      EXPECT_TRUE(whole.has_l4);
      EXPECT_EQ(whole.key.dst_port, 2000);
    }
  }
  // Where the IP header puts no transport header, a short frame is not malformed: a later
  // fragment, or a protocol without ports.
  Bytes later = Ethernet(0x0800);
  AppendIpv4(&later, {.fragment = 185});
  EXPECT_FALSE(Parse(later).malformed);
  Bytes icmp = Ethernet(0x0800);
  AppendIpv4(&icmp, {.proto = kProtoIcmp});
  EXPECT_FALSE(Parse(icmp).malformed);
}

TEST_F(FrameParserTest, TruncatedIpv6FallsBackToTheMacKey) {
  Bytes frame = Ethernet(0x86DD);
  AppendIpv6(&frame, kProtoUdp);
  AppendPorts(&frame, 1000, 2000);
  for (size_t length = 14; length < 54; ++length) {
    ExpectMalformedMacKey(Parse(Bytes(frame.begin(), frame.begin() + length)), 0x86DD, 14);
  }
  // An extension header cut short: an IPv6 key, its protocol the header it could not read.
  Bytes extension = Ethernet(0x86DD);
  AppendIpv6(&extension, 0);
  extension.insert(extension.end(), {kProtoUdp, 0, 1, 4});
  const ParsedFrame parsed = Parse(extension);
  EXPECT_EQ(parsed.key.family, 6);
  EXPECT_EQ(parsed.key.proto, 0);
  EXPECT_FALSE(parsed.has_l4);
  EXPECT_TRUE(parsed.malformed);
  // An extension header whose length points past the frame.
  Bytes long_extension = Ethernet(0x86DD);
  AppendIpv6(&long_extension, 0);
  long_extension.insert(long_extension.end(), {kProtoUdp, 200, 0, 0, 0, 0, 0, 0});
  AppendPorts(&long_extension, 1000, 2000);
  const ParsedFrame cut = Parse(long_extension);
  EXPECT_EQ(cut.key.family, 6);
  EXPECT_EQ(cut.key.proto, kProtoUdp);
  EXPECT_FALSE(cut.has_l4);
  EXPECT_TRUE(cut.malformed);
}

TEST_F(FrameParserTest, ReadsOnlyTheFirstSegment) {
  Bytes frame = Ethernet(0x0800);
  AppendIpv4(&frame, {});
  AppendPorts(&frame, 1000, 2000);
  // Headers split over two segments: the first holds 24 bytes.
  rte_mbuf* head = Mbuf(Bytes(frame.begin(), frame.begin() + 24));
  rte_mbuf* tail = rte_pktmbuf_alloc(EalEnvironment::pool());
  ASSERT_NE(tail, nullptr);
  const size_t rest = frame.size() - 24;
  std::memcpy(rte_pktmbuf_append(tail, static_cast<uint16_t>(rest)), frame.data() + 24, rest);
  ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);  // the fixture frees the chain through head
  ParsedFrame parsed;
  ParseFrame(head, &parsed);
  ExpectMacKey(parsed, 0x0800, 14);
  EXPECT_FALSE(parsed.malformed) << "the header goes on in the next segment: not cut";
}

TEST_F(FrameParserTest, EcnBits) {
  for (uint8_t ecn = 0; ecn < 4; ++ecn) {
    Bytes v4 = Ethernet(0x0800);
    AppendIpv4(&v4, {.tos = static_cast<uint8_t>(0xb8 | ecn)});  // DSCP EF + ECN
    AppendPorts(&v4, 1, 2);
    EXPECT_EQ(Parse(v4).ecn, ecn);
    Bytes v6 = Ethernet(0x86DD);
    AppendIpv6(&v6, kProtoUdp, static_cast<uint8_t>(0xb8 | ecn));
    AppendPorts(&v6, 1, 2);
    EXPECT_EQ(Parse(v6).ecn, ecn);
  }
}

TEST_F(FrameParserTest, SameFlowSameKeyAndHash) {
  Bytes a = Ethernet(0x0800);
  AppendIpv4(&a, {.tos = 1});
  AppendPorts(&a, 1000, 2000);
  PutZeros(&a, 100);
  Bytes b = Ethernet(0x0800);
  AppendIpv4(&b, {.tos = 2});
  AppendPorts(&b, 1000, 2000);
  b.insert(b.end(), 20, 0xee);
  // Other MACs (another router, a failover): the IP flow is the same flow, so its order keeping
  // and model memory carry on. (Regression: the MACs' last two bytes used to stay in the key.)
  b[4] = 0x11;
  b[5] = 0x22;
  b[10] = 0x33;
  b[11] = 0x44;
  const ParsedFrame pa = Parse(a), pb = Parse(b);
  EXPECT_TRUE(pa.key == pb.key);
  EXPECT_EQ(HashFlowKey(pa.key), HashFlowKey(pb.key));
  Bytes v6a = Ethernet(0x86DD), v6b = Ethernet(0x86DD);
  AppendIpv6(&v6a, kProtoIcmpV6);
  AppendIpv6(&v6b, kProtoIcmpV6);
  PutZeros(&v6a, 8);
  PutZeros(&v6b, 8);
  v6b[11] = 0x44;
  EXPECT_TRUE(Parse(v6a).key == Parse(v6b).key);
  Bytes c = Ethernet(0x0800);
  AppendIpv4(&c, {});
  AppendPorts(&c, 1001, 2000);
  EXPECT_FALSE(Parse(c).key == pa.key);
}

// Pages whose end is followed by an inaccessible page: a frame placed to end exactly there
// faults on any read past its last byte, with or without a sanitizer.
class GuardedPages {
 public:
  explicit GuardedPages(size_t size) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    usable_ = (size + page - 1) / page * page;
    total_ = usable_ + page;
    void* base = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(base, MAP_FAILED);
    base_ = static_cast<uint8_t*>(base);
    EXPECT_EQ(mprotect(base_ + usable_, page, PROT_NONE), 0);
  }
  ~GuardedPages() { munmap(base_, total_); }
  uint8_t* end() const { return base_ + usable_; }

 private:
  uint8_t* base_;
  size_t usable_, total_;
};

uint32_t TransportHeaderBytes(uint8_t proto) {
  return proto == kProtoTcp ? 20 : proto == kProtoUdp ? 8 : proto == kProtoSctp ? 12 : 0;
}

// Random bytes shaped, more often than not, like the headers the parser follows (tags, IPv4
// with any IHL and fragment field, IPv6 with extension chains of any length), so that every
// branch is reached at every length from 0 to 200.
class FrameGenerator {
 public:
  explicit FrameGenerator(uint64_t seed) : random_(seed) {}

  void Next(Bytes* bytes) {
    const size_t length = random_() % 201;
    bytes->resize(length);
    for (size_t i = 0; i < length; i += 8) {
      const uint64_t word = random_();
      std::memcpy(bytes->data() + i, &word, std::min<size_t>(8, length - i));
    }
    bytes_ = bytes;
    size_t offset = 12;
    for (int tag = 0; tag < 3; ++tag) {
      const uint16_t type = static_cast<uint16_t>(
          Pick({0x0800, 0x0800, 0x86DD, 0x86DD, 0x8100, 0x88A8, 0x0806, Random16()}));
      Put16(offset, type);
      if (type != 0x8100 && type != 0x88A8) break;
      offset += 4;
    }
    const size_t l3 = offset + 2;
    const uint8_t proto = static_cast<uint8_t>(Pick({6, 17, 132, 1, 0, 43, 44, 60, Random8()}));
    if (random_() % 2 == 0) {
      const uint8_t version = random_() % 8 ? 0x40 : Random8() & 0xF0;
      const uint8_t ihl = static_cast<uint8_t>(random_() % 4 ? 5 + random_() % 3 : random_() % 16);
      Put8(l3, version | ihl);
      Put16(l3 + 6,
            Pick({0, 0, 0x4000, 0x2000, 0x2000u | (Random16() & 0x1FFF), Random16() & 0x1FFFu}));
      Put8(l3 + 9, proto);
      return;
    }
    Put8(l3, random_() % 8 ? 0x60 : Random8());
    Put8(l3 + 6, proto);
    uint8_t current = proto;
    for (size_t header = l3 + 40; header + 8 <= length && IsExtension(current);) {
      const uint8_t next = static_cast<uint8_t>(Pick({6, 17, 132, 58, 0, 43, 44, 60, 60, 60}));
      Put8(header, next);
      size_t extension_length = 8;
      if (current == 44) {
        Put16(header + 2, Pick({0, 1, 0x05c8, 0x05c9, Random16()}));
      } else {
        const uint8_t units = static_cast<uint8_t>(random_() % 4 ? random_() % 3 : Random8());
        Put8(header + 1, units);
        extension_length = (units + 1u) * 8u;
      }
      header += extension_length;
      current = next;
    }
  }

  uint64_t Draw() { return random_(); }

 private:
  static bool IsExtension(uint8_t next) {
    return next == 0 || next == 43 || next == 44 || next == 60;
  }
  uint32_t Pick(std::initializer_list<uint32_t> values) {
    return values.begin()[random_() % values.size()];
  }
  uint32_t Random16() { return static_cast<uint32_t>(random_() & 0xFFFF); }
  uint8_t Random8() { return static_cast<uint8_t>(random_()); }
  void Put8(size_t at, uint8_t value) {
    if (at < bytes_->size()) (*bytes_)[at] = value;
  }
  void Put16(size_t at, uint32_t value) {
    Put8(at, static_cast<uint8_t>(value >> 8));
    Put8(at + 1, static_cast<uint8_t>(value));
  }

  std::mt19937_64 random_;
  Bytes* bytes_ = nullptr;
};

void NoFree(void*, void*) {}

TEST_F(FrameParserTest, RandomFramesNeverReadPastTheFirstSegment) {
  // A million random frames of 0 to 200 bytes, each placed to end at a guard page. A quarter of
  // them claim a longer frame (the rest in other segments): parsing must still stop at data_len,
  // and is not malformed where the whole frame would not be.
  constexpr uint16_t kRoom = 256;
  GuardedPages pages(kRoom);
  rte_mbuf_ext_shared_info shinfo{};
  shinfo.free_cb = NoFree;
  rte_mbuf_ext_refcnt_set(&shinfo, 1);
  rte_mbuf* packet = rte_pktmbuf_alloc(EalEnvironment::pool());
  ASSERT_NE(packet, nullptr);
  rte_pktmbuf_attach_extbuf(packet, pages.end() - kRoom, 0, kRoom, &shinfo);
  FrameGenerator generator(20261122);
  Bytes bytes;
  uint64_t malformed = 0, with_l4[7] = {}, later_fragments = 0, split = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    generator.Next(&bytes);
    const uint16_t length = static_cast<uint16_t>(bytes.size());
    packet->data_off = static_cast<uint16_t>(kRoom - length);
    packet->data_len = length;
    packet->pkt_len = length;
    if (length) std::memcpy(rte_pktmbuf_mtod(packet, uint8_t*), bytes.data(), length);
    ParsedFrame whole;
    ParseFrame(packet, &whole);
    malformed += whole.malformed;
    ASSERT_EQ(whole.has_ports, whole.has_l4) << i;
    ASSERT_EQ(length < 14, length < 14 && whole.malformed) << i;
    if (length >= 14) {
      ASSERT_LE(whole.l3_offset, length) << i;
    }
    if (whole.has_l4) {
      ASSERT_LE(whole.l4_offset + TransportHeaderBytes(whole.key.proto), length) << i;
      ++with_l4[whole.key.family];
    }
    // The whole frame is there: an IP ethertype without an IP key is a broken header.
    if (whole.key.family == 0 && (whole.ether_type == 0x0800 || whole.ether_type == 0x86DD)) {
      ASSERT_TRUE(whole.malformed) << i;
    }
    if (whole.key.family == 4) {
      for (int b = 4; b < 16; ++b) ASSERT_EQ(whole.key.src[b] | whole.key.dst[b], 0) << i;
    }
    later_fragments += whole.fragment == Fragment::kLater;
    if (generator.Draw() % 4 == 0) {
      packet->pkt_len = length + 1 + static_cast<uint32_t>(generator.Draw() % 300);
      ParsedFrame cut;
      ParseFrame(packet, &cut);
      ++split;
      ASSERT_TRUE(!cut.malformed || whole.malformed) << i << ": more frame, more malformed";
      ASSERT_EQ(cut.has_l4, whole.has_l4) << i;
      ASSERT_TRUE(cut.key == whole.key) << i << ": the same headers were read";
    }
  }
  rte_pktmbuf_free(packet);
  std::printf("malformed %lu, IPv4 with ports %lu, IPv6 with ports %lu, later fragments %lu\n",
              malformed, with_l4[4], with_l4[6], later_fragments);
  // Every kind of outcome was reached many times.
  EXPECT_GT(malformed, 300'000u);
  EXPECT_GT(with_l4[4], 10'000u);
  EXPECT_GT(with_l4[6], 20'000u);
  EXPECT_GT(later_fragments, 20'000u);
  EXPECT_GT(split, 200'000u);
}

}  // namespace
}  // namespace faultline
