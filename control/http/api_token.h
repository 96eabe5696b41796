// The API's bearer token: read from a file only its owner can read, compared in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace faultline {

// The token in `path` (its first line, surrounding white space removed). The server refuses a
// file that is not a regular file owned by the user with mode 0600 (or 0400), or is empty:
// nullopt with *error. `check_mode` false (the client side) only reads it.
std::optional<std::string> ReadTokenFile(const std::string& path, bool check_mode,
                                         std::string* error);

// Whether `presented` equals `expected`, in a time that does not depend on where they differ
// nor on their lengths (both are hashed to SHA-256 first, then compared with CRYPTO_memcmp).
bool TokensEqual(std::string_view presented, std::string_view expected);

}  // namespace faultline
