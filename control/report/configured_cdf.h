// The CDF of a rule's configured delay, for the report to draw beside the measured one. It is
// computed from the dataplane's own model (dataplane/models/delay_distribution.h): every entry of
// the same table the workers draw from (normal, pareto, paretonormal generated as iproute2 does, or
// a .dist file) passed through TableDistribution, so the curve is exactly what the dataplane
// samples from, not a second model of it. Uniform jitter (no table) is TableDistribution's
// table-less branch at evenly spaced random values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace faultline {

// Points (delay_ns, P[delay <= delay_ns]), delay ascending, probability rising to 1; at most
// `max_points` of them (quantiles of the full table). Negative draws count as 0, as the dataplane
// clamps them. `distribution` as in the series header: normal, uniform, pareto, paretonormal,
// table:PATH, none or "" (none: a step at delay_ns). Nullopt and *error for an unknown
// distribution or a table file that cannot be read.
std::optional<std::vector<std::pair<uint64_t, double>>> ConfiguredDelayCdf(
    uint64_t delay_ns, uint64_t jitter_ns, const std::string& distribution, std::string* error,
    size_t max_points = 512);

}  // namespace faultline
