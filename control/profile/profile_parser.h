// The profile file (docs/formats.md, "Profile file"): YAML in, a validated ProfileSpec out.
//
// Everything a profile can get wrong is caught here, before a dataplane sees it, and reported
// as "FILE:LINE:COL: message" pointing at the offending key or value, so that `faultline
// validate` and `faultline apply` fail the same way and an editor can jump to the spot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "control/yaml/yaml_document.h"
#include "dataplane/config/profile_spec.h"

namespace faultline {

// Limits of a profile beyond those of the dataplane (kMaxRules, kMaxMatchEndpoints, kMaxPartitions,
// kMaxPartitionCuts in dataplane/profile_spec.h); docs/formats.md, "Limits".
inline constexpr size_t kMaxGroups = 10'000;
inline constexpr size_t kMaxImpairments = 4096;
// Values in the delay tables of all impairments (32 MiB): every impairment with a generated
// table (4,096 values each), or 256 of the largest .dist files (65,536).
inline constexpr size_t kMaxDelayTableValues = size_t{1} << 24;
// Endpoints in all groups once expanded (their memory), and the steps of expanding them: a
// group's members are stepped over again each time another group includes it (1,000 groups that
// each include every group before them take 1.7e8 steps, about 0.3 s).
inline constexpr size_t kMaxGroupMembers = 1'000'000;
inline constexpr uint64_t kMaxGroupVisits = uint64_t{1} << 28;

// Bounds of values; docs/formats.md, "Limits" gives the reason for each.
inline constexpr uint64_t kMaxSeed = (uint64_t{1} << 53) - 1;     // exact as a JSON number
inline constexpr uint64_t kMaxDelayNs = 86'400'000'000'000;       // delay base and jitter: 1d each
inline constexpr uint64_t kMaxStallNs = 86'400'000'000'000;       // stall for: 1d
inline constexpr uint64_t kMaxStallPeriodNs = 365 * kMaxStallNs;  // stall start and every: 365d
inline constexpr double kMinBitErrorRate = 1e-15;                 // ber (or 0)
inline constexpr uint64_t kMinBandwidthBps = 1'000;               // 1kbit
inline constexpr uint64_t kMaxBandwidthBps = 1'000'000'000'000;   // 1tbit
inline constexpr uint64_t kMaxQueuePackets = uint64_t{1} << 20;   // queue-limit, ecn-threshold
inline constexpr uint64_t kMaxQueueBytes = 50'000'000;            // 50MB
inline constexpr uint64_t kMaxStallLimitPackets = UINT32_MAX;     // stall limit
inline constexpr uint64_t kMaxStallLimitBytes = 1'000'000'000'000;  // 1000GB

// Defaults of values a profile may leave out.
inline constexpr uint64_t kDefaultQueueLimitPackets = 1000;    // rate queue-limit: netem's limit
inline constexpr uint64_t kDefaultStallLimitPackets = 10'000;  // stall limit (also a trace's stall)

// Reads and validates the profile at `path`. Relative `table:` paths resolve against the
// directory of `path`. On any problem returns nullopt and sets *error to "PATH:LINE:COL: message"
// (1-based; "PATH: message" when the file cannot be read at all). The first problem wins.
std::optional<ProfileSpec> ParseProfileFile(const std::string& path, std::string* error);

// The same for a profile already in memory; `name_for_errors` stands in for PATH in errors.
// Relative `table:` paths resolve against the current directory, as text has none of its own.
std::optional<ProfileSpec> ParseProfileText(const std::string& text,
                                            const std::string& name_for_errors, std::string* error);
// The same with relative `table:` paths resolved against `base_directory` (a live `apply`: the
// text comes from a file elsewhere).
std::optional<ProfileSpec> ParseProfileText(const std::string& text,
                                            const std::string& name_for_errors,
                                            const std::string& base_directory, std::string* error);

// --- Profile syntax inside other documents (traces) ---
// The YAML is already loaded and errors point into the document it came from:
// "NAME:LINE:COL: message" with `name_for_errors` as NAME.

// A profile given as a YAML mapping (same keys and checks as a profile file). Relative `table:`
// paths resolve against `base_directory`.
std::optional<ProfileSpec> ParseProfileNode(const yaml::Node& root,
                                            const std::string& name_for_errors,
                                            const std::string& base_directory, std::string* error);

// Where group names in the references below resolve: `profile`'s groups (no groups if null).
// With no groups, `no_groups_hint` says why in the error for a name that is not an address
// (instead of "the profile defines no groups").
// Endpoints named in rules and partitions (a group counted at its size each time it is named:
// the work of reading them) and held by their sets and cuts (the classifier's input,
// MatchEndpointCount); each at most kMaxMatchEndpoints.
struct EndpointCounts {
  size_t named = 0;
  size_t held = 0;
};

struct GroupContext {
  const ProfileSpec* profile = nullptr;
  std::string no_groups_hint;
  // Where the references parsed with this context count their endpoints (a trace's events
  // together stay within the limits); null: each reference on its own.
  EndpointCounts* endpoints = nullptr;
  // `profile`'s groups by name: built by the first reference, kept for the next ones.
  mutable std::shared_ptr<const std::unordered_map<std::string, size_t>> index;
};

// One entry of a profile's `partitions:` (any form, with mode, connections, name). Its name is
// `name:` or, without one, what it cuts ("isolate n3"); no ` #2` suffixes (nothing to compare
// with). Fails beyond kMaxPartitionCuts cuts.
std::optional<PartitionSpec> ParsePartitionNode(const yaml::Node& entry, const GroupContext& groups,
                                                const std::string& name_for_errors,
                                                std::string* error);

// An endpoint reference as in a rule's `src`/`dst`: a group, an address, a prefix, a MAC or a
// list of them. `position` is where to point when `value` has the wrong shape (an empty value has
// no position of its own: pass its key); `key` names it in errors; *label gets it as written
// (list items joined by '+').
std::optional<EndpointSet> ParseEndpointsNode(const yaml::Node& value, const yaml::Node& position,
                                              const std::string& key, const GroupContext& groups,
                                              const std::string& name_for_errors,
                                              std::string* label, std::string* error);

// A short human summary for `faultline validate`: a header line, then one line per rule (name,
// match, impairment and its effects), each line ending in '\n'.
std::string DescribeProfile(const ProfileSpec& profile);

}  // namespace faultline
