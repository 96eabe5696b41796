// Latency histogram at HDR resolution: log-linear buckets, 1024 per power of two (as HdrHistogram
// with three significant digits), exact below 1024 units. The fast path records raw clock
// differences (TSC units live, ns offline): converting each value to ns would cost a multiply per
// record; HistogramSummary::Add converts the buckets once, when the control thread reads them
// (10 ns to 100 s in ns). One 32-bit counter per bucket, written by one lcore without locked
// instructions (a relaxed load and store); the control thread merges them exactly.
//
// Layout and cost: kBuckets (31744: units up to 2^40, 100 s of a clock up to 11 GHz) counters of 4
// bytes, and as many 4-byte carries (248 KiB per histogram). A record touches its bucket's line
// and the first line (min, max: read, written only when they change), so the fast path's working
// set is the lines of the values that actually occur (a constant delay: one line), whatever the
// histogram's size. 32-bit counters, not 64: the lines a jittered delay touches are half as many
// (measured with BM_HistogramCostPaired: the histograms' cost on the full profile, 5.6% with
// 64-bit counters, 4.5% with 32-bit ones; bench/RESULTS.md).
// One bucket of a constant delay at 14.88 Mpps wraps 32 bits after 289 s: the record that would
// wrap it carries 2^32 into the bucket's carry count instead (Carry, out of line), under a
// sequence number that readers check (a seqlock), so a reader never sees a count without its
// carry.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/fastpath/counters.h"

namespace faultline {

namespace latency_histogram_detail {
inline constexpr int kSubBucketBits = 10;
inline constexpr int kSubBuckets = 1 << kSubBucketBits;
// The summaries' range in ns: 100 s (values beyond are counted in its bucket, and as clamped).
inline constexpr uint64_t kMaxValue = 100'000'000'000;
// The histograms' range in clock units: 2^40 - 1 (1100 s of ns, 100 s of an 11 GHz clock).
inline constexpr uint64_t kMaxRecorded = (uint64_t{1} << 40) - 1;
// Values below 1024 have their own bucket; above, bucket width / bucket low <= 1/1024.
// Branch-free (it runs for every frame): with `exponent` the top bit of value | 1024 (at least
// kSubBucketBits), value >> (exponent - 10) lies in [1024, 2048) above 1024 and is value itself
// below, so one formula gives both the exact buckets and the log-linear ones. `value` <=
// kMaxRecorded.
constexpr int BucketOfInRange(uint64_t value) {
  const int shift = 63 - __builtin_clzll(value | kSubBuckets) - kSubBucketBits;
  return (shift << kSubBucketBits) + static_cast<int>(value >> shift);
}
constexpr int BucketOf(uint64_t value) {
  return BucketOfInRange(value < kMaxRecorded ? value : kMaxRecorded);
}
}  // namespace latency_histogram_detail

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = latency_histogram_detail::kSubBucketBits;
  static constexpr int kSubBuckets = latency_histogram_detail::kSubBuckets;  // per power of two
  // The range of summaries, in ns: values above kMaxValue (100 s) read as its bucket's and are
  // counted as clamped (HistogramSummary).
  static constexpr uint64_t kMaxValue = latency_histogram_detail::kMaxValue;
  // The range of a histogram, in clock units: values above kMaxRecorded are counted in its
  // bucket, and in Clamped().
  static constexpr uint64_t kMaxRecorded = latency_histogram_detail::kMaxRecorded;
  static constexpr int BucketOf(uint64_t value) {
    return latency_histogram_detail::BucketOf(value);
  }
  static constexpr int kBuckets = latency_histogram_detail::BucketOf(kMaxRecorded) + 1;  // 31744
  // The bucket a summary's value of kMaxValue ns lies in: summaries count nothing above it.
  static constexpr int kMaxValueBucket = latency_histogram_detail::BucketOf(kMaxValue);

  // The smallest value of a bucket and its width.
  static constexpr uint64_t BucketLow(int bucket) {
    if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
    const int exponent = bucket / kSubBuckets + kSubBucketBits - 1;
    const uint64_t sub = bucket % kSubBuckets;
    return (kSubBuckets + sub) << (exponent - kSubBucketBits);
  }
  static constexpr uint64_t BucketWidth(int bucket) {
    if (bucket < kSubBuckets) return 1;
    return uint64_t{1} << (bucket / kSubBuckets - 1);
  }

