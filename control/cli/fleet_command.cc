// `faultline fleet FILE apply|heal|stats|trace start|stop|status`: the commands of
// control/fleet/fleet_runner.h on every box of a fleet file, each reached through its HTTP API
// (control/http/api_client.h).
#include <functional>
#include <iostream>
#include <memory>
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
    ApiClientOptions options{.box = box.api, .ca_file = box.ca_file};
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
        std::move(*fleet), [](const FleetBox& box) { return std::make_unique<HttpBox>(box); },
        std::cout, std::cerr);
    return action(runner);
  }
};

// One subcommand of `fleet`: its options are stored where its action can read them (captured
// by the action), and Run reads the fleet file and runs the action on every box.
class FleetAction : public Subcommand {
 public:
  using Action = std::function<int(FleetRunner&)>;
  FleetAction(CLI::App* parent, const FleetArguments& arguments, const std::string& name,
              const std::string& help)
      : arguments_(arguments) {
    app_ = parent->add_subcommand(name, help);
  }
  CLI::App* app() { return app_; }
  void set_action(Action action) { action_ = std::move(action); }
  int Run() override { return arguments_.Run(action_); }

 private:
  const FleetArguments& arguments_;
  Action action_;
};

std::unique_ptr<Subcommand> FleetApply(CLI::App* fleet, const FleetArguments& arguments) {
  auto command = std::make_unique<FleetAction>(
      fleet, arguments, "apply",
      "Apply a profile on every box: validated here first, then on each box in turn; if a box\n"
      "refuses it, the boxes already changed get their profile back.\n"
      "Example: faultline fleet fleet.yaml apply profiles/split-brain.yaml");
  auto profile = std::make_shared<std::string>();
  command->app()->add_option("profile", *profile, "Profile (YAML)")->required();
  command->set_action([profile](FleetRunner& runner) { return runner.Apply(*profile); });
  return command;
}

std::unique_ptr<Subcommand> FleetHeal(CLI::App* fleet, const FleetArguments& arguments) {
  auto command = std::make_unique<FleetAction>(fleet, arguments, "heal",
                                               "Heal every box, as `faultline heal`.\n"
                                               "Example: faultline fleet fleet.yaml heal --all");
  struct Flags {
    bool partitions = false, impairments = false, all = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* app = command->app();
  auto* partitions = app->add_flag("--partitions", flags->partitions, "Lift every partition");
  auto* impairments = app->add_flag("--impairments", flags->impairments, "No rule matches");
  auto* all = app->add_flag("--all", flags->all, "Both");
  partitions->excludes(impairments)->excludes(all);
  impairments->excludes(all);
  command->set_action([flags](FleetRunner& runner) {
    return runner.Heal(flags->all ? "all" : flags->impairments ? "impairments" : "partitions");
  });
  return command;
}

// `stats` and `trace status`: a --json flag and a call.
std::unique_ptr<Subcommand> FleetReport(CLI::App* parent, const FleetArguments& arguments,
                                        const std::string& name, const std::string& help,
                                        const std::string& json_help,
                                        int (FleetRunner::*report)(bool)) {
  auto command = std::make_unique<FleetAction>(parent, arguments, name, help);
  auto json = std::make_shared<bool>(false);
  command->app()->add_flag("--json", *json, json_help);
  command->set_action([json, report](FleetRunner& runner) { return (runner.*report)(*json); });
  return command;
}

std::unique_ptr<Subcommand> FleetTraceStart(CLI::App* trace, const FleetArguments& arguments) {
  auto command = std::make_unique<FleetAction>(
      trace, arguments, "start",
      "Start one trace on every box at one wall-clock time, after checking each box's clock\n"
      "against this host's (GET /v1/time).\n"
      "Example: faultline fleet fleet.yaml trace start t.yaml --at 2026-12-01T12:00:00.000Z");
  auto options = std::make_shared<FleetTraceOptions>();
  CLI::App* app = command->app();
  app->add_option("file", options->file, "Trace (YAML)")->required();
  app->add_option("--speed", options->speed, "As for `faultline trace start`")
      ->check(CLI::PositiveNumber);
  app->add_option("--at", options->at,
                  "Time zero: an RFC 3339 time, or +DURATION from now (made one absolute time "
                  "for every box). Default: 2s from now");
  AddDuration(app, "--max-offset", &options->max_offset_ns,
              "Refuse when a box's clock is further than this from ours (default 1ms)");
  app->add_flag("--offset-warn-only", options->offset_warn_only,
                "Only warn when a box's clock is beyond --max-offset");
  command->set_action([options](FleetRunner& runner) { return runner.TraceStart(*options); });
  return command;
}

std::unique_ptr<Subcommand> FleetTraceStop(CLI::App* trace, const FleetArguments& arguments) {
  auto command =
      std::make_unique<FleetAction>(trace, arguments, "stop",
                                    "Stop the trace on every box, as `faultline trace stop`.\n"
                                    "Example: faultline fleet fleet.yaml trace stop");
  auto keep = std::make_shared<bool>(false);
  command->app()->add_flag("--keep", *keep, "Keep what the trace's last step left in force");
  command->set_action([keep](FleetRunner& runner) { return runner.TraceStop(*keep); });
  return command;
}

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
  all.push_back(FleetApply(app, arguments));
  all.push_back(FleetHeal(app, arguments));
  all.push_back(FleetReport(app, arguments, "stats",
                            "Every box's statistics and their sum (rules and partitions added up "
                            "by name).\nExample: faultline fleet fleet.yaml stats --json",
                            "{\"boxes\": {NAME: document}, \"total\": {...}}",
                            &FleetRunner::Stats));
  CLI::App* trace = app->add_subcommand("trace", "Traces on every box: start, stop, status");
  trace->require_subcommand(1);
  all.push_back(FleetTraceStart(trace, arguments));
  all.push_back(FleetTraceStop(trace, arguments));
  all.push_back(FleetReport(
      trace, arguments, "status",
      "Every box's trace: state, steps applied, lateness; --json: each box's trace section "
      "(scheduled and applied time of every step).\n"
      "Example: faultline fleet fleet.yaml trace status --json",
      "{\"boxes\": {NAME: trace section}}", &FleetRunner::TraceStatus));
  // Last: main.cc runs the first chosen subcommand, and `fleet` is chosen with each of these.
  all.push_back(std::move(fleet));
  return all;
}

}  // namespace faultline
