// `faultline fleet FILE apply|heal|stats|trace start|stop|status`: the commands of
// control/fleet/fleet_runner.h on every box of a fleet file, each reached through its HTTP API
// (control/http/api_client.h).
#include <iostream>
#include <optional>
#include <string>

#include "control/base/units.h"
#include "control/cli/subcommand.h"
#include "control/fleet/fleet_file.h"
#include "control/fleet/fleet_runner.h"
#include "control/http/api_client.h"
#include "control/http/api_token.h"

namespace faultline {
namespace {

// A box through its HTTP API; a box that cannot be reached answers "unreachable".
class HttpBox : public BoxConnection {
 public:
  explicit HttpBox(const FleetBox& box) {
    ApiClientOptions options{.box = box.api};
    if (!box.token_file.empty()) {
      const std::optional<std::string> token = ReadTokenFile(box.token_file, false, &error_);
      if (!token) return;
      options.token = *token;
    }
    client_ = ApiClient::Create(options, &error_);
  }
  nlohmann::json Request(const nlohmann::json& request) override {
    std::string error = error_;
    std::optional<nlohmann::json> response;
    if (client_) response = client_->Request(request, &error);
    if (response) return *response;
    return {{"ok", false}, {"code", "unreachable"}, {"error", error}};
  }
  std::optional<int64_t> Time(std::string* error) override {
    *error = error_;
    return client_ ? client_->TimeNs(error) : std::nullopt;
  }

 private:
  std::string error_;
  std::unique_ptr<ApiClient> client_;
};

// What every fleet subcommand shares: the fleet file, read when the command runs.
struct FleetArguments {
  std::string file;
  // Reads the fleet file and runs `action` on a FleetRunner over HTTP; exit 2 for a bad file.
  template <typename Action>
  int Run(Action action) const {
    std::string error;
    std::optional<Fleet> fleet = ParseFleetFile(file, &error);
    if (!fleet) {
      std::cerr << "faultline fleet: " << error << "\n";
      return 2;
    }
    FleetRunner runner(
        std::move(*fleet),
        [](const FleetBox& box) { return std::make_unique<HttpBox>(box); }, std::cout,
        std::cerr);
    return action(runner);
  }
};

class FleetApply : public Subcommand {
 public:
  FleetApply(CLI::App* fleet, const FleetArguments& arguments) : arguments_(arguments) {
    app_ = fleet->add_subcommand(
        "apply",
        "Apply a profile on every box: validated here first, then on each box in turn; if a box\n"
        "refuses it, the boxes already changed get their profile back.\n"
        "Example: faultline fleet fleet.yaml apply profiles/split-brain.yaml");
    app_->add_option("profile", profile_, "Profile (YAML)")->required();
  }
  int Run() override {
    return arguments_.Run([&](FleetRunner& runner) { return runner.Apply(profile_); });
  }

 private:
  const FleetArguments& arguments_;
  std::string profile_;
};

class FleetHeal : public Subcommand {
 public:
  FleetHeal(CLI::App* fleet, const FleetArguments& arguments) : arguments_(arguments) {
    app_ = fleet->add_subcommand("heal",
                                 "Heal every box, as `faultline heal`.\n"
                                 "Example: faultline fleet fleet.yaml heal --all");
    auto* partitions = app_->add_flag("--partitions", partitions_, "Lift every partition");
    auto* impairments = app_->add_flag("--impairments", impairments_, "No rule matches");
    auto* all = app_->add_flag("--all", all_, "Both");
    partitions->excludes(impairments)->excludes(all);
    impairments->excludes(all);
  }
  int Run() override {
    const char* what = all_ ? "all" : impairments_ ? "impairments" : "partitions";
    return arguments_.Run([&](FleetRunner& runner) { return runner.Heal(what); });
  }

 private:
  const FleetArguments& arguments_;
  bool partitions_ = false, impairments_ = false, all_ = false;
};

class FleetStats : public Subcommand {
 public:
  FleetStats(CLI::App* fleet, const FleetArguments& arguments) : arguments_(arguments) {
    app_ = fleet->add_subcommand(
        "stats",
        "Every box's statistics and their sum (rules and partitions added up by name).\n"
        "Example: faultline fleet fleet.yaml stats --json");
    app_->add_flag("--json", json_, "{\"boxes\": {NAME: document}, \"total\": {...}}");
  }
  int Run() override {
    return arguments_.Run([&](FleetRunner& runner) { return runner.Stats(json_); });
  }

