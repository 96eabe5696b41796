// Golden tests of `faultline replay`: the offline pipeline run as users run it, as a process.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"
#include "dataplane/runtime/pcap_io.h"
#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using testing::FaultlineBinary;

using testing::Frame;
using testing::MakeFrames;
using testing::ReadFileBytes;
using testing::ReadPcap;
using testing::RunFaultline;
using testing::TempPath;
using testing::WritePcap;

class ReplayGoldenTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }
  testing::TempFiles temp_files_;
};

TEST_F(ReplayGoldenTest, ConstantDelayIsExactOrderedAndByteIdentical) {
  const std::string in = Path("in.pcap"), out = Path("out.pcap"), again = Path("again.pcap");
  // 20k frames, gaps up to 2 ms (so 5 ms of delay keeps thousands in flight), epoch-scale times.
  const std::vector<Frame> input = MakeFrames(20'000, 1'700'000'000'123'456'789, 2'000'000, 1);
  WritePcap(in, input);
  const CommandResult first = RunFaultline({"replay", "--in", in, "--out", out, "--delay", "5ms"});
  ASSERT_EQ(first.status, 0) << first.output;
  const std::vector<Frame> output = ReadPcap(out);
  ASSERT_EQ(output.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_EQ(output[i].timestamp_ns, input[i].timestamp_ns + 5'000'000) << "frame " << i;
    ASSERT_EQ(output[i].bytes, input[i].bytes) << "frame " << i;
  }
  const CommandResult second =
      RunFaultline({"replay", "--in", in, "--out", again, "--delay", "5ms"});
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(ReadFileBytes(out), ReadFileBytes(again)) << "two runs differ";
}

TEST_F(ReplayGoldenTest, BothDirectionsAreDelayedIndependently) {
  const std::string in_a = Path("a.pcap"), in_b = Path("b.pcap");
  const std::string out_b = Path("out_b.pcap"), out_a = Path("out_a.pcap"), stats = Path("s.json");
  const std::vector<Frame> from_a = MakeFrames(3000, 1'000'000'000, 500'000, 2);
  const std::vector<Frame> from_b = MakeFrames(2000, 1'000'100'000, 700'000, 3);
  WritePcap(in_a, from_a);
  WritePcap(in_b, from_b);
  const CommandResult run =
      RunFaultline({"replay", "--in", in_a, "--out", out_b, "--in-b", in_b, "--out-b", out_a,
                    "--delay", "1.5ms", "--stats-json", stats});
  ASSERT_EQ(run.status, 0) << run.output;
  for (const auto& [input, output_path] : {std::pair{&from_a, out_b}, std::pair{&from_b, out_a}}) {
    const std::vector<Frame> output = ReadPcap(output_path);
    ASSERT_EQ(output.size(), input->size());
    for (size_t i = 0; i < output.size(); ++i) {
      ASSERT_EQ(output[i].timestamp_ns, (*input)[i].timestamp_ns + 1'500'000);
      ASSERT_EQ(output[i].bytes, (*input)[i].bytes);
    }
  }
  const std::string document = ReadFileBytes(stats);
  EXPECT_NE(document.find("\"rx\": 3000"), std::string::npos) << document;
  EXPECT_NE(document.find("\"tx\": 2000"), std::string::npos) << document;
}

TEST_F(ReplayGoldenTest, ZeroDelayKeepsTimestamps) {
  const std::string in = Path("in0.pcap"), out = Path("out0.pcap");
  const std::vector<Frame> input = MakeFrames(1000, 5, 1000, 4);
  WritePcap(in, input);
  ASSERT_EQ(RunFaultline({"replay", "--in", in, "--out", out}).status, 0);
  const std::vector<Frame> output = ReadPcap(out);
  ASSERT_EQ(output.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i)
    EXPECT_EQ(output[i].timestamp_ns, input[i].timestamp_ns);
}

TEST_F(ReplayGoldenTest, HoldLimitDropsAreCountedNotSilent) {
  const std::string in = Path("in_hold.pcap"), out = Path("out_hold.pcap"), stats = Path("h.json");
  // All 500 frames arrive within 1 ms and are held 1 s: with --hold 100, 400 must be dropped.
  WritePcap(in, MakeFrames(500, 0, 2000, 5));
  const CommandResult run = RunFaultline({"replay", "--in", in, "--out", out, "--delay", "1s",
                                          "--hold", "100", "--stats-json", stats});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(ReadPcap(out).size(), 100u);
  EXPECT_NE(ReadFileBytes(stats).find("\"buffer_exhausted\": 400"), std::string::npos);
  EXPECT_NE(run.output.find("400 frame(s) dropped"), std::string::npos) << run.output;
}

TEST_F(ReplayGoldenTest, BadInputIsRejectedWithExitStatusTwo) {
  const std::string in = Path("in_bad.pcap"), out = Path("out_bad.pcap");
  WritePcap(in, MakeFrames(10, 0, 10, 6));
  const CommandResult bare = RunFaultline({"replay", "--in", in, "--out", out, "--delay", "5"});
  EXPECT_EQ(bare.status, 2);
  EXPECT_NE(bare.output.find("needs a unit"), std::string::npos) << bare.output;
  const CommandResult missing = RunFaultline({"replay", "--in", in + ".missing", "--out", out});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.output.find(".missing"), std::string::npos) << missing.output;
  const CommandResult half = RunFaultline({"replay", "--in", in, "--out", out, "--in-b", in});
  EXPECT_EQ(half.status, 2) << half.output;
}

