// Traces through `faultline replay --trace`, in virtual time: time zero is the earliest input
// frame, and a step at T applies exactly to the frames stamped T or later. So the frames a
// partition, a link-down, a stall or an impairment change touches are known to the nanosecond:
// each test writes them out from the trace's times, not from the code under test.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
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
constexpr uint64_t kStart = 5 * kSecond;  // the first frame's timestamp: time zero

// 10.0.0.1 -> 10.0.0.2 (MakeUdpFrames' addresses).
constexpr const char* kProfile = R"(version: 1
seed: 3
groups:
  sender: [10.0.0.1]
  receiver: [10.0.0.2]
impairments:
  none: {}
  slow: {delay: {base: 5ms}}
  lossy: {loss: {probability: 30%}}
  throttled: {rate: {bandwidth: 10mbit}}
rules:
  - name: traffic
    match: {src: sender}
    impairment: none
)";

class TraceReplayTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }

  void Write(const std::string& name, const std::string& text) {
    std::ofstream(Path(name)) << text;
  }

  // One frame every `gap` from kStart, plus any frames moved to the given times (kept in order).
  std::vector<Frame> Frames(size_t count, uint64_t gap) {
    testing::UdpStreamOptions options;
    options.count = count;
    options.start_ns = kStart;
    options.gap_ns = gap;
    return testing::MakeUdpFrames(options);
  }

  // Replays `frames` (side a) with the profile and `trace`; returns the stats document and fills
  // *out with what left by side b.
  nlohmann::json Replay(const std::vector<Frame>& frames, const std::string& trace,
                        std::vector<Frame>* out, const std::string& out_name = "out.pcap") {
    WritePcap(Path("in.pcap"), frames);
    Write("profile.yaml", kProfile);
    Write("trace.yaml", trace);
    const auto result = RunFaultline({"replay", "--in", Path("in.pcap"), "--out", Path(out_name),
                                      "--profile", Path("profile.yaml"), "--trace",
                                      Path("trace.yaml"), "--stats-json", Path("stats.json")});
    EXPECT_EQ(result.status, 0) << result.output;
    *out = ReadPcap(Path(out_name));
    std::ifstream stats(Path("stats.json"));
    return nlohmann::json::parse(stats, nullptr, false);
  }

  static std::set<uint64_t> Indexes(const std::vector<Frame>& frames) {
    std::set<uint64_t> indexes;
    for (const Frame& frame : frames) indexes.insert(testing::UdpFrameIndex(frame.bytes));
    return indexes;
  }

  testing::TempFiles temp_files_;
};

TEST_F(TraceReplayTest, APartitionAtTenSecondsDropsExactlyTheFramesInItsWindow) {
  // A frame every millisecond for 20 s; frames 9999 and 14999 moved to 1 ns before the
  // partition and the heal, so both edges are tested to the nanosecond.
  std::vector<Frame> frames = Frames(20'000, kMs);
  frames[9999].timestamp_ns = kStart + 10 * kSecond - 1;
  frames[14999].timestamp_ns = kStart + 15 * kSecond - 1;
  std::vector<Frame> out;
  const nlohmann::json stats = Replay(frames, R"(version: 1
events:
  - at: 10s
    partition: {from: sender, to: receiver, name: cut}
  - at: 15s
    heal: partitions
)",
                                      &out);
  std::set<uint64_t> expected;
  for (uint64_t i = 0; i < 20'000; ++i) {
    if (i < 10'000 || i >= 15'000) expected.insert(i);  // [10 s, 15 s) is cut
  }
  EXPECT_EQ(Indexes(out), expected);
  EXPECT_EQ(out.size(), expected.size()) << "each once";
  EXPECT_EQ(stats["dropped"]["partition"], 5000);
  const nlohmann::json& trace = stats["trace"];
  EXPECT_EQ(trace["state"], "finished");
  EXPECT_EQ(trace["steps_applied"], 2);
  EXPECT_EQ(trace["event_index"], 1);
  ASSERT_EQ(trace["events"].size(), 2u);
  EXPECT_EQ(trace["events"][0]["scheduled_ns"], 10 * kSecond);
  EXPECT_EQ(trace["events"][0]["applied_ns"], 10 * kSecond);
  EXPECT_EQ(trace["events"][0]["lateness_ns"], 0);
  EXPECT_EQ(trace["events"][0]["line"], 3);
  EXPECT_EQ(trace["events"][1]["scheduled_ns"], 15 * kSecond);
}

