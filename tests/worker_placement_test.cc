// Where a live run puts its workers and mbufs (dataplane/runtime/worker_placement.h): the pool
// plan of a fake two-socket layout (this machine has one socket), the pools it makes, and a
// worker built by the lcore that will run it, in DPDK memory of that lcore's socket. Its own
// EAL: three lcores on the CPUs of this process (lcore 1 and 2 idle, as a run's workers are
// before they are launched).
#include "dataplane/runtime/worker_placement.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include <numeric>
#include <string>
#include <vector>

#include "dataplane/runtime/eal.h"

namespace faultline {
namespace {

const PoolSizing kSizing = {.hold = 100'003,
                            .ports = 2,
                            .rx_descriptors = 1024,
                            .tx_descriptors = 1024,
                            .tx_buffer = 64,
                            .cache_per_lcore = 256,
                            .lcores = 3,
                            .burst = 32};

uint64_t Sum(const PoolPlan& plan) {
  uint64_t total = 0;
  for (const PoolPlan::Pool& pool : plan.pools) total += pool.mbufs;
  return total;
}

TEST(PoolPlanTest, SingleSocketIsTheSinglePoolFormula) {
  const PoolPlan plan = PlanPools({0, 0}, kSizing);
  ASSERT_EQ(plan.pools.size(), 1u);
  EXPECT_EQ(plan.pools[0].socket, 0);
  // 100,003 held + 2 ports x 2 queues x 2,048 descriptors + 2 workers x 2 ports x 64 + 3 x 256
  // cached + 32.
  EXPECT_EQ(plan.pools[0].mbufs, 100'003u + 8'192 + 256 + 768 + 32);
  EXPECT_EQ(plan.pools[0].mbufs, PoolFrames(kSizing, 2));
  EXPECT_EQ(plan.queue_pool, (std::vector<size_t>{0, 0}));
  EXPECT_EQ(plan.cache_per_lcore, 256u);
}

TEST(PoolPlanTest, TwoSocketsGetAPoolEachSplitByTheirWorkers) {
  const PoolPlan plan = PlanPools({0, 1}, kSizing);
  ASSERT_EQ(plan.pools.size(), 2u);
  EXPECT_EQ(plan.pools[0].socket, 0);
  EXPECT_EQ(plan.pools[1].socket, 1);
  EXPECT_EQ(plan.queue_pool, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(Sum(plan), PoolFrames(kSizing, 2));
  // An odd total: one pool gets the odd frame.
  EXPECT_EQ(plan.pools[0].mbufs, PoolFrames(kSizing, 2) / 2);
  EXPECT_EQ(plan.pools[1].mbufs, PoolFrames(kSizing, 2) - PoolFrames(kSizing, 2) / 2);
}

TEST(PoolPlanTest, UnevenSharesFollowTheWorkersOfEachSocket) {
  // Workers 0 and 2 on socket 1, worker 1 on socket 0: socket 1's pool comes first (first seen).
  const PoolPlan plan = PlanPools({1, 0, 1}, kSizing);
  ASSERT_EQ(plan.pools.size(), 2u);
  EXPECT_EQ(plan.pools[0].socket, 1);
  EXPECT_EQ(plan.pools[1].socket, 0);
  EXPECT_EQ(plan.queue_pool, (std::vector<size_t>{0, 1, 0}));
  const uint64_t total = PoolFrames(kSizing, 3);
  EXPECT_EQ(Sum(plan), total);
  EXPECT_EQ(plan.pools[0].mbufs, total * 2 / 3);
  // Each pool covers its own workers' descriptors and transmit buffers.
  EXPECT_GE(plan.pools[1].mbufs, 2u * (1024 + 1024) + 2 * 64);
}

TEST(PoolPlanTest, PoolNamesCarryTheSocket) {
  EXPECT_EQ(PoolName(0), "faultline_pool_s0");
  EXPECT_EQ(PoolName(3), "faultline_pool_s3");
}

// A fake socket 1 has no DPDK memory here: its pool goes where EAL has memory, under its name.
TEST(PlacementEalTest, CreatesOnePoolPerSocketAndMapsQueuesToThem) {
  PoolSizing small = kSizing;
  small.hold = 1000;
  const PoolPlan plan = PlanPools({0, 1}, small);
  std::string error;
  MbufPools pools = CreatePools(plan, &error);
  ASSERT_EQ(pools.pools.size(), 2u) << error;
  EXPECT_EQ(std::string(pools.pools[0]->name), "faultline_pool_s0");
  EXPECT_EQ(std::string(pools.pools[1]->name), "faultline_pool_s1");
  EXPECT_EQ(pools.pools[0]->size, plan.pools[0].mbufs);
  EXPECT_EQ(pools.pools[1]->size, plan.pools[1].mbufs);
  EXPECT_EQ(pools.pools[0]->socket_id, 0);
  ASSERT_EQ(pools.queue_pools.size(), 2u);
  EXPECT_EQ(pools.queue_pools[0], pools.pools[0].get());
  EXPECT_EQ(pools.queue_pools[1], pools.pools[1].get());
}

TEST(PoolOpsTest, TheUsersChoiceWinsThenStackThenDpdksBest) {
  EXPECT_STREQ(ChoosePoolOps("ring_sp_sc", true, "ring_mp_mc"), "ring_sp_sc");
  EXPECT_STREQ(ChoosePoolOps("ring_sp_sc", false, "ring_mp_mc"), "ring_sp_sc");
  EXPECT_STREQ(ChoosePoolOps(nullptr, true, "ring_mp_mc"), "stack");
  EXPECT_STREQ(ChoosePoolOps(nullptr, false, "ring_mp_mc"), "ring_mp_mc");
}

// This EAL names no handler (--mbuf-pool-ops-name): the pools are LIFO stacks, which the
// project's packages provide (libdpdk-dev depends on librte-mempool-stack23).
TEST(PlacementEalTest, PoolsUseTheStackHandlerUnlessTheUserNamesOne) {
  ASSERT_TRUE(HasPoolOps("stack")) << "DPDK's stack mempool driver is not loaded";
  EXPECT_TRUE(HasPoolOps("ring_mp_mc"));
  EXPECT_FALSE(HasPoolOps("no_such_handler"));
  PoolSizing small = kSizing;
  small.hold = 1000;
  std::string error;
  MbufPools pools = CreatePools(PlanPools({0}, small), &error);
  ASSERT_EQ(pools.pools.size(), 1u) << error;
  EXPECT_STREQ(pools.ops, "stack");
  EXPECT_STREQ(rte_mempool_get_ops(pools.pools[0]->ops_index)->name, "stack");
  // Behind the per-lcore cache (bypassed here: no cache), the last mbuf returned is the first
  // handed out again; a ring would hand out the one returned longest ago.
  rte_mempool* pool = pools.pools[0].get();
  std::vector<void*> objects(600);
  ASSERT_EQ(rte_mempool_generic_get(pool, objects.data(), 600, nullptr), 0);
  rte_mempool_generic_put(pool, objects.data(), 600, nullptr);
  void* again = nullptr;
  ASSERT_EQ(rte_mempool_generic_get(pool, &again, 1, nullptr), 0);
  EXPECT_EQ(again, objects.back());
  rte_mempool_generic_put(pool, &again, 1, nullptr);
}

TEST(PlacementEalTest, TooBigAPoolIsAClearError) {
  PoolSizing huge = kSizing;
  huge.hold = 64ull << 20;  // 64 Mi frames: far beyond -m 256
  std::string error;
  const MbufPools pools = CreatePools(PlanPools({0}, huge), &error);
  EXPECT_TRUE(pools.pools.empty());
  EXPECT_NE(error.find("cannot allocate"), std::string::npos) << error;
}

void ExpectOnSocketOf(const Worker* worker, unsigned lcore) {
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(worker) % 64, 0u) << "cache-aligned";
  const rte_memseg* segment = rte_mem_virt2memseg(worker, nullptr);
  ASSERT_NE(segment, nullptr) << "the worker is in DPDK memory";
  EXPECT_EQ(segment->socket_id, static_cast<int>(rte_lcore_to_socket_id(lcore)));
}

TEST(PlacementEalTest, WorkerIsBuiltByItsLcoreOnItsSocket) {
  WorkerPlan plan;
  plan.pipeline.flow_capacity = 1024;
  plan.pipeline.hold_limit = 1000;
  for (unsigned lcore : {1u, 2u}) {
    std::string error;
    SocketWorker worker = BuildWorkerOnLcore(plan, lcore, &error);
    ASSERT_NE(worker, nullptr) << error;
    ExpectOnSocketOf(worker.get(), lcore);
    // The lcore is free again: the run launches the worker's loop on it next.
    EXPECT_EQ(rte_eal_get_lcore_state(lcore), WAIT);
    EXPECT_EQ(worker->pipeline().counters().rx[0].Get(), 0u);
  }
  // A single worker on the main lcore is built by the caller itself.
  std::string error;
  SocketWorker on_main = BuildWorkerOnLcore(plan, rte_get_main_lcore(), &error);
  ASSERT_NE(on_main, nullptr) << error;
  ExpectOnSocketOf(on_main.get(), rte_get_main_lcore());
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Three lcores on CPU 0 (lcore 0 is the main one): worker lcores to build on, no CPU needed.
  const std::vector<std::string> eal = {
      "--no-huge",   "--no-pci", "--no-shconf", "--no-telemetry", "--lcores",
      "0@0,1@0,2@0", "-m",       "256",         "--log-level",    "lib.eal:error"};
  std::string error;
  if (!faultline::InitEal(eal, &error)) {
    std::fprintf(stderr, "EAL: %s\n", error.c_str());
    return 1;
  }
  const int status = RUN_ALL_TESTS();
  rte_eal_cleanup();
  return status;
}
