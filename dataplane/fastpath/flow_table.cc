#include "dataplane/fastpath/flow_table.h"

#include <algorithm>
#include <bit>

namespace faultline {

uint64_t FlowIdleTimeout(const TimeBase& time_base, uint64_t delay_horizon_ns) {
  const uint64_t twice_horizon =
      delay_horizon_ns > UINT64_MAX / 2 ? UINT64_MAX : 2 * delay_horizon_ns;
  return time_base.FromNs(std::max(kFlowIdleNs, twice_horizon));
}

FlowTable::FlowTable(uint32_t capacity, uint32_t ring_length)
    : mask_(std::bit_ceil(capacity < 16 ? 16u : capacity) - 1),
      ring_length_(ring_length),
      entries_(size_t{mask_} + 1),
      rings_(size_t{mask_ + 1} * ring_length) {}

FlowState* FlowTable::Claim(FlowEntry* entry, const FlowKey& key, uint64_t now, Lookup result,
                            Lookup* lookup) {
  entry->key = key;
  entry->state = FlowState{};
  entry->state.used = true;
  entry->state.last_seen = now;
  if (result == Lookup::kReused && ring_length_) {
    uint64_t* ring = Ring(&entry->state);
    std::fill(ring, ring + ring_length_, 0);
  }
  *lookup = result;
  return &entry->state;
}

}  // namespace faultline
