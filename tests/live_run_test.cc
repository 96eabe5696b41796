// `faultline run` as a process: start-up errors, clean stop on SIGTERM, and real traffic
// between two network namespaces (ping and TCP) with the delay added.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "control/profile/profile_parser.h"
#include "control/testbed/subprocess.h"
#include "control/testbed/testbed.h"
#include "tests/faultline_binary.h"
#include "tests/live_stats.h"

namespace faultline {
namespace {

using testing::ControlSocket;
using testing::FaultlineBinary;
using testing::kApplyTimeout;
using testing::RunFaultline;
using testing::StatsWhen;

using std::chrono::seconds;

std::vector<std::string> RunArgv(const std::vector<std::string>& options,
                                 const std::vector<std::string>& eal) {
  std::vector<std::string> argv = {FaultlineBinary(), "run",        "--control", ControlSocket(),
                                   "--apply-timeout", kApplyTimeout};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), eal.begin(), eal.end());
  return argv;
}

const std::vector<std::string> kNullPorts = {
    "--no-huge", "--no-pci",         "--no-shconf",     "-m", "512", "-l",
    "0",         "--vdev=net_null0", "--vdev=net_null1"};

// Waits until side a has delivered `frames` frames to the pipeline.
void WaitForFrames(uint64_t frames) {
  StatsWhen([frames](const nlohmann::json& stats) {
    return stats["ports"][0]["rx"].get<uint64_t>() >= frames;
  });
}

TEST(LiveRunTest, StopsCleanlyOnSigtermWithFinalCounters) {
  for (int stop_signal : {SIGTERM, SIGINT}) {
    Subprocess dataplane;
    std::string error;
    ASSERT_TRUE(
        dataplane.Start(RunArgv({"--delay", "1ms", "--hold", "20000"}, kNullPorts), &error));
    ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20)))
        << dataplane.output();
    WaitForFrames(1000);
    EXPECT_EQ(dataplane.Stop(stop_signal, seconds(10)), 0) << dataplane.output();
    const std::string& output = dataplane.output();
    EXPECT_NE(output.find("faultline: stopped"), std::string::npos) << output;
    EXPECT_NE(output.find("port 1 (side b): rx "), std::string::npos) << output;
    EXPECT_EQ(output.find("port 0 (side a): rx 0 "), std::string::npos) << "nothing forwarded";
  }
}

TEST(LiveRunTest, DrainOnExitDeliversHeldFrames) {
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start(
      RunArgv({"--delay", "50ms", "--hold", "20000", "--on-exit", "drain"}, kNullPorts), &error));
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();
  WaitForFrames(10'000);
  EXPECT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0);
  // net_null always has frames, so thousands are held at stop; drain delivers every one.
  EXPECT_NE(dataplane.output().find(" shutdown 0 "), std::string::npos) << dataplane.output();
}

std::string WriteTempFile(const std::string& name, const std::string& text) {
  const std::string path = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/faultline-live-" + std::to_string(getpid()) + "-" + name;
  std::ofstream(path) << text;
  return path;
}

// Starts `faultline run --profile PROFILE --stats-json STATS` on net_null ports and waits until it
// forwards.
void StartProfileRun(Subprocess& dataplane, const std::string& profile, const std::string& stats) {
  std::string error;
  ASSERT_TRUE(dataplane.Start(
      RunArgv({"--profile", profile, "--hold", "20000", "--stats-json", stats}, kNullPorts),
      &error))
      << error;
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();
}

