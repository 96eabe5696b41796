#include "dataplane/models/partition_responder.h"

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dataplane/fastpath/big_endian.h"

namespace faultline {
namespace {

// Headers are written through DPDK's structs (packed: any alignment will do).
constexpr uint32_t kIpv4HeaderBytes = sizeof(rte_ipv4_hdr), kIpv6HeaderBytes = sizeof(rte_ipv6_hdr),
                   kIcmpHeaderBytes = sizeof(rte_icmp_hdr), kTcpHeaderBytes = sizeof(rte_tcp_hdr);
// How much of the cut datagram past its IP headers an ICMP error quotes: enough for any
// transport header's ports and sequence number, which is all a stack needs to find the socket.
constexpr uint32_t kQuotedTransportBytes = 64;
constexpr uint8_t kIcmpV4Unreachable = 3, kIcmpV4HostUnreachable = 1, kIcmpV4PortUnreachable = 3;
constexpr uint8_t kIcmpV6Unreachable = 1, kIcmpV6AddressUnreachable = 3, kIcmpV6PortUnreachable = 4;
constexpr uint8_t kTtl = 64;

// What the frame gets back, decided from its headers alone.
enum class Answer { kNone, kUnreachable, kPortUnreachable, kReset };

bool IsIcmpError(const ParsedFrame& parsed, const uint8_t* data, uint32_t length) {
  const uint8_t proto = parsed.key.proto;
  if (proto != kProtoIcmp && proto != kProtoIcmpV6) return false;
  if (parsed.l4_offset >= length) return true;  // cannot tell: stay silent
  const uint8_t type = data[parsed.l4_offset];
  if (proto == kProtoIcmpV6) return type < 128;  // 0-127 are errors
  return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

bool IsGroupDestination(const ParsedFrame& parsed) {
  if ((parsed.dst_mac >> 40) & 1) return true;  // multicast or broadcast MAC
  const uint8_t* dst = parsed.key.dst;
  if (parsed.key.family == 4) return (dst[0] & 0xF0) == 0xE0 || Load32(dst) == 0xFFFFFFFF;
  return dst[0] == 0xFF;
}

Answer Choose(PartitionMode mode, const ParsedFrame& parsed, const uint8_t* data, uint32_t length) {
  if (mode == PartitionMode::kDrop || parsed.key.family == 0 ||
      parsed.fragment == Fragment::kLater || IsGroupDestination(parsed) ||
      IsIcmpError(parsed, data, length)) {
    return Answer::kNone;
  }
  if (mode == PartitionMode::kIcmpUnreachable) return Answer::kUnreachable;
  // tcp-reset: what a host without the listening process answers.
  if (parsed.key.proto == kProtoUdp) return Answer::kPortUnreachable;
  if (parsed.key.proto == kProtoTcp && parsed.has_l4 &&
      parsed.l4_offset + kTcpHeaderBytes <= length && (parsed.tcp_flags & kTcpRst) == 0) {
    return Answer::kReset;
  }
  return Answer::kNone;
}

// Length of the IP datagram as its header states it, bounded by what the segment holds.
uint32_t DatagramBytes(const ParsedFrame& parsed, const uint8_t* data, uint32_t length) {
  const uint8_t* ip = data + parsed.l3_offset;
  const uint32_t stated =
      parsed.key.family == 4
          ? rte_be_to_cpu_16(reinterpret_cast<const rte_ipv4_hdr*>(ip)->total_length)
          : kIpv6HeaderBytes +
                rte_be_to_cpu_16(reinterpret_cast<const rte_ipv6_hdr*>(ip)->payload_len);
  return std::min(stated, length - parsed.l3_offset);
}

// Ethernet header back to the sender, with the frame's VLAN tags; returns the IP header.
uint8_t* WriteEthernet(const uint8_t* data, const ParsedFrame& parsed, uint8_t* out) {
  std::memcpy(out, data + 6, 6);
  std::memcpy(out + 6, data, 6);
  std::memcpy(out + 12, data + 12, parsed.l3_offset - 12u);
  return out + parsed.l3_offset;
}

// IP header from the frame's destination to its source; returns the transport header.
uint8_t* WriteIp(const ParsedFrame& parsed, uint8_t proto, uint32_t payload_bytes, uint8_t* ip) {
  if (parsed.key.family == 4) {
    auto* header = reinterpret_cast<rte_ipv4_hdr*>(ip);
    std::memset(header, 0, sizeof(*header));
    header->version_ihl = RTE_IPV4_VHL_DEF;  // version 4, 20-byte header
    header->total_length =
        rte_cpu_to_be_16(static_cast<uint16_t>(kIpv4HeaderBytes + payload_bytes));
    header->time_to_live = kTtl;
    header->next_proto_id = proto;
    std::memcpy(&header->src_addr, parsed.key.dst, 4);
    std::memcpy(&header->dst_addr, parsed.key.src, 4);
    header->hdr_checksum = rte_ipv4_cksum(header);  // in network order already
    return ip + kIpv4HeaderBytes;
  }
  auto* header = reinterpret_cast<rte_ipv6_hdr*>(ip);
  std::memset(header, 0, sizeof(*header));
  header->vtc_flow = rte_cpu_to_be_32(6u << 28);  // version 6, class and flow label 0
  header->payload_len = rte_cpu_to_be_16(static_cast<uint16_t>(payload_bytes));
  header->proto = proto;
  header->hop_limits = kTtl;
  std::memcpy(header->src_addr, parsed.key.dst, 16);
  std::memcpy(header->dst_addr, parsed.key.src, 16);
  return ip + kIpv6HeaderBytes;
}

void WriteTransportChecksum(const ParsedFrame& parsed, const uint8_t* ip, uint8_t* l4,
                            size_t checksum_offset) {
  const uint16_t checksum =
      parsed.key.family == 4 ? rte_ipv4_udptcp_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip), l4)
                             : rte_ipv6_udptcp_cksum(reinterpret_cast<const rte_ipv6_hdr*>(ip), l4);
  std::memcpy(l4 + checksum_offset, &checksum, 2);
}

}  // namespace

