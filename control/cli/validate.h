// `faultline validate FILE...`: checks profiles and traces without a dataplane.
#pragma once

#include <string>
#include <vector>

namespace faultline {

// Parses each file: a trace if it looks like one (a mapping with `events:`), else a profile.
// Prints "FILE: ok" and a summary for each good one to stdout and the error
// ("FILE:LINE:COL: message") for each bad one to stderr. Every file is checked even after a bad
// one, so one run lists every broken file. `profile` (may be ""): the profile traces without a
// `profile:` key are checked against, as the running profile they would be started on. Returns 0
// if all are good, 2 otherwise (the exit status of invalid input).
int RunValidate(const std::vector<std::string>& files, const std::string& profile = "");

}  // namespace faultline
