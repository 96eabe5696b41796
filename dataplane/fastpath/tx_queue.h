// Per-port transmit buffer of one worker: packets wait here for a burst, and stay here (in
// order) when the device queue is full, so a full device never loses a packet.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/fastpath/counters.h"

namespace faultline {

inline constexpr uint16_t kBurstSize = 32;

class TxQueue {
 public:
  static constexpr uint16_t kCapacity = 2 * kBurstSize;

  void Bind(uint16_t port, uint16_t queue) {
    port_ = port;
    queue_ = queue;
  }
  uint16_t port() const { return port_; }
  bool Full() const { return count_ == kCapacity; }
  uint16_t size() const { return count_; }
  bool ShouldFlush() const { return count_ >= kBurstSize; }

  void Add(rte_mbuf* packet) { packets_[count_++] = packet; }

  // Offers the buffered packets to the device; what it did not take stays buffered.
  // Returns how many were sent and counts them in `counters`.
  uint16_t Flush(PipelineCounters& counters);

  // Frees what is still buffered (shutdown); returns how many.
  uint16_t FreeAll();

 private:
  uint16_t port_ = 0;
  uint16_t queue_ = 0;
  uint16_t count_ = 0;
  rte_mbuf* packets_[kCapacity];
};

}  // namespace faultline
