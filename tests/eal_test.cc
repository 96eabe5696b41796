// What `faultline run` says when EAL cannot start or finds too few ports: what is missing on the
// host, and command lines that work without hugepages or NICs (live_run_test runs one).
#include "dataplane/runtime/eal.h"

#include <gtest/gtest.h>

#include <string>

namespace faultline {
namespace {

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ExplainEalStart, NoHugepagesAndNoPortsOnABareHost) {
  const std::string text = ExplainEalStart({}, EalHost{}, "faultline run --delay 5ms", -1);
  EXPECT_TRUE(Has(text, "  no hugepages: /proc/meminfo has HugePages_Free 0")) << text;
  EXPECT_TRUE(Has(text, "mount -t hugetlbfs nodev /dev/hugepages")) << text;
  EXPECT_TRUE(Has(text,
                  "  no ports: no --vdev or -a in the EAL arguments, and no PCI device is "
                  "bound to vfio-pci"))
      << text;
  EXPECT_TRUE(Has(text,
                  "    faultline run --delay 5ms -- --no-huge --no-pci --no-shconf -m 1024 "
                  "-l 0 --vdev=net_af_packet0,iface=IF_A,framecnt=8192 "
                  "--vdev=net_af_packet1,iface=IF_B,framecnt=8192\n"))
      << text;
  EXPECT_TRUE(Has(text,
                  "    faultline run --delay 5ms -- --no-huge --no-pci --no-shconf -m 1024 "
                  "-l 0 --vdev=net_null0 --vdev=net_null1\n"))
      << text;
}

TEST(ExplainEalStart, ReservedButUnmountedHugepages) {
  const std::string text =
      ExplainEalStart({"--vdev=net_null0", "--vdev=net_null1"},
                      EalHost{.hugepages_free = 512, .hugetlbfs_mounted = false}, "f run", -1);
  EXPECT_TRUE(Has(text, "hugepages are reserved but no hugetlbfs is mounted")) << text;
  EXPECT_FALSE(Has(text, "no ports")) << text;
}

// With hugepages and NICs in place the failure is something else: the EAL lines say what. The
// suggestions keep the user's lcores and memory and replace the PCI devices by virtual ports.
TEST(ExplainEalStart, OtherFailuresKeepTheUsersArguments) {
  const std::string text = ExplainEalStart(
      {"-l", "1", "-m", "2048", "-a", "0000:03:00.0", "-a0000:03:00.1", "--in-memory"},
      EalHost{.hugepages_free = 1024, .hugetlbfs_mounted = true, .dpdk_pci_devices = 2},
      "faultline run", -1);
  EXPECT_TRUE(Has(text, "(the EAL: lines above say what failed)")) << text;
  EXPECT_FALSE(Has(text, "no hugepages")) << text;
  EXPECT_TRUE(Has(text,
                  "    faultline run -- --no-huge --no-pci --no-shconf -l 1 -m 2048 "
                  "--vdev=net_null0 --vdev=net_null1\n"))
      << text;
  EXPECT_FALSE(Has(text, "0000:03:00")) << text;
  EXPECT_FALSE(Has(text, "--in-memory")) << "DPDK 22.11 refuses it with --no-huge:\n" << text;
}

TEST(ExplainEalStart, TooFewPortsFound) {
  const std::string text =
      ExplainEalStart({"--no-huge", "--vdev=net_ring0"}, EalHost{}, "faultline run", 1);
  EXPECT_TRUE(Has(text, "  1 port(s) found: faultline forwards between two")) << text;
  EXPECT_FALSE(Has(text, "no hugepages")) << text;
  EXPECT_TRUE(Has(text,
                  "faultline run -- --no-pci --no-shconf -m 1024 -l 0 --no-huge "
                  "--vdev=net_null0 --vdev=net_null1\n"))
      << text;
}

}  // namespace
}  // namespace faultline
