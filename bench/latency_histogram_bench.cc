// The cost of the latency histograms alone (issue 15's budget: at most 5% of a frame's cost):
// what the worker records per frame with a rule (delay at the wheel insert, residence and lateness
// at the transmit call) into `slots` rule/direction histograms, values as the full profile makes
// them (1 ms + normal jitter of 100 us; lateness within one burst interval, 0-2150 ns), optionally
// with `evict` bytes of other memory touched per frame as the mbufs and the wheel do.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <vector>

#include "dataplane/fastpath/clock.h"
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

// The whole per-frame work from clock units (TSC at 2.6 GHz), conversions included. Arg 0, as
// before issue 15's cost work: delay converted at the wheel insert, residence (transmit -
// arrival) and lateness (clamped) converted at the transmit call, three conversions. Arg 1, as
// Pipeline::RecordTransmit now: delay (departure - arrival) and signed transmit - departure
// converted, residence their sum, two conversions. Arg 2, as Pipeline::RecordTransmit now: the
// same values in clock units, no conversion (the summaries convert when read). Same histograms.
void BM_RecordFrameFromUnits(benchmark::State& state) {
  const int conversions = 3 - static_cast<int>(state.range(0));
  constexpr uint64_t kHz = 2'600'000'000;
  const TimeBase tsc = TimeBase::ForHz(kHz);
  const NsPerUnit ns_per_unit(kHz);
  struct Times {
    uint64_t arrival, departure, sent;
    uint32_t slot;
  };
  std::vector<Times> times;
  uint64_t now = uint64_t{1} << 40;
  for (const Values& v : MakeValues(2, 1 << 16)) {
    now += 100;
    const uint64_t departure = now + tsc.FromNs(v.delay);
    times.push_back({now, departure, departure + tsc.FromNs(v.lateness), v.slot});
  }
  auto histograms = std::make_unique<RuleHistograms[]>(2);
  size_t next = 0;
  for (auto _ : state) {
    const Times& t = times[next++ & (times.size() - 1)];
    RuleHistograms& h = histograms[t.slot];
    if (conversions == 0) {
      const uint64_t delay = t.departure - t.arrival;
      const int64_t late = static_cast<int64_t>(t.sent - t.departure);
      const int64_t residence = static_cast<int64_t>(delay) + late;
      h.delay.Record(delay);
      h.residence.Record(residence > 0 ? static_cast<uint64_t>(residence) : 0);
      h.lateness.Record(late > 0 ? static_cast<uint64_t>(late) : 0);
    } else if (conversions == 2) {
      const uint64_t delay = ns_per_unit.ToNs(t.departure - t.arrival);
      const int64_t late = ns_per_unit.ToNs(static_cast<int64_t>(t.sent - t.departure));
      const int64_t residence = static_cast<int64_t>(delay) + late;
      h.delay.Record(delay);
      h.residence.Record(residence > 0 ? static_cast<uint64_t>(residence) : 0);
      h.lateness.Record(late > 0 ? static_cast<uint64_t>(late) : 0);
    } else {
      h.delay.Record(ns_per_unit.ToNs(t.departure - t.arrival));
      const uint64_t late = t.sent > t.departure ? t.sent - t.departure : 0;
      const uint64_t residence = t.sent > t.arrival ? t.sent - t.arrival : 0;
      h.residence.Record(ns_per_unit.ToNs(residence));
      h.lateness.Record(ns_per_unit.ToNs(late));
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordFrameFromUnits)->Arg(0)->Arg(1)->Arg(2);

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
