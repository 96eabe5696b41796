#include "dataplane/runtime/output_paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

namespace faultline {

namespace {

// Which file a path names: its device and inode if it exists; else its directory's and its own
// name (two outputs that do not exist yet may still be the same file).
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  std::string name;  // set for a file that does not exist yet
  bool character_device = false;

  bool operator==(const FileIdentity& other) const {
    return device == other.device && inode == other.inode && name == other.name;
  }
};

std::string Described(const NamedPath& path) { return path.option + " " + path.path; }

std::optional<FileIdentity> Identify(const std::string& path) {
  struct stat status;
  if (stat(path.c_str(), &status) == 0) {
    return FileIdentity{status.st_dev, status.st_ino, "", S_ISCHR(status.st_mode) != 0};
  }
  const std::filesystem::path name(path);
  std::filesystem::path directory = name.parent_path();
  if (directory.empty()) directory = ".";
  if (stat(directory.c_str(), &status) != 0) return std::nullopt;
  return FileIdentity{status.st_dev, status.st_ino, name.filename().string(), false};
}

// Whether `path` can be written: "" or why not.
std::string CheckWritable(const NamedPath& output) {
  const std::string& path = output.path;
  struct stat status;
  const bool existed = stat(path.c_str(), &status) == 0;
  if (existed && S_ISDIR(status.st_mode)) return Described(output) + ": is a directory";
  if (existed && !S_ISREG(status.st_mode)) {
    // A device or a pipe: opening it may block or consume; only ask.
    if (access(path.c_str(), W_OK) != 0) return Described(output) + ": " + std::strerror(errno);
    return "";
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (existed ? 0 : O_EXCL), 0644);
  if (fd < 0) {
    std::string why = std::strerror(errno);
    if (errno == ENOENT) {
      why = "no such directory " + std::filesystem::path(path).parent_path().string();
    }
    return Described(output) + ": cannot write there: " + why;
  }
  close(fd);
  if (!existed) unlink(path.c_str());
  return "";
}

}  // namespace

std::string CheckOutputPaths(const std::vector<NamedPath>& inputs,
                             const std::vector<NamedPath>& outputs) {
  std::vector<std::pair<const NamedPath*, FileIdentity>> seen;  // inputs, then earlier outputs
  for (const NamedPath& input : inputs) {
    if (input.path.empty() || input.path == "-") continue;
    struct stat status;
    if (stat(input.path.c_str(), &status) == 0) {
      seen.push_back({&input, FileIdentity{status.st_dev, status.st_ino, "", false}});
    }
  }
  const size_t input_count = seen.size();
  bool standard_output = false;
  for (const NamedPath& output : outputs) {
    if (output.path.empty()) continue;
    if (output.path == "-") {
      if (standard_output) return Described(output) + ": standard output is taken already";
      standard_output = true;
      continue;
    }
    const std::string problem = CheckWritable(output);
    if (!problem.empty()) return problem;
    const std::optional<FileIdentity> identity = Identify(output.path);
    if (!identity) continue;  // CheckWritable found its directory; it went meanwhile
    for (size_t i = 0; i < seen.size(); ++i) {
      const auto& [other, other_identity] = seen[i];
      if (!(other_identity == *identity)) continue;
      if (i < input_count) {
        return Described(output) + " is the same file as " + Described(*other) +
               ": writing it would destroy the input before it is read";
      }
      if (!identity->character_device) {
        return Described(output) + " is the same file as " + Described(*other) +
               ": two outputs would overwrite each other";
      }
    }
    seen.push_back({&output, *identity});
  }
  return "";
}

}  // namespace faultline
