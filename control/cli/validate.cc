#include "control/cli/validate.h"

#include <cstdio>
#include <optional>
#include <sstream>

#include "control/profile/profile_parser.h"
#include "control/trace/topology.h"
#include "control/trace/trace_parser.h"
#include "control/yaml/yaml_source.h"

namespace faultline {
namespace {

enum class FileKind { kProfile, kTrace, kTopology };

// What the file at `path` is, by its top-level keys (`events:` a trace, `racks:` a topology for
// `trace generate`); a file that cannot be read is left to the profile parser, which says why.
FileKind KindOf(const std::string& path) {
  std::string unread;
  const std::optional<std::string> text = yaml_source::ReadSourceFile(path, &unread);
  if (!text) return FileKind::kProfile;
  if (LooksLikeTrace(*text)) return FileKind::kTrace;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("racks:", 0) == 0) return FileKind::kTopology;
  }
  return FileKind::kProfile;
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
    const FileKind kind = KindOf(file);
    if (kind == FileKind::kTrace) {
      const std::optional<TraceSpec> trace =
          ParseTraceFile(file, running ? &*running : nullptr, &error);
      if (trace) summary = DescribeTrace(*trace);
      if (trace && running && trace->profile) {
        // --profile is for traces without one: say it was not used rather than ignore it.
        summary += "  note: --profile " + profile +
                   " is not used for this trace: it has its own "
                   "profile (" +
                   trace->profile_source +
                   "), as when it is started live; `replay "
                   "--profile` would replace it\n";
      }
    } else if (kind == FileKind::kTopology) {
      const std::optional<Topology> topology = ParseTopologyFile(file, &error);
      if (topology) {
        summary =
            "a topology for `faultline trace generate`: " + std::to_string(topology->racks.size()) +
            " rack(s), " + std::to_string(topology->NodeCount()) + " node(s), " +
            std::to_string(topology->aggregations.size()) + " aggregation switch(es), " +
            std::to_string(topology->load_balancers.size()) + " load balancer(s)\n";
      }
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
