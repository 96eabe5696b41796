// The statistics document: what `run` prints at exit and `replay --stats-json` writes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/config/trace_spec.h"
#include "dataplane/config/trace_timeline.h"
#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/latency_histogram.h"
#include "dataplane/models/rule_counters.h"

namespace faultline {

struct PortReport {
  uint16_t port = 0;
  uint64_t rx = 0;  // frames the pipeline took from this port
  uint64_t tx = 0;  // frames the device accepted for sending on this port
  // Device counters (rte_eth_stats) where there is a device; absent offline.
  bool has_device = false;
  uint64_t device_ipackets = 0, device_opackets = 0, device_imissed = 0, device_ierrors = 0,
           device_oerrors = 0, device_rx_nombuf = 0;
  // Live: departure lateness of the frames sent by this port (transmit call minus scheduled
  // departure, ns), over all workers; absent offline (replay sends at the scheduled time).
  std::optional<HistogramSummary> lateness_ns;
  // Residence time of the frames sent by this port (transmit minus receive, ns); live and replay.
  std::optional<HistogramSummary> residence_ns;
};

struct RuleReport {
  std::string name;
  std::string impairment;
  RuleTotals total;
  RuleTotals direction[2];  // a-to-b, b-to-a
};

struct PartitionTotals {
  uint64_t dropped = 0, answered = 0;
};

struct PartitionReport {
  std::string name;
  std::string mode;  // drop, icmp-unreachable, tcp-reset
  bool new_connections_only = false;
  // False for a partition of an earlier profile (healed): its counts stay until a reset.
  bool in_force = true;
  PartitionTotals total;
  PartitionTotals direction[2];  // a-to-b, b-to-a (the port the cut frame arrived on)
};

// One worker of a live run: where it runs and the frames it took and sent (all ports).
struct WorkerReport {
  unsigned lcore = 0;
  int socket = 0;  // the lcore's NUMA socket, where the worker's state lives
  uint64_t rx = 0;
  uint64_t tx = 0;
};

struct StatsReport {
  std::vector<PortReport> ports;
  uint64_t dropped[static_cast<int>(DropCause::kCount)] = {};
  uint64_t tx_retries = 0;
  uint64_t held = 0;  // packets held (wheels, tx buffers) when the report was made / stop came
  uint64_t elapsed_ns = 0;       // forwarding time since the start or the last reset (live),
                                 // or the virtual time span (replay)
  uint64_t resets = 0;           // `stats --reset`s before this report (live)
  uint64_t clock_backwards = 0;  // replay: inputs stamped before their predecessor
  std::optional<HistogramSummary> lateness_ns;   // live: the ports' lateness together
  std::optional<HistogramSummary> residence_ns;  // the ports' residence time together
  // FAULTLINE_FLOW_COUNTERS (fastpath/counters.h): unmatched, flows_untracked, ...
#define FAULTLINE_FLOW_COUNTER_TOTAL(member) uint64_t member = 0;
  FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_TOTAL)
#undef FAULTLINE_FLOW_COUNTER_TOTAL
  std::optional<uint64_t> seed;  // the profile's random seed, when there is a profile
  std::vector<RuleReport> rules;
  std::vector<PartitionReport> partitions;  // in force, then healed ones that counted frames
  // The trace's progress (TraceReport JSON: state, event index, scheduled vs applied time of each
  // applied step, lateness); null when no trace ran.
  nlohmann::json trace;
  std::vector<WorkerReport> workers;  // live only: one per worker, in worker order

  uint64_t TotalDropped() const;
};

// Adds up the per-worker counters for ports [0, port_count).
StatsReport Summarize(const std::vector<const PipelineCounters*>& workers, uint16_t port_count);

class Worker;
// Adds up the workers' departure-lateness and residence histograms into each port's and the
// totals (lateness_ns, residence_ns).
void SummarizeLateness(const std::vector<const Worker*>& workers, StatsReport* report);

class Pipeline;
// Adds up the pipelines' per-port residence and lateness histograms into each port's and the
// report's residence_ns and lateness_ns (SummarizeLateness does this for workers).
void SummarizeLatency(const std::vector<const Pipeline*>& pipelines, StatsReport* report);

// Adds up the per-rule and per-partition counters of the pipelines (which share one profile)
// into report->rules and report->partitions.
void SummarizeRules(const std::vector<const Pipeline*>& pipelines, StatsReport* report);
struct CompiledProfile;
// The same for the rules of `profile` (the one the control plane last handed the workers; any
// thread may call this while they run).
void SummarizeRules(const std::vector<const Pipeline*>& pipelines, const CompiledProfile& profile,
                    StatsReport* report);

// The trace section of the statistics document, as `run` (control/trace/trace_runner) and `replay`
// report it: TraceProgressJson writes it.
struct TraceProgress {
  std::string name;
  std::string state;  // running, finished, stopped, failed
  double speed = 1;
  std::optional<std::string> started_at;  // time zero, RFC 3339; none offline
  std::optional<uint64_t> event_index;    // the last applied step's index
  uint64_t steps_applied = 0;
  HistogramSummary lateness_ns;                     // over the applied steps
  uint64_t handed_over_late = 0;                    // steps the control side sent after their time
  nlohmann::json events = nlohmann::json::array();  // TraceStepJson entries
  uint64_t events_not_kept = 0;
  std::string error;              // why a failed trace failed
  std::optional<TraceStep> next;  // the step to come, while running
};
nlohmann::json TraceProgressJson(const TraceProgress& progress);

// One entry of the trace section's `events` list: the step, when it was scheduled and (if it
// was) applied, in ns from the trace's time zero, and its state (applied, pending, cancelled).
nlohmann::json TraceStepJson(const TraceStep& step, const TraceSpec& trace, uint64_t scheduled_ns,
                             std::optional<uint64_t> applied_ns, const char* state);

// "a" for even ports, "b" for odd ones (port pairs are (0,1), (2,3), ...).
const char* SideName(uint16_t port);

nlohmann::json ToJson(const StatsReport& report);
std::string ToText(const StatsReport& report);
// The Prometheus text exposition format (version 0.0.4): counters as *_total, delays and trace
// lateness as summaries with quantile labels. docs/formats.md lists every metric.
std::string ToPrometheus(const StatsReport& report);

// Resets the statistics of `workers` (RequestReset on each) and waits up to `timeout` for all of
// them. Returns what their counters held, summed into a statistics document of ports, drops and
// pipeline counters (rules, partitions and lateness are reset too but not itemised; `held` is what
// was in flight and counts when it leaves), or nullopt with *error naming the workers that did not
// answer in time (their reset still happens when they next poll).
std::optional<StatsReport> ResetStatistics(const std::vector<Worker*>& workers, uint16_t port_count,
                                           std::chrono::milliseconds timeout, std::string* error);

}  // namespace faultline
