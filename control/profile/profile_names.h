// The names and spellings a profile file uses for enumerations, protocols, ethertypes, DSCP
// classes, prefixes and MACs: shared by the parser (text in) and the profile writer (text out),
// so that what one writes the other reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/config/profile_spec.h"

namespace faultline {

// In enum order (Direction, DistributionKind up to kTable, LossModel; PartitionMode's are in
// dataplane/config/profile_spec.h), and for
// `connections`: all (false) and new (new_connections_only).
inline constexpr std::string_view kDirectionNames[] = {"both", "a-to-b", "b-to-a"};
inline constexpr std::string_view kDistributionNames[] = {"uniform", "normal", "pareto",
                                                          "paretonormal"};
inline constexpr std::string_view kLossModelNames[] = {"bernoulli", "gilbert-elliott", "markov4"};
inline constexpr std::string_view kConnectionNames[] = {"all", "new"};

struct ProtocolName {
  std::string_view name;
  uint8_t number;
};
inline constexpr ProtocolName kProtocols[] = {
    {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"icmpv6", 58}, {"sctp", 132}};

struct EtherTypeName {
  std::string_view name;
  uint16_t number;
};
inline constexpr EtherTypeName kEtherTypes[] = {
    {"ipv4", 0x0800}, {"ipv6", 0x86dd}, {"arp", 0x0806}, {"lldp", 0x88cc},
    {"ptp", 0x88f7},  {"mpls", 0x8847}, {"rarp", 0x8035}};

// "10.0.1.0/24", "fd00:2::/64".
std::string FormatPrefix(const Prefix& prefix);
// "02:00:00:00:02:0d".
std::string FormatMac(const MacAddress& mac);
// "0x88b5".
std::string Hex16(uint16_t value);
// The name of a DSCP value if it has one ("ef", "cs3", "af21"), else "".
std::string DscpName(uint32_t value);

}  // namespace faultline
