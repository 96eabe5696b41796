// Per-port transmit buffer of one worker: packets wait here for a burst, and stay here (in
// order) when the device queue is full, so a full device never loses a packet.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/frame_recorder.h"
#include "dataplane/fastpath/latency_histogram.h"

namespace faultline {

inline constexpr uint16_t kBurstSize = 32;

class TxQueue {
 public:
  static constexpr uint16_t kCapacity = 2 * kBurstSize;

  // `lateness` (may be null: not measured) receives, for every packet the device takes, the
  // time of the transmit call minus the packet's departure, in ns: clock units times
  // `ns_per_unit_q32` / 2^32 (one multiply per packet; a division would cost tens of cycles).
  void Bind(uint16_t port, uint16_t queue, LatencyHistogram* lateness = nullptr,
            uint64_t ns_per_unit_q32 = 0) {
    port_ = port;
    queue_ = queue;
    lateness_ = lateness;
    ns_per_unit_q32_ = ns_per_unit_q32;
  }
  // Records every packet the device takes (transmitted at the call's time) and every one freed
  // at shutdown (--record); null: off.
  void set_recorder(FrameRecorder* recorder) { recorder_ = recorder; }
  uint16_t port() const { return port_; }
  bool Full() const { return count_ == kCapacity; }
  uint16_t size() const { return count_; }
  bool ShouldFlush() const { return count_ >= kBurstSize; }

  // `departure`: the packet's scheduled departure (PacketMeta), kept here because the packet is
  // the device's once sent (net_pcap frees it in the call).
  void Add(rte_mbuf* packet, uint64_t departure) {
    departures_[count_] = departure;
    packets_[count_++] = packet;
  }

  // Offers the buffered packets to the device at time `now` (clock units, read just before the
  // call); what it did not take stays buffered. Returns how many were sent and counts them in
  // `counters` and their lateness in the histogram.
  uint16_t Flush(PipelineCounters& counters, uint64_t now);

  // Frees what is still buffered (shutdown); returns how many.
  uint16_t FreeAll();

 private:
  uint16_t port_ = 0;
  uint16_t queue_ = 0;
  uint16_t count_ = 0;
  LatencyHistogram* lateness_ = nullptr;
  FrameRecorder* recorder_ = nullptr;
  uint64_t ns_per_unit_q32_ = 0;
  rte_mbuf* packets_[kCapacity];
  uint64_t departures_[kCapacity];
};

}  // namespace faultline
