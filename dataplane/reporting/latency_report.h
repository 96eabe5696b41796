// The latency histograms in the statistics document: their percentiles as JSON, text and
// Prometheus summaries, and their sums over pipelines (ports) for a StatsReport.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/fastpath/latency_histogram.h"

namespace faultline {

// The quantiles every latency is reported at: JSON key, Prometheus quantile label, fraction.
struct LatencyQuantile {
  const char* key;
  const char* label;
  double q;
};
inline constexpr LatencyQuantile kLatencyQuantiles[] = {{"p50", "0.5", 0.5},
                                                        {"p90", "0.9", 0.9},
                                                        {"p99", "0.99", 0.99},
                                                        {"p999", "0.999", 0.999},
                                                        {"p9999", "0.9999", 0.9999}};

// {"count", "p50", "p90", "p99", "p999", "p9999", "max"} in ns, and "clamped" (values above
// 100 s, counted in the top bucket) when there were any.
nlohmann::json LatencyJson(const HistogramSummary& summary);

// "WHAT WHERE: p50 X us p90 X us p99 X us p99.9 X us p99.99 X us max X us over N frame(s)\n".
std::string LatencyTextLine(const char* what, const std::string& where,
                            const HistogramSummary& summary);

}  // namespace faultline
