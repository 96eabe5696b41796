#include "dataplane/flow_table.h"

#include <bit>

namespace faultline {

FlowTable::FlowTable(uint32_t capacity, uint32_t ring_length)
    : mask_(std::bit_ceil(capacity < 16 ? 16u : capacity) - 1),
      ring_length_(ring_length),
      entries_(new FlowEntry[mask_ + 1]()),
      rings_(ring_length ? new uint64_t[size_t{mask_ + 1} * ring_length]() : nullptr) {}

}  // namespace faultline
