// The cost of the latency histograms alone (issue 15's budget: at most 5% of a frame's cost):
// what the worker records per frame with a rule (delay at the wheel insert, residence and lateness
// at the transmit call) into `slots` rule/direction histograms, values as the full profile makes
// them (1 ms + normal jitter of 100 us; lateness within one burst interval, 0-2150 ns), optionally
// with `evict` bytes of other memory touched per frame as the mbufs and the wheel do.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "dataplane/fastpath/latency_histogram.h"

namespace faultline {
namespace {

struct Values {
  uint64_t delay, residence, lateness;
  uint32_t slot;
};

std::vector<Values> MakeValues(int slots, size_t n) {
  std::mt19937_64 random(1);
  std::normal_distribution<double> jitter(0, 100'000);
  std::uniform_int_distribution<uint64_t> late(0, 2150);
  std::uniform_int_distribution<uint32_t> slot(0, slots - 1);
  std::vector<Values> values(n);
  for (Values& v : values) {
    v.delay = static_cast<uint64_t>(std::max(0.0, 1'000'000 + jitter(random)));
    v.lateness = late(random);
    v.residence = v.delay + v.lateness;
    v.slot = slot(random);
  }
  return values;
}

struct RuleHistograms {
  LatencyHistogram delay, residence, lateness;
};

// Args: slots (rule/direction pairs), bytes of other memory touched per frame.
void BM_RecordFrame(benchmark::State& state) {
  const int slots = static_cast<int>(state.range(0));
  const size_t evict = static_cast<size_t>(state.range(1));
  auto histograms = std::make_unique<RuleHistograms[]>(slots);
  const std::vector<Values> values = MakeValues(slots, 1 << 16);
  std::vector<uint64_t> other(evict == 0 ? 8 : (64 << 20) / 8);  // 64 MiB: beyond the caches
  size_t next = 0, line = 0;
  for (auto _ : state) {
    const Values& v = values[next++ & (values.size() - 1)];
    RuleHistograms& h = histograms[v.slot];
    h.delay.Record(v.delay);
    h.residence.Record(v.residence);
    h.lateness.Record(v.lateness);
    for (size_t touched = 0; touched < evict; touched += 64) {
      line = (line + 4099) & (other.size() / 8 - 1);  // a line a few pages away each time
      other[line * 8] += 1;
    }
  }
  benchmark::DoNotOptimize(other.data());
  state.SetItemsProcessed(state.iterations());
}
// The full profile (one rule, two directions) and Workload W (10 rules, two directions).
BENCHMARK(BM_RecordFrame)->Args({2, 0})->Args({20, 0})->Args({2, 256})->Args({20, 256});

// The same, a burst of 32 frames at a time: every bucket prefetched, then every value recorded.
void BM_RecordBurstPrefetched(benchmark::State& state) {
  const int slots = static_cast<int>(state.range(0));
  const size_t evict = static_cast<size_t>(state.range(1));
  auto histograms = std::make_unique<RuleHistograms[]>(slots);
  const std::vector<Values> values = MakeValues(slots, 1 << 16);
  std::vector<uint64_t> other(evict == 0 ? 8 : (64 << 20) / 8);
  size_t next = 0, line = 0;
  for (auto _ : state) {
    const Values* burst = &values[next & (values.size() - 1)];
    next += 32;
    for (int i = 0; i < 32; ++i) {
      for (size_t touched = 0; touched < evict; touched += 64) {
        line = (line + 4099) & (other.size() / 8 - 1);
        other[line * 8] += 1;
      }
    }
    for (int i = 0; i < 32; ++i) {
      RuleHistograms& h = histograms[burst[i].slot];
      h.delay.Prefetch(burst[i].delay);
      h.residence.Prefetch(burst[i].residence);
      h.lateness.Prefetch(burst[i].lateness);
    }
    for (int i = 0; i < 32; ++i) {
      RuleHistograms& h = histograms[burst[i].slot];
      h.delay.Record(burst[i].delay);
      h.residence.Record(burst[i].residence);
      h.lateness.Record(burst[i].lateness);
    }
  }
  benchmark::DoNotOptimize(other.data());
  state.SetItemsProcessed(state.iterations() * 32);
}
BENCHMARK(BM_RecordBurstPrefetched)->Args({2, 0})->Args({20, 0})->Args({2, 256})->Args({20, 256});

// The same frames' other memory alone: subtract it from BM_RecordFrame's evicting cases.
void BM_EvictOnly(benchmark::State& state) {
  const size_t evict = static_cast<size_t>(state.range(0));
  std::vector<uint64_t> other((64 << 20) / 8);
  size_t line = 0;
  for (auto _ : state) {
    for (size_t touched = 0; touched < evict; touched += 64) {
      line = (line + 4099) & (other.size() / 8 - 1);
      other[line * 8] += 1;
    }
  }
  benchmark::DoNotOptimize(other.data());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvictOnly)->Arg(256);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
