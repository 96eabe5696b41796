#include "control/trace/trace_runner.h"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "control/base/units.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/snapshot_channel.h"
#include "dataplane/reporting/series.h"
#include "dataplane/reporting/stats.h"

namespace faultline {

namespace {

// How often the runner collects acknowledgements and hands over steps that came within reach.
constexpr auto kPollInterval = std::chrono::milliseconds(1);
// Stop cancels steps due at least this long from now; nearer ones may already be installed on
// one worker and not yet on another, so they are let through on every worker.
constexpr uint64_t kCancelMarginNs = 1'000'000;

}  // namespace

TraceRunner::TraceRunner(LiveDataplane* dataplane, std::mutex* mutex)
    : dataplane_(dataplane), mutex_(mutex) {
  dataplane_->publisher->set_listener(
      [this](size_t worker, const SnapshotHandoff& handoff) { OnReturned(worker, handoff); });
  thread_ = std::thread([this] { Loop(); });
}

TraceRunner::~TraceRunner() {
  {
    std::lock_guard lock(*mutex_);
    quit_ = true;
  }
  wake_.notify_all();
  thread_.join();
  dataplane_->publisher->set_listener(nullptr);
}

bool TraceRunner::Start(TraceSpec trace, double speed, uint64_t origin, int64_t origin_wall_ns,
                        std::string* error) {
  if (state_ == State::kRunning) {
    *error = "trace '" + trace_->name + "' is running; `faultline trace stop` it first";
    return false;
  }
  trace_ = std::make_unique<TraceSpec>(std::move(trace));
  timeline_ = std::make_unique<TraceTimeline>(*trace_);
  const CompiledProfile& running = *dataplane_->publisher->current();
  trace_state_ = TraceState{.spec = trace_->profile ? *trace_->profile : running.spec,
                            .rules_active = trace_->profile ? true : running.rules_active};
  base_ = trace_state_;
  load_profile_ = trace_->profile.has_value();
  next_step_.reset();
  exhausted_ = false;
  speed_ = speed;
  origin_ = origin;
  origin_wall_ns_ = origin_wall_ns;
  steps_applied_ = 0;
  any_applied_ = false;
  records_.clear();
  records_dropped_ = 0;
  handed_over_late_ = 0;
  lateness_ns_ = std::make_unique<LatencyHistogram>();
  error_.clear();
  state_ = State::kRunning;
  HandOver(dataplane_->now());
  wake_.notify_all();
  if (state_ == State::kFailed) {
    *error = error_;
    return false;
  }
  return true;
}

void TraceRunner::Stop() {
  if (state_ == State::kRunning) End(State::kStopped);
}

void TraceRunner::Fail(const std::string& error) {
  error_ = error;
  End(State::kFailed);
}

void TraceRunner::End(State final_state) {
  dataplane_->publisher->CancelFrom(dataplane_->now() +
                                    dataplane_->time_base.FromNs(kCancelMarginNs));
  state_ = final_state;
}

void TraceRunner::Loop() {
  std::unique_lock lock(*mutex_);
  while (!quit_) {
    if (state_ == State::kRunning || dataplane_->publisher->pending() != 0) {
      dataplane_->publisher->Collect();
    }
    if (state_ == State::kRunning) {
      HandOver(dataplane_->now());
      if (exhausted_ && dataplane_->publisher->pending() == 0) state_ = State::kFinished;
    }
    wake_.wait_for(lock, kPollInterval);
  }
}

void TraceRunner::HandOver(uint64_t now) {
  const TimeBase& time_base = dataplane_->time_base;
  const uint64_t horizon = now + time_base.FromNs(kLookaheadNs);
  if (load_profile_) {
    if (dataplane_->publisher->pending() >= kMaxAhead) return;
    TraceStep load{.description = "load profile " + trace_->profile_source};
    load.event = SIZE_MAX;
    if (!HandOverStep(load, trace_state_, origin_)) return;
    load_profile_ = false;
  }
  while (state_ == State::kRunning && !exhausted_) {
    if (!next_step_) {
      next_step_ = timeline_->Next();
      if (!next_step_) {
        exhausted_ = true;
        break;
      }
    }
    const uint64_t activation = origin_ + time_base.FromNs(next_step_->at_ns);
    if (activation > horizon || dataplane_->publisher->pending() >= kMaxAhead) break;
    // The steps on their way are the newest records (the publisher's pending ones, in order).
    size_t tables_ahead = 0;
    const size_t on_their_way = std::min(dataplane_->publisher->pending(), records_.size());
    for (auto record = records_.rbegin(); record != records_.rbegin() + on_their_way; ++record) {
      tables_ahead += record->own_tables && !record->discarded &&
                      record->acknowledged < dataplane_->publisher->workers();
    }
    TraceState after = trace_state_;
    const std::string problem = timeline_->Apply(*next_step_, &after);
    // A step with tables of its own waits while enough such steps are on their way.
    if (problem.empty() && tables_ahead >= kMaxTablesAhead &&
        !SameClassification(after.spec, trace_state_.spec)) {
      break;
    }
    if (!problem.empty()) {
      Fail("step " + std::to_string(next_step_->index) + " (" + next_step_->description +
           "): " + problem);
      return;
    }
    if (!HandOverStep(*next_step_, after, activation)) return;
    trace_state_ = std::move(after);
    next_step_.reset();
  }
}

bool TraceRunner::HandOverStep(const TraceStep& step, const TraceState& state,
                               uint64_t activation) {
  SnapshotPublisher& publisher = *dataplane_->publisher;
  const CompiledProfile& previous = *publisher.current();
  ProfileSnapshot next;
  try {
    next = CompileProfile(state.spec, previous.time_base, previous.seed,
                          CompileOptions{.rules_active = state.rules_active,
                                         .activation = activation,
                                         .identities = dataplane_->identities,
                                         .previous = &previous});
  } catch (const std::exception& failure) {
    Fail("step " + std::to_string(step.index) + " (" + step.description + "): " + failure.what());
    return false;
  }
  const bool own_tables = next->classifier != previous.classifier;
  std::string error;
  const uint64_t now = dataplane_->now();
  const uint64_t sequence = publisher.Schedule(std::move(next), activation, &error);
  if (sequence == 0) {
    Fail("step " + std::to_string(step.index) + " (" + step.description + "): " + error);
    return false;
  }
  if (records_.size() >= kMaxRecords) {
    records_.pop_front();
    ++records_dropped_;
  }
  if (now > activation) ++handed_over_late_;
  records_.push_back(Record{.step = step,
                            .scheduled = activation,
                            .handed_over = now,
                            .sequence = sequence,
                            .own_tables = own_tables});
  return true;
}

void TraceRunner::OnReturned(size_t, const SnapshotHandoff& handoff) {
  // Called with the mutex held (every Collect is).
  for (auto record = records_.rbegin(); record != records_.rend(); ++record) {
    if (record->sequence != handoff.sequence) continue;
    if (handoff.discarded) {
      record->discarded = true;
    } else {
      record->applied = std::max(record->applied, handoff.installed_at);
    }
    if (++record->acknowledged == dataplane_->publisher->workers() && !record->discarded) {
      ++steps_applied_;
      if (record->step.event != SIZE_MAX) {
        last_applied_index_ = record->step.index;
        any_applied_ = true;
      }
      const uint64_t late = record->applied > record->scheduled
                                ? dataplane_->time_base.ToNs(record->applied - record->scheduled)
                                : 0;
      lateness_ns_->Record(late);
      NoteApplied(*record);
    }
    return;
  }
}

void TraceRunner::NoteApplied(const Record& record) {
  if (dataplane_->series == nullptr) return;
  const uint64_t at = dataplane_->wall_ns(record.applied);
  if (record.step.event == SIZE_MAX) {
    dataplane_->series->Event(at, "apply", "the profile of trace " + trace_->name);
    return;
  }
  const SeriesEvent event = TraceStepEvent(record.step, *trace_, at);
  dataplane_->series->Event(at, event.kind, event.detail, event.until_ns);
}

const char* TraceRunner::StateName(State state) {
  switch (state) {
    case State::kNone:
      return "none";
    case State::kRunning:
      return "running";
    case State::kFinished:
      return "finished";
    case State::kStopped:
      return "stopped";
    case State::kFailed:
      return "failed";
  }
  return "?";
}

nlohmann::json TraceRunner::RecordJson(const Record& record) const {
  const TimeBase& time_base = dataplane_->time_base;
  const bool applied = !record.discarded && record.acknowledged == dataplane_->publisher->workers();
  std::optional<uint64_t> applied_ns;
  if (applied) {
    applied_ns = record.applied >= origin_ ? time_base.ToNs(record.applied - origin_) : 0;
  }
  return TraceStepJson(record.step, *trace_, time_base.ToNs(record.scheduled - origin_), applied_ns,
                       record.discarded ? "cancelled"
                       : applied        ? "applied"
                                        : "pending");
}

nlohmann::json TraceRunner::Report() const {
  if (state_ == State::kNone) return nullptr;
  TraceProgress progress;
  progress.name = trace_->name;
  progress.state = StateName(state_);
  progress.speed = speed_;
  progress.started_at = FormatRfc3339(origin_wall_ns_);
  if (any_applied_) progress.event_index = last_applied_index_;
  progress.steps_applied = steps_applied_;
  progress.lateness_ns.Add(*lateness_ns_);
  progress.handed_over_late = handed_over_late_;
  for (const Record& record : records_) progress.events.push_back(RecordJson(record));
  progress.events_not_kept = records_dropped_;
  progress.error = error_;
  if (state_ == State::kRunning) progress.next = next_step_;
  return TraceProgressJson(progress);
}

}  // namespace faultline
