// Live capture (`faultline capture`) on a running worker (net_ring ports, TSC clock, its own
// thread) with the control plane on a real socket: the client (RunCapture) writes exactly
// --count frames with the right cause in each comment, read back by libpcap; --rule keeps only
// that rule's frames; a tiny capture ring counts what it could not take (capture_lost, in the
// answer and in the statistics); bad requests and a second capture at once are clear errors.
#include <pcap/pcap.h>

#include <fstream>
#include <iterator>

#include "control/base/units.h"
#include "control/server/capture_client.h"
#include "tests/running_dataplane.h"

namespace faultline::testing {
namespace {

// Frames of side a come from source ports 5000..5015 (running_dataplane.h): 5000-5007 meet a
// 100% loss rule, 5008-5015 a 100% duplication rule.
constexpr const char* kProfile = R"(version: 1
seed: 3
impairments:
  drop-all:
    loss: {probability: 100%}
  twice:
    duplicate: {probability: 100%}
rules:
  - name: lossy
    match: {src-port: 5000-5007}
    impairment: drop-all
  - name: dup
    match: {src-port: 5008-5015}
    impairment: twice
)";

struct Captured {
  uint64_t time_ns;
  uint32_t length;
  std::string data, comment;
};

uint32_t Le32(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

// The frames of a pcapng file as libpcap reads them, with the comments a block walk finds.
std::vector<Captured> ReadCapture(const std::string& path) {
  std::vector<Captured> frames;
  char errbuf[PCAP_ERRBUF_SIZE];
  pcap_t* pcap =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  EXPECT_NE(pcap, nullptr) << errbuf;
  if (pcap == nullptr) return frames;
  pcap_pkthdr* header;
  const u_char* data;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    frames.push_back({uint64_t(header->ts.tv_sec) * 1'000'000'000 + uint64_t(header->ts.tv_usec),
                      header->len, std::string(reinterpret_cast<const char*>(data), header->caplen),
                      ""});
  }
  pcap_close(pcap);
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t frame = 0;
  for (size_t at = 0; at + 12 <= file.size(); at += Le32(file, at + 4)) {
    if (Le32(file, at + 4) < 12) break;
    if (Le32(file, at) != 6) continue;
    const size_t option = at + 28 + ((Le32(file, at + 20) + 3) & ~3u);
    if (frame < frames.size() && (Le32(file, option) & 0xffff) == 1) {
      frames[frame].comment = file.substr(option + 4, Le32(file, option) >> 16);
    }
    ++frame;
  }
  return frames;
}

class CaptureLiveTest : public RunningDataplaneTest {
 protected:
  std::string OutPath(const char* name) {
    return ::testing::TempDir() + "/capture_live_" + std::to_string(getpid()) + "_" + name;
  }
  nlohmann::json Ask(const nlohmann::json& request) { return commands_->Handle(request); }
};

TEST_F(CaptureLiveTest, CapturesExactlyCountDroppedFramesWithTheirCause) {
  capture_slots_ = 1024;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfile));
  StartTraffic();
  const std::string out = OutPath("dropped.pcapng");
  const uint64_t before = static_cast<uint64_t>(WallClockNs());
  ASSERT_EQ(RunCapture({.what = "dropped", .count = 40, .out = out}, SocketPath()), 0);
  const uint64_t after = static_cast<uint64_t>(WallClockNs());
  const std::vector<Captured> frames = ReadCapture(out);
  ASSERT_EQ(frames.size(), 40u);
  for (const Captured& frame : frames) {
    EXPECT_EQ(frame.comment, "dropped:loss rule=lossy dir=a-to-b");
    EXPECT_EQ(frame.length, kFrameLength);
    ASSERT_EQ(frame.data.size(), kFrameLength);
    const int source_port =
        static_cast<uint8_t>(frame.data[34]) << 8 | static_cast<uint8_t>(frame.data[35]);
    EXPECT_GE(source_port, 5000);  // a frame of the lossy rule, whole
    EXPECT_LE(source_port, 5007);
    EXPECT_EQ(frame.data.substr(0, 30), std::string(frame_.begin(), frame_.begin() + 30));
    // Unix ns, taken while the capture ran (the workers' TSC turned into wall time).
    EXPECT_GE(frame.time_ns + 50'000'000, before);
    EXPECT_LE(frame.time_ns, after + 50'000'000);
  }
  unlink(out.c_str());
  // The capture ended: a new one may start at once.
  EXPECT_TRUE(Ask({{"command", "capture-start"}, {"what", "all"}}).value("ok", false));
  EXPECT_TRUE(Ask({{"command", "capture-stop"}}).value("ok", false));
}

