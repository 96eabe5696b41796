// Packets per second of the whole per-lcore pipeline (parse, classify, flow state, models, timing
// wheel, release), without devices: what one worker can process when rx and tx cost nothing.
//
// Traffic: 64-byte IPv4/UDP frames of 1024 flows (round robin), bursts of 32 alternating
// between port 0 and port 1, on a virtual TSC clock advancing at 14.88 Mpps per direction
// (10 GbE line rate both ways: 29.76 Mpps in all). Each iteration is one burst: Ingest at the
// burst's time, Advance to it, pop every ready frame. Popped frames are recycled as they are (a
// LIFO stack, like the mempool cache a PMD allocates from); frames the pipeline drops go back to
// the pool and new ones are allocated and written from the flow templates when the stack runs
// short, so the pool never runs dry. Timing starts once the pipeline is in steady state (5 ms of
// traffic, several times the longest delay: ~30k frames in flight at 1 ms).
//
// Cases: pass-through (no profile, no delay), constant 1 ms delay (no profile: the `--delay`
// fast path), the same delay as a one-rule profile (parse + classify, no flow state), and the
// full profile of profiles/bench-full-pipeline.yaml (1 ms + 100 us normal jitter with per-flow
// order keeping, 1% Gilbert-Elliott loss, 0.1% duplication).
//
// EAL: 2 MiB hugepages (--in-memory) when hugetlbfs is mounted with enough free pages (bench/
// mpps.sh reserves them), else 4 KiB pages (--no-huge -m 2048). FAULTLINE_BENCH_NO_HUGE=1 forces
// the latter; FAULTLINE_BENCH_LCORE picks the lcore (default 1 on a multi-core machine);
// FAULTLINE_BENCH_PROFILE overrides the profile path, FAULTLINE_BENCH_FLOW_CAPACITY the flow
// table size of the profile cases (default 65536, as live), and FAULTLINE_BENCH_SHUFFLE=1 starts
// from frames in random address order (see bench/RESULTS.md: the constant-delay cases are fast
// partly because their mbufs cycle in an order the hardware prefetcher can follow).
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload_frames.h"
#include "control/profile/profile_parser.h"
#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/stage_timing.h"
#include "dataplane/reporting/stats.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/frame_record_writer.h"

#ifndef FAULTLINE_BENCH_W_PROFILE
#define FAULTLINE_BENCH_W_PROFILE "profiles/workload-w.yaml"
#endif
#ifndef FAULTLINE_BENCH_PROFILE
#define FAULTLINE_BENCH_PROFILE "profiles/bench-full-pipeline.yaml"
#endif

namespace faultline {
namespace {

constexpr uint32_t kFlows = 1024;
constexpr uint16_t kBurst = 32;
constexpr uint16_t kFrameLength = 64;
constexpr uint64_t kLineRatePps = 14'880'952;  // per direction
constexpr uint32_t kPoolSize = 131071;
constexpr uint32_t kPrebuilt = 48 * 1024;  // more than the most frames in flight (~42k at 1.4 ms)
constexpr uint64_t kWarmUpNs = 5'000'000;
constexpr uint64_t kHoldLimit = 64 * 1024;  // the live default for delays up to ~2 ms

rte_mempool* g_pool = nullptr;
TimeBase g_time_base;
std::optional<ProfileSpec> g_profile;
std::string g_profile_error;
std::optional<ProfileSpec> g_workload;  // profiles/workload-w.yaml (FAULTLINE_BENCH_W_PROFILE)
std::string g_workload_error;

// The built-in frames: flow f is 10.0.(f / 256).(f % 256):(1024 + f) -> 10.1.0.1:5000 over UDP.
FrameList BuiltInFrames() {
  FrameList frames;
  for (uint32_t flow = 0; flow < kFlows; ++flow) {
    std::vector<uint8_t> data(kFrameLength, 0);
    const uint16_t src_port = static_cast<uint16_t>(1024 + flow);
    // clang-format off
    const uint8_t header[] = {
        0x02, 0, 0, 0, 0, 0xbb, 0x02, 0, 0, 0, 0, 0xaa, 0x08, 0x00,          // Ethernet
        0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0,                            // IPv4, 50 bytes
        10, 0, static_cast<uint8_t>(flow >> 8), static_cast<uint8_t>(flow),  // source
        10, 1, 0, 1,                                                         // destination
        static_cast<uint8_t>(src_port >> 8), static_cast<uint8_t>(src_port),  // UDP, no checksum
        0x13, 0x88, 0, 30, 0, 0};
    // clang-format on
    std::memcpy(data.data(), header, sizeof(header));
    auto* ip = reinterpret_cast<rte_ipv4_hdr*>(data.data() + 14);
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    frames.push_back(std::move(data));
  }
  return frames;
}

std::array<FrameList, 2> g_built_in;
std::optional<std::array<FrameList, 2>> g_w_frames;

// Where bursts come from and where released frames go: a LIFO stack of ready-made frames.
class FrameSource {
 public:
  FrameSource(rte_mempool* pool, const FrameList* frames) : pool_(pool), frames_(frames) {
    stack_.reserve(kPoolSize);
    Refill(kPrebuilt / 2);
    // FAULTLINE_BENCH_SHUFFLE=1: start from frames in random address order (the hardware
    // prefetcher can then not follow a steady cycle of mbufs).
    const char* shuffle = std::getenv("FAULTLINE_BENCH_SHUFFLE");
    if (shuffle != nullptr && std::strcmp(shuffle, "0") != 0) {
      std::shuffle(stack_.begin(), stack_.end(), std::mt19937_64(1));
    }
  }
  ~FrameSource() {
    if (!stack_.empty()) rte_pktmbuf_free_bulk(stack_.data(), static_cast<unsigned>(stack_.size()));
  }
  FrameSource(const FrameSource&) = delete;
  FrameSource& operator=(const FrameSource&) = delete;

