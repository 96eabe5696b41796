#include "control/trace/trace_generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <utility>

#include "control/base/units.h"
#include "dataplane/config/profile_spec.h"

namespace faultline {

namespace {

// Standard normal quantiles for the percentiles the sources give.
constexpr double kZ95 = 1.6448536269514722;
constexpr double kZ99 = 2.3263478740408408;

constexpr double kMinute = 60, kHour = 3600, kDay = 86400;
// A repair time is capped here (the lognormal tail is unbounded; anything past the trace's end
// is cut at the end anyway) so that times stay far inside 64 bits of nanoseconds.
constexpr double kMaxRepairSeconds = 100 * kSecondsPerYear;
constexpr double kMaxExpectedFailures = 2e7;

std::string Number(double value, const char* format = "%.4g") {
  char text[64];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

// "5m", "7d", "32m": whole seconds in the largest unit that divides them.
std::string Length(double seconds) {
  return FormatDuration(static_cast<uint64_t>(std::llround(seconds * 1e9)));
}

// "3d4h", "2h13m", "4m47s", "12.3s": a length for people, to about three digits.
std::string HumanLength(double seconds) {
  if (seconds < 60) return Number(seconds, "%.3g") + "s";
  const uint64_t whole = static_cast<uint64_t>(std::llround(seconds));
  const uint64_t days = whole / 86400, hours = whole / 3600 % 24, minutes = whole / 60 % 60;
  if (days > 0) return std::to_string(days) + "d" + std::to_string(hours) + "h";
  if (hours > 0) return std::to_string(hours) + "h" + std::to_string(minutes) + "m";
  return std::to_string(minutes) + "m" + std::to_string(whole % 60) + "s";
}

std::string Percent(double fraction) { return Number(fraction * 100, "%.3g") + "%"; }

// Gill et al. 2011: median time to repair ~5 minutes, a heavy tail reaching about a week. The
// 99th percentile at 7 days is our reading of "about a week" (an approximation).
RepairModel GillRepair() {
  const double median = 5 * kMinute, p99 = 7 * kDay;
  const double sigma = std::log(p99 / median) / kZ99;
  return RepairModel{.lognormal = true,
                     .median_s = median,
                     .sigma = sigma,
                     .text = "lognormal, median 5m, p99 7d (sigma " + Number(sigma) + ")"};
}

// Turner et al. 2010 (CENIC), hardware-caused failures: median 32 minutes, 95th percentile
// 3.7 days. Dean 2009 gives no length for a wonky rack; this one stands in for it.
RepairModel CenicHardwareRepair() {
  const double median = 32 * kMinute, p95 = 3.7 * kDay;
  const double sigma = std::log(p95 / median) / kZ95;
  return RepairModel{.lognormal = true,
                     .median_s = median,
                     .sigma = sigma,
                     .text = "lognormal, median 32m, p95 3.7d (sigma " + Number(sigma) +
                             "; CENIC hardware repairs, Turner 2010)"};
}

RepairModel Fixed(double seconds) {
  return RepairModel{
      .lognormal = false, .median_s = seconds, .sigma = 0, .text = "fixed " + Length(seconds)};
}

constexpr char kGillSource[] =
    "Gill, Jain, Nagappan, \"Understanding Network Failures in Data Centers\", SIGCOMM 2011";
constexpr char kDeanSource[] =
    "Dean, \"Designs, Lessons and Advice from Building Large Distributed Systems\", LADIS 2009";

// Gill's fleet-wide daily counts: links fail 40.8 / 5.2 times as often as devices.
constexpr double kGillLinkToDeviceRatio = 40.8 / 5.2;
constexpr double kGillTrafficAffecting = 0.3;

std::vector<FailureProcess> GillProcesses(const Topology& topology) {
  const double tor = -std::log(1 - 0.05);
  std::vector<FailureProcess> processes = {
      {.name = "tor",
       .what = "ToR switch failure: its rack is isolated",
       .rate_per_year = tor,
       .targets = topology.racks.size(),
       .emitted_fraction = kGillTrafficAffecting,
       .repair = GillRepair(),
       .source = "one-year failure probability of a ToR ~5%"},
      {.name = "agg",
       .what = "aggregation switch failure: the racks under it are isolated",
       .rate_per_year = -std::log(1 - 0.10),
       .targets = topology.aggregations.size(),
       .emitted_fraction = kGillTrafficAffecting,
       .repair = GillRepair(),
       .source = "one-year failure probability of an aggregation switch ~10%"},
      {.name = "lb",
       .what = "load balancer failure: the nodes behind it are isolated",
       .rate_per_year = -std::log(1 - 0.20),
       .targets = topology.load_balancers.size(),
       .emitted_fraction = kGillTrafficAffecting,
       .repair = GillRepair(),
       .source = "one-year failure probability of a load balancer ~20%"},
      {.name = "link",
       .what = "link failure: one random node of the rack is isolated",
       .rate_per_year = kGillLinkToDeviceRatio * tor,
       .targets = topology.racks.size(),
       .emitted_fraction = kGillTrafficAffecting,
       .repair = GillRepair(),
       .source = "40.8 link vs 5.2 device failures a day, as a ratio to the ToR rate "
                 "(approximation)"},
  };
  return processes;
}

std::vector<FailureProcess> DeanProcesses() {
  return {
      {.name = "wonky",
       .what = "a random rack goes wonky: 50% loss both ways",
       .rate_per_year = 5,
       .targets = 1,
       .emitted_fraction = 1,
       .repair = CenicHardwareRepair(),
       .source = "~5 racks go wonky (40-80 machines see 50% packet loss)"},
      {.name = "maintenance",
       .what = "network maintenance: half of them cut connectivity (link both down)",
       .rate_per_year = 8,
       .targets = 1,
       .emitted_fraction = 0.5,
       .repair = Fixed(30 * kMinute),
       .source = "~8 network maintenances, 4 may cause ~30-minute connectivity loss"},
      {.name = "router",
       .what = "router failure: traffic pulled (link both down)",
       .rate_per_year = 3,
       .targets = 1,
       .emitted_fraction = 1,
       .repair = Fixed(kHour),
       .source = "~3 router failures, traffic pulled for ~1 hour"},
  };
}

// The YAML spelling of an address or prefix: IPv6 ones are quoted.
std::string YamlAddress(const std::string& address) {
  return address.find(':') != std::string::npos ? "\"" + address + "\"" : address;
}

std::string FlowList(const std::vector<std::string>& items) {
  std::string text = "[";
  for (size_t i = 0; i < items.size(); ++i) text += (i ? ", " : "") + items[i];
  return text + "]";
}

std::string InlineProfile(const Topology& topology, bool wonky_rules) {
  std::string text = "version: 1\ngroups:\n";
  for (const TopologyRack& rack : topology.racks) {
    std::vector<std::string> addresses;
    for (const TopologyNode& node : rack.nodes) {
      for (const std::string& address : node.addresses) addresses.push_back(YamlAddress(address));
    }
    text += "  " + rack.name + ": " + FlowList(addresses) + "\n";
    for (const TopologyNode& node : rack.nodes) {
      std::vector<std::string> own;
      for (const std::string& address : node.addresses) own.push_back(YamlAddress(address));
      text += "  " + node.name + ": " + FlowList(own) + "\n";
    }
  }
  for (const TopologyAggregation& aggregation : topology.aggregations) {
    std::vector<std::string> racks;
    for (size_t r : aggregation.racks) racks.push_back(topology.racks[r].name);
    text += "  " + aggregation.name + ": " + FlowList(racks) + "\n";
  }
  for (const TopologyLoadBalancer& balancer : topology.load_balancers) {
    std::vector<std::string> nodes;
    for (const auto& [r, n] : balancer.nodes) nodes.push_back(topology.racks[r].nodes[n].name);
    text += "  " + balancer.name + ": " + FlowList(nodes) + "\n";
  }
  if (wonky_rules) {
    text += "impairments:\n  healthy: {}\n  wonky: {loss: {probability: 50%}}\nrules:\n";
    for (const TopologyRack& rack : topology.racks) {
      text += "  - {name: wonky " + rack.name + " out, match: {src: " + rack.name +
              "}, impairment: healthy}\n";
      text += "  - {name: wonky " + rack.name + " in, match: {dst: " + rack.name +
              "}, impairment: healthy}\n";
    }
  }
  return text;
}

// Every failure of one Poisson process on one target, in model time.
void DrawProcess(const FailureProcess& process, size_t process_index, size_t target,
                 const TraceGenerateOptions& options, std::vector<DrawnFailure>* failures,
                 std::vector<size_t>* picks, size_t pick_bound) {
  // One generator per (process, target): adding a rack does not change the other racks' draws.
  Rng rng(options.seed, (static_cast<uint64_t>(process_index + 1) << 32) | target);
  const double rate_per_ns = process.rate_per_year * options.scale / (kSecondsPerYear * 1e9);
  const double duration = static_cast<double>(options.duration_ns);
  double now = 0;
  while (true) {
    now += ExponentialDraw(rng) / rate_per_ns;
    if (!(now < duration)) break;
    // Every failure makes the same draws, kept or not, so that the streams line up.
    const bool emitted = UniformOpen(rng) < process.emitted_fraction;
    double repair_s = process.repair.median_s;
    if (process.repair.lognormal) {
      repair_s = LognormalDraw(rng, process.repair.median_s, process.repair.sigma);
    }
    repair_s = std::min(repair_s, kMaxRepairSeconds);
    const size_t pick = pick_bound > 0 ? rng.Below(static_cast<uint32_t>(pick_bound)) : 0;
    failures->push_back(
        DrawnFailure{.process = process_index,
                     .target = "",
                     .start_ns = static_cast<uint64_t>(now),
                     .repair_ns = static_cast<uint64_t>(std::llround(repair_s * 1e9)),
                     .emitted = emitted});
    picks->push_back(pick);
  }
}

}  // namespace

std::vector<std::string> ModelNames() { return {"gill2011", "dean2009"}; }

std::optional<std::vector<FailureProcess>> ModelProcesses(const std::string& model,
                                                          const Topology& topology,
                                                          std::string* error) {
  std::vector<FailureProcess> processes;
  if (model == "gill2011") {
    processes = GillProcesses(topology);
  } else if (model == "dean2009") {
    processes = DeanProcesses();
  } else {
    *error = "unknown model '" + model + "' (known: gill2011, dean2009)";
    return std::nullopt;
  }
  return processes;
}

std::string FormatSeconds(uint64_t us) {
  std::string text = std::to_string(us / 1'000'000);
  uint64_t fraction = us % 1'000'000;
  if (fraction != 0) {
    char digits[8];
    std::snprintf(digits, sizeof(digits), "%06llu", static_cast<unsigned long long>(fraction));
    std::string decimals = digits;
    while (decimals.back() == '0') decimals.pop_back();
    text += "." + decimals;
  }
  return text + "s";
}

namespace {

// The checks of the options and topology that come before drawing anything.
bool CheckGenerateOptions(const Topology& topology, const TraceGenerateOptions& options,
                          std::string* error) {
  if (options.duration_ns == 0) {
    *error = "--duration must be more than 0";
    return false;
  }
  if (!(options.compress > 0) || !std::isfinite(options.compress)) {
    *error = "--compress must be a positive number";
    return false;
  }
  if (!(options.scale > 0) || !std::isfinite(options.scale)) {
    *error = "--scale must be a positive number";
    return false;
  }
  // Output times are whole microseconds in 64 bits (a --compress below 1 stretches time).
  if (static_cast<double>(options.duration_ns) / options.compress / 1000 > 1e18) {
    *error = "--duration / --compress is too long (at most 1e18 us of trace)";
    return false;
  }
  if (topology.racks.empty()) {
    *error = "the topology has no racks";
    return false;
  }
  return true;
}

// Draws every process on every target, and names the group each failure hits.
void DrawFailures(const Topology& topology, const TraceGenerateOptions& options,
                  GeneratedTrace* generated) {
  GeneratedTrace& trace = *generated;
  for (size_t p = 0; p < trace.processes.size(); ++p) {
    const FailureProcess& process = trace.processes[p];
    for (size_t target = 0; target < process.targets; ++target) {
      std::vector<DrawnFailure> drawn;
      std::vector<size_t> picks;
      size_t pick_bound = 0;
      if (process.name == "link") pick_bound = topology.racks[target].nodes.size();
      if (process.name == "wonky") pick_bound = topology.racks.size();
      DrawProcess(process, p, target, options, &drawn, &picks, pick_bound);
      for (size_t i = 0; i < drawn.size(); ++i) {
        std::string& name = drawn[i].target;
        if (process.name == "tor") name = topology.racks[target].name;
        if (process.name == "agg") name = topology.aggregations[target].name;
        if (process.name == "lb") name = topology.load_balancers[target].name;
        if (process.name == "link") name = topology.racks[target].nodes[picks[i]].name;
        if (process.name == "wonky") name = topology.racks[picks[i]].name;
        trace.failures.push_back(std::move(drawn[i]));
      }
    }
  }
}

// Output time: model time / compress, in whole microseconds.
struct OutputClock {
  double ns_per_output_us;
  uint64_t operator()(uint64_t ns) const {
    return static_cast<uint64_t>(std::llround(static_cast<double>(ns) / ns_per_output_us));
  }
};

// Failures that emit something, grouped by what they hit: (process kind, target) -> spans.
// Groups keep the order in which they first appear (process, then target, then time).
struct TargetSpans {
  std::vector<std::pair<std::string, std::string>> keys;
  std::map<std::pair<std::string, std::string>, std::vector<Interval>> spans;
};

TargetSpans GroupSpans(const GeneratedTrace& trace, const TraceGenerateOptions& options,
                       const OutputClock& output_us, uint64_t end_us) {
  TargetSpans grouped;
  auto& keys = grouped.keys;
  auto& spans = grouped.spans;
  for (const DrawnFailure& failure : trace.failures) {
    if (!failure.emitted) continue;
    const std::string& process = trace.processes[failure.process].name;
    const uint64_t start = output_us(failure.start_ns);
    if (start >= end_us) continue;
    // Still failed at the end of the duration: healed at the end (no overflow: start < duration).
    const uint64_t repaired = output_us(failure.repair_ns >= options.duration_ns - failure.start_ns
                                            ? options.duration_ns
                                            : failure.start_ns + failure.repair_ns);
    const uint64_t end = std::min(std::max(repaired, start + 1), end_us);
    // maintenance and router failures both take the link down: merged together.
    const std::string kind =
        process == "maintenance" || process == "router" ? "link-down" : process;
    const auto key = std::make_pair(kind, failure.target);
    if (!spans.count(key)) keys.push_back(key);
    spans[key].push_back(Interval{.start_us = start, .end_us = end, .merged = 1});
  }
  return grouped;
}

// Each event carries a phase: at equal times, ends (heal, back to healthy) come before
// starts, so a target is never shown as failing twice at once.
struct Ordered {
  GeneratedEvent event;
  int phase;
  size_t sequence;
};

// The events of one target (`kind`, `target`) from its merged failures.
void AddTargetEvents(const std::string& kind, const std::string& target,
                     const std::vector<Interval>& merged, const TraceGenerateOptions& options,
                     std::vector<Ordered>* ordered) {
  const auto add = [ordered](GeneratedEvent event, int phase) {
    ordered->push_back(Ordered{std::move(event), phase, ordered->size()});
  };
  const auto merged_note = [](const Interval& interval) {
    return interval.merged > 1 ? " (" + std::to_string(interval.merged) + " overlapping merged)"
                               : std::string();
  };
  // "(model 4h12m)": how long a compressed interval lasts in model time.
  const auto model_note = [&options](const Interval& interval) {
    if (options.compress == 1) return std::string();
    const double seconds =
        static_cast<double>(interval.end_us - interval.start_us) * options.compress / 1e6;
    return " (model " + HumanLength(seconds) + ")";
  };
  for (size_t i = 0; i < merged.size(); ++i) {
    const Interval& interval = merged[i];
    const std::string lasts = "lasts " + FormatSeconds(interval.end_us - interval.start_us) +
                              model_note(interval) + merged_note(interval);
    if (kind == "link-down") {
      add(GeneratedEvent{.at_us = interval.start_us,
                         .kind = GeneratedKind::kLinkDown,
                         .for_us = interval.end_us - interval.start_us,
                         .comment = "maintenance or router failure" + model_note(interval) +
                                    merged_note(interval)},
          1);
    } else if (kind == "wonky") {
      for (const char* direction : {"out", "in"}) {
        const std::string rule = "wonky " + target + " " + direction;
        add(GeneratedEvent{.at_us = interval.start_us,
                           .kind = GeneratedKind::kSetImpairment,
                           .rule = rule,
                           .impairment = "wonky",
                           .comment = std::string(direction) == "out" ? lasts : ""},
            1);
        add(GeneratedEvent{.at_us = interval.end_us,
                           .kind = GeneratedKind::kSetImpairment,
                           .rule = rule,
                           .impairment = "healthy"},
            0);
      }
    } else {
      const std::string name = kind + " " + target + " " + std::to_string(i + 1);
      add(GeneratedEvent{.at_us = interval.start_us,
                         .kind = GeneratedKind::kPartition,
                         .partition = name,
                         .isolate = target,
                         .comment = lasts},
          1);
      add(GeneratedEvent{.at_us = interval.end_us, .kind = GeneratedKind::kHeal, .partition = name},
          0);
    }
  }
}

// The trace's events from the merged spans of each target, in time order, and the most
// partitions in force at once.
void EmitEvents(const TargetSpans& grouped, const TraceGenerateOptions& options,
                GeneratedTrace* generated) {
  GeneratedTrace& trace = *generated;
  std::vector<Ordered> ordered;
  for (const auto& key : grouped.keys) {
    AddTargetEvents(key.first, key.second, MergeIntervals(grouped.spans.at(key)), options,
                    &ordered);
  }
  std::sort(ordered.begin(), ordered.end(), [](const Ordered& x, const Ordered& y) {
    if (x.event.at_us != y.event.at_us) return x.event.at_us < y.event.at_us;
    if (x.phase != y.phase) return x.phase < y.phase;
    return x.sequence < y.sequence;
  });
  size_t in_force = 0;
  for (Ordered& item : ordered) {
    if (item.event.kind == GeneratedKind::kPartition) {
      trace.max_partitions = std::max(trace.max_partitions, ++in_force);
    } else if (item.event.kind == GeneratedKind::kHeal) {
      --in_force;
    }
    trace.events.push_back(std::move(item.event));
  }
}

// The header: how to regenerate, the model, its parameters, what was drawn.
void WriteHeader(const Topology& topology, const TraceGenerateOptions& options,
                 const TargetSpans& grouped, uint64_t end_us, GeneratedTrace* generated) {
  GeneratedTrace& trace = *generated;
  const bool gill = options.model == "gill2011";
  const double years = static_cast<double>(options.duration_ns) / 1e9 / kSecondsPerYear;
  std::vector<std::string>& header = trace.header;
  header.push_back("generated by: " + options.command);
  header.push_back("model " + options.model + ": " + (gill ? kGillSource : kDeanSource));
  header.push_back("topology: " + std::to_string(topology.racks.size()) + " rack(s), " +
                   std::to_string(topology.NodeCount()) + " node(s), " +
                   std::to_string(topology.aggregations.size()) + " aggregation switch(es), " +
                   std::to_string(topology.load_balancers.size()) + " load balancer(s)");
  header.push_back(
      "Poisson processes, rates per target and year before --scale (sources and approximations: "
      "docs/traces.md):");
  double expected = 0;
  for (const FailureProcess& process : trace.processes) {
    if (process.targets == 0) continue;
    header.push_back("  " + process.name + " (x" + std::to_string(process.targets) +
                     "): " + process.what);
    header.push_back("      " + Number(process.rate_per_year) + "/y each (" + process.source + ")" +
                     (process.emitted_fraction < 1
                          ? "; " + Percent(process.emitted_fraction) + " affect traffic"
                          : ""));
    header.push_back("      length: " + process.repair.text);
    expected += process.rate_per_year * static_cast<double>(process.targets) * options.scale *
                years * process.emitted_fraction;
  }
  if (gill) {
    header.push_back(
        "  only ~30% of failures affect traffic (Gill 2011): every process is thinned to them");
  } else {
    header.push_back(
        "  rates per cluster-year of a new cluster (Dean 2009); a wonky rack has no length in the "
        "source: CENIC hardware repairs (Turner et al., SIGCOMM 2010) stand in");
  }
  const std::string scale = Number(options.scale, "%g");
  header.push_back(options.scale == 1
                       ? "scale 1: rates as published"
                       : "scale " + scale + ": every rate x " + scale +
                             " (a small rig standing in for " + scale + " times as many devices)");
  header.push_back("duration " + FormatDuration(options.duration_ns) + " of model time, compress " +
                   Number(options.compress, "%g") + ": the trace spans " + FormatSeconds(end_us) +
                   "; times rounded to 1us");
  const double per_month = expected / years * (30 * kDay / kSecondsPerYear);
  header.push_back("expected traffic-affecting failures: " + Number(expected, "%.1f") + " in " +
                   FormatDuration(options.duration_ns) + ", " + Number(per_month, "%.1f") +
                   " per 30 days (compare: a mid-sized datacenter sees ~12 network faults a "
                   "month, Kleppmann, DDIA ch. 8)");
  size_t emitted = 0;
  for (const DrawnFailure& failure : trace.failures) emitted += failure.emitted;
  size_t after_merge = 0;
  for (const auto& key : grouped.keys) {
    after_merge += MergeIntervals(grouped.spans.at(key)).size();
  }
  header.push_back(
      "drawn: " + std::to_string(trace.failures.size()) + " failure(s), " +
      std::to_string(emitted) + " affecting traffic, " + std::to_string(after_merge) +
      " after merging overlaps of one target" +
      (gill ? "; at most " + std::to_string(trace.max_partitions) + " partition(s) at once" : ""));
}

}  // namespace

std::optional<GeneratedTrace> GenerateTrace(const Topology& topology,
                                            const TraceGenerateOptions& options,
                                            std::string* error) {
  if (!CheckGenerateOptions(topology, options, error)) return std::nullopt;
  std::optional<std::vector<FailureProcess>> processes =
      ModelProcesses(options.model, topology, error);
  if (!processes) return std::nullopt;
  const bool gill = options.model == "gill2011";

  // Every failure is held in memory: refuse a model that would draw tens of millions.
  const double years = static_cast<double>(options.duration_ns) / 1e9 / kSecondsPerYear;
  double expected_drawn = 0;
  for (const FailureProcess& process : *processes) {
    expected_drawn +=
        process.rate_per_year * static_cast<double>(process.targets) * options.scale * years;
  }
  if (expected_drawn > kMaxExpectedFailures) {
    *error = "the model would draw about " + Number(expected_drawn, "%.3g") +
             " failures, more than " + Number(kMaxExpectedFailures, "%g") +
             " (use a smaller --scale or --duration)";
    return std::nullopt;
  }

  GeneratedTrace trace;
  trace.processes = std::move(*processes);
  trace.name = options.model + "-" + FormatDuration(options.duration_ns) + "-seed" +
               std::to_string(options.seed);
  trace.profile_yaml = InlineProfile(topology, /*wonky_rules=*/!gill);

  DrawFailures(topology, options, &trace);
  const OutputClock output_us{options.compress * 1000.0};
  const uint64_t end_us = output_us(options.duration_ns);
  const TargetSpans grouped = GroupSpans(trace, options, output_us, end_us);
  EmitEvents(grouped, options, &trace);
  if (trace.max_partitions > kMaxPartitions) {
    *error = "the trace would hold " + std::to_string(trace.max_partitions) +
             " partitions at once, more than the dataplane's " + std::to_string(kMaxPartitions) +
             " (use a smaller --scale or --duration)";
    return std::nullopt;
  }

  WriteHeader(topology, options, grouped, end_us, &trace);
  return trace;
}

std::string EmitTraceYaml(const GeneratedTrace& trace) {
  std::string text;
  for (const std::string& line : trace.header) text += "# " + line + "\n";
  text += "version: 1\n";
  text += "name: " + trace.name + "\n";
  text += "profile:\n";
  size_t start = 0;
  while (start < trace.profile_yaml.size()) {
    const size_t end = trace.profile_yaml.find('\n', start);
    text += "  " + trace.profile_yaml.substr(start, end - start) + "\n";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (trace.events.empty()) {
    text += "events: []\n";
    return text;
  }
  text += "events:\n";
  for (const GeneratedEvent& event : trace.events) {
    text += "  - at: " + FormatSeconds(event.at_us) + "\n    ";
    switch (event.kind) {
      case GeneratedKind::kPartition:
        text += "partition: {isolate: " + event.isolate + ", name: " + event.partition + "}";
        break;
      case GeneratedKind::kHeal:
        text += "heal: {partition: " + event.partition + "}";
        break;
      case GeneratedKind::kSetImpairment:
        text += "set-impairment: {rule: " + event.rule + ", impairment: " + event.impairment + "}";
        break;
      case GeneratedKind::kLinkDown:
        text += "link: {side: both, state: down, for: " + FormatSeconds(event.for_us) + "}";
        break;
    }
    if (!event.comment.empty()) text += "  # " + event.comment;
    text += "\n";
  }
  return text;
}

}  // namespace faultline
