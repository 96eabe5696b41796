#include "dataplane/pipeline.h"

namespace faultline {

Pipeline::Pipeline(const PipelineConfig& config, unsigned wheel_tick_shift, uint64_t now)
    : config_(config), wheel_(wheel_tick_shift, now) {}

Pipeline::~Pipeline() { DropAll(DropCause::kShutdown); }

void Pipeline::Ingest(uint16_t in_port, rte_mbuf* const* packets, uint16_t n, uint64_t now) {
  counters_.rx[in_port].Add(n);
  const uint16_t out_port = in_port ^ 1;
  const uint64_t departure = now + config_.delay;
  uint64_t over_limit = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* packet = packets[i];
    if (wheel_.size() >= config_.hold_limit) {
      rte_pktmbuf_free(packet);
      ++over_limit;
      continue;
    }
    PacketMeta* meta = Meta(packet);
    meta->departure = departure;
    meta->out_port = out_port;
    wheel_.Insert(packet);
  }
  if (over_limit) counters_.Drop(DropCause::kBufferExhausted, over_limit);
}

void Pipeline::DropAll(DropCause cause) {
  uint64_t dropped = 0;
  wheel_.ForEachAndClear([&dropped](rte_mbuf* packet) {
    rte_pktmbuf_free(packet);
    ++dropped;
  });
  if (dropped) counters_.Drop(cause, dropped);
}

uint64_t Pipeline::NextEventTime() const {
  const uint64_t tick = wheel_.NextEventTick();
  if (tick == UINT64_MAX) return UINT64_MAX;
  if (tick >= (UINT64_MAX >> wheel_.tick_shift())) return UINT64_MAX;
  return tick << wheel_.tick_shift();
}

}  // namespace faultline
