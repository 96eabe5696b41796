#include "dataplane/fastpath/classifier.h"

#include <algorithm>
#include <bit>
#include <map>
#include <string>
#include <utility>

#include "dataplane/fastpath/big_endian.h"

namespace faultline {
namespace {

// The header fields besides addresses and direction. A value outside the field's own range
// stands for "the frame has no such field" (non-IP, no ports, untagged), which no constrained
// rule accepts.
enum FieldKind : uint8_t {
  kProto,
  kSrcPort,
  kDstPort,
  kVlan,
  kDscp,
  kEtherType,
  kSrcMac,
  kDstMac,
  kFieldCount
};
constexpr uint64_t kNoProto = 256, kNoPort = 65536, kUntagged = 4096, kNoDscp = 64;

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;  // inclusive

Ranges MacRanges(const std::vector<MacAddress>& macs) {
  Ranges ranges;
  for (const MacAddress& mac : macs) ranges.emplace_back(Load48(mac.data()), Load48(mac.data()));
  return ranges;
}

// The values of `kind` a rule accepts; empty: the rule does not constrain the field.
Ranges RuleRanges(const MatchSpec& match, FieldKind kind) {
  switch (kind) {
    case kProto:
      if (match.proto) return {{*match.proto, *match.proto}};
      return {};
    case kSrcPort:
      if (match.has_src_port) return {{match.src_port_min, match.src_port_max}};
      return {};
    case kDstPort:
      if (match.has_dst_port) return {{match.dst_port_min, match.dst_port_max}};
      return {};
    case kVlan:
      if (match.vlan) return {{match.vlan->min, match.vlan->max}};
      return {};
    case kDscp:
      if (match.dscp) return {{match.dscp->min, match.dscp->max}};
      return {};
    case kEtherType:
      if (match.ether_type) return {{*match.ether_type, *match.ether_type}};
      return {};
    case kSrcMac:
      return MacRanges(match.src_mac);
    case kDstMac:
      return MacRanges(match.dst_mac);
    default:
      return {};
  }
}

void SetBit(uint64_t* words, size_t bit) { words[bit / 64] |= uint64_t{1} << (bit % 64); }

// Endpoint sets are shared: many rules and cuts name the same group. -1: any endpoint.
class SetRegistry {
 public:
  int Add(const EndpointSet& set) {
    if (set.empty()) return -1;
    std::string key;
    for (const Prefix& prefix : set.prefixes) {
      key.push_back(static_cast<char>(prefix.family));
      key.push_back(static_cast<char>(prefix.length));
      key.append(reinterpret_cast<const char*>(prefix.address.data()), 16);
    }
    key.push_back('|');
    for (const MacAddress& mac : set.macs) key.append(reinterpret_cast<const char*>(mac.data()), 6);
    const auto [found, inserted] = ids_.try_emplace(key, static_cast<int>(sets_.size()));
    if (inserted) sets_.push_back(set);
    return found->second;
  }
  const std::vector<EndpointSet>& sets() const { return sets_; }

