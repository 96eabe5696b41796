#include "control/report/configured_cdf.h"

#include <algorithm>

#include "dataplane/config/profile_spec.h"
#include "dataplane/models/delay_distribution.h"

namespace faultline {
namespace {

// The draws' table for `distribution`: empty for uniform; nullopt and *error if unknown.
std::optional<std::vector<int16_t>> TableOf(const std::string& distribution, std::string* error) {
  if (distribution == "uniform") return std::vector<int16_t>{};
  if (distribution == "normal") return GenerateDistributionTable(DistributionKind::kNormal);
  if (distribution == "pareto") return GenerateDistributionTable(DistributionKind::kPareto);
  if (distribution == "paretonormal") {
    return GenerateDistributionTable(DistributionKind::kParetoNormal);
  }
  const std::string table_prefix = "table:";
  if (distribution.rfind(table_prefix, 0) == 0) {
    return LoadDistributionTable(distribution.substr(table_prefix.size()), error);
  }
  *error = "unknown delay distribution \"" + distribution +
           "\" (normal, uniform, pareto, paretonormal, table:PATH or none)";
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<std::pair<uint64_t, double>>> ConfiguredDelayCdf(
    uint64_t delay_ns, uint64_t jitter_ns, const std::string& distribution, std::string* error,
    size_t max_points) {
  if (distribution.empty() || distribution == "none" || jitter_ns == 0) {
    return std::vector<std::pair<uint64_t, double>>{{delay_ns, 1.0}};
  }
  const std::optional<std::vector<int16_t>> table = TableOf(distribution, error);
  if (!table) return std::nullopt;
  // Every equally likely draw: each table entry once, or for uniform 4096 evenly spaced values
  // of the 32-bit random input.
  const uint32_t draws = table->empty() ? 4096 : static_cast<uint32_t>(table->size());
  std::vector<uint64_t> delays(draws);
  const auto mu = static_cast<int64_t>(delay_ns);
  const auto sigma = static_cast<int64_t>(jitter_ns);
  for (uint32_t i = 0; i < draws; ++i) {
    const uint32_t rnd = table->empty() ? static_cast<uint32_t>((uint64_t{i} << 32) / draws) : i;
    const int64_t delay =
        TableDistribution(mu, sigma, rnd, table->data(), static_cast<uint32_t>(table->size()));
    delays[i] = delay < 0 ? 0 : static_cast<uint64_t>(delay);
  }
  std::sort(delays.begin(), delays.end());
  std::vector<std::pair<uint64_t, double>> cdf;
  const size_t points = std::max<size_t>(1, std::min<size_t>(max_points, draws));
  for (size_t k = 1; k <= points; ++k) {
    const size_t rank = k * draws / points;  // draws at or below this point
    cdf.emplace_back(delays[rank - 1], static_cast<double>(rank) / draws);
  }
  return cdf;
}

}  // namespace faultline
