#include "dataplane/fastpath/fragment_tracker.h"

#include <bit>

namespace faultline {

FragmentTracker::FragmentTracker(uint32_t capacity, uint64_t timeout)
    : mask_(std::bit_ceil(capacity < kMaxProbe ? kMaxProbe : capacity) - 1),
      timeout_(timeout),
      entries_(new Entry[mask_ + 1]()) {}

FlowKey FragmentTracker::Identity(const ParsedFrame& fragment) {
  FlowKey identity = fragment.key;
  identity.src_port = static_cast<uint16_t>(fragment.fragment_id >> 16);
  identity.dst_port = static_cast<uint16_t>(fragment.fragment_id);
  // IPv6 later fragments name the first header of the fragmentable part, which is not always
  // the transport protocol the first fragment reaches: IPv6 reassembly ignores it (RFC 8200).
  if (identity.family == 6) identity.proto = 0;
  identity.rule_slot = 0;
  return identity;
}

void FragmentTracker::Remember(const ParsedFrame& first, uint64_t now) {
  const FlowKey identity = Identity(first);
  const uint64_t hash = HashFlowKey(identity);
  Entry* slot = nullptr;    // where the entry goes unless the identity is already there
  Entry* oldest = nullptr;  // a full window of live entries: the oldest gives way
  for (uint32_t probe = 0; probe < kMaxProbe; ++probe) {
    Entry& entry = entries_[(hash + probe) & mask_];
    if (entry.identity.family == 0) {
      if (slot == nullptr) slot = &entry;
      break;  // entries are never emptied: the identity is not further on
    }
    if (entry.identity == identity) {
      slot = &entry;  // the same datagram again (a retransmission) or a reused id
      break;
    }
    if (slot == nullptr && Expired(entry, now)) slot = &entry;
    if (oldest == nullptr || entry.first_seen < oldest->first_seen) oldest = &entry;
  }
  if (slot == nullptr) slot = oldest;
  slot->identity = identity;
  slot->first_seen = now;
  slot->src_port = first.key.src_port;
  slot->dst_port = first.key.dst_port;
  slot->proto = first.key.proto;
  slot->has_ports = first.has_ports;
}

bool FragmentTracker::Resolve(ParsedFrame* later, uint64_t now) const {
  const FlowKey identity = Identity(*later);
  const uint64_t hash = HashFlowKey(identity);
  for (uint32_t probe = 0; probe < kMaxProbe; ++probe) {
    const Entry& entry = entries_[(hash + probe) & mask_];
    if (entry.identity.family == 0) return false;
    if (entry.identity == identity) {
      if (Expired(entry, now)) return false;
      later->key.proto = entry.proto;
      later->key.src_port = entry.src_port;
      later->key.dst_port = entry.dst_port;
      later->has_ports = entry.has_ports;
      return true;
    }
  }
  return false;
}

}  // namespace faultline
