// `faultline replay`: the live pipeline, offline, in virtual time driven by pcap timestamps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dataplane/config/profile_spec.h"
#include "dataplane/config/trace_spec.h"

namespace faultline {

struct ReplayOptions {
  std::string in_a;   // frames arriving on side a (port 0)...
  std::string out_b;  // ...leave by side b (port 1)
  std::string in_b;   // optional reverse direction
  // What leaves by side a: frames from in_b, partitions' answers to side a. May be given without
  // in_b; without it, what would leave by side a is dropped and counted as `no-output`.
  std::string out_a;
  uint64_t delay_ns = 0;  // without a profile: a one-rule profile of this delay (as `run`)
  std::optional<ProfileSpec> profile;  // validated profile (control/profile/profile_parser)
  std::optional<uint64_t> seed;        // overrides the profile's seed
  // Validated trace (control/trace/trace_parser), played in virtual time: its time zero is the
  // earliest input frame's timestamp, and a step at T applies to every frame stamped T or later.
  std::optional<TraceSpec> trace;
  uint64_t hold = 65536;  // packets in flight at most; more are dropped as buffer_exhausted
  std::string stats_json;
  // --series FILE: the time series (docs/formats.md, "Series") in virtual time, one interval line
  // per series_interval_ns of the inputs' clock from the first frame.
  std::string series;
  uint64_t series_interval_ns = 1'000'000'000;
  std::string record;  // --record: every frame's fate (reporting/frame_record_file.h)
  // Files the command line named and were read before the replay (no output may be one).
  std::string profile_path, trace_path;
};

// Returns the exit status: 0, 1 (runtime failure), 2 (invalid input: nothing is replayed; or an
// input capture that is cut short or damaged: what it held before is replayed, the outputs and
// statistics are written, and the status says the input was not whole).
int RunReplay(const ReplayOptions& options);

}  // namespace faultline
