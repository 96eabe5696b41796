// A trace on a running dataplane (`faultline trace start`): plays the trace's steps
// (dataplane/trace_timeline.h) by compiling the profile each one leads to and handing it to every
// worker ahead of time, with the step's activation time; the workers install it when their clock
// reaches that time (dataplane/snapshot_channel.h) and record when they did. The runner collects
// those times: the lateness of each step is measured in the dataplane, not here.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "dataplane/config/trace_spec.h"
#include "dataplane/config/trace_timeline.h"
#include "dataplane/fastpath/latency_histogram.h"
#include "dataplane/pipeline/snapshot_channel.h"
#include "dataplane/runtime/live_run.h"

namespace faultline {

class TraceRunner {
 public:
  // Steps are compiled and handed over at most this long before they are due, at most kMaxAhead
  // at a time, and of those at most kMaxTablesAhead with group tables of their own (64 MiB and
  // more each; a step that changes no match field or partition shares its predecessor's).
  static constexpr uint64_t kLookaheadNs = 1'000'000'000;
  static constexpr size_t kMaxAhead = 12;
  static constexpr size_t kMaxTablesAhead = 3;
  // Per-step records kept for `trace status` and the statistics (the oldest go first).
  static constexpr size_t kMaxRecords = 10000;
  // `trace start --speed` at most: faster, a day of trace plays in well under a millisecond.
  static constexpr double kMaxSpeed = 1e9;

  // `mutex` serialises every use of `dataplane`: the caller holds it for Start, Stop and Report;
  // the runner's thread takes it for each round of work.
  TraceRunner(LiveDataplane* dataplane, std::mutex* mutex);
  ~TraceRunner();
  TraceRunner(const TraceRunner&) = delete;
  TraceRunner& operator=(const TraceRunner&) = delete;

  // Starts `trace` (already validated and scaled by `speed`) with its time zero at clock time
  // `origin` (`origin_wall_ns`: the same instant in Unix time, for the report). The trace's
  // `profile:`, if any, is loaded at time zero. Returns false with *error if one is running.
  bool Start(TraceSpec trace, double speed, uint64_t origin, int64_t origin_wall_ns,
             std::string* error);
  // Cancels the steps not yet due (those due within a millisecond still apply). The dataplane
  // keeps the state the last applied step left (ControlCommands puts the base back).
  void Stop();
  bool running() const { return state_ == State::kRunning; }
  // What the trace started from: its own profile if it has one, else the profile in force when
  // it was started.
  const TraceState& base() const { return base_; }
  // Time zero in Unix time (ns).
  int64_t origin_wall_ns() const { return origin_wall_ns_; }
  // The trace section of the statistics document (null if no trace was ever started).
  nlohmann::json Report() const;

 private:
  enum class State { kNone, kRunning, kFinished, kStopped, kFailed };
  struct Record {
    TraceStep step;
    uint64_t scheduled = 0;    // clock
    uint64_t handed_over = 0;  // clock: when it was sent to the workers
    uint64_t sequence = 0;
    bool own_tables = false;  // its classifier is not its predecessor's
    uint64_t applied = 0;     // clock: the last worker's install time
    size_t acknowledged = 0;
    bool discarded = false;
  };

  void Loop();
  // Compiles and hands over the steps due within the lookahead (mutex held).
  void HandOver(uint64_t now);
  bool HandOverStep(const TraceStep& step, const TraceState& state, uint64_t activation);
  void OnReturned(size_t worker, const SnapshotHandoff& handoff);
  // The series' event line of a step every worker installed, at its install time.
  void NoteApplied(const Record& record);
  void Fail(const std::string& error);
  // Cancels the steps not yet due and leaves the trace in `final_state`.
  void End(State final_state);
  nlohmann::json RecordJson(const Record& record) const;
  static const char* StateName(State state);

  LiveDataplane* dataplane_;
  std::mutex* mutex_;
  std::thread thread_;
  std::condition_variable wake_;
  bool quit_ = false;

  // Everything below is guarded by *mutex_.
  State state_ = State::kNone;
  std::string error_;
  std::unique_ptr<TraceSpec> trace_;
  std::unique_ptr<TraceTimeline> timeline_;
  TraceState trace_state_;
  TraceState base_;
  std::optional<TraceStep> next_step_;
  bool load_profile_ = false;  // the trace's profile is still to be handed over
  bool exhausted_ = false;
  double speed_ = 1;
  uint64_t origin_ = 0;
  int64_t origin_wall_ns_ = 0;
  uint64_t steps_applied_ = 0;
  uint64_t last_applied_index_ = 0;
  bool any_applied_ = false;
  std::deque<Record> records_;
  uint64_t records_dropped_ = 0;
  uint64_t handed_over_late_ = 0;  // steps sent after their time (the control side was late)
  std::unique_ptr<LatencyHistogram> lateness_ns_;  // of the steps applied
};

}  // namespace faultline
