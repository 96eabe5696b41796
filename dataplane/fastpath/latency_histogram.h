// Per-rule delay histogram: log-linear buckets (32 per power of two, as HdrHistogram with ~1.5%
// precision), one counter each, written by one lcore. Percentiles are computed by readers.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "dataplane/fastpath/counters.h"

namespace faultline {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 5;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kBuckets = (64 - kSubBucketBits + 1) * kSubBuckets;

  static int BucketOf(uint64_t value) {
    if (value < kSubBuckets) return static_cast<int>(value);
    const int exponent = 63 - __builtin_clzll(value);  // >= kSubBucketBits
    const int sub = static_cast<int>((value >> (exponent - kSubBucketBits)) & (kSubBuckets - 1));
    return (exponent - kSubBucketBits + 1) * kSubBuckets + sub;
  }
  // The smallest value of a bucket and its width.
  static uint64_t BucketLow(int bucket) {
    if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
    const int exponent = bucket / kSubBuckets + kSubBucketBits - 1;
    const uint64_t sub = bucket % kSubBuckets;
    return (kSubBuckets + sub) << (exponent - kSubBucketBits);
  }
  static uint64_t BucketWidth(int bucket) {
    if (bucket < kSubBuckets) return 1;
    return uint64_t{1} << (bucket / kSubBuckets - 1);
  }

  void Record(uint64_t value) {
    buckets_[BucketOf(value)].Add(1);
    if (value > max_.Get()) max_.Set(value);
  }
  // Back to empty (the writer's thread only, like Record).
  void Reset() {
    for (Counter& bucket : buckets_) bucket.Set(0);
    max_.Set(0);
  }
  uint64_t Count(int bucket) const { return buckets_[bucket].Get(); }
  uint64_t Max() const { return max_.Get(); }

 private:
  std::array<Counter, kBuckets> buckets_;
  Counter max_;
};

// Sums of several histograms (one per worker) and their percentiles.
struct HistogramSummary {
  std::vector<uint64_t> counts = std::vector<uint64_t>(LatencyHistogram::kBuckets, 0);
  uint64_t total = 0;
  uint64_t max = 0;

  void Add(const LatencyHistogram& histogram);
  // The value below which a fraction q of the samples lie: the middle of the bucket holding the
  // q-th sample (exact below 32, within half a bucket width, <= 1.6%, above), capped at max.
  uint64_t Percentile(double q) const;
  // Takes away an earlier summary of the same histograms (cumulative counts only grow), leaving
  // the samples recorded between the two: the counts and total are exact. The maximum of that
  // window is not kept by the histograms; it becomes the top of the highest bucket left (capped
  // at the later maximum), 0 if nothing is left. `earlier` must not hold more than this.
  void Subtract(const HistogramSummary& earlier);
};

}  // namespace faultline