// A trace with its own profile, replayed with --profile: the command line wins (its 5 ms delay,
// not the trace's 1 ms), and stderr says so; without --profile the trace's own profile plays.
TEST_F(TraceReplayTest, ProfileOnTheCommandLineReplacesTheTracesOwnAndSaysSo) {
  const std::vector<Frame> frames = Frames(100, kMs);
  WritePcap(Path("in.pcap"), frames);
  Write("profile.yaml", kProfile);
  // The trace's own profile has `slow` at 2 ms; --profile's at 5 ms.
  Write("own.trace.yaml", R"(version: 1
profile:
  version: 1
  impairments:
    quick: {delay: {base: 1ms}}
    slow: {delay: {base: 2ms}}
  rules:
    - {name: traffic, match: {}, impairment: quick}
events:
  - at: 50ms
    set-impairment: {rule: traffic, impairment: slow}
)");
  auto delays = [&](const std::vector<std::string>& extra, std::string* output) {
    std::vector<std::string> args = {"replay",         "--in",    Path("in.pcap"),       "--out",
                                     Path("out.pcap"), "--trace", Path("own.trace.yaml")};
    args.insert(args.end(), extra.begin(), extra.end());
    const CommandResult result = RunFaultline(args);
    EXPECT_EQ(result.status, 0) << result.output;
    *output = result.output;
    std::set<uint64_t> seen;
    for (const Frame& frame : ReadPcap(Path("out.pcap"))) {
      const uint64_t index = testing::UdpFrameIndex(frame.bytes);
      seen.insert(frame.timestamp_ns - frames[index].timestamp_ns);
    }
    return seen;
  };
  std::string output;
  // The profile of the command line: 0 (impairment none) before 50 ms, 5 ms (slow) from then.
  EXPECT_EQ(delays({"--profile", Path("profile.yaml")}, &output), (std::set<uint64_t>{0, 5 * kMs}));
  EXPECT_NE(output.find("faultline replay: --profile " + Path("profile.yaml") +
                        " replaces the trace's own profile (" + Path("own.trace.yaml") +
                        ":2:1: profile:)"),
            std::string::npos)
      << output;
  // --delay is a profile of the command line too: every frame 3 ms, and the trace's
  // set-impairment names an impairment the one-rule profile does not have.
  const CommandResult refused =
      RunFaultline({"replay", "--in", Path("in.pcap"), "--out", Path("out.pcap"), "--trace",
                    Path("own.trace.yaml"), "--delay", "3ms"});
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_NE(refused.output.find("checked against the profile of the command line"),
            std::string::npos)
      << refused.output;
  // Without one, the trace's own: 1 ms, then 2 ms; nothing said.
  EXPECT_EQ(delays({}, &output), (std::set<uint64_t>{1 * kMs, 2 * kMs}));
  EXPECT_EQ(output.find("replaces"), std::string::npos) << output;
}

TEST_F(TraceReplayTest, SetImpairmentChangesDelaysFromItsTimeOn) {
  std::vector<Frame> frames = Frames(400, 10 * kMs);  // 0 .. 3.99 s
  std::vector<Frame> out;
  Replay(frames, R"(version: 1
events:
  - at: 2s
    set-impairment: {rule: traffic, impairment: slow}
)",
         &out);
  ASSERT_EQ(out.size(), 400u);
  for (const Frame& frame : out) {
    const uint64_t i = testing::UdpFrameIndex(frame.bytes);
    const uint64_t arrival = kStart + i * 10 * kMs;
    const uint64_t expected = arrival >= kStart + 2 * kSecond ? arrival + 5 * kMs : arrival;
    EXPECT_EQ(frame.timestamp_ns, expected) << "frame " << i;
  }
}

// A rule's rate queue is model state that outlives the profile of the step that set it: the
// next step replaces (and frees) that profile while the rule keeps its queue. Frames after the
// second step are still serialised at 10 Mbit/s. (Under AddressSanitizer a queue that kept a
// reference into the freed profile aborts the run.)
TEST_F(TraceReplayTest, ARateSetByOneStepOutlivesTheNextStep) {
  std::vector<Frame> frames = Frames(400, 10 * kMs);  // 0 .. 3.99 s, 128-byte frames
  std::vector<Frame> out;
  const nlohmann::json stats = Replay(frames, R"(version: 1
events:
  - at: 1s
    set-impairment: {rule: traffic, impairment: throttled}
  - at: 2s
    partition: {from: receiver, to: sender, name: reverse}
  - at: 3s
    heal: partitions
)",
                                      &out);
  ASSERT_EQ(out.size(), 400u);
  // 128 bytes at 10 Mbit/s: 102.4 us on the link, and frames 10 ms apart never queue.
  constexpr uint64_t kSerialisationNs = 102'400;
  for (const Frame& frame : out) {
    const uint64_t i = testing::UdpFrameIndex(frame.bytes);
    const uint64_t arrival = kStart + i * 10 * kMs;
    const uint64_t expected = arrival >= kStart + kSecond ? arrival + kSerialisationNs : arrival;
    EXPECT_EQ(frame.timestamp_ns, expected) << "frame " << i;
  }
  EXPECT_EQ(stats["trace"]["steps_applied"], 3);
}

