// The files a command reads and writes, checked before it starts: an hour of statistics must not
// be lost to a typo in a path the command only opens at the end, and no output may destroy an
// input. Every output of a command (statistics, pcaps, and whatever later series or record files
// come) goes through one CheckOutputPaths call before the first frame.
#pragma once

#include <string>
#include <vector>

namespace faultline {

struct NamedPath {
  std::string option;  // how the user gave it, e.g. "--stats-json"
  std::string path;    // "" (not given) is skipped
};

// Refuses (returns why; "" if all is well):
//   - an output that is the same file as an input (same device and inode, whatever the names:
//     links, ./x and x), or as another output; outputs that are character devices (/dev/null)
//     may be shared;
//   - an output that cannot be created or written where it is (missing directory, a directory,
//     no permission, read-only file system). Checked by opening it for writing, without
//     truncating; a file that did not exist is removed again.
// "-" (standard output, for pcaps) is taken as it is, once.
std::string CheckOutputPaths(const std::vector<NamedPath>& inputs,
                             const std::vector<NamedPath>& outputs);

}  // namespace faultline
