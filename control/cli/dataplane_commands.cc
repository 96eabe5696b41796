// `faultline run` and `faultline replay`: the dataplane live on DPDK ports, or offline on pcap
// files in virtual time.
#include <cstdio>
#include <optional>
#include <string>

#include "control/cli/subcommand.h"
#include "control/http/api_server.h"
#include "control/profile/profile_parser.h"
#include "control/server/control_server.h"
#include "control/server/run_with_control.h"
#include "control/testbed/subprocess.h"
#include "control/trace/trace_parser.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/runtime/live_run.h"
#include "dataplane/runtime/replay.h"

namespace faultline {
namespace {

// --apply-timeout's range. The top stays well below the 10 s `faultline apply` waits for an
// answer, so a late worker is reported as such and not as a dataplane that did not answer.
constexpr uint64_t kMinApplyTimeoutNs = 1'000'000;
constexpr uint64_t kMaxApplyTimeoutNs = 5'000'000'000;

// Parses --profile FILE into *profile; on error prints it (file:line:col) and returns false.
bool LoadProfile(const std::string& path, uint64_t delay_ns, const char* command,
                 std::optional<ProfileSpec>* profile) {
  if (path.empty()) return true;
  if (delay_ns != 0) {
    std::fprintf(stderr,
                 "faultline %s: --delay and --profile exclude each other (put the delay "
                 "in the profile)\n",
                 command);
    return false;
  }
  std::string error;
  *profile = ParseProfileFile(path, &error);
  if (!*profile) {
    std::fprintf(stderr, "faultline %s: %s\n", command, error.c_str());
    return false;
  }
  return true;
}

// A series interval of at least a millisecond (shorter ones would be mostly empty lines).
bool CheckSeriesInterval(const char* command, uint64_t interval_ns) {
  if (interval_ns >= 1'000'000) return true;
  std::fprintf(stderr, "faultline %s: --series-interval must be at least 1ms\n", command);
  return false;
}

class RunCommand : public Subcommand {
 public:
  RunCommand(CLI::App* parent, int argc, char** argv) : argc_(argc), argv_(argv) {
    app_ = parent->add_subcommand(
        "run",
        "Run the live dataplane on DPDK ports; EAL arguments follow `--`. Without hugepages or\n"
        "NICs, on two network interfaces IF_A and IF_B (a veth pair's ends, or two NICs' kernel\n"
        "interfaces):\n"
        "  faultline run --delay 5ms -- --no-huge --no-pci --no-shconf -m 1024 -l 0 \\\n"
        "    --vdev=net_af_packet0,iface=IF_A,framecnt=8192 "
        "--vdev=net_af_packet1,iface=IF_B,framecnt=8192\n"
        "or with --vdev=net_null0 --vdev=net_null1 to try it with no interface at all. With\n"
        "hugepages and two NICs bound to vfio-pci: faultline run --delay 5ms -- -l 1 -a PCI -a "
        "PCI");
    app_->add_option("--workers", run_.workers,
                     "Worker lcores, one rx/tx queue each per port "
                     "(default 1; needs as many lcores besides the main one, except 1 worker "
                     "which may share a single lcore)")
        ->check(CLI::Range(1, 64));
    AddDuration(app_, "--delay", &run_.delay_ns,
                "Constant delay added to every frame, e.g. 5ms (shortcut for a one-rule profile)",
                kMaxDelayNs);
    app_->add_option("--profile", profile_,
                     "Profile (YAML, docs/formats.md) of rules and impairments, e.g. "
                     "profiles/flaky-link.yaml")
        ->transform(InstalledFileLookup());
    app_->add_option_function<uint64_t>(
            "--seed", [this](uint64_t seed) { run_.seed = seed; },
            "Random seed of the impairment models (overrides the profile's `seed`), e.g. 42")
        ->check(CLI::Range(uint64_t{0}, kMaxSeed));
    app_->add_option("--hold", run_.hold,
                     "Frames held in flight at most; more are dropped and counted as "
                     "buffer_exhausted (default: --expected-rate x the longest delay, 64Ki..64Mi; "
                     "without it 2 x 14.88 Mpps x the longest delay, 64Ki..1Mi)");
    app_->add_option("--expected-rate", run_.expected_rate_pps,
                     "Frames per second arriving on all ports together, to size --hold from the "
                     "profile's longest delay, e.g. 1000000 (default: 10 GbE line rate both ways)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}));
    AddDuration(
        app_, "--idle-sleep", &run_.idle_sleep_ns,
        "Sleep this long when idle instead of busy polling (tests, shared cores), e.g. 50us");
    AddDuration(app_, "--apply-timeout", &run_.apply_timeout_ns,
                "How long apply and heal wait for every worker to take the change (default 1s, "
                "1ms to 5s; past it the answer says which worker did not, and the change stays "
                "queued)",
                kMaxApplyTimeoutNs, kMinApplyTimeoutNs);
    app_->add_option("--on-exit", on_exit_,
                     "At SIGINT/SIGTERM: drop (free held frames, counted "
                     "as shutdown) or drain (deliver them first, up to delay + 5s)")
        ->check(CLI::IsMember({"drop", "drain"}));
    app_->add_option("--stats-json", run_.stats_json, "Write the final statistics document here");
    app_->add_option("--record", run_.record,
                     "Write every frame's fate here (arrival, departure or drop cause, rule; "
                     "docs/formats.md), e.g. --record run.rec");
    app_->add_option("--control", control_,
                     "Control socket for apply, heal, stats and trace (created 0600; default " +
                         std::string(kDefaultControlSocket) + ")");
    app_->add_option("--control-group", control_group_,
                     "Make the control socket 0660 and owned by this group, so its members can "
                     "drive the dataplane without root, e.g. --control-group faultline");
    app_->add_option("--series", run_.series,
                     "Write the time series here (JSON lines, docs/formats.md \"Series\"), "
                     "flushed every interval");
    AddDuration(app_, "--series-interval", &run_.series_interval_ns,
                "Length of a series interval (default 1s; `stats --series` and --window use it)");
    AddDuration(app_, "--status-interval", &run_.status_interval_ns,
                "Log a status line this often (default 10s; 0s turns it off)");
    AddApiOptions();
    app_->add_option("eal-args", run_.eal_args, "EAL arguments (after --), e.g. -l 1 --vdev=...");
  }

  int Run() override {
    run_.drain_on_exit = on_exit_ == "drain";
    // The command as given, up to `--`, for the command lines a failed start suggests.
    run_.command = ShellWord(argv_[0]);
    for (int i = 1; i < argc_ && std::string(argv_[i]) != "--"; ++i) {
      run_.command += " " + ShellWord(argv_[i]);
    }
    if (!LoadProfile(profile_, run_.delay_ns, "run", &run_.profile)) return 2;
    if (!CheckSeriesInterval("run", run_.series_interval_ns)) return 2;
    ControlServerOptions socket;
    socket.socket_path = control_;
    socket.group = control_group_;
    run_.profile_path = profile_;
    std::vector<std::unique_ptr<ApiServer>> servers;
    if (!ListenApi(&servers)) return 2;
    std::vector<ControlFrontend*> frontends;
    for (const auto& server : servers) frontends.push_back(server.get());
    return RunWithControl(run_, socket, nullptr, frontends);
  }

 private:
  void AddApiOptions() {
    app_->add_option("--api", api_.address,
                     "Serve the control requests as HTTP/JSON on ADDR:PORT (docs/formats.md, "
                     "\"HTTP API\"), e.g. --api 127.0.0.1:8080; off by default");
    app_->add_option("--api-token-file", api_.token_file,
                     "Require Authorization: Bearer TOKEN, the token being this file's first "
                     "line (the file must be mode 0600 and yours)");
    app_->add_option("--api-cert", api_.cert_file, "TLS certificate (PEM) for --api and --metrics");
    app_->add_option("--api-key", api_.key_file, "TLS private key (PEM) of --api-cert");
    app_->add_option("--api-max-per-client", api_.max_per_client,
                     "Connections one client address may hold at once, serving or waiting "
                     "(default 2; 1 to 3, below the 4 serving threads); one more is refused "
                     "at once with 429");
    app_->add_option("--metrics", metrics_address_,
                     "Serve Prometheus metrics on ADDR:PORT/metrics (no token), e.g. --metrics "
                     "127.0.0.1:9464; the same address as --api: one server");
  }

  // Binds --api and --metrics (one server if they are the same address); false: printed why.
  bool ListenApi(std::vector<std::unique_ptr<ApiServer>>* servers) {
    std::vector<ApiServerOptions> wanted;
    // Port 0 (any free port) twice is two listeners.
    const bool shared = api_.address == metrics_address_ && !api_.address.ends_with(":0");
    if (!api_.address.empty()) {
      wanted.push_back(api_);
      wanted.back().metrics_open = shared;
    }
    if (!metrics_address_.empty() && !shared) {
      ApiServerOptions metrics = api_;
      metrics.address = metrics_address_;
      metrics.api = false;
      metrics.metrics_open = true;
      metrics.token_file.clear();
      wanted.push_back(metrics);
    }
    if (api_.address.empty() && (!api_.token_file.empty() || !api_.cert_file.empty())) {
      std::fprintf(stderr,
                   "faultline run: --api-token-file, --api-cert and --api-key need --api\n");
      return false;
    }
    for (const ApiServerOptions& options : wanted) {
      std::string error;
      servers->push_back(ApiServer::Listen(options, &error));
      if (!servers->back()) {
        std::fprintf(stderr, "faultline run: %s\n", error.c_str());
        return false;
      }
      std::printf("faultline: %s %s\n", options.api ? "HTTP API" : "metrics",
                  servers->back()->url().c_str());
    }
    return true;
  }

  int argc_;
  char** argv_;
  RunOptions run_;
  ApiServerOptions api_;
  std::string metrics_address_;
  std::string profile_;
  std::string on_exit_ = "drop";
  std::string control_ = kDefaultControlSocket;
  std::string control_group_;
};

class ReplayCommand : public Subcommand {
 public:
  explicit ReplayCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "replay",
        "Run the same pipeline offline in virtual time: input pcap timestamps drive the\n"
        "clock, output pcaps (nanosecond) carry departure times. Same inputs -> same bytes.\n"
        "Example: faultline replay --in a.pcap --out b.pcap --delay 5ms");
    app_->add_option("--in", replay_.in_a, "Frames arriving on side a")->required();
    app_->add_option("--out", replay_.out_b, "Frames leaving by side b")->required();
    auto* in_b = app_->add_option("--in-b", replay_.in_b, "Frames arriving on side b");
    auto* out_a = app_->add_option(
        "--out-b", replay_.out_a,
        "Frames leaving by side a (those of --in-b, and partitions' answers to side a; without "
        "it, answers are dropped and counted as no-output)");
    in_b->needs(out_a);
    AddDuration(app_, "--delay", &replay_.delay_ns, "Constant delay added to every frame",
                kMaxDelayNs);
    app_->add_option("--profile", profile_,
                     "Profile (YAML) of rules and impairments; same profile, inputs and seed "
                     "-> byte-identical outputs")
        ->transform(InstalledFileLookup());
    app_->add_option("--trace", trace_,
                     "Trace (YAML) played in virtual time: its time zero is the earliest "
                     "input frame, and a step at T applies exactly to frames stamped T or "
                     "later, e.g. --trace profiles/leader-isolation.trace.yaml")
        ->transform(InstalledFileLookup());
    app_->add_option_function<uint64_t>(
            "--seed", [this](uint64_t seed) { replay_.seed = seed; },
            "Random seed (overrides the profile's `seed`; without either one is drawn and printed)")
        ->check(CLI::Range(uint64_t{0}, kMaxSeed));
    app_->add_option("--hold", replay_.hold,
                     "Frames in flight at most (default 65536); more "
                     "are dropped and counted as buffer_exhausted")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 24));
    app_->add_option("--stats-json", replay_.stats_json, "Write the statistics document here");
    app_->add_option("--series", replay_.series,
                     "Write the time series here, in the inputs' virtual time (JSON lines, "
                     "docs/formats.md \"Series\")");
    AddDuration(app_, "--series-interval", &replay_.series_interval_ns,
                "Length of a series interval in virtual time (default 1s)");
    app_->add_option("--record", replay_.record,
                     "Write every frame's fate here, in virtual time (docs/formats.md), e.g. "
                     "--record replay.rec");
  }

  int Run() override {
    replay_.profile_path = profile_;
    replay_.trace_path = trace_;
    if (!LoadProfile(profile_, replay_.delay_ns, "replay", &replay_.profile)) return 2;
    if (!CheckSeriesInterval("replay", replay_.series_interval_ns)) return 2;
    if (!trace_.empty() && !LoadTrace()) return 2;
    return RunReplay(replay_);
  }

 private:
  // Parses --trace into replay_.trace; on error prints it and returns false.
  bool LoadTrace() {
    // Group and rule names of a trace without its own profile refer to --profile's. A profile
    // on the command line (--profile, --delay) replaces the trace's own, and says so.
    const ProfileSpec running = StartingProfile(replay_.profile, replay_.delay_ns);
    const bool command_line_profile = replay_.profile || replay_.delay_ns != 0;
    std::string error, replaced;
    replay_.trace = command_line_profile
                        ? ParseTraceFileReplacingProfile(trace_, running, &replaced, &error)
                        : ParseTraceFile(trace_, &running, &error);
    if (!replay_.trace) {
      std::fprintf(stderr, "faultline replay: %s%s\n", error.c_str(),
                   replaced.empty() ? ""
                                    : " (the trace's events are checked against the profile "
                                      "of the command line, which replaces its own)");
      return false;
    }
    if (!replaced.empty()) {
      std::fprintf(stderr,
                   "faultline replay: %s replaces the trace's own profile (%s: profile:); the "
                   "trace plays on it (leave out %s to play it on its own profile)\n",
                   replay_.profile ? ("--profile " + profile_).c_str() : "--delay",
                   replaced.c_str(), replay_.profile ? "--profile" : "--delay");
    }
    return true;
  }

  ReplayOptions replay_;
  std::string profile_;
  std::string trace_;
};

}  // namespace

std::unique_ptr<Subcommand> AddRunCommand(CLI::App* parent, int argc, char** argv) {
  return std::make_unique<RunCommand>(parent, argc, argv);
}

std::unique_ptr<Subcommand> AddReplayCommand(CLI::App* parent) {
  return std::make_unique<ReplayCommand>(parent);
}

}  // namespace faultline
