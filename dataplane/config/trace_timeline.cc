#include "dataplane/config/trace_timeline.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "dataplane/config/duration_text.h"

namespace faultline {
namespace {

// The words, at most the first 20 of them and then how many there are (an error about one of
// 4,096 rules should stay short).
std::string Join(const std::vector<std::string>& words) {
  constexpr size_t kShown = 20;
  std::string joined;
  for (size_t i = 0; i < words.size() && i < kShown; ++i) {
    if (!joined.empty()) joined += ", ";
    joined += words[i];
  }
  if (words.size() > kShown) joined += ", ... (" + std::to_string(words.size()) + " in all)";
  return joined;
}

std::string SideName(LinkSide side) {
  switch (side) {
    case LinkSide::kA:
      return "a";
    case LinkSide::kB:
      return "b";
    case LinkSide::kBoth:
      return "both";
  }
  return "?";
}

// One step of an event within a round: when (from the round's start), what, and whether the file
// wrote it. `number` counts the event's steps in the round from 0.
struct EventStep {
  uint64_t at_ns = 0;
  TraceAction action = TraceAction::kHeal;
  bool implied = false;
  bool last_of_flap = false;  // the flap's closing `up` at at + for
};

uint64_t AddSaturated(uint64_t a, uint64_t b) { return b > UINT64_MAX - a ? UINT64_MAX : a + b; }

uint64_t MulSaturated(uint64_t a, uint64_t b) {
  return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

std::optional<EventStep> StepOf(const TraceEvent& event, uint64_t number) {
  const uint64_t end = AddSaturated(event.at_ns, event.for_ns);
  switch (event.kind) {
    case TraceEventKind::kSetImpairment:
      if (number == 0) return EventStep{event.at_ns, TraceAction::kSetImpairment, false, false};
      return std::nullopt;
    case TraceEventKind::kPartition:
      if (number == 0) return EventStep{event.at_ns, TraceAction::kPartition, false, false};
      return std::nullopt;
    case TraceEventKind::kHeal:
      if (number == 0) return EventStep{event.at_ns, TraceAction::kHeal, false, false};
      return std::nullopt;
    case TraceEventKind::kStall:
      if (number == 0) return EventStep{event.at_ns, TraceAction::kStallStart, false, false};
      if (number == 1) return EventStep{end, TraceAction::kStallEnd, true, false};
      return std::nullopt;
    case TraceEventKind::kLink:
      break;
  }
  switch (event.link) {
    case LinkChange::kUp:
      if (number == 0) return EventStep{event.at_ns, TraceAction::kLinkUp, false, false};
      return std::nullopt;
    case LinkChange::kDown:
      if (number == 0) return EventStep{event.at_ns, TraceAction::kLinkDown, false, false};
      if (number == 1 && event.for_ns > 0) {
        return EventStep{end, TraceAction::kLinkUp, true, false};
      }
      return std::nullopt;
    case LinkChange::kFlapping: {
      // Edge 2k: down at at + k * (down + up); edge 2k + 1: up `down` later. Edges stop at
      // at + for; a flap that is down then comes up there.
      const uint64_t cycle = AddSaturated(event.flap_down_ns, event.flap_up_ns);
      const uint64_t down_at = AddSaturated(event.at_ns, MulSaturated(number / 2, cycle));
      if (number % 2 == 0) {
        if (number > 0 && down_at >= end) return std::nullopt;
        return EventStep{down_at, TraceAction::kLinkDown, number > 0, false};
      }
      if (down_at >= end) return std::nullopt;  // that down edge did not happen
      const uint64_t up_at = AddSaturated(down_at, event.flap_down_ns);
      if (up_at >= end) return EventStep{end, TraceAction::kLinkUp, true, true};
      return EventStep{up_at, TraceAction::kLinkUp, true, false};
    }
  }
  return std::nullopt;
}

std::string Describe(const TraceEvent& event, const EventStep& step) {
  switch (step.action) {
    case TraceAction::kSetImpairment:
      return "set-impairment " + event.rule + " -> " + event.impairment;
    case TraceAction::kPartition:
      return "partition " + event.partition.name;
    case TraceAction::kHeal:
      switch (event.heal) {
        case HealWhat::kPartitions:
          return "heal partitions";
        case HealWhat::kImpairments:
          return "heal impairments";
        case HealWhat::kAll:
          return "heal all";
        case HealWhat::kPartition:
          return "heal partition " + event.heal_partition;
      }
      break;
    case TraceAction::kStallStart:
      return "stall " + event.group + " for " + FormatHumanDuration(event.for_ns);
    case TraceAction::kStallEnd:
      return "stall " + event.group + " ends";
    case TraceAction::kLinkDown:
    case TraceAction::kLinkUp:
      break;
  }
  const std::string link = "link " + SideName(event.side);
  const bool down = step.action == TraceAction::kLinkDown;
  if (event.link == LinkChange::kFlapping) {
    if (!step.implied) {
      return link + " flapping for " + FormatHumanDuration(event.for_ns) + " (down " +
             FormatHumanDuration(event.flap_down_ns) + ", up " +
             FormatHumanDuration(event.flap_up_ns) + "): down";
    }
    if (step.last_of_flap) return link + " up (flapping ends)";
    return link + (down ? " down" : " up") + " (flapping)";
  }
  if (down && event.for_ns > 0) return link + " down for " + FormatHumanDuration(event.for_ns);
  return link + (down ? " down" : " up");
}

// "LINE:COL: " of an event.
std::string Where(const TraceEvent& event) {
  return std::to_string(event.line) + ":" + std::to_string(event.column) + ": ";
}

// Whether `name` is `base` with a suffix " #N" (the timeline's name for a repeated partition).
bool IsSuffixed(const std::string& name, const std::string& base) {
  const std::string prefix = base + " #";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

size_t Count(const EndpointSet& set) { return set.prefixes.size() + set.macs.size(); }

void RemoveImpairment(size_t index, ProfileSpec* spec) {
  spec->impairments.erase(spec->impairments.begin() + static_cast<std::ptrdiff_t>(index));
  for (RuleSpec& rule : spec->rules) {
    if (rule.impairment > index) --rule.impairment;
  }
}

// Removes what a stall event added (if it is in force).
void RemoveStall(const TraceEvent& event, size_t event_index, ProfileSpec* spec) {
  const std::string from = StallRuleName(event, event_index, true);
  const std::string to = StallRuleName(event, event_index, false);
  std::erase_if(spec->rules,
                [&](const RuleSpec& rule) { return rule.name == from || rule.name == to; });
  const std::string name = StallImpairmentName(event, event_index);
  for (size_t i = 0; i < spec->impairments.size(); ++i) {
    if (spec->impairments[i].name == name) {
      RemoveImpairment(i, spec);
      break;
    }
  }
}

std::string ApplySetImpairment(const TraceEvent& event, TraceState* state) {
  ProfileSpec& spec = state->spec;
  auto rule = std::find_if(spec.rules.begin(), spec.rules.end(),
                           [&](const RuleSpec& r) { return r.name == event.rule; });
  if (rule == spec.rules.end()) {
    std::vector<std::string> names;
    for (const RuleSpec& r : spec.rules) names.push_back(r.name);
    return "set-impairment: no rule named '" + event.rule + "' (" +
           (names.empty() ? "the profile has no rules" : "rules: " + Join(names)) + ")";
  }
  for (size_t i = 0; i < spec.impairments.size(); ++i) {
    if (spec.impairments[i].name == event.impairment) {
      rule->impairment = i;
      state->rules_active = true;
      return "";
    }
  }
  std::vector<std::string> names;
  for (const ImpairmentSpec& impairment : spec.impairments) names.push_back(impairment.name);
  return "set-impairment: no impairment named '" + event.impairment + "' (" +
         (names.empty() ? "the profile has no impairments" : "impairments: " + Join(names)) + ")";
}

std::string ApplyPartition(const TraceEvent& event, TraceState* state) {
  std::vector<PartitionSpec>& partitions = state->spec.partitions;
  if (partitions.size() >= kMaxPartitions) {
    return "partition: " + std::to_string(kMaxPartitions) +
           " partitions are in force already, the most the dataplane holds";
  }
  size_t cuts = event.partition.cuts.size();
  for (const PartitionSpec& partition : partitions) cuts += partition.cuts.size();
  if (cuts > kMaxPartitionCuts) {
    return "partition: " + std::to_string(event.partition.cuts.size()) + " more cuts make " +
           std::to_string(cuts) + " in force; the dataplane holds at most " +
           std::to_string(kMaxPartitionCuts);
  }
  size_t endpoints = MatchEndpointCount(state->spec);
  for (const PartitionCut& cut : event.partition.cuts) endpoints += Count(cut.from) + Count(cut.to);
  if (endpoints > kMaxMatchEndpoints) {
    return "partition: its cuts make the rules and partitions in force hold " +
           std::to_string(endpoints) + " endpoints; the dataplane holds at most " +
           std::to_string(kMaxMatchEndpoints);
  }
  std::set<std::string> taken;
  for (const PartitionSpec& p : partitions) taken.insert(p.name);
  PartitionSpec partition = event.partition;
  for (int copy = 2; taken.count(partition.name); ++copy) {
    partition.name = event.partition.name + " #" + std::to_string(copy);
  }
  partitions.push_back(std::move(partition));
  return "";
}

std::string ApplyHeal(const TraceEvent& event, TraceState* state) {
  std::vector<PartitionSpec>& partitions = state->spec.partitions;
  switch (event.heal) {
    case HealWhat::kPartitions:
      partitions.clear();
      return "";
    case HealWhat::kImpairments:
      state->rules_active = false;
      return "";
    case HealWhat::kAll:
      partitions.clear();
      state->rules_active = false;
      return "";
    case HealWhat::kPartition:
      break;
  }
  auto it = std::find_if(partitions.begin(), partitions.end(),
                         [&](const PartitionSpec& p) { return p.name == event.heal_partition; });
  if (it == partitions.end()) {
    // The same partition event applied again while the first was in force got " #2".
    it = std::find_if(partitions.begin(), partitions.end(), [&](const PartitionSpec& p) {
      return IsSuffixed(p.name, event.heal_partition);
    });
  }
  if (it == partitions.end()) {
    std::vector<std::string> names;
    for (const PartitionSpec& p : partitions) names.push_back("'" + p.name + "'");
    return "heal: partition '" + event.heal_partition + "' is not in force (" +
           (names.empty() ? "no partition is" : "in force: " + Join(names)) + ")";
  }
  partitions.erase(it);
  return "";
}

std::string ApplyStallStart(const TraceEvent& event, size_t event_index, TraceState* state) {
  ProfileSpec& spec = state->spec;
  // The stall's own rules, if still in force, are replaced: count without them.
  const std::string from_name = StallRuleName(event, event_index, true);
  const std::string to_name = StallRuleName(event, event_index, false);
  size_t rules = spec.rules.size() + 2;
  size_t endpoints = MatchEndpointCount(spec) + 2 * Count(event.members);
  for (const RuleSpec& rule : spec.rules) {
    if (rule.name == from_name || rule.name == to_name) {
      --rules;
      endpoints -= Count(rule.match.src) + Count(rule.match.dst);
    }
  }
  if (rules > kMaxRules) {
    return "stall: its two rules make " + std::to_string(rules) +
           " rules in force; the dataplane holds at most " + std::to_string(kMaxRules);
  }
  if (endpoints > kMaxMatchEndpoints) {
    return "stall: its two rules make the rules and partitions in force hold " +
           std::to_string(endpoints) + " endpoints; the dataplane holds at most " +
           std::to_string(kMaxMatchEndpoints);
  }
  RemoveStall(event, event_index, &spec);
  ImpairmentSpec impairment;
  impairment.name = StallImpairmentName(event, event_index);
  impairment.stall = StallSpec{.duration_ns = event.for_ns,
                               .start_ns = 0,
                               .every_ns = 0,
                               .limit = event.stall_limit,
                               .at_activation = true};
  spec.impairments.push_back(std::move(impairment));
  const size_t index = spec.impairments.size() - 1;
  RuleSpec from{.name = StallRuleName(event, event_index, true), .match = {}, .impairment = index};
  from.match.src = event.members;
  RuleSpec to{.name = StallRuleName(event, event_index, false), .match = {}, .impairment = index};
  to.match.dst = event.members;
  // First match wins: the stall goes before every rule of the profile.
  spec.rules.insert(spec.rules.begin(), {std::move(from), std::move(to)});
  return "";
}

void SetLink(LinkSide side, bool down, TraceState* state) {
  if (side != LinkSide::kB) state->spec.link_down[0] = down;
  if (side != LinkSide::kA) state->spec.link_down[1] = down;
}

}  // namespace

std::string FormatTraceDuration(uint64_t ns) {
  if (ns == 0) return "0s";
  static constexpr std::pair<const char*, uint64_t> kUnits[] = {
      {"d", 86'400'000'000'000}, {"h", 3'600'000'000'000}, {"m", 60'000'000'000},
      {"s", 1'000'000'000},      {"ms", 1'000'000},        {"us", 1'000}};
  for (const auto& [unit, scale] : kUnits) {
    if (ns >= scale && ns % scale == 0) return std::to_string(ns / scale) + unit;
  }
  return std::to_string(ns) + "ns";
}

std::string StallImpairmentName(const TraceEvent& event, size_t event_index) {
  return "stall " + event.group + " (event " + std::to_string(event_index + 1) + ")";
}

std::string StallRuleName(const TraceEvent& event, size_t event_index, bool from) {
  return "stall " + event.group + (from ? " from" : " to") + " (event " +
         std::to_string(event_index + 1) + ")";
}

std::string DescribeTraceEvent(const TraceEvent& event) {
  const std::optional<EventStep> step = StepOf(event, 0);
  return step ? Describe(event, *step) : "";
}

namespace {

// Whether pending step a comes after b (std::push_heap keeps the greatest on top, so this puts
// the earliest there): by time, then an implied step first, then file order.
template <typename Pending>
bool Later(const Pending& a, const Pending& b) {
  if (a.at_ns != b.at_ns) return a.at_ns > b.at_ns;
  if (a.implied != b.implied) return b.implied;
  return a.event > b.event;
}

}  // namespace

TraceTimeline::TraceTimeline(const TraceSpec& trace)
    : trace_(trace), next_(trace.events.size(), 0), done_(trace.events.empty()) {
  if (!done_) StartRound();
}

void TraceTimeline::StartRound() {
  std::fill(next_.begin(), next_.end(), 0);
  heap_.clear();
  for (size_t e = 0; e < trace_.events.size(); ++e) {
    if (const std::optional<EventStep> step = StepOf(trace_.events[e], 0)) {
      heap_.push_back(Pending{step->at_ns, step->implied, e});
    }
  }
  std::make_heap(heap_.begin(), heap_.end(), Later<Pending>);
}

std::optional<TraceStep> TraceTimeline::Next() {
  while (!done_) {
    if (heap_.empty()) {
      ++round_;
      if (trace_.repeat != 0 && round_ >= trace_.repeat) {
        done_ = true;
        break;
      }
      StartRound();
      continue;
    }
    std::pop_heap(heap_.begin(), heap_.end(), Later<Pending>);
    const size_t e = heap_.back().event;
    heap_.pop_back();
    const TraceEvent& event = trace_.events[e];
    const EventStep best = *StepOf(event, next_[e]);
    if (const std::optional<EventStep> after = StepOf(event, ++next_[e])) {
      heap_.push_back(Pending{after->at_ns, after->implied, e});
      std::push_heap(heap_.begin(), heap_.end(), Later<Pending>);
    }
    TraceStep step;
    step.at_ns = AddSaturated(MulSaturated(round_, trace_.period_ns), best.at_ns);
    step.index = index_++;
    step.round = round_;
    step.event = e;
    step.implied = best.implied;
    step.action = best.action;
    step.description = Describe(event, best);
    return step;
  }
  return std::nullopt;
}

uint64_t EventStepCount(const TraceEvent& event) {
  switch (event.kind) {
    case TraceEventKind::kStall:
      return 2;
    case TraceEventKind::kLink:
      break;
    default:
      return 1;
  }
  if (event.link == LinkChange::kDown) return event.for_ns > 0 ? 2 : 1;
  if (event.link == LinkChange::kUp) return 1;
  // Down edges at at + k * cycle while that is before at + for, each followed by an up edge.
  if (event.for_ns == 0) return 1;  // the first down only
  const uint64_t cycle = AddSaturated(event.flap_down_ns, event.flap_up_ns);
  if (cycle == 0) return UINT64_MAX;
  const uint64_t downs = event.for_ns / cycle + (event.for_ns % cycle != 0 ? 1 : 0);
  return MulSaturated(downs, 2);
}

std::string TraceTimeline::Apply(const TraceStep& step, TraceState* state) const {
  if (step.event >= trace_.events.size()) return "no such event";
  const TraceEvent& event = trace_.events[step.event];
  switch (step.action) {
    case TraceAction::kSetImpairment:
      return ApplySetImpairment(event, state);
    case TraceAction::kPartition:
      return ApplyPartition(event, state);
    case TraceAction::kHeal:
      return ApplyHeal(event, state);
    case TraceAction::kStallStart:
      return ApplyStallStart(event, step.event, state);
    case TraceAction::kStallEnd:
      RemoveStall(event, step.event, &state->spec);
      return "";
    case TraceAction::kLinkDown:
      SetLink(event.side, true, state);
      return "";
    case TraceAction::kLinkUp:
      SetLink(event.side, false, state);
      return "";
  }
  return "";
}

std::string CheckTrace(const TraceSpec& trace, const ProfileSpec& running) {
  TraceState state{.spec = trace.profile ? *trace.profile : running, .rules_active = true};
  TraceTimeline timeline(trace);
  // A second round checks what the first leaves behind (partitions not healed, ...).
  const uint64_t rounds = trace.repeat == 1 ? 1 : 2;
  while (const std::optional<TraceStep> step = timeline.Next()) {
    if (step->round >= rounds) break;
    const std::string error = timeline.Apply(*step, &state);
    if (!error.empty()) {
      return Where(trace.events[step->event]) + error +
             (step->round > 0 ? " (in round " + std::to_string(step->round + 1) + ", at " +
                                    FormatTraceDuration(step->at_ns) + ")"
                              : "");
    }
  }
  return "";
}

TraceSpec ScaleTrace(const TraceSpec& trace, double speed) {
  TraceSpec scaled = trace;
  if (!(speed > 0) || !std::isfinite(speed)) return scaled;  // the caller checks --speed
  // Nearest nanosecond; a length that was not 0 stays at least 1ns (a flap of 0ns never ends).
  auto scale = [speed](uint64_t ns) -> uint64_t {
    const long double value = std::round(static_cast<long double>(ns) / speed);
    if (value >= static_cast<long double>(UINT64_MAX)) return UINT64_MAX;
    const auto result = static_cast<uint64_t>(value);
    return ns > 0 && result == 0 ? 1 : result;
  };
  uint64_t end = 0;
  for (TraceEvent& event : scaled.events) {
    event.at_ns = static_cast<uint64_t>(
        std::min<long double>(std::round(static_cast<long double>(event.at_ns) / speed),
                              static_cast<long double>(UINT64_MAX)));
    event.for_ns = scale(event.for_ns);
    event.flap_down_ns = scale(event.flap_down_ns);
    event.flap_up_ns = scale(event.flap_up_ns);
    end = std::max(end, AddSaturated(event.at_ns, event.for_ns));
  }
  // Rounding each part may put the end of an event 1ns past the rounded round length.
  scaled.period_ns = std::max(scale(trace.period_ns), end);
  return scaled;
}

}  // namespace faultline
