// The profile file (docs/formats.md, "Profile file"): YAML in, a validated ProfileSpec out.
//
// Everything a profile can get wrong is caught here, before a dataplane sees it, and reported
// as "FILE:LINE:COL: message" pointing at the offending key or value, so that `faultline
// validate` and `faultline apply` fail the same way and an editor can jump to the spot.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "control/yaml_document.h"
#include "dataplane/profile_spec.h"

namespace faultline {

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
struct GroupContext {
  const ProfileSpec* profile = nullptr;
  std::string no_groups_hint;
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
