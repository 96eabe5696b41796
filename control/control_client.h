// `faultline heal` and `faultline apply`: the command-line end of the control socket.
#pragma once

#include <string>

namespace faultline {

// Heals "partitions", "impairments" or "all" on the dataplane listening on `socket_path`.
// Returns the exit status: 0 done, 1 runtime failure (no dataplane there, no answer, a worker
// did not take the change), 2 refused as bad input.
int RunHeal(const std::string& what, const std::string& socket_path);

// Validates `file` here first (file:line:col errors, exit 2, nothing sent), then has the
// dataplane apply it atomically. Exit status as RunHeal.
int RunApply(const std::string& file, const std::string& socket_path);

}  // namespace faultline
