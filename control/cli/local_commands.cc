// The subcommands that need no running dataplane: validate (profiles and traces) and demo (a test
// bed of its own).
#include <string>
#include <vector>

#include "control/cli/subcommand.h"
#include "control/cli/validate.h"
#include "control/testbed/demo.h"

namespace faultline {
namespace {

class ValidateCommand : public Subcommand {
 public:
  explicit ValidateCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "validate",
        "Check profiles and traces without running anything: every error names file:line:col.\n"
        "A file with an `events:` key is a trace. Exit status 0 if all are valid, 2 otherwise.\n"
        "Example: faultline validate profiles/*.yaml; faultline validate --profile base.yaml "
        "t.yaml");
    app_->add_option("files", files_, "Profile and trace files")
        ->required()
        ->transform(InstalledFileLookup());
    app_->add_option("--profile", profile_,
                     "Profile that traces without `profile:` are checked against (as the "
                     "running profile they would be started on)")
        ->transform(InstalledFileLookup());
  }
  int Run() override { return RunValidate(files_, profile_); }

 private:
  std::vector<std::string> files_;
  std::string profile_;
};

class DemoCommand : public Subcommand {
 public:
  explicit DemoCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "demo",
        "Build a two-host test bed (network namespaces, veth, net_af_packet), run ping\n"
        "and an iperf3 TCP transfer through faultline with and without a delay, print what\n"
        "happened, and tear it all down (also when interrupted). Needs root.");
    AddDuration(app_, "--delay", &demo_.delay_ns, "One-way delay of the second run (default 10ms)");
  }
  int Run() override { return RunDemo(demo_); }

 private:
  DemoOptions demo_;
};

}  // namespace

std::unique_ptr<Subcommand> AddValidateCommand(CLI::App* parent) {
  return std::make_unique<ValidateCommand>(parent);
}

std::unique_ptr<Subcommand> AddDemoCommand(CLI::App* parent) {
  return std::make_unique<DemoCommand>(parent);
}

}  // namespace faultline
