#include "control/server/run_with_control.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "control/base/units.h"
#include "control/server/control_commands.h"
#include "control/server/series_sampler.h"
#include "control/server/telemetry_endpoint.h"

namespace faultline {

int RunWithControl(RunOptions& run, const ControlServerOptions& socket,
                   const std::function<ControlHandler(ControlHandler)>& wrap,
                   const std::vector<ControlFrontend*>& frontends) {
  std::string error;
  ListenFailure failure;
  std::unique_ptr<ControlServer> server = ControlServer::Listen(socket, &error, &failure);
  if (!server) {
    const bool usage = failure == ListenFailure::kUsage;
    std::fprintf(stderr, "faultline run: %s%s\n", error.c_str(),
                 usage ? "" : " (--control SOCK chooses another path)");
    return usage ? 2 : 1;
  }
  std::unique_ptr<ControlCommands> commands;
  std::unique_ptr<SeriesSampler> sampler;
  nlohmann::json final_trace;
  run.control_start = [&](LiveDataplane* dataplane, std::string* start_error) {
    commands = std::make_unique<ControlCommands>(
        dataplane, std::chrono::milliseconds(run.apply_timeout_ns / 1'000'000));
    // The time series: its ring answers `stats --series` and `--window`; --series FILE too.
    sampler = std::make_unique<SeriesSampler>(dataplane, &commands->mutex(), run);
    if (!sampler->Open(start_error)) return false;
    sampler->Start();
    // Where the starting profile came from, for `faultline show`.
    if (!run.profile_path.empty()) {
      commands->SetSource(std::filesystem::absolute(run.profile_path).string(),
                          "faultline run --profile");
    } else if (run.delay_ns != 0) {
      commands->SetSource("--delay " + FormatDuration(run.delay_ns) + " (a one-rule profile)",
                          "faultline run --delay");
    } else {
      commands->SetSource("no profile (an empty one: every frame passes untouched)",
                          "faultline run");
    }
    ControlHandler handler = [&commands](const nlohmann::json& request) {
      return commands->Handle(request);
    };
    if (wrap) handler = wrap(std::move(handler));
    for (ControlFrontend* frontend : frontends) frontend->Start(handler);
    server->Start(std::move(handler));
    std::printf("faultline: control socket %s\n", server->path().c_str());
    // DPDK telemetry (/faultline/stats, ...) answers from the same `stats` request.
    if (!AttachTelemetry([&commands] {
          return commands->Handle({{"command", "stats"}}).value("stats", nlohmann::json());
        })) {
      std::fprintf(stderr, "faultline run: DPDK telemetry refused the /faultline/ commands\n");
    }
    return true;
  };
  // The commands (and the trace runner's thread, which polls the publisher) go with the socket:
  // the dataplane they point into is gone once RunLive returns. A request still running after
  // `timeout` keeps all of it: RunLive then ends the process without freeing anything.
  run.control_stop = [&](std::chrono::milliseconds timeout) {
    DetachTelemetry();
    for (ControlFrontend* frontend : frontends) {
      if (!frontend->Stop(timeout)) return false;
    }
    if (!server->Stop(timeout)) return false;
    if (sampler) sampler->Stop();  // the last interval and the histogram line
    sampler.reset();
    if (commands) final_trace = commands->TraceReport();
    commands.reset();
    return true;
  };
  run.final_trace_report = [&final_trace] { return final_trace; };
  return RunLive(run);
}

}  // namespace faultline
