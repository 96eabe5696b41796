// The subcommands that drive a running `faultline run` through its control socket: apply, heal,
// stats, trace start/stop/status and show (control/server/control_client.h does the talking).
#include <optional>
#include <string>

#include "control/base/units.h"
#include "control/cli/remote_box.h"
#include "control/cli/subcommand.h"
#include "control/server/control_client.h"
#include "control/server/control_server.h"
#include "control/trace/trace_runner.h"

namespace faultline {
namespace {

// Runs `run` on the control socket `control`, or on the box of --box (remote_box.h).
template <typename Run>
int OnTarget(const std::string& control, const char* command, Run run) {
  const std::optional<std::string> target = ControlTarget(control, command);
  return target ? run(*target) : 2;
}

class ApplyCommand : public Subcommand {
 public:
  explicit ApplyCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "apply",
        "Replace the running profile (groups, rules, impairments, partitions) atomically on a\n"
        "running `faultline run`, without stopping traffic: a rule that keeps its name keeps its\n"
        "counters and flows. The file is validated here first (file:line:col).\n"
        "Example: faultline apply profiles/split-brain.yaml");
    app_->add_option("file", file_, "Profile (YAML)")->required()->transform(InstalledFileLookup());
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    return OnTarget(control_, "apply", [&](const std::string& to) { return RunApply(file_, to); });
  }

 private:
  std::string file_, control_ = kDefaultControlSocket;
};

class HealCommand : public Subcommand {
 public:
  explicit HealCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "heal",
        "Heal a running `faultline run`: lift every partition (default), switch every rule's\n"
        "impairment off (rules and counters stay), or both. Example: faultline heal --all");
    auto* partitions_flag =
        app_->add_flag("--partitions", partitions_, "Lift every partition (the default)");
    auto* impairments_flag = app_->add_flag(
        "--impairments", impairments_,
        "Forward every frame untouched: no rule matches (apply a profile to bring them back)");
    auto* all_flag = app_->add_flag("--all", all_, "Both");
    partitions_flag->excludes(impairments_flag)->excludes(all_flag);
    impairments_flag->excludes(all_flag);
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    const char* what = all_ ? "all" : impairments_ ? "impairments" : "partitions";
    return OnTarget(control_, "heal", [&](const std::string& to) { return RunHeal(what, to); });
  }

 private:
  std::string control_ = kDefaultControlSocket;
  bool partitions_ = false, impairments_ = false, all_ = false;
};

class StatsCommand : public Subcommand {
 public:
  explicit StatsCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "stats",
        "Print a running dataplane's statistics: ports, drops by cause, per-rule counters and\n"
        "delay percentiles, partitions, the trace's progress and lateness.\n"
        "Examples: faultline stats;  faultline stats --json;  faultline stats --watch 1s");
    auto* json_flag = app_->add_flag(
        "--json", json_, "The statistics document (docs/formats.md), as replay --stats-json");
    auto* prometheus_flag = app_->add_flag(
        "--prometheus", prometheus_,
        "Prometheus text format, e.g. for a textfile collector: faultline stats --prometheus");
    json_flag->excludes(prometheus_flag);
    auto* watch_option =
        AddDuration(app_, "--watch", &watch_ns_,
                    "Print again every DURATION until interrupted, each time with what the last "
                    "interval did (counts and rates), e.g. --watch 1s");
    auto* reset_flag = app_->add_flag(
        "--reset", reset_,
        "Set every counter and delay histogram back to 0 (each worker at an instant between two "
        "bursts) and print what they held; healed partitions leave the statistics");
    reset_flag->excludes(watch_option)->excludes(prometheus_flag);
    app_->add_option("--count", count_,
                     "With --watch: stop after this many reports (default: until Ctrl-C)");
    auto* window_option = AddDuration(
        app_, "--window", &window_ns_,
        "Also the residence percentiles (p50 ... p99.99, max) of the last DURATION beside the "
        "whole run's, e.g. --window 10s (whole --series-interval steps, at most 60 of them)");
    auto* series_flag = app_->add_flag(
        "--series", series_,
        "The time series kept by the dataplane (JSON lines, docs/formats.md \"Series\")");
    app_->add_option("--since", since_ns_,
                     "With --series: only the lines after this t_ns (Unix time, ns)");
    series_flag->excludes(window_option)->excludes(reset_flag)->excludes(watch_option);
    window_option->excludes(reset_flag)->excludes(watch_option)->excludes(prometheus_flag);
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    const char* format = json_ ? "json" : prometheus_ ? "prometheus" : "text";
    return OnTarget(control_, "stats", [&](const std::string& to) {
      if (series_) return RunStatsSeries(since_ns_, to);
      if (window_ns_) return RunStatsWindow(json_, window_ns_, to);
      return reset_ ? RunStatsReset(json_, to) : RunStats(format, watch_ns_, count_, to);
    });
  }

 private:
  std::string control_ = kDefaultControlSocket;
  bool json_ = false, prometheus_ = false, reset_ = false, series_ = false;
  uint64_t watch_ns_ = 0, count_ = 0, window_ns_ = 0, since_ns_ = 0;
};

