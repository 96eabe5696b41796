#include "dataplane/config/regular_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace faultline {
namespace {

std::string KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a plain file";
}

// Owns a descriptor and closes it on every way out (move-only: one owner).
struct Descriptor {
  int fd;
  explicit Descriptor(int descriptor) : fd(descriptor) {}
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  Descriptor(Descriptor&& other) noexcept : fd(other.fd) { other.fd = -1; }
  Descriptor& operator=(Descriptor&&) = delete;
  ~Descriptor() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::optional<std::string> ReadRegularFile(const std::string& path, std::string* error,
                                           size_t max_bytes) {
  auto fail = [&](const std::string& why) {
    *error = path + ": cannot read: " + why;
    return std::nullopt;
  };
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer; what it is is checked next.
  const Descriptor file{open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (file.fd < 0) return fail(std::strerror(errno));
  struct stat info;
  if (fstat(file.fd, &info) != 0) return fail(std::strerror(errno));
  if (S_ISDIR(info.st_mode)) return fail("it is a directory");
  if (!S_ISREG(info.st_mode)) return fail("it is " + KindOf(info.st_mode) + ", not a regular file");
  const auto too_large = [&] {
    return fail("it is larger than " + std::to_string(max_bytes) +
                " bytes, the most faultline reads");
  };
  if (static_cast<uint64_t>(info.st_size) > max_bytes) return too_large();
  // The file may grow while it is read: never read more than the limit plus one byte.
  std::string text(static_cast<size_t>(info.st_size) + 1, '\0');
  size_t length = 0;
  for (;;) {
    if (length == text.size()) {
      if (text.size() > max_bytes) return too_large();
      text.resize(std::min(text.size() * 2, max_bytes + 1));
    }
    const ssize_t got = read(file.fd, text.data() + length, text.size() - length);
    if (got < 0) {
      if (errno == EINTR) continue;
      return fail(std::strerror(errno));
    }
    if (got == 0) break;
    length += static_cast<size_t>(got);
  }
  text.resize(length);
  return text;
}

}  // namespace faultline
