#include "dataplane/fastpath/latency_histogram.h"

#include <algorithm>
#include <cmath>

#include "dataplane/fastpath/clock.h"

namespace faultline {

void HistogramSummary::Add(const LatencyHistogram& histogram, uint64_t units_per_second) {
  using H = LatencyHistogram;
  const bool in_ns = units_per_second == 1'000'000'000;
  const NsPerUnit ns(units_per_second);
  for (int bucket = 0; bucket < H::kBuckets; ++bucket) {
    const uint64_t count = histogram.Count(bucket);
    if (count == 0) continue;
    int to = bucket;
    if (!in_ns) to = H::BucketOf(ns.ToNs(H::BucketLow(bucket) + H::BucketWidth(bucket) / 2));
    if (to > H::kMaxValueBucket) {
      to = H::kMaxValueBucket;
      clamped += count;
    }
    counts[to] += count;
    total += count;
  }
  // Values beyond the histogram's own range (Clamped()) lie in its top bucket, counted above.
  auto to_ns = [&](uint64_t units) { return in_ns ? units : ns.ToNs(units); };
  if (histogram.Max() != 0) max = std::max(max, to_ns(histogram.Max()));
  if (histogram.Min() != UINT64_MAX) min = std::min(min, to_ns(histogram.Min()));
}

void HistogramSummary::Add(const HistogramSummary& other) {
  for (int bucket = 0; bucket < LatencyHistogram::kBuckets; ++bucket) {
    counts[bucket] += other.counts[bucket];
  }
  total += other.total;
  max = std::max(max, other.max);
  min = std::min(min, other.min);
  clamped += other.clamped;
}

uint64_t HistogramSummary::Percentile(double q) const {
  if (total == 0) return 0;
  const uint64_t rank = std::clamp<uint64_t>(static_cast<uint64_t>(std::ceil(q * total)), 1, total);
  uint64_t seen = 0;
  for (int bucket = 0; bucket < LatencyHistogram::kBuckets; ++bucket) {
    seen += counts[bucket];
    if (seen >= rank) {
      const uint64_t middle =
          LatencyHistogram::BucketLow(bucket) + LatencyHistogram::BucketWidth(bucket) / 2;
      // min > max only in a summary filled by hand (counts without min): no lower bound then.
      return std::clamp(middle, min <= max ? min : uint64_t{0}, max);
    }
  }
  return max;
}

void HistogramSummary::Subtract(const HistogramSummary& earlier) {
  int highest = -1;
  for (int bucket = 0; bucket < LatencyHistogram::kBuckets; ++bucket) {
    counts[bucket] -= std::min(counts[bucket], earlier.counts[bucket]);
    if (counts[bucket] != 0) highest = bucket;
  }
  total -= std::min(total, earlier.total);
  if (highest < 0 || total == 0) {
    max = 0;
    return;
  }
  const uint64_t top =
      LatencyHistogram::BucketLow(highest) + LatencyHistogram::BucketWidth(highest) - 1;
  max = std::min(max, top);
}

}  // namespace faultline
