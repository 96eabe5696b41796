// A series file (docs/formats.md, "Series": one JSON object a line, written by `faultline run
// --series` and `faultline replay --series`) read into plain structs for the report. Every line is
// checked: a line that is not JSON, a known field of the wrong type or a missing header is an
// error "FILE:LINE: message". Line types and fields this reader does not know are skipped, so
// later additions to the format do not break older reports.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline {

// Percentiles of one interval (count 0: all 0).
struct SeriesPercentiles {
  uint64_t count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, max = 0;
};

// The configured delay of one rule, from the header.
struct SeriesRuleDelay {
  std::string name;
  uint64_t delay_ns = 0;
  uint64_t jitter_ns = 0;
  std::string distribution;  // normal, uniform, pareto, paretonormal, table:NAME or none
};

struct SeriesHeader {
  std::string source;   // run or replay
  std::string profile;  // name or source of the profile
  uint64_t start_ns = 0;
  uint64_t interval_ns = 0;
  uint64_t seed = 0;
  std::vector<SeriesRuleDelay> rules;
};

// One rule's counts in one interval (the interval's "rules"; absent in older series).
struct SeriesRuleCounts {
  uint64_t matched = 0, forwarded = 0;
  std::map<std::string, uint64_t> dropped;  // by cause
};

// Counts in one interval (not cumulative), ending at t_ns.
struct SeriesInterval {
  uint64_t t_ns = 0;
  uint64_t interval_ns = 0;
  uint64_t delivered = 0, duplicated = 0, corrupted = 0, reordered = 0;
  std::map<std::string, uint64_t> dropped;  // by cause
  SeriesPercentiles residence;
  std::map<std::string, SeriesRuleCounts> rules;
};

struct SeriesEvent {
  uint64_t t_ns = 0;
  std::string kind;
  std::string detail;
  std::optional<uint64_t> until_ns;  // the end of a stall, link-down or partition band
};

struct Series {
  SeriesHeader header;
  std::vector<SeriesInterval> intervals;
  std::vector<SeriesEvent> events;
  // The last "histogram" line: per rule, whole-run residence buckets (low bound ns, count).
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> residence_histograms;
};

// The largest series file read (an hour at 1 s intervals with dozens of rules is a few MiB).
inline constexpr size_t kMaxSeriesFileBytes = size_t{1} << 30;

// Parses series text; `name` names it in errors ("NAME:LINE: message").
std::optional<Series> ParseSeries(const std::string& text, const std::string& name,
                                  std::string* error);

// Reads and parses the series file at `path`.
std::optional<Series> ReadSeries(const std::string& path, std::string* error);

}  // namespace faultline
