// The latency histogram at HDR resolution: bucket arithmetic over the whole range, percentiles
// within 0.1% of the exact ones (sorted samples) for several distributions, exact merging, and
// clamping at 100 s.
//
// The bound: a percentile is the middle of the bucket holding the exact sample, capped at the
// maximum; a bucket above 1024 is at most 1/1024 of its low value wide, so the answer is off by
// at most half of that, 1/2048 (0.049%) of the exact value, and exact below 1024. The tests
// assert 0.1% (the figure), and the bucket arithmetic the 1/1024 width itself.
//
// Recorded in clock units (the live TSC) and converted when summarised: the sample is rounded to
// a unit (<= 0.5 unit), its unit bucket's middle is within 1/2048 of it, that middle converted
// to ns is rounded (<= 0.5 ns) and read as the middle of its ns bucket (another <= 1/2048): at
// most 2/2048 (0.098%) of the exact value plus 0.5 unit + 0.5 ns; the tests assert 0.1% + 1 ns.
#include "dataplane/fastpath/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "dataplane/fastpath/clock.h"

namespace faultline {

// Sets a bucket's 32-bit count directly: 2^32 records would take seconds.
struct LatencyHistogramTestAccess {
  static void SetLow(LatencyHistogram& histogram, int bucket, uint32_t low) {
    histogram.buckets_[bucket].store(low);
  }
};

namespace {

using H = LatencyHistogram;

TEST(LatencyHistogramTest, BucketsTileTheRangeAtAThousandthOfTheirValue) {
  EXPECT_EQ(H::kBuckets, 31744);  // units up to 2^40
  // min, max, clamped, sequence; a 32-bit count and carry per bucket: 248 KiB
  EXPECT_EQ(sizeof(H), 4 * sizeof(uint64_t) + H::kBuckets * 2 * sizeof(uint32_t));
  for (int bucket = 0; bucket < H::kBuckets; ++bucket) {
    const uint64_t low = H::BucketLow(bucket);
    const uint64_t width = H::BucketWidth(bucket);
    ASSERT_EQ(H::BucketOf(low), bucket) << bucket;
    if (bucket + 1 < H::kBuckets) {
      ASSERT_EQ(H::BucketOf(low + (width - 1)), bucket) << bucket;
      ASSERT_EQ(H::BucketLow(bucket + 1), low + width) << bucket;  // no gap, no overlap
    }
    if (low >= 1024) {
      ASSERT_LE(width * 1024, low) << bucket;
    }
  }
  EXPECT_EQ(H::BucketOf(UINT64_MAX), H::kBuckets - 1);
  EXPECT_EQ(H::BucketOf(H::kMaxRecorded), H::kBuckets - 1);
  EXPECT_EQ(H::kMaxValueBucket, 28114);  // the summaries' top: 100 s in ns
}

TEST(LatencyHistogramTest, ValuesBelow1024HaveTheirOwnBucket) {
  for (uint64_t value = 0; value < 1024; ++value) {
    EXPECT_EQ(H::BucketWidth(H::BucketOf(value)), 1u) << value;
    EXPECT_EQ(H::BucketLow(H::BucketOf(value)), value);
  }
  EXPECT_EQ(H::BucketWidth(H::BucketOf(2048)), 2u);
}

// Records `samples` (ns) split over `histograms` histograms (as workers), in units of a clock of
// `hz` (rounded to a unit, as TimeBase::FromNs), merges them and checks each percentile against
// the exact one: the ceil(q n)-th smallest sample.
void ExpectPercentilesWithinAThousandth(std::vector<uint64_t> samples, int histograms = 3,
                                        uint64_t hz = 1'000'000'000) {
  const double units_per_ns = static_cast<double>(hz) / 1e9;
  const double slack_ns = hz == 1'000'000'000 ? 0.0 : 1.0;  // the two roundings (header)
  std::vector<std::unique_ptr<H>> workers;
  for (int i = 0; i < histograms; ++i) workers.push_back(std::make_unique<H>());
  for (size_t i = 0; i < samples.size(); ++i) {
    workers[i % histograms]->Record(
        static_cast<uint64_t>(std::llround(static_cast<double>(samples[i]) * units_per_ns)));
  }
  HistogramSummary summary;
  for (const auto& worker : workers) summary.Add(*worker, hz);
  std::sort(samples.begin(), samples.end());
  ASSERT_EQ(summary.total, samples.size());
  EXPECT_NEAR(static_cast<double>(summary.max), static_cast<double>(samples.back()), slack_ns);
  EXPECT_NEAR(static_cast<double>(summary.min), static_cast<double>(samples.front()), slack_ns);
  for (double q : {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * samples.size())));
    const double exact = static_cast<double>(samples[rank - 1]);
    const double reported = static_cast<double>(summary.Percentile(q));
    EXPECT_LE(std::fabs(reported - exact), exact * 0.001 + slack_ns)
        << "q " << q << " exact " << exact << " hz " << hz;
  }
}

