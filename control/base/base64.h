// Base64 (RFC 4648, with padding): how the control socket's JSON carries captured frames.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace faultline {

std::string Base64Encode(std::string_view bytes);
// The bytes, or nullopt if `text` is not padded base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace faultline
