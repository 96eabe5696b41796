// `faultline replay --series`: the time series in virtual time agrees with the statistics
// document and with an independent count over the output capture, its events sit at the trace's
// times, and the same input and seed give the same bytes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using testing::Frame;
using testing::ReadPcap;
using testing::RunFaultline;
using testing::WritePcap;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStart = 7 * kSecond;  // the first frame's timestamp: the series' start

// A delay with jitter and 20% loss on everything from 10.0.0.1; the trace makes it lossless at
// 1.5 s, partitions sender from receiver at 2.5 s for 300 ms (a heal), stalls at 3.2 s.
constexpr const char* kProfile = R"(version: 1
seed: 11
groups:
  sender: [10.0.0.1]
  receiver: [10.0.0.2]
impairments:
  lossy: {delay: {base: 5ms, jitter: 1ms, distribution: normal}, loss: {probability: 20%}}
  clean: {delay: {base: 2ms}}
rules:
  - name: traffic
    match: {src: sender}
    impairment: lossy
)";
constexpr const char* kTrace = R"(version: 1
events:
  - at: 1500ms
    set-impairment: {rule: traffic, impairment: clean}
  - at: 2500ms
    partition: {from: sender, to: receiver, name: cut}
  - at: 2800ms
    heal: partitions
  - at: 3200ms
    stall: {group: sender, for: 100ms}
)";

class SeriesReplayTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }

  void SetUp() override {
    testing::UdpStreamOptions options;
    options.count = 4000;  // one every ms: 4 s of virtual time
    options.start_ns = kStart;
    options.gap_ns = kMs;
    WritePcap(Path("in.pcap"), testing::MakeUdpFrames(options));
    std::ofstream(Path("profile.yaml")) << kProfile;
    std::ofstream(Path("trace.yaml")) << kTrace;
  }

  // Replays with --series; returns its lines.
  std::vector<nlohmann::json> Replay(const std::string& series, const std::string& out,
                                     std::string* output = nullptr) {
    const auto result =
        RunFaultline({"replay", "--in", Path("in.pcap"), "--out", Path(out), "--profile",
                      Path("profile.yaml"), "--trace", Path("trace.yaml"), "--stats-json",
                      Path("stats.json"), "--series", Path(series), "--series-interval", "500ms"});
    EXPECT_EQ(result.status, 0) << result.output;
    if (output) *output = result.output;
    std::vector<nlohmann::json> lines;
    std::ifstream in(Path(series));
    for (std::string line; std::getline(in, line);) {
      lines.push_back(nlohmann::json::parse(line));  // throws (fails) if a line is not JSON
    }
    return lines;
  }

  testing::TempFiles temp_files_;
};

TEST_F(SeriesReplayTest, IntervalsAddUpToTheStatisticsAndTheOutputCapture) {
  const std::vector<nlohmann::json> lines = Replay("series.jsonl", "out.pcap");
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines.front()["type"], "header");
  EXPECT_EQ(lines.front()["source"], "replay");
  EXPECT_EQ(lines.front()["start_ns"], kStart);
  EXPECT_EQ(lines.front()["interval_ns"], 500 * kMs);
  EXPECT_EQ(lines.front()["seed"], 11);
  EXPECT_EQ(lines.front()["rules"][0]["delay"]["delay_ns"], 5 * kMs);
  EXPECT_EQ(lines.front()["rules"][0]["delay"]["distribution"], "normal");
  EXPECT_EQ(lines.back()["type"], "histogram");

  // The independent count: the output frames by the interval their departure falls in
  // (an interval ends at t_ns and holds departures in (t_ns - interval_ns, t_ns]).
  const std::vector<Frame> out = ReadPcap(Path("out.pcap"));
  std::ifstream stats_file(Path("stats.json"));
  const nlohmann::json stats = nlohmann::json::parse(stats_file);
  uint64_t rx = 0, delivered = 0, residence_count = 0;
  std::map<std::string, uint64_t> dropped;
  uint64_t previous_end = kStart;
  size_t next_frame = 0;
  for (const nlohmann::json& line : lines) {
    if (line["type"] != "interval") continue;
    const uint64_t end = line["t_ns"];
    EXPECT_EQ(line["interval_ns"].get<uint64_t>(), end - previous_end);
    uint64_t departed = 0;
    while (next_frame < out.size() && out[next_frame].timestamp_ns <= end) {
      ++departed;
      ++next_frame;
    }
    EXPECT_EQ(line["delivered"].get<uint64_t>(), departed) << "interval ending " << end;
    EXPECT_EQ(line["ports"][1]["tx"].get<uint64_t>(), departed);
    rx += line["ports"][0]["rx"].get<uint64_t>();
    delivered += line["delivered"].get<uint64_t>();
    residence_count += line["residence_ns"]["count"].get<uint64_t>();
    for (const auto& [cause, n] : line["dropped"].items()) dropped[cause] += n.get<uint64_t>();
    previous_end = end;
  }
  EXPECT_EQ(next_frame, out.size());
  EXPECT_EQ(rx, 4000u);
  EXPECT_EQ(delivered, out.size());
  EXPECT_EQ(delivered, stats["ports"][1]["tx"].get<uint64_t>());
  EXPECT_EQ(residence_count, stats["rules"][0]["delay_ns"]["count"].get<uint64_t>());
  uint64_t dropped_total = 0;
  for (const auto& [cause, n] : stats["dropped"].items()) {
    if (!n.is_number_unsigned() || cause == "total") continue;
    EXPECT_EQ(dropped[cause], n.get<uint64_t>()) << cause;
    dropped_total += n.get<uint64_t>();
  }
  EXPECT_GT(dropped["loss"], 0u);
  EXPECT_GT(dropped["partition"], 0u);
  EXPECT_EQ(rx, delivered + dropped_total);
  // Losses only while the lossy impairment is in force: none in intervals after 1.5 s + delay.
  for (const nlohmann::json& line : lines) {
    if (line["type"] == "interval" && line["t_ns"].get<uint64_t>() > kStart + 2 * kSecond) {
      EXPECT_FALSE(line["dropped"].contains("loss")) << line.dump();
    }
  }
}

