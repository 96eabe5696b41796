// The time series of a run or a replay (docs/formats.md, "Series"): one JSON line per interval
// with what that interval did (differences of two statistics documents) and the percentiles of
// its frames (differences of cumulative histograms, HistogramSummary::Subtract), plus event lines
// for every change at the time it took effect. Lines are kept in a bounded ring (for `stats
// --series`) and handed to a sink as they are made (for `--series FILE`). Thread safe: the
// sampling thread and the control thread both write to it (never the workers).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"
#include "dataplane/reporting/stats.h"

namespace faultline {

// The residence time of a rule's frames: transmit minus receive, measured at the transmit call
// (live) or the frame's departure (replay), counted when the frame left.
const HistogramSummary& RuleResidence(const RuleTotals& rule);
// Departure lateness over all ports: the live report's, none offline (replay sends on time).
std::optional<HistogramSummary> Lateness(const StatsReport& report);

// The samples of cumulative `now` not yet in `before` (all of them without `before`).
HistogramSummary Since(const HistogramSummary& now, const HistogramSummary* before);
// Adds `more`'s samples into `into` (the same histograms' buckets).
void AddSummary(HistogramSummary* into, const HistogramSummary& more);

// {"count","p50","p90","p99","p999","p9999","max"} of a summary (0s when it is empty).
nlohmann::json PercentilesJson(const HistogramSummary& summary);

// The header line's "rules": name and configured delay of each rule of `spec`.
nlohmann::json SeriesRulesJson(const ProfileSpec& spec);

// The event line of a trace step applied at `t_ns`: its kind (partition, heal, stall, link,
// set-impairment), its description, and where known the end of its band (a stall's or a timed
// link-down's; a partition lasts until a later heal).
struct SeriesEvent {
  std::string kind, detail;
  std::optional<uint64_t> until_ns;
};
SeriesEvent TraceStepEvent(const TraceStep& step, const TraceSpec& trace, uint64_t t_ns);

class SeriesRecorder {
 public:
  // Lines kept for `stats --series` at most (an hour at 1 s, with its events): past that the
  // oldest go and the next interval line says how many went ("ring_dropped", a running count).
  static constexpr size_t kDefaultCapacity = 4096;
  // Cumulative samples kept for `stats --window`: windows up to this many intervals.
  static constexpr size_t kWindowSamples = 61;

  // `header`: the first line's fields beyond "type" and "version" (source, start_ns,
  // interval_ns, seed, profile, rules).
  explicit SeriesRecorder(nlohmann::json header, size_t capacity = kDefaultCapacity);

  // Every line, as it is made (the header at once). Set before the first sample.
  void SetSink(std::function<void(const std::string& line)> sink);

  // A statistics document taken at `t_ns`: the interval line from the previous one (or from the
  // start, or from a reset: `resets` grew) to this one.
  void Sample(uint64_t t_ns, const StatsReport& report);
  // An event line at `t_ns` (`until_ns`: the end of its band, when known).
  void Event(uint64_t t_ns, const std::string& kind, const std::string& detail,
             std::optional<uint64_t> until_ns = std::nullopt);
  // The whole-run histogram line (last line of a file, and of `stats --series` answers).
  std::string HistogramLine(uint64_t t_ns, const StatsReport& report) const;

  // The kept lines with t_ns > since_ns (the header first when since_ns is 0), and how many
  // lines the ring has let go so far.
  std::vector<std::string> LinesSince(uint64_t since_ns, uint64_t* ring_dropped) const;
  // Percentiles over the last `window_ns` (rounded to whole samples, at most kWindowSamples - 1
  // intervals): {"window_ns": covered, "lateness_ns": ..., "rules": {R: {"residence_ns": ...}}},
  // or null before two samples exist.
  nlohmann::json Window(uint64_t window_ns) const;

  const std::string& header() const { return header_; }
  // "KIND: DETAIL" of the last event line, "" before the first.
  std::string LastEvent() const;

 private:
  // A cumulative histogram by its nonzero buckets: at 0.1% resolution a full one is hundreds of
  // KiB, and a window keeps one per rule and sample.
  struct Sparse {
    std::vector<std::pair<uint32_t, uint64_t>> buckets;
    uint64_t total = 0, max = 0;
    static Sparse Of(const HistogramSummary& summary);
    HistogramSummary Expand() const;
  };
  struct Cumulative {
    uint64_t t_ns = 0;
    uint64_t resets = 0;
    std::optional<Sparse> lateness;
    std::map<std::string, Sparse> residence;  // by rule
  };
  nlohmann::json IntervalJson(uint64_t t_ns, const StatsReport& now, const StatsReport* before);
  void Emit(uint64_t t_ns, const std::string& line);  // mutex held

  mutable std::mutex mutex_;
  std::string header_;
  size_t capacity_;
  std::function<void(const std::string&)> sink_;
  std::deque<std::pair<uint64_t, std::string>> lines_;  // (t_ns, line)
  uint64_t ring_dropped_ = 0;
  std::deque<Cumulative> samples_;       // the last kWindowSamples, oldest first
  std::optional<StatsReport> previous_;  // the last sample, whole
  uint64_t last_t_ns_ = 0;
  std::string last_event_;
};

}  // namespace faultline