  // `value` in clock units. Min and max are stored only when they change: a new extreme is rare
  // once a run has started (about ln n times in n values of a steady distribution), so the two
  // tests are predicted and cost a load and a compare each. `count` (at least 1) values alike
  // are recorded at once (an express lane's run).
  void Record(uint64_t value, uint32_t count = 1) {
    if (value > kMaxRecorded) [[unlikely]] {
      clamped_.Add(count);
      if (value > max_.Get()) max_.Set(value);
      value = kMaxRecorded;
    }
    std::atomic<uint32_t>& bucket = buckets_[latency_histogram_detail::BucketOfInRange(value)];
    uint32_t sum;  // the add's own carry flag tells the wrap: no separate compare
    if (__builtin_add_overflow(bucket.load(std::memory_order_relaxed), count, &sum)) [[unlikely]] {
      Carry(&bucket, sum);
    } else {
      bucket.store(sum, std::memory_order_relaxed);
    }
    if (value > max_.Get()) [[unlikely]]
      max_.Set(value);
    if (~value > min_complement_.Get()) [[unlikely]]  // the complement: 0 is empty
      min_complement_.Set(~value);
  }
  // Records in two steps, for a batch of values (a burst's): Prefetch each value's bucket first,
  // then Record them, so their cache misses overlap instead of coming one after the other.
  void Prefetch(uint64_t value) const { __builtin_prefetch(&buckets_[BucketOf(value)], 1); }
  // Back to empty (the writer's thread only, like Record).
  void Reset();
  // Any thread: every bucket's count (kBuckets of them into `counts`), each with its carries,
  // as they were at one moment between two carries or resets.
  void ReadCounts(uint64_t* counts) const;
  uint64_t Count(int bucket) const;            // one bucket's, the same way
  uint64_t Max() const { return max_.Get(); }  // the largest value recorded, even if clamped
  uint64_t Min() const { return ~min_complement_.Get(); }  // UINT64_MAX when empty
  uint64_t Clamped() const { return clamped_.Get(); }      // values above kMaxRecorded

 private:
  friend struct LatencyHistogramTestAccess;  // presets a bucket near its wrap

  // `bucket`'s count wrapped past 2^32 to `wrapped`: its carry + 1, the bucket to `wrapped`.
  void Carry(std::atomic<uint32_t>* bucket, uint32_t wrapped);
  // Runs `change` (the writer's) between two increments of sequence_: odd while it runs.
  template <typename Change>
  void Sequenced(Change&& change);
  // Runs `read` (a reader's) until no carry or reset ran during it.
  template <typename Read>
  void ReadConsistent(Read&& read) const;
  uint64_t CountNow(int bucket) const;  // its count and carries, as they are (ReadConsistent)

  Counter max_;  // these four share the first cache line
  Counter min_complement_;
  Counter clamped_;
  std::atomic<uint64_t> sequence_{0};  // even: no carry or reset under way
  std::array<std::atomic<uint32_t>, kBuckets> buckets_{};
  std::array<std::atomic<uint32_t>, kBuckets> carries_{};  // 2^32 each; cold
};

// Sums of several histograms (one per worker) and their percentiles, in ns.
struct HistogramSummary {
  std::vector<uint64_t> counts = std::vector<uint64_t>(LatencyHistogram::kBuckets, 0);
  uint64_t total = 0;
  uint64_t max = 0;
  uint64_t min = UINT64_MAX;  // UINT64_MAX while empty
  // Values beyond the bucket of LatencyHistogram::kMaxValue (100 s; from 100.06 s on), counted in
  // that bucket.
  uint64_t clamped = 0;

  // Adds a histogram recorded in units of a clock of `units_per_second`. In ns (1e9), the counts
  // bucket by bucket: the merge of several histograms is exactly the histogram of all their
  // samples. In other units, each bucket's count goes to the ns bucket of its middle (the
  // histograms of one clock still merge exactly): a percentile is then within a bucket of the
  // exact value (1/1024, 0.098%) instead of half a bucket; min and max are exact to the ns.
  void Add(const LatencyHistogram& histogram, uint64_t units_per_second = 1'000'000'000);
  // Adds another summary the same way (exact: the summary of both sets of samples).
  void Add(const HistogramSummary& other);
  // The value below which a fraction q of the samples lie: the middle of the bucket holding the
  // ceil(q * total)-th sample, kept within [min, max]. The exact sample lies in that bucket, so the
  // answer is exact below 1024 and within half a bucket width (<= 1/2048, 0.049%) above; a
  // constant reads exactly.
  uint64_t Percentile(double q) const;
  // Takes away an earlier summary of the same histograms (cumulative counts only grow), leaving
  // the samples recorded between the two: the counts and total are exact. The maximum of that
  // window is not kept by the histograms; it becomes the top of the highest bucket left (capped
  // at the later maximum), 0 if nothing is left. `earlier` must not hold more than this.
  void Subtract(const HistogramSummary& earlier);
};

}  // namespace faultline
