#include "dataplane/models/ecn_marker.h"

namespace faultline {

void MarkCongestionExperienced(rte_mbuf* packet, uint16_t l3_offset, uint8_t family) {
  uint8_t* ip = rte_pktmbuf_mtod(packet, uint8_t*) + l3_offset;
  if (family == 4) {
    const uint16_t old_word = static_cast<uint16_t>(ip[0] << 8 | ip[1]);
    ip[1] |= 0x03;
    const uint16_t new_word = static_cast<uint16_t>(ip[0] << 8 | ip[1]);
    // RFC 1624 incremental update: HC' = ~(~HC + ~m + m').
    uint16_t checksum = static_cast<uint16_t>(ip[10] << 8 | ip[11]);
    uint32_t sum = static_cast<uint16_t>(~checksum) + static_cast<uint16_t>(~old_word) + new_word;
    sum = (sum & 0xFFFF) + (sum >> 16);
    sum = (sum & 0xFFFF) + (sum >> 16);
    checksum = static_cast<uint16_t>(~sum);
    ip[10] = static_cast<uint8_t>(checksum >> 8);
    ip[11] = static_cast<uint8_t>(checksum);
  } else if (family == 6) {
    ip[1] |= 0x30;
  }
}

}  // namespace faultline