TEST_F(SeriesReplayTest, EventsSitAtTheTraceTimes) {
  const std::vector<nlohmann::json> lines = Replay("series.jsonl", "out.pcap");
  std::vector<std::pair<std::string, uint64_t>> events;
  for (const nlohmann::json& line : lines) {
    if (line["type"] != "event") continue;
    events.emplace_back(line["kind"], line["t_ns"].get<uint64_t>() - kStart);
    if (line["kind"] == "stall" && line.contains("until_ns")) {
      EXPECT_EQ(line["until_ns"].get<uint64_t>(), kStart + 3300 * kMs);
    }
  }
  const std::vector<std::pair<std::string, uint64_t>> expected = {{"set-impairment", 1500 * kMs},
                                                                  {"partition", 2500 * kMs},
                                                                  {"heal-partitions", 2800 * kMs},
                                                                  {"stall", 3200 * kMs},
                                                                  {"stall", 3300 * kMs}};
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(events[i].second, expected[i].second) << events[i].first;
  }
  EXPECT_EQ(events[0].first, "set-impairment");
  EXPECT_EQ(events[1].first, "partition");
}

TEST_F(SeriesReplayTest, TheSameInputAndSeedGiveTheSameBytesAndTheSameOutput) {
  std::string output;
  Replay("one.jsonl", "one.pcap", &output);
  Replay("two.jsonl", "two.pcap");
  EXPECT_EQ(testing::ReadFileBytes(Path("one.jsonl")), testing::ReadFileBytes(Path("two.jsonl")));
  // --series changes nothing in what is forwarded.
  const auto result =
      RunFaultline({"replay", "--in", Path("in.pcap"), "--out", Path("plain.pcap"), "--profile",
                    Path("profile.yaml"), "--trace", Path("trace.yaml")});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(testing::ReadFileBytes(Path("one.pcap")), testing::ReadFileBytes(Path("plain.pcap")));
  // Not a terminal: no progress line.
  EXPECT_EQ(output.find('\r'), std::string::npos);
  EXPECT_EQ(output.find("% of input"), std::string::npos);
}

// On a terminal (a pty from util-linux's `script`) replay draws its progress line in place and
// erases it at the end.
TEST_F(SeriesReplayTest, ProgressLineOnATerminal) {
  if (std::system("command -v script >/dev/null 2>&1") != 0) GTEST_SKIP() << "no `script`";
  const std::string command = testing::FaultlineBinary() + " replay --in " + Path("in.pcap") +
                              " --out " + Path("tty.pcap") + " --delay 1ms";
  const std::string shell = "script -qec '" + command + "' /dev/null > " + Path("tty.txt");
  ASSERT_EQ(std::system(shell.c_str()), 0);
  const std::string text = testing::ReadFileBytes(Path("tty.txt"));
  EXPECT_NE(text.find("\rfaultline replay: 1024 frames, "), std::string::npos) << text;
  EXPECT_NE(text.find("% of input"), std::string::npos) << text;
  EXPECT_NE(text.find("\r\033[K"), std::string::npos) << "erased at the end: " << text;
}

}  // namespace
}  // namespace faultline