// Capture times from 2038 on (2^31 s and later): pcap seconds are unsigned 32-bit. They once
// came out negative, so every later frame was `clock_backwards` and the span ~1.8e19 ns.
TEST_F(ReplayGoldenTest, TimestampsFrom2038AreReplayedAsTheyAre) {
  const std::string in = Path("in2038.pcap"), out = Path("out2038.pcap"), stats = Path("s.json");
  const uint64_t start = (uint64_t{1} << 31) * 1'000'000'000 - 500'000;  // 0.5 ms before 2^31 s
  const std::vector<Frame> input = MakeFrames(1000, start, 2000, 7);
  WritePcap(in, input);
  const CommandResult run =
      RunFaultline({"replay", "--in", in, "--out", out, "--delay", "1ms", "--stats-json", stats});
  ASSERT_EQ(run.status, 0) << run.output;
  const std::vector<Frame> output = ReadPcap(out);
  ASSERT_EQ(output.size(), input.size());
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_EQ(output[i].timestamp_ns, input[i].timestamp_ns + 1'000'000) << "frame " << i;
  }
  const std::string document = ReadFileBytes(stats);
  EXPECT_NE(document.find("\"clock_backwards\": 0"), std::string::npos) << document;
  EXPECT_NE(document.find("\"elapsed_ns\": " +
                          std::to_string(input.back().timestamp_ns - input.front().timestamp_ns)),
            std::string::npos)
      << document;
}

