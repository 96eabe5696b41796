// Finds the headers a rule matches on and the flow a frame belongs to. Reads only the first
// segment (where a NIC puts the headers); anything it cannot parse is a non-IP frame keyed by its
// MAC pair, so it still has a flow and is still forwarded. Frames whose headers are cut short by
// the end of the frame, or are invalid, are reported as `malformed` (see ParsedFrame).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>

namespace faultline {

inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmpV6 = 58;
inline constexpr uint8_t kProtoSctp = 132;

// The flow of a frame: IP 5-tuple, or MAC pair + ethertype for non-IP frames. 40 bytes, compared
// and hashed as five words.
struct alignas(8) FlowKey {
  uint8_t src[16];  // IPv4 in the first 4 bytes; MAC in the first 6 for non-IP frames
  uint8_t dst[16];
  uint16_t src_port;  // ethertype for non-IP frames
  uint16_t dst_port;
  uint8_t proto;
  uint8_t family;      // 4, 6 or 0 (not IP)
  uint16_t rule_slot;  // which rule and direction the state belongs to (set by the pipeline)

  bool operator==(const FlowKey& other) const { return std::memcmp(this, &other, 40) == 0; }
};
static_assert(sizeof(FlowKey) == 40);

enum class Fragment : uint8_t {
  kNone,   // not a fragment
  kFirst,  // offset 0, more to come: carries the transport header
  kLater,  // offset > 0: no transport header; classified by the flow of its first fragment
};

inline constexpr uint16_t kNoVlan = 0xFFFF;

struct ParsedFrame {
  FlowKey key;
  uint16_t l3_offset = 0;  // IP header (family 4 or 6)
  uint16_t l4_offset = 0;  // transport header, if has_l4
  // This frame holds a whole TCP (20 bytes), UDP (8) or SCTP (12) header: not a later fragment.
  bool has_l4 = false;
  // key.src_port/dst_port are the frame's transport ports: has_l4, or a later fragment whose
  // ports the pipeline took from its first fragment (FragmentTracker). Port matches need it.
  bool has_ports = false;
  // The frame ends inside a header it announces, or a header is invalid: a runt (< 14 bytes), a
  // cut VLAN tag, an IPv4/IPv6 header that is cut or has a wrong version or an IHL below 5,
  // more than 8 IPv6 extension headers, an extension header running past the frame, a TCP/UDP/
  // SCTP header cut where the IP header puts one. What was read before the broken part stays
  // (MACs, ethertype; the IP key when only the transport header or extension chain is broken).
  // A header continuing in the next segment is not parsed, but the frame is not malformed.
  bool malformed = false;
  uint8_t ecn = 0;        // the IP header's ECN bits (0: not ECN-capable)
  uint8_t dscp = 0;       // the IP header's DSCP (IP frames only)
  uint8_t tcp_flags = 0;  // TCP only (has_l4): FIN 0x01, SYN 0x02, RST 0x04, ACK 0x10
  Fragment fragment = Fragment::kNone;
  uint16_t ether_type = 0;   // after any VLAN tags; 0 for runts
  uint16_t vlan = kNoVlan;   // VID of the outermost tag
  uint32_t fragment_id = 0;  // IPv4 identification or IPv6 fragment header id (fragments only)
  uint64_t src_mac = 0, dst_mac = 0;  // 48-bit, first octet most significant; 0 for runts
};

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpAck = 0x10;

// Fills *parsed from the frame's first segment. Never reads past data_len.
void ParseFrame(const rte_mbuf* packet, ParsedFrame* parsed);

uint64_t HashFlowKey(const FlowKey& key);

}  // namespace faultline