 private:
  std::map<std::string, int> ids_;
  std::vector<EndpointSet> sets_;
};

struct CutSides {
  int from, to;
};

void RegisterAll(const std::vector<MatchSpec>& rules, const std::vector<PartitionSpec>& partitions,
                 SetRegistry* registry, std::vector<std::pair<int, int>>* rule_sets,
                 std::vector<CutSides>* cut_sets) {
  for (const MatchSpec& match : rules) {
    rule_sets->emplace_back(registry->Add(match.src), registry->Add(match.dst));
  }
  for (const PartitionSpec& partition : partitions) {
    for (const PartitionCut& cut : partition.cuts) {
      cut_sets->push_back({registry->Add(cut.from), registry->Add(cut.to)});
    }
  }
}

}  // namespace

const uint64_t* Classifier::IntervalField::Lookup(uint64_t value, size_t words) const {
  const size_t interval = std::upper_bound(lower.begin(), lower.end(), value) - lower.begin() - 1;
  return &bits[interval * words];
}

uint64_t Classifier::FieldValue(uint8_t kind, const ParsedFrame& frame) {
  const FlowKey& key = frame.key;
  switch (kind) {
    case kProto:
      return key.family == 0 ? kNoProto : key.proto;
    case kSrcPort:
      return frame.has_ports ? key.src_port : kNoPort;
    case kDstPort:
      return frame.has_ports ? key.dst_port : kNoPort;
    case kVlan:
      return frame.vlan == kNoVlan ? kUntagged : frame.vlan;
    case kDscp:
      return key.family == 0 ? kNoDscp : frame.dscp;
    case kEtherType:
      return frame.ether_type;
    case kSrcMac:
      return frame.src_mac;
    default:
      return frame.dst_mac;
  }
}

const std::vector<uint32_t>& Classifier::ClassMembers(size_t id) const {
  static const std::vector<uint32_t> kNone;
  return classes_ ? classes_->Members(static_cast<uint32_t>(id)) : kNone;
}

void Classifier::BuildRuleRows(const std::vector<MatchSpec>& rules,
                               const std::vector<std::pair<int, int>>& rule_sets,
                               size_t set_count) {
  const size_t classes = classes_ ? classes_->class_count() : 1;
  rule_count_ = rules.size();
  const size_t words = rule_words_ = (rule_count_ + 63) / 64;
  direction_bits_.assign(2 * words, 0);
  src_any_.assign(words, 0);
  dst_any_.assign(words, 0);
  std::vector<uint64_t> set_src_rules(set_count * words), set_dst_rules(set_count * words);
  for (size_t rule = 0; rule < rule_count_; ++rule) {
    const Direction direction = rules[rule].direction;
    if (direction != Direction::kBToA) SetBit(&direction_bits_[0], rule);
    if (direction != Direction::kAToB) SetBit(&direction_bits_[words], rule);
    const auto [src, dst] = rule_sets[rule];
    if (src < 0)
      SetBit(src_any_.data(), rule);
    else
      SetBit(&set_src_rules[src * words], rule);
    if (dst < 0)
      SetBit(dst_any_.data(), rule);
    else
      SetBit(&set_dst_rules[dst * words], rule);
  }
  rule_rows_.assign(classes * 2 * words, 0);
  for (size_t id = 0; id < classes; ++id) {
    for (uint32_t set : ClassMembers(id)) {
      for (size_t w = 0; w < words; ++w) {
        rule_rows_[id * 2 * words + w] |= set_src_rules[set * words + w];
        rule_rows_[id * 2 * words + words + w] |= set_dst_rules[set * words + w];
      }
    }
  }
}

void Classifier::BuildFields(const std::vector<MatchSpec>& rules) {
  const size_t words = rule_words_;
  for (uint8_t kind = 0; kind < kFieldCount; ++kind) {
    std::vector<Ranges> accepted(rule_count_);
    std::vector<uint64_t> bounds = {0};
    bool constrained = false;
    for (size_t rule = 0; rule < rule_count_; ++rule) {
      accepted[rule] = RuleRanges(rules[rule], static_cast<FieldKind>(kind));
      for (const auto& [min, max] : accepted[rule]) {
        bounds.push_back(min);
        bounds.push_back(max + 1);
        constrained = true;
      }
    }
    if (!constrained) continue;
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
    IntervalField field{.kind = kind, .lower = bounds, .bits = {}};
    field.bits.assign(bounds.size() * words, 0);
    for (size_t interval = 0; interval < bounds.size(); ++interval) {
      const uint64_t value = bounds[interval];  // every value of the interval behaves alike
      for (size_t rule = 0; rule < rule_count_; ++rule) {
        const Ranges& ranges = accepted[rule];
        const bool accepts =
            ranges.empty() || std::any_of(ranges.begin(), ranges.end(), [value](const auto& r) {
              return r.first <= value && value <= r.second;
            });
        if (accepts) SetBit(&field.bits[interval * words], rule);
      }
    }
    fields_.push_back(std::move(field));
  }
}

Classifier::Classifier(const std::vector<MatchSpec>& rules,
                       const std::vector<PartitionSpec>& partitions, const Classifier* previous) {
  SetRegistry registry;
  std::vector<std::pair<int, int>> rule_sets;
  std::vector<CutSides> cut_sets;
  RegisterAll(rules, partitions, &registry, &rule_sets, &cut_sets);
  sets_ = registry.sets();
  const std::vector<EndpointSet>& sets = sets_;
  for (const EndpointSet& set : sets) {
    locate_ip_ |= !set.prefixes.empty();
    locate_mac_ |= !set.macs.empty();
  }
  if (previous != nullptr && previous->sets_ == sets) {
    classes_ = previous->classes_;  // the same groups: the same tables, read-only
  } else if (!sets.empty()) {
    classes_ = std::make_shared<const EndpointClasses>(sets);
  }
  const size_t classes = classes_ ? classes_->class_count() : 1;
  BuildRuleRows(rules, rule_sets, sets.size());
  BuildFields(rules);

  // Partition cuts.
  const size_t cuts = cut_sets.size();
  const size_t cut_words = cut_words_ = (cuts + 63) / 64;
  from_complement_.assign(cut_words, 0);
  to_complement_.assign(cut_words, 0);
  new_only_.assign(cut_words, 0);
  std::vector<uint64_t> set_rows(sets.size() * 4 * cut_words, 0);  // per set, like cut_rows_
  size_t cut = 0;
  for (size_t partition = 0; partition < partitions.size(); ++partition) {
    for (const PartitionCut& spec : partitions[partition].cuts) {
      cut_partition_.push_back(static_cast<uint16_t>(partition));
      if (partitions[partition].new_connections_only) SetBit(new_only_.data(), cut);
      const auto [from, to] = cut_sets[cut];
      // An empty side means everyone: the complement of no set.
      if (spec.from_complement || from < 0) SetBit(from_complement_.data(), cut);
      if (spec.to_complement || to < 0) SetBit(to_complement_.data(), cut);
      if (from >= 0)
        SetBit(&set_rows[(from * 4 + (spec.from_complement ? 1 : 0)) * cut_words], cut);
      if (to >= 0) SetBit(&set_rows[(to * 4 + (spec.to_complement ? 3 : 2)) * cut_words], cut);
      ++cut;
    }
  }
  cut_rows_.assign(classes * 4 * cut_words, 0);
  for (size_t id = 0; id < classes; ++id) {
    for (uint32_t set : ClassMembers(id)) {
      for (size_t w = 0; w < 4 * cut_words; ++w) {
        cut_rows_[id * 4 * cut_words + w] |= set_rows[set * 4 * cut_words + w];
      }
    }
  }
}

FrameEndpoints Classifier::Locate(const ParsedFrame& frame) const {
  FrameEndpoints where;
  if (locate_ip_) {
    where.src_ip = classes_->ClassOfIp(frame.key.family, frame.key.src);
    where.dst_ip = classes_->ClassOfIp(frame.key.family, frame.key.dst);
  }
  if (locate_mac_) {
    where.src_mac = classes_->ClassOfMac(frame.src_mac);
    where.dst_mac = classes_->ClassOfMac(frame.dst_mac);
  }
  return where;
}

void Classifier::LocateBurst(const ParsedFrame* frames, unsigned n, FrameEndpoints* where) const {
  if (!locate_ip_ || n == 0) {
    for (unsigned i = 0; i < n; ++i) where[i] = Locate(frames[i]);
    return;
  }
  // Sources in [0, n), destinations in [n, 2n); a frame that is not IPv4 looks up 0 and is
  // located one by one below.
  uint32_t addresses[2 * kLocateBurst], ids[2 * kLocateBurst];
  for (unsigned i = 0; i < n; ++i) {
    const bool v4 = frames[i].key.family == 4;
    addresses[i] = v4 ? Load32(frames[i].key.src) : 0;
    addresses[n + i] = v4 ? Load32(frames[i].key.dst) : 0;
  }
  classes_->ClassOfIpv4Bulk(addresses, ids, 2 * n);
  for (unsigned i = 0; i < n; ++i) {
    const FlowKey& key = frames[i].key;
    FrameEndpoints& at = where[i];
    if (key.family == 4) {
      at.src_ip = ids[i];
      at.dst_ip = ids[n + i];
    } else {
      at.src_ip = classes_->ClassOfIp(key.family, key.src);
      at.dst_ip = classes_->ClassOfIp(key.family, key.dst);
    }
    at.src_mac = locate_mac_ ? classes_->ClassOfMac(frames[i].src_mac) : 0;
    at.dst_mac = locate_mac_ ? classes_->ClassOfMac(frames[i].dst_mac) : 0;
  }
}

int Classifier::Classify(const ParsedFrame& frame, Direction direction,
                         const FrameEndpoints& where) const {
  const size_t words = rule_words_;
  const uint64_t* direction_bits =
      direction_bits_.data() + (direction == Direction::kBToA ? words : 0);
  const uint64_t* src_ip = rule_rows_.data() + where.src_ip * 2 * words;
  const uint64_t* src_mac = rule_rows_.data() + where.src_mac * 2 * words;
  const uint64_t* dst_ip = rule_rows_.data() + where.dst_ip * 2 * words + words;
  const uint64_t* dst_mac = rule_rows_.data() + where.dst_mac * 2 * words + words;
  const uint64_t* field_bits[kFieldCount];
  const size_t field_count = fields_.size();
  for (size_t i = 0; i < field_count; ++i) {
    field_bits[i] = fields_[i].Lookup(FieldValue(fields_[i].kind, frame), words);
  }
  for (size_t w = 0; w < words; ++w) {
    uint64_t match = direction_bits[w] & (src_any_[w] | src_ip[w] | src_mac[w]) &
                     (dst_any_[w] | dst_ip[w] | dst_mac[w]);
    for (size_t i = 0; i < field_count; ++i) match &= field_bits[i][w];
    if (match != 0) return static_cast<int>(w * 64 + std::countr_zero(match));
  }
  return -1;
}

int Classifier::Cut(const ParsedFrame& frame, const FrameEndpoints& where) const {
  const size_t words = cut_words_;
  const bool initial_syn = frame.has_l4 && frame.key.proto == kProtoTcp &&
                           (frame.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
  const uint64_t* src_ip = cut_rows_.data() + where.src_ip * 4 * words;
  const uint64_t* src_mac = cut_rows_.data() + where.src_mac * 4 * words;
  const uint64_t* dst_ip = cut_rows_.data() + where.dst_ip * 4 * words;
  const uint64_t* dst_mac = cut_rows_.data() + where.dst_mac * 4 * words;
  for (size_t w = 0; w < words; ++w) {
    const uint64_t from =
        src_ip[w] | src_mac[w] | (from_complement_[w] & ~(src_ip[words + w] | src_mac[words + w]));
    const uint64_t to = dst_ip[2 * words + w] | dst_mac[2 * words + w] |
                        (to_complement_[w] & ~(dst_ip[3 * words + w] | dst_mac[3 * words + w]));
    uint64_t cut = from & to;
    if (!initial_syn) cut &= ~new_only_[w];
    if (cut != 0) return cut_partition_[w * 64 + std::countr_zero(cut)];
  }
  return -1;
}

uint64_t Classifier::MemoryBytes(const std::vector<MatchSpec>& rules,
                                 const std::vector<PartitionSpec>& partitions) {
  SetRegistry registry;
  std::vector<std::pair<int, int>> rule_sets;
  std::vector<CutSides> cut_sets;
  RegisterAll(rules, partitions, &registry, &rule_sets, &cut_sets);
  return EndpointClasses::MemoryBytes(registry.sets());
}

}  // namespace faultline
