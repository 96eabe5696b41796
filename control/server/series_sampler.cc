#include "control/server/series_sampler.h"

#include <algorithm>
#include <chrono>

#include "control/base/units.h"
#include "dataplane/pipeline/snapshot_channel.h"

namespace faultline {

SeriesSampler::SeriesSampler(LiveDataplane* dataplane, std::mutex* mutex, const RunOptions& options)
    : dataplane_(dataplane), mutex_(mutex), options_(options) {}

SeriesSampler::~SeriesSampler() { Stop(); }

bool SeriesSampler::Open(std::string* error) {
  start_wall_ns_ = static_cast<uint64_t>(WallClockNs());
  start_clock_ = dataplane_->now();
  const CompiledProfile& running = *dataplane_->publisher->current();
  std::string profile = options_.profile_path;
  if (profile.empty()) {
    profile = options_.delay_ns ? "--delay " + FormatDuration(options_.delay_ns) : "none";
  }
  nlohmann::json header = {{"source", "run"},
                           {"start_ns", start_wall_ns_},
                           {"interval_ns", options_.series_interval_ns},
                           {"seed", running.seed},
                           {"profile", profile},
                           {"rules", SeriesRulesJson(running.spec)}};
  recorder_ = std::make_unique<SeriesRecorder>(header);
  if (!options_.series.empty()) {
    file_.open(options_.series, std::ios::trunc);
    if (!file_) {
      *error = "cannot write " + options_.series;
      return false;
    }
    recorder_->SetSink([this](const std::string& line) { file_ << line << "\n"; });
    file_.flush();
  }
  const TimeBase time_base = dataplane_->time_base;
  const uint64_t wall0 = start_wall_ns_, clock0 = start_clock_;
  dataplane_->wall_ns = [time_base, wall0, clock0](uint64_t clock) {
    return clock >= clock0 ? wall0 + time_base.ToNs(clock - clock0)
                           : wall0 - std::min(wall0, time_base.ToNs(clock0 - clock));
  };
  dataplane_->series = recorder_.get();
  return true;
}

void SeriesSampler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void SeriesSampler::Loop() {
  const auto start = std::chrono::steady_clock::now();
  const auto interval = std::chrono::nanoseconds(options_.series_interval_ns);
  std::unique_lock lock(*mutex_);
  for (uint64_t k = 1;; ++k) {
    if (wake_.wait_until(lock, start + k * interval, [this] { return quit_; })) return;
    TakeSample(start_wall_ns_ + k * options_.series_interval_ns);
  }
}

void SeriesSampler::TakeSample(uint64_t t_ns) {
  dataplane_->publisher->Collect();  // trace steps applied since: their events first
  const StatsReport report = dataplane_->stats();
  recorder_->Sample(t_ns, report);
  last_sample_ns_ = t_ns;
  if (file_.is_open()) file_.flush();
  if (options_.status_interval_ns == 0) return;
  if (!status_from_ || report.resets != status_from_->resets) {
    status_from_ = report;
    status_from_ns_ = t_ns;
    return;
  }
  if (t_ns - status_from_ns_ < options_.status_interval_ns) return;
  std::printf(
      "%s\n",
      StatusLine(*status_from_, report, t_ns - status_from_ns_, recorder_->LastEvent()).c_str());
  std::fflush(stdout);
  status_from_ = report;
  status_from_ns_ = t_ns;
}

std::string SeriesSampler::StatusLine(const StatsReport& before, const StatsReport& now,
                                      uint64_t elapsed_ns, const std::string& last_event) {
  uint64_t forwarded = 0, forwarded_before = 0;
  for (const PortReport& port : now.ports) forwarded += port.tx;
  for (const PortReport& port : before.ports) forwarded_before += port.tx;
  HistogramSummary residence;
  for (const RuleReport& rule : now.rules) {
    const HistogramSummary* old = nullptr;
    for (const RuleReport& candidate : before.rules) {
      if (candidate.name == rule.name) old = &RuleResidence(candidate.total);
    }
    AddSummary(&residence, Since(RuleResidence(rule.total), old));
  }
  const double seconds = static_cast<double>(std::max<uint64_t>(elapsed_ns, 1)) / 1e9;
  const uint64_t dropped = now.TotalDropped() - std::min(now.TotalDropped(), before.TotalDropped());
  char line[256];
  std::snprintf(line, sizeof(line),
                "faultline: status: %.0f forwarded/s, %.0f dropped/s, residence p99 %s over %s",
                static_cast<double>(forwarded - std::min(forwarded, forwarded_before)) / seconds,
                static_cast<double>(dropped) / seconds,
                residence.total ? FormatDuration(residence.Percentile(0.99)).c_str() : "-",
                FormatDuration(elapsed_ns).c_str());
  return std::string(line) + (last_event.empty() ? "" : "; last event " + last_event);
}

void SeriesSampler::Stop() {
  {
    std::lock_guard lock(*mutex_);
    if (stopped_ || !recorder_) return;
    stopped_ = true;
    quit_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(*mutex_);
  const uint64_t now = dataplane_->wall_ns(dataplane_->now());
  if (now > last_sample_ns_) TakeSample(now);
  if (file_.is_open()) {
    file_ << recorder_->HistogramLine(now, dataplane_->stats()) << "\n";
    file_.close();
  }
  dataplane_->series = nullptr;
}

}  // namespace faultline
