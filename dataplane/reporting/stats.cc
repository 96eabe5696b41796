#include "dataplane/reporting/stats.h"

#include <chrono>
#include <cstdio>
#include <thread>
#include <tuple>

#include "dataplane/config/duration_text.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/worker.h"
#include "dataplane/reporting/latency_report.h"

namespace faultline {

uint64_t StatsReport::TotalDropped() const {
  uint64_t total = 0;
  for (uint64_t n : dropped) total += n;
  return total;
}

namespace {

void AddFlowCounters(const PipelineCounters& counters, StatsReport* report) {
#define FAULTLINE_FLOW_COUNTER_ADD(member) report->member += counters.member.Get();
  FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_ADD)
#undef FAULTLINE_FLOW_COUNTER_ADD
}

nlohmann::json DroppedJson(const uint64_t* dropped) {
  nlohmann::json json = nlohmann::json::object();
  uint64_t total = 0;
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    // Not per rule: held frames freed at stop, answers without an output.
    if (static_cast<DropCause>(cause) == DropCause::kShutdown ||
        static_cast<DropCause>(cause) == DropCause::kNoOutput) {
      continue;
    }
    json[DropCauseName(static_cast<DropCause>(cause))] = dropped[cause];
    total += dropped[cause];
  }
  json["total"] = total;
  return json;
}

nlohmann::json RuleTotalsJson(const RuleTotals& totals) {
  nlohmann::json json = {{"dropped", DroppedJson(totals.dropped)},
                         {"delay_ns", LatencyJson(totals.delay_ns)},
                         {"residence_ns", LatencyJson(totals.residence_ns)},
                         {"lateness_ns", LatencyJson(totals.lateness_ns)}};
  for (const RuleCounterColumn& column : kRuleCounterColumns) {
    json[column.name] = totals.*column.total;
  }
  return json;
}

}  // namespace

void SummarizeRules(const std::vector<const Pipeline*>& pipelines, StatsReport* report) {
  if (pipelines.empty() || pipelines.front()->profile() == nullptr) return;
  SummarizeRules(pipelines, *pipelines.front()->profile(), report);
}

