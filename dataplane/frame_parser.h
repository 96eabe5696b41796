// Finds the headers a rule matches on and the flow a frame belongs to. Reads only the first
// segment (where a NIC puts the headers); anything it cannot parse is a non-IP frame keyed by its
// MAC pair, so it still has a flow and is still forwarded.
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

struct ParsedFrame {
  FlowKey key;
  uint16_t l3_offset = 0;  // IP header (family 4 or 6)
  uint16_t l4_offset = 0;  // transport header, if has_l4
  bool has_l4 = false;     // first fragment (or unfragmented) with a TCP/UDP/SCTP header
  uint8_t ecn = 0;         // the IP header's ECN bits (0: not ECN-capable)
};

// Fills *parsed from the frame's first segment. Never reads past data_len.
void ParseFrame(const rte_mbuf* packet, ParsedFrame* parsed);

uint64_t HashFlowKey(const FlowKey& key);

}  // namespace faultline
