// The per-rule delay histogram: bucket arithmetic over the whole 64-bit range and percentile
// precision (exact below 32, within half a bucket, 1/64 relative, above).
#include "dataplane/fastpath/latency_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>

namespace faultline {
namespace {

using H = LatencyHistogram;

TEST(LatencyHistogramTest, BucketsRoundTripAndTileTheRange) {
  EXPECT_EQ(H::BucketLow(0), 0u);
  for (int bucket = 0; bucket < H::kBuckets; ++bucket) {
    const uint64_t low = H::BucketLow(bucket);
    const uint64_t width = H::BucketWidth(bucket);
    ASSERT_EQ(H::BucketOf(low), bucket) << bucket;
    ASSERT_EQ(H::BucketOf(low + (width - 1)), bucket) << bucket;
    if (bucket + 1 < H::kBuckets) {
      ASSERT_EQ(H::BucketLow(bucket + 1), low + width) << "no gap or overlap after " << bucket;
    } else {
      ASSERT_EQ(low + (width - 1), UINT64_MAX) << "the last bucket ends at the top";
    }
    // 32 sub-buckets per power of two: a bucket is at most 1/32 of its low value.
    if (bucket >= H::kSubBuckets) {
      ASSERT_LE(width * 32, low) << bucket;
    }
  }
  EXPECT_EQ(H::BucketOf(UINT64_MAX), H::kBuckets - 1);
}

TEST(LatencyHistogramTest, ValuesBelow32HaveTheirOwnBucket) {
  for (uint64_t value = 0; value < 64; ++value) {
    EXPECT_EQ(H::BucketWidth(H::BucketOf(value)), 1u) << value;
    EXPECT_EQ(H::BucketLow(H::BucketOf(value)), value);
  }
  EXPECT_EQ(H::BucketWidth(H::BucketOf(64)), 2u);
}

TEST(LatencyHistogramTest, PercentilesAreExactBelow32) {
  auto histogram = std::make_unique<H>();
  for (uint64_t value = 0; value < 32; ++value) histogram->Record(value);
  HistogramSummary summary;
  summary.Add(*histogram);
  EXPECT_EQ(summary.total, 32u);
  EXPECT_EQ(summary.max, 31u);
  EXPECT_EQ(summary.Percentile(0.0), 0u) << "rank 1";
  EXPECT_EQ(summary.Percentile(0.5), 15u);  // the 16th of 0..31
  EXPECT_EQ(summary.Percentile(0.9), 28u);  // ceil(28.8) = 29th
  EXPECT_EQ(summary.Percentile(1.0), 31u);
}

TEST(LatencyHistogramTest, PercentilesWithinHalfABucket) {
  // Every value 1..200000 once: the q-quantile is ceil(q * n).
  constexpr uint64_t kCount = 200'000;
  auto histogram = std::make_unique<H>();
  for (uint64_t value = 1; value <= kCount; ++value) histogram->Record(value);
  HistogramSummary summary;
  summary.Add(*histogram);
  for (double q = 0.001; q < 1.0; q += 0.0037) {
    const double exact = std::ceil(q * kCount);
    const double reported = static_cast<double>(summary.Percentile(q));
    ASSERT_LE(std::fabs(reported - exact) / exact, 1.0 / 64) << "q " << q;
  }
  // The top percentile is the middle of the maximum's bucket too (max itself is exact).
  EXPECT_EQ(summary.max, kCount);
  EXPECT_LE(summary.Percentile(1.0), kCount);
  EXPECT_LE(std::fabs(static_cast<double>(summary.Percentile(1.0)) - kCount) / kCount, 1.0 / 64);
}

TEST(LatencyHistogramTest, PercentileIsCappedAtTheMaximum) {
  // 993 lies in the bucket [992, 1008) whose middle, 1000, is above every sample.
  auto histogram = std::make_unique<H>();
  for (int i = 0; i < 10; ++i) histogram->Record(993);
  HistogramSummary summary;
  summary.Add(*histogram);
  EXPECT_EQ(H::BucketLow(H::BucketOf(993)), 992u);
  EXPECT_EQ(H::BucketWidth(H::BucketOf(993)), 16u);
  EXPECT_EQ(summary.Percentile(0.5), 993u);
  EXPECT_EQ(summary.Percentile(1.0), 993u);
}

TEST(LatencyHistogramTest, LargeDelaysAndSeveralHistograms) {
  // Two workers' histograms of delays around 1 ms (ns) and 26 ms, summed.
  auto a = std::make_unique<H>(), b = std::make_unique<H>();
  for (int i = 0; i < 900; ++i) a->Record(1'000'000 + i);
  for (int i = 0; i < 100; ++i) b->Record(26'000'000 + 1000 * i);
  HistogramSummary summary;
  summary.Add(*a);
  summary.Add(*b);
  EXPECT_EQ(summary.total, 1000u);
  EXPECT_EQ(summary.max, 26'099'000u);
  const auto within = [](uint64_t reported, double exact) {
    return std::fabs(static_cast<double>(reported) - exact) / exact <= 1.0 / 64;
  };
  EXPECT_TRUE(within(summary.Percentile(0.5), 1'000'499)) << summary.Percentile(0.5);
  EXPECT_TRUE(within(summary.Percentile(0.9), 1'000'899)) << summary.Percentile(0.9);
  EXPECT_TRUE(within(summary.Percentile(0.95), 26'049'000)) << summary.Percentile(0.95);
  EXPECT_TRUE(within(summary.Percentile(1.0), 26'099'000)) << summary.Percentile(1.0);
  HistogramSummary empty;
  EXPECT_EQ(empty.Percentile(0.5), 0u);
}

}  // namespace
}  // namespace faultline