// 100,000 lognormal values (median `median`, seed `seed`) recorded into one histogram and spread
// at random over 4 (as workers), in units of a clock of `hz`: the workers' merge is exactly the
// one histogram, bucket by bucket, with the same total, extremes and percentiles.
void ExpectWorkersMergeExactly(uint64_t seed, double median, uint64_t hz) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> lognormal(std::log(median), 2.0);
  auto all = std::make_unique<H>();
  std::vector<std::unique_ptr<H>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(std::make_unique<H>());
  for (int i = 0; i < 100'000; ++i) {
    const uint64_t sample = static_cast<uint64_t>(lognormal(rng));
    all->Record(sample);
    workers[rng() % 4]->Record(sample);
  }
  HistogramSummary merged, one;
  for (const auto& worker : workers) merged.Add(*worker, hz);
  one.Add(*all, hz);
  EXPECT_EQ(merged.counts, one.counts);  // bucket by bucket
  EXPECT_EQ(merged.total, one.total);
  EXPECT_EQ(merged.max, one.max);
  EXPECT_EQ(merged.min, one.min);
  EXPECT_EQ(merged.clamped, one.clamped);
  for (double q : {0.5, 0.9, 0.99, 0.999, 0.9999}) {
    EXPECT_EQ(merged.Percentile(q), one.Percentile(q));
  }
}

