// `faultline fleet stats`: the statistics documents of every box (docs/formats.md, "Statistics
// document") and what they add up to.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace faultline {

// The sum of several boxes' statistics documents: counters added (ports' rx/tx as "rx"/"tx" over
// every port of every box, drops by cause, unmatched, malformed, ...), rules and partitions
// matched by name and their counters added (a rule of the same name on two boxes is one rule of
// the fleet), "boxes" how many were summed. Percentile summaries (delay_ns, lateness_ns) cannot
// be added: only their count is, and max is the largest.
nlohmann::json SumStatistics(const std::vector<nlohmann::json>& documents);

// The fleet's statistics as text: a line per box (its ports and drops), then the sum's totals,
// rules and partitions. `boxes` pairs each box's name with its document.
std::string FleetStatsText(const std::vector<std::pair<std::string, nlohmann::json>>& boxes,
                           const nlohmann::json& total);

}  // namespace faultline
