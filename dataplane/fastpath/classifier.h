// Rule and partition matching: ordered rules, the first match wins; partitions are checked first.
//
// Bit-vector classification (Lakshman and Stiliadis): every header field maps the frame's value
// to the set of rules that accept it, as a bitmap; the matching rules are the AND of the
// bitmaps, the first match is the lowest set bit. Addresses map to a class with one LPM lookup
// (EndpointClasses); the other fields to an interval by binary search over the few boundaries
// the rules use. So a lookup costs a handful of table reads plus one AND per 64 rules, whatever
// the number of prefixes, and only the fields some rule constrains are looked at.
// Partition cuts are matched the same way over the source and destination alone.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/fastpath/endpoint_classes.h"
#include "dataplane/fastpath/frame_parser.h"

namespace faultline {

// The classes of a frame's source and destination, by IP address and by MAC.
struct FrameEndpoints {
  uint32_t src_ip = 0, src_mac = 0, dst_ip = 0, dst_mac = 0;
};

class Classifier {
 public:
  // Needs the EAL when any rule or partition names addresses (the LPM tables live in DPDK
  // memory). Throws std::runtime_error when they cannot be allocated.
  // `previous` (optional): a classifier whose group tables (EndpointClasses) this one shares when
  // the rules and partitions name the same endpoint sets in the same order, so a change that
  // keeps the groups builds no LPM table (tbl24 alone is 64 MiB to zero).
  Classifier(const std::vector<MatchSpec>& rules, const std::vector<PartitionSpec>& partitions,
             const Classifier* previous = nullptr);

  FrameEndpoints Locate(const ParsedFrame& frame) const;
  // Locate for a burst of `n` frames (at most kLocateBurst): the IPv4 addresses of all of them in
  // one bulk LPM lookup. where[i] equals Locate(frames[i]).
  static constexpr unsigned kLocateBurst = 32;
  void LocateBurst(const ParsedFrame* frames, unsigned n, FrameEndpoints* where) const;

  // The first rule matching a frame received in `direction` (kAToB or kBToA), or -1.
  int Classify(const ParsedFrame& frame, Direction direction, const FrameEndpoints& where) const;
  int Classify(const ParsedFrame& frame, Direction direction) const {
    return Classify(frame, direction, Locate(frame));
  }

  // The first partition cutting the frame, or -1. Cuts of `connections: new` partitions only
  // apply to a TCP SYN without ACK.
  int Cut(const ParsedFrame& frame, const FrameEndpoints& where) const;
  int Cut(const ParsedFrame& frame) const { return Cut(frame, Locate(frame)); }

  size_t rule_count() const { return rule_count_; }
  // Whether this classifier shares its group tables with `other` (tests).
  bool SharesGroupTables(const Classifier& other) const {
    return classes_ != nullptr && classes_ == other.classes_;
  }
  bool has_partitions() const { return cut_words_ != 0; }
  // DPDK memory the tables of a profile take (sizes offline EAL memory).
  static uint64_t MemoryBytes(const std::vector<MatchSpec>& rules,
                              const std::vector<PartitionSpec>& partitions);

 private:
  // One header field: interval k = [lower[k], lower[k + 1]) of its values accepts the rules
  // whose bits are set in bits[k * words .. ].
  struct IntervalField {
    uint8_t kind;
    std::vector<uint64_t> lower;
    std::vector<uint64_t> bits;
    const uint64_t* Lookup(uint64_t value, size_t words) const;
  };
  static uint64_t FieldValue(uint8_t kind, const ParsedFrame& frame);
  // The endpoint sets class `id` belongs to.
  const std::vector<uint32_t>& ClassMembers(size_t id) const;
  // The constructor's parts: per-rule direction and endpoint bitmaps (`rule_sets`: the source
  // and destination set of each rule, -1 for any), then the header-field intervals.
  void BuildRuleRows(const std::vector<MatchSpec>& rules,
                     const std::vector<std::pair<int, int>>& rule_sets, size_t set_count);
  void BuildFields(const std::vector<MatchSpec>& rules);

  size_t rule_count_ = 0;
  size_t rule_words_ = 0;          // 64-bit words per rule bitmap
  size_t cut_words_ = 0;           // per cut bitmap (0: no partitions)
  std::vector<EndpointSet> sets_;  // the distinct endpoint sets, in the order classes_ numbers them
  std::shared_ptr<const EndpointClasses> classes_;
  bool locate_ip_ = false, locate_mac_ = false;  // whether any set has addresses / MACs
  std::vector<uint64_t> direction_bits_;         // [direction 0/1][word]
  std::vector<uint64_t> src_any_, dst_any_;      // rules without src / dst
  // Per endpoint class: rules accepting it as source, then as destination (2 * rule_words_).
  std::vector<uint64_t> rule_rows_;
  std::vector<IntervalField> fields_;  // only the fields some rule constrains
  // Per endpoint class: cuts whose from side holds it, whose complemented from side holds it,
  // the same for the to side (4 * cut_words_).
  std::vector<uint64_t> cut_rows_;
  std::vector<uint64_t> from_complement_, to_complement_;  // cuts with a complemented side
  std::vector<uint64_t> new_only_;                         // cuts of `connections: new`
  std::vector<uint16_t> cut_partition_;                    // cut -> partition index
};

}  // namespace faultline
