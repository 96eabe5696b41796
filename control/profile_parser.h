// The profile file (docs/formats.md, "Profile file"): YAML in, a validated ProfileSpec out.
//
// Everything a profile can get wrong is caught here, before a dataplane sees it, and reported
// as "FILE:LINE:COL: message" pointing at the offending key or value, so that `faultline
// validate` and `faultline apply` fail the same way and an editor can jump to the spot.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

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

// A short human summary for `faultline validate`: a header line, then one line per rule (name,
// match, impairment and its effects), each line ending in '\n'.
std::string DescribeProfile(const ProfileSpec& profile);

}  // namespace faultline
