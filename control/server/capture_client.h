// `faultline capture`: the client end of live capture. Starts a capture on the running dataplane
// (capture-start), reads its frames (capture-read, one response per request, so it works on the
// control socket and over `--box URL`) into a pcapng file with each frame's cause as its
// comment, and ends it (capture-stop).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace faultline {

struct CaptureOptions {
  std::string what = "all";  // dropped, duplicated, corrupted, delayed or all
  std::string rule;          // only this rule's frames ("" any)
  uint64_t count = 0;        // stop after this many frames (0: no limit)
  uint64_t duration_ns = 0;  // stop after this long (0: no limit)
  std::string out;           // the pcapng file
};

// The pcapng comment of a frame of capture-read: "dropped:loss rule=lossy dir=a-to-b",
// "duplicated rule=dup dir=b-to-a", ...
std::string CaptureComment(const nlohmann::json& frame);

// Runs the capture until its count or duration, or Ctrl-C. Exit status: 0, 1 runtime failure,
// 2 refused as bad input.
int RunCapture(const CaptureOptions& options, const std::string& socket_path);

}  // namespace faultline
