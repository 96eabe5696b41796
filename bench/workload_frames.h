// Workload W's frames for the benches (pipeline_bench, lateness_bench): read from the captures
// bench/flows_pcap.py --workload-w A B writes, named by FAULTLINE_BENCH_W_A and _B, and copied
// into mbufs one after the other.
#pragma once

#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/runtime/pcap_io.h"

namespace faultline {

using FrameList = std::vector<std::vector<uint8_t>>;

// Side a's frames (for port 0) and side b's (port 1), or nothing with *error set.
inline std::optional<std::array<FrameList, 2>> WorkloadFrames(std::string* error) {
  std::array<FrameList, 2> sides;
  const char* names[2] = {"FAULTLINE_BENCH_W_A", "FAULTLINE_BENCH_W_B"};
  for (int side = 0; side < 2; ++side) {
    const char* path = std::getenv(names[side]);
    if (path == nullptr) {
      *error = std::string("set ") + names[0] + " and " + names[1] +
               " to bench/flows_pcap.py --workload-w files";
      return std::nullopt;
    }
    PcapReader reader;
    if (!reader.Open(path, error)) return std::nullopt;
    for (PcapFrame frame; reader.Next(&frame);)
      sides[side].emplace_back(frame.data, frame.data + frame.length);
    if (sides[side].empty()) {
      *error = std::string(path) + ": no frames";
      return std::nullopt;
    }
  }
  return sides;
}

// Copies the next `count` frames of `frames` (from *next, wrapping) into empty mbufs.
inline void FillFrames(rte_mbuf* const* packets, size_t count, const FrameList& frames,
                       size_t* next) {
  for (size_t i = 0; i < count; ++i) {
    const std::vector<uint8_t>& frame = frames[*next];
    *next = (*next + 1) % frames.size();
    std::memcpy(rte_pktmbuf_append(packets[i], static_cast<uint16_t>(frame.size())), frame.data(),
                frame.size());
  }
}

}  // namespace faultline
