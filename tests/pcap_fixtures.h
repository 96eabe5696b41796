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

// A stream of Ethernet/IPv4/UDP frames for the statistical tests. Frame i belongs to flow
// f = i % flows: UDP source port src_port_base + f, destination port dst_port_base + f % dst_ports.
// The UDP payload starts with the 64-bit frame index i (host byte order) and is filled with bytes
// derived from i, so any changed bit shows. IPv4 and UDP checksums are valid; the IP total length
// covers the whole frame (no Ethernet padding), so every bit past the Ethernet header is covered
// by the IPv4 header checksum or the UDP checksum.
struct UdpStreamOptions {
  size_t count = 100'000;
  uint64_t start_ns = 1'000'000'000;
  uint64_t gap_ns = 10'000;  // constant inter-arrival gap
  uint32_t flows = 1;
  uint32_t dst_ports = 1;
  uint16_t src_port_base = 10'000;
  uint16_t dst_port_base = 5'000;
  size_t frame_size = 128;  // Ethernet frame length without FCS, at least kUdpMinFrameSize
  bool ect0 = false;        // IPv4 ECN field ECT(0) (binary 10); else Not-ECT
};
inline constexpr size_t kUdpIndexOffset = 14 + 20 + 8;  // Ethernet + IPv4 + UDP headers
inline constexpr size_t kUdpMinFrameSize = kUdpIndexOffset + 8;

std::vector<Frame> MakeUdpFrames(const UdpStreamOptions& options);

// The frame index in a frame made by MakeUdpFrames (read as is: corruption may have changed it).
uint64_t UdpFrameIndex(const std::vector<uint8_t>& bytes);
uint16_t UdpSourcePort(const std::vector<uint8_t>& bytes);
uint16_t UdpDestinationPort(const std::vector<uint8_t>& bytes);
// Whether the IPv4 header checksum of an Ethernet/IPv4 frame verifies.
bool Ipv4HeaderChecksumValid(const std::vector<uint8_t>& bytes);
// Whether the UDP checksum verifies, over the L4 length the IPv4 header gives (total length -
// header length) with that length in the pseudo-header, as DPDK computes it. False if the frame
// is too short for that length; true if the checksum field is 0 (RFC 768: no checksum).
bool UdpChecksumValid(const std::vector<uint8_t>& bytes);

// Writes a nanosecond capture of `link_type` (DLT_*; frames as they are, whatever the type).
void WritePcap(const std::string& path, const std::vector<Frame>& frames, int link_type = 1);
std::vector<Frame> ReadPcap(const std::string& path);
std::string ReadFileBytes(const std::string& path);
// A fresh path under the test's temporary directory.
std::string TempPath(const std::string& name);

// Hands out fresh temporary paths and removes the files when it goes (one per test fixture).
class TempFiles {
 public:
  ~TempFiles();
  std::string Path(const std::string& name);

 private:
  std::vector<std::string> paths_;
};

}  // namespace faultline::testing
