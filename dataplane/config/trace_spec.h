// A trace as the user wrote it (docs/traces.md), validated and in plain units. The control
// plane parses YAML into this (control/trace/trace_parser.h); TraceTimeline
// (dataplane/trace_timeline.h) turns it into the timed steps the dataplane applies. Nothing here is
// touched per packet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"

namespace faultline {

// Limits of a trace (docs/formats.md, "Limits"): events in the file, steps one round expands to
// (a flap makes two per cycle), and its times (`at` + `for`, `duration`), which the live runner
// turns into clock units of up to ~5 GHz, whose 64 bits last 116 years.
inline constexpr size_t kMaxTraceEvents = 10'000;
inline constexpr uint64_t kMaxTraceSteps = 1'000'000;
inline constexpr uint64_t kMaxTraceTimeNs = 3650 * 86'400'000'000'000ull;  // 3650d

enum class TraceEventKind : uint8_t { kSetImpairment, kPartition, kHeal, kStall, kLink };

// What a `heal` event lifts: every partition, every rule's impairment, both, or one partition.
enum class HealWhat : uint8_t { kPartitions, kImpairments, kAll, kPartition };

enum class LinkSide : uint8_t { kA, kB, kBoth };
enum class LinkChange : uint8_t { kUp, kDown, kFlapping };

struct TraceEvent {
  uint64_t at_ns = 0;  // from the trace's start (before --speed)
  TraceEventKind kind = TraceEventKind::kHeal;
  int line = 0, column = 0;  // where the event starts in the file (status and errors name it)

  // set-impairment {rule, impairment}: the rule now applies that impairment of the profile.
  // Also turns rules back on after `heal: impairments`.
  std::string rule, impairment;

  // partition: one entry, as in the profile's `partitions:` (its name is unique in the trace's
  // state when it is applied: the timeline appends " #2", " #3" ... to a repeated name).
  PartitionSpec partition;

  // heal: partitions | impairments | all | {partition: NAME}
  HealWhat heal = HealWhat::kPartitions;
  std::string heal_partition;

  // stall {group, for[, limit]}: a paused process. Every frame from or to the group is held for
  // `for` and then released in arrival order (beyond `limit`, dropped as stall-limit).
  std::string group;
  EndpointSet members;  // the group's endpoints
  SizeLimit stall_limit;

  // link {side, state: up|down|flapping, for, down, up}: down drops every frame received on or
  // leaving by that side (cause link-down); with `for` it comes back up after that long.
  // flapping: down for `down`, up for `up`, repeated for `for` (then up).
  LinkSide side = LinkSide::kBoth;
  LinkChange link = LinkChange::kDown;
  uint64_t flap_down_ns = 0, flap_up_ns = 0;

  uint64_t for_ns = 0;  // stall: its length; link down: 0 = until a later event; flapping: total
};

struct TraceSpec {
  int version = 1;
  std::string name;  // `name:`, else the file name without directory and extension
  // `profile:` (a path, relative to the trace's directory, or an inline profile mapping): the
  // profile loaded when the trace starts. Without it the trace runs on the running profile.
  std::optional<ProfileSpec> profile;
  std::string profile_source;  // the path as written, or "inline"; "" without `profile:`
  uint64_t repeat = 1;         // rounds; 0 = forever
  // Length of one round: `duration:` if given, else the end of the last event (its `at` plus
  // any `for`). Round k's events happen at k * period_ns + at_ns.
  uint64_t period_ns = 0;
  std::vector<TraceEvent> events;  // sorted by at_ns; file order among equal times
};

}  // namespace faultline