rte_mbuf* BuildPartitionAnswer(PartitionMode mode, const rte_mbuf* frame, const ParsedFrame& parsed,
                               rte_mempool* pool) {
  const uint8_t* data = rte_pktmbuf_mtod(frame, const uint8_t*);
  const uint32_t length = frame->data_len;
  const Answer answer = Choose(mode, parsed, data, length);
  if (answer == Answer::kNone) return nullptr;
  const bool v4 = parsed.key.family == 4;
  const uint32_t ip_header = v4 ? kIpv4HeaderBytes : kIpv6HeaderBytes;
  const uint32_t datagram = DatagramBytes(parsed, data, length);
  const uint32_t ip_headers = parsed.l4_offset - parsed.l3_offset;  // with options / extensions
  const uint32_t quoted =
      answer == Answer::kReset ? 0 : std::min(datagram, ip_headers + kQuotedTransportBytes);
  const uint32_t payload = answer == Answer::kReset ? kTcpHeaderBytes : kIcmpHeaderBytes + quoted;

  rte_mbuf* reply = rte_pktmbuf_alloc(pool);
  if (reply == nullptr) return nullptr;
  uint8_t* out = reinterpret_cast<uint8_t*>(
      rte_pktmbuf_append(reply, static_cast<uint16_t>(parsed.l3_offset + ip_header + payload)));
  if (out == nullptr) {
    rte_pktmbuf_free(reply);
    return nullptr;
  }
  uint8_t* ip = WriteEthernet(data, parsed, out);
  if (answer == Answer::kReset) {
    uint8_t* l4 = WriteIp(parsed, kProtoTcp, payload, ip);
    auto* tcp = reinterpret_cast<rte_tcp_hdr*>(l4);
    const auto* cut = reinterpret_cast<const rte_tcp_hdr*>(data + parsed.l4_offset);
    const uint32_t cut_header = (cut->data_off >> 4) * 4u;
    const uint32_t cut_payload =
        datagram > ip_headers + cut_header ? datagram - ip_headers - cut_header : 0;
    std::memset(tcp, 0, sizeof(*tcp));
    tcp->src_port = cut->dst_port;  // ports swapped
    tcp->dst_port = cut->src_port;
    if (parsed.tcp_flags & kTcpAck) {
      // RFC 9293 3.10.7.1: answer an acceptable-looking segment with <SEQ=SEG.ACK><CTL=RST>.
      tcp->sent_seq = cut->recv_ack;
      tcp->tcp_flags = kTcpRst;
    } else {
      // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN and FIN each count as one.
      const uint32_t segment = cut_payload + ((parsed.tcp_flags & kTcpSyn) ? 1 : 0) +
                               ((parsed.tcp_flags & kTcpFin) ? 1 : 0);
      tcp->recv_ack = rte_cpu_to_be_32(rte_be_to_cpu_32(cut->sent_seq) + segment);
      tcp->tcp_flags = kTcpRst | kTcpAck;
    }
    tcp->data_off = (kTcpHeaderBytes / 4) << 4;
    WriteTransportChecksum(parsed, ip, l4, offsetof(rte_tcp_hdr, cksum));
    return reply;
  }
  uint8_t* l4 = WriteIp(parsed, v4 ? kProtoIcmp : kProtoIcmpV6, payload, ip);
  auto* icmp = reinterpret_cast<rte_icmp_hdr*>(l4);
  std::memset(icmp, 0, sizeof(*icmp));
  const bool port = answer == Answer::kPortUnreachable;
  if (v4) {
    icmp->icmp_type = kIcmpV4Unreachable;
    icmp->icmp_code = port ? kIcmpV4PortUnreachable : kIcmpV4HostUnreachable;
  } else {
    icmp->icmp_type = kIcmpV6Unreachable;
    icmp->icmp_code = port ? kIcmpV6PortUnreachable : kIcmpV6AddressUnreachable;
  }
  std::memcpy(l4 + kIcmpHeaderBytes, data + parsed.l3_offset, quoted);
  if (v4) {
    icmp->icmp_cksum = static_cast<uint16_t>(~rte_raw_cksum(l4, payload));
  } else {
    // ICMPv6 uses the pseudo-header too.
    WriteTransportChecksum(parsed, ip, l4, offsetof(rte_icmp_hdr, icmp_cksum));
  }
  return reply;
}

}  // namespace faultline
