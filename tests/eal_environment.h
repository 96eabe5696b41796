// One EAL per test process (rte_eal_init runs once): a gtest Environment that starts it with
// no hugepages, no PCI and no shared files, and a pool and the packet metadata field ready.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <string>
#include <vector>

namespace faultline::testing {

class EalEnvironment : public ::testing::Environment {
 public:
  // Extra EAL arguments (for example --vdev=net_ring...) come from the test's main.
  explicit EalEnvironment(std::vector<std::string> extra_args = {})
      : extra_args_(std::move(extra_args)) {}
  void SetUp() override;
  void TearDown() override;

  static rte_mempool* pool();

 private:
  std::vector<std::string> extra_args_;
};

// A packet of `length` bytes whose payload encodes `id` (bytes 14..21), for tracking.
rte_mbuf* MakePacket(rte_mempool* pool, uint64_t id, uint16_t length = 64);
uint64_t PacketId(const rte_mbuf* packet);

}  // namespace faultline::testing
