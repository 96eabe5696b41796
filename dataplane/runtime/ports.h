// Ethernet port set-up: what every DPDK port needs before the workers poll it.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace faultline {

struct PortLayout {
  uint16_t queues = 1;  // rx and tx queues per port: one of each per worker
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
};

// Configures `port` with `layout` queues fed from `pool`, enables promiscuous mode where the
// device has it (a bump in the wire forwards every frame, not only its own), and starts it.
// Multi-segment transmit is requested where the device offers it; nothing else is assumed.
bool StartPort(uint16_t port, const PortLayout& layout, rte_mempool* pool, std::string* error);
// The same with rx queue i fed from queue_pools[i] (the pool of the socket of the worker that
// polls it); one pool feeds them all.
bool StartPort(uint16_t port, const PortLayout& layout, std::span<rte_mempool* const> queue_pools,
               std::string* error);

void StopPort(uint16_t port);

// Whether the device can spread flows over its rx queues by an IP hash (RSS). StartPort turns it
// on for several queues; virtual devices (net_ring, net_null, net_pcap) have none: their queues
// carry whatever their source puts in each.
bool HasIpRss(uint16_t port);

// Ports started with StartPort, stopped (in the order started) when the set goes.
class StartedPorts {
 public:
  StartedPorts() = default;
  ~StartedPorts() {
    for (uint16_t port : ports_) StopPort(port);
  }
  StartedPorts(const StartedPorts&) = delete;
  StartedPorts& operator=(const StartedPorts&) = delete;

  // StartPort; the port is stopped with the set if it started.
  bool Start(uint16_t port, const PortLayout& layout, std::span<rte_mempool* const> queue_pools,
             std::string* error) {
    if (!StartPort(port, layout, queue_pools, error)) return false;
    ports_.push_back(port);
    return true;
  }

 private:
  std::vector<uint16_t> ports_;
};

}  // namespace faultline
