// `faultline run --series` as a process on virtual ports: the file's lines parse, carry the
// apply and the trace step as events (the link-down with its band's end), `stats --series` and
// `stats --window` answer over the socket, and the status line is logged.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"
#include "tests/faultline_binary.h"

namespace faultline {
namespace {

using std::chrono::seconds;
using testing::FaultlineBinary;
using testing::kApplyTimeout;
using testing::RunFaultline;

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-series-" + std::to_string(getpid()) + "-" +
         name;
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    lines.push_back(nlohmann::json::parse(line));  // throws, failing the test, if not JSON
  }
  return lines;
}

bool HasType(const std::vector<nlohmann::json>& lines, const std::string& type) {
  for (const nlohmann::json& line : lines) {
    if (line["type"] == type) return true;
  }
  return false;
}

bool HasEvent(const std::vector<nlohmann::json>& lines, const std::string& kind) {
  for (const nlohmann::json& line : lines) {
    if (line["type"] == "event" && line["kind"] == kind) return true;
  }
  return false;
}

TEST(SeriesLiveTest, RunWritesTheSeriesWithApplyAndTraceEvents) {
  const std::string profile = TempPath("profile.yaml"), applied = TempPath("applied.yaml");
  const std::string trace = TempPath("trace.yaml"), series = TempPath("series.jsonl");
  const std::string socket = TempPath("control.sock");
  std::ofstream(profile) << "version: 1\nseed: 5\nimpairments:\n  d: {delay: {base: 100us}}\n"
                            "rules:\n  - {name: all, match: {}, impairment: d}\n";
  std::ofstream(applied) << "version: 1\nimpairments:\n  d: {delay: {base: 200us}}\n"
                            "rules:\n  - {name: all, match: {}, impairment: d}\n";
  std::ofstream(trace) << "version: 1\nname: blip\nevents:\n"
                          "  - at: 0s\n    link: {side: b, state: down, for: 100ms}\n";
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start({FaultlineBinary(),
                               "run",
                               "--control",
                               socket,
                               "--profile",
                               profile,
                               "--hold",
                               "20000",
                               "--idle-sleep",
                               "20us",
                               "--apply-timeout",
                               kApplyTimeout,
                               "--series",
                               series,
                               "--series-interval",
                               "100ms",
                               "--status-interval",
                               "300ms",
                               "--",
                               "--no-huge",
                               "--no-pci",
                               "--no-shconf",
                               "-m",
                               "512",
                               "-l",
                               "0",
                               "--vdev=net_null0",
                               "--vdev=net_null1"},
                              &error))
      << error;
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();

  CommandResult result = RunFaultline({"apply", applied, "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  result = RunFaultline({"trace", "start", trace, "--at", "+50ms", "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  // Until the link-down step's event is in the ring (30 s at most: only a stalled machine),
  std::vector<nlohmann::json> answer;
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  do {
    usleep(50'000);
    result = RunFaultline({"stats", "--series", "--control", socket});
    ASSERT_EQ(result.status, 0) << result.output;
    answer = JsonLines(result.output);
    // and an interval line is there too (on a fast machine the step can come before the first).
  } while (!(HasEvent(answer, "link") && HasType(answer, "interval")) &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_GE(answer.size(), 2u);
  EXPECT_EQ(answer.front()["type"], "header");
  EXPECT_EQ(answer.front()["source"], "run");
  EXPECT_EQ(answer.back()["type"], "histogram");
  EXPECT_TRUE(HasEvent(answer, "apply")) << result.output;
  EXPECT_TRUE(HasEvent(answer, "trace-start")) << result.output;
  // since_ns: only what came after the last line's time.
  uint64_t last_t = 0;
  for (const nlohmann::json& line : answer) {
    if (line["type"] == "interval") last_t = line["t_ns"];
  }
  ASSERT_NE(last_t, 0u);  // else --since 0 would mean the whole series, header included
  result =
      RunFaultline({"stats", "--series", "--since", std::to_string(last_t), "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  for (const nlohmann::json& line : JsonLines(result.output)) {
    if (line["type"] != "histogram") {
      EXPECT_GT(line["t_ns"].get<uint64_t>(), last_t) << line;
    }
  }

  // A window needs two samples of the series (one interval apart): on a fast machine the link
  // step can come before the second (30 s at most: only a stalled machine).
  nlohmann::json window;
  const auto window_deadline = std::chrono::steady_clock::now() + seconds(30);
  do {
    result = RunFaultline({"stats", "--window", "300ms", "--json", "--control", socket});
    ASSERT_EQ(result.status, 0) << result.output;
    window = nlohmann::json::parse(result.output)["window"];
    if (!window.is_object()) usleep(50'000);
  } while (!window.is_object() && std::chrono::steady_clock::now() < window_deadline);
  ASSERT_TRUE(window.is_object()) << result.output;
  EXPECT_GT(window["rules"]["all"]["residence_ns"]["count"].get<uint64_t>(), 0u) << window;
  // The applied 200 us delay is in the window (its first frames may still have had 100 us): its
  // p99 is 200 us within the histogram's resolution (half a bucket, <= 0.05%).
  EXPECT_GE(window["rules"]["all"]["residence_ns"]["p99"].get<uint64_t>(), 196'800u) << window;
  result = RunFaultline({"stats", "--window", "300ms", "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("whole run:"), std::string::npos) << result.output;

  // A status line comes every 300 ms.
  EXPECT_TRUE(dataplane.WaitForOutput("faultline: status:", seconds(20))) << dataplane.output();
  EXPECT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();

  std::ifstream file(series);
  std::stringstream text;
  text << file.rdbuf();
  const std::vector<nlohmann::json> lines = JsonLines(text.str());
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines.front()["type"], "header");
  EXPECT_EQ(lines.front()["interval_ns"], 100'000'000);
  EXPECT_EQ(lines.back()["type"], "histogram");
  bool link_band = false;
  uint64_t intervals = 0, previous_t = 0;
  for (const nlohmann::json& line : lines) {
    if (line["type"] == "interval") {
      ++intervals;
      EXPECT_GE(line["t_ns"].get<uint64_t>(), previous_t);
      previous_t = line["t_ns"];
    }
    if (line["type"] == "event" && line["kind"] == "link" && line.contains("until_ns")) {
      link_band = line["until_ns"].get<uint64_t>() == line["t_ns"].get<uint64_t>() + 100'000'000;
    }
  }
  EXPECT_GE(intervals, 2u);
  EXPECT_TRUE(link_band) << text.str();
  EXPECT_TRUE(HasEvent(lines, "apply"));
  for (const std::string& path : {profile, applied, trace, series}) std::remove(path.c_str());
}

}  // namespace
}  // namespace faultline
