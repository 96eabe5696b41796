#include "dataplane/live_run.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "dataplane/clock.h"
#include "dataplane/compiled_profile.h"
#include "dataplane/eal.h"
#include "dataplane/output_paths.h"
#include "dataplane/packet_meta.h"
#include "dataplane/ports.h"
#include "dataplane/snapshot_channel.h"
#include "dataplane/stats.h"
#include "dataplane/worker.h"

namespace faultline {
namespace {

std::atomic<bool> g_stop{false};

// Per-flow displacement ring of a live run: a later profile may bound reordering up to
// max-displacement 14 (8 bytes x 16 per flow, 8 MiB per worker at 64Ki flows).
constexpr uint32_t kLiveDisplacementRing = 16;

void OnStopSignal(int) { g_stop.store(true); }

struct LaunchedWorker {
  std::unique_ptr<Worker> worker;
  unsigned lcore = 0;
};

// Sets the calling thread's CPU set to the online CPUs no EAL lcore runs on; false (nothing
// changed) if the lcores cover them all.
bool MoveToControlCpus() {
  cpu_set_t control;
  CPU_ZERO(&control);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  for (long cpu = 0; cpu < online && cpu < CPU_SETSIZE; ++cpu) CPU_SET(cpu, &control);
  unsigned lcore = 0;
  RTE_LCORE_FOREACH(lcore) {
    const rte_cpuset_t cpus = rte_lcore_cpuset(lcore);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &cpus)) CPU_CLR(cpu, &control);
    }
  }
  if (CPU_COUNT(&control) == 0) return false;
  return pthread_setaffinity_np(pthread_self(), sizeof(control), &control) == 0;
}

int WorkerMain(void* arg) {
  static_cast<Worker*>(arg)->Run(g_stop);
  return 0;
}

}  // namespace

uint64_t DefaultHold(uint64_t delay_ns) {
  constexpr uint64_t kLineRatePps = 2 * 14'880'952;
  const uint64_t in_flight = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(kLineRatePps) * delay_ns) / 1'000'000'000);
  return std::clamp<uint64_t>(in_flight, 64 * 1024, 1024 * 1024);
}

