// What the control socket's requests do to a running dataplane (docs/formats.md, "Control
// socket"): ping, apply, heal, show, stats, trace-start, trace-stop, trace-status. Every change is
// a new compiled snapshot of the whole profile, published to every worker
// (dataplane/snapshot_channel.h); a request is validated in full first and one that fails changes
// nothing. Requests from several clients and the trace's steps are serialised by one mutex (never
// taken on the fast path).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/server/capture_session.h"
#include "control/trace/trace_runner.h"
#include "dataplane/pipeline/snapshot_channel.h"
#include "dataplane/runtime/live_run.h"

namespace faultline {

class ControlCommands {
 public:
  // `dataplane` outlives this object. `ack_timeout`: how long a change waits for every worker to
  // take it before the answer says it did not.
  explicit ControlCommands(LiveDataplane* dataplane,
                           std::chrono::milliseconds ack_timeout = std::chrono::seconds(1));
  ~ControlCommands();

  // Where the profile the dataplane started with came from, for `show`: `source` (a file, or
  // what the run was given instead) and `how` it was loaded ("faultline run --profile"). Call
  // before the first request.
  void SetSource(std::string source, std::string how);

  // One request object in, one response object out (ControlHandler). Thread safe.
  nlohmann::json Handle(const nlohmann::json& request);

  // The statistics document's trace section (null if no trace ran). Thread safe.
  nlohmann::json TraceReport();

  // Serialises every use of the dataplane (requests, trace steps, series samples).
  std::mutex& mutex() { return mutex_; }

 private:
  nlohmann::json Heal(const nlohmann::json& request);
  nlohmann::json Apply(const nlohmann::json& request);
  nlohmann::json Show(const nlohmann::json& request);
  nlohmann::json Stats(const nlohmann::json& request);
  nlohmann::json ResetStats();
  // {"command":"stats","series":true,"since_ns":T}: the series lines after T, then the
  // whole run's histogram line.
  nlohmann::json Series(const nlohmann::json& request);
  // An event line in the series (if any) at the dataplane's time now.
  void Note(const std::string& kind, const std::string& detail);
  nlohmann::json TraceStart(const nlohmann::json& request);
  nlohmann::json TraceStop(const nlohmann::json& request);
  nlohmann::json TraceStatus(const nlohmann::json& request);
  // Compiles `spec` with the running seed and time base and publishes it.
  nlohmann::json Publish(const ProfileSpec& spec, bool rules_active);
  nlohmann::json State() const;
  // A new profile came in force from `source` (changes since are listed afresh).
  void Loaded(std::string source, std::string how);

  LiveDataplane* dataplane_;
  std::chrono::milliseconds ack_timeout_;
  std::mutex mutex_;
  std::unique_ptr<TraceRunner> trace_;
  CaptureSession capture_;  // faultline capture: capture-start, capture-read, capture-stop
  // Where the profile in force came from and what changed it since (`show`).
  std::string source_ = "the profile the dataplane started with";
  std::string how_ = "faultline run";
  int64_t loaded_at_ns_ = 0;  // Unix time
  std::vector<std::string> changes_;
};

}  // namespace faultline