// The clocks of the tests: ns (replay), a 2.6 GHz TSC (this machine's) and an odd frequency.
constexpr uint64_t kClocks[] = {1'000'000'000, 2'600'000'000, 3'100'000'123};

TEST(LatencyHistogramTest, ConstantHundredMillisecondsReadsHundredMilliseconds) {
  ExpectPercentilesWithinAThousandth(std::vector<uint64_t>(10'000, 100'000'000));
  auto histogram = std::make_unique<H>();
  histogram->Record(100'000'000);
  HistogramSummary summary;
  summary.Add(*histogram);
  // The bucket holding 100 ms is [99'942'400, 100'007'936): its middle is kept within
  // [min, max], so a constant reads exactly.
  EXPECT_EQ(H::BucketLow(H::BucketOf(100'000'000)), 99'942'400u);
  EXPECT_EQ(summary.Percentile(0.5), 100'000'000u);
  EXPECT_EQ(summary.min, 100'000'000u);
}

TEST(LatencyHistogramTest, ConstantHundredMillisecondsInTscUnitsReadsHundredMilliseconds) {
  // As live: the delay compiled to units (TimeBase::FromNs), recorded raw, converted when read.
  for (uint64_t hz : kClocks) {
    const TimeBase base = TimeBase::ForHz(hz);
    auto histogram = std::make_unique<H>();
    for (int i = 0; i < 1000; ++i) histogram->Record(base.FromNs(100'000'000));
    HistogramSummary summary;
    summary.Add(*histogram, hz);
    EXPECT_EQ(summary.total, 1000u);
    EXPECT_EQ(summary.Percentile(0.5), 100'000'000u) << hz;
    EXPECT_EQ(summary.Percentile(0.999), 100'000'000u) << hz;
    EXPECT_EQ(summary.min, 100'000'000u) << hz;
    EXPECT_EQ(summary.max, 100'000'000u) << hz;
  }
}

TEST(LatencyHistogramTest, SamplesInClockUnitsReadWithinAThousandthInNs) {
  std::mt19937_64 rng(19);
  std::lognormal_distribution<double> lognormal(std::log(200'000.0), 1.5);
  std::normal_distribution<double> jitter(1'000'000.0, 100'000.0);  // the full profile's delay
  std::uniform_int_distribution<uint64_t> late(0, 2'150);           // and lateness
  std::vector<uint64_t> tail(100'000), delay(100'000), lateness(100'000);
  for (uint64_t& sample : tail) sample = static_cast<uint64_t>(lognormal(rng)) + 10;
  for (uint64_t& sample : delay) sample = static_cast<uint64_t>(std::max(0.0, jitter(rng)));
  for (uint64_t& sample : lateness) sample = late(rng);
  for (uint64_t hz : kClocks) {
    ExpectPercentilesWithinAThousandth(tail, 3, hz);
    ExpectPercentilesWithinAThousandth(delay, 2, hz);
    ExpectPercentilesWithinAThousandth(lateness, 2, hz);
  }
}

TEST(LatencyHistogramTest, WorkersOfOneClockMergeExactlyInUnits) {
  ExpectWorkersMergeExactly(20, 13'000'000.0, 2'600'000'000);
}

TEST(LatencyHistogramTest, UniformSamples) {
  std::mt19937_64 rng(15);
  std::uniform_int_distribution<uint64_t> uniform(0, 50'000'000);  // 0 .. 50 ms
  std::vector<uint64_t> samples(200'000);
  for (uint64_t& sample : samples) sample = uniform(rng);
  ExpectPercentilesWithinAThousandth(samples);
}

TEST(LatencyHistogramTest, LognormalSamples) {
  std::mt19937_64 rng(16);
  std::lognormal_distribution<double> lognormal(std::log(200'000.0), 1.5);  // median 200 us
  std::vector<uint64_t> samples(200'000);
  for (uint64_t& sample : samples) sample = static_cast<uint64_t>(lognormal(rng)) + 10;
  ExpectPercentilesWithinAThousandth(samples);
}

TEST(LatencyHistogramTest, ParetoSamplesOverTheWholeRange) {
  // Pareto with shape 0.5 from 10 ns: half the samples below 40 ns, a tail up to 100 s.
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<uint64_t> samples(200'000);
  for (uint64_t& sample : samples) {
    const double value = 10.0 / std::pow(1.0 - unit(rng), 1.0 / 0.5);
    sample = static_cast<uint64_t>(std::min(value, 1e11));
  }
  ExpectPercentilesWithinAThousandth(samples);
}

TEST(LatencyHistogramTest, MergingEqualsOneHistogramOfAllSamples) {
  ExpectWorkersMergeExactly(18, 5'000'000.0, 1'000'000'000);
}

TEST(LatencyHistogramTest, ValuesBeyondHundredSecondsAreClampedAndCounted) {
  auto histogram = std::make_unique<H>();
  histogram->Record(0);
  histogram->Record(3);
  histogram->Record(H::kMaxValue);          // 100 s: the top of the summaries' range
  histogram->Record(H::kMaxValue + 1);      // in the same bucket (ends at 100.06 s): not clamped
  histogram->Record(1'000'000'000'000);     // 1000 s: within the histogram, beyond a summary's
  histogram->Record(H::kMaxRecorded + 10);  // beyond the histogram's own range too
  EXPECT_EQ(histogram->Count(0), 1u);
  EXPECT_EQ(histogram->Count(3), 1u);
  EXPECT_EQ(histogram->Count(H::kMaxValueBucket), 2u);
  EXPECT_EQ(histogram->Count(H::kBuckets - 1), 1u);
  EXPECT_EQ(histogram->Clamped(), 1u);
  EXPECT_EQ(histogram->Max(), H::kMaxRecorded + 10);  // the true maximum
  HistogramSummary summary;
  summary.Add(*histogram);  // ns
  EXPECT_EQ(summary.total, 6u);
  EXPECT_EQ(summary.clamped, 2u);  // 1000 s and the one beyond the histogram
  EXPECT_EQ(summary.counts[H::kMaxValueBucket], 4u);
  EXPECT_EQ(summary.max, H::kMaxRecorded + 10);
  EXPECT_EQ(summary.Percentile(0.1), 0u);
  EXPECT_EQ(summary.Percentile(0.3), 3u);
  // The clamped values read as the top bucket: 100 s within 0.1%.
  EXPECT_NEAR(static_cast<double>(summary.Percentile(0.9)), 1e11, 1e8);
  // The same units from a 2 GHz clock: 0, 1.5 ns (read 2), 50 s twice (in range), 500 s and
  // 550 s (clamped).
  HistogramSummary at_2ghz;
  at_2ghz.Add(*histogram, 2'000'000'000);
  EXPECT_EQ(at_2ghz.total, 6u);
  EXPECT_EQ(at_2ghz.clamped, 2u);
  EXPECT_EQ(at_2ghz.counts[H::kMaxValueBucket], 2u);
  EXPECT_EQ(at_2ghz.max, NsPerUnit(2'000'000'000).ToNs(H::kMaxRecorded + 10));
  EXPECT_EQ(at_2ghz.Percentile(0.3), 2u);
  EXPECT_NEAR(static_cast<double>(at_2ghz.Percentile(0.5)), 5e10, 5e7);
  histogram->Reset();
  HistogramSummary empty;
  empty.Add(*histogram);
  EXPECT_EQ(empty.total, 0u);
  EXPECT_EQ(empty.clamped, 0u);
  EXPECT_EQ(empty.Percentile(0.5), 0u);
}

// Min and max, stored only when they change: rising, falling and zero values, a first value of 0,
// values beyond the range, each read exactly.
TEST(LatencyHistogramTest, MinAndMaxAreExactWhateverTheOrder) {
  auto rising = std::make_unique<H>();
  for (uint64_t v = 1'000; v < 2'000'000; v += 997) rising->Record(v);
  EXPECT_EQ(rising->Min(), 1'000u);
  EXPECT_EQ(rising->Max(), 1'000u + 997u * ((2'000'000u - 1'000u - 1) / 997u));
  auto falling = std::make_unique<H>();
  for (uint64_t v = 2'000'000; v > 1'000; v -= 991) falling->Record(v);
  EXPECT_EQ(falling->Max(), 2'000'000u);
  EXPECT_EQ(falling->Min(), 2'000'000u - 991u * ((2'000'000u - 1'001u) / 991u));
  auto zero_first = std::make_unique<H>();
  EXPECT_EQ(zero_first->Min(), UINT64_MAX);  // empty
  EXPECT_EQ(zero_first->Max(), 0u);
  zero_first->Record(0);
  EXPECT_EQ(zero_first->Min(), 0u);
  EXPECT_EQ(zero_first->Max(), 0u);
  zero_first->Record(5);
  zero_first->Record(0);
  EXPECT_EQ(zero_first->Max(), 5u);
  zero_first->Record(UINT64_MAX - 1);  // beyond the range: the true maximum is kept
  EXPECT_EQ(zero_first->Max(), UINT64_MAX - 1);
  EXPECT_EQ(zero_first->Min(), 0u);
  zero_first->Reset();
  EXPECT_EQ(zero_first->Min(), UINT64_MAX);
  zero_first->Record(7);
  EXPECT_EQ(zero_first->Min(), 7u);
  EXPECT_EQ(zero_first->Max(), 7u);
}

TEST(LatencyHistogramTest, ABucketPastTwoToTheThirtyTwoCarriesIntoSixtyFourBits) {
  auto histogram = std::make_unique<H>();
  const int bucket = H::BucketOf(13'000'000);
  LatencyHistogramTestAccess::SetLow(*histogram, bucket, UINT32_MAX - 2);
  for (int i = 0; i < 5; ++i) histogram->Record(13'000'000);  // wraps at the third
  EXPECT_EQ(histogram->Count(bucket), (uint64_t{1} << 32) + 2);
  for (int wrap = 0; wrap < 3; ++wrap) {
    LatencyHistogramTestAccess::SetLow(*histogram, bucket, UINT32_MAX);
    histogram->Record(13'000'000);
  }
  EXPECT_EQ(histogram->Count(bucket), (uint64_t{4} << 32));
  HistogramSummary summary;
  summary.Add(*histogram);
  EXPECT_EQ(summary.total, uint64_t{4} << 32);
  EXPECT_EQ(summary.Percentile(0.5), 13'000'000u);
  histogram->Reset();
  EXPECT_EQ(histogram->Count(bucket), 0u);
}

// An express lane's run records n equal values at once: the same buckets, min, max and carries
// as n single records.
TEST(LatencyHistogramTest, ACountOfEqualValuesIsNRecords) {
  auto batch = std::make_unique<LatencyHistogram>();
  auto single = std::make_unique<LatencyHistogram>();
  for (uint64_t value : {700u, 13'000'000u, 5u}) {
    batch->Record(value, 32);
    for (int i = 0; i < 32; ++i) single->Record(value);
  }
  batch->Record(H::kMaxRecorded + 9, 3);  // clamped, three times
  for (int i = 0; i < 3; ++i) single->Record(H::kMaxRecorded + 9);
  for (int bucket = 0; bucket < H::kBuckets; ++bucket) {
    ASSERT_EQ(batch->Count(bucket), single->Count(bucket)) << "bucket " << bucket;
  }
  EXPECT_EQ(batch->Min(), single->Min());
  EXPECT_EQ(batch->Max(), single->Max());
  EXPECT_EQ(batch->Clamped(), 3u);
  // A count that crosses 2^32 carries once and keeps the rest in the bucket.
  const int bucket = H::BucketOf(700);
  LatencyHistogramTestAccess::SetLow(*batch, bucket, UINT32_MAX - 9);
  batch->Record(700, 32);
  EXPECT_EQ(batch->Count(bucket), (uint64_t{1} << 32) + 22);
}

// A reader on another thread while the writer carries again and again. The bucket's count only
// grows (each cycle the writer moves its low part up to 2^32 - 4, as if that many records had
// happened, then records 4: the fourth carries), so every count the reader sees must be at least
// the one before, and below (cycles begun + 1) * 2^32. A carry read half-done (the carry without
// the low part's return to 0) would read 2^32 too high: above that bound, and above the next read.
TEST(LatencyHistogramTest, AReaderNeverSeesACarryHalfDone) {
  auto histogram = std::make_unique<H>();
  const int bucket = H::BucketOf(700);
  constexpr int kWraps = 200'000;
  std::atomic<int> cycles_begun{0};
  std::atomic<bool> reading{false};
  std::thread writer([&] {
    while (!reading.load()) std::this_thread::yield();  // some reads overlap the writes
    for (int wrap = 0; wrap < kWraps; ++wrap) {
      cycles_begun.store(wrap + 1, std::memory_order_release);
      LatencyHistogramTestAccess::SetLow(*histogram, bucket, UINT32_MAX - 3);
      for (int i = 0; i < 4; ++i) histogram->Record(700);
    }
  });
  uint64_t reads = 0, bad = 0, previous = 0;
  reading.store(true);
  do {
    const uint64_t count = histogram->Count(bucket);
    const uint64_t begun = static_cast<uint64_t>(cycles_begun.load(std::memory_order_acquire));
    if (count < previous || count >= (begun + 1) << 32) ++bad;
    previous = count;
    ++reads;
  } while (cycles_begun.load(std::memory_order_acquire) < kWraps);
  writer.join();
  EXPECT_EQ(bad, 0u) << "of " << reads << " reads";
  EXPECT_GT(reads, 0u);
  EXPECT_EQ(histogram->Count(bucket), uint64_t{kWraps} << 32);
}

}  // namespace
}  // namespace faultline