TEST(LiveRunTest, ProfileImpairsEveryFrameAndCountsPerRule) {
  const std::string profile = WriteTempFile("half-loss.yaml", R"(version: 1
seed: 9
impairments:
  half:
    loss: {model: bernoulli, probability: 50%}
    delay: {base: 1ms}
rules:
  - name: all
    match: {}
    impairment: half
)");
  const std::string stats = WriteTempFile("stats.json", "");
  Subprocess dataplane;
  ASSERT_NO_FATAL_FAILURE(StartProfileRun(dataplane, profile, stats));
  EXPECT_NE(dataplane.output().find("seed 9"), std::string::npos) << dataplane.output();
  WaitForFrames(20'000);
  ASSERT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();
  const nlohmann::json document = nlohmann::json::parse(std::ifstream(stats));
  ASSERT_EQ(document["rules"].size(), 1u);
  const nlohmann::json& rule = document["rules"][0];
  const double matched = rule["matched"].get<double>();
  ASSERT_GT(matched, 10000) << rule.dump();
  EXPECT_EQ(document["unmatched"], 0);
  // Bernoulli(0.5) losses over n frames: mean n/2, sigma sqrt(n)/2; 5 sigma never fails by chance.
  const double lost = rule["dropped"]["loss"].get<double>();
  EXPECT_LT(std::abs(lost - matched / 2), 5 * std::sqrt(matched) / 2) << rule.dump();
  // Every matched frame is forwarded, dropped by its rule, or freed at shutdown.
  EXPECT_EQ(rule["matched"].get<uint64_t>(), rule["forwarded"].get<uint64_t>() +
                                                 rule["dropped"]["total"].get<uint64_t>() +
                                                 document["dropped"]["shutdown"].get<uint64_t>());
  EXPECT_GE(rule["delay_ns"]["p50"].get<uint64_t>(), 1'000'000u);
  unlink(profile.c_str());
  unlink(stats.c_str());
}

// Without EAL arguments (no hugepages on a test machine, no ports) `run` says what is missing and
// prints command lines that work without either; the net_null one, run as printed, forwards.
TEST(LiveRunTest, FailedStartSaysWhatIsMissingAndPrintsALineThatWorks) {
  const CommandResult failed =
      RunFaultline({"run", "--delay", "1ms", "--hold", "20000", "--control", ControlSocket()});
  EXPECT_EQ(failed.status, 2) << failed.output;
  EXPECT_NE(failed.output.find("no ports: no --vdev or -a in the EAL arguments"), std::string::npos)
      << failed.output;
  const std::string marker = "or, to try it with no interface at all";
  const size_t at = failed.output.find(marker);
  ASSERT_NE(at, std::string::npos) << failed.output;
  const size_t line_start = failed.output.find('\n', at) + 1;
  std::istringstream line(
      failed.output.substr(line_start, failed.output.find('\n', line_start) - line_start));
  std::vector<std::string> argv;
  for (std::string word; line >> word;) argv.push_back(word);
  ASSERT_GE(argv.size(), 2u) << failed.output;
  EXPECT_EQ(argv[0], FaultlineBinary());
  const std::string printed = failed.output.substr(line_start, 200);
  for (const char* part : {"--no-huge", "--no-pci", "--vdev=net_null0 --vdev=net_null1",
                           "--delay 1ms --hold 20000 --control"}) {
    EXPECT_NE(printed.find(part), std::string::npos) << part << " in " << printed;
  }
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start(argv, &error)) << error;
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();
  EXPECT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();
}

TEST(LiveRunTest, InvalidProfileIsExitStatusTwoWithItsLine) {
  const std::string profile =
      WriteTempFile("bad.yaml", "version: 1\nimpairments:\n  x:\n    delay: {base: 10}\n");
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start(RunArgv({"--profile", profile}, kNullPorts), &error));
  EXPECT_EQ(dataplane.Wait(seconds(20)), 2);
  EXPECT_NE(dataplane.output().find(profile + ":4:"), std::string::npos) << dataplane.output();
  EXPECT_NE(dataplane.output().find("needs a unit"), std::string::npos) << dataplane.output();
  unlink(profile.c_str());
}

TEST(LiveRunTest, BadStartIsExitStatusTwo) {
  Subprocess one_port;
  std::string error;
  ASSERT_TRUE(one_port.Start(RunArgv({}, {"--no-huge", "--no-pci", "--no-shconf", "-m", "128", "-l",
                                          "0", "--vdev=net_null0"}),
                             &error));
  EXPECT_EQ(one_port.Wait(seconds(20)), 2);
  EXPECT_NE(one_port.output().find("need an even number of ports"), std::string::npos);

  // The mbuf pool's handler is the user's to choose; one this DPDK does not have is a bad
  // argument, said as such (not as a lack of memory).
  std::vector<std::string> unknown_handler = kNullPorts;
  unknown_handler.insert(unknown_handler.begin(), {"--mbuf-pool-ops-name", "no_such_handler"});
  Subprocess bad_handler;
  ASSERT_TRUE(bad_handler.Start(RunArgv({}, unknown_handler), &error));
  EXPECT_EQ(bad_handler.Wait(seconds(20)), 2);
  EXPECT_NE(bad_handler.output().find("no mempool handler called 'no_such_handler' (EAL "
                                      "--mbuf-pool-ops-name); this DPDK has: "),
            std::string::npos)
      << bad_handler.output();
  EXPECT_NE(bad_handler.output().find("stack"), std::string::npos) << bad_handler.output();

  Subprocess bare_number;
  ASSERT_TRUE(bare_number.Start(RunArgv({"--delay", "10"}, kNullPorts), &error));
  EXPECT_EQ(bare_number.Wait(seconds(20)), 2);
  EXPECT_NE(bare_number.output().find("needs a unit"), std::string::npos) << bare_number.output();
}

