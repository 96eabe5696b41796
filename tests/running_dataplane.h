// A running dataplane for in-process live tests: one Worker on its own thread with the TSC clock,
// on two net_ring ports, fed by a traffic thread and drained by a consumer thread, with the
// control plane of `faultline run` (SnapshotPublisher, ControlCommands, a real ControlServer on a
// socket). Frames carry their sequence number and the TSC at enqueue; the consumer records the
// TSC at dequeue. Waits end when what they wait for has happened, with bounds (kStallBound) only a
// stalled machine reaches; no test asserts how long something took. Used by live_control_test
// (changes through the socket) and live_overload_test (pool exhaustion, a port that stops
// accepting, a flood of applies).
#pragma once

#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "control/profile/profile_parser.h"
#include "control/server/control_commands.h"
#include "control/server/control_server.h"
#include "dataplane/fastpath/flow_table.h"
#include "dataplane/fastpath/frame_capture.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/snapshot_channel.h"
#include "dataplane/pipeline/worker.h"
#include "dataplane/reporting/stats.h"
#include "dataplane/runtime/live_run.h"
#include "dataplane/runtime/ports.h"
#include "tests/eal_environment.h"
#include "tests/frame_builder.h"

namespace faultline::testing {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// Where the sequence number and the enqueue TSC sit in a test frame (after Ethernet, IPv4, UDP).
inline constexpr size_t kPayloadOffset = 14 + 20 + 8;
inline constexpr size_t kFrameLength = 64;
inline constexpr unsigned kBurst = 8;
// Pause of the traffic thread between bursts (it sleeps: the machine has two shared cores).
inline constexpr auto kTrafficPause = std::chrono::microseconds(40);
// The worker's idle back-off.
inline constexpr uint64_t kIdleSleepNs = 20'000;
// Waits for something that must happen end as soon as it has; they fail only past this bound,
// which only a stalled machine reaches.
inline constexpr auto kStallBound = milliseconds(30'000);

inline std::string SocketPath() {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-livectl-" + std::to_string(getpid()) +
         ".sock";
}

struct Arrival {
  uint64_t sequence;
  uint64_t enqueued;  // TSC
  uint64_t dequeued;  // TSC
};

// The largest time between consecutive dequeues of which the later one falls in [from, to].
inline uint64_t MaxGap(const std::vector<Arrival>& arrivals, uint64_t from, uint64_t to) {
  uint64_t gap = 0;
  for (size_t i = 1; i < arrivals.size(); ++i) {
    if (arrivals[i].dequeued < from || arrivals[i].dequeued > to) continue;
    gap = std::max(gap, arrivals[i].dequeued - arrivals[i - 1].dequeued);
  }
  return gap;
}

// The two ring ports, made once per process: port 0 is side a, port 1 side b.
struct RingPorts {
  rte_ring* rx[2] = {};
  rte_ring* tx[2] = {};
};

inline RingPorts& Ports() {
  static RingPorts ports;
  return ports;
}

inline void FreeAll(rte_ring* ring) {
  void* packet;
  while (rte_ring_dequeue(ring, &packet) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(packet));
}

class RunningDataplaneTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    RingPorts& ports = Ports();
    if (ports.rx[0] != nullptr) return;
    for (int side = 0; side < 2; ++side) {
      const std::string name = std::string("live_side_") + char('a' + side);
      ports.rx[side] =
          rte_ring_create((name + "_rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
      ports.tx[side] =
          rte_ring_create((name + "_tx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
      ASSERT_NE(ports.rx[side], nullptr);
      ASSERT_NE(ports.tx[side], nullptr);
      const int port = rte_eth_from_rings(name.c_str(), &ports.rx[side], 1, &ports.tx[side], 1, 0);
      ASSERT_EQ(port, side) << "side a must be port 0 and side b port 1";
      std::string error;
      ASSERT_TRUE(StartPort(port, PortLayout{}, EalEnvironment::pool(), &error)) << error;
    }
  }

  void SetUp() override {
    for (int side = 0; side < 2; ++side) {
      FreeAll(Ports().rx[side]);
      FreeAll(Ports().tx[side]);
    }
    time_base_ = TimeBase::Tsc();
    // The test frame: rack-a -> rack-b, UDP to port 7001; the payload is filled per frame.
    frame_ = testing::Ethernet(0x0800);
    testing::AppendIpv4(&frame_, {.proto = 17, .src = "10.0.1.5", .dst = "10.0.2.7"});
    testing::AppendPorts(&frame_, 5000, 7001);
    frame_.resize(kFrameLength, 0);
  }

  void TearDown() override {
    StopTraffic(/*drain=*/false);
    StopDataplane();
  }

  // The dataplane and its control plane, as `faultline run` wires them, with `profile_text`.
  void StartDataplane(const std::string& profile_text) {
    std::string error;
    const std::optional<ProfileSpec> spec = ParseProfileText(profile_text, "start.yaml", &error);
    ASSERT_TRUE(spec) << error;
    identities_ = std::make_unique<RuleIdentities>();
    const ProfileSnapshot initial = CompileProfile(*spec, time_base_, spec->seed.value_or(1),
                                                   CompileOptions{.identities = identities_.get()});
    channel_ = std::make_unique<SnapshotChannel>();
    WorkerPlan plan;
    plan.ports = {0, 1};
    plan.time_base = time_base_;
    plan.pipeline.profile = initial;
    plan.pipeline.hold_limit = hold_limit_;
    plan.pipeline.flow_idle = FlowIdleTimeout(time_base_, ProfileDelayHorizonNs(*spec));
    plan.pipeline.min_displacement_ring = 16;
    plan.idle_sleep_ns = kIdleSleepNs;
    plan.snapshots = channel_.get();
    worker_ = std::make_unique<Worker>(plan, rte_rdtsc());
    dataplane_.captures.clear();
    if (capture_slots_ != 0) {  // live capture (capture_live_test)
      capture_ = std::make_unique<CaptureTap>("live_capture", capture_slots_, SOCKET_ID_ANY);
      ASSERT_NE(capture_->ring(), nullptr);
      worker_->SetCapture(capture_.get());
      dataplane_.captures.push_back(capture_.get());
    }
    publisher_ =
        std::make_unique<SnapshotPublisher>(std::vector<SnapshotChannel*>{channel_.get()},
                                            std::vector<Pipeline*>{&worker_->pipeline()}, initial);
    dataplane_.publisher = publisher_.get();
    dataplane_.identities = identities_.get();
    dataplane_.time_base = time_base_;
    dataplane_.now = [] { return rte_rdtsc(); };
    dataplane_.stats = [this] {
      const Pipeline& pipeline = worker_->pipeline();
      StatsReport report = Summarize({&pipeline.counters()}, 2);
      SummarizeRules({&pipeline}, *publisher_->installed(), &report);
      report.resets = resets_;
      return report;
    };
    dataplane_.reset_stats = [this](std::string* error) {
      std::optional<StatsReport> reset =
          ResetStatistics({worker_.get()}, 2, std::chrono::seconds(10), error);
      if (reset) reset->resets = ++resets_;
      return reset;
    };
    // The worker thread sleeps when idle and shares two cores with the rest of the tests: it
    // may wait a while for a CPU, and a change that it takes late is not what is tested here.
    commands_ = std::make_unique<ControlCommands>(&dataplane_, std::chrono::seconds(5));
    ControlServerOptions options = control_options_;
    options.socket_path = SocketPath();
    ListenFailure failure;
    server_ = ControlServer::Listen(options, &error, &failure);
    ASSERT_NE(server_, nullptr) << error;
    server_->Start([this](const nlohmann::json& request) { return commands_->Handle(request); });

    stop_worker_.store(false);
    worker_thread_ = std::thread([this] { worker_->Run(stop_worker_); });
    stop_consumer_.store(false);
    consumer_thread_ = std::thread([this] { Consume(); });
  }

  void StopDataplane() {
    if (server_) server_->Stop();
    server_.reset();
    commands_.reset();  // the trace runner's thread
    stop_worker_.store(true);
    if (worker_thread_.joinable()) worker_thread_.join();
    stop_consumer_.store(true);
    if (consumer_thread_.joinable()) consumer_thread_.join();
    for (int side = 0; side < 2; ++side) {
      FreeAll(Ports().rx[side]);
      FreeAll(Ports().tx[side]);
    }
    publisher_.reset();
    worker_.reset();
    capture_.reset();
    channel_.reset();
    identities_.reset();
  }

  void StartTraffic() {
    stop_traffic_.store(false);
    traffic_thread_ = std::thread([this] { Produce(); });
  }

  // Stops the traffic; with `drain`, waits until every frame sent came out or is counted as
  // dropped (kStallBound at most); `dropped_before_reset`: drops the counters no longer show.
  void StopTraffic(bool drain, uint64_t dropped_before_reset = 0) {
    stop_traffic_.store(true);
    if (traffic_thread_.joinable()) traffic_thread_.join();
    if (!drain) return;
    const auto deadline = Clock::now() + kStallBound;
    while (Clock::now() < deadline) {
      // The pipeline's counters are atomics any thread may read.
      const StatsReport report = Summarize({&worker_->pipeline().counters()}, 2);
      if (received_.load() + report.TotalDropped() + dropped_before_reset >= enqueued_.size()) {
        break;
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    std::this_thread::sleep_for(milliseconds(5));  // the consumer's last round
  }

  // Waits (up to `timeout`) until the worker holds nothing and the consumer has taken every frame
  // it sent: received + duplicated = sent + dropped. Reads only counters (atomics any thread may
  // read). False on timeout.
  bool WaitUntilAllOut(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    do {
      const Pipeline& pipeline = worker_->pipeline();
      StatsReport report = Summarize({&pipeline.counters()}, 2);
      SummarizeRules({&pipeline}, *publisher_->installed(), &report);
      uint64_t rx = 0, tx = 0, duplicated = 0;
      for (const PortReport& port : report.ports) {
        rx += port.rx;
        tx += port.tx;
      }
      for (const RuleReport& rule : report.rules) duplicated += rule.total.duplicated;
      if (rx + duplicated == tx + report.TotalDropped() &&
          received_.load() + wrong_way_.load() == tx) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(5));
    } while (Clock::now() < deadline);
    return false;
  }

  // Bursts of kBurst frames into port 0's rx ring ("side a's wire delivers them"), from
  // traffic_pool_ (the EAL environment's by default), traffic_pause_us_ apart.
  void Produce() {
    uint16_t source_port = 5000;
    rte_mempool* pool = traffic_pool_ ? traffic_pool_ : EalEnvironment::pool();
    while (!stop_traffic_.load()) {
      const auto pause = std::chrono::microseconds(traffic_pause_us_.load());
      rte_mbuf* burst[kBurst];
      if (rte_pktmbuf_alloc_bulk(pool, burst, kBurst) != 0) {
        ++alloc_failures_;  // what a NIC counts as rx_nombuf: these never entered
        std::this_thread::sleep_for(pause);
        continue;
      }
      const uint64_t now = rte_rdtsc();
      const uint64_t first = enqueued_.size();
      for (unsigned i = 0; i < kBurst; ++i) {
        char* data = rte_pktmbuf_append(burst[i], kFrameLength);
        std::memcpy(data, frame_.data(), kFrameLength);
        // 16 flows (source ports), so the jittery rule has flow state to keep.
        const uint16_t port = static_cast<uint16_t>(source_port + (first + i) % 16);
        data[34] = static_cast<char>(port >> 8);
        data[35] = static_cast<char>(port);
        const uint64_t sequence = first + i;
        std::memcpy(data + kPayloadOffset, &sequence, 8);
        std::memcpy(data + kPayloadOffset + 8, &now, 8);
      }
      if (rte_ring_enqueue_bulk(Ports().rx[0], reinterpret_cast<void**>(burst), kBurst, nullptr) !=
          kBurst) {
        ++ring_full_;
        rte_pktmbuf_free_bulk(burst, kBurst);
      } else {
        enqueued_.insert(enqueued_.end(), kBurst, now);
      }
      std::this_thread::sleep_for(pause);
    }
  }

  // Takes what leaves by port 1 ("side b's wire"); anything leaving by port 0 is counted. While
  // consumer_paused_, side b's wire takes nothing (a port that stops accepting: its ring fills).
  void Consume() {
    void* packets[64];
    for (;;) {
      const bool stopping = stop_consumer_.load();
      if (consumer_paused_.load() && !stopping) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        continue;
      }
      const unsigned got = rte_ring_dequeue_burst(Ports().tx[1], packets, 64, nullptr);
      const uint64_t now = rte_rdtsc();
      for (unsigned i = 0; i < got; ++i) {
        auto* packet = static_cast<rte_mbuf*>(packets[i]);
        Arrival arrival{.dequeued = now};
        const char* data = rte_pktmbuf_mtod(packet, const char*);
        std::memcpy(&arrival.sequence, data + kPayloadOffset, 8);
        std::memcpy(&arrival.enqueued, data + kPayloadOffset + 8, 8);
        arrivals_.push_back(arrival);
        rte_pktmbuf_free(packet);
      }
      received_.fetch_add(got);
      const unsigned back = rte_ring_dequeue_burst(Ports().tx[0], packets, 64, nullptr);
      wrong_way_.fetch_add(back);
      for (unsigned i = 0; i < back; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(packets[i]));
      if (got == 0 && back == 0) {
        if (stopping) return;
        std::this_thread::sleep_for(std::chrono::microseconds(20));
      }
    }
  }

  // A request through the socket, as `faultline` sends it; fails the test without an answer.
  nlohmann::json Request(const nlohmann::json& request,
                         milliseconds timeout = milliseconds(10000)) {
    std::string error;
    bool connected = false;
    const std::optional<nlohmann::json> response =
        ControlRequest(SocketPath(), request, timeout, &error, &connected);
    EXPECT_TRUE(response.has_value()) << request << ": " << error;
    return response.value_or(nlohmann::json::object());
  }
  nlohmann::json Apply(const std::string& profile) {
    return Request({{"command", "apply"}, {"profile", profile}, {"name", "applied.yaml"}});
  }
  nlohmann::json Stats() {
    const nlohmann::json response = Request({{"command", "stats"}});
    EXPECT_EQ(response.value("ok", false), true) << response;
    return response.value("stats", nlohmann::json::object());
  }
  // The statistics once `done` holds for them (asked every 5 ms, kStallBound at most).
  nlohmann::json StatsWhen(const std::function<bool(const nlohmann::json&)>& done) {
    const auto deadline = Clock::now() + kStallBound;
    nlohmann::json stats = Stats();
    while (!done(stats) && Clock::now() < deadline) {
      Sleep(milliseconds(5));
      stats = Stats();
    }
    EXPECT_TRUE(done(stats)) << "never happened: " << stats.dump();
    return stats;
  }
  // A trace's status once it is no longer running (kStallBound at most).
  nlohmann::json TraceWhenOver() {
    nlohmann::json status;
    const auto deadline = Clock::now() + kStallBound;
    do {
      Sleep(milliseconds(20));
      status = Request({{"command", "trace-status"}})["trace"];
    } while (status["state"] == "running" && Clock::now() < deadline);
    return status;
  }
  static const nlohmann::json& Rule(const nlohmann::json& stats, const std::string& name) {
    for (const nlohmann::json& rule : stats["rules"]) {
      if (rule["name"] == name) return rule;
    }
    static const nlohmann::json kNone = nlohmann::json::object();
    ADD_FAILURE() << "no rule " << name << " in " << stats["rules"];
    return kNone;
  }

  // How often each sequence number came out (after the traffic and consumer stopped).
  std::vector<unsigned> Deliveries() const {
    std::vector<unsigned> count(enqueued_.size(), 0);
    for (const Arrival& arrival : arrivals_) {
      if (arrival.sequence < count.size()) ++count[arrival.sequence];
    }
    return count;
  }

  double Ms(uint64_t tsc) const { return static_cast<double>(time_base_.ToNs(tsc)) / 1e6; }
  uint64_t Tsc(uint64_t ns) const { return time_base_.FromNs(ns); }
  void Sleep(milliseconds how_long) { std::this_thread::sleep_for(how_long); }

  TimeBase time_base_;
  testing::Bytes frame_;
  std::unique_ptr<RuleIdentities> identities_;
  std::unique_ptr<SnapshotChannel> channel_;
  unsigned capture_slots_ = 0;  // > 0: a capture tap of this many slots
  std::unique_ptr<CaptureTap> capture_;
  std::unique_ptr<Worker> worker_;
  std::unique_ptr<SnapshotPublisher> publisher_;
  LiveDataplane dataplane_;
  std::unique_ptr<ControlCommands> commands_;
  std::unique_ptr<ControlServer> server_;
  uint64_t resets_ = 0;  // the control thread's

  // Knobs a test may set before StartDataplane / StartTraffic (the pause also while it runs).
  ControlServerOptions control_options_;  // the socket path is SocketPath()
  uint64_t hold_limit_ = 8192;
  rte_mempool* traffic_pool_ = nullptr;  // null: the EAL environment's pool
  std::atomic<int64_t> traffic_pause_us_{kTrafficPause.count()};
  std::atomic<bool> consumer_paused_{false};

  std::atomic<bool> stop_worker_{false}, stop_traffic_{false}, stop_consumer_{false};
  std::thread worker_thread_, traffic_thread_, consumer_thread_;
  // Written by the traffic thread: the enqueue TSC of each sequence number.
  std::vector<uint64_t> enqueued_;
  std::atomic<uint64_t> alloc_failures_{0}, ring_full_{0};
  // Written by the consumer thread; read once it has stopped (received_ any time).
  std::vector<Arrival> arrivals_;
  std::atomic<uint64_t> received_{0}, wrong_way_{0};
};

}  // namespace faultline::testing
