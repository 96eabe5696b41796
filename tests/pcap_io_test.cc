// The capture reader and writer: timestamps past 2^31 s, captures cut short or damaged, and the
// link types read as Ethernet (raw IP, Linux cooked SLL and SLL2) with the header each gets.
#include "dataplane/runtime/pcap_io.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/frame_builder.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using testing::Bytes;
using testing::Frame;

constexpr uint64_t kSecond = 1'000'000'000;

class PcapIoTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }
  // Reads every frame; `end` is how the reader stopped.
  std::vector<Frame> Read(const std::string& path, PcapReader::End* end = nullptr,
                          std::string* error = nullptr) {
    PcapReader reader;
    std::string open_error;
    EXPECT_TRUE(reader.Open(path, &open_error)) << open_error;
    std::vector<Frame> frames;
    PcapFrame frame;
    while (reader.Next(&frame)) {
      frames.push_back({frame.timestamp_ns, Bytes(frame.data, frame.data + frame.length)});
      EXPECT_GE(frame.original_length, frame.length);
    }
    if (end) *end = reader.end();
    if (error) *error = reader.error();
    EXPECT_EQ(reader.records(), frames.size());
    return frames;
  }
  testing::TempFiles temp_files_;
};

// A UDP datagram 10.0.1.5:5000 -> 10.0.2.7:7001 without a link-layer header.
Bytes Ipv4Packet() {
  Bytes packet;
  testing::AppendIpv4(&packet, {.proto = 17});
  testing::AppendPorts(&packet, 5000, 7001);
  packet.resize(60, 0xab);
  return packet;
}

Bytes Ipv6Packet() {
  Bytes packet;
  testing::AppendIpv6(&packet, 17);
  testing::AppendPorts(&packet, 5000, 7001);
  packet.resize(80, 0xcd);
  return packet;
}

// The Ethernet frame the reader makes of `packet` (its MACs and ethertype given).
Bytes AsEthernet(const Bytes& packet, const Bytes& source, uint16_t ethertype) {
  Bytes frame(14 + packet.size(), 0);
  std::copy(source.begin(), source.end(), frame.begin() + 6);
  frame[12] = static_cast<uint8_t>(ethertype >> 8);
  frame[13] = static_cast<uint8_t>(ethertype);
  std::copy(packet.begin(), packet.end(), frame.begin() + 14);
  return frame;
}

const Bytes kNoMac(6, 0);
const Bytes kMac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

