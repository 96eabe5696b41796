#include "dataplane/fastpath/endpoint_classes.h"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_lcore.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <stdexcept>
#include <utility>

#include "dataplane/fastpath/big_endian.h"

namespace faultline {
namespace {

// DPDK names every table; snapshots coexist during a live update, so each gets its own.
std::string UniqueName(const char* kind) {
  static std::atomic<uint32_t> next{0};
  return std::string("fl_") + kind + "_" + std::to_string(next.fetch_add(1));
}

using Address6 = EndpointClasses::Address6;

// The first `bits` / 8 bytes of `bytes` as a number (an IPv4 or IPv6 address).
Address6 LoadAddress(const uint8_t* bytes, unsigned bits) {
  Address6 value = 0;
  for (unsigned i = 0; i < bits / 8; ++i) value = value << 8 | bytes[i];
  return value;
}

// The network mask of a prefix of `length` bits in an address of `bits` bits.
Address6 Mask(unsigned length, unsigned bits) {
  const Address6 all = bits == 128 ? ~Address6{0} : (Address6{1} << bits) - 1;
  return length == 0 ? 0 : all & (all << (bits - length));
}

void Fail(const std::string& what) {
  throw std::runtime_error(what + ": " + rte_strerror(rte_errno) +
                           " (give the EAL more memory with -m)");
}

// The LPM's tbl24 (2^24 four-byte entries) dominates; each tbl8 group is 256 entries.
constexpr uint64_t kLpmBase = (uint64_t{1} << 24) * 4 + (1 << 20);
constexpr uint64_t kTbl8Bytes = 256 * 4;

uint32_t Tbl8Groups4(const std::vector<EndpointSet>& sets) {
  uint32_t groups = 1;
  for (const EndpointSet& set : sets) {
    for (const Prefix& prefix : set.prefixes) groups += prefix.family == 4 && prefix.length > 24;
  }
  return groups;
}

uint32_t Tbl8Groups6(const std::vector<EndpointSet>& sets) {
  // A prefix longer than 24 bits needs one tbl8 group per further (started) byte.
  uint32_t groups = 1;
  for (const EndpointSet& set : sets) {
    for (const Prefix& prefix : set.prefixes) {
      if (prefix.family == 6 && prefix.length > 24) groups += (prefix.length - 24 + 7) / 8;
    }
  }
  return groups;
}

}  // namespace

EndpointClasses::EndpointClasses(const std::vector<EndpointSet>& sets) {
  members_.emplace_back();  // class 0: no set
  try {
    BuildIpv4(sets);
    BuildIpv6(sets);
    BuildMacs(sets);
  } catch (...) {
    Release();  // the destructor does not run for a constructor that throws
    throw;
  }
  class_ids_.clear();  // only needed while building
}

EndpointClasses::~EndpointClasses() { Release(); }

void EndpointClasses::Release() {
  rte_lpm_free(lpm4_);
  rte_lpm6_free(lpm6_);
  rte_hash_free(macs_);
  lpm4_ = nullptr;
  lpm6_ = nullptr;
  macs_ = nullptr;
}

uint32_t EndpointClasses::ClassFor(std::vector<uint32_t> members) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (members.empty()) return 0;
  const auto [found, inserted] =
      class_ids_.try_emplace(members, static_cast<uint32_t>(members_.size()));
  if (inserted) members_.push_back(std::move(members));
  return found->second;
}

std::vector<EndpointClasses::PrefixClass> EndpointClasses::PrefixClasses(
    const std::vector<EndpointSet>& sets, uint8_t family) {
  const unsigned bits = family == 4 ? 32 : 128;
  // Each distinct prefix (host bits cleared) with the sets listing it.
  std::map<std::pair<unsigned, Address6>, std::vector<uint32_t>> prefixes;
  for (uint32_t set = 0; set < sets.size(); ++set) {
    for (const Prefix& prefix : sets[set].prefixes) {
      if (prefix.family != family) continue;
      const Address6 address = LoadAddress(prefix.address.data(), bits) & Mask(prefix.length, bits);
      prefixes[{prefix.length, address}].push_back(set);
    }
  }
  std::vector<PrefixClass> classes;
  for (const auto& [prefix, unused] : prefixes) {
    const auto [length, address] = prefix;
    // The sets of every prefix containing this one, itself included.
    std::vector<uint32_t> members;
    for (unsigned shorter = 0; shorter <= length; ++shorter) {
      auto found = prefixes.find({shorter, address & Mask(shorter, bits)});
      if (found != prefixes.end()) {
        members.insert(members.end(), found->second.begin(), found->second.end());
      }
    }
    classes.push_back({length, address, ClassFor(std::move(members))});
  }
  return classes;
}

