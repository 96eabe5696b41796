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
// Frames the test puts on the wire ahead of what came out: within the test pool of 16383 mbufs,
// and within each worker's hold limit however the flows fall (a worker may get all of them).
constexpr uint64_t kInFlight = 8192;

struct Side {
  rte_ring* rx[kWorkers];
  rte_ring* tx[kWorkers];
  uint16_t port = 0;
};

// Side s as a net_ring port of kWorkers queue pairs, started.
void MakeSide(int s, Side* side) {
  for (uint16_t q = 0; q < kWorkers; ++q) {
    const std::string name = "so" + std::to_string(s) + "_" + std::to_string(q);
    side->rx[q] = rte_ring_create((name + "rx").c_str(), 1024, 0, RING_F_SC_DEQ);
    side->tx[q] = rte_ring_create((name + "tx").c_str(), 1024, 0, RING_F_SP_ENQ);
    ASSERT_NE(side->rx[q], nullptr);
    ASSERT_NE(side->tx[q], nullptr);
  }
  const int port = rte_eth_from_rings(("scaleout_" + std::to_string(s)).c_str(), side->rx, kWorkers,
                                      side->tx, kWorkers, 0);
  ASSERT_GE(port, 0);
  side->port = static_cast<uint16_t>(port);
  std::string error;
  ASSERT_TRUE(StartPort(side->port, PortLayout{.queues = kWorkers}, EalEnvironment::pool(), &error))
      << error;
}

// The wire on both sides: frame n of side s has id s << 32 | n, flow n % kFlows, and enters by
// the queue of its flow (flow % kWorkers), as RSS would put it.
class Wire {
 public:
  explicit Wire(Side* sides) : sides_(sides) {}

  // Puts side s's next frames on its queues while fewer than kInFlight are out.
  void Feed(int s) {
    while (next_[s] < kFramesPerSide && next_[0] + next_[1] - out_ < kInFlight) {
      const uint64_t n = next_[s];
      rte_mbuf* packet = MakePacket(EalEnvironment::pool(), uint64_t(s) << 32 | n);
      ASSERT_NE(packet, nullptr);
      if (rte_ring_enqueue(sides_[s].rx[(n % kFlows) % kWorkers], packet) != 0) {
        rte_pktmbuf_free(packet);
        return;  // the queue is full: again later
      }
      ++next_[s];
    }
  }
  // Takes what left by side s's port (frames from the other side), checking each flow's order.
  void Drain(int s) {
    for (uint16_t q = 0; q < kWorkers; ++q) {
      void* packet;
      while (rte_ring_dequeue(sides_[s].tx[q], &packet) == 0) {
        const uint64_t id = PacketId(static_cast<rte_mbuf*>(packet));
        const uint64_t n = id & 0xffffffff;
        EXPECT_EQ(id >> 32, uint64_t(1 - s)) << "left by the wrong port";
        EXPECT_EQ((n % kFlows) % kWorkers, q) << "sent by another worker than its flow's";
        uint64_t& last = last_out_[(id >> 32) * kFlows + n % kFlows];
        if (n + 1 <= last) ++out_of_order_;
        last = n + 1;
        ++out_;
        rte_pktmbuf_free(static_cast<rte_mbuf*>(packet));
      }
    }
  }
  uint64_t out() const { return out_; }
  uint64_t out_of_order() const { return out_of_order_; }
  size_t flows_seen() const { return last_out_.size(); }

 private:
  Side* sides_;
  uint64_t next_[2] = {0, 0};
  uint64_t out_ = 0, out_of_order_ = 0;
  std::map<uint64_t, uint64_t> last_out_;  // side * kFlows + flow -> last frame number + 1
};

uint64_t Dropped(const std::vector<std::unique_ptr<Worker>>& workers) {
  uint64_t total = 0;
  for (const auto& worker : workers) {
    for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
      total += worker->pipeline().counters().dropped[cause].Get();
    }
  }
  return total;
}

TEST(WorkerScaleOutTest, TwoWorkersLoseNothingAndKeepEachFlowInOrder) {
  Side sides[2];
  for (int s = 0; s < 2; ++s) ASSERT_NO_FATAL_FAILURE(MakeSide(s, &sides[s]));
  ASSERT_EQ(sides[0].port % 2, 0) << "a port pair";
  ASSERT_EQ(sides[1].port, sides[0].port + 1) << "a port pair";

  const TimeBase tsc = TimeBase::Tsc();
  std::vector<std::unique_ptr<Worker>> workers;
  for (uint16_t q = 0; q < kWorkers; ++q) {
    WorkerPlan plan;
    plan.queue = q;
    plan.ports = {sides[0].port, sides[1].port};
    plan.time_base = tsc;
    plan.pipeline.delay = tsc.FromNs(50'000);
    plan.pipeline.hold_limit = kInFlight;
    plan.pipeline.rng_stream = q;
    plan.idle_sleep_ns = 20'000;  // two cores shared with everything else: back off when idle
    workers.push_back(std::make_unique<Worker>(plan, rte_rdtsc()));
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& worker : workers) threads.emplace_back([&worker, &stop] { worker->Run(stop); });

  Wire wire(sides);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (wire.out() + Dropped(workers) < 2 * kFramesPerSide &&
         std::chrono::steady_clock::now() < deadline) {
    for (int s = 0; s < 2; ++s) {
      ASSERT_NO_FATAL_FAILURE(wire.Feed(s));
      wire.Drain(s);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();

  uint64_t in = 0, tx = 0;
  for (auto& worker : workers) {
    const PipelineCounters& counters = worker->pipeline().counters();
    in += counters.rx[sides[0].port].Get() + counters.rx[sides[1].port].Get();
    tx += counters.tx[sides[0].port].Get() + counters.tx[sides[1].port].Get();
    EXPECT_GT(counters.rx[sides[0].port].Get(), 0u) << "a worker got no flow";
  }
  EXPECT_EQ(in, 2 * kFramesPerSide);
  EXPECT_EQ(wire.out(), tx);
  EXPECT_EQ(in, wire.out() + Dropped(workers)) << "frames lost without a counted cause";
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    uint64_t dropped = 0;
    for (const auto& worker : workers)
      dropped += worker->pipeline().counters().dropped[cause].Get();
    EXPECT_EQ(dropped, 0u) << DropCauseName(static_cast<DropCause>(cause))
                           << ": a constant delay within the hold limit drops nothing";
  }
  EXPECT_EQ(wire.out_of_order(), 0u);
  EXPECT_EQ(wire.flows_seen(), 2 * kFlows);
  for (const Side& side : sides) StopPort(side.port);
}

}  // namespace
}  // namespace faultline
