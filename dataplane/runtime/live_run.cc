#include "dataplane/runtime/live_run.h"

#include <pthread.h>
#include <rte_eal.h>
#include <rte_errno.h>
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

#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/frame_capture.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/snapshot_channel.h"
#include "dataplane/pipeline/worker.h"
#include "dataplane/reporting/stats.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/frame_record_writer.h"
#include "dataplane/runtime/output_paths.h"
#include "dataplane/runtime/ports.h"
#include "dataplane/runtime/worker_placement.h"

namespace faultline {
namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

struct LaunchedWorker {
  SocketWorker worker;
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

namespace {
constexpr uint64_t kLineRatePps = 2 * 14'880'952;
constexpr uint64_t kMinHold = 64 * 1024;
constexpr uint64_t kLineRateHoldCap = 1024 * 1024;
constexpr uint64_t kExpectedRateHoldCap = 64 * 1024 * 1024;
}  // namespace

uint64_t DefaultHold(uint64_t delay_ns, uint64_t rate_pps) {
  const uint64_t rate = rate_pps ? rate_pps : kLineRatePps;
  const uint64_t in_flight = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(rate) * delay_ns + 999'999'999) / 1'000'000'000);
  return std::clamp<uint64_t>(in_flight, kMinHold,
                              rate_pps ? kExpectedRateHoldCap : kLineRateHoldCap);
}

std::string DescribeHold(uint64_t hold, const RunOptions& options, uint64_t delay_ns) {
  std::string why;
  if (options.hold) {
    why = "--hold";
  } else {
    const uint64_t rate = options.expected_rate_pps ? options.expected_rate_pps : kLineRatePps;
    why = std::to_string(rate) + " frames/s (" +
          (options.expected_rate_pps ? "--expected-rate" : "2 x 10 GbE line rate of 64 B frames") +
          ") x longest delay " + std::to_string(delay_ns) + " ns, within [" +
          std::to_string(kMinHold) + ", " +
          std::to_string(options.expected_rate_pps ? kExpectedRateHoldCap : kLineRateHoldCap) + "]";
  }
  return "faultline: holds up to " + std::to_string(hold) + " frames in flight (" + why +
         "; the mbuf pool is sized for them); past that, arriving frames are dropped and counted "
         "as buffer_exhausted";
}

namespace {

// Frames of the pool's per-lcore caches (rte_pktmbuf_pool_create's cache_size).
constexpr uint32_t kMempoolCachePerLcore = 256;
// What one mbuf takes in DPDK memory, for the message when a pool does not fit: the default data
// room (RTE_MBUF_DEFAULT_BUF_SIZE, 2176) with the mbuf header and the mempool's object overhead.
constexpr uint64_t kMbufFootprintBytes = 2432;

// The workers, their snapshot channels and the publisher that feeds them. Destroyed in this
// order: the workers (which free anything they still hold), the publisher, the channels.
struct WorkerSet {
  std::vector<std::unique_ptr<SnapshotChannel>> channels;  // one per worker
  std::unique_ptr<SnapshotPublisher> publisher;
  std::vector<LaunchedWorker> workers;

  ~WorkerSet() {
    workers.clear();
    publisher.reset();
  }
};

// One `faultline run`: each owned resource is a member, declared in the order it is acquired, so
// that the destructors release them in reverse (workers, ports, pool, EAL) on every exit path.
// Each step returns 0 or the exit status of the failure it printed.
class LiveRun {
 public:
  explicit LiveRun(const RunOptions& options)
      : options_(options),
        profile_(StartingProfile(options.profile, options.delay_ns)),
        horizon_ns_(ProfileDelayHorizonNs(profile_)),
        hold_(options.hold ? options.hold : DefaultHold(horizon_ns_, options.expected_rate_pps)) {}

  int Run() {
    int status = Start();
    if (status != 0) return status;
    const bool control_running = static_cast<bool>(options_.control_start);
    Forward();
    // Nothing publishes once the workers stop taking snapshots.
    const bool control_stopped =
        !control_running || !options_.control_stop || options_.control_stop(kControlStopTimeout);
    if (!worker_on_main_) rte_eal_mp_wait_lcore();
    status = Report();
    if (!control_stopped) {
      // A request is still running on the control thread (a huge or hostile one) and may still
      // use the publisher, the pipelines and the pool: none of it may be freed, and a stop must
      // not wait for it. The kernel frees the rest; hugepage files were unlinked at start.
      std::fprintf(stderr,
                   "faultline run: the control socket was still busy with a request %ld ms "
                   "after the stop; exiting without waiting for it\n",
                   static_cast<long>(kControlStopTimeout.count()));
      std::fflush(stdout);
      std::fflush(stderr);
      std::_Exit(status);
    }
    return status;
  }

