#include "dataplane/fastpath/tx_queue.h"

#include <rte_ethdev.h>

#include <cstring>

namespace faultline {

uint16_t TxQueue::Send() { return rte_eth_tx_burst(port_, queue_, packets_, count_); }

void TxQueue::KeepUnsent(PipelineCounters& counters, uint16_t sent) {
  if (sent < count_) {
    std::memmove(packets_, packets_ + sent, (count_ - sent) * sizeof(packets_[0]));
    std::memmove(metas_, metas_ + sent, (count_ - sent) * sizeof(metas_[0]));
    counters.tx_retries.Add(1);
  }
  count_ -= sent;
  counters.tx[port_].Add(sent);
}

uint16_t TxQueue::FreeAll() {
  const uint16_t freed = count_;
  if (recorder_ != nullptr) {
    for (uint16_t i = 0; i < count_; ++i) recorder_->Dropped(packets_[i], DropCause::kShutdown);
  }
  rte_pktmbuf_free_bulk(packets_, count_);
  count_ = 0;
  offered_ = 0;
  return freed;
}

}  // namespace faultline
