// Corruption: flip bits past the Ethernet header, as a noisy wire would. Two modes:
//   probability: a frame is corrupted with probability p (CorrelatedChance), one random bit;
//   ber:         every bit flips independently with probability ber; the gaps between errors are
//                geometric and drawn with a table logarithm, so the cost is per error, not per bit.
// Checksums are left wrong (what the receiver of a corrupted frame sees) unless fix-checksums.
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/config/profile_spec.h"
#include "dataplane/fastpath/random.h"

namespace faultline {

inline constexpr uint32_t kEthernetHeaderBits = 14 * 8;

struct CompiledCorrupt {
  CorrelatedChance chance;
  bool ber_mode = false;
  double gap_scale = 0;  // ber mode: 1 / -ln(1 - ber); gap = floor(-ln(U) * gap_scale)
  bool fix_checksums = false;

  static CompiledCorrupt Compile(const CorruptSpec& spec);
};

// Flips bit `bit` of the frame (bit 0 is the most significant bit of byte 0).
void FlipBit(rte_mbuf* packet, uint32_t bit);

// Recomputes the IPv4 header checksum and the TCP/UDP checksum after corruption. Frames whose
// headers no longer parse are left as they are.
void FixChecksums(rte_mbuf* packet);

// Corrupts `packet` as configured; returns the number of bits flipped. `last` is the flow's
// correlation memory, `bits_to_error` the link's distance to its next bit error (ber mode).
uint32_t Corrupt(const CompiledCorrupt& corrupt, rte_mbuf* packet, Rng& rng, uint32_t* last,
                 uint64_t* bits_to_error);

}  // namespace faultline