TEST_F(CaptureLiveTest, RuleFilterKeepsOnlyThatRulesFrames) {
  capture_slots_ = 1024;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfile));
  StartTraffic();
  const std::string out = OutPath("dup.pcapng");
  ASSERT_EQ(RunCapture({.what = "all", .rule = "dup", .count = 30, .out = out}, SocketPath()), 0);
  const std::vector<Captured> frames = ReadCapture(out);
  ASSERT_EQ(frames.size(), 30u);
  for (const Captured& frame : frames) {
    // No delay in the profile: the only fate of rule dup's frames is the copy.
    EXPECT_EQ(frame.comment, "duplicated rule=dup dir=a-to-b");
    const int source_port =
        static_cast<uint8_t>(frame.data[34]) << 8 | static_cast<uint8_t>(frame.data[35]);
    EXPECT_GE(source_port, 5008);
  }
  unlink(out.c_str());
}

TEST_F(CaptureLiveTest, ATinyRingCountsWhatItLost) {
  capture_slots_ = 4;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfile));
  StartTraffic();
  const nlohmann::json started = Ask({{"command", "capture-start"}, {"what", "dropped"}});
  ASSERT_TRUE(started.value("ok", false)) << started.dump();
  // Nobody reads: the 4 slots fill and the next copies are lost, counted.
  const auto deadline = Clock::now() + kStallBound;
  while (capture_->lost() < 100 && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  const nlohmann::json read = Ask({{"command", "capture-read"}, {"id", started["id"]}});
  ASSERT_TRUE(read.value("ok", false)) << read.dump();
  EXPECT_EQ(read["frames"].size(), 4u);
  EXPECT_GE(read["lost"].get<uint64_t>(), 100u);
  const nlohmann::json stats = Ask({{"command", "stats"}});
  EXPECT_GE(stats["stats"]["capture_lost"].get<uint64_t>(), 100u) << stats.dump();
  const nlohmann::json stopped = Ask({{"command", "capture-stop"}});
  EXPECT_TRUE(stopped.value("was_running", false));
  EXPECT_GE(stopped["lost"].get<uint64_t>(), read["lost"].get<uint64_t>());
}

TEST_F(CaptureLiveTest, BadRequestsAreClearErrors) {
  capture_slots_ = 16;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfile));
  auto error_of = [&](const nlohmann::json& request) {
    const nlohmann::json response = Ask(request);
    EXPECT_FALSE(response.value("ok", true)) << request.dump();
    return response.value("code", "") + ": " + response.value("error", "");
  };
  EXPECT_EQ(error_of({{"command", "capture-start"}, {"what", "lost"}}),
            "bad-request: capture \"what\" must be dropped, duplicated, corrupted, delayed or all");
  EXPECT_EQ(error_of({{"command", "capture-start"}, {"rule", "nope"}}),
            "bad-request: no rule \"nope\" in the profile in force (lossy, dup)");
  EXPECT_EQ(error_of({{"command", "capture-start"}, {"count", -1}}),
            "bad-request: \"count\" must be a non-negative integer");
  EXPECT_EQ(error_of({{"command", "capture-start"}, {"snap", 1}}),
            "bad-request: unknown key \"snap\" in capture-start");
  EXPECT_EQ(error_of({{"command", "capture-read"}, {"id", 7}}),
            "bad-request: no capture with id 7 is running (it ended, or was never started)");
  const nlohmann::json first = Ask({{"command", "capture-start"}, {"what", "delayed"}});
  ASSERT_TRUE(first.value("ok", false)) << first.dump();
  EXPECT_EQ(error_of({{"command", "capture-start"}}),
            "busy: a capture is running already (id " + first["id"].dump() +
                "): one at a time; wait for it, or end it with {\"command\":\"capture-stop\"}");
  // Through the client: the refusal is its exit status 1 (busy) and no file is left behind.
  const std::string out = OutPath("busy.pcapng");
  EXPECT_EQ(RunCapture({.what = "all", .count = 1, .out = out}, SocketPath()), 1);
  EXPECT_NE(access(out.c_str(), F_OK), 0);
  EXPECT_TRUE(Ask({{"command", "capture-stop"}}).value("was_running", false));
  EXPECT_EQ(RunCapture({.what = "all", .rule = "nope", .count = 1, .out = out}, SocketPath()), 2);
}

}  // namespace
}  // namespace faultline::testing
