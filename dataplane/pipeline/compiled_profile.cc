#include "dataplane/pipeline/compiled_profile.h"

#include <algorithm>
#include <bit>
#include <random>
#include <stdexcept>
#include <string>

namespace faultline {
namespace {

// Without a packet limit the ring must still hold every frame a byte limit admits: frames are at
// least 60 bytes on the wire side of a DPDK port (no FCS), capped to bound memory.
constexpr uint64_t kMinFrameBytes = 60;
constexpr uint64_t kMaxRateQueueFrames = uint64_t{1} << 20;
constexpr uint64_t kDefaultRateQueuePackets = 1000;  // netem's default limit

CompiledRate CompileRate(const RateSpec& spec, const TimeBase& time_base) {
  CompiledRate rate;
  // units per byte = 8 * hz / bandwidth, in fixed point.
  rate.units_per_byte_fp =
      ((static_cast<unsigned __int128>(8) * time_base.hz) << CompiledRate::kFracBits) /
      spec.bandwidth_bps;
  rate.overhead_bytes = spec.overhead_bytes;
  rate.limit = spec.queue_limit.Set() ? spec.queue_limit : SizeLimit{kDefaultRateQueuePackets, 0};
  rate.ecn_threshold = spec.ecn_threshold;
  uint64_t frames = rate.limit.packets ? rate.limit.packets : rate.limit.bytes / kMinFrameBytes + 1;
  rate.ring_capacity = static_cast<uint32_t>(std::min(frames, kMaxRateQueueFrames));
  return rate;
}

CompiledImpairment CompileImpairment(const ImpairmentSpec& spec, const TimeBase& time_base,
                                     uint64_t activation) {
  CompiledImpairment impairment;
  impairment.name = spec.name;
  if (spec.delay) {
    impairment.has_delay = true;
    impairment.delay.base = static_cast<int64_t>(time_base.FromNs(spec.delay->base_ns));
    impairment.delay.sigma = static_cast<int64_t>(time_base.FromNs(spec.delay->jitter_ns));
    impairment.delay.correlation = Correlation::FromFraction(spec.delay->correlation);
    if (spec.delay->distribution != DistributionKind::kUniform) {
      impairment.delay.table = spec.delay->table;
    }
    if (impairment.delay.sigma > 0) impairment.needs_flow_state = true;
  }
  if (spec.loss) {
    impairment.has_loss = true;
    impairment.loss = CompiledLoss::Compile(*spec.loss);
    impairment.needs_flow_state |=
        spec.loss->model != LossModel::kBernoulli || spec.loss->correlation > 0;
  }
  if (spec.duplicate) {
    impairment.has_duplicate = spec.duplicate->probability > 0;
    impairment.duplicate =
        CorrelatedChance::From(spec.duplicate->probability, spec.duplicate->correlation);
    impairment.needs_flow_state |= spec.duplicate->correlation > 0;
  }
  if (spec.reorder) {
    impairment.has_reorder = true;
    impairment.reorder =
        CorrelatedChance::From(spec.reorder->probability, spec.reorder->correlation);
    impairment.reorder_gap = std::max<uint32_t>(spec.reorder->gap, 1);
    impairment.max_displacement = spec.reorder->max_displacement;
    impairment.needs_flow_state = true;
  }
  if (spec.corrupt) {
    impairment.has_corrupt = spec.corrupt->probability > 0 || spec.corrupt->ber > 0;
    impairment.corrupt = CompiledCorrupt::Compile(*spec.corrupt);
    impairment.needs_flow_state |= spec.corrupt->correlation > 0;
  }
  if (spec.rate) {
    impairment.has_rate = true;
    impairment.rate = CompileRate(*spec.rate, time_base);
  }
  if (spec.stall) {
    impairment.has_stall = true;
    impairment.stall.start = time_base.FromNs(spec.stall->start_ns);
    if (spec.stall->at_activation) {
      impairment.stall.start += activation;
      impairment.stall.absolute = true;
    }
    impairment.stall.duration = time_base.FromNs(spec.stall->duration_ns);
    impairment.stall.every = time_base.FromNs(spec.stall->every_ns);
    impairment.stall.limit = spec.stall->limit;
  }
  return impairment;
}

}  // namespace

bool SameClassification(const ProfileSpec& a, const ProfileSpec& b) {
  if (a.rules.size() != b.rules.size() || a.partitions != b.partitions) return false;
  for (size_t i = 0; i < a.rules.size(); ++i) {
    if (a.rules[i].match != b.rules[i].match) return false;
  }
  return true;
}

std::optional<uint32_t> RuleIdentities::NameId(std::map<std::string, uint32_t>* ids,
                                               const std::string& name) {
  const auto found = ids->find(name);
  if (found != ids->end()) return found->second;
  if (ids->size() >= kMaxIds) return std::nullopt;
  const uint32_t id = static_cast<uint32_t>(ids->size());
  ids->emplace(name, id);
  return id;
}

std::optional<uint32_t> RuleIdentities::CounterId(const std::string& rule) {
  return NameId(&counter_ids_, rule);
}

std::optional<uint32_t> RuleIdentities::PartitionId(const std::string& partition) {
  return NameId(&partition_ids_, partition);
}

std::optional<uint32_t> RuleIdentities::StateId(const std::string& rule,
                                                const ImpairmentSpec& impairment) {
  std::vector<std::pair<ImpairmentSpec, uint32_t>>& known = state_ids_[rule];
  for (const auto& [effects, id] : known) {
    // The name is not an effect: the same effects under another name keep the state.
    ImpairmentSpec renamed = impairment;
    renamed.name = effects.name;
    if (effects == renamed) return id;
  }
  if (next_state_id_ >= kMaxIds) return std::nullopt;
  known.emplace_back(impairment, next_state_id_);
  return next_state_id_++;
}

namespace {
// Whether the first rule matches every frame received in `direction` whatever its contents:
// no field set, and both directions or this one.
bool MatchesEveryFrame(const MatchSpec& match, int direction) {
  MatchSpec any = match;
  any.direction = Direction::kBoth;
  return any == MatchSpec{} &&
         (match.direction == Direction::kBoth ||
          match.direction == (direction == 0 ? Direction::kAToB : Direction::kBToA));
}

// A constant delay and nothing else (no per-frame draw, no flow state, no queue).
bool OnlyConstantDelay(const CompiledImpairment& impairment) {
  return !impairment.has_loss && !impairment.has_duplicate && !impairment.has_reorder &&
         !impairment.has_corrupt && !impairment.has_rate && !impairment.has_stall &&
         !impairment.needs_flow_state && (!impairment.has_delay || impairment.delay.sigma == 0);
}

ExpressRoute WholeDirectionRoute(const CompiledProfile& profile, int direction) {
  if (profile.any_link_down || !profile.partitions.empty()) return {};
  if (!profile.rules_active || profile.rule_count() == 0) return {.whole = true};
  if (!MatchesEveryFrame(profile.spec.rules[0].match, direction)) return {};
  const CompiledImpairment& impairment = profile.impairments[profile.rule_impairment[0]];
  if (!OnlyConstantDelay(impairment)) return {};
  return {.whole = true,
          .rule = 0,
          .delay = impairment.has_delay && impairment.delay.base > 0
                       ? static_cast<uint64_t>(impairment.delay.base)
                       : 0};
}
}  // namespace

std::shared_ptr<const CompiledProfile> CompileProfile(const ProfileSpec& spec,
                                                      const TimeBase& time_base, uint64_t seed,
                                                      bool rules_active) {
  return CompileProfile(spec, time_base, seed, CompileOptions{.rules_active = rules_active});
}

std::shared_ptr<const CompiledProfile> CompileProfile(const ProfileSpec& spec,
                                                      const TimeBase& time_base, uint64_t seed,
                                                      const CompileOptions& options) {
  auto profile = std::make_shared<CompiledProfile>();
  profile->spec = spec;
  profile->seed = seed;
  profile->time_base = time_base;
  profile->rules_active = options.rules_active;
  profile->link_down = spec.link_down;
  profile->any_link_down = spec.link_down[0] || spec.link_down[1];
  uint32_t max_displacement = 0;
  for (const ImpairmentSpec& impairment : spec.impairments) {
    profile->impairments.push_back(CompileImpairment(impairment, time_base, options.activation));
    if (impairment.reorder) {
      max_displacement = std::max(max_displacement, impairment.reorder->max_displacement);
    }
  }
  // The ring keeps the running maximum departure of the last N + 2 packets (see Pipeline).
  profile->displacement_ring = max_displacement ? std::bit_ceil(max_displacement + 2) : 0;
  std::vector<MatchSpec> matches;
  for (size_t i = 0; i < spec.rules.size(); ++i) {
    const RuleSpec& rule = spec.rules[i];
    matches.push_back(rule.match);
    profile->rule_names.push_back(rule.name);
    profile->rule_impairment.push_back(static_cast<uint32_t>(rule.impairment));
    std::optional<uint32_t> counter_id = static_cast<uint32_t>(i), state_id = counter_id;
    if (options.identities != nullptr) {
      counter_id = options.identities->CounterId(rule.name);
      state_id = options.identities->StateId(rule.name, spec.impairments[rule.impairment]);
    }
    if (!counter_id || !state_id || *counter_id >= RuleIdentities::kMaxIds) {
      throw std::runtime_error("more than " + std::to_string(RuleIdentities::kMaxIds) +
                               " distinct rules (or rule and impairment pairs) over this "
                               "dataplane's life; restart it to start counting afresh");
    }
    profile->rule_counter_id.push_back(*counter_id);
    profile->rule_state_id.push_back(*state_id);
  }
  for (size_t i = 0; i < spec.partitions.size(); ++i) {
    const PartitionSpec& partition = spec.partitions[i];
    std::optional<uint32_t> counter_id = static_cast<uint32_t>(i);
    if (options.identities != nullptr) counter_id = options.identities->PartitionId(partition.name);
    if (!counter_id) {
      throw std::runtime_error("more than " + std::to_string(RuleIdentities::kMaxIds) +
                               " distinct partition names over this dataplane's life; restart it "
                               "to start counting afresh");
    }
    profile->partitions.push_back(
        {partition.name, partition.mode, partition.new_connections_only, *counter_id});
  }
  // What earlier profiles cut and this one does not stays as history (by counter id, so only
  // with identities: without, ids are positions and mean nothing across profiles).
  if (options.previous != nullptr && options.identities != nullptr) {
    auto in_force = [&profile](uint32_t id) {
      return std::any_of(profile->partitions.begin(), profile->partitions.end(),
                         [id](const CompiledPartition& p) { return p.counter_id == id; });
    };
    for (const auto* list : {&options.previous->healed_partitions, &options.previous->partitions}) {
      for (const CompiledPartition& partition : *list) {
        if (in_force(partition.counter_id)) continue;
        std::erase_if(profile->healed_partitions, [&partition](const CompiledPartition& p) {
          return p.counter_id == partition.counter_id;
        });
        profile->healed_partitions.push_back(partition);
      }
    }
  }
  if (options.previous != nullptr && SameClassification(options.previous->spec, spec)) {
    profile->classifier = options.previous->classifier;
  } else {
    // Group tables are still shared when only the other match fields changed.
    profile->classifier = std::make_shared<const Classifier>(
        matches, spec.partitions,
        options.previous != nullptr ? options.previous->classifier.get() : nullptr);
  }
  for (int direction = 0; direction < 2; ++direction) {
    profile->express[direction] = WholeDirectionRoute(*profile, direction);
  }
  return profile;
}

uint64_t ProfileMemoryBytes(const ProfileSpec& spec) {
  std::vector<MatchSpec> matches;
  for (const RuleSpec& rule : spec.rules) matches.push_back(rule.match);
  return Classifier::MemoryBytes(matches, spec.partitions);
}

uint64_t ProfileDelayHorizonNs(const ProfileSpec& spec) {
  uint64_t horizon = 0;
  for (const ImpairmentSpec& impairment : spec.impairments) {
    uint64_t longest = 0;
    if (impairment.delay) longest += impairment.delay->base_ns + 4 * impairment.delay->jitter_ns;
    if (impairment.stall) longest += impairment.stall->duration_ns;
    horizon = std::max(horizon, longest);
  }
  return horizon;
}

uint64_t ResolveSeed(const std::optional<uint64_t>& command_line, const ProfileSpec& spec,
                     bool* drawn) {
  *drawn = false;
  if (command_line) return *command_line;
  if (spec.seed) return *spec.seed;
  *drawn = true;
  std::random_device device;
  return (uint64_t{device()} << 32 | device()) & ((uint64_t{1} << 53) - 1);  // exact in JSON
}

}  // namespace faultline
