#include "dataplane/reporting/latency_report.h"

#include <cstdio>

namespace faultline {

nlohmann::json LatencyJson(const HistogramSummary& summary) {
  nlohmann::json json = {{"count", summary.total}};
  for (const LatencyQuantile& quantile : kLatencyQuantiles) {
    json[quantile.key] = summary.Percentile(quantile.q);
  }
  json["max"] = summary.max;
  if (summary.clamped != 0) json["clamped"] = summary.clamped;
  return json;
}

std::string LatencyTextLine(const char* what, const std::string& where,
                            const HistogramSummary& summary) {
  char line[320];
  std::snprintf(line, sizeof(line),
                "%s %s: p50 %.3f us p90 %.3f us p99 %.3f us p99.9 %.3f us p99.99 %.3f us max "
                "%.3f us over %lu frame(s)\n",
                what, where.c_str(), summary.Percentile(0.5) / 1e3, summary.Percentile(0.9) / 1e3,
                summary.Percentile(0.99) / 1e3, summary.Percentile(0.999) / 1e3,
                summary.Percentile(0.9999) / 1e3, summary.max / 1e3, summary.total);
  return line;
}

}  // namespace faultline
