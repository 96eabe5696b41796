#include "dataplane/reporting/series.h"

#include <algorithm>

namespace faultline {

const HistogramSummary& RuleResidence(const RuleTotals& rule) { return rule.residence_ns; }

std::optional<HistogramSummary> Lateness(const StatsReport& report) { return report.lateness_ns; }

nlohmann::json PercentilesJson(const HistogramSummary& summary) {
  return {{"count", summary.total},
          {"p50", summary.Percentile(0.5)},
          {"p90", summary.Percentile(0.9)},
          {"p99", summary.Percentile(0.99)},
          {"p999", summary.Percentile(0.999)},
          {"p9999", summary.Percentile(0.9999)},
          {"max", summary.total == 0 ? 0 : summary.max}};
}

namespace {

const char* DistributionText(DistributionKind kind) {
  switch (kind) {
    case DistributionKind::kUniform:
      return "uniform";
    case DistributionKind::kNormal:
      return "normal";
    case DistributionKind::kPareto:
      return "pareto";
    case DistributionKind::kParetoNormal:
      return "paretonormal";
    case DistributionKind::kTable:
      return "table";
  }
  return "none";
}

// `now` minus `before` (0 where `before` held more: a counter reset in between).
uint64_t Minus(uint64_t now, uint64_t before) { return now > before ? now - before : 0; }

const RuleReport* FindRule(const StatsReport* report, const std::string& name) {
  if (report == nullptr) return nullptr;
  for (const RuleReport& rule : report->rules) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

nlohmann::json DroppedDelta(const uint64_t* now, const uint64_t* before) {
  nlohmann::json dropped = nlohmann::json::object();
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    const uint64_t n = Minus(now[cause], before ? before[cause] : 0);
    if (n != 0) dropped[DropCauseName(static_cast<DropCause>(cause))] = n;
  }
  return dropped;
}

}  // namespace

HistogramSummary Since(const HistogramSummary& now, const HistogramSummary* before) {
  HistogramSummary window = now;
  if (before != nullptr) window.Subtract(*before);
  return window;
}

void AddSummary(HistogramSummary* into, const HistogramSummary& more) {
  for (size_t b = 0; b < more.counts.size(); ++b) into->counts[b] += more.counts[b];
  into->total += more.total;
  into->max = std::max(into->max, more.max);
}

nlohmann::json SeriesRulesJson(const ProfileSpec& spec) {
  nlohmann::json rules = nlohmann::json::array();
  for (const RuleSpec& rule : spec.rules) {
    nlohmann::json delay = {{"delay_ns", 0}, {"jitter_ns", 0}, {"distribution", "none"}};
    const ImpairmentSpec& impairment = spec.impairments.at(rule.impairment);
    if (impairment.delay) {
      const DelaySpec& spec_delay = *impairment.delay;
      std::string distribution = DistributionText(spec_delay.distribution);
      if (spec_delay.distribution == DistributionKind::kTable) {
        distribution += ":" + spec_delay.table_path;
      }
      if (spec_delay.jitter_ns == 0) distribution = "none";
      delay = {{"delay_ns", spec_delay.base_ns},
               {"jitter_ns", spec_delay.jitter_ns},
               {"distribution", distribution}};
    }
    rules.push_back({{"name", rule.name}, {"delay", delay}});
  }
  return rules;
}

SeriesEvent TraceStepEvent(const TraceStep& step, const TraceSpec& trace, uint64_t t_ns) {
  SeriesEvent event{.detail = "step " + std::to_string(step.index) + ": " + step.description};
  const TraceEvent* source = step.event < trace.events.size() ? &trace.events[step.event] : nullptr;
  switch (step.action) {
    case TraceAction::kSetImpairment:
      event.kind = "set-impairment";
      break;
    case TraceAction::kPartition:
      event.kind = "partition";
      break;
    case TraceAction::kHeal:
      event.kind = "heal";
      break;
    case TraceAction::kStallStart:
    case TraceAction::kStallEnd:
      event.kind = "stall";
      if (step.action == TraceAction::kStallStart && source) event.until_ns = t_ns + source->for_ns;
      break;
    case TraceAction::kLinkDown:
    case TraceAction::kLinkUp:
      event.kind = "link";
      if (step.action == TraceAction::kLinkDown && source) {
        if (source->link == LinkChange::kFlapping) {
          event.until_ns = t_ns + source->flap_down_ns;
        } else if (source->for_ns != 0) {
          event.until_ns = t_ns + source->for_ns;
        }
      }
      break;
  }
  return event;
}

SeriesRecorder::Sparse SeriesRecorder::Sparse::Of(const HistogramSummary& summary) {
  Sparse sparse;
  for (size_t bucket = 0; bucket < summary.counts.size(); ++bucket) {
    if (summary.counts[bucket] != 0) {
      sparse.buckets.emplace_back(static_cast<uint32_t>(bucket), summary.counts[bucket]);
    }
  }
  sparse.total = summary.total;
  sparse.max = summary.max;
  return sparse;
}

HistogramSummary SeriesRecorder::Sparse::Expand() const {
  HistogramSummary summary;
  for (const auto& [bucket, count] : buckets) summary.counts[bucket] = count;
  summary.total = total;
  summary.max = max;
  return summary;
}

SeriesRecorder::SeriesRecorder(nlohmann::json header, size_t capacity)
    : capacity_(std::max<size_t>(1, capacity)) {
  nlohmann::json line = {{"type", "header"}, {"version", 1}};
  line.update(header);
  header_ = line.dump();
}

void SeriesRecorder::SetSink(std::function<void(const std::string& line)> sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
  if (sink_) sink_(header_);
}

void SeriesRecorder::Emit(uint64_t t_ns, const std::string& line) {
  if (sink_) sink_(line);
  lines_.emplace_back(t_ns, line);
  while (lines_.size() > capacity_) {
    lines_.pop_front();
    ++ring_dropped_;
  }
}

nlohmann::json SeriesRecorder::IntervalJson(uint64_t t_ns, const StatsReport& now,
                                            const StatsReport* before) {
  nlohmann::json ports = nlohmann::json::array();
  uint64_t delivered = 0;
  for (size_t i = 0; i < now.ports.size(); ++i) {
    const PortReport* old = before && i < before->ports.size() ? &before->ports[i] : nullptr;
    const uint64_t tx = Minus(now.ports[i].tx, old ? old->tx : 0);
    ports.push_back({{"port", now.ports[i].port},
                     {"rx", Minus(now.ports[i].rx, old ? old->rx : 0)},
                     {"tx", tx}});
    delivered += tx;
  }
  uint64_t duplicated = 0, corrupted = 0, reordered = 0;
  nlohmann::json rules = nlohmann::json::object();
  for (const RuleReport& rule : now.rules) {
    const RuleReport* old = FindRule(before, rule.name);
    const RuleTotals* was = old ? &old->total : nullptr;
    duplicated += Minus(rule.total.duplicated, was ? was->duplicated : 0);
    corrupted += Minus(rule.total.corrupted, was ? was->corrupted : 0);
    reordered += Minus(rule.total.reordered, was ? was->reordered : 0);
    rules[rule.name] = {
        {"matched", Minus(rule.total.matched, was ? was->matched : 0)},
        {"forwarded", Minus(rule.total.forwarded, was ? was->forwarded : 0)},
        {"dropped", DroppedDelta(rule.total.dropped, was ? was->dropped : nullptr)},
        {"residence_ns",
         PercentilesJson(Since(RuleResidence(rule.total), was ? &RuleResidence(*was) : nullptr))}};
  }
  HistogramSummary residence;
  for (const RuleReport& rule : now.rules) {
    const RuleReport* old = FindRule(before, rule.name);
    AddSummary(&residence,
               Since(RuleResidence(rule.total), old ? &RuleResidence(old->total) : nullptr));
  }
  const std::optional<HistogramSummary> lateness = Lateness(now);
  const std::optional<HistogramSummary> lateness_before = before ? Lateness(*before) : std::nullopt;
  return {
      {"type", "interval"},
      {"t_ns", t_ns},
      {"interval_ns", t_ns - last_t_ns_},
      {"ports", ports},
      {"delivered", delivered},
      {"dropped", DroppedDelta(now.dropped, before ? before->dropped : nullptr)},
      {"duplicated", duplicated},
      {"corrupted", corrupted},
      {"reordered", reordered},
      {"residence_ns", PercentilesJson(residence)},
      {"lateness_ns",
       PercentilesJson(lateness ? Since(*lateness, lateness_before ? &*lateness_before : nullptr)
                                : HistogramSummary{})},
      {"rules", rules},
      {"ring_dropped", ring_dropped_}};
}

void SeriesRecorder::Sample(uint64_t t_ns, const StatsReport& report) {
  std::lock_guard lock(mutex_);
  if (last_t_ns_ == 0) last_t_ns_ = nlohmann::json::parse(header_).value("start_ns", t_ns);
  // After a reset the counters start again from 0: the interval counts from there.
  const bool reset = previous_ && report.resets != previous_->resets;
  if (reset) samples_.clear();
  const StatsReport* before = previous_ && !reset ? &*previous_ : nullptr;
  Emit(t_ns, IntervalJson(t_ns, report, before).dump());
  last_t_ns_ = t_ns;
  previous_ = report;
  Cumulative sample{.t_ns = t_ns, .resets = report.resets};
  if (const auto lateness = Lateness(report)) sample.lateness = Sparse::Of(*lateness);
  for (const RuleReport& rule : report.rules) {
    sample.residence[rule.name] = Sparse::Of(RuleResidence(rule.total));
  }
  samples_.push_back(std::move(sample));
  while (samples_.size() > kWindowSamples) samples_.pop_front();
}

void SeriesRecorder::Event(uint64_t t_ns, const std::string& kind, const std::string& detail,
                           std::optional<uint64_t> until_ns) {
  nlohmann::json line = {{"type", "event"}, {"t_ns", t_ns}, {"kind", kind}, {"detail", detail}};
  if (until_ns) line["until_ns"] = *until_ns;
  std::lock_guard lock(mutex_);
  Emit(t_ns, line.dump());
  last_event_ = kind + ": " + detail;
}

std::string SeriesRecorder::LastEvent() const {
  std::lock_guard lock(mutex_);
  return last_event_;
}

std::string SeriesRecorder::HistogramLine(uint64_t t_ns, const StatsReport& report) const {
  nlohmann::json rules = nlohmann::json::object();
  for (const RuleReport& rule : report.rules) {
    nlohmann::json buckets = nlohmann::json::array();
    const HistogramSummary& residence = RuleResidence(rule.total);
    for (size_t b = 0; b < residence.counts.size(); ++b) {
      if (residence.counts[b] == 0) continue;
      buckets.push_back({LatencyHistogram::BucketLow(static_cast<int>(b)), residence.counts[b]});
    }
    rules[rule.name] = {{"residence_ns", buckets}};
  }
  return nlohmann::json{{"type", "histogram"}, {"t_ns", t_ns}, {"rules", rules}}.dump();
}

std::vector<std::string> SeriesRecorder::LinesSince(uint64_t since_ns,
                                                    uint64_t* ring_dropped) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> lines;
  if (since_ns == 0) lines.push_back(header_);
  for (const auto& [t_ns, line] : lines_) {
    if (t_ns > since_ns) lines.push_back(line);
  }
  if (ring_dropped) *ring_dropped = ring_dropped_;
  return lines;
}

nlohmann::json SeriesRecorder::Window(uint64_t window_ns) const {
  std::lock_guard lock(mutex_);
  if (samples_.size() < 2) return nullptr;
  const Cumulative& last = samples_.back();
  // The latest sample at least window_ns before the last one (or the oldest kept).
  const Cumulative* first = &samples_.front();
  for (const Cumulative& sample : samples_) {
    if (sample.t_ns + window_ns <= last.t_ns) first = &sample;
  }
  if (first == &last) first = &samples_[samples_.size() - 2];
  nlohmann::json rules = nlohmann::json::object();
  for (const auto& [name, residence] : last.residence) {
    HistogramSummary window = residence.Expand();
    if (const auto earlier = first->residence.find(name); earlier != first->residence.end()) {
      window.Subtract(earlier->second.Expand());
    }
    rules[name] = {{"residence_ns", PercentilesJson(window)}};
  }
  nlohmann::json json = {{"window_ns", last.t_ns - first->t_ns}, {"rules", rules}};
  if (last.lateness) {
    HistogramSummary window = last.lateness->Expand();
    if (first->lateness) window.Subtract(first->lateness->Expand());
    json["lateness_ns"] = PercentilesJson(window);
  }
  return json;
}

}  // namespace faultline
