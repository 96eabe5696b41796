#include "control/base/installed_files.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace faultline {
namespace {

bool Exists(const std::string& path) {
  struct stat status;
  return stat(path.c_str(), &status) == 0;
}

}  // namespace

std::string SelfExecutable() {
  char path[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (length <= 0) return "faultline";
  return std::string(path, static_cast<size_t>(length));
}

std::string InstalledDataDirectory() {
  // <prefix>/bin/faultline -> <prefix>/share/faultline, without ".." in the names it prints.
  std::string prefix = SelfExecutable();
  for (int level = 0; level < 2; ++level) {
    const size_t slash = prefix.rfind('/');
    if (slash == std::string::npos) return "../share/faultline";
    prefix.resize(slash);
  }
  return prefix + "/share/faultline";
}

std::string FindConfigurationFile(const std::string& path) {
  if (path.empty() || path.front() == '/' || Exists(path)) return path;
  const std::string data = InstalledDataDirectory();
  for (const std::string& candidate : {data + "/" + path, data + "/profiles/" + path}) {
    if (Exists(candidate)) return candidate;
  }
  return path;
}

}  // namespace faultline