void SummarizeRules(const std::vector<const Pipeline*>& pipelines, const CompiledProfile& profile,
                    StatsReport* report) {
  report->seed = profile.seed;
  report->rules.resize(profile.rule_count());
  for (size_t rule = 0; rule < profile.rule_count(); ++rule) {
    report->rules[rule].name = profile.rule_names[rule];
    report->rules[rule].impairment = profile.impairments[profile.rule_impairment[rule]].name;
  }
  // The partitions in force, then those of earlier profiles (healed) that counted something.
  std::vector<uint32_t> partition_ids;
  for (const auto* list : {&profile.partitions, &profile.healed_partitions}) {
    const bool in_force = list == &profile.partitions;
    for (const CompiledPartition& partition : *list) {
      PartitionReport entry{.name = partition.name,
                            .mode = PartitionModeName(partition.mode),
                            .new_connections_only = partition.new_connections_only,
                            .in_force = in_force};
      for (const Pipeline* pipeline : pipelines) {
        for (int direction = 0; direction < 2; ++direction) {
          const PartitionCounters* cuts =
              pipeline->FindPartitionCounters(partition.counter_id, direction);
          if (cuts == nullptr) continue;  // not yet prepared on this worker
          for (PartitionTotals* totals : {&entry.total, &entry.direction[direction]}) {
            totals->dropped += cuts->dropped.Get();
            totals->answered += cuts->answered.Get();
          }
        }
      }
      if (in_force || entry.total.dropped != 0) report->partitions.push_back(std::move(entry));
    }
  }
  for (const Pipeline* pipeline : pipelines) {
    for (size_t rule = 0; rule < profile.rule_count(); ++rule) {
      for (int direction = 0; direction < 2; ++direction) {
        const RuleCounters* counters =
            pipeline->FindRuleCounters(profile.rule_counter_id[rule], direction);
        if (counters == nullptr) continue;  // not yet prepared on this worker
        report->rules[rule].total.Add(*counters, pipeline->histogram_hz());
        report->rules[rule].direction[direction].Add(*counters, pipeline->histogram_hz());
      }
    }
    AddFlowCounters(pipeline->counters(), report);
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

void SummarizeLatency(const std::vector<const Pipeline*>& pipelines, StatsReport* report) {
  report->lateness_ns.emplace();
  report->residence_ns.emplace();
  for (PortReport& port : report->ports) {
    port.lateness_ns.emplace();
    port.residence_ns.emplace();
    for (const Pipeline* pipeline : pipelines) {
      pipeline->AddPortLatency(port.port, &*port.residence_ns, &*port.lateness_ns);
    }
    report->lateness_ns->Add(*port.lateness_ns);
    report->residence_ns->Add(*port.residence_ns);
  }
}

void SummarizeLateness(const std::vector<const Worker*>& workers, StatsReport* report) {
  std::vector<const Pipeline*> pipelines;
  for (const Worker* worker : workers) pipelines.push_back(&worker->pipeline());
  SummarizeLatency(pipelines, report);
}

const char* SideName(uint16_t port) { return port % 2 == 0 ? "a" : "b"; }

nlohmann::json TraceStepJson(const TraceStep& step, const TraceSpec& trace, uint64_t scheduled_ns,
                             std::optional<uint64_t> applied_ns, const char* state) {
  nlohmann::json entry = {{"index", step.index},
                          {"description", step.description},
                          {"implied", step.implied},
                          {"state", state},
                          {"scheduled_ns", scheduled_ns}};
  if (step.event < trace.events.size()) {
    entry["event"] = step.event;
    entry["line"] = trace.events[step.event].line;
    entry["round"] = step.round;
  } else {
    entry["event"] = nullptr;  // loading the trace's profile at time zero
    entry["line"] = nullptr;
  }
  if (applied_ns) {
    entry["applied_ns"] = *applied_ns;
    entry["lateness_ns"] = *applied_ns > scheduled_ns ? *applied_ns - scheduled_ns : 0;
  }
  return entry;
}

nlohmann::json TraceProgressJson(const TraceProgress& progress) {
  const HistogramSummary& lateness = progress.lateness_ns;
  nlohmann::json report = {
      {"name", progress.name},
      {"state", progress.state},
      {"speed", progress.speed},
      {"started_at", progress.started_at ? nlohmann::json(*progress.started_at) : nlohmann::json()},
      {"event_index",
       progress.event_index ? nlohmann::json(*progress.event_index) : nlohmann::json()},
      {"steps_applied", progress.steps_applied},
      {"lateness_ns",
       {{"count", lateness.total},
        {"p50", lateness.Percentile(0.5)},
        {"p99", lateness.Percentile(0.99)},
        {"max", lateness.max}}},
      {"handed_over_late", progress.handed_over_late},
      {"events", progress.events},
      {"events_not_kept", progress.events_not_kept}};
  if (!progress.error.empty()) report["error"] = progress.error;
  if (progress.next) {
    report["next"] = {{"index", progress.next->index},
                      {"description", progress.next->description},
                      {"at_ns", progress.next->at_ns}};
  }
  return report;
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
    if (port.lateness_ns) entry["lateness_ns"] = LatencyJson(*port.lateness_ns);
    if (port.residence_ns) entry["residence_ns"] = LatencyJson(*port.residence_ns);
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
    entry["in_force"] = partition.in_force;
    entry["directions"] = {{"a-to-b", totals(partition.direction[0])},
                           {"b-to-a", totals(partition.direction[1])}};
    partitions.push_back(entry);
  }
  nlohmann::json document = {{"ports", ports},
                             {"dropped", dropped},
                             {"tx_retries", report.tx_retries},
                             {"held", report.held},
                             {"elapsed_ns", report.elapsed_ns},
                             {"resets", report.resets},
                             {"clock_backwards", report.clock_backwards},
                             {"rules", rules},
                             {"partitions", partitions},
                             {"trace", report.trace}};
#define FAULTLINE_FLOW_COUNTER_JSON(member) document[#member] = report.member;
  FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_JSON)
#undef FAULTLINE_FLOW_COUNTER_JSON
  if (report.seed) document["seed"] = *report.seed;
  if (report.lateness_ns) document["lateness_ns"] = LatencyJson(*report.lateness_ns);
  if (report.residence_ns) document["residence_ns"] = LatencyJson(*report.residence_ns);
  for (const WorkerReport& worker : report.workers) {
    document["workers"].push_back(
        {{"lcore", worker.lcore}, {"socket", worker.socket}, {"rx", worker.rx}, {"tx", worker.tx}});
  }
  return document;
}