 private:
  int Fail(int code, const std::string& message) {
    std::fprintf(stderr, "faultline run: %s%s", message.c_str(),
                 message.ends_with('\n') ? "" : "\n");
    return code;
  }

  // Everything up to the point where traffic can flow; nothing is forwarded if a step fails.
  int Start() {
    // An hour of statistics must not be lost to an output path found wrong only at the end.
    const std::string problem = CheckOutputPaths({{"--profile", options_.profile_path}},
                                                 {{"--stats-json", options_.stats_json},
                                                  {"--series", options_.series},
                                                  {"--record", options_.record}});
    if (!problem.empty()) return Fail(2, problem);
    std::string error;
    eal_ = EalSession::Start(WithHugepageHygiene(options_.eal_args), &error);
    if (eal_ == nullptr) {
      return Fail(2, error + " (the EAL arguments after --)\n" +
                         ExplainEalStart(options_.eal_args, ReadEalHost(), options_.command, -1));
    }
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
    port_count_ = std::min<uint16_t>(rte_eth_dev_count_avail(), kMaxPorts);
    layout_.queues = static_cast<uint16_t>(options_.workers);
    int status = CheckLayout();
    if (status == 0) status = CreatePool();
    if (status == 0) std::printf("%s\n", DescribeHold(hold_, options_, horizon_ns_).c_str());
    if (status == 0 && !RegisterPacketMeta(&error)) status = Fail(1, error);
    for (uint16_t port = 0; status == 0 && port < port_count_; ++port) {
      ports_.push_back(port);
      if (!started_ports_.Start(port, layout_, pools_.queue_pools, &error)) status = Fail(1, error);
      if (status == 0 && layout_.queues > 1 && !HasIpRss(port)) {
        std::printf(
            "faultline: port %u has no RSS: its %u rx queues carry what its source puts in "
            "each (a flow must stay on one queue to keep its order)\n",
            port, layout_.queues);
      }
    }
    time_base_ = TimeBase::Tsc();
    since_ = std::chrono::steady_clock::now();
    if (status == 0) status = CreateWorkers();
    if (status == 0) status = StartRecording();
    if (status == 0) status = StartCapture();
    if (status == 0) status = StartControl();
    return status;
  }

  int CheckLayout() {
    const unsigned worker_lcores = rte_lcore_count() - 1;
    // A single worker may share the main lcore, so one core (-l N) is enough for a test bed.
    worker_on_main_ = options_.workers == 1 && worker_lcores == 0;
    if (port_count_ < 2 || port_count_ % 2 != 0) {
      return Fail(
          2,
          "need an even number of ports, at least 2 (side a = port 0, side b = port "
          "1); DPDK found " +
              std::to_string(port_count_) + ". Add devices with --vdev or -a.\n" +
              ExplainEalStart(options_.eal_args, ReadEalHost(), options_.command, port_count_));
    }
    if (options_.workers == 0 || (!worker_on_main_ && options_.workers > worker_lcores)) {
      return Fail(2, std::to_string(options_.workers) +
                         " worker(s) need as many lcores besides the main one; EAL has " +
                         std::to_string(rte_lcore_count()) + " (use -l)");
    }
    return 0;
  }

  // The lcores the workers will run on, in worker order.
  std::vector<unsigned> WorkerLcores() const {
    if (worker_on_main_) return {rte_get_main_lcore()};
    std::vector<unsigned> lcores;
    unsigned lcore = rte_get_next_lcore(-1, 1, 0);
    for (unsigned i = 0; i < options_.workers; ++i, lcore = rte_get_next_lcore(lcore, 1, 0)) {
      lcores.push_back(lcore);
    }
    return lcores;
  }

