#include "dataplane/runtime/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace faultline {

std::vector<std::string> WithHugepageHygiene(std::vector<std::string> eal_args) {
  const bool user_chose = std::any_of(eal_args.begin(), eal_args.end(), [](const std::string& a) {
    return a == "--in-memory" || a == "--no-huge" || a.rfind("--huge-unlink", 0) == 0;
  });
  if (!user_chose) eal_args.push_back("--huge-unlink");
  return eal_args;
}

std::vector<std::string> OfflineEalArgs(unsigned memory_mb) {
  return {"--no-huge",   "--no-pci",
          "--no-shconf", "--no-telemetry",
          "-l",          "0",
          "-m",          std::to_string(memory_mb),
          "--log-level", "lib.eal:error"};
}

std::unique_ptr<EalSession> EalSession::Start(const std::vector<std::string>& eal_args,
                                              std::string* error) {
  if (!InitEal(eal_args, error)) return nullptr;
  return std::unique_ptr<EalSession>(new EalSession());
}

EalSession::~EalSession() { rte_eal_cleanup(); }

bool InitEal(const std::vector<std::string>& eal_args, std::string* error) {
  std::vector<std::string> storage = {"faultline"};
  storage.insert(storage.end(), eal_args.begin(), eal_args.end());
  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(storage.size()), argv.data()) < 0) {
    *error = std::string("EAL initialisation failed: ") + rte_strerror(rte_errno);
    return false;
  }
  return true;
}

namespace {

bool Has(const std::vector<std::string>& args, std::initializer_list<const char*> prefixes) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& arg) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const char* prefix) { return arg.rfind(prefix, 0) == 0; });
  });
}

// EAL arguments that need neither hugepages nor PCI devices: the user's, with what is missing.
std::string WithoutHugepages(const std::vector<std::string>& eal_args) {
  std::string line;
  auto add = [&line](const std::string& arg) { line += (line.empty() ? "" : " ") + arg; };
  if (!Has(eal_args, {"--no-huge"})) add("--no-huge");
  if (!Has(eal_args, {"--no-pci"})) add("--no-pci");
  // DPDK 22.11 refuses --in-memory with --no-huge; --no-shconf keeps a run's files away too.
  if (!Has(eal_args, {"--no-shconf", "--file-prefix"})) add("--no-shconf");
  if (!Has(eal_args, {"-m", "--socket-mem"})) add("-m 1024");
  if (!Has(eal_args, {"-l", "-c", "--lcores"})) add("-l 0");
  for (const std::string& arg : eal_args) {
    if (arg == "--in-memory" || arg == "--huge-unlink") continue;
    add(arg);
  }
  return line;
}

}  // namespace

EalHost ReadEalHost() {
  EalHost host;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("HugePages_Free:", 0) == 0) {
      host.hugepages_free = std::strtoull(line.c_str() + 15, nullptr, 10);
    }
  }
  std::ifstream mounts("/proc/mounts");
  for (std::string line; std::getline(mounts, line);) {
    host.hugetlbfs_mounted |= line.find(" hugetlbfs ") != std::string::npos;
  }
  for (const char* driver : {"vfio-pci", "uio_pci_generic", "igb_uio"}) {
    std::error_code error;
    const std::filesystem::path directory = std::filesystem::path("/sys/bus/pci/drivers") / driver;
    for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
      // Bound devices appear as links named by their address, 0000:03:00.0.
      const std::string name = entry.path().filename().string();
      host.dpdk_pci_devices += name.size() == 12 && name[4] == ':' && name[7] == ':';
    }
  }
  return host;
}

std::string ExplainEalStart(const std::vector<std::string>& eal_args, const EalHost& host,
                            const std::string& command, int found_ports) {
  std::string text;
  const bool no_huge = Has(eal_args, {"--no-huge"});
  const bool user_ports = Has(eal_args, {"--vdev", "-a", "--allow", "-w", "--pci-whitelist"});
  if (found_ports < 0 && !no_huge && (host.hugepages_free == 0 || !host.hugetlbfs_mounted)) {
    text += host.hugepages_free == 0
                ? "  no hugepages: /proc/meminfo has HugePages_Free 0, and EAL needs them "
                  "unless given --no-huge. Reserve and mount them (as root): echo 1024 > "
                  "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages; mkdir -p "
                  "/dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages\n"
                : "  hugepages are reserved but no hugetlbfs is mounted: mount -t hugetlbfs nodev "
                  "/dev/hugepages (as root), or give --no-huge\n";
  }
  if (!user_ports && (found_ports <= 0)) {
    text += "  no ports: no --vdev or -a in the EAL arguments" +
            std::string(host.dpdk_pci_devices == 0
                            ? ", and no PCI device is bound to vfio-pci, uio_pci_generic or "
                              "igb_uio (dpdk-devbind.py --status)"
                            : "") +
            "; faultline forwards between two ports (side a = port 0, side b = port 1)\n";
  } else if (found_ports >= 0 && found_ports < 2) {
    text += "  " + std::to_string(found_ports) +
            " port(s) found: faultline forwards between two (side a = port 0, side b = port 1)\n";
  }
  if (text.empty() && found_ports < 0) text += "  (the EAL: lines above say what failed)\n";
  std::vector<std::string> kept;
  for (size_t i = 0; i < eal_args.size(); ++i) {
    const std::string& arg = eal_args[i];
    // Ports the run could not use are replaced by virtual ones below.
    if (arg == "-a" || arg == "--allow" || arg == "-w" || arg == "--vdev") {
      ++i;
      continue;
    }
    if (arg.rfind("--vdev=", 0) == 0 || arg.rfind("--allow=", 0) == 0 ||
        (arg.rfind("-a", 0) == 0 && arg.size() > 2) || arg == "--no-pci") {
      continue;
    }
    kept.push_back(arg);
  }
  const std::string base = command + " -- " + WithoutHugepages(kept);
  text +=
      "  Without hugepages or NICs, on two network interfaces (veth pairs, or the NICs' kernel "
      "interfaces; replace IF_A and IF_B):\n    " +
      base +
      " --vdev=net_af_packet0,iface=IF_A,framecnt=8192 "
      "--vdev=net_af_packet1,iface=IF_B,framecnt=8192\n"
      "  or, to try it with no interface at all (net_null ports: an endless source of frames "
      "and a sink):\n    " +
      base + " --vdev=net_null0 --vdev=net_null1\n";
  return text;
}

}  // namespace faultline
