#include "control/validate.h"

#include <cstdio>
#include <optional>

#include "control/profile_parser.h"

namespace faultline {

int RunValidate(const std::vector<std::string>& files) {
  if (files.empty()) {
    std::fprintf(stderr, "faultline validate: no profile files given\n");
    return 2;
  }
  bool all_good = true;
  for (const std::string& file : files) {
    std::string error;
    const std::optional<ProfileSpec> profile = ParseProfileFile(file, &error);
    if (!profile) {
      std::fprintf(stderr, "%s\n", error.c_str());
      all_good = false;
      continue;
    }
    std::printf("%s: ok\n%s", file.c_str(), DescribeProfile(*profile).c_str());
  }
  std::fflush(stdout);
  return all_good ? 0 : 2;
}

}  // namespace faultline
