#include "dataplane/fastpath/tx_queue.h"

#include <rte_ethdev.h>

#include <cstring>

namespace faultline {

uint16_t TxQueue::Flush(PipelineCounters& counters, uint64_t now) {
  if (count_ == 0) return 0;
  // The device may free what it takes in the call: the records are written before it and kept
  // for what it took.
  FrameRecord* records = recorder_ != nullptr ? recorder_->Reserve(count_) : nullptr;
  if (records != nullptr) {
    for (uint16_t i = 0; i < count_; ++i) {
      records[i] = FrameRecorder::Of(packets_[i], now, kFateTransmitted, 0);
    }
  }
  const uint16_t sent = rte_eth_tx_burst(port_, queue_, packets_, count_);
  if (records != nullptr) recorder_->Commit(sent);
  if (lateness_ != nullptr) {
    for (uint16_t i = 0; i < sent; ++i) {
      // The wheel releases a whole tick at once: a packet may go up to a tick before its exact
      // departure, which counts as on time (0), not as a wrapped huge lateness.
      const uint64_t late = now > departures_[i] ? now - departures_[i] : 0;
      lateness_->Record(
          static_cast<uint64_t>((static_cast<unsigned __int128>(late) * ns_per_unit_q32_) >> 32));
    }
  }
  if (sent < count_) {
    std::memmove(packets_, packets_ + sent, (count_ - sent) * sizeof(packets_[0]));
    std::memmove(departures_, departures_ + sent, (count_ - sent) * sizeof(departures_[0]));
    counters.tx_retries.Add(1);
  }
  count_ -= sent;
  counters.tx[port_].Add(sent);
  return sent;
}

uint16_t TxQueue::FreeAll() {
  const uint16_t freed = count_;
  if (recorder_ != nullptr) {
    for (uint16_t i = 0; i < count_; ++i) recorder_->Dropped(packets_[i], DropCause::kShutdown);
  }
  rte_pktmbuf_free_bulk(packets_, count_);
  count_ = 0;
  return freed;
}

}  // namespace faultline
