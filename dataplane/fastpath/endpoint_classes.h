// Which endpoint sets (a rule's src or dst, a partition's sides) an address or a MAC belongs to,
// in one table lookup. Addresses that belong to exactly the same sets form a class; each IPv4
// and IPv6 prefix is stored once in a DPDK LPM table whose next hop is its class, MACs in a DPDK
// hash. The cost of a lookup does not depend on how many prefixes or sets there are.
//
// A prefix's class is the union of the sets of every prefix containing it, so the longest match
// (the most specific prefix containing the address) yields exactly the sets containing the
// address. Class 0 belongs to no set.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"

struct rte_lpm;
struct rte_lpm6;
struct rte_hash;

namespace faultline {

class EndpointClasses {
 public:
  using Address6 = unsigned __int128;  // an address as a number; IPv4 in the low 32 bits

  // Builds the tables for `sets` (set i is sets[i]). Needs the EAL: the tables live in DPDK
  // memory. Throws std::runtime_error when DPDK cannot allocate them.
  explicit EndpointClasses(const std::vector<EndpointSet>& sets);
  ~EndpointClasses();
  EndpointClasses(const EndpointClasses&) = delete;
  EndpointClasses& operator=(const EndpointClasses&) = delete;

  // `address` in network byte order; family 4 or 6 (anything else: class 0).
  uint32_t ClassOfIp(uint8_t family, const uint8_t* address) const;
  // The classes of `n` IPv4 addresses (host byte order) in one bulk LPM lookup (DPDK's
  // rte_lpm_lookup_bulk: the table reads of the burst overlap instead of missing one by one).
  void ClassOfIpv4Bulk(const uint32_t* addresses, uint32_t* ids, unsigned n) const;
  // A 48-bit MAC, first octet most significant.
  uint32_t ClassOfMac(uint64_t mac) const;

  // The sets class `id` is in, ascending.
  const std::vector<uint32_t>& Members(uint32_t id) const { return members_[id]; }
  size_t class_count() const { return members_.size(); }
  // Bytes of DPDK memory the tables for `sets` take (sizes the EAL memory of offline runs).
  static uint64_t MemoryBytes(const std::vector<EndpointSet>& sets);

 private:
  struct PrefixClass {
    unsigned length;
    Address6 address;  // host bits cleared
    uint32_t id;
  };
  // Every distinct prefix of `family` in `sets`, with its class: the sets of every prefix
  // containing it, itself included (so the longest match yields the address's sets).
  std::vector<PrefixClass> PrefixClasses(const std::vector<EndpointSet>& sets, uint8_t family);
  uint32_t ClassFor(std::vector<uint32_t> members);
  void Release();
  void BuildIpv4(const std::vector<EndpointSet>& sets);
  void BuildIpv6(const std::vector<EndpointSet>& sets);
  void BuildMacs(const std::vector<EndpointSet>& sets);

  rte_lpm* lpm4_ = nullptr;
  rte_lpm6* lpm6_ = nullptr;
  rte_hash* macs_ = nullptr;
  // The class of addresses no longer prefix covers: the sets holding a /0 of that family.
  uint32_t default4_ = 0, default6_ = 0;
  std::vector<std::vector<uint32_t>> members_;           // by class id
  std::map<std::vector<uint32_t>, uint32_t> class_ids_;  // members -> class id, while building
};

}  // namespace faultline
