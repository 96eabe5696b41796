// The statistics document: what `run` prints at exit and `replay --stats-json` writes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/counters.h"

namespace faultline {

struct PortReport {
  uint16_t port = 0;
  uint64_t rx = 0;  // frames the pipeline took from this port
  uint64_t tx = 0;  // frames the device accepted for sending on this port
  // Device counters (rte_eth_stats) where there is a device; absent offline.
  bool has_device = false;
  uint64_t device_ipackets = 0, device_opackets = 0, device_imissed = 0, device_ierrors = 0,
           device_oerrors = 0, device_rx_nombuf = 0;
};

struct StatsReport {
  std::vector<PortReport> ports;
  uint64_t dropped[static_cast<int>(DropCause::kCount)] = {};
  uint64_t tx_retries = 0;
  uint64_t held = 0;  // packets held (wheels, tx buffers) when the report was made / stop came
  uint64_t elapsed_ns = 0;       // forwarding time (live) or virtual time span (replay)
  uint64_t clock_backwards = 0;  // replay: inputs stamped before their predecessor

  uint64_t TotalDropped() const;
};

// Adds up the per-worker counters for ports [0, port_count).
StatsReport Summarize(const std::vector<const PipelineCounters*>& workers, uint16_t port_count);

// "a" for even ports, "b" for odd ones (port pairs are (0,1), (2,3), ...).
const char* SideName(uint16_t port);

nlohmann::json ToJson(const StatsReport& report);
std::string ToText(const StatsReport& report);

}  // namespace faultline