// The statistics file is checked before anything starts: a path that cannot be written is exit
// 2 at once, not found when the run ends (and its hour of statistics lost); one that is the
// profile file likewise (it would be overwritten).
TEST(LiveRunTest, OutputPathsAreCheckedBeforeForwarding) {
  const std::string profile = WriteTempFile("checked.yaml", "version: 1\n");
  for (const std::vector<std::string>& options :
       {std::vector<std::string>{"--delay", "1ms", "--stats-json", "/nonexistent/dir/s.json"},
        std::vector<std::string>{"--profile", profile, "--stats-json", profile}}) {
    Subprocess dataplane;
    std::string error;
    ASSERT_TRUE(dataplane.Start(RunArgv(options, kNullPorts), &error)) << error;
    // A run that started would forward until stopped: 20 s only tells a stall from a refusal.
    EXPECT_EQ(dataplane.Wait(seconds(20)), 2) << dataplane.output();
    EXPECT_EQ(dataplane.output().find("faultline: forwarding"), std::string::npos)
        << dataplane.output();
    EXPECT_NE(dataplane.output().find("--stats-json"), std::string::npos) << dataplane.output();
  }
  std::string line;
  std::getline(std::ifstream(profile), line);
  EXPECT_EQ(line, "version: 1") << "the profile was overwritten";
  unlink(profile.c_str());
}