  // One mbuf pool per socket that has a worker (worker_placement.h), one line each.
  int CreatePool() {
    // A handler named in the EAL arguments that this DPDK does not have is bad input, not a
    // lack of memory.
    if (const char* ops = PoolOpsOfThisProcess(); !HasPoolOps(ops)) {
      return Fail(2, std::string("no mempool handler called '") + ops +
                         "' (EAL --mbuf-pool-ops-name); this DPDK has: " + PoolOpsNames());
    }
    std::vector<int> sockets;
    for (unsigned lcore : WorkerLcores()) {
      sockets.push_back(static_cast<int>(rte_lcore_to_socket_id(lcore)));
    }
    const PoolPlan plan = PlanPools(sockets, {.hold = hold_,
                                              .ports = port_count_,
                                              .rx_descriptors = layout_.rx_descriptors,
                                              .tx_descriptors = layout_.tx_descriptors,
                                              .tx_buffer = TxQueue::kCapacity,
                                              .cache_per_lcore = kMempoolCachePerLcore,
                                              .lcores = rte_lcore_count(),
                                              .burst = kBurstSize});
    std::string error;
    pools_ = CreatePools(plan, &error);
    if (pools_.pools.empty()) {
      uint64_t total = 0;
      for (const PoolPlan::Pool& pool : plan.pools) total += pool.mbufs;
      return Fail(1, error + " (" + std::to_string(total) + " mbufs in all, about " +
                         std::to_string(total * kMbufFootprintBytes >> 20) +
                         " MiB with hugepages, 4 KiB each with --no-huge): give EAL more memory "
                         "(-m, hugepages) or hold fewer packets (--hold)");
    }
    for (size_t j = 0; j < plan.pools.size(); ++j) {
      std::string queues;
      for (size_t queue = 0; queue < plan.queue_pool.size(); ++queue) {
        if (plan.queue_pool[queue] != j) continue;
        if (!queues.empty()) queues += ',';
        queues += std::to_string(queue);
      }
      std::printf("faultline: mbuf pool %s on socket %d: %u mbufs (%s), rx queue(s) %s\n",
                  PoolName(plan.pools[j].socket).c_str(), pools_.pools[j]->socket_id,
                  plan.pools[j].mbufs, pools_.ops, queues.c_str());
    }
    return 0;
  }

  int CreateWorkers() {
    WorkerPlan plan;
    plan.ports = ports_;
    plan.time_base = time_base_;
    bool seed_drawn = false;
    const uint64_t seed = ResolveSeed(options_.seed, profile_, &seed_drawn);
    try {
      plan.pipeline.profile =
          CompileProfile(profile_, time_base_, seed, CompileOptions{.identities = &identities_});
    } catch (const std::exception& failure) {
      return Fail(1, failure.what());
    }
    plan.pipeline.hold_limit = hold_ / options_.workers;
    plan.pipeline.flow_idle = FlowIdleTimeout(time_base_, horizon_ns_);
    // Room for a later profile's reorder bound without a restart.
    plan.pipeline.min_displacement_ring = kChangeableDisplacementRing;
    // One port pair: a port's latency histograms are derived from its rules' (cheaper per frame).
    plan.pipeline.derive_port_latency = ports_.size() == 2;
    plan.idle_sleep_ns = options_.idle_sleep_ns;
    plan.drain_on_exit = options_.drain_on_exit;
    // A bound for a device that takes nothing, with room for a worker a busy machine keeps off
    // the CPU for a while: that one still delivers what it holds.
    plan.drain_timeout_ns = horizon_ns_ + 5'000'000'000;
    if (options_.profile) {
      std::printf("faultline: profile with %zu rule(s), seed %lu%s\n",
                  options_.profile->rules.size(), seed,
                  seed_drawn ? " (drawn; --seed repeats it)" : "");
    }
    const std::vector<unsigned> lcores = WorkerLcores();
    std::string error;
    std::vector<SnapshotChannel*> ends;
    std::vector<Pipeline*> pipelines;
    for (unsigned i = 0; i < options_.workers; ++i) {
      plan.queue = static_cast<uint16_t>(i);
      plan.pipeline.rng_stream = i;
      workers_.channels.push_back(std::make_unique<SnapshotChannel>());
      plan.snapshots = workers_.channels.back().get();
      LaunchedWorker launched;
      // On its lcore's socket, built by that lcore (worker_placement.h).
      launched.worker = BuildWorkerOnLcore(plan, lcores[i], &error);
      if (launched.worker == nullptr) return Fail(1, "worker " + std::to_string(i) + ": " + error);
      launched.lcore = lcores[i];
      ends.push_back(plan.snapshots);
      pipelines.push_back(&launched.worker->pipeline());
      workers_.workers.push_back(std::move(launched));
    }
    workers_.publisher =
        std::make_unique<SnapshotPublisher>(ends, pipelines, plan.pipeline.profile);
    return 0;
  }

