// Per-port transmit buffer of one worker: packets wait here for a burst, and stay here (in
// order) when the device queue is full, so a full device never loses a packet.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/frame_recorder.h"
#include "dataplane/fastpath/packet_meta.h"

namespace faultline {

inline constexpr uint16_t kBurstSize = 32;

class TxQueue {
 public:
  static constexpr uint16_t kCapacity = 2 * kBurstSize;

  void Bind(uint16_t port, uint16_t queue) {
    port_ = port;
    queue_ = queue;
  }
  // Records every packet the device takes (transmitted at the call's time) and every one freed
  // at shutdown (--record); null: off.
  void set_recorder(FrameRecorder* recorder) { recorder_ = recorder; }
  uint16_t port() const { return port_; }
  bool Full() const { return count_ == kCapacity; }
  uint16_t size() const { return count_; }
  bool ShouldFlush() const { return count_ >= kBurstSize; }

  // `meta`: the packet's PacketMeta, copied here because the packet is the device's once sent
  // (net_pcap frees it in the call).
  void Add(rte_mbuf* packet, const PacketMeta& meta) {
    metas_[count_] = meta;
    packets_[count_++] = packet;
  }

  // Offers the buffered packets to the device at time `now` (clock units, read just before the
  // call); what it did not take stays buffered. Returns how many were sent, counts them in
  // `counters` and calls `on_sent(meta, now)` for each (inlined: no per-packet indirect call).
  template <typename OnSent>
  uint16_t Flush(PipelineCounters& counters, uint64_t now, OnSent&& on_sent) {
    if (count_ == 0) return 0;
    // The device may free what it takes in the call: the records are written before it and kept
    // for what it took.
    FrameRecord* records = recorder_ != nullptr ? recorder_->Reserve(count_) : nullptr;
    if (records != nullptr) {
      for (uint16_t i = 0; i < count_; ++i) {
        records[i] = FrameRecorder::Of(packets_[i], now, kFateTransmitted, 0);
      }
    }
    // Live capture of delayed frames: each frame once, at the device's first offer.
    if (recorder_ != nullptr && offered_ < count_) {
      recorder_->Departing(packets_ + offered_, count_ - offered_);
    }
    const uint16_t sent = Send();
    if (records != nullptr) recorder_->Commit(sent);
    for (uint16_t i = 0; i < sent; ++i) on_sent(metas_[i], now);
    KeepUnsent(counters, sent);
    offered_ = count_;  // what is left was offered
    return sent;
  }

  // Frees what is still buffered (shutdown); returns how many.
  uint16_t FreeAll();

 private:
  uint16_t port_ = 0;
  uint16_t queue_ = 0;
  uint16_t count_ = 0;
  uint16_t offered_ = 0;  // the first offered_ frames were offered to the device already
  FrameRecorder* recorder_ = nullptr;
  uint16_t Send();
  // Moves what the device did not take to the front and counts the sent ones.
  void KeepUnsent(PipelineCounters& counters, uint16_t sent);

  rte_mbuf* packets_[kCapacity];
  PacketMeta metas_[kCapacity];
};

}  // namespace faultline
