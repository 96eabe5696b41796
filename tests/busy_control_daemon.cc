// `faultline run` wired as the real command wires it (RunWithControl), with one request in front
// of the control commands that keeps the control thread busy: {"command": "test-busy"} is
// answered only after a minute. The stop test sends it and then SIGTERM.
//
// Usage: busy_control_daemon SOCKET STATS_JSON -- EAL-ARGS...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "control/server/run_with_control.h"

int main(int argc, char** argv) {
  if (argc < 4 || std::strcmp(argv[3], "--") != 0) {
    std::fprintf(stderr, "usage: %s SOCKET STATS_JSON -- EAL-ARGS...\n", argv[0]);
    return 2;
  }
  faultline::RunOptions run;
  run.delay_ns = 1'000'000;
  // 1 ms at net_null's rate stays below this (it would take 100 Mpps), so every frame the stop
  // finds is in flight, never refused for room (the test counts them all as `shutdown`).
  run.hold = 100'000;
  run.stats_json = argv[2];
  run.eal_args.assign(argv + 4, argv + argc);
  faultline::ControlServerOptions socket;
  socket.socket_path = argv[1];
  return faultline::RunWithControl(run, socket, [](faultline::ControlHandler commands) {
    return [commands](const nlohmann::json& request) -> nlohmann::json {
      if (request.value("command", "") != "test-busy") return commands(request);
      std::fprintf(stderr, "busy_control_daemon: busy with a request for a minute\n");
      std::this_thread::sleep_for(std::chrono::minutes(1));
      return {{"ok", true}};
    };
  });
}