  // --record: one ring per worker, drained by the writer thread (live: a full ring loses
  // records, counted as record_lost; the workers never wait).
  int StartRecording() {
    if (options_.record.empty()) return 0;
    std::string error;
    const RecordFileHeader header =
        RecordHeaderNow(workers_.publisher->installed().get(), /*virtual_clock=*/false);
    recording_ = FrameRecordWriter::Open(options_.record, header,
                                         {.base = time_base_, .start_units = rte_rdtsc()},
                                         options_.workers, /*lossless=*/false, &error);
    if (recording_ == nullptr) return Fail(1, error);
    for (unsigned i = 0; i < options_.workers; ++i) {
      workers_.workers[i].worker->SetRecorder(recording_->recorder(i));
    }
    recording_->Start();
    return 0;
  }

  // Live capture: one bounded ring per worker (kCaptureRingSlots slots of a CaptureSlot), always
  // there; the control plane switches capture on and off (`faultline capture`).
  int StartCapture() {
    for (unsigned i = 0; i < options_.workers; ++i) {
      const std::string name = "fl_capture_" + std::to_string(i);
      auto tap = std::make_unique<CaptureTap>(name.c_str(), kCaptureRingSlots, rte_socket_id());
      if (tap->ring() == nullptr) {
        return Fail(1,
                    "no DPDK memory for the capture ring: " + std::string(rte_strerror(rte_errno)));
      }
      workers_.workers[i].worker->SetCapture(tap.get());
      dataplane_.captures.push_back(tap.get());
      captures_.push_back(std::move(tap));
    }
    return 0;
  }

  // Once the workers stopped: the rest of the records to the file, and what was lost said.
  int FinishRecording(const StatsReport& report) {
    if (recording_ == nullptr) return 0;
    const std::string error = recording_->Finish();
    if (!error.empty()) return Fail(1, error);
    std::printf("faultline: recorded %lu frame fate(s) in %s, %lu lost (record_lost)\n",
                recording_->written(), options_.record.c_str(), report.record_lost);
    return 0;
  }

  // Hands the running dataplane to the control plane (control_start), if there is one.
  int StartControl() {
    dataplane_.publisher = workers_.publisher.get();
    dataplane_.identities = &identities_;
    dataplane_.time_base = time_base_;
    dataplane_.now = [] { return rte_rdtsc(); };
    dataplane_.stats = [this] { return Statistics(/*at_stop=*/false); };
    dataplane_.reset_stats = [this](std::string* error) { return ResetStatistics(error); };
    if (!options_.control_start) return 0;
    // The control threads (socket, trace runner) inherit the calling thread's CPU set, which EAL
    // pinned to the main lcore, where a worker may busy-poll: they would run only when the
    // kernel preempts it, and trace steps would be handed over late. They get the CPUs no lcore
    // uses instead (if there are any).
    cpu_set_t main_cpus;
    const bool moved = pthread_getaffinity_np(pthread_self(), sizeof(main_cpus), &main_cpus) == 0 &&
                       MoveToControlCpus();
    std::string error;
    const bool started = options_.control_start(&dataplane_, &error);
    if (moved) pthread_setaffinity_np(pthread_self(), sizeof(main_cpus), &main_cpus);
    if (started) return 0;
    workers_.workers.clear();  // nothing ran: no statistics at the end
    return Fail(1, error);
  }

