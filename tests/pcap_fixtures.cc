#include "tests/pcap_fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "dataplane/pcap_io.h"

namespace faultline::testing {

std::vector<Frame> MakeFrames(size_t count, uint64_t start_ns, uint64_t max_gap_ns, uint32_t seed) {
  std::mt19937 rng(seed);
  const uint16_t ethertypes[] = {0x0800, 0x86dd, 0x0806, 0x8100, 0x88cc};
  std::vector<Frame> frames(count);
  uint64_t now = start_ns;
  for (size_t i = 0; i < count; ++i) {
    if (rng() % 4 != 0) now += rng() % (max_gap_ns + 1);  // one in four shares its time
    const size_t size = (i % 97 == 5) ? 9000 : 60 + rng() % (1514 - 60 + 1);
    Frame& frame = frames[i];
    frame.timestamp_ns = now;
    frame.bytes.resize(size);
    for (auto& byte : frame.bytes) byte = static_cast<uint8_t>(rng());
    const uint16_t ethertype = ethertypes[rng() % 5];
    frame.bytes[12] = ethertype >> 8;
    frame.bytes[13] = ethertype & 0xff;
    const uint64_t index = i;
    std::memcpy(frame.bytes.data() + 14, &index, sizeof(index));
  }
  return frames;
}

void WritePcap(const std::string& path, const std::vector<Frame>& frames) {
  PcapWriter writer;
  std::string error;
  ASSERT_TRUE(writer.Open(path, DLT_EN10MB, &error)) << error;
  for (const Frame& frame : frames) {
    writer.Write(frame.timestamp_ns, frame.bytes.data(), frame.bytes.size(), frame.bytes.size());
  }
  ASSERT_TRUE(writer.Close(&error)) << error;
}

std::vector<Frame> ReadPcap(const std::string& path) {
  PcapReader reader;
  std::string error;
  std::vector<Frame> frames;
  EXPECT_TRUE(reader.Open(path, &error)) << error;
  if (!error.empty()) return frames;
  PcapFrame frame;
  while (reader.Next(&frame)) {
    frames.push_back(
        {frame.timestamp_ns, std::vector<uint8_t>(frame.data, frame.data + frame.length)});
  }
  EXPECT_EQ(reader.error(), "");
  return frames;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-test-" + std::to_string(getpid()) + "-" +
         name;
}

}  // namespace faultline::testing