// Every snapshot with IPv4 and IPv6 groups holds an rte_lpm and an rte_lpm6 (64 MiB each), and
// replay sizes its EAL memory for the snapshots a trace can hold at once: the one in force and
// the next. The starting profile was once kept for the whole run as a third, so a trace whose
// steps each need tables of their own ran out of memory at its second step.
TEST_F(TraceReplayTest, ATraceWithIpv6GroupsHasTheMemoryItsStepsNeed) {
  std::vector<Frame> frames = Frames(400, 10 * kMs);  // 0 .. 3.99 s
  WritePcap(Path("in.pcap"), frames);
  Write("v6.trace.yaml", R"(version: 1
profile:
  version: 1
  seed: 3
  groups:
    sender: [10.0.0.1]
    v6a: [fd00::1, fd00:1::/48]
    v6b: [fd00::2]
  impairments:
    none: {}
  rules:
    - {name: traffic, match: {src: sender}, impairment: none}
    - {name: v6-traffic, match: {src: v6a}, impairment: none}
events:
  - at: 1s
    partition: {from: v6a, to: v6b, name: p1}
  - at: 2s
    partition: {from: sender, to: v6b, name: p2}
  - at: 3s
    heal: partitions
)");
  const auto result =
      RunFaultline({"replay", "--in", Path("in.pcap"), "--out", Path("out.pcap"), "--trace",
                    Path("v6.trace.yaml"), "--stats-json", Path("stats.json")});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(ReadPcap(Path("out.pcap")).size(), 400u);
  std::ifstream stats(Path("stats.json"));
  EXPECT_EQ(nlohmann::json::parse(stats, nullptr, false)["trace"]["steps_applied"], 3);
}

TEST_F(TraceReplayTest, AStallHoldsTheGroupsFramesUntilItEnds) {
  std::vector<Frame> frames = Frames(500, 10 * kMs);  // 0 .. 4.99 s
  std::vector<Frame> out;
  const nlohmann::json stats = Replay(frames, R"(version: 1
events:
  - at: 3s
    stall: {group: sender, for: 500ms}
)",
                                      &out);
  ASSERT_EQ(out.size(), 500u);
  uint64_t previous = 0;
  for (const Frame& frame : out) {
    const uint64_t i = testing::UdpFrameIndex(frame.bytes);
    const uint64_t arrival = kStart + i * 10 * kMs;
    const bool paused = arrival >= kStart + 3 * kSecond && arrival < kStart + 3500 * kMs;
    EXPECT_EQ(frame.timestamp_ns, paused ? kStart + 3500 * kMs : arrival) << "frame " << i;
    if (&frame != &out.front()) {
      EXPECT_GT(i, previous) << "released in arrival order";
    }
    previous = i;
  }
  ASSERT_EQ(stats["trace"]["events"].size(), 2u) << "the stall and its implied end";
  EXPECT_EQ(stats["trace"]["events"][1]["implied"], true);
  EXPECT_EQ(stats["trace"]["events"][1]["scheduled_ns"], 3500 * kMs);
}

TEST_F(TraceReplayTest, ALinkDownDropsItsWindowWithItsOwnCauseAndRepeats) {
  std::vector<Frame> frames = Frames(600, 10 * kMs);  // 0 .. 5.99 s
  std::vector<Frame> out;
  // Round length 3 s, two rounds: down in [1 s, 1.5 s) and [4 s, 4.5 s).
  const nlohmann::json stats = Replay(frames, R"(version: 1
repeat: 2
duration: 3s
events:
  - at: 1s
    link: {side: b, state: down, for: 500ms}
)",
                                      &out);
  std::set<uint64_t> expected;
  for (uint64_t i = 0; i < 600; ++i) {
    const bool down = (i >= 100 && i < 150) || (i >= 400 && i < 450);
    if (!down) expected.insert(i);
  }
  EXPECT_EQ(Indexes(out), expected);
  EXPECT_EQ(stats["dropped"]["link-down"], 100);
  EXPECT_EQ(stats["trace"]["steps_applied"], 4);
  EXPECT_EQ(stats["trace"]["events"][2]["round"], 1);
  EXPECT_EQ(stats["trace"]["events"][2]["scheduled_ns"], 4 * kSecond);
}

TEST_F(TraceReplayTest, SameInputsTraceAndSeedGiveTheSameBytes) {
  std::vector<Frame> frames = Frames(3000, kMs);
  const std::string trace = R"(version: 1
events:
  - at: 1s
    set-impairment: {rule: traffic, impairment: lossy}
  - at: 2s
    set-impairment: {rule: traffic, impairment: none}
)";
  std::vector<Frame> first, second;
  const nlohmann::json stats = Replay(frames, trace, &first, "first.pcap");
  Replay(frames, trace, &second, "second.pcap");
  EXPECT_EQ(testing::ReadFileBytes(Path("first.pcap")),
            testing::ReadFileBytes(Path("second.pcap")));
  // Loss only in [1 s, 2 s): 1000 frames at 30%, within 4 sigma = 4 * sqrt(1000 * 0.3 * 0.7).
  const int64_t lost = stats["dropped"]["loss"].get<int64_t>();
  EXPECT_NEAR(lost, 300, 4 * 14.5);
  std::set<uint64_t> delivered = Indexes(first);
  for (uint64_t i = 0; i < 3000; ++i) {
    if (i < 1000 || i >= 2000) {
      EXPECT_TRUE(delivered.count(i)) << "frame " << i;
    }
  }
}

}  // namespace
}  // namespace faultline