// A capture cut short (its writer killed mid-record) is replayed as far as it goes: every whole
// record is delivered, frames still in flight too, the statistics are written, and the run says
// the file is truncated and exits 2. A file cut inside its header replays nothing, also exit 2.
TEST_F(ReplayGoldenTest, ATruncatedCaptureIsReplayedAsFarAsItGoesAndExitsTwo) {
  const std::string in = Path("cut.pcap"), out = Path("out_cut.pcap"), stats = Path("cut.json");
  std::vector<Frame> input = MakeFrames(100, 1'000'000'000, 1000, 8);
  WritePcap(in, input);
  std::filesystem::resize_file(in, std::filesystem::file_size(in) - 5);  // into the last record
  const CommandResult run =
      RunFaultline({"replay", "--in", in, "--out", out, "--delay", "1s", "--stats-json", stats});
  EXPECT_EQ(run.status, 2) << run.output;
  EXPECT_NE(run.output.find(in + ": truncated: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("the 99 record(s) before it were replayed"), std::string::npos)
      << run.output;
  const std::vector<Frame> output = ReadPcap(out);
  ASSERT_EQ(output.size(), 99u) << "all held a second, so all were in flight at the cut";
  for (size_t i = 0; i < output.size(); ++i) {
    EXPECT_EQ(output[i].timestamp_ns, input[i].timestamp_ns + 1'000'000'000);
    EXPECT_EQ(output[i].bytes, input[i].bytes);
  }
  EXPECT_NE(ReadFileBytes(stats).find("\"rx\": 99"), std::string::npos) << ReadFileBytes(stats);

  std::filesystem::resize_file(in, 20);
  const CommandResult header = RunFaultline({"replay", "--in", in, "--out", out});
  EXPECT_EQ(header.status, 2) << header.output;
  EXPECT_NE(header.output.find("truncated"), std::string::npos) << header.output;
}

// An output that is the same file as an input (by device and inode, whatever the name) would
// destroy it before it is read: refused with exit 2, the input untouched. Two outputs in one
// file likewise; character devices (/dev/null) may take several.
TEST_F(ReplayGoldenTest, AnOutputThatIsAnInputOrAnotherOutputIsRefused) {
  const std::string in = Path("same.pcap"), in_b = Path("same_b.pcap"), link = Path("link.pcap");
  WritePcap(in, MakeFrames(50, 1'000'000'000, 1000, 9));
  WritePcap(in_b, MakeFrames(50, 1'000'000'000, 1000, 10));
  const std::string before = ReadFileBytes(in);
  std::filesystem::create_hard_link(in, link);
  const std::string dotted = std::filesystem::path(in).parent_path().string() + "/./" +
                             std::filesystem::path(in).filename().string();
  for (const std::string& out : {in, dotted, link}) {
    const CommandResult run = RunFaultline({"replay", "--in", in, "--out", out});
    EXPECT_EQ(run.status, 2) << out << ": " << run.output;
    EXPECT_NE(run.output.find("is the same file as --in"), std::string::npos) << run.output;
  }
  const CommandResult stats_over_input =
      RunFaultline({"replay", "--in", in, "--out", Path("o.pcap"), "--stats-json", in});
  EXPECT_EQ(stats_over_input.status, 2) << stats_over_input.output;
  const CommandResult reverse_over_input = RunFaultline(
      {"replay", "--in", in, "--out", Path("o.pcap"), "--in-b", in_b, "--out-b", in_b});
  EXPECT_EQ(reverse_over_input.status, 2) << reverse_over_input.output;
  EXPECT_EQ(ReadFileBytes(in), before) << "the input was changed";
  const CommandResult two_in_one = RunFaultline(
      {"replay", "--in", in, "--out", Path("x.pcap"), "--in-b", in_b, "--out-b", Path("x.pcap")});
  EXPECT_EQ(two_in_one.status, 2) << two_in_one.output;
  EXPECT_NE(two_in_one.output.find("two outputs would overwrite each other"), std::string::npos)
      << two_in_one.output;
  const CommandResult discarded = RunFaultline(
      {"replay", "--in", in, "--out", "/dev/null", "--in-b", in_b, "--out-b", "/dev/null"});
  EXPECT_EQ(discarded.status, 0) << discarded.output;
}

// Every output is checked before the first frame: a statistics file in a directory that does
// not exist, an output that is a directory, are refused at once with exit 2, and nothing is
// written (they were found only at the end of the run).
TEST_F(ReplayGoldenTest, UnwritableOutputsAreRefusedBeforeTheFirstFrame) {
  const std::string in = Path("ok.pcap"), out = Path("ok_out.pcap");
  WritePcap(in, MakeFrames(50, 1'000'000'000, 1000, 11));
  const CommandResult stats =
      RunFaultline({"replay", "--in", in, "--out", out, "--stats-json", "/nonexistent/dir/s.json"});
  EXPECT_EQ(stats.status, 2) << stats.output;
  EXPECT_NE(stats.output.find("--stats-json /nonexistent/dir/s.json: cannot write there: no such "
                              "directory /nonexistent/dir"),
            std::string::npos)
      << stats.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << "an output was written before the check";
  const CommandResult directory =
      RunFaultline({"replay", "--in", in, "--out", std::filesystem::path(in).parent_path()});
  EXPECT_EQ(directory.status, 2) << directory.output;
  EXPECT_NE(directory.output.find("is a directory"), std::string::npos) << directory.output;
  const CommandResult reverse =
      RunFaultline({"replay", "--in", in, "--out", out, "--in-b", in, "--out-b", "/nonexistent/b"});
  EXPECT_EQ(reverse.status, 2) << reverse.output;
}

// A successful replay prints one line: frames in and out, drops by cause, copies, virtual time.
TEST_F(ReplayGoldenTest, PrintsAOneLineSummary) {
  const std::string in = Path("sum.pcap"), out = Path("sum_out.pcap");
  WritePcap(in, MakeFrames(500, 0, 2000, 5));
  const CommandResult run =
      RunFaultline({"replay", "--in", in, "--out", out, "--delay", "1s", "--hold", "100"});
  ASSERT_EQ(run.status, 0) << run.output;
  const std::vector<Frame> input = ReadPcap(in);
  char expected[256];
  std::snprintf(expected, sizeof(expected),
                "faultline replay: 500 frame(s) in, 100 out, 400 dropped (buffer_exhausted 400), "
                "0 duplicated, %.6f s of virtual time\n",
                static_cast<double>(input.back().timestamp_ns - input.front().timestamp_ns) / 1e9);
  EXPECT_NE(run.output.find(expected), std::string::npos) << run.output;
}

// Frames of no bytes (a capture may hold them) are duplicated like any other frame.
TEST_F(ReplayGoldenTest, ZeroLengthFramesAreDuplicated) {
  const std::string in = Path("empty.pcap"), out = Path("empty_out.pcap");
  const std::string profile = Path("dup.yaml"), stats = Path("dup.json");
  std::vector<Frame> input = MakeFrames(10, 1'000'000'000, 1000, 12);
  for (size_t i = 0; i < input.size(); i += 3) input[i].bytes.clear();
  WritePcap(in, input);
  std::ofstream(profile) << "version: 1\nimpairments:\n  twice: {duplicate: {probability: 100%}}\n"
                            "rules:\n  - {name: all, match: {}, impairment: twice}\n";
  const CommandResult run = RunFaultline({"replay", "--in", in, "--out", out, "--profile", profile,
                                          "--seed", "1", "--stats-json", stats});
  ASSERT_EQ(run.status, 0) << run.output;
  const std::vector<Frame> output = ReadPcap(out);
  ASSERT_EQ(output.size(), 20u);
  for (size_t i = 0; i < output.size(); ++i) EXPECT_EQ(output[i].bytes, input[i / 2].bytes) << i;
  EXPECT_NE(ReadFileBytes(stats).find("\"buffer_exhausted\": 0"), std::string::npos);
}

// Raw IP and Linux cooked captures are replayed as Ethernet (pcap_io.h): a rule on addresses and
// ports matches their frames (they were all `unmatched` before), and the output is Ethernet.
TEST_F(ReplayGoldenTest, RawIpCapturesAreReplayedAsEthernet) {
  const std::string in = Path("raw.pcap"), out = Path("raw_out.pcap");
  const std::string profile = Path("ports.yaml"), stats = Path("raw.json");
  testing::UdpStreamOptions options;
  options.count = 200;
  std::vector<Frame> ethernet = testing::MakeUdpFrames(options), raw = ethernet;
  for (Frame& frame : raw) frame.bytes.erase(frame.bytes.begin(), frame.bytes.begin() + 14);
  WritePcap(in, raw, DLT_RAW);
  std::ofstream(profile) << "version: 1\nimpairments:\n  slow: {delay: {base: 1ms}}\nrules:\n"
                            "  - {name: udp, match: {proto: udp, dst-port: 5000}, impairment: "
                            "slow}\n";
  const CommandResult run = RunFaultline({"replay", "--in", in, "--out", out, "--profile", profile,
                                          "--seed", "1", "--stats-json", stats});
  ASSERT_EQ(run.status, 0) << run.output;
  const std::string document = ReadFileBytes(stats);
  EXPECT_NE(document.find("\"unmatched\": 0"), std::string::npos) << document;
  EXPECT_NE(document.find("\"matched\": 200"), std::string::npos) << document;
  PcapReader reader;
  std::string error;
  ASSERT_TRUE(reader.Open(out, &error)) << error;
  EXPECT_EQ(reader.link_type(), DLT_EN10MB);
  const std::vector<Frame> output = ReadPcap(out);
  ASSERT_EQ(output.size(), 200u);
  for (size_t i = 0; i < output.size(); ++i) {
    std::vector<uint8_t> expected = ethernet[i].bytes;
    std::fill(expected.begin(), expected.begin() + 12, 0);  // no MACs in a raw IP capture
    EXPECT_EQ(output[i].bytes, expected) << "frame " << i;
    EXPECT_EQ(output[i].timestamp_ns, ethernet[i].timestamp_ns + 1'000'000);
  }
  WritePcap(Path("wifi.pcap"), raw, DLT_IEEE802_11);
  const CommandResult wifi = RunFaultline({"replay", "--in", Path("wifi.pcap"), "--out", out});
  EXPECT_EQ(wifi.status, 2) << wifi.output;
  EXPECT_NE(wifi.output.find("is not supported"), std::string::npos) << wifi.output;
}

// The bounds of a profile's delay and seed hold for --delay and --seed too (213503d wrapped
// departure times); just under each bound runs.
TEST_F(ReplayGoldenTest, DelayAndSeedOptionsHaveTheProfilesBounds) {
  const std::string in = Path("in_bounds.pcap"), out = Path("out_bounds.pcap");
  WritePcap(in, MakeFrames(10, 0, 10, 6));
  for (const char* delay : {"86400000000001ns", "213503d"}) {
    const CommandResult over = RunFaultline({"replay", "--in", in, "--out", out, "--delay", delay});
    EXPECT_EQ(over.status, 2) << over.output;
    EXPECT_NE(over.output.find("--delay: '" + std::string(delay) + "' is above the limit of 1d"),
              std::string::npos)
        << over.output;
  }
  EXPECT_EQ(RunFaultline({"replay", "--in", in, "--out", out, "--delay", "1d"}).status, 0);
  const CommandResult seed =
      RunFaultline({"replay", "--in", in, "--out", out, "--seed", "9007199254740992"});
  EXPECT_EQ(seed.status, 2) << seed.output;
  EXPECT_NE(seed.output.find("9007199254740991"), std::string::npos) << seed.output;
  EXPECT_EQ(RunFaultline({"replay", "--in", in, "--out", out, "--seed", "9007199254740991"}).status,
            0);
}

}  // namespace
}  // namespace faultline