namespace {

// "rule NAME (IMPAIRMENT): matched N forwarded N dropped N (by cause) duplicated N ...": the
// counters with a text label, in table order, the drops after `forwarded`.
std::string RuleTextLine(const RuleReport& rule) {
  const RuleTotals& t = rule.total;
  std::string text = "rule ";
  text.append(rule.name).append(" (").append(rule.impairment).append("):");
  auto item = [&text](const char* label, uint64_t value) {
    text.append(label).append(" ").append(std::to_string(value));
  };
  for (const RuleCounterColumn& column : kRuleCounterColumns) {
    if (column.text == nullptr) continue;
    text.append(" ");
    item(column.text, t.*column.total);
    if (column.total != &RuleTotals::forwarded) continue;
    item(" dropped", t.TotalDropped());
    const char* separator = " (";
    for (DropCause cause : {DropCause::kLoss, DropCause::kQueue, DropCause::kStallLimit,
                            DropCause::kBufferExhausted}) {
      text.append(separator);
      item(DropCauseName(cause), t.dropped[static_cast<int>(cause)]);
      separator = " ";
    }
    text.append(")");
  }
  return text;
}

}  // namespace

std::string ToText(const StatsReport& report) {
  std::string text;
  char line[512];
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
  std::snprintf(line, sizeof(line), "\nheld %lu  tx_retries %lu  elapsed %s\n", report.held,
                report.tx_retries, FormatHumanDuration(report.elapsed_ns).c_str());
  text += line;
  if (report.residence_ns) text += LatencyTextLine("residence", "all ports", *report.residence_ns);
  if (report.lateness_ns) text += LatencyTextLine("lateness", "all ports", *report.lateness_ns);
  for (const PortReport& port : report.ports) {
    if (port.residence_ns && port.residence_ns->total != 0) {
      text += LatencyTextLine("residence", "port " + std::to_string(port.port), *port.residence_ns);
    }
    if (!port.lateness_ns || port.lateness_ns->total == 0) continue;
    text += LatencyTextLine("lateness", "port " + std::to_string(port.port), *port.lateness_ns);
  }
  for (const RuleReport& rule : report.rules) {
    text += RuleTextLine(rule);
    const HistogramSummary& delay = rule.total.delay_ns;
    std::snprintf(line, sizeof(line), "  delay p50 %.3f ms p99 %.3f ms max %.3f ms\n",
                  delay.Percentile(0.5) / 1e6, delay.Percentile(0.99) / 1e6, delay.max / 1e6);
    text += line;
    if (rule.total.residence_ns.total != 0) {
      text += LatencyTextLine(" residence", "rule " + rule.name, rule.total.residence_ns);
    }
  }
  for (const PartitionReport& partition : report.partitions) {
    std::snprintf(
        line, sizeof(line),
        "partition %s (%s%s%s): dropped %lu answered %lu (a-to-b %lu/%lu, b-to-a %lu/%lu)\n",
        partition.name.c_str(), partition.mode.c_str(),
        partition.new_connections_only ? ", new connections" : "",
        partition.in_force ? "" : ", healed", partition.total.dropped, partition.total.answered,
        partition.direction[0].dropped, partition.direction[0].answered,
        partition.direction[1].dropped, partition.direction[1].answered);
    text += line;
  }
  if (report.trace.is_object()) {
    const nlohmann::json& trace = report.trace;
    const nlohmann::json& lateness = trace.value("lateness_ns", nlohmann::json::object());
    std::snprintf(
        line, sizeof(line),
        "trace %s: %s, %lu step(s) applied; lateness p50 %.1f us p99 %.1f us max "
        "%.1f us\n",
        trace.value("name", "").c_str(), trace.value("state", "").c_str(),
        trace.value("steps_applied", uint64_t{0}), lateness.value("p50", uint64_t{0}) / 1e3,
        lateness.value("p99", uint64_t{0}) / 1e3, lateness.value("max", uint64_t{0}) / 1e3);
    text += line;
  }
  if (!report.rules.empty()) {
    const char* separator = "";
#define FAULTLINE_FLOW_COUNTER_TEXT(member)                                         \
  text.append(separator).append(#member " ").append(std::to_string(report.member)); \
  separator = "  ";
    FAULTLINE_FLOW_COUNTERS(FAULTLINE_FLOW_COUNTER_TEXT)
#undef FAULTLINE_FLOW_COUNTER_TEXT
    text += "\n";
  }
  return text;
}

namespace {

// A label value with \, " and newlines escaped, as the exposition format requires.
std::string Label(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    if (c == '\\' || c == '"') escaped += '\\';
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped += c;
  }
  return escaped;
}

std::string QuantileLabels(const std::string& labels, const char* quantile) {
  return labels + (labels.empty() ? "" : ",") + "quantile=\"" + quantile + "\"";
}

class Exposition {
 public:
  // Declares a metric once (HELP and TYPE lines), then its samples follow.
  void Metric(const std::string& name, const char* type, const char* help) {
    text_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  }
  // A duration sample: `ns` nanoseconds in seconds, the base unit promtool's lint asks for.
  void Seconds(const std::string& name, const std::string& labels, uint64_t ns) {
    char value[32];
    std::snprintf(value, sizeof(value), "%.9f", ns / 1e9);
    text_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + value + "\n";
  }
  void Sample(const std::string& name, const std::string& labels, uint64_t value) {
    text_ += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(value) + "\n";
  }
  // A latency summary's samples: quantiles 0.5 .. 0.9999 (kLatencyQuantiles) in seconds, and
  // the count.
  void Summary(const std::string& name, const std::string& labels,
               const HistogramSummary& summary) {
    for (const LatencyQuantile& quantile : kLatencyQuantiles) {
      Seconds(name, QuantileLabels(labels, quantile.label), summary.Percentile(quantile.q));
    }
    Sample(name + "_count", labels, summary.total);
  }
  std::string text() && { return std::move(text_); }

 private:
  std::string text_;
};

// Every rule's counters (FAULTLINE_RULE_COUNTERS rows with help), drops by cause and delays.
void RuleMetrics(const std::vector<RuleReport>& rules, Exposition* out) {
  auto rule_labels = [](const RuleReport& rule, int direction) {
    return "rule=\"" + Label(rule.name) + "\",direction=\"" +
           (direction == 0 ? "a-to-b" : "b-to-a") + "\"";
  };
  for (const RuleCounterColumn& column : kRuleCounterColumns) {
    if (column.help == nullptr) continue;
    const std::string metric = std::string("faultline_rule_") + column.name + "_frames_total";
    out->Metric(metric, "counter", column.help);
    for (const RuleReport& rule : rules) {
      for (int direction = 0; direction < 2; ++direction) {
        out->Sample(metric, rule_labels(rule, direction), rule.direction[direction].*column.total);
      }
    }
  }
  out->Metric("faultline_rule_dropped_frames_total", "counter", "Frames a rule dropped, by cause.");
  for (const RuleReport& rule : rules) {
    for (int direction = 0; direction < 2; ++direction) {
      for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
        const uint64_t dropped = rule.direction[direction].dropped[cause];
        if (dropped == 0) continue;
        out->Sample("faultline_rule_dropped_frames_total",
                    rule_labels(rule, direction) + ",cause=\"" +
                        DropCauseName(static_cast<DropCause>(cause)) + "\"",
                    dropped);
      }
    }
  }
  out->Metric("faultline_rule_delay_seconds", "summary", "Time frames of a rule were held.");
  for (const RuleReport& rule : rules) {
    out->Summary("faultline_rule_delay_seconds", "rule=\"" + Label(rule.name) + "\"",
                 rule.total.delay_ns);
  }
  for (const auto& [metric, member, help] :
       {std::tuple{"faultline_rule_residence_seconds", &RuleTotals::residence_ns,
                   "Transmit minus receive time of a rule's frames."},
        {"faultline_rule_lateness_seconds", &RuleTotals::lateness_ns,
         "Transmit minus scheduled departure of a rule's frames."}}) {
    out->Metric(metric, "summary", help);
    for (const RuleReport& rule : rules) {
      for (int direction = 0; direction < 2; ++direction) {
        out->Summary(metric, rule_labels(rule, direction), rule.direction[direction].*member);
      }
    }
  }
}

