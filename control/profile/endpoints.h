// Endpoints as a profile names them: addresses, prefixes and MAC addresses in text, sets of them
// without repeats, and what a text that is none of them was most likely meant to be. Shared by
// the profile parser's parts and by the topology reader (control/trace/topology.cc).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "control/yaml/yaml_document.h"
#include "dataplane/config/profile_spec.h"

namespace faultline {

inline constexpr char kMacForm[] = "six hex bytes like aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff";

// "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff", any case, one kind of separator throughout.
std::optional<MacAddress> ParseMac(const std::string& text);

// What a text that is not a valid address was most likely meant to be, to pick the error that
// helps: "10.1.2.300" and "fd00::1::2" are broken IP addresses, "aa:bb:cc:dd:ee" a broken MAC,
// "rack-a" a name.
enum class Lookalike { kName, kIp, kMac };
Lookalike LookalikeOf(const std::string& text);

// Hex digits in groups of one or two, separated by ':' or '-', four groups or more: read as a
// MAC address (a broken one, or a name that a profile would take for one).
bool HexGroupsLikeMac(const std::string& text);

// "10.0.1.0/24", "fd00::/64", or a bare address (a /32 or /128). Host bits beyond the prefix
// length are refused, with the network the user probably meant.
std::optional<Prefix> ParsePrefix(const std::string& text, std::string* error);

// One endpoint as bytes: family (0 for a MAC), prefix length, address.
using EndpointKey = std::array<uint8_t, 18>;
EndpointKey KeyOf(const Prefix& prefix);
EndpointKey KeyOf(const MacAddress& mac);

struct EndpointKeyHash {
  size_t operator()(const EndpointKey& key) const {
    return std::hash<std::string_view>()(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  }
};

// An EndpointSet built in order without repeats, each endpoint added in O(1): searching the set
// for every addition made a group of n members cost n^2, and a group including large groups far
// more.
class EndpointBuilder {
 public:
  void Add(const Prefix& prefix) {
    if (keys_.insert(KeyOf(prefix)).second) set_.prefixes.push_back(prefix);
  }
  void Add(const MacAddress& mac) {
    if (keys_.insert(KeyOf(mac)).second) set_.macs.push_back(mac);
  }
  void Add(const EndpointSet& more) {
    for (const Prefix& prefix : more.prefixes) Add(prefix);
    for (const MacAddress& mac : more.macs) Add(mac);
  }
  EndpointSet Take() { return std::move(set_); }

 private:
  EndpointSet set_;
  std::unordered_set<EndpointKey, EndpointKeyHash> keys_;
};

size_t EndpointCount(const EndpointSet& set);

// A set's endpoints in a canonical order, to compare sets whatever order they were named in.
std::vector<EndpointKey> Canonical(const EndpointSet& set);

// Whether two sets (each without repeats, as EndpointBuilder builds them) hold the same
// endpoints.
bool SameEndpoints(const EndpointSet& a, const EndpointSet& b);

// An address, a prefix or a MAC address, added to `set`.
bool ParseAddress(const std::string& text, EndpointBuilder* set, std::string* error);

// A scalar as a list of one, or a list's items; false for anything else.
bool ScalarOrList(const yaml::Node& value, std::vector<yaml::Node>* items);

// 4 or 6 when every endpoint of `set` is an IPv4 (IPv6) prefix; 0 when it holds a MAC address,
// both families or nothing, and so can match frames of any kind.
int OnlyFamily(const EndpointSet& set);

}  // namespace faultline
