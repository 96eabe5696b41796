#include "dataplane/runtime/worker_placement.h"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <new>

namespace faultline {

uint64_t PoolFrames(const PoolSizing& sizing, unsigned workers) {
  const uint64_t descriptors =
      uint64_t{sizing.ports} * workers * (sizing.rx_descriptors + sizing.tx_descriptors);
  const uint64_t in_tx_buffers = uint64_t{workers} * sizing.ports * sizing.tx_buffer;
  return sizing.hold + descriptors + in_tx_buffers +
         uint64_t{sizing.cache_per_lcore} * sizing.lcores + sizing.burst;
}

PoolPlan PlanPools(const std::vector<int>& worker_sockets, const PoolSizing& sizing) {
  PoolPlan plan;
  plan.cache_per_lcore = sizing.cache_per_lcore;
  std::vector<unsigned> workers_on;  // per pool
  for (int socket : worker_sockets) {
    const auto found =
        std::find_if(plan.pools.begin(), plan.pools.end(),
                     [socket](const PoolPlan::Pool& pool) { return pool.socket == socket; });
    const size_t index = static_cast<size_t>(found - plan.pools.begin());
    if (found == plan.pools.end()) {
      plan.pools.push_back({.socket = socket});
      workers_on.push_back(0);
    }
    ++workers_on[index];
    plan.queue_pool.push_back(index);
  }
  const uint64_t workers = worker_sockets.size();
  const uint64_t total = PoolFrames(sizing, static_cast<unsigned>(workers));
  // Pool j gets total x (its workers / all workers), rounded at the cumulative bounds so that
  // the pools add up to `total`.
  uint64_t before = 0;
  for (size_t j = 0; j < plan.pools.size(); ++j) {
    const uint64_t after = before + workers_on[j];
    plan.pools[j].mbufs = static_cast<uint32_t>(total * after / workers - total * before / workers);
    before = after;
  }
  return plan;
}

std::string PoolName(int socket) { return "faultline_pool_s" + std::to_string(socket); }

const char* ChoosePoolOps(const char* user, bool preferred_available, const char* best) {
  if (user != nullptr) return user;
  return preferred_available ? kPreferredPoolOps : best;
}

bool HasPoolOps(const char* name) {
  for (uint32_t index = 0; index < rte_mempool_ops_table.num_ops; ++index) {
    if (std::strcmp(rte_mempool_ops_table.ops[index].name, name) == 0) return true;
  }
  return false;
}

const char* PoolOpsOfThisProcess() {
  return ChoosePoolOps(rte_mbuf_user_mempool_ops(), HasPoolOps(kPreferredPoolOps),
                       rte_mbuf_best_mempool_ops());
}

std::string PoolOpsNames() {
  std::string names;
  for (uint32_t index = 0; index < rte_mempool_ops_table.num_ops; ++index) {
    if (!names.empty()) names += ", ";
    names += rte_mempool_ops_table.ops[index].name;
  }
  return names;
}

MbufPools CreatePools(const PoolPlan& plan, std::string* error) {
  MbufPools created;
  created.ops = PoolOpsOfThisProcess();
  for (const PoolPlan::Pool& pool : plan.pools) {
    // A socket without DPDK memory of its own (--no-huge keeps all on one; EINVAL or ENOMEM):
    // the pool goes where there is memory, and the start line says which socket that is.
    rte_mempool* made = rte_pktmbuf_pool_create_by_ops(
        PoolName(pool.socket).c_str(), pool.mbufs, plan.cache_per_lcore, 0,
        RTE_MBUF_DEFAULT_BUF_SIZE, pool.socket, created.ops);
    if (made == nullptr) {
      made = rte_pktmbuf_pool_create_by_ops(PoolName(pool.socket).c_str(), pool.mbufs,
                                            plan.cache_per_lcore, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                            SOCKET_ID_ANY, created.ops);
    }
    if (made == nullptr) {
      *error = "cannot allocate " + std::to_string(pool.mbufs) + " mbufs for socket " +
               std::to_string(pool.socket) + " (mempool handler " + created.ops +
               "): " + rte_strerror(rte_errno);
      return {};
    }
    created.pools.emplace_back(made);
  }
  for (size_t index : plan.queue_pool) created.queue_pools.push_back(created.pools[index].get());
  return created;
}

void WorkerFree::operator()(Worker* worker) const {
  worker->~Worker();
  rte_free(worker);
}

namespace {

struct BuildJob {
  const WorkerPlan* plan = nullptr;
  int socket = SOCKET_ID_ANY;
  SocketWorker worker;
  std::string error;
};

// On the lcore that will run the worker.
int BuildHere(void* arg) {
  auto* job = static_cast<BuildJob*>(arg);
  void* memory =
      rte_zmalloc_socket("faultline_worker", sizeof(Worker), alignof(Worker), job->socket);
  // No DPDK memory on that socket (--no-huge keeps it all on one): wherever EAL has some.
  if (memory == nullptr) memory = rte_zmalloc("faultline_worker", sizeof(Worker), alignof(Worker));
  if (memory == nullptr) {
    job->error = "no DPDK memory for a worker (" + std::to_string(sizeof(Worker)) + " bytes)";
    return -1;
  }
  try {
    job->worker.reset(new (memory) Worker(*job->plan, rte_rdtsc()));
  } catch (const std::exception& failure) {
    rte_free(memory);
    job->error = std::string("cannot build a worker: ") + failure.what();
    return -1;
  }
  return 0;
}

}  // namespace

SocketWorker BuildWorkerOnLcore(const WorkerPlan& plan, unsigned lcore, std::string* error) {
  BuildJob job{.plan = &plan, .socket = static_cast<int>(rte_lcore_to_socket_id(lcore))};
  if (lcore == rte_lcore_id()) {
    BuildHere(&job);
  } else if (const int rc = rte_eal_remote_launch(BuildHere, &job, lcore); rc != 0) {
    *error = "cannot start lcore " + std::to_string(lcore) + ": " + rte_strerror(-rc);
    return nullptr;
  } else {
    rte_eal_wait_lcore(lcore);
  }
  if (job.worker == nullptr) *error = job.error;
  return std::move(job.worker);
}

}  // namespace faultline
