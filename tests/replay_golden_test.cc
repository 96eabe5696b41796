// Golden tests of `faultline replay`: the offline pipeline run as users run it, as a process.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "control/subprocess.h"
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
