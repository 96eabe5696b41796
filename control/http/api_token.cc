#include "control/http/api_token.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "control/base/unique_fd.h"

namespace faultline {

namespace {

constexpr size_t kMaxTokenFileBytes = 4096;

std::array<unsigned char, SHA256_DIGEST_LENGTH> Digest(std::string_view text) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

std::optional<std::string> ReadTokenFile(const std::string& path, bool check_mode,
                                         std::string* error) {
  const UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  struct stat status;
  if (!fd.valid() || fstat(fd.get(), &status) != 0) {
    *error = "cannot read the token file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (check_mode &&
      (!S_ISREG(status.st_mode) || status.st_uid != geteuid() || (status.st_mode & 0177) != 0)) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(status.st_mode & 07777));
    *error = "the token file " + path +
             " must be a regular file owned by this user with mode 0600 " + "(it has mode " + mode +
             " and owner uid " + std::to_string(status.st_uid) + "): chmod 600 " + path;
    return std::nullopt;
  }
  std::string text(kMaxTokenFileBytes, '\0');
  const ssize_t got = read(fd.get(), text.data(), text.size());
  if (got < 0) {
    *error = "cannot read the token file " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  text.resize(static_cast<size_t>(got));
  text = text.substr(0, text.find('\n'));
  const size_t first = text.find_first_not_of(" \t\r");
  const size_t last = text.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    *error = "the token file " + path + " is empty: put a token in it, e.g. openssl rand -hex 32";
    return std::nullopt;
  }
  return text.substr(first, last - first + 1);
}

bool TokensEqual(std::string_view presented, std::string_view expected) {
  const auto a = Digest(presented);
  const auto b = Digest(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace faultline