  void Take(rte_mbuf** burst) {
    if (stack_.size() < kBurst) Refill(4 * kBurst);
    const size_t top = stack_.size() - kBurst;
    std::memcpy(burst, stack_.data() + top, kBurst * sizeof(rte_mbuf*));
    stack_.resize(top);
  }
  void Give(rte_mbuf* packet) { stack_.push_back(packet); }

 private:
  void Refill(uint32_t count) {
    std::vector<rte_mbuf*> fresh(count);
    if (rte_pktmbuf_alloc_bulk(pool_, fresh.data(), count) != 0) {
      std::fprintf(stderr, "pipeline_bench: the pool ran dry\n");
      std::abort();
    }
    FillFrames(fresh.data(), count, *frames_, &next_frame_);
    stack_.insert(stack_.end(), fresh.begin(), fresh.end());
  }
  rte_mempool* pool_;
  const FrameList* frames_;
  std::vector<rte_mbuf*> stack_;
  size_t next_frame_ = 0;
};

// Drives one pipeline: burst k arrives at start + k * 32 / (2 * line rate) on port k % 2, from
// that port's frames; a released frame goes back to the port it came in on.
class Driver {
 public:
  Driver(const PipelineConfig& config, rte_mempool* pool, const std::array<FrameList, 2>& frames)
      : start_(uint64_t{1} << 40),
        sources_{{{pool, &frames[0]}, {pool, &frames[1]}}},
        pipeline_(config, g_time_base.wheel_tick_shift, start_) {}

  void Step() {
    rte_mbuf* burst[kBurst];
    const uint16_t port = static_cast<uint16_t>(bursts_ & 1);
    sources_[port].Take(burst);
    const uint64_t now = Now();
    pipeline_.Ingest(port, burst, kBurst, now);
    FL_STAGE_START(release_start);
    pipeline_.Advance(now);
    FL_STAGE_STOP(Stage::kRelease, release_start);
    FL_STAGE_START(tx_start);           // the bench's TX: pop and recycle (no device)
    for (uint16_t out_port : {0, 1}) {  // express lanes first, as Worker::TransmitReady
      pipeline_.TransmitLane(
          out_port, now,
          [this, out_port](rte_mbuf** frames, uint32_t n) {
            for (uint32_t i = 0; i < n; ++i) sources_[out_port ^ 1].Give(frames[i]);
            released_ += n;
            return n;
          },
          [now] { return now; });
    }
    FrameRecorder* recorder = pipeline_.recorder();
    for (;;) {
      rte_mbuf* sent[kBurst];
      uint16_t count = 0;
      while (count < kBurst && (sent[count] = pipeline_.PopReady()) != nullptr) ++count;
      if (count == 0) break;
      for (uint16_t i = 0; i < count; ++i) {
        rte_mbuf* packet = sent[i];
        const PacketMeta* meta = Meta(packet);
        if (recorder != nullptr) recorder->Transmitted(packet, now);  // as TxQueue::Flush does
        pipeline_.RecordTransmitAt(*meta, now);  // as Worker::TransmitReady does
        sources_[meta->out_port ^ 1].Give(packet);
        ++released_;
      }
    }
    if (recorder != nullptr) recorder->Flush();  // as Worker::Poll does
    FL_STAGE_STOP(Stage::kTx, tx_start);
    ++bursts_;
  }
  uint64_t Now() const {
    const unsigned __int128 packets = static_cast<unsigned __int128>(bursts_) * kBurst;
    return start_ + static_cast<uint64_t>(packets * g_time_base.hz / (2 * kLineRatePps));
  }
  uint64_t ElapsedNs() const { return g_time_base.ToNs(Now() - start_); }
  Pipeline& pipeline() { return pipeline_; }
  uint64_t bursts() const { return bursts_; }
  uint64_t released() const { return released_; }

