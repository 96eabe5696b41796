// `faultline validate`'s summary of a profile: one line per partition and rule.
#include <string>
#include <vector>

#include "control/base/units.h"
#include "control/profile/profile_names.h"
#include "control/profile/profile_parser.h"
#include "control/yaml/yaml_reader.h"

namespace faultline {
namespace {

std::string DescribeLimit(const SizeLimit& limit) {
  if (limit.packets && limit.bytes) {
    // append, not "[" + ...: GCC 12 warns falsely (-Wrestrict) about the inserting operator+.
    return std::string("[")
        .append(FormatSize({limit.packets, true}))
        .append(", ")
        .append(FormatSize({limit.bytes, false}))
        .append("]");
  }
  return limit.packets ? FormatSize({limit.packets, true}) : FormatSize({limit.bytes, false});
}

std::string DescribeEndpoints(const EndpointSet& endpoints) {
  constexpr size_t kShown = 4;
  std::vector<std::string> all;
  for (const Prefix& prefix : endpoints.prefixes) all.push_back(FormatPrefix(prefix));
  for (const MacAddress& mac : endpoints.macs) all.push_back(FormatMac(mac));
  if (all.size() > kShown) {
    const size_t more = all.size() - kShown;
    all.resize(kShown);
    all.push_back(std::string("+").append(std::to_string(more)));
  }
  return Join(all, " ");
}

std::string DescribeMacs(const std::vector<MacAddress>& macs) {
  return DescribeEndpoints(EndpointSet{.prefixes = {}, .macs = macs});
}

std::string DescribeRange(const ValueRange& range) {
  return range.min == range.max ? std::to_string(range.min)
                                : std::to_string(range.min) + "-" + std::to_string(range.max);
}

std::string DescribeMatch(const MatchSpec& match) {
  std::vector<std::string> parts = {
      std::string(kDirectionNames[static_cast<int>(match.direction)])};
  if (!match.src.empty()) parts.push_back("src " + DescribeEndpoints(match.src));
  if (!match.dst.empty()) parts.push_back("dst " + DescribeEndpoints(match.dst));
  if (!match.src_mac.empty()) parts.push_back("src-mac " + DescribeMacs(match.src_mac));
  if (!match.dst_mac.empty()) parts.push_back("dst-mac " + DescribeMacs(match.dst_mac));
  if (match.vlan) parts.push_back("vlan " + DescribeRange(*match.vlan));
  if (match.ether_type) {
    std::string name = "ethertype " + Hex16(*match.ether_type);
    for (const EtherTypeName& known : kEtherTypes) {
      if (known.number == *match.ether_type) name = "ethertype " + std::string(known.name);
    }
    parts.push_back(name);
  }
  if (match.proto) {
    std::string name = "proto " + std::to_string(*match.proto);
    for (const ProtocolName& known : kProtocols) {
      if (known.number == *match.proto) name = std::string(known.name);
    }
    parts.push_back(name);
  }
  if (match.has_src_port) {
    parts.push_back("src-port " + DescribeRange({match.src_port_min, match.src_port_max}));
  }
  if (match.has_dst_port) {
    parts.push_back("dst-port " + DescribeRange({match.dst_port_min, match.dst_port_max}));
  }
  if (match.dscp) {
    const std::string name = DscpName(match.dscp->min);
    parts.push_back("dscp " + DescribeRange(*match.dscp) +
                    (match.dscp->min == match.dscp->max && !name.empty() ? " (" + name + ")" : ""));
  }
  if (parts.size() == 1) parts.push_back("any frame");
  return Join(parts);
}

std::string Correlated(double correlation) {
  return correlation > 0 ? " correlation " + FormatProbability(correlation) : "";
}

std::string DescribeImpairment(const ImpairmentSpec& impairment) {
  std::vector<std::string> effects;
  if (const auto& delay = impairment.delay) {
    std::string text = "delay " + FormatDuration(delay->base_ns);
    if (delay->jitter_ns > 0) {
      text += " jitter " + FormatDuration(delay->jitter_ns) + " ";
      text += delay->distribution == DistributionKind::kTable
                  ? "table " + delay->table_path
                  : std::string(kDistributionNames[static_cast<int>(delay->distribution)]);
    }
    effects.push_back(text + Correlated(delay->correlation));
  }
  if (const auto& loss = impairment.loss) {
    std::string text = "loss ";
    switch (loss->model) {
      case LossModel::kBernoulli:
        text += FormatProbability(loss->probability) + Correlated(loss->correlation);
        break;
      case LossModel::kGilbertElliott:
        text += "gilbert-elliott p " + FormatProbability(loss->p) + " r " +
                FormatProbability(loss->r) + " loss-bad " + FormatProbability(loss->loss_bad) +
                " loss-good " + FormatProbability(loss->loss_good);
        break;
      case LossModel::kMarkov4:
        text += "markov4 p13 " + FormatProbability(loss->p13) + " p31 " +
                FormatProbability(loss->p31) + " p32 " + FormatProbability(loss->p32) + " p23 " +
                FormatProbability(loss->p23) + " p14 " + FormatProbability(loss->p14);
        break;
    }
    if (loss->max_size > 0) text += " max-size " + FormatSize({loss->max_size, false});
    effects.push_back(text);
  }
  if (const auto& duplicate = impairment.duplicate) {
    effects.push_back("duplicate " + FormatProbability(duplicate->probability) +
                      Correlated(duplicate->correlation));
  }
  if (const auto& reorder = impairment.reorder) {
    std::string text = "reorder " + FormatProbability(reorder->probability);
    if (reorder->gap != 1) text += " gap " + std::to_string(reorder->gap);
    if (reorder->max_displacement > 0) {
      text += " max-displacement " + std::to_string(reorder->max_displacement);
    }
    effects.push_back(text + Correlated(reorder->correlation));
  }
  if (const auto& corrupt = impairment.corrupt) {
    std::string text = corrupt->ber > 0 ? "corrupt ber " + FormatProbability(corrupt->ber)
                                        : "corrupt " + FormatProbability(corrupt->probability) +
                                              Correlated(corrupt->correlation);
    if (corrupt->fix_checksums) text += " fix-checksums";
    effects.push_back(text);
  }
  if (const auto& rate = impairment.rate) {
    std::string text = "rate " + FormatRate(rate->bandwidth_bps);
    if (rate->overhead_bytes != 0)
      text += " overhead " + std::to_string(rate->overhead_bytes) + "B";
    text += " queue-limit " + DescribeLimit(rate->queue_limit);
    if (rate->ecn_threshold.Set()) text += " ecn-threshold " + DescribeLimit(rate->ecn_threshold);
    effects.push_back(text);
  }
  if (const auto& stall = impairment.stall) {
    std::string text = "stall " + FormatDuration(stall->duration_ns);
    if (stall->start_ns > 0) text += " start " + FormatDuration(stall->start_ns);
    if (stall->every_ns > 0) text += " every " + FormatDuration(stall->every_ns);
    effects.push_back(text + " limit " + DescribeLimit(stall->limit));
  }
  if (effects.empty()) return "no effects (forwarded untouched)";
  return Join(effects, "; ");
}

}  // namespace

std::string DescribeProfile(const ProfileSpec& profile) {
  std::string text =
      "version " + std::to_string(profile.version) + ", " +
      (profile.seed ? "seed " + std::to_string(*profile.seed)
                    : "no seed (one is drawn and reported at start)") +
      ", " + Plural(profile.groups.size(), "group") + ", " +
      Plural(profile.impairments.size(), "impairment") + ", " +
      Plural(profile.rules.size(), "rule") +
      " (first match wins; frames matching none pass untouched)" +
      (profile.partitions.empty()
           ? ""
           : ", " + Plural(profile.partitions.size(), "partition") + " (checked before rules)") +
      "\n";
  for (const PartitionSpec& partition : profile.partitions) {
    text += "  partition " + partition.name + ": " +
            std::string(kPartitionModeNames[static_cast<int>(partition.mode)]) + ", " +
            (partition.new_connections_only ? "new connections (TCP SYN) only" : "all traffic") +
            ", " + Plural(partition.cuts.size(), "cut") + "\n";
  }
  std::vector<bool> used(profile.impairments.size(), false);
  for (const RuleSpec& rule : profile.rules) {
    const ImpairmentSpec& impairment = profile.impairments[rule.impairment];
    used[rule.impairment] = true;
    text += "  rule " + rule.name + ": " + DescribeMatch(rule.match) + " -> " + impairment.name +
            ": " + DescribeImpairment(impairment) + "\n";
  }
  std::vector<std::string> unused;
  for (size_t i = 0; i < profile.impairments.size(); ++i) {
    if (!used[i]) unused.push_back(profile.impairments[i].name);
  }
  if (!unused.empty()) text += "  not used by any rule: " + Join(unused) + "\n";
  return text;
}

}  // namespace faultline
