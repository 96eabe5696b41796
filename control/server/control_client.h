// `faultline heal` and `faultline apply`: the command-line end of the control socket.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace faultline {

// How the commands below send a request: by default ControlRequest on the socket path they are
// given. `faultline --box URL` (control/cli/remote_box.h) sets one that posts it to a box's HTTP
// API instead; the commands then get the URL where they would get the socket path, so what they
// print and return is the same.
using ControlTransport = std::function<std::optional<nlohmann::json>(
    const std::string& target, const nlohmann::json& request, std::chrono::milliseconds timeout,
    std::string* error, bool* connected)>;
void SetControlTransport(ControlTransport transport);

// Heals "partitions", "impairments" or "all" on the dataplane listening on `socket_path`.
// Returns the exit status: 0 done, 1 runtime failure (no dataplane there, no answer, a worker
// did not take the change), 2 refused as bad input.
int RunHeal(const std::string& what, const std::string& socket_path);

// Validates `file` here first (file:line:col errors, exit 2, nothing sent), then has the
// dataplane apply it atomically. Exit status as RunHeal.
int RunApply(const std::string& file, const std::string& socket_path);

// `faultline stats`: the running dataplane's statistics as text (default), "json" or
// "prometheus". With `watch_ns` > 0, again every watch_ns until interrupted or `count` reports
// (0: no limit), each after the first with what the interval did (StatsInterval): text adds an
// `interval` block, JSON an "interval" key.
int RunStats(const std::string& format, uint64_t watch_ns, uint64_t count,
             const std::string& socket_path);

// `faultline stats --reset [--json]`: every counter and delay histogram of the running dataplane
// back to 0, each worker at an instant of its own; prints what they held.
int RunStatsReset(bool json, const std::string& socket_path);
// `faultline stats --window DUR` (window_ns): the statistics with the residence percentiles of
// the last DUR beside the whole run's (text), or the document with a "window" object (json).
int RunStatsWindow(bool json, uint64_t window_ns, const std::string& socket_path);
// `faultline stats --series [--since NS]`: the series lines after NS (JSON lines, as --series
// FILE has them), then the whole run's histogram line.
int RunStatsSeries(uint64_t since_ns, const std::string& socket_path);

// `faultline trace start FILE`: the daemon parses and validates the whole trace (errors name
// FILE:LINE:COL) and starts it at `at` ("" = 200 ms from now, "+DUR", or an RFC 3339 time).
int RunTraceStart(const std::string& file, double speed, const std::string& at,
                  const std::string& socket_path);
// `faultline trace stop [--keep]`: stops the trace; without `keep` the dataplane goes back to
// the trace's base profile. Prints the trace's report and what is in force now.
int RunTraceStop(bool keep, const std::string& socket_path);
// `faultline trace status [--json]`: the trace's state, steps applied and their lateness.
int RunTraceStatus(bool json, const std::string& socket_path);

// `faultline show [--json]`: the profile in force as a profile file (YAML, with where it came
// from, the seed, the links and the running trace as comments, so the output can be applied
// again), or all of it as JSON.
int RunShow(bool json, const std::string& socket_path);

// Sends `request` through the transport in force (socket or --box); on failure prints why as
// `faultline COMMAND: ...` and returns nullopt with *status set (1 runtime failure, 2 refused
// as bad input). For client commands defined elsewhere (capture_client.cc).
std::optional<nlohmann::json> AskControl(const char* command, const nlohmann::json& request,
                                         const std::string& socket_path, int* status);

}  // namespace faultline
