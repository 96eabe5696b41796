// `faultline trace generate` (docs/traces.md): a trace drawn from published datacenter failure
// statistics. A model is a set of Poisson processes (one per device, or one per cluster), each
// failure with a repair time from a stated distribution; the generator draws them with a seeded,
// portable generator, keeps the ones that affect traffic, merges overlapping failures of one
// target, compresses time and writes the trace file (YAML) with an inline profile whose groups
// name every rack and node of the topology.
//
// Pure: no EAL, no files. Same topology, options and seed -> the same text on every platform
// (xoshiro256** from dataplane/random.h, inverse-CDF transforms written here, IEEE arithmetic;
// log/exp/sqrt from the C library, whose last-bit differences vanish in the rounding of every
// time to a whole microsecond).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "control/trace/topology.h"
#include "dataplane/fastpath/random.h"

namespace faultline {

inline constexpr double kSecondsPerYear = 365.0 * 86400.0;  // a model year: 365 days

// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9),
// for p in (0, 1).
double InverseNormalCdf(double p);

// Portable draws from an Rng: uniform in (0, 1) from the top 53 bits (never 0 or 1),
// exponential with mean 1, lognormal with the given median and sigma (of the log).
double UniformOpen(Rng& rng);
double ExponentialDraw(Rng& rng);
double LognormalDraw(Rng& rng, double median, double sigma);

// How long a failure lasts.
struct RepairModel {
  bool lognormal = true;
  double median_s = 0;  // lognormal: the median; fixed: the length
  double sigma = 0;     // lognormal: sigma of ln(length)
  std::string text;     // "lognormal, median 5m, p99 7d (sigma 3.271)"
};

// One Poisson process of a model, per target.
struct FailureProcess {
  std::string name;             // "tor", "agg", "lb", "link", "wonky", "maintenance", "router"
  std::string what;             // what one failure does, for the header
  double rate_per_year = 0;     // failures per target and year, before --scale
  size_t targets = 0;           // independent targets (racks, switches; 1 for a cluster)
  double emitted_fraction = 1;  // failures that affect traffic (the rest emit nothing)
  RepairModel repair;
  std::string source;  // where the numbers come from
};

// A model's processes for `topology`, always all of them in the same order (a process without
// targets, like `agg` in a topology without aggregation switches, has targets = 0), so that each
// keeps its random stream whatever the topology holds.
std::optional<std::vector<FailureProcess>> ModelProcesses(const std::string& model,
                                                          const Topology& topology,
                                                          std::string* error);

// The models `--model` takes.
std::vector<std::string> ModelNames();

struct TraceGenerateOptions {
  std::string model;         // "gill2011" | "dean2009"
  uint64_t duration_ns = 0;  // model time (before --compress)
  double compress = 1;       // output times = model times / compress
  double scale = 1;          // multiplies every rate
  uint64_t seed = 0;
  std::string command;  // the command line that regenerates the trace (header comment)
};

// One failure as drawn, in model time, before thinning and merging.
struct DrawnFailure {
  size_t process = 0;  // index into GeneratedTrace::processes
  std::string target;  // the group it hits ("rack-a", "rack-a-n2", "agg-1"); "" fabric-wide
  uint64_t start_ns = 0;
  uint64_t repair_ns = 0;  // may run past the duration (capped at 100 years)
  bool emitted = false;    // affects traffic: it makes it into the trace
};

// An interval [start, end) of output time in microseconds, and how many failures it merges.
struct Interval {
  uint64_t start_us = 0, end_us = 0;
  size_t merged = 1;
};

// Sorts `intervals` and merges the ones that overlap or touch (start <= end of the one before).
std::vector<Interval> MergeIntervals(std::vector<Interval> intervals);

enum class GeneratedKind { kPartition, kHeal, kSetImpairment, kLinkDown };

struct GeneratedEvent {
  uint64_t at_us = 0;  // output time (compressed)
  GeneratedKind kind = GeneratedKind::kPartition;
  std::string partition;         // partition (its name) / heal
  std::string isolate;           // partition: the group it isolates
  std::string rule, impairment;  // set-impairment
  uint64_t for_us = 0;           // link down
  std::string comment;           // "", or a note written after the event
};

struct GeneratedTrace {
  std::string name;  // "gill2011-30d-seed7"
  std::vector<FailureProcess> processes;
  std::vector<DrawnFailure> failures;  // every failure drawn, by process then target then time
  std::vector<GeneratedEvent> events;  // sorted by time (ties: ends before starts, then names)
  std::string profile_yaml;            // the inline profile as a document of its own
  std::vector<std::string> header;     // comment lines (without "# ")
  size_t max_partitions = 0;           // partitions in force at once, at most
};

// Draws the trace. Fails (false, *error) on an unknown model, a duration of 0, a compress or
// scale that is not positive and finite, or a trace that would hold more than kMaxPartitions
// partitions at once.
std::optional<GeneratedTrace> GenerateTrace(const Topology& topology,
                                            const TraceGenerateOptions& options,
                                            std::string* error);

// The trace file (docs/traces.md): header comments, version, name, inline profile, events.
std::string EmitTraceYaml(const GeneratedTrace& trace);

// "0s", "12.5s", "4323.000001s": microseconds as seconds, without trailing zeros.
std::string FormatSeconds(uint64_t us);

}  // namespace faultline
