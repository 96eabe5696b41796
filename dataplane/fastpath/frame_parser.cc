#include "dataplane/fastpath/frame_parser.h"

#include "dataplane/fastpath/big_endian.h"

namespace faultline {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeQinQ = 0x88A8;
constexpr unsigned kMaxIpv6ExtensionHeaders = 8;  // more is malformed

bool IsVlanTag(uint16_t ether_type) {
  return ether_type == kEtherTypeVlan || ether_type == kEtherTypeQinQ;
}

// Hop-by-hop, routing, fragment and destination options: the headers before the transport one.
bool IsIpv6Extension(uint8_t next) { return next == 0 || next == 43 || next == 44 || next == 60; }

// The fixed part of a transport header with ports (0: the protocol has no ports).
uint32_t TransportHeaderLength(uint8_t proto) {
  switch (proto) {
    case kProtoTcp:
      return 20;
    case kProtoUdp:
      return 8;
    case kProtoSctp:
      return 12;
    default:
      return 0;
  }
}

// The bytes the parser may read (the first segment) and the length of the whole frame.
struct FrameBytes {
  const uint8_t* data;
  uint32_t length;        // data_len: readable
  uint32_t frame_length;  // pkt_len

  // Whether bytes [0, end) are readable. If not, the header being read is not parsed; the frame
  // is malformed when the frame itself ends before `end` (a header continuing in the next
  // segment is merely out of the parser's reach).
  bool Has(uint32_t end, ParsedFrame* parsed) const {
    if (end <= length) return true;
    if (end > frame_length) parsed->malformed = true;
    return false;
  }
};

void ParsePorts(const FrameBytes& frame, uint32_t l4_offset, ParsedFrame* parsed) {
  const uint32_t header_length = TransportHeaderLength(parsed->key.proto);
  if (header_length == 0 || !frame.Has(l4_offset + header_length, parsed)) return;
  const uint8_t* l4 = frame.data + l4_offset;
  parsed->has_l4 = true;
  parsed->has_ports = true;
  parsed->key.src_port = Load16(l4);
  parsed->key.dst_port = Load16(l4 + 2);
  if (parsed->key.proto == kProtoTcp) parsed->tcp_flags = l4[13];
}

bool ParseIpv4(const FrameBytes& frame, ParsedFrame* parsed) {
  const uint32_t offset = parsed->l3_offset;
  if (!frame.Has(offset + 20, parsed)) return false;
  const uint8_t* data = frame.data;
  const uint32_t header_length = (data[offset] & 0x0F) * 4u;
  if ((data[offset] >> 4) != 4 || header_length < 20) {
    parsed->malformed = true;
    return false;
  }
  if (!frame.Has(offset + header_length, parsed)) return false;
  FlowKey& key = parsed->key;
  key.family = 4;
  key.proto = data[offset + 9];
  std::memcpy(key.src, data + offset + 12, 4);
  std::memcpy(key.dst, data + offset + 16, 4);
  parsed->ecn = data[offset + 1] & 0x03;
  parsed->dscp = data[offset + 1] >> 2;
  const uint16_t fragment_field = Load16(data + offset + 6);
  const bool later_fragment = (fragment_field & 0x1FFF) != 0;
  if (later_fragment || (fragment_field & 0x2000) != 0) {
    parsed->fragment = later_fragment ? Fragment::kLater : Fragment::kFirst;
    parsed->fragment_id = Load16(data + offset + 4);
  }
  parsed->l4_offset = static_cast<uint16_t>(offset + header_length);
  if (!later_fragment) ParsePorts(frame, offset + header_length, parsed);
  return true;
}

bool ParseIpv6(const FrameBytes& frame, ParsedFrame* parsed) {
  const uint32_t offset = parsed->l3_offset;
  if (!frame.Has(offset + 40, parsed)) return false;
  const uint8_t* data = frame.data;
  if ((data[offset] >> 4) != 6) {
    parsed->malformed = true;
    return false;
  }
  FlowKey& key = parsed->key;
  key.family = 6;
  std::memcpy(key.src, data + offset + 8, 16);
  std::memcpy(key.dst, data + offset + 24, 16);
  parsed->ecn = (data[offset + 1] >> 4) & 0x03;
  parsed->dscp = static_cast<uint8_t>((Load16(data + offset) >> 6) & 0x3F);
  uint8_t next = data[offset + 6];
  uint32_t header = offset + 40;
  bool later_fragment = false;
  // What follows a later fragment's fragment header is payload, not headers: stop there.
  for (unsigned count = 0; IsIpv6Extension(next) && !later_fragment; ++count) {
    if (count == kMaxIpv6ExtensionHeaders) {
      parsed->malformed = true;  // a longer chain (or a loop) than a real stack sends
      break;
    }
    if (!frame.Has(header + 8, parsed)) break;
    if (next == 44) {
      const uint16_t offset_and_flags = Load16(data + header + 2);
      later_fragment = (offset_and_flags & 0xFFF8) != 0;
      if (later_fragment || (offset_and_flags & 1) != 0) {
        parsed->fragment = later_fragment ? Fragment::kLater : Fragment::kFirst;
        parsed->fragment_id = uint32_t{Load16(data + header + 4)} << 16 | Load16(data + header + 6);
      }
    }
    const uint32_t extension_length = next == 44 ? 8 : (data[header + 1] + 1u) * 8u;
    next = data[header];
    header += extension_length;
    if (!frame.Has(header, parsed)) break;
  }
  key.proto = next;
  parsed->l4_offset = static_cast<uint16_t>(header > 0xFFFF ? 0xFFFF : header);
  if (!later_fragment && !parsed->malformed) ParsePorts(frame, header, parsed);
  return true;
}

}  // namespace

