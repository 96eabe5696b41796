#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <algorithm>

namespace faultline {

std::vector<std::string> WithHugepageHygiene(std::vector<std::string> eal_args) {
  const bool user_chose = std::any_of(eal_args.begin(), eal_args.end(), [](const std::string& a) {
    return a == "--in-memory" || a == "--no-huge" || a.rfind("--huge-unlink", 0) == 0;
  });
  if (!user_chose) eal_args.push_back("--huge-unlink");
  return eal_args;
}

std::vector<std::string> OfflineEalArgs(unsigned memory_mb) {
  return {"--no-huge",   "--no-pci",
          "--no-shconf", "--no-telemetry",
          "-l",          "0",
          "-m",          std::to_string(memory_mb),
          "--log-level", "lib.eal:error"};
}

bool InitEal(const std::vector<std::string>& eal_args, std::string* error) {
  std::vector<std::string> storage = {"faultline"};
  storage.insert(storage.end(), eal_args.begin(), eal_args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(storage.size()), argv.data()) < 0) {
    *error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
    return false;
  }
  return true;
}

}  // namespace faultline
