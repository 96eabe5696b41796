// A rule's match: direction, endpoints, protocol, ports, VLAN, DSCP, MAC addresses and
// EtherType, and the combinations no frame can satisfy.
#include <netinet/in.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/profile/profile_names.h"
#include "control/profile/profile_reader.h"

namespace faultline {
namespace {

constexpr char kPortForm[] = "a port (0..65535) or a range of ports like 2379-2380";

bool HasPorts(uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP;
}

constexpr uint16_t kEtherTypeIpv4 = 0x0800, kEtherTypeIpv6 = 0x86dd;
// EtherType values from here up; below are 802.3 lengths.
constexpr uint64_t kMinEtherType = 0x0600;
// Tag protocol identifiers: `ethertype` is the type after the tags, so these never match there.
constexpr uint16_t kVlanTpids[] = {0x8100, 0x88a8, 0x9100};

constexpr uint32_t kMaxVlanId = 4095;
constexpr uint32_t kMaxDscp = 63;

// The DSCP names of RFC 4594 and RFC 8622, any case: cs0..cs7, af11..af43, ef, le.
std::optional<uint32_t> DscpByName(const std::string& text) {
  const std::string name = Lowercase(text);
  if (name == "ef") return 46;
  if (name == "le") return 1;
  if (name.size() == 3 && name.starts_with("cs") && name[2] >= '0' && name[2] <= '7') {
    return 8 * (name[2] - '0');
  }
  if (name.size() == 4 && name.starts_with("af") && name[2] >= '1' && name[2] <= '4' &&
      name[3] >= '1' && name[3] <= '3') {
    return 8 * (name[2] - '0') + 2 * (name[3] - '0');
  }
  return std::nullopt;
}

}  // namespace

bool ProfileParser::ParseMatch(const Entry& match_entry, MatchSpec* match) {
  std::vector<Entry> entries;
  if (!Entries(match_entry, "match", /*allow_empty=*/false, &entries)) return false;
  std::map<std::string, const Entry*> given;
  for (const Entry& entry : entries) {
    bool ok = true;
    std::string label;  // for partition names only
    ValueRange ports;
    if (entry.key == "direction") {
      size_t index = 0;
      ok = Choice(entry, kDirectionNames, &index);
      match->direction = static_cast<Direction>(index);
    } else if (entry.key == "src" || entry.key == "dst") {
      ok = Endpoints(entry.value, At(entry), entry.key,
                     entry.key == "src" ? &match->src : &match->dst, &label);
    } else if (entry.key == "proto") {
      ok = ParseProto(entry, &match->proto);
    } else if (entry.key == "src-port") {
      ok = Range(entry, 65535, kPortForm, nullptr, &ports);
      match->src_port_min = static_cast<uint16_t>(ports.min);
      match->src_port_max = static_cast<uint16_t>(ports.max);
      match->has_src_port = true;
    } else if (entry.key == "dst-port") {
      ok = Range(entry, 65535, kPortForm, nullptr, &ports);
      match->dst_port_min = static_cast<uint16_t>(ports.min);
      match->dst_port_max = static_cast<uint16_t>(ports.max);
      match->has_dst_port = true;
    } else if (entry.key == "vlan") {
      ok = Range(entry, kMaxVlanId, "a VLAN ID (0..4095) or a range of them like 100-200", nullptr,
                 &match->vlan.emplace());
    } else if (entry.key == "dscp") {
      ok = Range(entry, kMaxDscp,
                 "a DSCP value (0..63 or a name: cs0..cs7, af11..af43, ef, le) or a range of "
                 "them like af11-af13",
                 DscpByName, &match->dscp.emplace());
    } else if (entry.key == "src-mac") {
      ok = Macs(entry, &match->src_mac);
    } else if (entry.key == "dst-mac") {
      ok = Macs(entry, &match->dst_mac);
    } else if (entry.key == "ethertype") {
      ok = ParseEtherType(entry, &match->ether_type);
    } else {
      ok = UnknownKey(entry, "match",
                      {"direction", "src", "dst", "proto", "src-port", "dst-port", "vlan", "dscp",
                       "src-mac", "dst-mac", "ethertype"});
    }
    if (!ok) return false;
    given[entry.key] = &entry;
  }
  return CanMatch(*match, given);
}

// A rule no frame can satisfy is a mistake: say which keys contradict each other rather than
// install a dead rule. `given` holds the match's entries by key.
bool ProfileParser::CanMatch(const MatchSpec& match,
                             const std::map<std::string, const Entry*>& given) {
  // Ports only exist in TCP, UDP and SCTP.
  for (const std::string port : {"src-port", "dst-port"}) {
    if (given.count(port) && match.proto && !HasPorts(*match.proto)) {
      return Fail(given.at(port)->key_node, port + " needs proto tcp, udp or sctp, not '" +
                                                given.at("proto")->value.Scalar() + "'");
    }
  }
  const std::pair<const char*, const EndpointSet*> sides[] = {{"src", &match.src},
                                                              {"dst", &match.dst}};
  if (match.ether_type) {
    const std::string ether = "ethertype '" + given.at("ethertype")->value.Scalar() + "'";
    const bool ip = *match.ether_type == kEtherTypeIpv4 || *match.ether_type == kEtherTypeIpv6;
    for (const std::string key : {"proto", "src-port", "dst-port", "dscp"}) {
      if (!ip && given.count(key)) {
        return Fail(given.at(key)->key_node,
                    key + " needs an IP ethertype (ipv4 or ipv6), not " + ether);
      }
    }
    for (const auto& [side, set] : sides) {
      const int family = OnlyFamily(*set);
      const yaml::Node& at = given.count(side) ? At(*given.at(side)) : yaml::Node();
      if (!ip && family != 0) {
        return Fail(at, std::string(side) + " has only IP addresses, which frames of " + ether +
                            " do not carry (give MAC addresses, or leave out ethertype)");
      }
      const int wanted = *match.ether_type == kEtherTypeIpv4 ? 4 : 6;
      if (ip && family != 0 && family != wanted) {
        return Fail(at, std::string(side) + " has only IPv" + std::to_string(family) +
                            " prefixes, which never match " + ether);
      }
    }
  }
  const int src_family = OnlyFamily(match.src), dst_family = OnlyFamily(match.dst);
  if (src_family != 0 && dst_family != 0 && src_family != dst_family) {
    return Fail(At(*given.at("dst")), "dst has only IPv" + std::to_string(dst_family) +
                                          " prefixes and src only IPv" +
                                          std::to_string(src_family) + " ones: no frame has both");
  }
  // A side of only MACs must share one with the same side's MAC list.
  const std::pair<const char*, const std::vector<MacAddress>*> mac_lists[] = {
      {"src-mac", &match.src_mac}, {"dst-mac", &match.dst_mac}};
  for (size_t s = 0; s < 2; ++s) {
    const EndpointSet& set = *sides[s].second;
    const std::vector<MacAddress>& macs = *mac_lists[s].second;
    if (!set.prefixes.empty() || set.macs.empty() || macs.empty()) continue;
    const bool shared = std::any_of(macs.begin(), macs.end(), [&](const MacAddress& mac) {
      return std::find(set.macs.begin(), set.macs.end(), mac) != set.macs.end();
    });
    if (!shared) {
      return Fail(given.at(mac_lists[s].first)->value,
                  std::string(mac_lists[s].first) + " shares no address with " + sides[s].first +
                      ", which has only MAC addresses: no frame matches both");
    }
  }
  return true;
}

// `src-mac: aa:bb:cc:dd:ee:ff` or a list of MAC addresses.
bool ProfileParser::Macs(const Entry& entry, std::vector<MacAddress>* macs) {
  std::vector<yaml::Node> items;
  if (!ScalarOrList(entry.value, &items)) {
    return Fail(At(entry),
                entry.key + " needs a MAC address or a list of them, not " + KindOf(entry.value));
  }
  if (items.empty()) return Fail(entry.value, entry.key + " is an empty list");
  for (const yaml::Node& item : items) {
    if (!item.IsScalar()) {
      return Fail(item, entry.key + ": expected a MAC address, not " + KindOf(item));
    }
    const std::optional<MacAddress> mac = ParseMac(item.Scalar());
    if (!mac) {
      const bool group = GroupIndex(item.Scalar()).has_value();
      return Fail(item, entry.key + ": '" + item.Scalar() + "' is not a MAC address (" + kMacForm +
                            ")" + (group ? "; it is a group: match groups with src or dst" : ""));
    }
    if (std::find(macs->begin(), macs->end(), *mac) == macs->end()) macs->push_back(*mac);
  }
  return true;
}

// A name (ipv4, arp, ...), a number, or hex like 0x88b5: the type after any VLAN tags.
bool ProfileParser::ParseEtherType(const Entry& entry, std::optional<uint16_t>* ether_type) {
  std::string text;
  if (!Text(entry, &text)) return false;
  const std::string lower = Lowercase(text);
  for (const EtherTypeName& known : kEtherTypes) {
    if (lower == known.name) {
      *ether_type = known.number;
      return true;
    }
  }
  std::optional<uint64_t> number;
  if (lower.starts_with("0x")) {
    const std::string digits = lower.substr(2);
    if (!digits.empty() && digits.size() <= 4 &&
        digits.find_first_not_of("0123456789abcdef") == std::string::npos) {
      number = std::stoul(digits, nullptr, 16);
    }
  } else {
    number = ParseUnsigned(text);
  }
  if (!number || *number > 0xffff) {
    std::vector<std::string> names;
    for (const EtherTypeName& known : kEtherTypes) names.emplace_back(known.name);
    return Fail(entry.value, "ethertype: unknown EtherType '" + text + "' (use " + Join(names) +
                                 ", or a number like 0x88b5)");
  }
  if (*number < kMinEtherType) {
    return Fail(entry.value, "ethertype: '" + text +
                                 "' is below 0x0600, where the field holds an 802.3 frame "
                                 "length, not a type");
  }
  for (uint16_t tpid : kVlanTpids) {
    if (*number == tpid) {
      return Fail(entry.value, "ethertype: '" + text +
                                   "' is a VLAN tag; ethertype is the type after any tags "
                                   "(match tags with vlan)");
    }
  }
  *ether_type = static_cast<uint16_t>(*number);
  return true;
}

bool ProfileParser::ParseProto(const Entry& entry, std::optional<uint8_t>* proto) {
  std::string text;
  if (!Text(entry, &text)) return false;
  for (const ProtocolName& known : kProtocols) {
    if (text == known.name) {
      *proto = known.number;
      return true;
    }
  }
  const std::optional<uint64_t> number = ParseUnsigned(text);
  if (!number || *number > 255) {
    return Fail(entry.value, "proto: unknown protocol '" + text +
                                 "' (use tcp, udp, icmp, icmpv6, sctp or a number 0..255)");
  }
  *proto = static_cast<uint8_t>(*number);
  return true;
}

// "80" or "2379-2380": one value or an inclusive range, each a number up to `max` or, where
// `by_name` knows it, a name. `expected` says what is accepted.
bool ProfileParser::Range(const Entry& entry, uint32_t max, const std::string& expected,
                          std::optional<uint32_t> (*by_name)(const std::string&),
                          ValueRange* range) {
  std::string text;
  if (!Text(entry, &text)) return false;
  auto value = [&](const std::string& part) -> std::optional<uint32_t> {
    if (by_name != nullptr) {
      if (const std::optional<uint32_t> named = by_name(part)) return named;
    }
    const std::optional<uint64_t> number = ParseUnsigned(part);
    if (!number || *number > max) return std::nullopt;
    return static_cast<uint32_t>(*number);
  };
  const size_t dash = text.find('-');
  const std::optional<uint32_t> low = value(text.substr(0, dash));
  const std::optional<uint32_t> high =
      dash == std::string::npos ? low : value(text.substr(dash + 1));
  if (!low || !high) return Fail(entry.value, entry.key + ": '" + text + "' is not " + expected);
  if (*low > *high) {
    return Fail(entry.value, entry.key + ": the range '" + text + "' runs backwards");
  }
  *range = ValueRange{.min = *low, .max = *high};
  return true;
}
}  // namespace faultline
