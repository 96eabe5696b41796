// A trace as the sequence of state changes the dataplane makes, in time order: the file's events
// and the ones they imply (the end of a stall, a link coming back after `for`, each edge of a
// flap), over every round of `repeat`. Each step moves a TraceState; the control plane (live) and
// replay (offline) compile the resulting profile and install it at the step's time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/config/trace_spec.h"

namespace faultline {

// What a trace changes: the profile in force and whether its rules are on.
struct TraceState {
  ProfileSpec spec;
  bool rules_active = true;
};

// What a step does to the state. The file's events map to one action each (a link event to
// kLinkDown or kLinkUp; flapping starts with kLinkDown); the implied steps are kStallEnd, and
// kLinkUp / kLinkDown for a link's `for` and the edges of a flap.
enum class TraceAction : uint8_t {
  kSetImpairment,
  kPartition,
  kHeal,
  kStallStart,
  kStallEnd,
  kLinkDown,
  kLinkUp,
};

struct TraceStep {
  uint64_t at_ns = 0;    // from the trace's start
  uint64_t index = 0;    // 0, 1, 2 ... over the whole run (every round)
  uint64_t round = 0;    // round of `repeat`, from 0
  size_t event = 0;      // index into TraceSpec::events of the event it comes from
  bool implied = false;  // not written in the file (end of a stall, link back up, flap edge)
  TraceAction action = TraceAction::kHeal;
  std::string description;  // "partition isolate n3", "stall n3 ends", "link b down", ...
};

class TraceTimeline {
 public:
  // `trace` must outlive the timeline.
  explicit TraceTimeline(const TraceSpec& trace);

  // The next step in time order (ties: an implied step before the file's events of the same
  // time, then file order), or nullopt when the last round is over. Never nullopt for repeat
  // forever. O(log events): each event's next step waits in a heap.
  std::optional<TraceStep> Next();

  // Moves `state` by `step`. Returns "" or why the step cannot apply (a rule or impairment the
  // profile does not have, a partition to heal that is not in force, more partitions, cuts,
  // rules or endpoints than the dataplane holds).
  std::string Apply(const TraceStep& step, TraceState* state) const;

 private:
  // An event's next step in this round, ordered as Next() returns them.
  struct Pending {
    uint64_t at_ns;
    bool implied;
    size_t event;
  };
  void StartRound();

  const TraceSpec& trace_;
  uint64_t round_ = 0;
  uint64_t index_ = 0;
  // Per event: the number of its next step within the current round (steps of one event come
  // in time order: a stall's start and end, a flap's edges).
  std::vector<uint64_t> next_;
  std::vector<Pending> heap_;  // the earliest on top
  bool done_ = false;
};

// How many steps `event` makes in one round: 1, 2 (a stall, a link down with `for`), or two per
// cycle of a flap (saturating).
uint64_t EventStepCount(const TraceEvent& event);

// The names of what a stall event adds to the profile while it lasts: one impairment and two
// rules (frames from the group, frames to it). They depend on the event's index in
// TraceSpec::events only, so every round uses the same names (the dataplane keeps per-rule state
// by name): "stall n3 (event 4)", "stall n3 from (event 4)", "stall n3 to (event 4)".
std::string StallImpairmentName(const TraceEvent& event, size_t event_index);
std::string StallRuleName(const TraceEvent& event, size_t event_index, bool from);

// The description of the step an event makes at its `at` (the first of its steps): "partition
// isolate n3", "stall n3 for 800ms", "link b down for 59s", "set-impairment r -> i".
std::string DescribeTraceEvent(const TraceEvent& event);

// "800ms", "1s", "1500us": the shortest exact spelling of a duration (as the control plane's
// FormatDuration, but 0 is "0s").
std::string FormatTraceDuration(uint64_t ns);

// Checks a whole trace against the profile it starts from (`trace.profile` if set, else
// `running`): plays one round (two if it repeats, so state carried between rounds is checked)
// through Apply. Returns "" or "LINE:COL: message" of the first event that cannot apply.
std::string CheckTrace(const TraceSpec& trace, const ProfileSpec& running);

// The trace with every time divided by `speed` (--speed 2 plays it twice as fast: `at`, `for`,
// flap lengths, `duration` and the stall lengths all shrink).
TraceSpec ScaleTrace(const TraceSpec& trace, double speed);

}  // namespace faultline