 private:
  const FleetArguments& arguments_;
  bool json_ = false;
};

class FleetTraceStart : public Subcommand {
 public:
  FleetTraceStart(CLI::App* trace, const FleetArguments& arguments) : arguments_(arguments) {
    app_ = trace->add_subcommand(
        "start",
        "Start one trace on every box at one wall-clock time, after checking each box's clock\n"
        "against this host's (GET /v1/time).\n"
        "Example: faultline fleet fleet.yaml trace start t.yaml --at 2026-12-01T12:00:00.000Z");
    app_->add_option("file", options_.file, "Trace (YAML)")->required();
    app_->add_option("--speed", options_.speed, "As for `faultline trace start`")
        ->check(CLI::PositiveNumber);
    app_->add_option("--at", options_.at,
                     "Time zero: an RFC 3339 time, or +DURATION from now (made one absolute time "
                     "for every box). Default: 2s from now");
    AddDuration(app_, "--max-offset", &options_.max_offset_ns,
                "Refuse when a box's clock is further than this from ours (default 1ms)");
    app_->add_flag("--offset-warn-only", options_.offset_warn_only,
                   "Only warn when a box's clock is beyond --max-offset");
  }
  int Run() override {
    return arguments_.Run([&](FleetRunner& runner) { return runner.TraceStart(options_); });
  }

 private:
  const FleetArguments& arguments_;
  FleetTraceOptions options_;
};

class FleetTraceStop : public Subcommand {
 public:
  FleetTraceStop(CLI::App* trace, const FleetArguments& arguments) : arguments_(arguments) {
    app_ = trace->add_subcommand("stop", "Stop the trace on every box, as `faultline trace stop`.\n"
                                         "Example: faultline fleet fleet.yaml trace stop");
    app_->add_flag("--keep", keep_, "Keep what the trace's last step left in force");
  }
  int Run() override {
    return arguments_.Run([&](FleetRunner& runner) { return runner.TraceStop(keep_); });
  }

 private:
  const FleetArguments& arguments_;
  bool keep_ = false;
};

class FleetTraceStatus : public Subcommand {
 public:
  FleetTraceStatus(CLI::App* trace, const FleetArguments& arguments) : arguments_(arguments) {
    app_ = trace->add_subcommand(
        "status",
        "Every box's trace: state, steps applied, lateness; --json: each box's trace section "
        "(scheduled and applied time of every step).\n"
        "Example: faultline fleet fleet.yaml trace status --json");
    app_->add_flag("--json", json_, "{\"boxes\": {NAME: trace section}}");
  }
  int Run() override {
    return arguments_.Run([&](FleetRunner& runner) { return runner.TraceStatus(json_); });
  }

 private:
  const FleetArguments& arguments_;
  bool json_ = false;
};

// Owns the arguments the fleet's subcommands share; itself never chosen alone.
class FleetCommand : public Subcommand {
 public:
  explicit FleetCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "fleet",
        "Act on several boxes as one: every box of a fleet file (docs/formats.md, \"fleet\"),\n"
        "each through its HTTP API (faultline run --api).\n"
        "Example: faultline fleet fleet.yaml stats");
    app_->add_option("fleet-file", arguments_.file, "Fleet file (YAML)")->required();
    app_->require_subcommand(1);
  }
  int Run() override { return 0; }
  const FleetArguments& arguments() const { return arguments_; }
  CLI::App* app() { return app_; }

 private:
  FleetArguments arguments_;
};

}  // namespace

std::vector<std::unique_ptr<Subcommand>> AddFleetCommands(CLI::App* parent) {
  auto fleet = std::make_unique<FleetCommand>(parent);
  CLI::App* app = fleet->app();
  const FleetArguments& arguments = fleet->arguments();
  std::vector<std::unique_ptr<Subcommand>> all;
  all.push_back(std::make_unique<FleetApply>(app, arguments));
  all.push_back(std::make_unique<FleetHeal>(app, arguments));
  all.push_back(std::make_unique<FleetStats>(app, arguments));
  CLI::App* trace = app->add_subcommand("trace", "Traces on every box: start, stop, status");
  trace->require_subcommand(1);
  all.push_back(std::make_unique<FleetTraceStart>(trace, arguments));
  all.push_back(std::make_unique<FleetTraceStop>(trace, arguments));
  all.push_back(std::make_unique<FleetTraceStatus>(trace, arguments));
  // Last: main.cc runs the first chosen subcommand, and `fleet` is chosen with each of these.
  all.push_back(std::move(fleet));
  return all;
}

}  // namespace faultline
