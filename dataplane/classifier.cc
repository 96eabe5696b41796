#include "dataplane/classifier.h"

#include <cstring>

namespace faultline {
namespace {

uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
uint64_t Load64(const uint8_t* p) { return uint64_t{Load32(p)} << 32 | Load32(p + 4); }

uint64_t MaskBits(int length) {
  return length <= 0 ? 0 : length >= 64 ? ~0ULL : ~0ULL << (64 - length);
}

}  // namespace

bool RuleClassifier::AddressSet::Contains(uint8_t family, const uint8_t* address) const {
  if (any) return true;
  if (family == 4) {
    const uint32_t value = Load32(address);
    for (const Prefix4& prefix : v4) {
      if ((value & prefix.mask) == prefix.address) return true;
    }
  } else if (family == 6) {
    const uint64_t high = Load64(address), low = Load64(address + 8);
    for (const Prefix6& prefix : v6) {
      if ((high & prefix.mask_high) == prefix.high && (low & prefix.mask_low) == prefix.low) {
        return true;
      }
    }
  }
  return false;
}

void RuleClassifier::Add(const MatchSpec& match) {
  Rule rule;
  rule.directions = match.direction == Direction::kAToB   ? 1
                    : match.direction == Direction::kBToA ? 2
                                                          : 3;
  if (match.proto) rule.proto = *match.proto;
  rule.ports = match.has_src_port || match.has_dst_port;
  rule.src_port_min = match.src_port_min;
  rule.src_port_max = match.src_port_max;
  rule.dst_port_min = match.dst_port_min;
  rule.dst_port_max = match.dst_port_max;
  auto fill = [](const std::vector<Prefix>& prefixes, AddressSet* set) {
    set->any = prefixes.empty();
    for (const Prefix& prefix : prefixes) {
      if (prefix.family == 4) {
        const uint32_t mask = prefix.length == 0 ? 0 : ~0U << (32 - prefix.length);
        set->v4.push_back({Load32(prefix.address.data()) & mask, mask});
      } else {
        const uint64_t mask_high = MaskBits(prefix.length);
        const uint64_t mask_low = MaskBits(prefix.length - 64);
        set->v6.push_back({Load64(prefix.address.data()) & mask_high,
                           Load64(prefix.address.data() + 8) & mask_low, mask_high, mask_low});
      }
    }
  };
  fill(match.src.prefixes, &rule.src);
  fill(match.dst.prefixes, &rule.dst);
  rules_.push_back(std::move(rule));
}

int RuleClassifier::Classify(const ParsedFrame& frame, Direction direction) const {
  const uint8_t direction_bit = direction == Direction::kAToB ? 1 : 2;
  const FlowKey& key = frame.key;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    if (!(rule.directions & direction_bit)) continue;
    if (rule.proto >= 0 && (key.family == 0 || key.proto != rule.proto)) continue;
    if (rule.ports) {
      if (!frame.has_ports || key.src_port < rule.src_port_min ||
          key.src_port > rule.src_port_max || key.dst_port < rule.dst_port_min ||
          key.dst_port > rule.dst_port_max) {
        continue;
      }
    }
    if (!rule.src.any || !rule.dst.any) {
      if (key.family == 0) continue;
      if (!rule.src.Contains(key.family, key.src) || !rule.dst.Contains(key.family, key.dst)) {
        continue;
      }
    }
    return static_cast<int>(i);
  }
  return -1;
}

}  // namespace faultline