void ParseFrame(const rte_mbuf* packet, ParsedFrame* parsed) {
  *parsed = ParsedFrame{};
  const FrameBytes frame{rte_pktmbuf_mtod(packet, const uint8_t*), packet->data_len,
                         packet->pkt_len};
  const uint8_t* data = frame.data;
  if (!frame.Has(14, parsed)) {
    // A runt: all runts share one flow (family 0, zero addresses).
    return;
  }
  const uint64_t dst_mac = Load48(data);
  const uint64_t src_mac = Load48(data + 6);
  uint32_t offset = 12;
  uint16_t ether_type = Load16(data + offset);
  uint16_t vlan = kNoVlan;
  for (int tags = 0; tags < 2 && IsVlanTag(ether_type) && frame.Has(offset + 6, parsed); ++tags) {
    if (tags == 0) vlan = Load16(data + offset + 2) & 0x0FFF;
    offset += 4;
    ether_type = Load16(data + offset);
  }
  offset += 2;
  parsed->l3_offset = static_cast<uint16_t>(offset);
  parsed->ether_type = ether_type;
  parsed->vlan = vlan;
  parsed->src_mac = src_mac;
  parsed->dst_mac = dst_mac;
  // An IP key holds addresses and ports only: no MAC bytes past the IPv4 addresses, no
  // ethertype where a frame without a transport header has no ports. The MAC key is written
  // only for a frame that is not IP: writing it first and copying it aside (as before) read
  // back bytes still in the store buffer, a stall that cost a third of the parse.
  bool ip = false;
  if (ether_type == kEtherTypeIpv4) ip = ParseIpv4(frame, parsed);
  if (ether_type == kEtherTypeIpv6) ip = ParseIpv6(frame, parsed);
  if (!ip) {
    // Truncated, invalid or unknown: keyed by MACs and ethertype, nothing else trusted.
    const bool malformed = parsed->malformed;
    *parsed = ParsedFrame{};
    FlowKey& key = parsed->key;
    std::memcpy(key.dst, data, 6);
    std::memcpy(key.src, data + 6, 6);
    key.src_port = ether_type;
    parsed->l3_offset = static_cast<uint16_t>(offset);
    parsed->ether_type = ether_type;
    parsed->vlan = vlan;
    parsed->src_mac = src_mac;
    parsed->dst_mac = dst_mac;
    parsed->malformed = malformed;
  }
}

uint64_t HashFlowKey(const FlowKey& key) {
  uint64_t words[5];
  std::memcpy(words, &key, sizeof(words));
  uint64_t hash = 0x9E3779B97F4A7C15ULL;
  for (uint64_t word : words) {
    hash ^= word;
    hash *= 0xBF58476D1CE4E5B9ULL;
    hash ^= hash >> 31;
  }
  return hash;
}

}  // namespace faultline
