// The fast-path form of a profile: every time in clock units, every probability a 32-bit
// threshold, every table loaded. Built once by the control side and then only read, by any
// number of workers (each keeps its own mutable model state, see Pipeline).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/config/starting_profile.h"
#include "dataplane/fastpath/classifier.h"
#include "dataplane/fastpath/clock.h"
#include "dataplane/models/corruptor.h"
#include "dataplane/models/delay_model.h"
#include "dataplane/models/ecn_marker.h"
#include "dataplane/models/loss_model.h"
#include "dataplane/models/rate_limiter.h"
#include "dataplane/models/stall_window.h"

namespace faultline {

struct CompiledImpairment {
  std::string name;
  bool has_delay = false, has_loss = false, has_duplicate = false, has_reorder = false,
       has_corrupt = false, has_rate = false, has_stall = false;
  // Whether a model remembers something per flow (correlation, loss chain, jitter order
  // keeping, reorder gap). Constant delay alone needs no flow lookup: it cannot reorder.
  bool needs_flow_state = false;
  CompiledDelay delay;
  CompiledLoss loss;
  CorrelatedChance duplicate;
  CorrelatedChance reorder;
  uint32_t reorder_gap = 1;
  uint32_t max_displacement = 0;
  CompiledCorrupt corrupt;
  CompiledRate rate;
  CompiledStall stall;
};

struct CompiledPartition {
  std::string name;
  PartitionMode mode = PartitionMode::kDrop;
  bool new_connections_only = false;
  // Where its counters live in a pipeline (slot id * 2 + direction): one per partition name
  // (RuleIdentities), so they follow it through changes and stay after it is healed.
  uint32_t counter_id = 0;
};

// Stable numbers for rules across live changes (control thread only). A pipeline keeps a rule's
// counters and flows under its counter id (one per rule name, for the registry's life) and its
// model state (stall window, rate queue) under its state id (one per rule name and impairment
// effects), so both follow a rule through every apply, heal and trace step that keeps it.
class RuleIdentities {
 public:
  // Ids are below this (per-rule tables and the 16-bit packet and flow slots are sized by it).
  static constexpr uint32_t kMaxIds = 16384;

  // nullopt once kMaxIds names (or name and effects pairs) have been seen.
  std::optional<uint32_t> CounterId(const std::string& rule);
  std::optional<uint32_t> StateId(const std::string& rule, const ImpairmentSpec& impairment);
  // The counters of a partition, by its name.
  std::optional<uint32_t> PartitionId(const std::string& partition);

 private:
  // The id of `name` in `ids`, a new one (the next number) if it has none.
  static std::optional<uint32_t> NameId(std::map<std::string, uint32_t>* ids,
                                        const std::string& name);

  std::map<std::string, uint32_t> counter_ids_;
  std::map<std::string, uint32_t> partition_ids_;
  std::map<std::string, std::vector<std::pair<ImpairmentSpec, uint32_t>>> state_ids_;
  uint32_t next_state_id_ = 0;
};

// When one decision holds for every frame received in a direction, a live pipeline moves that
// direction's bursts whole through an express lane (ExpressLane) instead of frame by frame: no
// partitions and no side down, and either no active rule (pass-through) or a first rule that
// matches every frame and only delays it by a constant (the `--delay` shortcut).
struct ExpressRoute {
  bool whole = false;  // the decision below holds for every frame of the direction
  int rule = -1;       // the rule every frame matches, -1: none (forwarded untouched)
  uint64_t delay = 0;  // clock units
};

struct CompiledProfile;

struct CompileOptions {
  // False after `heal --impairments`: no rule matches, every frame is forwarded untouched.
  bool rules_active = true;
  // Clock time a trace step is scheduled to take effect: its stalls (at_activation) start then.
  uint64_t activation = 0;
  // Where rule ids come from; null: rule i gets counter and state id i (a profile that never
  // changes: replay without a trace, tests, benchmarks).
  RuleIdentities* identities = nullptr;
  // The classifier is shared with `previous` when the match fields and partitions are the same
  // (a set-impairment or link step, a heal of impairments); its group tables (the DPDK LPM and
  // MAC tables) whenever the endpoint sets are (any change that keeps the groups).
  const CompiledProfile* previous = nullptr;
};

struct CompiledProfile {
  ProfileSpec spec;  // what it was compiled from (a live heal or apply starts from it)
  uint64_t seed = 0;
  TimeBase time_base;
  std::vector<CompiledImpairment> impairments;
  std::shared_ptr<const Classifier> classifier;
  std::vector<CompiledPartition> partitions;
  // Partitions of earlier profiles of this dataplane that are not in this one (healed, or left
  // out by an apply or a trace step), latest last: their counters stay in the statistics as
  // history until a reset.
  std::vector<CompiledPartition> healed_partitions;
  std::vector<std::string> rule_names;
  std::vector<uint32_t> rule_impairment;  // per rule: index into impairments
  // Per rule: where its counters and flows (counter id) and its model state (state id) live in
  // a pipeline (RuleIdentities). Slot of rule r in direction d: id * 2 + d.
  std::vector<uint32_t> rule_counter_id, rule_state_id;
  uint32_t displacement_ring = 0;   // per-flow ring length for the largest max-displacement
  std::array<bool, 2> link_down{};  // side a / b down (trace `link` events)
  bool any_link_down = false;

  // False after `heal --impairments`: no rule matches, every frame is forwarded untouched (the
  // rules stay, so their counters and state carry over when impairments come back).
  bool rules_active = true;

  // Per direction (0: a-to-b, 1: b-to-a): whether every frame takes one route (ExpressRoute).
  std::array<ExpressRoute, 2> express{};

  size_t rule_count() const { return rule_names.size(); }
};

// Whether two profiles classify alike (the same match fields, in order, and partitions), so a
// compiled profile may share the other's classifier and group tables.
bool SameClassification(const ProfileSpec& a, const ProfileSpec& b);

// Compiles a validated profile for clock `time_base`, drawing from `seed`. Needs the EAL when
// the profile names addresses (group tables); throws std::runtime_error if DPDK memory runs out
// or the rule identities are exhausted.
std::shared_ptr<const CompiledProfile> CompileProfile(const ProfileSpec& spec,
                                                      const TimeBase& time_base, uint64_t seed,
                                                      const CompileOptions& options);
// `rules_active = false` compiles it healed of its impairments (`heal --impairments`).
std::shared_ptr<const CompiledProfile> CompileProfile(const ProfileSpec& spec,
                                                      const TimeBase& time_base, uint64_t seed,
                                                      bool rules_active = true);

// The longest a profile can hold a frame: base + 4 sigma of jitter (the tables end at 4 sigma)
// plus a stall. Sizes the default hold limit and the drain timeout.
uint64_t ProfileDelayHorizonNs(const ProfileSpec& spec);

// The seed a run uses: the command line's, else the profile's, else a fresh random one
// (*drawn = true: the caller prints it so the run can be repeated).
uint64_t ResolveSeed(const std::optional<uint64_t>& command_line, const ProfileSpec& spec,
                     bool* drawn);

// DPDK memory the compiled profile's tables take (offline runs size the EAL memory with it).
uint64_t ProfileMemoryBytes(const ProfileSpec& spec);

}  // namespace faultline
