// EAL start-up and shutdown shared by `run`, `replay` and the EAL tests.
#pragma once

#include <rte_mempool.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace faultline {

// Unless the user chose otherwise (--in-memory, --no-huge, --huge-unlink), hugepage files are
// unlinked as soon as they are mapped, so no run, not even a killed one, leaves files behind.
std::vector<std::string> WithHugepageHygiene(std::vector<std::string> eal_args);

// EAL arguments for an offline process that needs mbufs but no device: no hugepages, no PCI,
// no shared files, one lcore, `memory_mb` of memory.
std::vector<std::string> OfflineEalArgs(unsigned memory_mb);

// rte_eal_init with argv[0] = "faultline". Returns false with a message on failure.
bool InitEal(const std::vector<std::string>& eal_args, std::string* error);

// An initialised EAL, cleaned up (rte_eal_cleanup) when the session ends. Declare it before
// anything that uses DPDK memory, so that it is destroyed after all of it.
class EalSession {
 public:
  // Null with *error if rte_eal_init failed (then there is nothing to clean up).
  static std::unique_ptr<EalSession> Start(const std::vector<std::string>& eal_args,
                                           std::string* error);
  ~EalSession();
  EalSession(const EalSession&) = delete;
  EalSession& operator=(const EalSession&) = delete;

 private:
  EalSession() = default;
};

// An mbuf pool, freed when it goes.
struct MempoolFree {
  void operator()(rte_mempool* pool) const { rte_mempool_free(pool); }
};
using MbufPool = std::unique_ptr<rte_mempool, MempoolFree>;

// What the host offers DPDK, for explaining a failed start.
struct EalHost {
  uint64_t hugepages_free = 0;     // HugePages_Free in /proc/meminfo
  bool hugetlbfs_mounted = false;  // a hugetlbfs in /proc/mounts
  size_t dpdk_pci_devices = 0;     // PCI devices bound to vfio-pci, uio_pci_generic or igb_uio
};
EalHost ReadEalHost();

// Why `faultline run` with `eal_args` cannot start on `host` (no hugepages, no ports, ...), and
// command lines that work without hugepages or NICs: `command` (the faultline options before
// `--`, e.g. "faultline run --delay 5ms") with EAL arguments that need neither. `found_ports`:
// how many ports EAL found (-1: EAL did not start). Lines end in '\n'.
std::string ExplainEalStart(const std::vector<std::string>& eal_args, const EalHost& host,
                            const std::string& command, int found_ports);

}  // namespace faultline