  // Forwards until SIGINT/SIGTERM.
  void Forward() {
    const std::string delay =
        options_.profile ? "profile" : "delay " + std::to_string(options_.delay_ns) + " ns";
    std::printf(
        "faultline: forwarding %u port(s) with %u worker(s), %s, hold %lu packets, "
        "wheel tick %.1f ns\n",
        port_count_, options_.workers, delay.c_str(), hold_, time_base_.TickNs());
    std::fflush(stdout);
    if (worker_on_main_) {
      workers_.workers[0].worker->Run(g_stop);
      return;
    }
    for (LaunchedWorker& launched : workers_.workers) {
      rte_eal_remote_launch(WorkerMain, launched.worker.get(), launched.lcore);
    }
    while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // Prints the final statistics and writes --stats-json. Returns the exit status.
  int Report() {
    const StatsReport report = Statistics(/*at_stop=*/true);
    std::printf("faultline: stopped\n%s", ToText(report).c_str());
    if (const int status = FinishRecording(report); status != 0) return status;
    std::fflush(stdout);
    if (options_.stats_json.empty()) return 0;
    std::ofstream out(options_.stats_json);
    out << ToJson(report).dump(2) << "\n";
    return out ? 0 : Fail(1, "cannot write " + options_.stats_json);
  }

  // The statistics document from the workers' counters (single-writer atomics: any thread may
  // read them while the workers run). Live, the rules are those of the snapshot last handed out.
  StatsReport Statistics(bool at_stop) {
    std::vector<const PipelineCounters*> counters;
    std::vector<const Pipeline*> pipelines;
    std::vector<const Worker*> workers;
    uint64_t held = 0;
    for (const LaunchedWorker& launched : workers_.workers) {
      counters.push_back(&launched.worker->pipeline().counters());
      pipelines.push_back(&launched.worker->pipeline());
      workers.push_back(launched.worker.get());
      if (at_stop) held += launched.worker->held_at_stop();
    }
    StatsReport report = Summarize(counters, port_count_);
    SummarizeLateness(workers, &report);
    if (at_stop || workers_.publisher == nullptr) {
      SummarizeRules(pipelines, &report);
    } else {
      SummarizeRules(pipelines, *workers_.publisher->installed(), &report);
    }
    report.held = held;
    for (const LaunchedWorker& launched : workers_.workers) {
      WorkerReport& worker = report.workers.emplace_back();
      worker.lcore = launched.lcore;
      worker.socket = static_cast<int>(rte_lcore_to_socket_id(launched.lcore));
      const PipelineCounters& counters = launched.worker->pipeline().counters();
      for (uint16_t port = 0; port < port_count_; ++port) {
        worker.rx += counters.rx[port].Get();
        worker.tx += counters.tx[port].Get();
      }
    }
    report.elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - since_)
                            .count();
    report.resets = resets_;
    for (PortReport& port : report.ports) AddDeviceCounters(&port);
    if (at_stop && options_.final_trace_report) report.trace = options_.final_trace_report();
    return report;
  }

  std::optional<StatsReport> ResetStatistics(std::string* error) {
    std::vector<Worker*> running;
    for (LaunchedWorker& launched : workers_.workers) running.push_back(launched.worker.get());
    std::optional<StatsReport> reset =
        faultline::ResetStatistics(running, port_count_, std::chrono::seconds(5), error);
    if (!reset) return std::nullopt;
    const auto now = std::chrono::steady_clock::now();
    reset->elapsed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - since_).count();
    reset->resets = ++resets_;
    since_ = now;
    return reset;
  }

  static void AddDeviceCounters(PortReport* port) {
    rte_eth_stats device;
    if (rte_eth_stats_get(port->port, &device) != 0) return;
    port->has_device = true;
    port->device_ipackets = device.ipackets;
    port->device_opackets = device.opackets;
    port->device_imissed = device.imissed;
    port->device_ierrors = device.ierrors;
    port->device_oerrors = device.oerrors;
    port->device_rx_nombuf = device.rx_nombuf;
  }

  const RunOptions& options_;
  const ProfileSpec profile_;
  const uint64_t horizon_ns_;
  const uint64_t hold_;
  uint16_t port_count_ = 0;
  bool worker_on_main_ = false;
  PortLayout layout_;
  std::vector<uint16_t> ports_;
  // Owned resources, released in reverse order.
  std::unique_ptr<EalSession> eal_;
  MbufPools pools_;
  StartedPorts started_ports_;
  RuleIdentities identities_;
  std::unique_ptr<FrameRecordWriter> recording_;       // outlives the workers, which record into it
  std::vector<std::unique_ptr<CaptureTap>> captures_;  // outlive the workers, which copy into them
  WorkerSet workers_;
  TimeBase time_base_;  // the TSC's, once EAL runs
  // The statistics count from the start of forwarding, or from the last reset.
  std::chrono::steady_clock::time_point since_;
  uint64_t resets_ = 0;
  LiveDataplane dataplane_;
};

}  // namespace

int RunLive(const RunOptions& options) { return LiveRun(options).Run(); }

}  // namespace faultline