// The trace's progress: steps applied and the lateness summary.
void TraceMetrics(const nlohmann::json& trace, Exposition* out) {
  const std::string labels = "trace=\"" + Label(trace.value("name", "")) + "\"";
  out->Metric("faultline_trace_steps_applied_total", "counter",
              "Trace steps every worker has installed.");
  out->Sample("faultline_trace_steps_applied_total", labels,
              trace.value("steps_applied", uint64_t{0}));
  out->Metric("faultline_trace_lateness_seconds", "summary",
              "Applied minus scheduled time of trace steps.");
  const nlohmann::json lateness = trace.value("lateness_ns", nlohmann::json::object());
  out->Seconds("faultline_trace_lateness_seconds", QuantileLabels(labels, "0.5"),
               lateness.value("p50", uint64_t{0}));
  out->Seconds("faultline_trace_lateness_seconds", QuantileLabels(labels, "0.99"),
               lateness.value("p99", uint64_t{0}));
  out->Seconds("faultline_trace_lateness_seconds", QuantileLabels(labels, "1"),
               lateness.value("max", uint64_t{0}));
  out->Sample("faultline_trace_lateness_seconds_count", labels,
              lateness.value("count", uint64_t{0}));
}

}  // namespace

std::string ToPrometheus(const StatsReport& report) {
  Exposition out;
  out.Metric("faultline_port_rx_frames_total", "counter", "Frames the dataplane took from a port.");
  for (const PortReport& port : report.ports) {
    out.Sample("faultline_port_rx_frames_total",
               "port=\"" + std::to_string(port.port) + "\",side=\"" + SideName(port.port) + "\"",
               port.rx);
  }
  out.Metric("faultline_port_tx_frames_total", "counter", "Frames a port's device accepted.");
  for (const PortReport& port : report.ports) {
    out.Sample("faultline_port_tx_frames_total",
               "port=\"" + std::to_string(port.port) + "\",side=\"" + SideName(port.port) + "\"",
               port.tx);
  }
  out.Metric("faultline_dropped_frames_total", "counter", "Frames dropped, by cause.");
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    out.Sample("faultline_dropped_frames_total",
               std::string("cause=\"") + DropCauseName(static_cast<DropCause>(cause)) + "\"",
               report.dropped[cause]);
  }
  out.Metric("faultline_unmatched_frames_total", "counter",
             "Frames no rule matched (forwarded untouched).");
  out.Sample("faultline_unmatched_frames_total", "", report.unmatched);
  out.Metric("faultline_malformed_frames_total", "counter",
             "Frames with cut or invalid headers (forwarded).");
  out.Sample("faultline_malformed_frames_total", "", report.malformed);

  for (const auto& [metric, member, help] :
       {std::tuple{"faultline_port_lateness_seconds", &PortReport::lateness_ns,
                   "Transmit call minus scheduled departure of the frames a port sent."},
        {"faultline_port_residence_seconds", &PortReport::residence_ns,
         "Transmit call minus receive time of the frames a port sent."}}) {
    if (report.ports.empty() || !(report.ports.front().*member)) continue;
    out.Metric(metric, "summary", help);
    for (const PortReport& port : report.ports) {
      if (!(port.*member)) continue;
      out.Summary(metric,
                  "port=\"" + std::to_string(port.port) + "\",side=\"" + SideName(port.port) + "\"",
                  *(port.*member));
    }
  }
  RuleMetrics(report.rules, &out);
  out.Metric("faultline_partition_dropped_frames_total", "counter",
             "Frames a partition cut, by the side they arrived on.");
  for (const PartitionReport& partition : report.partitions) {
    for (int direction = 0; direction < 2; ++direction) {
      out.Sample("faultline_partition_dropped_frames_total",
                 "partition=\"" + Label(partition.name) + "\",direction=\"" +
                     (direction == 0 ? "a-to-b" : "b-to-a") + "\"",
                 partition.direction[direction].dropped);
    }
  }
  if (report.trace.is_object()) TraceMetrics(report.trace, &out);
  return std::move(out).text();
}

std::optional<StatsReport> ResetStatistics(const std::vector<Worker*>& workers, uint16_t port_count,
                                           std::chrono::milliseconds timeout, std::string* error) {
  std::vector<uint64_t> requests;
  for (Worker* worker : workers) requests.push_back(worker->RequestReset());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string late;
    for (size_t i = 0; i < workers.size(); ++i) {
      if (!workers[i]->ResetDone(requests[i]))
        late += (late.empty() ? "" : ", ") + std::to_string(i);
    }
    if (late.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      *error = "worker(s) " + late + " did not reset within " + std::to_string(timeout.count()) +
               " ms; they will when they next poll";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::vector<const PipelineCounters*> totals;
  for (Worker* worker : workers) totals.push_back(&worker->reset_totals());
  StatsReport report = Summarize(totals, port_count);
  for (size_t i = 0; i < workers.size(); ++i) {
    report.held += workers[i]->held_at_reset();
    const PipelineCounters& counters = workers[i]->reset_totals();
    AddFlowCounters(counters, &report);
  }
  return report;
}

}  // namespace faultline
