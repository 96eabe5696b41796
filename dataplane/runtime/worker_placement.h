// Where a live run's workers and mbufs live: each worker's state on the NUMA socket of the lcore
// that runs it, and one mbuf pool per socket that has a worker, feeding the rx queues those
// workers poll (a frame's buffer, its descriptor and the worker that handles it on one socket).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/worker.h"
#include "dataplane/runtime/eal.h"

namespace faultline {

// The terms of the mbuf pool formula: the frames the workers may hold, the descriptors of every
// rx and tx queue, the workers' transmit buffers, the per-lcore caches and one burst.
struct PoolSizing {
  uint64_t hold = 0;   // frames held at most, all workers
  uint16_t ports = 0;  // ports, each with one rx and one tx queue per worker
  uint16_t rx_descriptors = 0;
  uint16_t tx_descriptors = 0;
  uint32_t tx_buffer = 0;  // frames a worker's transmit buffer of one port holds
  uint32_t cache_per_lcore = 0;
  unsigned lcores = 0;  // EAL's lcores (each may cache frames of a pool)
  uint32_t burst = 0;
};

// The single pool formula of `workers` workers.
uint64_t PoolFrames(const PoolSizing& sizing, unsigned workers);

struct PoolPlan {
  struct Pool {
    int socket = 0;
    uint32_t mbufs = 0;
  };
  std::vector<Pool> pools;         // one per socket that has a worker, in the order first seen
  std::vector<size_t> queue_pool;  // rx queue i (worker i) -> index in `pools`
  uint32_t cache_per_lcore = 0;    // each pool's per-lcore cache (the sizing's)
};

// One pool per socket of `worker_sockets` (worker i runs on socket worker_sockets[i] and polls rx
// queue i of every port): PoolFrames(sizing, N) split by each socket's share of the N workers
// (every term of the formula grows with the workers; the shares are rounded so that the pools
// add up to the single-pool formula exactly). Pure: the sockets are given, not looked up.
PoolPlan PlanPools(const std::vector<int>& worker_sockets, const PoolSizing& sizing);

// The pool name of `socket`: faultline_pool_s<socket>.
std::string PoolName(int socket);

// The mempool handler of faultline's pools when the user names none (EAL --mbuf-pool-ops-name):
// DPDK's "stack", which hands out the mbufs freed last first, so a pool keeps cycling through
// mbufs still in cache. DPDK's default, "ring_mp_mc", is a FIFO: whenever a worker's per-lcore
// cache overflows (its frees outrun its allocations for a moment, as when a delay releases
// several bursts at once) the freed, cached mbufs go to the back of a ring as long as the pool,
// and when the cache runs dry it refills from the front with the mbufs untouched longest. With
// frames held, the device then writes into cold mbufs (bench/RESULTS.md, "the mbuf pool's
// order": a 1 ms delay forwards about a fifth more on net_pcap).
inline constexpr const char* kPreferredPoolOps = "stack";
// The handler a pool is created with: the user's choice (`user`, null if none) always; else
// kPreferredPoolOps if this DPDK has it (`preferred_available`); else DPDK's best (`best`).
const char* ChoosePoolOps(const char* user, bool preferred_available, const char* best);
// Whether this process's DPDK registered a mempool handler called `name` (its drivers loaded).
bool HasPoolOps(const char* name);
// ChoosePoolOps for this process (after rte_eal_init: EAL's --mbuf-pool-ops-name, the handlers
// its drivers registered).
const char* PoolOpsOfThisProcess();
// The handlers this process's DPDK registered, comma-separated (for an error message).
std::string PoolOpsNames();

// The pools of a plan, created with PoolOpsOfThisProcess's handler. Empty (and *error set) if
// one cannot be.
struct MbufPools {
  std::vector<MbufPool> pools;
  std::vector<rte_mempool*> queue_pools;  // rx queue i -> its worker's socket's pool
  const char* ops = "";                   // the mempool handler of every pool
};
MbufPools CreatePools(const PoolPlan& plan, std::string* error);

// A Worker object in DPDK memory of `socket` (rte_zmalloc_socket, cache-aligned), freed with it.
struct WorkerFree {
  void operator()(Worker* worker) const;
};
using SocketWorker = std::unique_ptr<Worker, WorkerFree>;

// Builds the worker that `lcore` will run: the Worker object on the lcore's socket, and every
// table its pipeline allocates (flow table, timing wheel, rule state) allocated and first touched
// by the lcore's own thread (rte_eal_remote_launch), so that the kernel's default local policy
// puts their pages on that socket too. `lcore` must be idle (not yet launched), or the calling
// lcore itself (a worker on the main lcore: built here). Null with *error if it cannot be built.
SocketWorker BuildWorkerOnLcore(const WorkerPlan& plan, unsigned lcore, std::string* error);

}  // namespace faultline
