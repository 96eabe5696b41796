// A trace as the sequence of state changes the dataplane makes, in time order: the file's events
// and the ones they imply (the end of a stall, a link coming back after `for`, each edge of a
// flap), over every round of `repeat`. Each step moves a TraceState; the control plane (live) and
// replay (offline) compile the resulting profile and install it at the step's time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/profile_spec.h"
#include "dataplane/trace_spec.h"

namespace faultline {

// What a trace changes: the profile in force and whether its rules are on.
struct TraceState {
  ProfileSpec spec;
  bool rules_active = true;
};

struct TraceStep {
  uint64_t at_ns = 0;       // from the trace's start
  uint64_t index = 0;       // 0, 1, 2 ... over the whole run (every round)
  uint64_t round = 0;       // round of `repeat`, from 0
  size_t event = 0;         // index into TraceSpec::events of the event it comes from
  bool implied = false;     // not written in the file (end of a stall, link back up, flap edge)
  std::string description;  // "partition isolate n3", "stall n3 ends", "link b down", ...
};

class TraceTimeline {
 public:
  // `trace` must outlive the timeline.
  explicit TraceTimeline(const TraceSpec& trace);

  // The next step in time order (ties: file order, an implied step before the file's events of
  // the same time), or nullopt when the last round is over. Never nullopt for repeat forever.
  std::optional<TraceStep> Next();

  // Moves `state` by `step`. Returns "" or why the step cannot apply (a rule or impairment the
  // profile does not have, a partition to heal that is not in force, more than kMaxPartitions).
  std::string Apply(const TraceStep& step, TraceState* state) const;

 private:
  // (implementation-defined members)
};

// Checks a whole trace against the profile it starts from (`trace.profile` if set, else
// `running`): plays one round (two if it repeats, so state carried between rounds is checked)
// through Apply. Returns "" or "LINE:COL: message" of the first event that cannot apply.
std::string CheckTrace(const TraceSpec& trace, const ProfileSpec& running);

// The trace with every time divided by `speed` (--speed 2 plays it twice as fast: `at`, `for`,
// flap lengths, `duration` and the stall lengths all shrink).
TraceSpec ScaleTrace(const TraceSpec& trace, double speed);

}  // namespace faultline
