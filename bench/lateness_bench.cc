// Departure lateness at a paced rate (issue 14, target 3): the live worker (Worker::Run, its own
// lcore, TSC clock) forwards workload W between two net_ring ports while the main lcore plays the
// wire: it hands the worker a burst of 32 of W's frames every 32 / rate seconds, alternating the
// sides, and takes away what the worker sent. net_pcap's infinite_rx (bench/run.sh) cannot pace a
// source, so there the worker always runs flat out and the lateness is one pass of its loop over
// full rings; here the offered rate is chosen.
//
// First the worker's maximum on this set-up: offered more than it can take (the rx rings full),
// the frames it sends per second. Then W at each asked fraction of that maximum, the lateness
// histogram the dataplane keeps (Worker::lateness, both ports) read after a warm-up and at the
// end, and their difference reported: p50, p99, p99.9 and max of transmit call - scheduled
// departure.
//
// Usage: lateness_bench [seconds per run, default 5] [fractions of the maximum, default 0.5]
//   FAULTLINE_BENCH_W_A / FAULTLINE_BENCH_W_B: workload W's frames (bench/flows_pcap.py
//   --workload-w A B); FAULTLINE_BENCH_W_PROFILE: another profile for W's frames;
//   FAULTLINE_BENCH_NO_HUGE=1: 4 KiB pages. Needs 2 lcores (-l 0,1).
// Last line: RESULT w_max_mpps=M rate_mpps=R lateness_p50_ns=A lateness_p999_ns=B (the first
// fraction's run).
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/workload_frames.h"
#include "control/profile/profile_parser.h"
#include "dataplane/fastpath/clock.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/worker.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/ports.h"

