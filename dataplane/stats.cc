#include "dataplane/stats.h"

#include <cstdio>

#include "dataplane/pipeline.h"

namespace faultline {

uint64_t StatsReport::TotalDropped() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

uint64_t RuleTotals::TotalDropped() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

namespace {

void AddRuleCounters(const RuleCounters& counters, RuleTotals* totals) {
  totals->matched += counters.matched.Get();
  totals->forwarded += counters.forwarded.Get();
  totals->duplicated += counters.duplicated.Get();
  totals->corrupted += counters.corrupted.Get();
  totals->bits_flipped += counters.bits_flipped.Get();
  totals->reordered += counters.reordered.Get();
  totals->ecn_marked += counters.ecn_marked.Get();
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    totals->dropped[cause] += counters.dropped[cause].Get();
  }
  totals->delay_ns.Add(counters.delay_ns);
}

nlohmann::json DroppedJson(const uint64_t* dropped) {
  nlohmann::json json = nlohmann::json::object();
  uint64_t total = 0;
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    if (static_cast<DropCause>(cause) == DropCause::kShutdown) continue;  // not per rule
    json[DropCauseName(static_cast<DropCause>(cause))] = dropped[cause];
    total += dropped[cause];
  }
  json["total"] = total;
  return json;
}

nlohmann::json RuleTotalsJson(const RuleTotals& totals) {
  const HistogramSummary& delay = totals.delay_ns;
  return {{"matched", totals.matched},
          {"forwarded", totals.forwarded},
          {"dropped", DroppedJson(totals.dropped)},
          {"duplicated", totals.duplicated},
          {"corrupted", totals.corrupted},
          {"bits_flipped", totals.bits_flipped},
          {"reordered", totals.reordered},
          {"ecn_marked", totals.ecn_marked},
          {"delay_ns",
           {{"count", delay.total},
            {"p50", delay.Percentile(0.50)},
            {"p90", delay.Percentile(0.90)},
            {"p99", delay.Percentile(0.99)},
            {"p999", delay.Percentile(0.999)},
            {"max", delay.max}}}};
}

}  // namespace

