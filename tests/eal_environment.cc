#include "tests/eal_environment.h"

#include <rte_eal.h>

#include <cstring>

#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/runtime/eal.h"

namespace faultline::testing {

namespace {
rte_mempool* g_pool = nullptr;
}

void EalEnvironment::SetUp() {
  std::vector<std::string> args = OfflineEalArgs(256);
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::string error;
  ASSERT_TRUE(InitEal(args, &error)) << error;
  g_pool = rte_pktmbuf_pool_create("test_pool", 16383, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(g_pool, nullptr);
  ASSERT_TRUE(RegisterPacketMeta(&error)) << error;
}

void EalEnvironment::TearDown() {
  rte_mempool_free(g_pool);
  g_pool = nullptr;
  rte_eal_cleanup();
}

rte_mempool* EalEnvironment::pool() { return g_pool; }

rte_mbuf* MakePacket(rte_mempool* pool, uint64_t id, uint16_t length) {
  rte_mbuf* packet = rte_pktmbuf_alloc(pool);
  if (packet == nullptr) return nullptr;
  char* data = rte_pktmbuf_append(packet, length);
  std::memset(data, 0xab, length);
  std::memcpy(data + 14, &id, sizeof(id));
  return packet;
}

uint64_t PacketId(const rte_mbuf* packet) {
  uint64_t id;
  std::memcpy(&id, rte_pktmbuf_mtod(packet, const char*) + 14, sizeof(id));
  return id;
}

}  // namespace faultline::testing
