// rte_ip.h's multi-segment checksum helpers are marked experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1
#include "dataplane/models/corruptor.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cmath>
#include <cstddef>
#include <cstring>

#include "dataplane/fastpath/frame_parser.h"

namespace faultline {

CompiledCorrupt CompiledCorrupt::Compile(const CorruptSpec& spec) {
  CompiledCorrupt corrupt;
  corrupt.chance = CorrelatedChance::From(spec.probability, spec.correlation);
  corrupt.ber_mode = spec.ber > 0;
  if (corrupt.ber_mode) corrupt.gap_scale = 1.0 / -std::log1p(-spec.ber);
  corrupt.fix_checksums = spec.fix_checksums;
  return corrupt;
}

void FlipBit(rte_mbuf* packet, uint32_t bit) {
  uint32_t byte = bit / 8;
  for (rte_mbuf* segment = packet; segment != nullptr; segment = segment->next) {
    if (byte < segment->data_len) {
      rte_pktmbuf_mtod(segment, uint8_t*)[byte] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
      return;
    }
    byte -= segment->data_len;
  }
}

void FixChecksums(rte_mbuf* packet) {
  ParsedFrame parsed;
  ParseFrame(packet, &parsed);
  uint8_t* data = rte_pktmbuf_mtod(packet, uint8_t*);
  if (parsed.key.family == 4) {
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data + parsed.l3_offset);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
  }
  if (!parsed.has_l4 || parsed.key.family == 0) return;
  // The checksum field must lie in the first segment: TCP's at 16, UDP's at 6.
  // The headers are packed, so the field is reached through its bytes, not a uint16_t pointer.
  uint8_t* l4 = data + parsed.l4_offset;
  uint8_t* checksum = nullptr;
  if (parsed.key.proto == kProtoTcp && parsed.l4_offset + 20u <= packet->data_len) {
    checksum = l4 + offsetof(rte_tcp_hdr, cksum);
  } else if (parsed.key.proto == kProtoUdp && parsed.l4_offset + 8u <= packet->data_len) {
    checksum = l4 + offsetof(rte_udp_hdr, dgram_cksum);
    // IPv4 UDP without a checksum.
    if (parsed.key.family == 4 && checksum[0] == 0 && checksum[1] == 0) return;
  }
  if (checksum == nullptr) return;
  // The IP length field may itself be corrupted: only recompute when it fits the frame.
  uint32_t l4_length = 0;
  if (parsed.key.family == 4) {
    const auto* ip = reinterpret_cast<const rte_ipv4_hdr*>(data + parsed.l3_offset);
    l4_length = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);
  } else {
    const auto* ip = reinterpret_cast<const rte_ipv6_hdr*>(data + parsed.l3_offset);
    l4_length = rte_be_to_cpu_16(ip->payload_len) - (parsed.l4_offset - parsed.l3_offset - 40);
  }
  if (parsed.l4_offset + l4_length > rte_pktmbuf_pkt_len(packet)) return;
  checksum[0] = checksum[1] = 0;
  const uint16_t sum =
      parsed.key.family == 4
          ? rte_ipv4_udptcp_cksum_mbuf(
                packet, reinterpret_cast<const rte_ipv4_hdr*>(data + parsed.l3_offset),
                parsed.l4_offset)
          : rte_ipv6_udptcp_cksum_mbuf(
                packet, reinterpret_cast<const rte_ipv6_hdr*>(data + parsed.l3_offset),
                parsed.l4_offset);
  std::memcpy(checksum, &sum, sizeof(sum));
}

uint32_t Corrupt(const CompiledCorrupt& corrupt, rte_mbuf* packet, Rng& rng, uint32_t* last,
                 uint64_t* bits_to_error) {
  const uint32_t length_bits = rte_pktmbuf_pkt_len(packet) * 8;
  if (length_bits <= kEthernetHeaderBits) return 0;
  const uint32_t payload_bits = length_bits - kEthernetHeaderBits;
  uint32_t flipped = 0;
  if (!corrupt.ber_mode) {
    if (!corrupt.chance.Draw(rng, last)) return 0;
    FlipBit(packet, kEthernetHeaderBits + rng.Below(payload_bits));
    flipped = 1;
  } else {
    // The wire is one bit stream per link: the distance to the next error carries over frames.
    if (*bits_to_error == UINT64_MAX) {
      *bits_to_error = static_cast<uint64_t>(NegLogUniform(rng.Next()) * corrupt.gap_scale);
    }
    while (*bits_to_error < payload_bits) {
      FlipBit(packet, kEthernetHeaderBits + static_cast<uint32_t>(*bits_to_error));
      ++flipped;
      *bits_to_error += 1 + static_cast<uint64_t>(NegLogUniform(rng.Next()) * corrupt.gap_scale);
    }
    *bits_to_error -= payload_bits;
  }
  if (flipped && corrupt.fix_checksums) FixChecksums(packet);
  return flipped;
}

}  // namespace faultline
