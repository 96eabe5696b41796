#include "control/validate.h"

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "control/profile_parser.h"
#include "control/trace_parser.h"

namespace faultline {
namespace {

// Whether the file at `path` reads as a trace; a file that cannot be read is left to the
// profile parser, which says why.
bool IsTraceFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::ostringstream text;
  text << file.rdbuf();
  return !file.bad() && LooksLikeTrace(text.str());
}

}  // namespace

int RunValidate(const std::vector<std::string>& files, const std::string& profile) {
  if (files.empty()) {
    std::fprintf(stderr, "faultline validate: no profile or trace files given\n");
    return 2;
  }
  std::optional<ProfileSpec> running;
  if (!profile.empty()) {
    std::string error;
    running = ParseProfileFile(profile, &error);
    if (!running) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 2;
    }
  }
  bool all_good = true;
  for (const std::string& file : files) {
    std::string error;
    std::string summary;
    if (IsTraceFile(file)) {
      const std::optional<TraceSpec> trace =
          ParseTraceFile(file, running ? &*running : nullptr, &error);
      if (trace) summary = DescribeTrace(*trace);
    } else {
      const std::optional<ProfileSpec> parsed = ParseProfileFile(file, &error);
      if (parsed) summary = DescribeProfile(*parsed);
    }
    if (!error.empty()) {
      std::fprintf(stderr, "%s\n", error.c_str());
      all_good = false;
      continue;
    }
    std::printf("%s: ok\n%s", file.c_str(), summary.c_str());
  }
  std::fflush(stdout);
  return all_good ? 0 : 2;
}

}  // namespace faultline
