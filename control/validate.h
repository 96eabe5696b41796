// `faultline validate FILE...`: checks profiles without a dataplane.
#pragma once

#include <string>
#include <vector>

namespace faultline {

// Parses each profile; prints "FILE: ok" and a summary for each good one to stdout and the
// error ("FILE:LINE:COL: message") for each bad one to stderr. Every file is checked even after
// a bad one, so one run lists every broken file. Returns 0 if all are good, 2 otherwise (the exit
// status of invalid input).
int RunValidate(const std::vector<std::string>& files);

}  // namespace faultline
