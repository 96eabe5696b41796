// ECN marking: what the rate model's queue does instead of a drop above its ECN threshold
// (rate_limiter.h decides; the pipeline marks ECN-capable frames and counts them as ecn_marked).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

namespace faultline {

// Marks an ECN-capable IPv4 or IPv6 frame Congestion Experienced (IPv4 checksum updated).
void MarkCongestionExperienced(rte_mbuf* packet, uint16_t l3_offset, uint8_t family);

}  // namespace faultline
