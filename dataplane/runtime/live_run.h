// `faultline run`: the live dataplane on DPDK ports.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/fastpath/clock.h"
#include "dataplane/reporting/stats.h"

namespace faultline {

class SnapshotPublisher;
class SeriesRecorder;
class RuleIdentities;
class CaptureTap;

// What the control plane gets of a running dataplane. Every member is used by one control thread
// at a time (the control plane serialises its requests and trace steps).
struct LiveDataplane {
  SnapshotPublisher* publisher = nullptr;  // hands compiled snapshots to every worker
  RuleIdentities* identities = nullptr;    // compile every snapshot with these
  TimeBase time_base;                      // the workers' clock
  std::function<uint64_t()> now;           // that clock, now
  std::function<StatsReport()> stats;      // the statistics document's counters, now
  // `stats --reset`: every worker's counters and histograms to 0 (ResetStatistics); what they
  // held, over the time since the last reset, or nullopt with *error. Null: no resets here.
  std::function<std::optional<StatsReport>(std::string* error)> reset_stats;
  // The time series: the control plane adds its events (apply, heal, trace steps, resets) at
  // the Unix time they took effect. Null: no series.
  SeriesRecorder* series = nullptr;
  // The workers' clock time `clock` as Unix time (ns).
  std::function<uint64_t(uint64_t clock)> wall_ns;
  // Live capture (`faultline capture`): one tap per worker (dataplane/fastpath/frame_capture.h).
  std::vector<CaptureTap*> captures;
};

struct RunOptions {
  unsigned workers = 1;
  uint64_t delay_ns = 0;               // without a profile: a one-rule profile of this delay
  std::optional<ProfileSpec> profile;  // validated profile (control/profile/profile_parser)
  std::optional<uint64_t> seed;        // overrides the profile's seed
  uint64_t hold = 0;               // packets held at most in all wheels; 0: sized from the delay
  uint64_t expected_rate_pps = 0;  // frames/s in, both sides; 0: 2 x 10 GbE line rate (64 B)
  uint64_t idle_sleep_ns = 0;      // 0: busy-poll (production); > 0: back off when idle (tests)
  // How long an apply or heal waits for every worker to take the change before it answers that
  // one did not (the change stays queued). A busy shared machine may need more than the default.
  uint64_t apply_timeout_ns = 1'000'000'000;
  bool drain_on_exit = false;  // deliver held packets at stop instead of freeing them
  std::string stats_json;      // write the final statistics document here
  // The time series (dataplane/reporting/series.h): always kept in a ring for `stats --series`
  // and `stats --window`, also written to `series` if given.
  std::string series;
  uint64_t series_interval_ns = 1'000'000'000;
  uint64_t status_interval_ns = 10'000'000'000;  // a status line on stdout; 0: none
  std::string record;        // --record: every frame's fate (runtime/frame_record_writer)
  std::string profile_path;  // the --profile file (read already; no output may be it)
  std::vector<std::string> eal_args;
  // The command line before `--` ("faultline run --delay 5ms"), for the ones a failed start
  // suggests.
  std::string command = "faultline run";
  // The control plane (control/server/control_server): started once the workers exist and can take
  // profile snapshots (`dataplane` outlives control_stop), stopped before they are gone. A
  // failed start is a runtime failure (exit 1) and nothing is forwarded. control_stop returns
  // false if the control plane is still busy with a request after `timeout`: it may still use
  // the dataplane, so RunLive then writes the final statistics and ends the process at once
  // (SIGTERM ends a run within seconds whatever a client asked).
  std::function<bool(LiveDataplane* dataplane, std::string* error)> control_start;
  std::function<bool(std::chrono::milliseconds timeout)> control_stop;
  // The final statistics document's `trace` section (the trace the control plane ran), if any.
  std::function<nlohmann::json()> final_trace_report;
};

// Packets the wheels may hold when --hold is not given: what `rate_pps` puts in flight during the
// longest delay, at least 64Ki. Without a rate (0), two directions of 10 GbE line rate
// (2 x 14.88 Mpps), capped at 1Mi (29.76 M frames per second of delay would not fit in memory);
// a given rate is capped at 64Mi only.
uint64_t DefaultHold(uint64_t delay_ns, uint64_t rate_pps = 0);
// The start-up line that says how many frames a run holds, why, and what happens past that.
std::string DescribeHold(uint64_t hold, const RunOptions& options, uint64_t delay_ns);

// How long a stop waits for the control plane to finish a request it is handling. Long enough for
// a control thread that a busy machine keeps off the CPU for a while (it would lose the series'
// last interval), short enough that SIGTERM never waits on a client.
inline constexpr std::chrono::milliseconds kControlStopTimeout{1000};

// Runs until SIGINT/SIGTERM. Returns the process exit status (0, 1 runtime failure, 2 bad
// usage). Prints "faultline: forwarding ..." on stdout once traffic can flow.
int RunLive(const RunOptions& options);

}  // namespace faultline
