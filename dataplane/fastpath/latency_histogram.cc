#include "dataplane/fastpath/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <thread>

#include "dataplane/fastpath/clock.h"

namespace faultline {

template <typename Change>
void LatencyHistogram::Sequenced(Change&& change) {
  const uint64_t sequence = sequence_.load(std::memory_order_relaxed);
  sequence_.store(sequence + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  change();
  sequence_.store(sequence + 2, std::memory_order_release);
}

void LatencyHistogram::Carry(std::atomic<uint32_t>* bucket, uint32_t wrapped) {
  std::atomic<uint32_t>& carry = carries_[bucket - buckets_.data()];
  Sequenced([&] {
    carry.store(carry.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    bucket->store(wrapped, std::memory_order_relaxed);
  });
}

void LatencyHistogram::Reset() {
  Sequenced([this] {
    for (std::atomic<uint32_t>& bucket : buckets_) bucket.store(0, std::memory_order_relaxed);
    for (std::atomic<uint32_t>& carry : carries_) carry.store(0, std::memory_order_relaxed);
  });
  max_.Set(0);
  min_complement_.Set(0);
  clamped_.Set(0);
}

template <typename Read>
void LatencyHistogram::ReadConsistent(Read&& read) const {
  for (;;) {
    const uint64_t before = sequence_.load(std::memory_order_acquire);
    if (before % 2 == 0) {
      read();
      std::atomic_thread_fence(std::memory_order_acquire);
      if (sequence_.load(std::memory_order_relaxed) == before) return;
    }
    std::this_thread::yield();  // a carry or reset under way (rare): read again
  }
}

uint64_t LatencyHistogram::CountNow(int bucket) const {
  return (uint64_t{carries_[bucket].load(std::memory_order_relaxed)} << 32) +
         buckets_[bucket].load(std::memory_order_relaxed);
}

void LatencyHistogram::ReadCounts(uint64_t* counts) const {
  ReadConsistent([&] {
    for (int bucket = 0; bucket < kBuckets; ++bucket) counts[bucket] = CountNow(bucket);
  });
}

uint64_t LatencyHistogram::Count(int bucket) const {
  uint64_t count = 0;
  ReadConsistent([&] { count = CountNow(bucket); });
  return count;
}

void HistogramSummary::Add(const LatencyHistogram& histogram, uint64_t units_per_second) {
  using H = LatencyHistogram;
  const bool in_ns = units_per_second == 1'000'000'000;
  const NsPerUnit ns(units_per_second);
  thread_local std::vector<uint64_t> read(H::kBuckets);
  histogram.ReadCounts(read.data());
  for (int bucket = 0; bucket < H::kBuckets; ++bucket) {
    const uint64_t count = read[bucket];
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
