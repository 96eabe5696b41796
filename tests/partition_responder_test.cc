// The answers of icmp-unreachable and tcp-reset partitions, byte by byte: addressed back to the
// sender from the cut destination, VLAN tags kept, checksums a receiver accepts (checked here
// with an independent one's-complement sum), RST sequence numbers per RFC 9293, ICMP quoting the
// cut datagram; and silence where an answer would be wrong.
#include "dataplane/models/partition_responder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "tests/eal_environment.h"

namespace faultline {
namespace {

using testing::EalEnvironment;
using Bytes = std::vector<uint8_t>;

constexpr uint64_t kSenderMac = 0x02000000000a, kDestinationMac = 0x02000000000b;

void Put16(Bytes* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes* b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
void PutMac(Bytes* b, uint64_t mac) {
  for (int i = 5; i >= 0; --i) b->push_back(static_cast<uint8_t>(mac >> (8 * i)));
}
uint16_t Get16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
uint32_t Get32(const Bytes& b, size_t at) {
  return uint32_t{Get16(b, at)} << 16 | Get16(b, at + 2);
}
uint64_t GetMac(const Bytes& b, size_t at) {
  uint64_t mac = 0;
  for (int i = 0; i < 6; ++i) mac = mac << 8 | b[at + i];
  return mac;
}

// One's-complement sum of big-endian 16-bit words; a correct checksum makes it 0xFFFF.
uint32_t Sum(const uint8_t* data, size_t length, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < length; i += 2) sum += data[i] << 8 | data[i + 1];
  if (length % 2) sum += data[length - 1] << 8;
  return sum;
}
uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}
bool TransportChecksumValid(const Bytes& frame, size_t l3, uint8_t family) {
  const size_t header = family == 4 ? 20 : 40;
  const uint8_t proto = family == 4 ? frame[l3 + 9] : frame[l3 + 6];
  const size_t length = family == 4 ? Get16(frame, l3 + 2) - 20u : Get16(frame, l3 + 4);
  uint32_t sum = family == 4 ? Sum(&frame[l3 + 12], 8) : Sum(&frame[l3 + 8], 32);
  sum += proto + static_cast<uint32_t>(length);
  if (proto == kProtoIcmp) sum = 0;  // ICMPv4 has no pseudo-header
  return Fold(Sum(&frame[l3 + header], length, sum)) == 0xFFFF;
}

struct FrameOptions {
  uint8_t family = 4;
  uint8_t proto = kProtoTcp;
  uint8_t tcp_flags = kTcpSyn;
  uint32_t seq = 1000, ack = 0;
  uint16_t payload = 0;
  bool vlan = false;
  uint64_t dst_mac = kDestinationMac;
  const char* src = nullptr;
  const char* dst = nullptr;
  uint8_t icmp_type = 8;  // echo request
};

Bytes MakeFrame(const FrameOptions& o) {
  Bytes b;
  PutMac(&b, o.dst_mac);
  PutMac(&b, kSenderMac);
  if (o.vlan) {
    Put16(&b, 0x8100);
    Put16(&b, 42);
  }
  Put16(&b, o.family == 4 ? 0x0800 : 0x86DD);
  const size_t l4_length = (o.proto == kProtoTcp ? 20 : 8) + o.payload;
  uint8_t src[16] = {}, dst[16] = {};
  const char* src_text = o.src ? o.src : (o.family == 4 ? "10.0.1.5" : "fd00:1::5");
  const char* dst_text = o.dst ? o.dst : (o.family == 4 ? "10.0.2.7" : "fd00:2::7");
  inet_pton(o.family == 4 ? AF_INET : AF_INET6, src_text, src);
  inet_pton(o.family == 4 ? AF_INET : AF_INET6, dst_text, dst);
  if (o.family == 4) {
    b.push_back(0x45);
    b.push_back(0);
    Put16(&b, static_cast<uint16_t>(20 + l4_length));
    Put32(&b, 0);
    b.push_back(64);
    b.push_back(o.proto);
    Put16(&b, 0);
    b.insert(b.end(), src, src + 4);
    b.insert(b.end(), dst, dst + 4);
  } else {
    Put32(&b, 0x60000000);
    Put16(&b, static_cast<uint16_t>(l4_length));
    b.push_back(o.proto);
    b.push_back(64);
    b.insert(b.end(), src, src + 16);
    b.insert(b.end(), dst, dst + 16);
  }
  if (o.proto == kProtoTcp) {
    Put16(&b, 40000);
    Put16(&b, 2379);
    Put32(&b, o.seq);
    Put32(&b, o.ack);
    b.push_back(0x50);
    b.push_back(o.tcp_flags);
    Put16(&b, 65535);
    Put32(&b, 0);
  } else if (o.proto == kProtoUdp) {
    Put16(&b, 40000);
    Put16(&b, 53);
    Put16(&b, static_cast<uint16_t>(l4_length));
    Put16(&b, 0);
  } else {
    b.push_back(o.icmp_type);
    b.push_back(0);
    Put16(&b, 0);
    Put32(&b, 0x00010001);
  }
  b.insert(b.end(), o.payload, 0xAB);
  return b;
}

// Runs the responder on `frame`; returns the answer's bytes (empty: no answer).
Bytes Answer(PartitionMode mode, const Bytes& frame) {
  rte_mbuf* packet = rte_pktmbuf_alloc(EalEnvironment::pool());
  std::memcpy(rte_pktmbuf_append(packet, static_cast<uint16_t>(frame.size())), frame.data(),
              frame.size());
  ParsedFrame parsed;
  ParseFrame(packet, &parsed);
  rte_mbuf* answer = BuildPartitionAnswer(mode, packet, parsed, EalEnvironment::pool());
  rte_pktmbuf_free(packet);
  if (answer == nullptr) return {};
  const uint8_t* data = rte_pktmbuf_mtod(answer, const uint8_t*);
  Bytes bytes(data, data + answer->data_len);
  EXPECT_EQ(answer->pkt_len, answer->data_len);
  rte_pktmbuf_free(answer);
  return bytes;
}

// Ethernet back to the sender and the IP header from the cut destination to the sender.
void ExpectAddressedBack(const Bytes& answer, const Bytes& frame, size_t l3, uint8_t family,
                         uint8_t proto) {
  ASSERT_GE(answer.size(), l3 + (family == 4 ? 20u : 40u));
  EXPECT_EQ(GetMac(answer, 0), kSenderMac);
  EXPECT_EQ(GetMac(answer, 6), kDestinationMac);
  EXPECT_TRUE(std::equal(answer.begin() + 12, answer.begin() + l3, frame.begin() + 12))
      << "tags and ethertype kept";
  if (family == 4) {
    EXPECT_EQ(answer[l3], 0x45);
    EXPECT_EQ(answer[l3 + 9], proto);
    EXPECT_EQ(Get16(answer, l3 + 2), answer.size() - l3);
    EXPECT_EQ(Fold(Sum(&answer[l3], 20)), 0xFFFF) << "IPv4 header checksum";
    EXPECT_TRUE(std::equal(&answer[l3 + 12], &answer[l3 + 16], &frame[l3 + 16]));
    EXPECT_TRUE(std::equal(&answer[l3 + 16], &answer[l3 + 20], &frame[l3 + 12]));
  } else {
    EXPECT_EQ(answer[l3] >> 4, 6);
    EXPECT_EQ(answer[l3 + 6], proto);
    EXPECT_EQ(Get16(answer, l3 + 4), answer.size() - l3 - 40);
    EXPECT_TRUE(std::equal(&answer[l3 + 8], &answer[l3 + 24], &frame[l3 + 24]));
    EXPECT_TRUE(std::equal(&answer[l3 + 24], &answer[l3 + 40], &frame[l3 + 8]));
  }
  EXPECT_TRUE(TransportChecksumValid(answer, l3, family));
}

TEST(PartitionResponderTest, SynGetsRstAckForTheNextSequenceNumber) {
  for (uint8_t family : {4, 6}) {
    for (bool vlan : {false, true}) {
      const Bytes frame = MakeFrame({.family = family, .seq = 0xFFFFFFFF, .vlan = vlan});
      const Bytes answer = Answer(PartitionMode::kTcpReset, frame);
      const size_t l3 = vlan ? 18 : 14, l4 = l3 + (family == 4 ? 20 : 40);
      ASSERT_EQ(answer.size(), l4 + 20) << int{family};
      ExpectAddressedBack(answer, frame, l3, family, kProtoTcp);
      EXPECT_EQ(Get16(answer, l4), 2379);
      EXPECT_EQ(Get16(answer, l4 + 2), 40000);
      EXPECT_EQ(Get32(answer, l4 + 4), 0u);
      EXPECT_EQ(Get32(answer, l4 + 8), 0u) << "SEG.SEQ + 1 wraps";
      EXPECT_EQ(answer[l4 + 13], kTcpRst | kTcpAck);
    }
  }
}

TEST(PartitionResponderTest, SegmentWithAckGetsRstAtItsAckNumber) {
  const Bytes frame =
      MakeFrame({.tcp_flags = kTcpAck | 0x08, .seq = 500, .ack = 777777, .payload = 100});
  const Bytes answer = Answer(PartitionMode::kTcpReset, frame);
  ASSERT_EQ(answer.size(), 14u + 20 + 20);
  ExpectAddressedBack(answer, frame, 14, 4, kProtoTcp);
  EXPECT_EQ(Get32(answer, 34 + 4), 777777u);
  EXPECT_EQ(answer[34 + 13], kTcpRst);
}

TEST(PartitionResponderTest, FinWithoutAckCountsPayloadAndFin) {
  const Bytes frame = MakeFrame({.tcp_flags = kTcpFin, .seq = 100, .payload = 10});
  const Bytes answer = Answer(PartitionMode::kTcpReset, frame);
  ASSERT_FALSE(answer.empty());
  EXPECT_EQ(Get32(answer, 34 + 8), 111u);
}

TEST(PartitionResponderTest, UnreachableQuotesTheCutDatagram) {
  for (uint8_t family : {4, 6}) {
    const Bytes frame = MakeFrame({.family = family, .payload = 200});
    const Bytes answer = Answer(PartitionMode::kIcmpUnreachable, frame);
    const size_t ip = family == 4 ? 20 : 40, icmp = 14 + ip;
    ASSERT_EQ(answer.size(), icmp + 8 + ip + 64) << "header + 64 bytes quoted";
    ExpectAddressedBack(answer, frame, 14, family, family == 4 ? kProtoIcmp : kProtoIcmpV6);
    EXPECT_EQ(answer[icmp], family == 4 ? 3 : 1) << "destination unreachable";
    EXPECT_EQ(answer[icmp + 1], family == 4 ? 1 : 3) << "host / address unreachable";
    EXPECT_TRUE(std::equal(answer.begin() + icmp + 8, answer.end(), frame.begin() + 14));
  }
}

TEST(PartitionResponderTest, UdpUnderTcpResetGetsPortUnreachable) {
  for (uint8_t family : {4, 6}) {
    const Bytes frame = MakeFrame({.family = family, .proto = kProtoUdp, .payload = 4});
    const Bytes answer = Answer(PartitionMode::kTcpReset, frame);
    const size_t icmp = 14 + (family == 4 ? 20 : 40);
    ASSERT_EQ(answer.size(), icmp + 8 + (family == 4 ? 20 : 40) + 12) << "short datagram: all";
    ExpectAddressedBack(answer, frame, 14, family, family == 4 ? kProtoIcmp : kProtoIcmpV6);
    EXPECT_EQ(answer[icmp + 1], family == 4 ? 3 : 4) << "port unreachable";
  }
}

TEST(PartitionResponderTest, StaysSilentWhereAnAnswerWouldBeWrong) {
  EXPECT_TRUE(Answer(PartitionMode::kDrop, MakeFrame({})).empty());
  EXPECT_TRUE(Answer(PartitionMode::kTcpReset, MakeFrame({.tcp_flags = kTcpRst})).empty())
      << "never answer a RST";
  EXPECT_TRUE(Answer(PartitionMode::kTcpReset, MakeFrame({.proto = kProtoIcmp})).empty())
      << "tcp-reset has no answer for ICMP";
  EXPECT_TRUE(
      Answer(PartitionMode::kIcmpUnreachable, MakeFrame({.proto = kProtoIcmp, .icmp_type = 3}))
          .empty())
      << "never answer an ICMP error";
  EXPECT_TRUE(Answer(PartitionMode::kIcmpUnreachable,
                     MakeFrame({.family = 6, .proto = kProtoIcmpV6, .icmp_type = 1}))
                  .empty());
  EXPECT_FALSE(Answer(PartitionMode::kIcmpUnreachable,
                      MakeFrame({.family = 6, .proto = kProtoIcmpV6, .icmp_type = 128}))
                   .empty())
      << "an echo request is answered";
  EXPECT_TRUE(
      Answer(PartitionMode::kIcmpUnreachable, MakeFrame({.dst_mac = 0xFFFFFFFFFFFF})).empty());
  EXPECT_TRUE(Answer(PartitionMode::kIcmpUnreachable, MakeFrame({.dst = "224.0.0.251"})).empty());
  EXPECT_TRUE(
      Answer(PartitionMode::kIcmpUnreachable, MakeFrame({.family = 6, .dst = "ff02::1"})).empty());
  Bytes arp(60, 0);
  for (int i = 0; i < 6; ++i) arp[i] = 0xFF;
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_TRUE(Answer(PartitionMode::kIcmpUnreachable, arp).empty());
}

}  // namespace
}  // namespace faultline
