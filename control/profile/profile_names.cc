#include "control/profile/profile_names.h"

#include <arpa/inet.h>

#include <cstdio>

namespace faultline {

std::string FormatPrefix(const Prefix& prefix) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(prefix.family == 4 ? AF_INET : AF_INET6, prefix.address.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix.length);
}

std::string FormatMac(const MacAddress& mac) {
  char text[18];
  std::snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return text;
}

std::string Hex16(uint16_t value) {
  char text[7];
  std::snprintf(text, sizeof(text), "0x%04x", value);
  return text;
}

std::string DscpName(uint32_t value) {
  if (value == 46) return "ef";
  if (value == 1) return "le";
  if (value % 8 == 0 && value <= 56) return "cs" + std::to_string(value / 8);
  const uint32_t precedence = value / 8, drop = value % 8 / 2;
  if (value % 2 == 0 && precedence >= 1 && precedence <= 4 && drop >= 1 && drop <= 3) {
    return "af" + std::to_string(precedence) + std::to_string(drop);
  }
  return "";
}

}  // namespace faultline