void EndpointClasses::BuildIpv4(const std::vector<EndpointSet>& sets) {
  const std::vector<PrefixClass> prefixes = PrefixClasses(sets, 4);
  if (prefixes.empty()) return;
  rte_lpm_config config{};
  config.max_rules = static_cast<uint32_t>(prefixes.size());
  config.number_tbl8s = Tbl8Groups4(sets);
  lpm4_ = rte_lpm_create(UniqueName("lpm4").c_str(), static_cast<int>(rte_socket_id()), &config);
  if (lpm4_ == nullptr) Fail("cannot create the IPv4 group table");
  for (const PrefixClass& prefix : prefixes) {
    if (prefix.length == 0) {
      default4_ = prefix.id;
    } else if (rte_lpm_add(lpm4_, static_cast<uint32_t>(prefix.address),
                           static_cast<uint8_t>(prefix.length), prefix.id) != 0) {
      Fail("cannot add an IPv4 prefix to the group table");
    }
  }
}

void EndpointClasses::BuildIpv6(const std::vector<EndpointSet>& sets) {
  const std::vector<PrefixClass> prefixes = PrefixClasses(sets, 6);
  if (prefixes.empty()) return;
  rte_lpm6_config config{};
  config.max_rules = static_cast<uint32_t>(prefixes.size());
  config.number_tbl8s = Tbl8Groups6(sets);
  lpm6_ = rte_lpm6_create(UniqueName("lpm6").c_str(), static_cast<int>(rte_socket_id()), &config);
  if (lpm6_ == nullptr) Fail("cannot create the IPv6 group table");
  for (const PrefixClass& prefix : prefixes) {
    if (prefix.length == 0) {
      default6_ = prefix.id;
      continue;
    }
    uint8_t bytes[16];
    for (int i = 0; i < 16; ++i) bytes[i] = static_cast<uint8_t>(prefix.address >> (8 * (15 - i)));
    if (rte_lpm6_add(lpm6_, bytes, static_cast<uint8_t>(prefix.length), prefix.id) != 0) {
      Fail("cannot add an IPv6 prefix to the group table");
    }
  }
}

void EndpointClasses::BuildMacs(const std::vector<EndpointSet>& sets) {
  std::map<uint64_t, std::vector<uint32_t>> macs;
  for (uint32_t set = 0; set < sets.size(); ++set) {
    for (const MacAddress& mac : sets[set].macs) macs[Load48(mac.data())].push_back(set);
  }
  if (macs.empty()) return;
  const std::string name = UniqueName("macs");
  rte_hash_parameters parameters{};
  parameters.name = name.c_str();
  parameters.entries = std::max<uint32_t>(8, static_cast<uint32_t>(macs.size() * 2));
  parameters.key_len = sizeof(uint64_t);
  parameters.socket_id = static_cast<int>(rte_socket_id());
  macs_ = rte_hash_create(&parameters);
  if (macs_ == nullptr) Fail("cannot create the MAC group table");
  for (auto& [mac, members] : macs) {
    const uintptr_t id = ClassFor(members);
    if (rte_hash_add_key_data(macs_, &mac, reinterpret_cast<void*>(id)) != 0) {
      Fail("cannot add a MAC address to the group table");
    }
  }
}

uint32_t EndpointClasses::ClassOfIp(uint8_t family, const uint8_t* address) const {
  uint32_t id = 0;
  if (family == 4) {
    if (lpm4_ == nullptr || rte_lpm_lookup(lpm4_, Load32(address), &id) != 0) id = default4_;
  } else if (family == 6) {
    if (lpm6_ == nullptr || rte_lpm6_lookup(lpm6_, address, &id) != 0) id = default6_;
  }
  return id;
}

void EndpointClasses::ClassOfIpv4Bulk(const uint32_t* addresses, uint32_t* ids, unsigned n) const {
  if (lpm4_ == nullptr) {
    std::fill(ids, ids + n, default4_);
    return;
  }
  rte_lpm_lookup_bulk(lpm4_, addresses, ids, n);
  for (unsigned i = 0; i < n; ++i) {
    ids[i] = (ids[i] & RTE_LPM_LOOKUP_SUCCESS) ? ids[i] & 0x00FFFFFF : default4_;
  }
}

uint32_t EndpointClasses::ClassOfMac(uint64_t mac) const {
  if (macs_ == nullptr) return 0;
  void* data = nullptr;
  if (rte_hash_lookup_data(macs_, &mac, &data) < 0) return 0;
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
}

uint64_t EndpointClasses::MemoryBytes(const std::vector<EndpointSet>& sets) {
  bool v4 = false, v6 = false;
  uint64_t macs = 0;
  for (const EndpointSet& set : sets) {
    for (const Prefix& prefix : set.prefixes) (prefix.family == 4 ? v4 : v6) = true;
    macs += set.macs.size();
  }
  uint64_t bytes = 0;
  if (v4) bytes += kLpmBase + Tbl8Groups4(sets) * kTbl8Bytes;
  if (v6) bytes += kLpmBase + Tbl8Groups6(sets) * kTbl8Bytes;
  if (macs) bytes += (1 << 20) + macs * 256;
  return bytes;
}

}  // namespace faultline