int RunLive(const RunOptions& options) {
  // An hour of statistics must not be lost to an output path found wrong only at the end.
  const std::string problem = CheckOutputPaths({{"--profile", options.profile_path}},
                                               {{"--stats-json", options.stats_json}});
  if (!problem.empty()) {
    std::fprintf(stderr, "faultline run: %s\n", problem.c_str());
    return 2;
  }
  std::string error;
  if (!InitEal(WithHugepageHygiene(options.eal_args), &error)) {
    std::fprintf(stderr, "faultline run: %s (the EAL arguments after --)\n%s", error.c_str(),
                 ExplainEalStart(options.eal_args, ReadEalHost(), options.command, -1).c_str());
    return 2;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  int status = 0;
  auto fail = [&](int code, const std::string& message) {
    std::fprintf(stderr, "faultline run: %s%s", message.c_str(),
                 message.ends_with('\n') ? "" : "\n");
    status = code;
  };

  const uint16_t port_count = std::min<uint16_t>(rte_eth_dev_count_avail(), kMaxPorts);
  const unsigned worker_lcores = rte_lcore_count() - 1;
  // A single worker may share the main lcore, so one core (-l N) is enough for a test bed.
  const bool worker_on_main = options.workers == 1 && worker_lcores == 0;
  rte_mempool* pool = nullptr;
  std::vector<uint16_t> ports;
  std::vector<LaunchedWorker> workers;
  std::vector<std::unique_ptr<SnapshotChannel>> channels;  // one per worker
  std::unique_ptr<SnapshotPublisher> publisher;
  const ProfileSpec profile = StartingProfile(options.profile, options.delay_ns);
  const uint64_t horizon_ns = ProfileDelayHorizonNs(profile);
  const uint64_t hold = options.hold ? options.hold : DefaultHold(horizon_ns);
  PortLayout layout;
  layout.queues = static_cast<uint16_t>(options.workers);

  if (port_count < 2 || port_count % 2 != 0) {
    fail(2,
         "need an even number of ports, at least 2 (side a = port 0, side b = port 1); DPDK "
         "found " +
             std::to_string(port_count) + ". Add devices with --vdev or -a.\n" +
             ExplainEalStart(options.eal_args, ReadEalHost(), options.command, port_count));
  } else if (options.workers == 0 || (!worker_on_main && options.workers > worker_lcores)) {
    fail(2, std::to_string(options.workers) +
                " worker(s) need as many lcores besides the main "
                "one; EAL has " +
                std::to_string(rte_lcore_count()) + " (use -l)");
  }
  for (uint16_t port = 0; status == 0 && port < port_count; ++port) ports.push_back(port);

  if (status == 0) {
    const uint64_t descriptors =
        uint64_t{port_count} * layout.queues * (layout.rx_descriptors + layout.tx_descriptors);
    const uint64_t in_tx_buffers = uint64_t{options.workers} * port_count * TxQueue::kCapacity;
    const uint64_t per_lcore_cache = 256;
    const uint32_t pool_size = static_cast<uint32_t>(
        hold + descriptors + in_tx_buffers + per_lcore_cache * rte_lcore_count() + kBurstSize);
    pool = rte_pktmbuf_pool_create("faultline_pool", pool_size, per_lcore_cache, 0,
                                   RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (pool == nullptr) {
      fail(1, "cannot allocate " + std::to_string(pool_size) + " mbufs (about " +
                  std::to_string(uint64_t{pool_size} * 2432 >> 20) +
                  " MiB with hugepages, 4 KiB each with --no-huge): give EAL more memory (-m, "
                  "hugepages) or hold fewer packets (--hold)");
    }
  }
  if (status == 0 && !RegisterPacketMeta(&error)) fail(1, error);
  std::vector<uint16_t> started;
  for (uint16_t port : ports) {
    if (status != 0) break;
    if (!StartPort(port, layout, pool, &error)) {
      fail(1, error);
    } else {
      started.push_back(port);
    }
  }

  const TimeBase time_base = TimeBase::Tsc();
  // The statistics count from here, or from the last reset (the control thread's).
  auto since = std::chrono::steady_clock::now();
  uint64_t resets = 0;
  RuleIdentities identities;
  // The statistics document from the workers' counters (single-writer atomics: any thread may
  // read them while the workers run). Live, the rules are those of the snapshot last handed out.
  auto live_stats = [&](bool at_stop) {
    std::vector<const PipelineCounters*> counters;
    std::vector<const Pipeline*> pipelines;
    uint64_t held = 0;
    for (const LaunchedWorker& launched : workers) {
      counters.push_back(&launched.worker->pipeline().counters());
      pipelines.push_back(&launched.worker->pipeline());
      if (at_stop) held += launched.worker->held_at_stop();
    }
    StatsReport report = Summarize(counters, port_count);
    if (at_stop || publisher == nullptr) {
      SummarizeRules(pipelines, &report);
    } else {
      SummarizeRules(pipelines, *publisher->installed(), &report);
    }
    report.held = held;
    report.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - since)
                            .count();
    report.resets = resets;
    for (PortReport& port : report.ports) {
      rte_eth_stats device;
      if (rte_eth_stats_get(port.port, &device) == 0) {
        port.has_device = true;
        port.device_ipackets = device.ipackets;
        port.device_opackets = device.opackets;
        port.device_imissed = device.imissed;
        port.device_ierrors = device.ierrors;
        port.device_oerrors = device.oerrors;
        port.device_rx_nombuf = device.rx_nombuf;
      }
    }
    if (at_stop && options.final_trace_report) report.trace = options.final_trace_report();
    return report;
  };
  LiveDataplane dataplane;
  if (status == 0) {
    WorkerPlan plan;
    plan.ports = ports;
    plan.time_base = time_base;
    bool seed_drawn = false;
    const uint64_t seed = ResolveSeed(options.seed, profile, &seed_drawn);
    try {
      plan.pipeline.profile =
          CompileProfile(profile, time_base, seed, CompileOptions{.identities = &identities});
    } catch (const std::exception& failure) {
      fail(1, failure.what());
    }
    plan.pipeline.hold_limit = hold / options.workers;
    plan.pipeline.flow_idle = FlowIdleTimeout(time_base, horizon_ns);
    // Room for a later profile's reorder bound (up to max-displacement 14) without a restart.
    plan.pipeline.min_displacement_ring = kLiveDisplacementRing;
    plan.idle_sleep_ns = options.idle_sleep_ns;
    plan.drain_on_exit = options.drain_on_exit;
    plan.drain_timeout_ns = horizon_ns + 1'000'000'000;
    if (options.profile) {
      std::printf("faultline: profile with %zu rule(s), seed %lu%s\n",
                  options.profile->rules.size(), seed,
                  seed_drawn ? " (drawn; --seed repeats it)" : "");
    }
    unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    for (unsigned i = 0; status == 0 && i < options.workers; ++i) {
      plan.queue = static_cast<uint16_t>(i);
      plan.pipeline.rng_stream = i;
      channels.push_back(std::make_unique<SnapshotChannel>());
      plan.snapshots = channels.back().get();
      LaunchedWorker launched;
      launched.worker = std::make_unique<Worker>(plan, rte_rdtsc());
      launched.lcore = worker_on_main ? rte_get_main_lcore() : lcore;
      workers.push_back(std::move(launched));
      if (!worker_on_main) lcore = rte_get_next_lcore(lcore, 1, 0);
    }
    std::vector<SnapshotChannel*> ends;
    std::vector<Pipeline*> pipelines;
    for (const auto& channel : channels) ends.push_back(channel.get());
    for (LaunchedWorker& launched : workers) pipelines.push_back(&launched.worker->pipeline());
    publisher = std::make_unique<SnapshotPublisher>(ends, pipelines, plan.pipeline.profile);
    dataplane.publisher = publisher.get();
    dataplane.identities = &identities;
    dataplane.time_base = time_base;
    dataplane.now = [] { return rte_rdtsc(); };
    dataplane.stats = [&live_stats] { return live_stats(false); };
    dataplane.reset_stats = [&](std::string* reset_error) -> std::optional<StatsReport> {
      std::vector<Worker*> running;
      for (LaunchedWorker& launched : workers) running.push_back(launched.worker.get());
      std::optional<StatsReport> reset =
          ResetStatistics(running, port_count, std::chrono::seconds(5), reset_error);
      if (!reset) return std::nullopt;
      const auto now = std::chrono::steady_clock::now();
      reset->elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - since).count();
      reset->resets = ++resets;
      since = now;
      return reset;
    };
    // The control threads (socket, trace runner) inherit the calling thread's CPU set, which EAL
    // pinned to the main lcore, where a worker may busy-poll: they would run only when the
    // kernel preempts it, and trace steps would be handed over late. They get the CPUs no lcore
    // uses instead (if there are any).
    cpu_set_t main_cpus;
    const bool moved = pthread_getaffinity_np(pthread_self(), sizeof(main_cpus), &main_cpus) == 0 &&
                       MoveToControlCpus();
    const bool started =
        status == 0 && (!options.control_start || options.control_start(&dataplane, &error));
    if (moved) pthread_setaffinity_np(pthread_self(), sizeof(main_cpus), &main_cpus);
    if (status == 0 && !started) {
      fail(1, error);
      workers.clear();
    }
  }
  const bool control_running = status == 0 && options.control_start;
  if (status == 0) {
    const std::string delay =
        options.profile ? "profile" : "delay " + std::to_string(options.delay_ns) + " ns";
    std::printf(
        "faultline: forwarding %u port(s) with %u worker(s), %s, hold %lu packets, "
        "wheel tick %.1f ns\n",
        port_count, options.workers, delay.c_str(), hold, time_base.TickNs());
    std::fflush(stdout);
    if (worker_on_main) {
      workers[0].worker->Run(g_stop);
    } else {
      for (LaunchedWorker& launched : workers) {
        rte_eal_remote_launch(WorkerMain, launched.worker.get(), launched.lcore);
      }
      while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // Nothing publishes once the workers stop taking snapshots.
  const bool control_stopped =
      !control_running || !options.control_stop || options.control_stop(kControlStopTimeout);
  if (status == 0 && !worker_on_main) rte_eal_mp_wait_lcore();

  if (!workers.empty()) {
    StatsReport report = live_stats(/*at_stop=*/true);
    std::printf("faultline: stopped\n%s", ToText(report).c_str());
    std::fflush(stdout);
    if (!options.stats_json.empty()) {
      std::ofstream out(options.stats_json);
      out << ToJson(report).dump(2) << "\n";
      if (!out) fail(1, "cannot write " + options.stats_json);
    }
  }
  if (!control_stopped) {
    // A request is still running on the control thread (a huge or hostile one) and may still
    // use the publisher, the pipelines and the pool: none of it may be freed, and a stop must
    // not wait for it. The kernel frees the rest; hugepage files were unlinked at start.
    std::fprintf(stderr,
                 "faultline run: the control socket was still busy with a request %ld ms after "
                 "the stop; exiting without waiting for it\n",
                 static_cast<long>(kControlStopTimeout.count()));
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(status);
  }
  workers.clear();  // frees anything a worker still held (none after Shutdown)
  publisher.reset();
  channels.clear();
  for (uint16_t port : started) StopPort(port);
  if (pool) rte_mempool_free(pool);
  rte_eal_cleanup();
  return status;
}

}  // namespace faultline
