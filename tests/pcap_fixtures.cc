#include "tests/pcap_fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "dataplane/fastpath/random.h"
#include "dataplane/runtime/pcap_io.h"

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

namespace {

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Store16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value);
}

// RFC 1071 ones' complement sum of big-endian 16-bit words (odd length padded with zero).
uint32_t OnesSum(const uint8_t* data, size_t length, uint32_t sum = 0) {
  for (size_t i = 0; i + 1 < length; i += 2) sum += Load16(data + i);
  if (length % 2) sum += static_cast<uint32_t>(data[length - 1]) << 8;
  return sum;
}
uint16_t Fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// The UDP checksum of an IPv4 frame as it should be (with the checksum field read as zero).
uint16_t UdpChecksum(const uint8_t* frame, size_t ip_header_length, size_t l4_length) {
  const uint8_t* ip = frame + 14;
  const uint8_t* udp = ip + ip_header_length;
  uint32_t sum = OnesSum(ip + 12, 8);  // source and destination addresses
  sum += ip[9];                        // protocol
  sum += static_cast<uint32_t>(l4_length);
  sum = OnesSum(udp, 6, sum);
  sum = OnesSum(udp + 8, l4_length - 8, sum);
  const uint16_t checksum = static_cast<uint16_t>(~Fold(sum));
  return checksum == 0 ? 0xFFFF : checksum;  // RFC 768: a computed 0 is sent as all ones
}

}  // namespace

std::vector<Frame> MakeUdpFrames(const UdpStreamOptions& options) {
  EXPECT_GE(options.frame_size, kUdpMinFrameSize);
  EXPECT_LE(options.frame_size, 1514u);
  EXPECT_GE(options.flows, 1u);
  EXPECT_GE(options.dst_ports, 1u);
  std::vector<Frame> frames(options.count);
  const size_t size = options.frame_size;
  for (size_t i = 0; i < options.count; ++i) {
    Frame& frame = frames[i];
    frame.timestamp_ns = options.start_ns + i * options.gap_ns;
    frame.bytes.assign(size, 0);
    uint8_t* p = frame.bytes.data();
    const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x02}, src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(p, dst_mac, 6);
    std::memcpy(p + 6, src_mac, 6);
    Store16(p + 12, 0x0800);
    uint8_t* ip = p + 14;
    ip[0] = 0x45;
    ip[1] = options.ect0 ? 0x02 : 0x00;
    Store16(ip + 2, static_cast<uint16_t>(size - 14));
    Store16(ip + 4, static_cast<uint16_t>(i));
    Store16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 17;
    const uint8_t src_ip[4] = {10, 0, 0, 1}, dst_ip[4] = {10, 0, 0, 2};
    std::memcpy(ip + 12, src_ip, 4);
    std::memcpy(ip + 16, dst_ip, 4);
    Store16(ip + 10, static_cast<uint16_t>(~Fold(OnesSum(ip, 20))));
    uint8_t* udp = ip + 20;
    const uint32_t flow = static_cast<uint32_t>(i % options.flows);
    Store16(udp, static_cast<uint16_t>(options.src_port_base + flow));
    Store16(udp + 2, static_cast<uint16_t>(options.dst_port_base + flow % options.dst_ports));
    Store16(udp + 4, static_cast<uint16_t>(size - 34));
    const uint64_t index = i;
    std::memcpy(p + kUdpIndexOffset, &index, sizeof(index));
    uint64_t fill = index;
    for (size_t k = kUdpIndexOffset + 8; k < size; k += 8) {
      const uint64_t word = SplitMix64(&fill);
      std::memcpy(p + k, &word, std::min<size_t>(8, size - k));
    }
    Store16(udp + 6, UdpChecksum(p, 20, size - 34));
  }
  return frames;
}

uint64_t UdpFrameIndex(const std::vector<uint8_t>& bytes) {
  uint64_t index = UINT64_MAX;
  if (bytes.size() >= kUdpMinFrameSize) std::memcpy(&index, bytes.data() + kUdpIndexOffset, 8);
  return index;
}

uint16_t UdpSourcePort(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 38 ? Load16(bytes.data() + 34) : 0;
}

uint16_t UdpDestinationPort(const std::vector<uint8_t>& bytes) {
  return bytes.size() >= 38 ? Load16(bytes.data() + 36) : 0;
}

bool Ipv4HeaderChecksumValid(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 34) return false;
  const size_t header_length = (bytes[14] & 0x0F) * 4u;
  if (header_length < 20 || 14 + header_length > bytes.size()) return false;
  return Fold(OnesSum(bytes.data() + 14, header_length)) == 0xFFFF;
}

bool UdpChecksumValid(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 34) return false;
  const uint8_t* ip = bytes.data() + 14;
  const size_t header_length = (ip[0] & 0x0F) * 4u;
  const size_t total_length = Load16(ip + 2);
  if (header_length < 20 || total_length < header_length + 8 || 14 + total_length > bytes.size()) {
    return false;
  }
  const uint16_t field = Load16(ip + header_length + 6);
  if (field == 0) return true;  // RFC 768: no checksum
  return field == UdpChecksum(bytes.data(), header_length, total_length - header_length);
}

void WritePcap(const std::string& path, const std::vector<Frame>& frames, int link_type) {
  PcapWriter writer;
  std::string error;
  ASSERT_TRUE(writer.Open(path, link_type, &error)) << error;
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

TempFiles::~TempFiles() {
  for (const std::string& path : paths_) std::remove(path.c_str());
}

std::string TempFiles::Path(const std::string& name) {
  paths_.push_back(TempPath(name));
  return paths_.back();
}

}  // namespace faultline::testing
