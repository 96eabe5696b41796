// Crafted capture files for the offline tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace faultline::testing {

struct Frame {
  uint64_t timestamp_ns = 0;
  std::vector<uint8_t> bytes;
};

// `count` Ethernet frames with deterministic pseudo-random gaps (0..max_gap_ns, ties
// included), sizes from 60 to 1514 bytes plus some 9000-byte jumbos, several ethertypes, and
// the frame index in bytes 14..21.
std::vector<Frame> MakeFrames(size_t count, uint64_t start_ns, uint64_t max_gap_ns, uint32_t seed);

void WritePcap(const std::string& path, const std::vector<Frame>& frames);
std::vector<Frame> ReadPcap(const std::string& path);
std::string ReadFileBytes(const std::string& path);
// A fresh path under the test's temporary directory.
std::string TempPath(const std::string& name);

}  // namespace faultline::testing
