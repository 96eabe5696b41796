// `faultline capture`: live capture of the faults into pcapng (control/server/capture_client.h).
#include <optional>
#include <string>

#include "control/cli/remote_box.h"
#include "control/cli/subcommand.h"
#include "control/server/capture_client.h"
#include "control/server/control_server.h"

namespace faultline {

namespace {

class CaptureCommand : public Subcommand {
 public:
  explicit CaptureCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "capture",
        "Capture the frames a running dataplane drops, duplicates, corrupts or delays into a\n"
        "pcapng file, each with its cause as the frame's comment (\"dropped:loss rule=R\n"
        "dir=a-to-b\"); up to 512 bytes of each frame, with its length.\n"
        "Example: faultline capture --what dropped --rule lossy --count 100 --out drops.pcapng");
    app_->add_option("--what", options_.what, "dropped, duplicated, corrupted, delayed or all")
        ->check(CLI::IsMember({"dropped", "duplicated", "corrupted", "delayed", "all"}));
    app_->add_option("--rule", options_.rule, "Only the frames of this rule (of the profile)");
    app_->add_option("--count", options_.count, "Stop after this many frames (default: no limit)");
    AddDuration(app_, "--duration", &options_.duration_ns,
                "Stop after this long, e.g. --duration 10s (default: until --count or Ctrl-C)");
    app_->add_option("--out", options_.out, "The pcapng file to write")->required();
    app_->add_option("--control", control_, "Control socket of the running dataplane");
  }
  int Run() override {
    const std::optional<std::string> target = ControlTarget(control_, "capture");
    return target ? RunCapture(options_, *target) : 2;
  }

 private:
  CaptureOptions options_;
  std::string control_ = kDefaultControlSocket;
};

}  // namespace

std::unique_ptr<Subcommand> AddCaptureCommand(CLI::App* parent) {
  return std::make_unique<CaptureCommand>(parent);
}

}  // namespace faultline