class TraceStartCommand : public Subcommand {
 public:
  explicit TraceStartCommand(CLI::App* trace) {
    app_ = trace->add_subcommand(
        "start",
        "Validate a trace as a whole and start it: each step is handed to the workers ahead of\n"
        "time and takes effect at its scheduled time in the dataplane itself.\n"
        "Example: faultline trace start profiles/leader-isolation.trace.yaml --at +5s");
    app_->add_option("file", file_, "Trace (YAML)")->required()->transform(InstalledFileLookup());
    app_->add_option("--speed", speed_,
                     "Play the trace this many times faster (every time and length shrinks), e.g. "
                     "--speed 60 plays an hour in a minute")
        ->check(CLI::Validator(
            [](const std::string& text) -> std::string {
              // CLI11's PositiveNumber would print its range, a 309-digit number.
              const std::optional<double> speed = ParsePositiveNumber(text);
              if (!speed || *speed > TraceRunner::kMaxSpeed) {
                return "'" + text +
                       "' is not a speed: give a number above 0 and at most 1e9, e.g. 60 plays an "
                       "hour in a minute, 0.5 plays at half speed";
              }
              return "";
            },
            "X"));
    app_->add_option(
        "--at", at_,
        "When time zero is: +DURATION from now (e.g. +10s), or an RFC 3339 time (e.g. "
        "2026-11-22T10:00:00Z) so appliances with synchronised clocks act together. Default: "
        "200ms from now");
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    return OnTarget(control_, "trace start",
                    [&](const std::string& to) { return RunTraceStart(file_, speed_, at_, to); });
  }

 private:
  std::string file_, at_, control_ = kDefaultControlSocket;
  double speed_ = 1;
};

class TraceStopCommand : public Subcommand {
 public:
  explicit TraceStopCommand(CLI::App* trace) {
    app_ = trace->add_subcommand(
        "stop",
        "Stop the running trace: steps not yet due are cancelled and the dataplane goes back to\n"
        "the trace's base profile (its own profile:, else the profile in force when it started),\n"
        "so the faults it made end; prints what is in force. Example: faultline trace stop");
    app_->add_flag("--keep", keep_,
                   "Keep what the trace's last step left in force (partitions, links "
                   "down, stalls) instead; `faultline heal --all` lifts it later");
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    return OnTarget(control_, "trace stop",
                    [&](const std::string& to) { return RunTraceStop(keep_, to); });
  }

 private:
  std::string control_ = kDefaultControlSocket;
  bool keep_ = false;
};

class TraceStatusCommand : public Subcommand {
 public:
  explicit TraceStatusCommand(CLI::App* trace) {
    app_ = trace->add_subcommand(
        "status",
        "Show the trace's state, the steps applied with their scheduled and applied times, and\n"
        "their lateness (applied minus scheduled, measured by the workers).\n"
        "Example: faultline trace status --json");
    app_->add_flag("--json", json_, "Every step, as JSON");
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    return OnTarget(control_, "trace status",
                    [&](const std::string& to) { return RunTraceStatus(json_, to); });
  }

 private:
  std::string control_ = kDefaultControlSocket;
  bool json_ = false;
};

class ShowCommand : public Subcommand {
 public:
  explicit ShowCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "show",
        "Show what a running dataplane applies: the profile in force as a profile file (groups,\n"
        "every rule's match and impairment parameters, partitions, the running seed), with where\n"
        "it came from, what changed it since, the links and the running trace and its next step\n"
        "as comments, so the output can be applied again.\n"
        "Examples: faultline show;  faultline show --json;  faultline show > now.yaml");
    app_->add_flag("--json", json_,
                   "All of it as JSON, the profile with the same keys as the YAML");
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    return OnTarget(control_, "show", [&](const std::string& to) { return RunShow(json_, to); });
  }

 private:
  std::string control_ = kDefaultControlSocket;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Subcommand> AddApplyCommand(CLI::App* parent) {
  return std::make_unique<ApplyCommand>(parent);
}

std::unique_ptr<Subcommand> AddHealCommand(CLI::App* parent) {
  return std::make_unique<HealCommand>(parent);
}

std::unique_ptr<Subcommand> AddStatsCommand(CLI::App* parent) {
  return std::make_unique<StatsCommand>(parent);
}

std::vector<std::unique_ptr<Subcommand>> AddTraceCommands(CLI::App* app, CLI::App** trace_out) {
  CLI::App* trace = app->add_subcommand(
      "trace",
      "Timed fault traces (docs/traces.md): start one on a running dataplane, stop it, watch\n"
      "it, or generate one from published datacenter failure statistics.\n"
      "Examples: faultline trace start profiles/leader-isolation.trace.yaml;\n"
      "  faultline trace generate --model gill2011 --topology profiles/topology-example.yaml "
      "--duration 30d");
  trace->require_subcommand(1);
  *trace_out = trace;
  std::vector<std::unique_ptr<Subcommand>> commands;
  commands.push_back(std::make_unique<TraceStartCommand>(trace));
  commands.push_back(std::make_unique<TraceStopCommand>(trace));
  commands.push_back(std::make_unique<TraceStatusCommand>(trace));
  return commands;
}

std::unique_ptr<Subcommand> AddShowCommand(CLI::App* parent) {
  return std::make_unique<ShowCommand>(parent);
}

}  // namespace faultline
