// faultline: the command line. Subcommands and option names follow docs/formats.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "control/control_client.h"
#include "control/control_commands.h"
#include "control/control_server.h"
#include "control/demo.h"
#include "control/profile_parser.h"
#include "control/run_with_control.h"
#include "control/subprocess.h"
#include "control/trace_generate_command.h"
#include "control/trace_parser.h"
#include "control/units.h"
#include "control/validate.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/runtime/live_run.h"
#include "dataplane/runtime/replay.h"

namespace {

// A CLI11 option whose value is a duration with a unit ("5ms") of at most `max_ns`; stored in
// nanoseconds.
CLI::Option* AddDuration(CLI::App* app, const std::string& name, uint64_t* ns_out,
                         const std::string& help, uint64_t max_ns = UINT64_MAX) {
  return app
      ->add_option_function<std::string>(
          name,
          [ns_out, name, max_ns](const std::string& text) {
            std::string error;
            const auto ns = faultline::ParseDuration(text, &error);
            if (!ns) throw CLI::ValidationError(name, error);
            if (*ns > max_ns) {
              throw CLI::ValidationError(name, "'" + text + "' is above the limit of " +
                                                   faultline::FormatDuration(max_ns));
            }
            *ns_out = *ns;
          },
          help)
      ->type_name("DURATION");
}

// Parses --profile FILE into *profile; on error prints it (file:line:col) and returns false.
bool LoadProfile(const std::string& path, uint64_t delay_ns, const char* command,
                 std::optional<faultline::ProfileSpec>* profile) {
  if (path.empty()) return true;
  if (delay_ns != 0) {
    std::fprintf(stderr,
                 "faultline %s: --delay and --profile exclude each other (put the delay "
                 "in the profile)\n",
                 command);
    return false;
  }
  std::string error;
  *profile = faultline::ParseProfileFile(path, &error);
  if (!*profile) {
    std::fprintf(stderr, "faultline %s: %s\n", command, error.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "faultline: an inline packet-level network fault emulator on DPDK.\n"
      "It forwards every frame between port 0 (side a) and port 1 (side b) and gives\n"
      "each one a departure time. Run `faultline demo` to see it work."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "faultline 0.1.0");

  faultline::RunOptions run;
  CLI::App* run_cmd = app.add_subcommand(
      "run",
      "Run the live dataplane on DPDK ports; EAL arguments follow `--`. Without hugepages or\n"
      "NICs, on two network interfaces IF_A and IF_B (a veth pair's ends, or two NICs' kernel\n"
      "interfaces):\n"
      "  faultline run --delay 5ms -- --no-huge --no-pci --no-shconf -m 1024 -l 0 \\\n"
      "    --vdev=net_af_packet0,iface=IF_A,framecnt=8192 "
      "--vdev=net_af_packet1,iface=IF_B,framecnt=8192\n"
      "or with --vdev=net_null0 --vdev=net_null1 to try it with no interface at all. With\n"
      "hugepages and two NICs bound to vfio-pci: faultline run --delay 5ms -- -l 1 -a PCI -a PCI");
  run_cmd
      ->add_option("--workers", run.workers,
                   "Worker lcores, one rx/tx queue each per port "
                   "(default 1; needs as many lcores besides the main one, except 1 worker "
                   "which may share a single lcore)")
      ->check(CLI::Range(1, 64));
  AddDuration(run_cmd, "--delay", &run.delay_ns,
              "Constant delay added to every frame, e.g. 5ms (shortcut for a one-rule profile)",
              faultline::kMaxDelayNs);
  std::string run_profile;
  run_cmd->add_option("--profile", run_profile,
                      "Profile (YAML, docs/formats.md) of rules and impairments, e.g. "
                      "profiles/flaky-link.yaml");
  run_cmd
      ->add_option_function<uint64_t>(
          "--seed", [&run](uint64_t seed) { run.seed = seed; },
          "Random seed of the impairment models (overrides the profile's `seed`), e.g. 42")
      ->check(CLI::Range(uint64_t{0}, faultline::kMaxSeed));
  run_cmd->add_option("--hold", run.hold,
                      "Frames held in flight at most; more are dropped and "
                      "counted as buffer_exhausted (default: 2 x 14.88 Mpps x delay, 64Ki..1Mi)");
  AddDuration(run_cmd, "--idle-sleep", &run.idle_sleep_ns,
              "Sleep this long when idle instead of busy polling (tests, shared cores), e.g. 50us");
  std::string on_exit = "drop";
  run_cmd
      ->add_option("--on-exit", on_exit,
                   "At SIGINT/SIGTERM: drop (free held frames, counted "
                   "as shutdown) or drain (deliver them first, up to delay + 1s)")
      ->check(CLI::IsMember({"drop", "drain"}));
  run_cmd->add_option("--stats-json", run.stats_json, "Write the final statistics document here");
  std::string run_control = faultline::kDefaultControlSocket;
  run_cmd->add_option("--control", run_control,
                      "Control socket for apply, heal, stats and trace (created 0600; default " +
                          std::string(faultline::kDefaultControlSocket) + ")");
  std::string run_control_group;
  run_cmd->add_option("--control-group", run_control_group,
                      "Make the control socket 0660 and owned by this group, so its members can "
                      "drive the dataplane without root, e.g. --control-group faultline");
  run_cmd->add_option("eal-args", run.eal_args, "EAL arguments (after --), e.g. -l 1 --vdev=...");

  faultline::ReplayOptions replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay",
      "Run the same pipeline offline in virtual time: input pcap timestamps drive the\n"
      "clock, output pcaps (nanosecond) carry departure times. Same inputs -> same bytes.\n"
      "Example: faultline replay --in a.pcap --out b.pcap --delay 5ms");
  replay_cmd->add_option("--in", replay.in_a, "Frames arriving on side a")->required();
  replay_cmd->add_option("--out", replay.out_b, "Frames leaving by side b")->required();
  auto* in_b = replay_cmd->add_option("--in-b", replay.in_b, "Frames arriving on side b");
  auto* out_a = replay_cmd->add_option(
      "--out-b", replay.out_a,
      "Frames leaving by side a (those of --in-b, and partitions' answers to side a; without "
      "it, answers are dropped and counted as no-output)");
  in_b->needs(out_a);
  AddDuration(replay_cmd, "--delay", &replay.delay_ns, "Constant delay added to every frame",
              faultline::kMaxDelayNs);
  std::string replay_profile;
  replay_cmd->add_option("--profile", replay_profile,
                         "Profile (YAML) of rules and impairments; same profile, inputs and seed "
                         "-> byte-identical outputs");
  std::string replay_trace;
  replay_cmd->add_option("--trace", replay_trace,
                         "Trace (YAML) played in virtual time: its time zero is the earliest "
                         "input frame, and a step at T applies exactly to frames stamped T or "
                         "later, e.g. --trace profiles/leader-isolation.trace.yaml");
  replay_cmd
      ->add_option_function<uint64_t>(
          "--seed", [&replay](uint64_t seed) { replay.seed = seed; },
          "Random seed (overrides the profile's `seed`; without either one is drawn and printed)")
      ->check(CLI::Range(uint64_t{0}, faultline::kMaxSeed));
  replay_cmd
      ->add_option("--hold", replay.hold,
                   "Frames in flight at most (default 65536); more "
                   "are dropped and counted as buffer_exhausted")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 24));
  replay_cmd->add_option("--stats-json", replay.stats_json, "Write the statistics document here");

  std::vector<std::string> validate_files;
  std::string validate_profile;
  CLI::App* validate_cmd = app.add_subcommand(
      "validate",
      "Check profiles and traces without running anything: every error names file:line:col.\n"
      "A file with an `events:` key is a trace. Exit status 0 if all are valid, 2 otherwise.\n"
      "Example: faultline validate profiles/*.yaml; faultline validate --profile base.yaml "
      "t.yaml");
  validate_cmd->add_option("files", validate_files, "Profile and trace files")->required();
  validate_cmd->add_option("--profile", validate_profile,
                           "Profile that traces without `profile:` are checked against (as the "
                           "running profile they would be started on)");

  std::string apply_file, apply_control = faultline::kDefaultControlSocket;
  CLI::App* apply_cmd = app.add_subcommand(
      "apply",
      "Replace the running profile (groups, rules, impairments, partitions) atomically on a\n"
      "running `faultline run`, without stopping traffic: a rule that keeps its name keeps its\n"
      "counters and flows. The file is validated here first (file:line:col).\n"
      "Example: faultline apply profiles/split-brain.yaml");
  apply_cmd->add_option("file", apply_file, "Profile (YAML)")->required();
  apply_cmd->add_option("--control", apply_control, "Control socket of the running dataplane");

  std::string heal_control = faultline::kDefaultControlSocket;
  bool heal_partitions = false, heal_impairments = false, heal_all = false;
  CLI::App* heal_cmd = app.add_subcommand(
      "heal",
      "Heal a running `faultline run`: lift every partition (default), switch every rule's\n"
      "impairment off (rules and counters stay), or both. Example: faultline heal --all");
  auto* partitions_flag =
      heal_cmd->add_flag("--partitions", heal_partitions, "Lift every partition (the default)");
  auto* impairments_flag = heal_cmd->add_flag(
      "--impairments", heal_impairments,
      "Forward every frame untouched: no rule matches (apply a profile to bring them back)");
  auto* all_flag = heal_cmd->add_flag("--all", heal_all, "Both");
  partitions_flag->excludes(impairments_flag)->excludes(all_flag);
  impairments_flag->excludes(all_flag);
  heal_cmd->add_option("--control", heal_control, "Control socket of the running dataplane");

  std::string stats_control = faultline::kDefaultControlSocket;
  bool stats_json = false, stats_prometheus = false;
  uint64_t stats_watch_ns = 0, stats_count = 0;
  CLI::App* stats_cmd = app.add_subcommand(
      "stats",
      "Print a running dataplane's statistics: ports, drops by cause, per-rule counters and\n"
      "delay percentiles, partitions, the trace's progress and lateness.\n"
      "Examples: faultline stats;  faultline stats --json;  faultline stats --watch 1s");
  auto* json_flag = stats_cmd->add_flag(
      "--json", stats_json, "The statistics document (docs/formats.md), as replay --stats-json");
  auto* prometheus_flag = stats_cmd->add_flag(
      "--prometheus", stats_prometheus,
      "Prometheus text format, e.g. for a textfile collector: faultline stats --prometheus");
  json_flag->excludes(prometheus_flag);
  auto* watch_option =
      AddDuration(stats_cmd, "--watch", &stats_watch_ns,
                  "Print again every DURATION until interrupted, each time with what the last "
                  "interval did (counts and rates), e.g. --watch 1s");
  bool stats_reset = false;
  auto* reset_flag = stats_cmd->add_flag(
      "--reset", stats_reset,
      "Set every counter and delay histogram back to 0 (each worker at an instant between two "
      "bursts) and print what they held; healed partitions leave the statistics");
  reset_flag->excludes(watch_option)->excludes(prometheus_flag);
  stats_cmd->add_option("--count", stats_count,
                        "With --watch: stop after this many reports (default: until Ctrl-C)");
  stats_cmd->add_option("--control", stats_control, "Control socket of the running dataplane");

  CLI::App* trace_cmd = app.add_subcommand(
      "trace",
      "Timed fault traces (docs/traces.md): start one on a running dataplane, stop it, watch\n"
      "it, or generate one from published datacenter failure statistics.\n"
      "Examples: faultline trace start profiles/leader-isolation.trace.yaml;\n"
      "  faultline trace generate --model gill2011 --topology profiles/topology-example.yaml "
      "--duration 30d");
  trace_cmd->require_subcommand(1);
  std::string trace_file, trace_at, trace_control = faultline::kDefaultControlSocket;
  double trace_speed = 1;
  CLI::App* trace_start_cmd = trace_cmd->add_subcommand(
      "start",
      "Validate a trace as a whole and start it: each step is handed to the workers ahead of\n"
      "time and takes effect at its scheduled time in the dataplane itself.\n"
      "Example: faultline trace start profiles/leader-isolation.trace.yaml --at +5s");
  trace_start_cmd->add_option("file", trace_file, "Trace (YAML)")->required();
  trace_start_cmd
      ->add_option("--speed", trace_speed,
                   "Play the trace this many times faster (every time and length shrinks), e.g. "
                   "--speed 60 plays an hour in a minute")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            // CLI11's PositiveNumber would print its range, a 309-digit number.
            const std::optional<double> speed = faultline::ParsePositiveNumber(text);
            if (!speed || *speed > 1e9) {
              return "'" + text +
                     "' is not a speed: give a number above 0 and at most 1e9, e.g. 60 plays an "
                     "hour in a minute, 0.5 plays at half speed";
            }
            return "";
          },
          "X"));
  trace_start_cmd->add_option(
      "--at", trace_at,
      "When time zero is: +DURATION from now (e.g. +10s), or an RFC 3339 time (e.g. "
      "2026-11-22T10:00:00Z) so appliances with synchronised clocks act together. Default: "
      "200ms from now");
  trace_start_cmd->add_option("--control", trace_control,
                              "Control socket of the running dataplane");
  std::string trace_stop_control = faultline::kDefaultControlSocket;
  bool trace_stop_keep = false;
  CLI::App* trace_stop_cmd = trace_cmd->add_subcommand(
      "stop",
      "Stop the running trace: steps not yet due are cancelled and the dataplane goes back to\n"
      "the trace's base profile (its own profile:, else the profile in force when it started),\n"
      "so the faults it made end; prints what is in force. Example: faultline trace stop");
  trace_stop_cmd->add_flag("--keep", trace_stop_keep,
                           "Keep what the trace's last step left in force (partitions, links "
                           "down, stalls) instead; `faultline heal --all` lifts it later");
  trace_stop_cmd->add_option("--control", trace_stop_control,
                             "Control socket of the running dataplane");
  std::string trace_status_control = faultline::kDefaultControlSocket;
  bool trace_status_json = false;
  CLI::App* trace_status_cmd = trace_cmd->add_subcommand(
      "status",
      "Show the trace's state, the steps applied with their scheduled and applied times, and\n"
      "their lateness (applied minus scheduled, measured by the workers).\n"
      "Example: faultline trace status --json");
  trace_status_cmd->add_flag("--json", trace_status_json, "Every step, as JSON");
  trace_status_cmd->add_option("--control", trace_status_control,
                               "Control socket of the running dataplane");

  std::string show_control = faultline::kDefaultControlSocket;
  bool show_json = false;
  CLI::App* show_cmd = app.add_subcommand(
      "show",
      "Show what a running dataplane applies: the profile in force as a profile file (groups,\n"
      "every rule's match and impairment parameters, partitions, the running seed), with where\n"
      "it came from, what changed it since, the links and the running trace and its next step\n"
      "as comments, so the output can be applied again.\n"
      "Examples: faultline show;  faultline show --json;  faultline show > now.yaml");
  show_cmd->add_flag("--json", show_json,
                     "All of it as JSON, the profile with the same keys as the YAML");
  show_cmd->add_option("--control", show_control, "Control socket of the running dataplane");

  faultline::DemoOptions demo;
  CLI::App* demo_cmd = app.add_subcommand(
      "demo",
      "Build a two-host test bed (network namespaces, veth, net_af_packet), run ping\n"
      "and an iperf3 TCP transfer through faultline with and without a delay, print what\n"
      "happened, and tear it all down (also when interrupted). Needs root.");
  AddDuration(demo_cmd, "--delay", &demo.delay_ns,
              "One-way delay of the second run (default 10ms)");

  const std::unique_ptr<faultline::TraceGenerateCommand> trace_generate =
      faultline::AddTraceGenerateCommand(trace_cmd);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // For tests of the documentation: the command line parsed (every option known, every value
  // checked), nothing is run.
  if (const char* parse_only = std::getenv("FAULTLINE_PARSE_ONLY");
      parse_only != nullptr && std::string(parse_only) == "1") {
    return 0;
  }
  if (*run_cmd) {
    run.drain_on_exit = on_exit == "drain";
    // The command as given, up to `--`, for the command lines a failed start suggests.
    run.command = faultline::ShellWord(argv[0]);
    for (int i = 1; i < argc && std::string(argv[i]) != "--"; ++i) {
      run.command += " " + faultline::ShellWord(argv[i]);
    }
    if (!LoadProfile(run_profile, run.delay_ns, "run", &run.profile)) return 2;
    faultline::ControlServerOptions socket;
    socket.socket_path = run_control;
    socket.group = run_control_group;
    run.profile_path = run_profile;
    return faultline::RunWithControl(run, socket);
  }
  if (*replay_cmd) {
    replay.profile_path = replay_profile;
    replay.trace_path = replay_trace;
    if (!LoadProfile(replay_profile, replay.delay_ns, "replay", &replay.profile)) return 2;
    if (!replay_trace.empty()) {
      // Group and rule names of a trace without its own profile refer to --profile's. A profile
      // on the command line (--profile, --delay) replaces the trace's own, and says so.
      const faultline::ProfileSpec running =
          faultline::StartingProfile(replay.profile, replay.delay_ns);
      const bool command_line_profile = replay.profile || replay.delay_ns != 0;
      std::string error, replaced;
      replay.trace =
          command_line_profile
              ? faultline::ParseTraceFileReplacingProfile(replay_trace, running, &replaced, &error)
              : faultline::ParseTraceFile(replay_trace, &running, &error);
      if (!replay.trace) {
        std::fprintf(stderr, "faultline replay: %s%s\n", error.c_str(),
                     replaced.empty() ? ""
                                      : " (the trace's events are checked against the profile "
                                        "of the command line, which replaces its own)");
        return 2;
      }
      if (!replaced.empty()) {
        std::fprintf(stderr,
                     "faultline replay: %s replaces the trace's own profile (%s: profile:); the "
                     "trace plays on it (leave out %s to play it on its own profile)\n",
                     replay.profile ? ("--profile " + replay_profile).c_str() : "--delay",
                     replaced.c_str(), replay.profile ? "--profile" : "--delay");
      }
    }
    return faultline::RunReplay(replay);
  }
  if (*validate_cmd) return faultline::RunValidate(validate_files, validate_profile);
  if (*apply_cmd) return faultline::RunApply(apply_file, apply_control);
  if (*heal_cmd) {
    const char* what = heal_all ? "all" : heal_impairments ? "impairments" : "partitions";
    return faultline::RunHeal(what, heal_control);
  }
  if (*stats_cmd) {
    if (stats_reset) return faultline::RunStatsReset(stats_json, stats_control);
    const char* format = stats_json ? "json" : stats_prometheus ? "prometheus" : "text";
    return faultline::RunStats(format, stats_watch_ns, stats_count, stats_control);
  }
  if (*trace_start_cmd) {
    return faultline::RunTraceStart(trace_file, trace_speed, trace_at, trace_control);
  }
  if (*trace_stop_cmd) return faultline::RunTraceStop(trace_stop_keep, trace_stop_control);
  if (*show_cmd) return faultline::RunShow(show_json, show_control);
  if (*trace_status_cmd) return faultline::RunTraceStatus(trace_status_json, trace_status_control);
  if (trace_generate->parsed()) return trace_generate->Run();
  if (*demo_cmd) return faultline::RunDemo(demo);
  return 2;
}
