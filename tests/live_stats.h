// For tests that run `faultline run` as a process: its control socket, and its statistics asked
// through `faultline stats --json` until they show what a test waits for.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/faultline_binary.h"

namespace faultline::testing {

// A control socket of this test process's own (the default is the production path).
inline std::string ControlSocket() {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-live-" + std::to_string(getpid()) +
         ".sock";
}

// `faultline stats --json` of the run on ControlSocket(), asked until `done` holds for it or 30 s
// pass (a bound only a stalled machine reaches: it returns as soon as `done` holds). Returns the
// last document.
inline nlohmann::json StatsWhen(const std::function<bool(const nlohmann::json&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  nlohmann::json document = nlohmann::json::object();
  do {
    const CommandResult result = RunFaultline({"stats", "--json", "--control", ControlSocket()});
    if (result.status == 0) document = nlohmann::json::parse(result.output, nullptr, false);
    if (document.is_object() && document.contains("ports") && done(document)) return document;
    usleep(20'000);
  } while (std::chrono::steady_clock::now() < deadline);
  ADD_FAILURE() << "the statistics never showed what was waited for: " << document;
  return document.is_object() ? document : nlohmann::json::object();
}

}  // namespace faultline::testing
