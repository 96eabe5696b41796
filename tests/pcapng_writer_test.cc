// The pcapng writer of `faultline capture`: libpcap (pcap_open_offline, nanosecond precision)
// reads its frames and timestamps back, and a reader here finds each frame's opt_comment.
// Base64 (how frames travel in the control socket's JSON) round trips and refuses bad text.
#include "dataplane/reporting/pcapng_writer.h"

#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "control/base/base64.h"

namespace faultline {
namespace {

uint32_t Le32(const std::string& bytes, size_t at) {
  return uint32_t{static_cast<uint8_t>(bytes[at])} |
         uint32_t{static_cast<uint8_t>(bytes[at + 1])} << 8 |
         uint32_t{static_cast<uint8_t>(bytes[at + 2])} << 16 |
         uint32_t{static_cast<uint8_t>(bytes[at + 3])} << 24;
}

// The opt_comment of every enhanced packet block of a pcapng file, in order ("" none).
std::vector<std::string> Comments(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> comments;
  for (size_t at = 0; at + 12 <= file.size();) {
    const uint32_t type = Le32(file, at), length = Le32(file, at + 4);
    EXPECT_GE(length, 12u);
    EXPECT_EQ(length % 4, 0u);
    EXPECT_EQ(Le32(file, at + length - 4), length) << "trailing length at " << at;
    if (length < 12 || length % 4 != 0) break;
    if (type == 6) {
      std::string comment;
      size_t option = at + 28 + ((Le32(file, at + 20) + 3) & ~3u);
      while (option + 4 <= at + length - 4) {
        const uint32_t header = Le32(file, option);
        const uint16_t code = header & 0xffff, size = header >> 16;
        if (code == 0) break;
        if (code == 1) comment = file.substr(option + 4, size);
        option += 4 + ((size + 3) & ~3u);
      }
      comments.push_back(comment);
    }
    at += length;
  }
  return comments;
}

TEST(PcapngWriter, LibpcapReadsFramesAndNanosecondTimesAndCommentsAreThere) {
  const std::string path = ::testing::TempDir() + "/pcapng_writer_" + std::to_string(getpid());
  struct Frame {
    uint64_t time_ns;
    uint32_t length;
    std::string data, comment;
  };
  const std::vector<Frame> frames = {
      {1'700'000'000'123'456'789ull, 60, std::string(60, '\x11'), "dropped:loss rule=r dir=a-to-b"},
      {1'700'000'001'000'000'001ull, 1500, std::string(61, '\x22'), "duplicated rule=d dir=b-to-a"},
      {1'700'000'002'999'999'999ull, 64, std::string(64, '\x33'), ""},
  };
  std::string error;
  auto writer = PcapngWriter::Open(path, 512, &error);
  ASSERT_NE(writer, nullptr) << error;
  for (const Frame& frame : frames) {
    ASSERT_TRUE(writer->Write(frame.time_ns, frame.length, frame.data, frame.comment));
  }
  ASSERT_TRUE(writer->Close(&error)) << error;

  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  ASSERT_NE(pcap, nullptr) << errbuf;
  EXPECT_EQ(pcap_datalink(pcap), DLT_EN10MB);
  EXPECT_EQ(pcap_snapshot(pcap), 512);
  for (const Frame& frame : frames) {
    pcap_pkthdr* header;
    const u_char* data;
    ASSERT_EQ(pcap_next_ex(pcap, &header, &data), 1) << pcap_geterr(pcap);
    EXPECT_EQ(uint64_t(header->ts.tv_sec), frame.time_ns / 1'000'000'000);
    EXPECT_EQ(uint64_t(header->ts.tv_usec), frame.time_ns % 1'000'000'000);  // ns here
    EXPECT_EQ(header->len, frame.length);
    ASSERT_EQ(header->caplen, frame.data.size());
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), header->caplen), frame.data);
  }
  pcap_pkthdr* header;
  const u_char* data;
  EXPECT_EQ(pcap_next_ex(pcap, &header, &data), PCAP_ERROR_BREAK);  // nothing more
  pcap_close(pcap);

  const std::vector<std::string> comments = Comments(path);
  ASSERT_EQ(comments.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(comments[i], frames[i].comment);
  unlink(path.c_str());
}

TEST(PcapngWriter, AFileThatCannotBeWrittenIsAnError) {
  std::string error;
  EXPECT_EQ(PcapngWriter::Open("/nonexistent-dir/x.pcapng", 512, &error), nullptr);
  EXPECT_NE(error.find("cannot write /nonexistent-dir/x.pcapng"), std::string::npos) << error;
}

TEST(Base64, RoundTripsEveryLengthAndRefusesBadText) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");  // RFC 4648 section 10
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes) << i;
    bytes += static_cast<char>(i * 37);
  }
  EXPECT_FALSE(Base64Decode("Zm9"));       // not a multiple of 4
  EXPECT_FALSE(Base64Decode("Zm*v"));      // not in the alphabet
  EXPECT_FALSE(Base64Decode("Z==="));      // too much padding
  EXPECT_FALSE(Base64Decode("Zg==Zg=="));  // padding before the end
}

}  // namespace
}  // namespace faultline