TEST_F(PcapIoTest, TimestampsFrom2038OnRoundTrip) {
  // 2^31 s is 2038-01-19; a pcap record's seconds are unsigned 32-bit, up to 2106.
  const std::vector<uint64_t> times = {(uint64_t{1} << 31) * kSecond - 1,
                                       (uint64_t{1} << 31) * kSecond,
                                       (uint64_t{1} << 31) * kSecond + 123'456'789,
                                       uint64_t{3'000'000'000} * kSecond + 5, kPcapMaxTimestampNs};
  std::vector<Frame> frames;
  for (uint64_t time : times) frames.push_back({time, Ipv4Packet()});
  testing::WritePcap(Path("2038.pcap"), frames);
  const std::vector<Frame> read = Read(Path("2038.pcap"));
  ASSERT_EQ(read.size(), times.size());
  for (size_t i = 0; i < times.size(); ++i) EXPECT_EQ(read[i].timestamp_ns, times[i]) << i;
}

TEST_F(PcapIoTest, TimesPastWhatARecordHoldsAreClampedAndCounted) {
  PcapWriter writer;
  std::string error;
  ASSERT_TRUE(writer.Open(Path("late.pcap"), DLT_EN10MB, &error)) << error;
  const Bytes frame = AsEthernet(Ipv4Packet(), kNoMac, 0x0800);
  writer.Write(kPcapMaxTimestampNs, frame.data(), frame.size(), frame.size());
  writer.Write(kPcapMaxTimestampNs + 1, frame.data(), frame.size(), frame.size());
  EXPECT_EQ(writer.clamped(), 1u);
  ASSERT_TRUE(writer.Close(&error)) << error;
  const std::vector<Frame> read = Read(Path("late.pcap"));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[1].timestamp_ns, kPcapMaxTimestampNs) << "not wrapped to 1970";
}

TEST_F(PcapIoTest, ACutLastRecordEndsTheReadAsTruncatedAfterTheWholeOnes) {
  std::vector<Frame> frames;
  for (uint64_t i = 0; i < 5; ++i) frames.push_back({kSecond + i, Ipv4Packet()});
  testing::WritePcap(Path("cut.pcap"), frames);
  // 24-byte file header, then 16 + 60 bytes per record: cut the last one 10 bytes short.
  std::filesystem::resize_file(Path("cut.pcap"), 24 + 5 * 76 - 10);
  PcapReader::End end;
  std::string error;
  EXPECT_EQ(Read(Path("cut.pcap"), &end, &error).size(), 4u);
  EXPECT_EQ(end, PcapReader::End::kTruncated);
  EXPECT_NE(error.find("cut.pcap: truncated: "), std::string::npos) << error;
  EXPECT_NE(error.find("(record 5)"), std::string::npos) << error;

  // Cut inside a record header the same.
  std::filesystem::resize_file(Path("cut.pcap"), 24 + 3 * 76 + 7);
  EXPECT_EQ(Read(Path("cut.pcap"), &end).size(), 3u);
  EXPECT_EQ(end, PcapReader::End::kTruncated);

  testing::WritePcap(Path("whole.pcap"), frames);
  EXPECT_EQ(Read(Path("whole.pcap"), &end).size(), 5u);
  EXPECT_EQ(end, PcapReader::End::kEndOfFile);
}

TEST_F(PcapIoTest, ARecordHeaderNoReaderTakesIsDamaged) {
  testing::WritePcap(Path("damaged.pcap"), {{kSecond, Ipv4Packet()}, {kSecond, Ipv4Packet()}});
  {
    // The second record's captured length (bytes 8..11 of its header, little-endian) -> 1 GiB.
    std::fstream file(Path("damaged.pcap"), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(24 + 76 + 8);
    const char huge[4] = {0, 0, 0, 0x40};
    file.write(huge, 4);
  }
  PcapReader::End end;
  std::string error;
  EXPECT_EQ(Read(Path("damaged.pcap"), &end, &error).size(), 1u);
  EXPECT_EQ(end, PcapReader::End::kDamaged);
  EXPECT_NE(error.find("damaged: "), std::string::npos) << error;
}

TEST_F(PcapIoTest, ACutFileHeaderIsRefusedAtOpen) {
  testing::WritePcap(Path("header.pcap"), {{kSecond, Ipv4Packet()}});
  std::filesystem::resize_file(Path("header.pcap"), 10);
  PcapReader reader;
  std::string error;
  EXPECT_FALSE(reader.Open(Path("header.pcap"), &error));
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

TEST_F(PcapIoTest, RawIpBecomesEthernetByItsVersion) {
  const Bytes v4 = Ipv4Packet(), v6 = Ipv6Packet(), other = {0x50, 1, 2, 3};
  // DLT_RAW (written as LINKTYPE_RAW, 101): the version nibble says which.
  testing::WritePcap(Path("raw.pcap"), {{1, v4}, {2, v6}, {3, other}, {4, {}}}, DLT_RAW);
  const std::vector<Frame> raw = Read(Path("raw.pcap"));
  ASSERT_EQ(raw.size(), 4u);
  EXPECT_EQ(raw[0].bytes, AsEthernet(v4, kNoMac, 0x0800));
  EXPECT_EQ(raw[1].bytes, AsEthernet(v6, kNoMac, 0x86dd));
  EXPECT_EQ(raw[2].bytes, AsEthernet(other, kNoMac, 0)) << "neither: ethertype 0";
  EXPECT_EQ(raw[3].bytes, AsEthernet({}, kNoMac, 0)) << "an empty record";
  // LINKTYPE_IPV4 and IPV6 say it for every record.
  testing::WritePcap(Path("ipv4.pcap"), {{1, v4}}, DLT_IPV4);
  testing::WritePcap(Path("ipv6.pcap"), {{1, v6}}, DLT_IPV6);
  EXPECT_EQ(Read(Path("ipv4.pcap"))[0].bytes, AsEthernet(v4, kNoMac, 0x0800));
  EXPECT_EQ(Read(Path("ipv6.pcap"))[0].bytes, AsEthernet(v6, kNoMac, 0x86dd));
}

TEST_F(PcapIoTest, LinuxCookedCapturesBecomeEthernetWithTheirSourceAndProtocol) {
  const Bytes v4 = Ipv4Packet(), v6 = Ipv6Packet();
  // SLL: packet type, ARPHRD_ETHER, address length 6, address (8 bytes), protocol.
  auto sll = [](const Bytes& address, uint16_t protocol, const Bytes& packet) {
    Bytes frame = {0, 4, 0, 1};
    testing::Put16(&frame, static_cast<uint16_t>(address.size()));
    frame.insert(frame.end(), address.begin(), address.end());
    frame.resize(14, 0);
    testing::Put16(&frame, protocol);
    frame.insert(frame.end(), packet.begin(), packet.end());
    return frame;
  };
  testing::WritePcap(Path("sll.pcap"),
                     {{1, sll(kMac, 0x0800, v4)}, {2, sll({1, 2, 3, 4}, 0x86dd, v6)}, {3, {0, 4}}},
                     DLT_LINUX_SLL);
  const std::vector<Frame> cooked = Read(Path("sll.pcap"));
  ASSERT_EQ(cooked.size(), 3u);
  EXPECT_EQ(cooked[0].bytes, AsEthernet(v4, kMac, 0x0800));
  EXPECT_EQ(cooked[1].bytes, AsEthernet(v6, kNoMac, 0x86dd)) << "not a MAC: no source";
  EXPECT_EQ(cooked[2].bytes, AsEthernet({}, kNoMac, 0)) << "a record cut in its header";

  // SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length, address.
  Bytes sll2 = {0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6};
  sll2.insert(sll2.end(), kMac.begin(), kMac.end());
  sll2.resize(20, 0);
  sll2.insert(sll2.end(), v4.begin(), v4.end());
  testing::WritePcap(Path("sll2.pcap"), {{1, sll2}}, DLT_LINUX_SLL2);
  EXPECT_EQ(Read(Path("sll2.pcap"))[0].bytes, AsEthernet(v4, kMac, 0x0800));
}

TEST_F(PcapIoTest, OtherLinkTypesAreRefusedByName) {
  testing::WritePcap(Path("wifi.pcap"), {{1, Ipv4Packet()}}, DLT_IEEE802_11);
  PcapReader reader;
  std::string error;
  EXPECT_FALSE(reader.Open(Path("wifi.pcap"), &error));
  EXPECT_NE(error.find("link type 105 (IEEE802_11) is not supported"), std::string::npos) << error;
  EXPECT_NE(error.find("Ethernet (1), raw IP (101, 228, 229)"), std::string::npos) << error;
}

}  // namespace
}  // namespace faultline
