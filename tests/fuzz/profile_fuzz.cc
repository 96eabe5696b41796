// Profile parser: any bytes as a profile (docs/formats.md). Every input must end in a profile or
// a positioned error, within the limits of docs/formats.md ("Limits"), and a parsed profile must
// describe itself and parse again from the same text to the same profile.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/profile/profile_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<faultline::ProfileSpec> profile =
      faultline::ParseProfileText(text, "fuzz.yaml", &error);
  if (!profile) {
    // "fuzz.yaml:LINE:COL: message", or a file read error for a table.
    if (error.rfind("fuzz.yaml:", 0) != 0) std::abort();
    return 0;
  }
  if (profile->rules.size() > faultline::kMaxRules ||
      profile->groups.size() > faultline::kMaxGroups ||
      faultline::MatchEndpointCount(*profile) > faultline::kMaxMatchEndpoints) {
    std::abort();
  }
  (void)faultline::DescribeProfile(*profile);
  std::string again;
  const std::optional<faultline::ProfileSpec> reparsed =
      faultline::ParseProfileText(text, "fuzz.yaml", &again);
  if (!reparsed || !(*reparsed == *profile)) std::abort();  // parsing is a function of the text
  return 0;
}
