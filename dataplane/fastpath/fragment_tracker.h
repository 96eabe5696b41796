// Gives later IP fragments the ports of their first fragment, so they are classified by their
// flow and share its flow state. Per pipeline, fixed size, no allocation after construction.
//
// A first fragment (offset 0, more to come) is remembered under (family, source, destination,
// fragment id, and the protocol for IPv4: Linux's reassembly key) with its protocol, its ports
// and its arrival time. A later fragment (offset > 0) with the same identity seen within the
// timeout gets them: its key becomes the first fragment's key. Entries are never removed (the
// fragments of a datagram may come in any order); they expire `timeout` clock units after the
// first fragment (30 s, Linux's ipfrag_time) and their slot goes to the next first fragment.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/fastpath/frame_parser.h"

namespace faultline {

inline constexpr uint64_t kFragmentTimeoutNs = 30'000'000'000;  // Linux ipfrag_time

class FragmentTracker {
 public:
  static constexpr uint32_t kMaxProbe = 8;

  // `capacity` is rounded up to a power of two (at least kMaxProbe); `timeout` in clock units.
  FragmentTracker(uint32_t capacity, uint64_t timeout);

  // For a fragment, at time `now`: remembers a first fragment, resolves a later one. Returns
  // false for a later fragment whose first fragment was not seen within the timeout: it keeps
  // its key without ports (has_ports false).
  bool Track(ParsedFrame* parsed, uint64_t now) {
    if (parsed->fragment == Fragment::kFirst) Remember(*parsed, now);
    if (parsed->fragment == Fragment::kLater) return Resolve(parsed, now);
    return true;
  }

  // Remembers a first fragment's protocol and ports (none if it has no ports). A first fragment
  // whose window is full replaces the oldest entry there.
  void Remember(const ParsedFrame& first, uint64_t now);
  // Fills a later fragment's protocol, ports and has_ports from its first fragment; false if
  // there is none within the timeout.
  bool Resolve(ParsedFrame* later, uint64_t now) const;

  uint32_t capacity() const { return mask_ + 1; }

 private:
  struct alignas(64) Entry {
    FlowKey identity;  // addresses, family, proto (IPv4 only), fragment id in the port fields
    uint64_t first_seen;
    uint16_t src_port, dst_port;
    uint8_t proto;
    bool has_ports;
  };
  static_assert(sizeof(Entry) == 64);

  static FlowKey Identity(const ParsedFrame& fragment);
  bool Expired(const Entry& entry, uint64_t now) const {
    return now > entry.first_seen && now - entry.first_seen > timeout_;
  }

  uint32_t mask_;
  uint64_t timeout_;
  std::unique_ptr<Entry[]> entries_;  // family 0: never used
};

}  // namespace faultline
