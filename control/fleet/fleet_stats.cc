#include "control/fleet/fleet_stats.h"

#include <algorithm>
#include <set>

namespace faultline {
namespace {

// Keys that are not counters: names and descriptions stay as the first box has them, and
// per-box facts (seed, elapsed time, the trace, device details) are not summed.
const std::set<std::string> kNotSummed = {"port",  "side",        "name",   "impairment",
                                          "mode",  "connections", "seed",   "elapsed_ns",
                                          "trace", "in_force",    "device", "interval"};

void AddSummary(nlohmann::json& total, const nlohmann::json& summary) {
  if (!summary.is_object()) return;
  if (!total.is_object()) total = nlohmann::json::object();
  const uint64_t count = summary.value("count", uint64_t{0});
  const uint64_t max = summary.value("max", uint64_t{0});
  total["count"] = total.value("count", uint64_t{0}) + count;
  total["max"] = std::max(total.value("max", uint64_t{0}), max);
}

void AddInto(nlohmann::json& total, const nlohmann::json& document);

// Rules or partitions: entries matched by name, in the order first seen.
void AddNamed(nlohmann::json& total, const nlohmann::json& entries) {
  if (!total.is_array()) total = nlohmann::json::array();
  for (const nlohmann::json& entry : entries) {
    if (!entry.is_object()) continue;
    const std::string name = entry.value("name", "");
    auto found = std::find_if(total.begin(), total.end(),
                              [&](const nlohmann::json& t) { return t.value("name", "") == name; });
    if (found == total.end()) {
      total.push_back(nlohmann::json::object());
      found = total.end() - 1;
    }
    AddInto(*found, entry);
  }
}

void AddInto(nlohmann::json& total, const nlohmann::json& document) {
  if (!total.is_object()) total = nlohmann::json::object();
  for (const auto& [key, value] : document.items()) {
    if (kNotSummed.count(key)) {
      if ((key == "name" || key == "impairment" || key == "mode" || key == "connections") &&
          !total.contains(key)) {
        total[key] = value;
      }
    } else if (key == "delay_ns" || key == "lateness_ns") {
      AddSummary(total[key], value);
    } else if (key == "rules" || key == "partitions") {
      AddNamed(total[key], value);
    } else if (value.is_number_unsigned() || value.is_number_integer()) {
      total[key] = total.value(key, int64_t{0}) + value.get<int64_t>();
    } else if (value.is_object()) {
      AddInto(total[key], value);
    }
  }
}

std::string PortsAndDrops(const nlohmann::json& document) {
  uint64_t rx = 0, tx = 0;
  for (const nlohmann::json& port : document.value("ports", nlohmann::json::array())) {
    rx += port.value("rx", uint64_t{0});
    tx += port.value("tx", uint64_t{0});
  }
  std::string text = "rx " + std::to_string(rx) + " tx " + std::to_string(tx);
  const nlohmann::json dropped = document.value("dropped", nlohmann::json::object());
  uint64_t all = 0;
  std::string causes;
  for (const auto& [cause, count] : dropped.items()) {
    if (!count.is_number() || count.get<uint64_t>() == 0) continue;
    all += count.get<uint64_t>();
    causes += (causes.empty() ? "" : ", ") + cause + " " + std::to_string(count.get<uint64_t>());
  }
  text += ", dropped " + std::to_string(all) + (causes.empty() ? "" : " (" + causes + ")");
  return text;
}

}  // namespace

nlohmann::json SumStatistics(const std::vector<nlohmann::json>& documents) {
  nlohmann::json total = nlohmann::json::object();
  uint64_t rx = 0, tx = 0;
  for (const nlohmann::json& document : documents) {
    for (const nlohmann::json& port : document.value("ports", nlohmann::json::array())) {
      rx += port.value("rx", uint64_t{0});
      tx += port.value("tx", uint64_t{0});
    }
    nlohmann::json without_ports = document;
    without_ports.erase("ports");
    AddInto(total, without_ports);
  }
  total["rx"] = rx;
  total["tx"] = tx;
  total["boxes"] = documents.size();
  return total;
}

std::string FleetStatsText(const std::vector<std::pair<std::string, nlohmann::json>>& boxes,
                           const nlohmann::json& total) {
  std::string text;
  for (const auto& [name, document] : boxes)
    text += "box " + name + ": " + PortsAndDrops(document) + "\n";
  nlohmann::json as_ports = total;
  as_ports["ports"] = {{{"rx", total.value("rx", 0)}, {"tx", total.value("tx", 0)}}};
  text += "fleet (" + std::to_string(boxes.size()) + " boxes): " + PortsAndDrops(as_ports) +
          ", unmatched " + std::to_string(total.value("unmatched", int64_t{0})) + "\n";
  for (const nlohmann::json& rule : total.value("rules", nlohmann::json::array())) {
    text +=
        "  rule " + rule.value("name", "") + ": matched " +
        std::to_string(rule.value("matched", int64_t{0})) + " forwarded " +
        std::to_string(rule.value("forwarded", int64_t{0})) + " dropped " +
        std::to_string(rule.value("dropped", nlohmann::json::object()).value("total", int64_t{0})) +
        "\n";
  }
  for (const nlohmann::json& partition : total.value("partitions", nlohmann::json::array())) {
    text += "  partition " + partition.value("name", "") + ": dropped " +
            std::to_string(partition.value("dropped", int64_t{0})) + " answered " +
            std::to_string(partition.value("answered", int64_t{0})) + "\n";
  }
  return text;
}

}  // namespace faultline
