// EAL start-up and shutdown shared by `run`, `replay` and the EAL tests.
#pragma once

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

}  // namespace faultline
