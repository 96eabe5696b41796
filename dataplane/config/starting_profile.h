// The profile `run` and `replay` start with when the command line gives no profile file: one rule
// for `--delay`, or none. Both drivers compile it like any profile (one path for `--delay`).
#pragma once

#include <cstdint>
#include <optional>

#include "dataplane/config/profile_spec.h"

namespace faultline {

// A profile with one rule that delays everything by `delay_ns` (the `--delay` shortcut).
ProfileSpec ConstantDelayProfile(uint64_t delay_ns);

// The profile a run starts with: `profile` if given, else a one-rule profile of `delay_ns`, else
// an empty one (no rules: every frame passes untouched).
ProfileSpec StartingProfile(const std::optional<ProfileSpec>& profile, uint64_t delay_ns);

}  // namespace faultline