namespace faultline {
namespace {

constexpr uint16_t kBurst = 32;
constexpr unsigned kRingSize = 4096;
constexpr unsigned kPoolSize = 131071;
constexpr uint64_t kWarmUpNs = 1'000'000'000;

// Two net_ring ports (side a = port 0, b = 1) whose rings this program fills and drains.
struct Wire {
  rte_ring* rx[2];
  rte_ring* tx[2];
};

bool MakeWire(rte_mempool* pool, Wire* wire) {
  for (int side = 0; side < 2; ++side) {
    const std::string name = std::string("lateness_") + char('a' + side);
    wire->rx[side] =
        rte_ring_create((name + "_rx").c_str(), kRingSize, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    wire->tx[side] =
        rte_ring_create((name + "_tx").c_str(), kRingSize, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (wire->rx[side] == nullptr || wire->tx[side] == nullptr) return false;
    const int port = rte_eth_from_rings(name.c_str(), &wire->rx[side], 1, &wire->tx[side], 1, 0);
    std::string error;
    if (port != side || !StartPort(static_cast<uint16_t>(port), PortLayout{}, pool, &error)) {
      std::fprintf(stderr, "lateness_bench: port %d: %s\n", side, error.c_str());
      return false;
    }
  }
  return true;
}

int RunWorker(void* worker_and_stop) {
  auto* pair = static_cast<std::pair<Worker*, std::atomic<bool>*>*>(worker_and_stop);
  pair->first->Run(*pair->second);
  return 0;
}

struct Outcome {
  double offered_mpps = 0, sent_mpps = 0;
  uint64_t refused = 0;  // frames the full rx rings did not take (overload)
  uint64_t skipped = 0;  // bursts not offered after a stall of the pacing thread
  HistogramSummary lateness;
};

// One run of `seconds` at `rate_pps` (0: as fast as the rings take frames).
Outcome RunAt(double rate_pps, double seconds, const ProfileSpec& spec, rte_mempool* pool,
              const Wire& wire, const std::array<FrameList, 2>& frames) {
  const TimeBase tsc = TimeBase::Tsc();
  WorkerPlan plan;
  plan.ports = {0, 1};
  plan.time_base = tsc;
  plan.pipeline.hold_limit = 65536;
  plan.pipeline.profile = CompileProfile(spec, tsc, spec.seed.value_or(1));
  plan.pipeline.flow_idle = FlowIdleTimeout(tsc, ProfileDelayHorizonNs(spec));
  plan.pipeline.derive_port_latency = true;
  auto worker = std::make_unique<Worker>(plan, rte_rdtsc());
  std::atomic<bool> stop{false};
  std::pair<Worker*, std::atomic<bool>*> pair{worker.get(), &stop};
  const unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  rte_eal_remote_launch(RunWorker, &pair, lcore);

  Outcome outcome;
  const uint64_t start = rte_rdtsc();
  const uint64_t interval = rate_pps > 0 ? static_cast<uint64_t>(kBurst * tsc.hz / rate_pps) : 0;
  const uint64_t warm_end = start + tsc.FromNs(kWarmUpNs);
  const uint64_t end = warm_end + static_cast<uint64_t>(seconds * static_cast<double>(tsc.hz));
  uint64_t next = start, offered = 0, sent = 0, bursts = 0;
  size_t position[2] = {0, 0};
  HistogramSummary at_warm_end;
  bool warm = false;
  rte_mbuf* burst[kBurst];
  void* done[kBurst];
  for (uint64_t now = rte_rdtsc(); now < end; now = rte_rdtsc()) {
    if (!warm && now >= warm_end) {
      for (uint16_t port : {0, 1}) at_warm_end.Add(worker->lateness(port));
      offered = sent = 0;
      outcome.refused = outcome.skipped = 0;
      warm = true;
    }
    for (int side = 0; side < 2; ++side) {  // what the worker sent leaves the wire
      const unsigned n = rte_ring_dequeue_burst(wire.tx[side], done, kBurst, nullptr);
      if (n != 0) rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(done), n);
      sent += n;
    }
    if (interval != 0 && now < next) continue;
    // After a stall of this thread, go on at the rate instead of catching up: a catch-up would
    // hand the worker thousands of frames at once, all due together a delay later, and measure
    // the burst's own queueing, not the scheduling error at this rate.
    if (interval != 0 && now - next > 4 * interval) {
      outcome.skipped += (now - next) / interval;
      next = now;
    }
    const int side = static_cast<int>(bursts++ & 1);
    if (rte_pktmbuf_alloc_bulk(pool, burst, kBurst) != 0) continue;
    FillFrames(burst, kBurst, frames[side], &position[side]);
    const unsigned taken =
        rte_ring_enqueue_burst(wire.rx[side], reinterpret_cast<void**>(burst), kBurst, nullptr);
    if (taken < kBurst) rte_pktmbuf_free_bulk(burst + taken, kBurst - taken);
    offered += taken;
    outcome.refused += kBurst - taken;
    next += interval;
  }
  const double elapsed = static_cast<double>(rte_rdtsc() - warm_end) / static_cast<double>(tsc.hz);
  for (uint16_t port : {0, 1}) outcome.lateness.Add(worker->lateness(port));
  outcome.lateness.Subtract(at_warm_end);
  stop.store(true);
  rte_eal_wait_lcore(lcore);
  for (int side = 0; side < 2; ++side) {  // what is left on the wire
    void* left;
    while (rte_ring_dequeue(wire.rx[side], &left) == 0)
      rte_pktmbuf_free(static_cast<rte_mbuf*>(left));
    while (rte_ring_dequeue(wire.tx[side], &left) == 0)
      rte_pktmbuf_free(static_cast<rte_mbuf*>(left));
  }
  worker.reset();
  outcome.offered_mpps = static_cast<double>(offered) / elapsed / 1e6;
  outcome.sent_mpps = static_cast<double>(sent) / elapsed / 1e6;
  return outcome;
}

void Print(const char* label, const Outcome& outcome) {
  const HistogramSummary& l = outcome.lateness;
  std::printf(
      "%s: offered %.3f Mpps, sent %.3f Mpps, refused by full rings %lu, bursts skipped after "
      "a pacer stall %lu; lateness over %lu frames: p50 %lu p99 %lu p99.9 %lu max %lu ns\n",
      label, outcome.offered_mpps, outcome.sent_mpps, outcome.refused, outcome.skipped, l.total,
      l.Percentile(0.5), l.Percentile(0.99), l.Percentile(0.999), l.max);
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  using namespace faultline;
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
  std::vector<double> fractions;
  for (int i = 2; i < argc; ++i) fractions.push_back(std::atof(argv[i]));
  if (fractions.empty()) fractions.push_back(0.5);
  const char* no_huge = std::getenv("FAULTLINE_BENCH_NO_HUGE");
  std::vector<std::string> eal = {"--in-memory", "--no-pci",    "--no-telemetry", "-l",
                                  "0,1",         "--log-level", "lib.eal:error"};
  if (no_huge != nullptr && std::strcmp(no_huge, "0") != 0) {
    eal = OfflineEalArgs(2048);
    eal[5] = "0,1";
  }
  std::string error;
  if (!InitEal(eal, &error) || !RegisterPacketMeta(&error)) {
    std::fprintf(stderr, "lateness_bench: %s\n", error.c_str());
    return 1;
  }
  if (rte_lcore_count() < 2) {
    std::fprintf(stderr, "lateness_bench: needs two lcores\n");
    return 1;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("lateness_pool", kPoolSize, 256, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  std::optional<ProfileSpec> spec = ParseProfileFile(std::getenv("FAULTLINE_BENCH_W_PROFILE")
                                                         ? std::getenv("FAULTLINE_BENCH_W_PROFILE")
                                                         : FAULTLINE_BENCH_W_PROFILE,
                                                     &error);
  if (pool == nullptr || !spec) {
    std::fprintf(stderr, "lateness_bench: set-up failed %s\n", error.c_str());
    return 1;
  }
  const std::optional<std::array<FrameList, 2>> frames = WorkloadFrames(&error);
  Wire wire;
  if (!frames || !MakeWire(pool, &wire)) {
    std::fprintf(stderr, "lateness_bench: %s\n",
                 error.empty() ? "cannot make the ports" : error.c_str());
    return 1;
  }
  const Outcome flat_out = RunAt(0, seconds, *spec, pool, wire, *frames);
  Print("maximum (offered flat out)", flat_out);
  Outcome first;
  for (size_t i = 0; i < fractions.size(); ++i) {
    const double rate = fractions[i] * flat_out.sent_mpps * 1e6;
    const Outcome paced = RunAt(rate, seconds, *spec, pool, wire, *frames);
    const std::string label = "paced at " + std::to_string(fractions[i]) + " of the maximum";
    Print(label.c_str(), paced);
    if (i == 0) first = paced;
  }
  std::printf("RESULT w_max_mpps=%.3f rate_mpps=%.3f lateness_p50_ns=%lu lateness_p999_ns=%lu\n",
              flat_out.sent_mpps, first.offered_mpps, first.lateness.Percentile(0.5),
              first.lateness.Percentile(0.999));
  return 0;
}
