// The trace file (docs/formats.md, "Trace file"): YAML in, a validated TraceSpec out.
//
// A trace is a timed list of events (set-impairment, partition, heal, stall, link) played on a
// profile: its own (`profile:`, a path or inline) or the running one. Every problem is reported
// as "FILE:LINE:COL: message", as for profiles; a trace is also played through once (CheckTrace)
// so that an event that cannot apply (a rule the profile lacks, a partition to heal that is not
// in force) is an error before anything runs.
#pragma once

#include <optional>
#include <string>

#include "dataplane/config/profile_spec.h"
#include "dataplane/config/trace_spec.h"

namespace faultline {

// Parses the trace at `path`. `running`: the profile the trace applies to when it has no
// `profile:` key (group names in partition and stall events resolve against it, and the events
// are checked against it); may be null, then a trace without `profile:` that names groups (or
// rules, impairments, partitions of a profile) is an error saying to add `profile:` or pass
// --profile. A relative `profile:` path resolves against the directory of `path`.
std::optional<TraceSpec> ParseTraceFile(const std::string& path, const ProfileSpec* running,
                                        std::string* error);

// As ParseTraceFile, with `profile` in place of the trace's own `profile:`, which is not loaded
// (replay --profile or --delay with --trace: the command line wins over the file, as --seed does
// over a profile's seed). The events are checked against `profile`. *replaced gets where the
// trace's `profile:` key is ("FILE:LINE:COL"), or "" if it has none.
std::optional<TraceSpec> ParseTraceFileReplacingProfile(const std::string& path,
                                                        const ProfileSpec& profile,
                                                        std::string* replaced, std::string* error);

// The same for a trace in memory; `name_for_errors` stands in for the path in errors (and gives
// the trace's default name), `base_directory` is where relative paths resolve ("": the current
// directory).
std::optional<TraceSpec> ParseTraceText(const std::string& text, const std::string& name_for_errors,
                                        const std::string& base_directory,
                                        const ProfileSpec* running, std::string* error);

// Whether `text` is meant as a trace: a YAML mapping at the top with an `events:` key.
bool LooksLikeTrace(const std::string& text);

// A short human summary for `faultline validate`: a header line, the trace's own profile (if
// any), then one line per event, each line ending in '\n'.
std::string DescribeTrace(const TraceSpec& trace);

}  // namespace faultline
