// A subcommand of build/faultline as an object: its constructor adds it and its options to the
// command line (CLI11), Run() does its work once the command line chose it. main.cc only parses
// and runs the chosen one. To add a subcommand: a class here in control/cli/ (one .cc per
// family), a line in AddSubcommands (subcommand.cc, in the order `faultline --help` lists
// them), its options and messages in docs/formats.md.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace faultline {

class Subcommand {
 public:
  virtual ~Subcommand() = default;
  Subcommand() = default;
  Subcommand(const Subcommand&) = delete;  // option callbacks hold `this`
  Subcommand& operator=(const Subcommand&) = delete;

  // Whether the command line chose this subcommand (after CLI::App::parse).
  bool Chosen() const { return app_ != nullptr && app_->parsed(); }
  // Does the work; the process's exit status (0, 1 for a failure to act, 2 for bad input).
  virtual int Run() = 0;

 protected:
  CLI::App* app_ = nullptr;  // this subcommand in the command line, owned by its parent
};

// Every subcommand, added to `app` in the order --help lists them. `argc`/`argv` are the whole
// command line (`run` repeats it in the commands a failed start suggests).
std::vector<std::unique_ptr<Subcommand>> AddSubcommands(CLI::App* app, int argc, char** argv);

// A CLI11 option whose value is a duration with a unit ("5ms") from `min_ns` to `max_ns`;
// stored in nanoseconds.
CLI::Option* AddDuration(CLI::App* app, const std::string& name, uint64_t* ns_out,
                         const std::string& help, uint64_t max_ns = UINT64_MAX,
                         uint64_t min_ns = 0);

// The transform of every option that names a configuration file (profile, trace, topology):
// a relative name that is no file here is looked up among the installed files
// (FindConfigurationFile, control/base/installed_files.h), e.g. `faultline validate
// profiles/flaky-link.yaml` from any directory once faultline is installed.
CLI::Validator InstalledFileLookup();

// The subcommands, each added under `parent` (subcommand.cc calls these in order).
std::unique_ptr<Subcommand> AddRunCommand(CLI::App* parent, int argc, char** argv);
std::unique_ptr<Subcommand> AddReplayCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddValidateCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddApplyCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddHealCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddStatsCommand(CLI::App* parent);
// `trace` and its subcommands start, stop and status (then generate: trace_generate_command.h).
std::vector<std::unique_ptr<Subcommand>> AddTraceCommands(CLI::App* parent, CLI::App** trace);
std::unique_ptr<Subcommand> AddShowCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddDemoCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddReportCommand(CLI::App* parent);  // report_command.cc
// `record export` (record_command.cc).
std::unique_ptr<Subcommand> AddRecordCommand(CLI::App* parent);
std::unique_ptr<Subcommand> AddCaptureCommand(CLI::App* parent);  // capture_command.cc
// `fleet FILE` and its subcommands apply, heal, stats, trace start/stop/status (fleet_command.cc).
std::vector<std::unique_ptr<Subcommand>> AddFleetCommands(CLI::App* parent);

}  // namespace faultline