void SummarizeRules(const std::vector<const Pipeline*>& pipelines, StatsReport* report) {
  if (pipelines.empty() || pipelines.front()->profile() == nullptr) return;
  const CompiledProfile& profile = *pipelines.front()->profile();
  report->seed = profile.seed;
  report->rules.resize(profile.rule_count());
  for (size_t rule = 0; rule < profile.rule_count(); ++rule) {
    report->rules[rule].name = profile.rule_names[rule];
    report->rules[rule].impairment = profile.impairments[profile.rule_impairment[rule]].name;
  }
  for (const CompiledPartition& partition : profile.partitions) {
    report->partitions.push_back({.name = partition.name,
                                  .mode = PartitionModeName(partition.mode),
                                  .new_connections_only = partition.new_connections_only});
  }
  for (const Pipeline* pipeline : pipelines) {
    const std::vector<RuleCounters>& counters = pipeline->rule_counters();
    for (size_t slot = 0; slot < counters.size(); ++slot) {
      RuleReport& rule = report->rules[slot / 2];
      AddRuleCounters(counters[slot], &rule.total);
      AddRuleCounters(counters[slot], &rule.direction[slot % 2]);
    }
    const std::vector<PartitionCounters>& cuts = pipeline->partition_counters();
    for (size_t slot = 0; slot < report->partitions.size() * 2; ++slot) {
      PartitionReport& partition = report->partitions[slot / 2];
      for (PartitionTotals* totals : {&partition.total, &partition.direction[slot % 2]}) {
        totals->dropped += cuts[slot].dropped.Get();
        totals->answered += cuts[slot].answered.Get();
      }
    }
    report->unmatched += pipeline->counters().unmatched.Get();
    report->flows_untracked += pipeline->counters().flows_untracked.Get();
    report->flows_expired += pipeline->counters().flows_expired.Get();
    report->fragments_unresolved += pipeline->counters().fragments_unresolved.Get();
    report->malformed += pipeline->counters().malformed.Get();
  }
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

const char* PartitionModeName(PartitionMode mode) {
  switch (mode) {
    case PartitionMode::kDrop:
      return "drop";
    case PartitionMode::kIcmpUnreachable:
      return "icmp-unreachable";
    case PartitionMode::kTcpReset:
      return "tcp-reset";
  }
  return "?";
}

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
  nlohmann::json rules = nlohmann::json::array();
  for (const RuleReport& rule : report.rules) {
    nlohmann::json entry = RuleTotalsJson(rule.total);
    entry["name"] = rule.name;
    entry["impairment"] = rule.impairment;
    entry["directions"] = {{"a-to-b", RuleTotalsJson(rule.direction[0])},
                           {"b-to-a", RuleTotalsJson(rule.direction[1])}};
    rules.push_back(entry);
  }
  nlohmann::json partitions = nlohmann::json::array();
  for (const PartitionReport& partition : report.partitions) {
    auto totals = [](const PartitionTotals& t) {
      return nlohmann::json{{"dropped", t.dropped}, {"answered", t.answered}};
    };
    nlohmann::json entry = totals(partition.total);
    entry["name"] = partition.name;
    entry["mode"] = partition.mode;
    entry["connections"] = partition.new_connections_only ? "new" : "all";
    entry["directions"] = {{"a-to-b", totals(partition.direction[0])},
                           {"b-to-a", totals(partition.direction[1])}};
    partitions.push_back(entry);
  }
  nlohmann::json document = {{"ports", ports},
                             {"dropped", dropped},
                             {"tx_retries", report.tx_retries},
                             {"held", report.held},
                             {"elapsed_ns", report.elapsed_ns},
                             {"clock_backwards", report.clock_backwards},
                             {"unmatched", report.unmatched},
                             {"flows_untracked", report.flows_untracked},
                             {"flows_expired", report.flows_expired},
                             {"fragments_unresolved", report.fragments_unresolved},
                             {"malformed", report.malformed},
                             {"rules", rules},
                             {"partitions", partitions}};
  if (report.seed) document["seed"] = *report.seed;
  return document;
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
  for (const RuleReport& rule : report.rules) {
    const RuleTotals& t = rule.total;
    std::snprintf(line, sizeof(line),
                  "rule %s (%s): matched %lu forwarded %lu dropped %lu (loss %lu queue %lu "
                  "stall-limit %lu) duplicated %lu corrupted %lu reordered %lu ecn %lu",
                  rule.name.c_str(), rule.impairment.c_str(), t.matched, t.forwarded,
                  t.TotalDropped(), t.dropped[static_cast<int>(DropCause::kLoss)],
                  t.dropped[static_cast<int>(DropCause::kQueue)],
                  t.dropped[static_cast<int>(DropCause::kStallLimit)], t.duplicated, t.corrupted,
                  t.reordered, t.ecn_marked);
    text += line;
    std::snprintf(line, sizeof(line), "  delay p50 %.3f ms p99 %.3f ms max %.3f ms\n",
                  t.delay_ns.Percentile(0.5) / 1e6, t.delay_ns.Percentile(0.99) / 1e6,
                  t.delay_ns.max / 1e6);
    text += line;
  }
  for (const PartitionReport& partition : report.partitions) {
    std::snprintf(
        line, sizeof(line),
        "partition %s (%s%s): dropped %lu answered %lu (a-to-b %lu/%lu, b-to-a %lu/%lu)\n",
        partition.name.c_str(), partition.mode.c_str(),
        partition.new_connections_only ? ", new connections" : "", partition.total.dropped,
        partition.total.answered, partition.direction[0].dropped, partition.direction[0].answered,
        partition.direction[1].dropped, partition.direction[1].answered);
    text += line;
  }
  if (!report.rules.empty()) {
    std::snprintf(
        line, sizeof(line),
        "unmatched %lu  flows_untracked %lu  flows_expired %lu  fragments_unresolved %lu  "
        "malformed %lu\n",
        report.unmatched, report.flows_untracked, report.flows_expired, report.fragments_unresolved,
        report.malformed);
    text += line;
  }
  return text;
}

}  // namespace faultline
