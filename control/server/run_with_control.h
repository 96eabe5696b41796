// `faultline run` with its control socket: the socket is set up before anything starts (a live
// one at the path is a usage error), served while the workers run, and stopped with them.
#pragma once

#include <functional>

#include "control/server/control_server.h"
#include "dataplane/runtime/live_run.h"

namespace faultline {

// Runs the dataplane (RunLive) with the control commands served on `socket`. `wrap`, if set,
// gets the commands' handler and returns the one the socket serves (tests put a slow request in
// front of it). Returns the process exit status.
int RunWithControl(RunOptions& run, const ControlServerOptions& socket,
                   const std::function<ControlHandler(ControlHandler)>& wrap = nullptr);

}  // namespace faultline
