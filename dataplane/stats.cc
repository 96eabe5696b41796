#include "dataplane/stats.h"

#include <cstdio>

namespace faultline {

uint64_t StatsReport::TotalDropped() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

StatsReport Summarize(const std::vector<const PipelineCounters*>& workers, uint16_t port_count) {
  StatsReport report;
  report.ports.resize(port_count);
  for (uint16_t port = 0; port < port_count; ++port) report.ports[port].port = port;
  for (const PipelineCounters* counters : workers) {
    for (uint16_t port = 0; port < port_count; ++port) {
      report.ports[port].rx += counters->rx[port].Get();
      report.ports[port].tx += counters->tx[port].Get();
    }
    for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
      report.dropped[cause] += counters->dropped[cause].Get();
    }
    report.tx_retries += counters->tx_retries.Get();
  }
  return report;
}

const char* SideName(uint16_t port) { return port % 2 == 0 ? "a" : "b"; }

nlohmann::json ToJson(const StatsReport& report) {
  nlohmann::json ports = nlohmann::json::array();
  for (const PortReport& port : report.ports) {
    nlohmann::json entry = {
        {"port", port.port}, {"side", SideName(port.port)}, {"rx", port.rx}, {"tx", port.tx}};
    if (port.has_device) {
      entry["device"] = {{"ipackets", port.device_ipackets}, {"opackets", port.device_opackets},
                         {"imissed", port.device_imissed},   {"ierrors", port.device_ierrors},
                         {"oerrors", port.device_oerrors},   {"rx_nombuf", port.device_rx_nombuf}};
    }
    ports.push_back(entry);
  }
  nlohmann::json dropped = nlohmann::json::object();
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    dropped[DropCauseName(static_cast<DropCause>(cause))] = report.dropped[cause];
  }
  return {{"ports", ports},
          {"dropped", dropped},
          {"tx_retries", report.tx_retries},
          {"held", report.held},
          {"elapsed_ns", report.elapsed_ns},
          {"clock_backwards", report.clock_backwards}};
}

std::string ToText(const StatsReport& report) {
  std::string text;
  char line[256];
  const double seconds = report.elapsed_ns / 1e9;
  for (const PortReport& port : report.ports) {
    std::snprintf(line, sizeof(line), "port %u (side %s): rx %lu  tx %lu", port.port,
                  SideName(port.port), port.rx, port.tx);
    text += line;
    if (seconds > 0) {
      std::snprintf(line, sizeof(line), "  (rx %.3f Mpps, tx %.3f Mpps)", port.rx / seconds / 1e6,
                    port.tx / seconds / 1e6);
      text += line;
    }
    if (port.has_device) {
      std::snprintf(
          line, sizeof(line), "  device: imissed %lu ierrors %lu oerrors %lu rx_nombuf %lu",
          port.device_imissed, port.device_ierrors, port.device_oerrors, port.device_rx_nombuf);
      text += line;
    }
    text += "\n";
  }
  text += "dropped:";
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    std::snprintf(line, sizeof(line), " %s %lu", DropCauseName(static_cast<DropCause>(cause)),
                  report.dropped[cause]);
    text += line;
  }
  std::snprintf(line, sizeof(line), "\nheld %lu  tx_retries %lu  elapsed %.3f s\n", report.held,
                report.tx_retries, seconds);
  text += line;
  return text;
}

}  // namespace faultline
