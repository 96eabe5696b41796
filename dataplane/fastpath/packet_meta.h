// Per-packet metadata the dataplane keeps in an mbuf dynamic field.
#pragma once

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>
#include <string>

namespace faultline {

// Kept to 24 bytes so it fits the mbuf's dynamic area (32 aligned bytes) next to a PMD's 8-byte
// rx timestamp.
struct PacketMeta {
  uint64_t departure;        // clock units (TSC cycles live, nanoseconds offline)
  uint8_t out_port;          // DPDK port the packet leaves by (below kMaxPorts)
  uint8_t copy;              // RecordCopy; written only while recording (--record)
  uint16_t rule_slot;        // 1 + rule * 2 + direction of the matching rule; 0: no rule matched
  uint32_t original_length;  // offline: the frame's length on the wire as captured
  uint64_t arrival;          // clock units when received: residence = transmit - arrival
};
static_assert(sizeof(PacketMeta) == 24);

extern int g_packet_meta_offset;

// Registers the dynamic field (idempotent). Must run after rte_eal_init and before any
// packet is touched. Returns false and fills *error if the mbuf has no room left.
bool RegisterPacketMeta(std::string* error);

inline PacketMeta* Meta(rte_mbuf* m) {
  return RTE_MBUF_DYNFIELD(m, g_packet_meta_offset, PacketMeta*);
}
inline const PacketMeta* Meta(const rte_mbuf* m) {
  return RTE_MBUF_DYNFIELD(m, g_packet_meta_offset, const PacketMeta*);
}

// Lets TimingWheel read an mbuf's departure without a virtual call, and prefetch what the
// transmit side reads of a released mbuf: its first cache line (the device) and PacketMeta.
struct MbufWheelTraits {
  static uint64_t Time(const rte_mbuf* m) { return Meta(m)->departure; }
  static void Prefetch(const rte_mbuf* m) {
    rte_prefetch0(m);
    rte_prefetch0(Meta(m));
  }
};

}  // namespace faultline
