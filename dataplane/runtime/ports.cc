#include "dataplane/runtime/ports.h"

#include <rte_ethdev.h>

namespace faultline {

namespace {
// Toeplitz key of repeated 0x6d5a: the hash of (src, dst) equals that of (dst, src), so both
// directions of a flow land on the same queue index, and so the same worker (its flow state).
uint8_t g_symmetric_rss_key[40] = {0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
                                   0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
                                   0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
                                   0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};
}  // namespace

bool HasIpRss(uint16_t port) {
  rte_eth_dev_info info;
  return rte_eth_dev_info_get(port, &info) == 0 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP);
}

bool StartPort(uint16_t port, const PortLayout& layout, rte_mempool* pool, std::string* error) {
  return StartPort(port, layout, std::span<rte_mempool* const>(&pool, 1), error);
}

bool StartPort(uint16_t port, const PortLayout& layout, std::span<rte_mempool* const> queue_pools,
               std::string* error) {
  auto fail = [&](const char* what, int rc) {
    *error = "port " + std::to_string(port) + ": " + what + ": " + rte_strerror(-rc);
    return false;
  };
  if (queue_pools.size() != 1 && queue_pools.size() < layout.queues) {
    *error = "port " + std::to_string(port) + ": " + std::to_string(queue_pools.size()) +
             " mbuf pools for " + std::to_string(layout.queues) + " rx queues";
    return false;
  }
  rte_eth_dev_info info;
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) return fail("cannot read device info", rc);
  if (layout.queues > info.max_rx_queues || layout.queues > info.max_tx_queues) {
    *error = "port " + std::to_string(port) + " (" + info.driver_name + ") has " +
             std::to_string(info.max_rx_queues) + " rx / " + std::to_string(info.max_tx_queues) +
             " tx queues, but " + std::to_string(layout.queues) +
             " workers need one each (for net_af_packet add qpairs=N)";
    return false;
  }
  rte_eth_conf conf{};
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
    conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
  }
  // Several workers: the device spreads flows over their queues by an IP-only hash (addresses,
  // no ports), so a flow's later fragments (no L4 header) follow its first one to the same
  // worker, which keeps the flow's order and state.
  if (layout.queues > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & RTE_ETH_RSS_IP;
    if (info.hash_key_size == sizeof(g_symmetric_rss_key)) {
      conf.rx_adv_conf.rss_conf.rss_key = g_symmetric_rss_key;
      conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(g_symmetric_rss_key);
    }
  }
  rc = rte_eth_dev_configure(port, layout.queues, layout.queues, &conf);
  if (rc != 0) return fail("cannot configure", rc);
  uint16_t rx_descriptors = layout.rx_descriptors;
  uint16_t tx_descriptors = layout.tx_descriptors;
  rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_descriptors, &tx_descriptors);
  if (rc != 0) return fail("cannot adjust descriptor counts", rc);
  const int socket = rte_eth_dev_socket_id(port);
  for (uint16_t queue = 0; queue < layout.queues; ++queue) {
    rte_mempool* pool = queue_pools[queue_pools.size() == 1 ? 0 : queue];
    rc = rte_eth_rx_queue_setup(port, queue, rx_descriptors, socket, nullptr, pool);
    if (rc != 0) return fail("cannot set up an rx queue", rc);
    rte_eth_txconf txconf = info.default_txconf;
    txconf.offloads = conf.txmode.offloads;
    rc = rte_eth_tx_queue_setup(port, queue, tx_descriptors, socket, &txconf);
    if (rc != 0) return fail("cannot set up a tx queue", rc);
  }
  rc = rte_eth_dev_start(port);
  if (rc != 0) return fail("cannot start", rc);
  // Not every virtual device has promiscuous mode (net_ring, net_null); they pass all anyway.
  rte_eth_promiscuous_enable(port);
  return true;
}

void StopPort(uint16_t port) {
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);
}

}  // namespace faultline
