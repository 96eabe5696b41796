// Ethernet port set-up: what every DPDK port needs before the workers poll it.
#pragma once

#include <rte_mempool.h>

#include <cstdint>
#include <string>

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

void StopPort(uint16_t port);

}  // namespace faultline