 private:
  const uint64_t start_;
  std::array<FrameSource, 2> sources_;
  Pipeline pipeline_;
  uint64_t bursts_ = 0;
  uint64_t released_ = 0;
};

uint64_t TotalDropped(const PipelineCounters& counters) {
  uint64_t dropped = 0;
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    dropped += counters.Dropped(static_cast<DropCause>(cause));
  }
  return dropped;
}

#ifdef FAULTLINE_STAGE_TIMING
// Cycles per frame of each stage over the timed bursts, less the cost of the timing itself (an
// empty start/stop pair, measured here, once per timed call; the wheel inserts' pairs run inside
// the models' window and are taken off it too).
void ReportStages(benchmark::State& state, const StageCycles& before, double packets) {
  constexpr int kPairs = 100000;
  StageCycles probe = g_stage_cycles;
  for (int i = 0; i < kPairs; ++i) {
    FL_STAGE_START(t);
    FL_STAGE_STOP(Stage::kCount, t);  // the spare slot past the stages
  }
  const double pair = static_cast<double>(g_stage_cycles.cycles[static_cast<int>(Stage::kCount)] -
                                          probe.cycles[static_cast<int>(Stage::kCount)]) /
                      kPairs;
  auto net = [&](Stage stage) {
    const int i = static_cast<int>(stage);
    return static_cast<double>(probe.cycles[i] - before.cycles[i]) -
           pair * static_cast<double>(probe.calls[i] - before.calls[i]);
  };
  const double insert = net(Stage::kWheelInsert);
  const char* names[] = {"c_parse", "c_classify", "c_models", "c_insert", "c_release", "c_tx"};
  for (int i = 0; i < static_cast<int>(Stage::kCount); ++i) {
    double cycles = net(static_cast<Stage>(i));
    if (static_cast<Stage>(i) == Stage::kModels) cycles -= insert;
    state.counters[names[i]] = cycles / packets;
  }
  state.counters["c_timer_pair"] = pair;
}
#endif

void RunPipeline(benchmark::State& state, const PipelineConfig& config,
                 const std::array<FrameList, 2>& frames, rte_mempool* pool = g_pool,
                 uint64_t warm_up_ns = kWarmUpNs, FrameRecorder* recorder = nullptr) {
  Driver driver(config, pool, frames);
  driver.pipeline().set_recorder(recorder);
  while (driver.ElapsedNs() < warm_up_ns) driver.Step();
  const uint64_t bursts_before = driver.bursts(), released_before = driver.released();
  const uint64_t dropped_before = TotalDropped(driver.pipeline().counters());
#ifdef FAULTLINE_STAGE_TIMING
  const StageCycles stages_before = g_stage_cycles;
#endif
  for (auto _ : state) driver.Step();
  const double packets = static_cast<double>((driver.bursts() - bursts_before) * kBurst);
#ifdef FAULTLINE_STAGE_TIMING
  ReportStages(state, stages_before, packets);
#endif
  state.SetItemsProcessed(static_cast<int64_t>(packets));
  state.counters["ns_per_pkt"] =
      benchmark::Counter(packets, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["in_flight"] = static_cast<double>(driver.pipeline().held());
  state.counters["out_per_in"] = static_cast<double>(driver.released() - released_before) / packets;
  state.counters["drop_per_in"] =
      static_cast<double>(TotalDropped(driver.pipeline().counters()) - dropped_before) / packets;
  if (const FlowTable* flows = driver.pipeline().flows()) {
    state.counters["flows"] = static_cast<double>(flows->size());
  }
  const PipelineCounters& counters = driver.pipeline().counters();
  if (recorder != nullptr) {
    state.counters["record_lost_per_in"] = static_cast<double>(counters.record_lost.Get()) /
                                           static_cast<double>(driver.bursts() * kBurst);
  }
  if (TotalDropped(counters) !=
      counters.Dropped(DropCause::kLoss) + counters.Dropped(DropCause::kPartition)) {
    state.SkipWithError("frames dropped for another cause than loss or a partition (hold limit?)");
  }
}

// The pipeline of `spec` drawing from `seed`, as live with one port pair, on the bench's clock:
// at most `hold` frames held, the latency histograms on or off (`measure`).
PipelineConfig ProfileConfig(const ProfileSpec& spec, uint64_t seed, uint64_t hold, bool measure) {
  return PipelineConfig{.hold_limit = hold,
                        .profile = CompileProfile(spec, g_time_base, seed),
                        .flow_idle = FlowIdleTimeout(g_time_base, ProfileDelayHorizonNs(spec)),
                        .measure_latency = measure,
                        .derive_port_latency = true,
                        .clock_hz = g_time_base.hz};
}

void BM_PassThrough(benchmark::State& state) {
  RunPipeline(state, {.delay = 0, .hold_limit = kHoldLimit}, g_built_in);
}

void BM_ConstantDelay1ms(benchmark::State& state) {
  RunPipeline(state, {.delay = g_time_base.FromNs(1'000'000), .hold_limit = kHoldLimit},
              g_built_in);
}

// The same 1 ms through a one-rule profile (what `--delay` compiles to with a profile): adds the
// parse, the classification and the per-rule counters, but no flow state.
void BM_ProfileConstantDelay1ms(benchmark::State& state) {
  RunPipeline(state,
              {.hold_limit = kHoldLimit,
               .profile = CompileProfile(ConstantDelayProfile(1'000'000), g_time_base, 1),
               .flow_idle = FlowIdleTimeout(g_time_base, 1'000'000)},
              g_built_in);
}

// A profile whose every frame takes one route, as `faultline run` without a profile (arg 0: the
// empty profile, pass-through) or with `--delay 1ms` (arg 1000: one rule, constant delay), with
// express lanes (`lanes` 1, as a live worker) or through the parser and the wheel (0).
void BM_Express(benchmark::State& state) {
  const bool lanes = state.range(0) != 0;
  const uint64_t delay_ns = static_cast<uint64_t>(state.range(1)) * 1000;
  const ProfileSpec spec = delay_ns != 0 ? ConstantDelayProfile(delay_ns) : ProfileSpec{};
  PipelineConfig config = ProfileConfig(spec, 1, kHoldLimit, /*measure=*/true);
  config.express_ports = lanes ? 2 : 0;
  RunPipeline(state, config, g_built_in);
}

// `measure`: the latency histograms on (as live) or off (PipelineConfig::measure_latency), to
// measure what they cost in one run.
void FullProfile(benchmark::State& state, bool measure) {
  if (!g_profile) {
    state.SkipWithError(g_profile_error.c_str());
    for (auto _ : state) {
    }
    return;
  }
  bool drawn = false;
  const uint64_t seed = ResolveSeed(std::nullopt, *g_profile, &drawn);
  PipelineConfig config = ProfileConfig(*g_profile, seed, kHoldLimit, measure);
  if (const char* capacity = std::getenv("FAULTLINE_BENCH_FLOW_CAPACITY")) {
    config.flow_capacity = static_cast<uint32_t>(std::strtoul(capacity, nullptr, 10));
  }
  if (state.range(0) == 0) {
    RunPipeline(state, config, g_built_in);
    return;
  }
  // --record: the records go through a live (lossy) ring to the writer thread and /dev/null (or
  // FAULTLINE_BENCH_RECORD); record_lost says whether the writer kept up.
  const char* path = std::getenv("FAULTLINE_BENCH_RECORD");
  std::string error;
  auto writer = FrameRecordWriter::Open(path ? path : "/dev/null",
                                        RecordHeaderNow(config.profile.get(), false),
                                        {.base = g_time_base}, 1, /*lossless=*/false, &error);
  if (writer == nullptr) {
    state.SkipWithError(error.c_str());
    for (auto _ : state) {
    }
    return;
  }
  writer->Start();
  RunPipeline(state, config, g_built_in, g_pool, kWarmUpNs, writer->recorder(0));
  writer->Finish();
}
void BM_FullProfile(benchmark::State& state) { FullProfile(state, true); }
void BM_FullProfileNoHistograms(benchmark::State& state) { FullProfile(state, false); }

// Workload W (profiles/workload-w.yaml on its own frames) with its delay (and jitter, a tenth
// of it) set to `state.range(0)` us: 34 us holds ~1k frames, 1000 us (W itself) ~30k, 34 ms ~1M
// (on a pool of small mbufs of its own: 2 KiB ones would need 2.4 GB).
void WorkloadW(benchmark::State& state, bool measure) {
  if (!g_workload || !g_w_frames) {
    state.SkipWithError((g_workload ? g_workload_error : std::string("workload W")).c_str());
    for (auto _ : state) {
    }
    return;
  }
  ProfileSpec spec = *g_workload;
  const uint64_t delay_ns = static_cast<uint64_t>(state.range(0)) * 1000;
  for (ImpairmentSpec& impairment : spec.impairments) {
    if (!impairment.delay) continue;
    impairment.delay->base_ns = delay_ns;
    impairment.delay->jitter_ns = delay_ns / 10;
  }
  const uint64_t in_flight = delay_ns * 2 * kLineRatePps / 1'000'000'000;
  const uint64_t hold = std::max<uint64_t>(kHoldLimit, in_flight * 3 / 2);
  rte_mempool* pool = g_pool;
  if (hold > kHoldLimit) {
    pool = rte_pktmbuf_pool_create("bench_big_pool", static_cast<unsigned>(hold + kPrebuilt), 256,
                                   0, RTE_PKTMBUF_HEADROOM + 128, rte_socket_id());
    if (pool == nullptr) {
      state.SkipWithError("cannot allocate the mbufs of this many frames in flight");
      for (auto _ : state) {
      }
      return;
    }
  }
  {
    RunPipeline(state, ProfileConfig(spec, *spec.seed, hold, measure), *g_w_frames, pool,
                std::max(kWarmUpNs, 3 * delay_ns));
  }
  if (pool != g_pool) rte_mempool_free(pool);
}
void BM_WorkloadW(benchmark::State& state) { WorkloadW(state, true); }
void BM_WorkloadWNoHistograms(benchmark::State& state) { WorkloadW(state, false); }

// Histograms on and off in one run, interleaved finely: two pipelines with the same profile, seed
// and frames, one measuring latency and one not, driven in turns of kTurnBursts bursts (~1.6 ms of
// CPU) and each turn timed with the TSC; one iteration is a pair of turns, their order alternating.
// The host's neighbours slow both turns of a pair alike, so the median of the pairs' ratios is the
// histograms' cost (whole runs compared across minutes here moved by 20-40%). Both pipelines
// must release the same frames (the histograms change no decision), or the comparison is void.
// Arg: 0 the full profile, 1 Workload W at 1 ms.
void BM_HistogramCostPaired(benchmark::State& state) {
  constexpr int kTurnBursts = 256;
  std::optional<PipelineConfig> configs[2];  // [0]: histograms on, [1]: off
  for (int off = 0; off < 2; ++off) {
    const bool measure = off == 0;
    if (state.range(0) == 0 && g_profile) {
      configs[off] = ProfileConfig(*g_profile, 1, kHoldLimit, measure);
    } else if (state.range(0) == 1 && g_workload && g_w_frames) {
      configs[off] = ProfileConfig(*g_workload, *g_workload->seed, kHoldLimit, measure);
    }
  }
  if (!configs[0]) {
    state.SkipWithError("no profile (full profile or workload W: see the other benchmarks)");
    for (auto _ : state) {
    }
    return;
  }
  const std::array<FrameList, 2>& frames = state.range(0) == 0 ? g_built_in : *g_w_frames;
  Driver with(*configs[0], g_pool, frames), without(*configs[1], g_pool, frames);
  while (with.ElapsedNs() < kWarmUpNs) with.Step();
  while (without.ElapsedNs() < kWarmUpNs) without.Step();
  auto turn = [](Driver& driver) {
    const uint64_t start = rte_rdtsc();
    for (int i = 0; i < kTurnBursts; ++i) driver.Step();
    return rte_rdtsc() - start;
  };
  // FAULTLINE_BENCH_SERIES_MS=N: another thread reads the histograms pipeline's statistics
  // every N ms as the series and `stats` do (every rule's and port's histograms summarised), to
  // measure what that reading costs the worker (cache lines it takes away).
  std::atomic<bool> reading{true};
  std::thread reader;
  if (const char* series_ms = std::getenv("FAULTLINE_BENCH_SERIES_MS")) {
    const auto period = std::chrono::milliseconds(std::strtoul(series_ms, nullptr, 10));
    const int bench_cpu = sched_getcpu();
    reader = std::thread([&, period, bench_cpu] {
      // On another CPU than the bench's (it inherited the lcore's), as the control thread is.
      cpu_set_t others;
      CPU_ZERO(&others);
      for (int cpu = 0; cpu < CPU_SETSIZE && cpu < sysconf(_SC_NPROCESSORS_ONLN); ++cpu) {
        if (cpu != bench_cpu) CPU_SET(cpu, &others);
      }
      if (CPU_COUNT(&others) > 0) pthread_setaffinity_np(pthread_self(), sizeof(others), &others);
      const std::vector<const Pipeline*> pipelines = {&with.pipeline()};
      while (reading.load()) {
        StatsReport report = Summarize({&with.pipeline().counters()}, 2);
        SummarizeRules(pipelines, *configs[0]->profile, &report);
        SummarizeLatency(pipelines, &report);
        benchmark::DoNotOptimize(report);
        std::this_thread::sleep_for(period);
      }
    });
  }
  std::vector<double> ratios;
  uint64_t cycles[2] = {0, 0};
  for (auto _ : state) {
    const bool on_first = ratios.size() % 2 == 0;
    const uint64_t first = turn(on_first ? with : without);
    const uint64_t second = turn(on_first ? without : with);
    const uint64_t on = on_first ? first : second, off = on_first ? second : first;
    cycles[0] += on;
    cycles[1] += off;
    ratios.push_back(static_cast<double>(on) / static_cast<double>(off));
  }
  reading.store(false);
  if (reader.joinable()) reader.join();
  if (with.released() != without.released() ||
      TotalDropped(with.pipeline().counters()) != TotalDropped(without.pipeline().counters())) {
    state.SkipWithError("the two pipelines did different work: the comparison is void");
  }
  std::nth_element(ratios.begin(), ratios.begin() + ratios.size() / 2, ratios.end());
  const double frames_per_side = static_cast<double>(state.iterations()) * kTurnBursts * kBurst;
  const double ns_per_cycle = 1e9 / static_cast<double>(rte_get_tsc_hz());
  state.counters["cost_pct"] = (ratios[ratios.size() / 2] - 1) * 100;
  state.counters["on_ns"] = static_cast<double>(cycles[0]) * ns_per_cycle / frames_per_side;
  state.counters["off_ns"] = static_cast<double>(cycles[1]) * ns_per_cycle / frames_per_side;
  state.SetItemsProcessed(static_cast<int64_t>(2 * frames_per_side));
}

// What a live `apply` compiles on the control thread (bench, not the worker): W again with its
// first rule's match changed (range 0: nothing, the classifier is shared; 1: a port, the groups
// and their LPM tables are shared; 2: a group's prefix, every table is rebuilt).
void BM_CompileApply(benchmark::State& state) {
  if (!g_workload) {
    state.SkipWithError(g_workload_error.c_str());
    for (auto _ : state) {
    }
    return;
  }
  RuleIdentities identities;
  const auto running = CompileProfile(*g_workload, g_time_base, 1, {.identities = &identities});
  ProfileSpec next = *g_workload;
  MatchSpec& match = next.rules[0].match;
  if (state.range(0) == 1) {
    match.has_dst_port = true;
    match.dst_port_min = match.dst_port_max = 443;
  } else if (state.range(0) == 2) {
    match.src.prefixes[0].length = 17;
  }
  for (auto _ : state) {
    auto compiled = CompileProfile(next, g_time_base, 1,
                                   {.identities = &identities, .previous = running.get()});
    benchmark::DoNotOptimize(compiled.get());
  }
}

// One iteration is a burst of 32 frames; 100k bursts = 3.2M frames (~108 ms of traffic).
BENCHMARK(BM_PassThrough)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ConstantDelay1ms)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProfileConstantDelay1ms)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Express)
    ->ArgsProduct({{0, 1}, {0, 1000}})
    ->Iterations(100'000)
    ->Unit(benchmark::kMicrosecond);
// Arg: --record off (0) or on (1), in the same run.
BENCHMARK(BM_FullProfile)->Arg(0)->Arg(1)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WorkloadW)
    ->Arg(34)
    ->Arg(1000)
    ->Arg(34000)
    ->Iterations(100'000)
    ->Unit(benchmark::kMicrosecond);
// Histograms off (PipelineConfig::measure_latency): their cost, in the same run as the above
// (recording off: Arg 0).
BENCHMARK(BM_FullProfileNoHistograms)->Arg(0)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WorkloadWNoHistograms)->Arg(1000)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_HistogramCostPaired)->Arg(0)->Arg(1)->Iterations(300)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CompileApply)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

