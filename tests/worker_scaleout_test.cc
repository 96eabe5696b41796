// Two workers on two-queue ports (net_ring; worker i polls rx queue i and sends on tx queue i
// of every port), each on its own thread: every frame comes out or is counted, and each flow's
// frames leave in the order they came. net_ring has no RSS, so the test plays the device's
// part: it puts every frame of a flow on the queue its flow hashes to (flow % 2), as RSS with an
// IP-only hash does on a NIC.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "dataplane/pipeline/worker.h"
#include "dataplane/runtime/ports.h"
#include "tests/eal_environment.h"

namespace faultline {
namespace {

using testing::EalEnvironment;
using testing::MakePacket;
using testing::PacketId;

constexpr uint16_t kWorkers = 2;
constexpr uint64_t kFlows = 64;
constexpr uint64_t kFramesPerSide = 40'000;

struct Side {
  rte_ring* rx[kWorkers];
  rte_ring* tx[kWorkers];
};

TEST(WorkerScaleOutTest, TwoWorkersLoseNothingAndKeepEachFlowInOrder) {
  Side sides[2];
  uint16_t ports[2];
  for (int side = 0; side < 2; ++side) {
    for (uint16_t q = 0; q < kWorkers; ++q) {
      const std::string name = "so" + std::to_string(side) + "_" + std::to_string(q);
      sides[side].rx[q] = rte_ring_create((name + "rx").c_str(), 1024, 0, RING_F_SC_DEQ);
      sides[side].tx[q] = rte_ring_create((name + "tx").c_str(), 1024, 0, RING_F_SP_ENQ);
      ASSERT_NE(sides[side].rx[q], nullptr);
      ASSERT_NE(sides[side].tx[q], nullptr);
    }
    const int port = rte_eth_from_rings(("scaleout_" + std::to_string(side)).c_str(),
                                        sides[side].rx, kWorkers, sides[side].tx, kWorkers, 0);
    ASSERT_GE(port, 0);
    ports[side] = static_cast<uint16_t>(port);
    std::string error;
    ASSERT_TRUE(
        StartPort(ports[side], PortLayout{.queues = kWorkers}, EalEnvironment::pool(), &error))
        << error;
  }
  ASSERT_EQ(ports[1], ports[0] + 1) << "a port pair";
  ASSERT_EQ(ports[0] % 2, 0) << "a port pair";

  const TimeBase tsc = TimeBase::Tsc();
  std::vector<std::unique_ptr<Worker>> workers;
  for (uint16_t q = 0; q < kWorkers; ++q) {
    WorkerPlan plan;
    plan.queue = q;
    plan.ports = {ports[0], ports[1]};
    plan.time_base = tsc;
    plan.pipeline.delay = tsc.FromNs(50'000);
    plan.pipeline.hold_limit = 4096;
    plan.pipeline.rng_stream = q;
    plan.idle_sleep_ns = 20'000;  // two cores shared with everything else: back off when idle
    workers.push_back(std::make_unique<Worker>(plan, rte_rdtsc()));
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& worker : workers) threads.emplace_back([&worker, &stop] { worker->Run(stop); });

  // Frame n of side s: id = s << 32 | n; flow = n % kFlows; its queue = flow % kWorkers.
  uint64_t next[2] = {0, 0};
  std::map<uint64_t, uint64_t> last_out;  // (side, flow) -> last frame number seen + 1
  uint64_t out = 0, out_of_order = 0, in_flight_limit = 8192;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto dropped = [&] {
    uint64_t total = 0;
    for (auto& worker : workers) {
      for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
        total += worker->pipeline().counters().dropped[cause].Get();
      }
    }
    return total;
  };
  while (out + dropped() < 2 * kFramesPerSide && std::chrono::steady_clock::now() < deadline) {
    for (int side = 0; side < 2; ++side) {
      while (next[side] < kFramesPerSide && next[side] + next[1 - side] - out < in_flight_limit) {
        const uint64_t n = next[side];
        rte_mbuf* packet = MakePacket(EalEnvironment::pool(), uint64_t(side) << 32 | n);
        ASSERT_NE(packet, nullptr);
        if (rte_ring_enqueue(sides[side].rx[(n % kFlows) % kWorkers], packet) != 0) {
          rte_pktmbuf_free(packet);
          break;  // the queue is full: again later
        }
        ++next[side];
      }
      // What left by the other side's port, on every queue.
      for (uint16_t q = 0; q < kWorkers; ++q) {
        void* packet;
        while (rte_ring_dequeue(sides[1 - side].tx[q], &packet) == 0) {
          const uint64_t id = PacketId(static_cast<rte_mbuf*>(packet));
          const uint64_t n = id & 0xffffffff;
          EXPECT_EQ(id >> 32, uint64_t(side)) << "left by the wrong port";
          EXPECT_EQ((n % kFlows) % kWorkers, q) << "sent by another worker than its flow's";
          uint64_t& last = last_out[(id >> 32) * kFlows + n % kFlows];
          if (n + 1 <= last) ++out_of_order;
          last = n + 1;
          ++out;
          rte_pktmbuf_free(static_cast<rte_mbuf*>(packet));
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();

  uint64_t in = 0, tx = 0;
  for (auto& worker : workers) {
    const PipelineCounters& counters = worker->pipeline().counters();
    in += counters.rx[ports[0]].Get() + counters.rx[ports[1]].Get();
    tx += counters.tx[ports[0]].Get() + counters.tx[ports[1]].Get();
    EXPECT_GT(counters.rx[ports[0]].Get(), 0u) << "a worker got no flow";
  }
  EXPECT_EQ(in, 2 * kFramesPerSide);
  EXPECT_EQ(out, tx);
  EXPECT_EQ(in, out + dropped()) << "frames lost without a counted cause";
  EXPECT_EQ(dropped(), 0u) << "a constant delay within the hold limit drops nothing";
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(last_out.size(), 2 * kFlows);
  for (uint16_t side = 0; side < 2; ++side) StopPort(ports[side]);
}

}  // namespace
}  // namespace faultline
