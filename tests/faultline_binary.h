// Where the tests that run faultline as a process find it (meson passes FAULTLINE_BIN).
#pragma once

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"

namespace faultline::testing {

// The `run --apply-timeout` of the tests' dataplanes (its maximum): their workers sleep when idle
// on a machine shared with other work, and may wait that long for a CPU before taking a change.
inline constexpr const char* kApplyTimeout = "5s";

inline std::string FaultlineBinary() {
  const char* path = std::getenv("FAULTLINE_BIN");
  return path ? path : "build/faultline";
}

// Runs `faultline ARGS...` to completion (at most two minutes): exit status and output.
inline CommandResult RunFaultline(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {FaultlineBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  Subprocess process;
  std::string error;
  if (!process.Start(argv, &error)) return {-1, error};
  const int status = process.Wait(std::chrono::seconds(120));
  return {status, process.output()};
}

}  // namespace faultline::testing