bool HugepagesUsable(unsigned needed_pages) {
  const char* no_huge = std::getenv("FAULTLINE_BENCH_NO_HUGE");
  if (no_huge != nullptr && std::strcmp(no_huge, "0") != 0) return false;
  std::ifstream mounts("/proc/mounts");
  bool mounted = false;
  for (std::string line; std::getline(mounts, line);) {
    if (line.find(" hugetlbfs ") != std::string::npos) mounted = true;
  }
  std::ifstream free_file("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
  unsigned free_pages = 0;
  free_file >> free_pages;
  return mounted && free_pages >= needed_pages;
}

bool InitBenchEal(std::string* memory) {
  const char* lcore_env = std::getenv("FAULTLINE_BENCH_LCORE");
  const std::string lcore = lcore_env ? lcore_env : (sysconf(_SC_NPROCESSORS_ONLN) > 1 ? "1" : "0");
  std::vector<std::string> args;
  // The pool is ~320 MiB (2432-byte mbufs): 256 pages with room for EAL's own allocations.
  if (HugepagesUsable(256)) {
    args = {"--in-memory", "--no-pci",    "--no-telemetry", "-l",
            lcore,         "--log-level", "lib.eal:error"};
    *memory = "2 MiB hugepages (--in-memory), lcore " + lcore;
  } else {
    args = OfflineEalArgs(2048);
    args[5] = lcore;  // "-l", "0" -> this lcore
    *memory = "4 KiB pages (--no-huge -m 2048), lcore " + lcore;
  }
  std::string error;
  if (!InitEal(args, &error)) {
    std::fprintf(stderr, "pipeline_bench: %s\n", error.c_str());
    return false;
  }
  g_pool = rte_pktmbuf_pool_create("bench_pool", kPoolSize, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                   rte_socket_id());
  if (g_pool == nullptr) {
    std::fprintf(stderr, "pipeline_bench: cannot allocate %u mbufs\n", kPoolSize);
    return false;
  }
  if (!RegisterPacketMeta(&error)) {
    std::fprintf(stderr, "pipeline_bench: %s\n", error.c_str());
    return false;
  }
  g_time_base = TimeBase::Tsc();
  return true;
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string memory;
  if (!faultline::InitBenchEal(&memory)) return 1;
  const char* profile_env = std::getenv("FAULTLINE_BENCH_PROFILE");
  const std::string profile_path = profile_env ? profile_env : FAULTLINE_BENCH_PROFILE;
  faultline::g_profile = faultline::ParseProfileFile(profile_path, &faultline::g_profile_error);
  const char* workload_env = std::getenv("FAULTLINE_BENCH_W_PROFILE");
  faultline::g_workload = faultline::ParseProfileFile(
      workload_env ? workload_env : FAULTLINE_BENCH_W_PROFILE, &faultline::g_workload_error);
  faultline::g_built_in = {faultline::BuiltInFrames(), faultline::BuiltInFrames()};
  std::string frames_error;
  faultline::g_w_frames = faultline::WorkloadFrames(&frames_error);
  if (!faultline::g_w_frames && faultline::g_workload) faultline::g_workload_error = frames_error;
  benchmark::AddCustomContext("eal_memory", memory);
  benchmark::AddCustomContext("profile", profile_path);
  benchmark::AddCustomContext("clock", std::to_string(faultline::g_time_base.hz) +
                                           " Hz TSC, wheel tick " +
                                           std::to_string(faultline::g_time_base.TickNs()) + " ns");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_mempool_free(faultline::g_pool);
  rte_eal_cleanup();
  return 0;
}