// The control socket of a running dataplane: apply and heal through the command line, what is
// refused (and changes nothing), a second run on the same socket, and the socket's removal.
TEST(LiveControlTest, HealAndApplyChangeARunningDataplane) {
  const std::string base = R"(version: 1
seed: 3
impairments:
  slow:
    delay: {base: 1ms}
rules:
  - name: all
    match: {}
    impairment: slow
)";
  const std::string profile = WriteTempFile("control.yaml", base);
  const std::string stats = WriteTempFile("control-stats.json", "");
  const std::string socket = ControlSocket();
  Subprocess dataplane;
  ASSERT_NO_FATAL_FAILURE(StartProfileRun(dataplane, profile, stats));
  EXPECT_NE(dataplane.output().find("faultline: control socket " + socket), std::string::npos);

  std::vector<std::string> second = RunArgv({}, kNullPorts);
  second.erase(second.begin());
  CommandResult result = RunFaultline(second);
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("another faultline run is listening on " + socket),
            std::string::npos)
      << result.output;

  result = RunFaultline({"heal", "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("partitions healed"), std::string::npos) << result.output;

  const std::string invalid =
      WriteTempFile("invalid.yaml", "version: 1\nimpairments:\n  x:\n    delay: {base: 10}\n");
  result = RunFaultline({"apply", invalid, "--control", socket});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find(invalid + ":4:"), std::string::npos) << result.output;

  // Rules and impairments change live too (their counters follow the rule's name).
  std::string other_rules = base;
  other_rules.replace(other_rules.find("1ms"), 3, "2ms");
  const std::string changed = WriteTempFile("changed.yaml", other_rules);
  result = RunFaultline({"apply", changed, "--control", socket});
  EXPECT_EQ(result.status, 0) << "rules and impairments change live: " << result.output;
  EXPECT_NE(result.output.find("applied"), std::string::npos) << result.output;

  // What a running dataplane cannot switch to is refused as such, and changes nothing.
  std::string unbounded = base;
  unbounded.replace(unbounded.find("1ms"), 3,
                    "1ms}\n    reorder: {probability: 1%, max-displacement: 20");
  const std::string too_far = WriteTempFile("too_far.yaml", unbounded);
  result = RunFaultline({"apply", too_far, "--control", socket});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("max-displacement up to 14"), std::string::npos) << result.output;

  const std::string grouped = WriteTempFile("grouped.yaml", base + "groups:\n  near: [10.0.0.1]\n");
  result = RunFaultline({"apply", grouped, "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("1 group(s)"), std::string::npos) << result.output;

  result = RunFaultline({"heal", "--impairments", "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("impairments healed"), std::string::npos) << result.output;
  StatsWhen([](const nlohmann::json& stats) { return stats["unmatched"].get<uint64_t>() > 0; });
  ASSERT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();
  const nlohmann::json document = nlohmann::json::parse(std::ifstream(stats));
  EXPECT_GT(document["rules"][0]["matched"].get<uint64_t>(), 0u) << "before the heal";
  EXPECT_GT(document["unmatched"].get<uint64_t>(), 0u) << "after it: no rule matches";

  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "the socket is removed at stop";
  result = RunFaultline({"heal", "--control", socket});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("no faultline run is listening on " + socket), std::string::npos)
      << result.output;
  for (const std::string& file : {profile, stats, invalid, changed, grouped}) unlink(file.c_str());
}

// `faultline stats` and `faultline trace` against a running daemon: the ports count, a trace
// that takes side b down for 300 ms drops frames as `link-down`, finishes, and traffic resumes;
// the Prometheus format.
TEST(LiveControlTest, StatsAndTraceThroughTheCommandLine) {
  const std::string profile = WriteTempFile("trace-base.yaml", R"(version: 1
seed: 4
impairments:
  brief:
    delay: {base: 10us}
rules:
  - name: all
    match: {}
    impairment: brief
)");
  const std::string trace = WriteTempFile("link.yaml", R"(version: 1
name: link-b-down
events:
  - at: 0s
    link: {side: b, state: down, for: 300ms}
)");
  const std::string socket = ControlSocket();
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start(
      RunArgv({"--profile", profile, "--hold", "20000", "--idle-sleep", "20us"}, kNullPorts),
      &error))
      << error;
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();

  auto stats = [] { return StatsWhen([](const nlohmann::json&) { return true; }); };
  const nlohmann::json first = StatsWhen(
      [](const nlohmann::json& stats) { return stats["ports"][0]["rx"].get<uint64_t>() > 0; });
  const uint64_t first_rx = first["ports"][0]["rx"].get<uint64_t>();
  // The daemon forwards while it answers.
  const nlohmann::json second = StatsWhen([first_rx](const nlohmann::json& stats) {
    return stats["ports"][0]["rx"].get<uint64_t>() > first_rx;
  });
  EXPECT_EQ(second["dropped"]["link-down"], 0);
  EXPECT_TRUE(second["trace"].is_null());

  CommandResult result =
      RunFaultline({"trace", "start", trace, "--at", "+200ms", "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("link-b-down starts at"), std::string::npos) << result.output;
  // Time zero at 200 ms, up again at 500 ms: asked until it is over (30 s at most, a bound only a
  // stall reaches).
  nlohmann::json status;
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  do {
    usleep(50'000);
    result = RunFaultline({"trace", "status", "--json", "--control", socket});
    ASSERT_EQ(result.status, 0) << result.output;
    status = nlohmann::json::parse(result.output, nullptr, false);
    ASSERT_TRUE(status.is_object()) << result.output;
  } while (status["state"] == "running" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(status["state"], "finished") << result.output;
  EXPECT_EQ(status["steps_applied"], 2) << "down, then the implied up: " << result.output;
  for (const nlohmann::json& step : status["events"]) {
    EXPECT_TRUE(step["lateness_ns"].is_number()) << step;
  }

  const nlohmann::json after = stats();
  EXPECT_GT(after["dropped"]["link-down"].get<uint64_t>(), 0u) << after["dropped"];
  EXPECT_EQ(after["trace"]["state"], "finished");
  // Traffic resumes once the link is up.
  const uint64_t after_tx = after["ports"][1]["tx"].get<uint64_t>();
  const nlohmann::json resumed = StatsWhen([after_tx](const nlohmann::json& stats) {
    return stats["ports"][1]["tx"].get<uint64_t>() > after_tx;
  });
  EXPECT_EQ(resumed["dropped"]["link-down"], after["dropped"]["link-down"]) << "the link is up";

  result = RunFaultline({"stats", "--prometheus", "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("faultline_port_rx_frames_total{port=\"0\",side=\"a\"} "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("faultline_dropped_frames_total{cause=\"link-down\"} "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("faultline_trace_steps_applied_total{trace=\"link-b-down\"} 2"),
            std::string::npos)
      << result.output;

  // --watch: every report after the first says what its interval did.
  result = RunFaultline({"stats", "--watch", "100ms", "--count", "3", "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  size_t headers = 0, intervals = 0;
  for (size_t at = result.output.find("\n--- "); at != std::string::npos;
       at = result.output.find("\n--- ", at + 1)) {
    ++headers;
  }
  for (size_t at = result.output.find("\ninterval "); at != std::string::npos;
       at = result.output.find("\ninterval ", at + 1)) {
    ++intervals;
  }
  EXPECT_EQ(headers + (result.output.rfind("--- ", 0) == 0), 3u) << result.output;
  EXPECT_EQ(intervals, 2u) << result.output;
  EXPECT_NE(result.output.find(": port 0 rx +"), std::string::npos) << result.output;
  result =
      RunFaultline({"stats", "--watch", "100ms", "--count", "2", "--json", "--control", socket});
  const size_t newline = result.output.find('\n');
  const nlohmann::json first_report =
      nlohmann::json::parse(result.output.substr(0, newline), nullptr, false);
  const nlohmann::json second_report =
      nlohmann::json::parse(result.output.substr(newline + 1), nullptr, false);
  ASSERT_TRUE(first_report.is_object() && second_report.is_object()) << result.output;
  EXPECT_FALSE(first_report.contains("interval"));
  // (How many frames came in that interval depends on the machine's load: not asserted.)
  EXPECT_EQ(second_report["interval"]["ports"][0]["rx"].get<uint64_t>(),
            second_report["ports"][0]["rx"].get<uint64_t>() -
                first_report["ports"][0]["rx"].get<uint64_t>())
      << second_report;
  EXPECT_EQ(
      second_report["interval"]["elapsed_ns"].get<uint64_t>(),
      second_report["elapsed_ns"].get<uint64_t>() - first_report["elapsed_ns"].get<uint64_t>());

  // --reset: what was counted, then counting from 0.
  result = RunFaultline({"stats", "--reset", "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("faultline stats: counters and delay histograms reset at "),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("link-down "), std::string::npos) << "the trace's drops were "
                                                                    "counted: "
                                                                 << result.output;
  const nlohmann::json reset = stats();
  EXPECT_EQ(reset["resets"], 1);
  EXPECT_EQ(reset["dropped"]["link-down"], 0);
  EXPECT_EQ(RunFaultline({"stats", "--reset", "--watch", "1s", "--control", socket}).status, 2);

  EXPECT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();
  EXPECT_NE(dataplane.output().find("faultline: stopped"), std::string::npos) << dataplane.output();
  unlink(profile.c_str());
  unlink(trace.c_str());
}

// `faultline show` prints the profile in force as a profile file (applied again as it is) with
// where it came from and the trace and its next step as comments; `--json` the same as data.
// `faultline trace stop` says what is in force after it: the trace's base profile.
TEST(LiveControlTest, ShowAndTraceStopThroughTheCommandLine) {
  const std::string profile = WriteTempFile("show-base.yaml", R"(version: 1
seed: 4
groups:
  near: [10.0.0.1]
impairments:
  brief:
    delay: {base: 10us, jitter: 5us, distribution: normal}
rules:
  - name: all
    match: {}
    impairment: brief
)");
  const std::string trace = WriteTempFile("show-link.yaml", R"(version: 1
name: link-b-until-stopped
events:
  - at: 0s
    link: {side: b, state: down}
  - at: 1h
    heal: all
)");
  const std::string socket = ControlSocket();
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start(
      RunArgv({"--profile", profile, "--seed", "11", "--hold", "20000", "--idle-sleep", "20us"},
              kNullPorts),
      &error))
      << error;
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();

  CommandResult shown = RunFaultline({"show", "--control", socket});
  ASSERT_EQ(shown.status, 0) << shown.output;
  EXPECT_EQ(shown.output.rfind("# faultline show: the profile in force on " + socket + "\n", 0), 0u)
      << shown.output;
  EXPECT_NE(shown.output.find("# source: " + profile + " (faultline run --profile, "),
            std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find("# seed 11; impairments active; link a up, link b up\n"),
            std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find("    delay: {base: 10us, jitter: 5us, distribution: normal}\n"),
            std::string::npos)
      << shown.output;
  const std::optional<ProfileSpec> parsed = ParseProfileText(shown.output, "shown", &error);
  ASSERT_TRUE(parsed) << error << "\n" << shown.output;
  EXPECT_EQ(parsed->seed, 11u) << "the running seed (--seed), not the file's";
  // What show prints can be applied as it is.
  const std::string again = WriteTempFile("shown.yaml", shown.output);
  CommandResult result = RunFaultline({"apply", again, "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;

  result = RunFaultline({"trace", "start", trace, "--at", "+100ms", "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  StatsWhen([](const nlohmann::json& stats) { return stats["dropped"]["link-down"] > 0; });
  result = RunFaultline({"show", "--json", "--control", socket});
  ASSERT_EQ(result.status, 0) << result.output;
  const nlohmann::json show = nlohmann::json::parse(result.output, nullptr, false);
  ASSERT_TRUE(show.is_object()) << result.output;
  EXPECT_EQ(show["source"], again);
  EXPECT_EQ(show["loaded_by"], "faultline apply");
  EXPECT_EQ(show["links"]["b"], "down");
  EXPECT_EQ(show["trace"]["name"], "link-b-until-stopped");
  EXPECT_EQ(show["trace"]["next"]["description"], "heal all") << show["trace"];
  EXPECT_EQ(show["profile"]["rules"][0]["impairment"], "brief");
  shown = RunFaultline({"show", "--control", socket});
  EXPECT_NE(shown.output.find("# trace link-b-until-stopped: running, time zero "),
            std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find("(1h from time zero): heal all\n"), std::string::npos)
      << shown.output;
  EXPECT_NE(shown.output.find("# link b is down (a trace's link event"), std::string::npos)
      << shown.output;

  result = RunFaultline({"trace", "stop", "--control", socket});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("faultline trace stop: the trace's base profile is in force "
                               "again: 1 group(s), 1 rule(s), 0 partition(s), impairments active"),
            std::string::npos)
      << result.output;
  const nlohmann::json stopped = StatsWhen([](const nlohmann::json&) { return true; });
  const uint64_t tx = stopped["ports"][1]["tx"];
  StatsWhen([tx](const nlohmann::json& stats) { return stats["ports"][1]["tx"] > tx; });

  EXPECT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();
  for (const std::string& file : {profile, trace, again}) unlink(file.c_str());
}

// The acceptance test of the foundation: two hosts that can only reach each other through
// faultline exchange ping and TCP, and the RTT grows by twice the one-way delay.
TEST(EndToEndTest, PingAndTcpCrossTheDataplaneWithTheDelayAdded) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
  std::string error;
  std::unique_ptr<Testbed> bed = Testbed::Create(&error);
  ASSERT_NE(bed, nullptr) << error;

  std::string log;
  EXPECT_FALSE(bed->Ping(bed->a(), bed->b(), 2, &log)) << "hosts reach each other without the "
                                                          "dataplane";
  const unsigned lcore = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
  Subprocess dataplane;
  ASSERT_TRUE(dataplane.Start(RunArgv({"--delay", "20ms", "--hold", "65536"}, bed->EalArgs(lcore)),
                              &error));
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();

  const auto rtt = bed->Ping(bed->a(), bed->b(), 10, &log);
  ASSERT_TRUE(rtt.has_value()) << log << dataplane.output();
  const auto mbps = bed->TcpMbps(bed->a(), bed->b(), 2, &log);
  std::printf("[ measured ] ping RTT min %.3f ms, average %.3f ms, max %.3f ms; TCP %.1f Mbit/s\n",
              rtt->min_ms, rtt->average_ms, rtt->max_ms, mbps.value_or(-1));
  // 2 x 20 ms of delay: no reply comes back sooner, within the accuracy of the dataplane's clock
  // (the TSC at DPDK's estimate of its rate, which on a virtual machine can be off by tenths of
  // a percent: 1% is allowed). How much later depends on the machine's load (a figure, above);
  // only a broken delay (20 s instead of 20 ms, or applied many times) or a stalled machine
  // keeps even the fastest of ten pings above a second.
  EXPECT_GE(rtt->min_ms, 40.0 * 0.99);
  EXPECT_LT(rtt->min_ms, 1000.0);
  ASSERT_TRUE(mbps.has_value()) << log;
  EXPECT_GT(*mbps, 0.0) << log;

  EXPECT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();
  EXPECT_NE(dataplane.output().find("faultline: stopped"), std::string::npos);
}

}  // namespace
}  // namespace faultline
