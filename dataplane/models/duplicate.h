// Duplication: a matched frame is copied with the rule's duplicate probability (a
// CorrelatedChance in CompiledImpairment, drawn per flow); the copy runs the rest of the rule's
// models on its own (docs/impairments.md). Counted as `duplicated`; a copy the pool cannot hold
// is a buffer_exhausted drop.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace faultline {

// A real copy of `packet` from its pool (not a reference: corruption of one must not show in the
// other), or null if the pool is empty. rte_pktmbuf_copy refuses a frame of no bytes, which a
// capture may hold: its copy is an empty mbuf with the same header fields, made here.
inline rte_mbuf* DuplicatePacket(const rte_mbuf* packet) {
  if (rte_pktmbuf_pkt_len(packet) != 0) {
    return rte_pktmbuf_copy(packet, packet->pool, 0, UINT32_MAX);
  }
  rte_mbuf* copy = rte_pktmbuf_alloc(packet->pool);
  if (copy == nullptr) return nullptr;
  __rte_pktmbuf_copy_hdr(copy, packet);  // port, VLAN, hash, type, dynamic fields (PacketMeta)
  copy->ol_flags = packet->ol_flags & ~(RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL);
  return copy;
}

}  // namespace faultline
