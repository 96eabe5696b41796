// `faultline run` with its control socket: the socket is set up before anything starts (a live
// one at the path is a usage error), served while the workers run, and stopped with them.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "control/server/control_server.h"
#include "dataplane/runtime/live_run.h"

namespace faultline {

// Another way in to the same commands (the HTTP API, control/http): started with the socket's
// handler once the dataplane runs, stopped before the commands go.
class ControlFrontend {
 public:
  virtual ~ControlFrontend() = default;
  virtual void Start(ControlHandler handler) = 0;
  // As ControlServer::Stop: false if a request still runs after `timeout`.
  virtual bool Stop(std::chrono::milliseconds timeout) = 0;
};

// Runs the dataplane (RunLive) with the control commands served on `socket`. `wrap`, if set,
// gets the commands' handler and returns the one the socket serves (tests put a slow request in
// front of it). `frontends` serve the same handler. Returns the process exit status.
int RunWithControl(RunOptions& run, const ControlServerOptions& socket,
                   const std::function<ControlHandler(ControlHandler)>& wrap = nullptr,
                   const std::vector<ControlFrontend*>& frontends = {});

}  // namespace faultline
