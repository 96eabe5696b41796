#include "dataplane/fastpath/frame_capture.h"

#include <rte_cycles.h>

#include <algorithm>
#include <cstring>

#include "dataplane/fastpath/frame_recorder.h"
#include "dataplane/fastpath/packet_meta.h"

namespace faultline {

const char* CaptureWhatName(uint8_t what) {
  switch (what) {
    case kCaptureDropped:
      return "dropped";
    case kCaptureDuplicated:
      return "duplicated";
    case kCaptureCorrupted:
      return "corrupted";
    case kCaptureDelayed:
      return "delayed";
    default:
      return "";
  }
}

CaptureTap::CaptureTap(const char* name, unsigned slots, int socket) {
  ring_ = rte_ring_create_elem(name, sizeof(CaptureSlot), slots, socket,
                               RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
}

CaptureTap::~CaptureTap() { rte_ring_free(ring_); }

void CaptureTap::Take(const rte_mbuf* packet, uint8_t what, uint8_t cause) {
  if ((active_.what & what) == 0) return;
  const PacketMeta* meta = Meta(packet);
  const uint16_t rule =
      meta->rule_slot ? static_cast<uint16_t>((meta->rule_slot - 1) >> 1) : kNoRule;
  if (active_.rule_id != 0 && rule != active_.rule_id - 1) return;
  CaptureSlot slot;
  slot.time = rte_get_tsc_cycles();
  slot.length = rte_pktmbuf_pkt_len(packet);
  slot.captured = static_cast<uint16_t>(std::min(slot.length, kCaptureSnap));
  slot.rule = rule;
  slot.what = what;
  slot.cause = cause;
  slot.direction = static_cast<uint8_t>((meta->out_port & 1) ^ 1);
  std::memset(slot.reserved, 0, sizeof(slot.reserved));
  const void* bytes = rte_pktmbuf_read(packet, 0, slot.captured, slot.data);
  if (bytes != slot.data) std::memcpy(slot.data, bytes, slot.captured);
  if (rte_ring_sp_enqueue_elem(ring_, &slot, sizeof(slot)) != 0) {
    lost_total_.Add(1);
    if (lost_ != nullptr) lost_->Add(1);
    return;
  }
  captured_.Add(1);
}

void CaptureTap::Departing(rte_mbuf* const* packets, uint16_t n) {
  if ((active_.what & kCaptureDelayed) == 0) return;
  for (uint16_t i = 0; i < n; ++i) {
    const PacketMeta* meta = Meta(packets[i]);
    // Held past its arrival: a delay, a rate queue or a stall (frames no rule matched and
    // partition answers leave at their arrival time).
    if (meta->rule_slot != 0 && meta->departure > meta->arrival) {
      Take(packets[i], kCaptureDelayed, 0);
    }
  }
}

unsigned CaptureTap::Drain(CaptureSlot* out, unsigned max) {
  return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(CaptureSlot), max, nullptr);
}

void CaptureTap::Discard() {
  CaptureSlot slot;
  while (rte_ring_sc_dequeue_elem(ring_, &slot, sizeof(slot)) == 0) {
  }
}

}  // namespace faultline
