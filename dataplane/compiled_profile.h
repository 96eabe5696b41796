// The fast-path form of a profile: every time in clock units, every probability a 32-bit
// threshold, every table loaded. Built once by the control side and then only read, by any
// number of workers (each keeps its own mutable model state, see Pipeline).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/classifier.h"
#include "dataplane/clock.h"
#include "dataplane/corruptor.h"
#include "dataplane/delay_model.h"
#include "dataplane/loss_model.h"
#include "dataplane/profile_spec.h"
#include "dataplane/rate_limiter.h"
#include "dataplane/stall_window.h"

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
};

struct CompiledProfile {
  ProfileSpec spec;  // what it was compiled from (a live heal or apply starts from it)
  uint64_t seed = 0;
  TimeBase time_base;
  std::vector<CompiledImpairment> impairments;
  std::unique_ptr<const Classifier> classifier;
  std::vector<CompiledPartition> partitions;
  std::vector<std::string> rule_names;
  std::vector<uint32_t> rule_impairment;  // per rule: index into impairments
  uint32_t displacement_ring = 0;         // per-flow ring length for the largest max-displacement

  // False after `heal --impairments`: no rule matches, every frame is forwarded untouched (the
  // rules stay, so their counters and state carry over when impairments come back).
  bool rules_active = true;

  size_t rule_count() const { return rule_names.size(); }
  // Whether `other` has the same rules and impairments, so a pipeline can switch to it live
  // keeping its per-rule state (Pipeline::SwapProfile).
  bool SameRules(const CompiledProfile& other) const;
};

// Why `next` cannot replace `running` live (a rule or an impairment differs: what
// CompiledProfile::SameRules refuses), or "" if it can.
std::string LiveChangeConflict(const ProfileSpec& running, const ProfileSpec& next);

// Compiles a validated profile for clock `time_base`, drawing from `seed`. Needs the EAL when
// the profile names addresses (group tables); throws std::runtime_error if DPDK memory runs out.
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

// A profile with one rule that delays everything by `delay_ns` (the `--delay` shortcut).
ProfileSpec ConstantDelayProfile(uint64_t delay_ns);

}  // namespace faultline
