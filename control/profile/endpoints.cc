#include "control/profile/endpoints.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "control/base/units.h"
#include "control/profile/profile_names.h"

namespace faultline {

std::optional<MacAddress> ParseMac(const std::string& text) {
  if (text.size() != 17 || (text[2] != ':' && text[2] != '-')) return std::nullopt;
  MacAddress mac{};
  for (size_t byte = 0; byte < mac.size(); ++byte) {
    const size_t at = byte * 3;
    if (byte > 0 && text[at - 1] != text[2]) return std::nullopt;
    const char high = text[at], low = text[at + 1];
    if (!std::isxdigit(static_cast<unsigned char>(high)) ||
        !std::isxdigit(static_cast<unsigned char>(low))) {
      return std::nullopt;
    }
    mac[byte] = static_cast<uint8_t>(std::stoi(text.substr(at, 2), nullptr, 16));
  }
  return mac;
}

bool HexGroupsLikeMac(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789abcdefABCDEF:-") != std::string::npos) {
    return false;
  }
  size_t groups = 1, longest = 0, run = 0;
  for (char c : text) {
    if (c == ':' || c == '-') {
      ++groups;
      run = 0;
    } else {
      longest = std::max(longest, ++run);
    }
  }
  return groups >= 4 && longest <= 2;
}

Lookalike LookalikeOf(const std::string& text) {
  const std::string address = text.substr(0, text.find('/'));
  std::array<uint8_t, 16> scratch{};
  if (inet_pton(AF_INET, address.c_str(), scratch.data()) == 1 ||
      inet_pton(AF_INET6, address.c_str(), scratch.data()) == 1) {
    return Lookalike::kIp;
  }
  if (text.size() == 17) {  // punctuated like a MAC ("aa:bb:cc:dd:ee:fg")
    bool punctuated = true;
    for (size_t i = 2; i < text.size(); i += 3) {
      punctuated = punctuated && (text[i] == ':' || text[i] == '-');
    }
    if (punctuated) return Lookalike::kMac;
  }
  if (!text.empty() && text.find_first_not_of("0123456789./") == std::string::npos &&
      text.find_first_of("./") != std::string::npos) {
    return Lookalike::kIp;
  }
  if (HexGroupsLikeMac(text)) return Lookalike::kMac;
  const bool hex_and_separators =
      !text.empty() && text.find_first_not_of("0123456789abcdefABCDEF:-") == std::string::npos;
  return hex_and_separators && text.find(':') != std::string::npos ? Lookalike::kIp
                                                                   : Lookalike::kName;
}

std::optional<Prefix> ParsePrefix(const std::string& text, std::string* error) {
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  Prefix prefix;
  if (inet_pton(AF_INET, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = 6;
  } else {
    *error = "'" + text + "' is not an IPv4 or IPv6 address or prefix";
    return std::nullopt;
  }
  const int max_length = prefix.family == 4 ? 32 : 128;
  prefix.length = max_length;
  if (slash != std::string::npos) {
    const std::optional<uint64_t> length = ParseUnsigned(text.substr(slash + 1));
    if (!length || *length > static_cast<uint64_t>(max_length)) {
      *error = "'" + text + "': the prefix length must be 0.." + std::to_string(max_length) +
               " for IPv" + std::to_string(prefix.family);
      return std::nullopt;
    }
    prefix.length = static_cast<uint8_t>(*length);
  }
  // Host bits beyond the prefix are almost always a typo for another prefix (10.0.1.5/24 for
  // 10.0.1.0/24, or for 10.0.1.5/32): refuse rather than guess which.
  Prefix network = prefix;
  for (int bit = prefix.length; bit < max_length; ++bit) {
    network.address[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (network.address != prefix.address) {
    *error = "'" + text + "' has host bits set beyond /" + std::to_string(prefix.length) +
             " (did you mean " + FormatPrefix(network) + "?)";
    return std::nullopt;
  }
  return prefix;
}

EndpointKey KeyOf(const Prefix& prefix) {
  EndpointKey key{};
  key[0] = prefix.family;
  key[1] = prefix.length;
  std::copy(prefix.address.begin(), prefix.address.end(), key.begin() + 2);
  return key;
}

EndpointKey KeyOf(const MacAddress& mac) {
  EndpointKey key{};
  std::copy(mac.begin(), mac.end(), key.begin() + 2);
  return key;
}

size_t EndpointCount(const EndpointSet& set) { return set.prefixes.size() + set.macs.size(); }

std::vector<EndpointKey> Canonical(const EndpointSet& set) {
  std::vector<EndpointKey> keys;
  keys.reserve(EndpointCount(set));
  for (const Prefix& prefix : set.prefixes) keys.push_back(KeyOf(prefix));
  for (const MacAddress& mac : set.macs) keys.push_back(KeyOf(mac));
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool SameEndpoints(const EndpointSet& a, const EndpointSet& b) {
  if (a.prefixes.size() != b.prefixes.size() || a.macs.size() != b.macs.size()) return false;
  return Canonical(a) == Canonical(b);
}

bool ParseAddress(const std::string& text, EndpointBuilder* set, std::string* error) {
  if (const std::optional<MacAddress> mac = ParseMac(text)) {
    set->Add(*mac);
    return true;
  }
  if (LookalikeOf(text) == Lookalike::kMac) {
    *error = "'" + text + "' is not a MAC address (" + kMacForm + ")";
    return false;
  }
  const std::optional<Prefix> prefix = ParsePrefix(text, error);
  if (!prefix) return false;
  set->Add(*prefix);
  return true;
}

bool ScalarOrList(const yaml::Node& value, std::vector<yaml::Node>* items) {
  items->clear();
  if (value.IsScalar()) {
    items->push_back(value);
  } else if (value.IsSequence()) {
    for (const yaml::Node& item : value) items->push_back(item);
  } else {
    return false;
  }
  return true;
}

int OnlyFamily(const EndpointSet& set) {
  if (set.prefixes.empty() || !set.macs.empty()) return 0;
  const uint8_t family = set.prefixes[0].family;
  for (const Prefix& prefix : set.prefixes) {
    if (prefix.family != family) return 0;
  }
  return family;
}

}  // namespace faultline
