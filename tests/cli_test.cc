// The command line's messages for common mistakes, run as a process from the source root: a
// profile where a trace belongs and the reverse, a speed of 0, an apply timeout out of range, a
// missing input.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/faultline_binary.h"

namespace faultline {
namespace {

using testing::RunFaultline;

size_t Count(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

TEST(Cli, AProfileWhereATraceBelongsIsNamedAsSuch) {
  const CommandResult replay = RunFaultline(
      {"replay", "--in", "in.pcap", "--out", "out.pcap", "--trace", "profiles/flaky-link.yaml"});
  EXPECT_EQ(replay.status, 2) << replay.output;
  EXPECT_NE(replay.output.find("profiles/flaky-link.yaml:6:1: this is a profile (it has 'seed:' "
                               "and no 'events:'), not a trace"),
            std::string::npos)
      << replay.output;
  EXPECT_EQ(replay.output.find("unknown key"), std::string::npos) << replay.output;
}

TEST(Cli, ATraceWhereAProfileBelongsIsNamedAsSuch) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"apply", "profiles/leader-isolation.trace.yaml"},
        {"replay", "--in", "in.pcap", "--out", "out.pcap", "--profile",
         "profiles/leader-isolation.trace.yaml"}}) {
    const CommandResult result = RunFaultline(args);
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_NE(result.output.find("this is a trace (it has 'events:'), not a profile"),
              std::string::npos)
        << result.output;
  }
  const CommandResult topology = RunFaultline({"replay", "--in", "in.pcap", "--out", "out.pcap",
                                               "--profile", "profiles/topology-example.yaml"});
  EXPECT_NE(topology.output.find("this is a topology (it has 'racks:'), not a profile"),
            std::string::npos)
      << topology.output;
}

// validate --profile is for traces without a profile of their own: for one with, it says so.
TEST(Cli, ValidateSaysWhenItsProfileIsNotUsed) {
  const CommandResult result = RunFaultline({"validate", "--profile", "profiles/flaky-link.yaml",
                                             "profiles/leader-isolation.trace.yaml"});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("note: --profile profiles/flaky-link.yaml is not used for this "
                               "trace: it has its own profile"),
            std::string::npos)
      << result.output;
}

// CLI11's own range check printed the largest double, 309 digits.
TEST(Cli, SpeedZeroSaysWhatASpeedIs) {
  const CommandResult result = RunFaultline({"trace", "start", "t.yaml", "--speed", "0"});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("'0' is not a speed: give a number above 0"), std::string::npos)
      << result.output;
  EXPECT_LT(result.output.size(), 300u) << result.output;
  EXPECT_EQ(RunFaultline({"trace", "start", "t.yaml", "--speed", "-1"}).status, 2);
}

// --apply-timeout: at least 1ms (0 would fail every change), at most 5s (below the 10 s the
// `faultline apply` client waits for an answer). Refused before anything starts.
TEST(Cli, ApplyTimeoutOutsideItsRangeIsRefused) {
  for (const auto& [value, message] : std::vector<std::pair<std::string, std::string>>{
           {"0s", "'0s' is below the minimum of 1ms"},
           {"999us", "'999us' is below the minimum of 1ms"},
           {"6s", "'6s' is above the limit of 5s"},
           {"soon", "--apply-timeout"}}) {
    const CommandResult result =
        RunFaultline({"run", "--apply-timeout", value, "--", "--no-huge", "--vdev=net_null0"});
    EXPECT_EQ(result.status, 2) << value << ": " << result.output;
    EXPECT_NE(result.output.find(message), std::string::npos) << value << ": " << result.output;
    EXPECT_EQ(result.output.find("EAL"), std::string::npos) << "nothing started: " << result.output;
  }
}

TEST(Cli, AMissingInputIsNamedOnce) {
  const std::string missing = "/nonexistent-faultline-input";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"replay", "--in", missing + ".pcap", "--out", "/tmp/x.pcap"},
        {"validate", missing + ".yaml"},
        {"apply", missing + ".yaml"},
        {"replay", "--in", "in.pcap", "--out", "out.pcap", "--trace", missing + ".yaml"}}) {
    const CommandResult result = RunFaultline(args);
    EXPECT_EQ(result.status, 2) << result.output;
    EXPECT_EQ(Count(result.output, missing), 1u) << result.output;
  }
}

}  // namespace
}  // namespace faultline
