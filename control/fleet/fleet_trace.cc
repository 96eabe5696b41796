// The trace commands of FleetRunner (fleet_runner.h): one trace started at one wall-clock time
// on every box, after checking each box's clock against ours; stop and status on every box.
#include <algorithm>
#include <filesystem>
#include <ostream>
#include <vector>

#include "control/base/units.h"
#include "control/fleet/clock_offset.h"
#include "control/fleet/fleet_runner.h"
#include "control/yaml/yaml_source.h"

namespace faultline {
namespace {

// Without --at a fleet trace starts this long after the command: time for every box, one after
// the other, to parse and validate it.
constexpr uint64_t kDefaultFleetLeadNs = 2'000'000'000;

std::string Micro(const nlohmann::json& ns) {
  return ns.is_number() ? std::to_string(ns.get<int64_t>() / 1000) + "us" : "-";
}

}  // namespace

std::optional<int64_t> FleetRunner::TraceTimeZero(const std::string& at) {
  std::string error;
  const int64_t now = WallClockNs();
  if (at.empty() || at[0] == '+') {
    uint64_t lead = kDefaultFleetLeadNs;
    if (!at.empty()) {
      const auto parsed = ParseDuration(at.substr(1), &error);
      if (!parsed) {
        err_ << "faultline fleet trace start: --at " << at << ": " << error << "\n";
        return std::nullopt;
      }
      lead = *parsed;
    }
    // Whole microseconds: the boxes read the time back as RFC 3339 with microseconds.
    const int64_t zero = now + static_cast<int64_t>(lead);
    return zero - zero % 1000;
  }
  const std::optional<int64_t> zero = ParseRfc3339(at, &error);
  if (!zero) {
    err_ << "faultline fleet trace start: --at " << at << ": " << error << "\n";
    return std::nullopt;
  }
  if (*zero <= now) {
    err_ << "faultline fleet trace start: --at " << at << " has passed (this host's clock says "
         << FormatRfc3339(now) << ")\n";
    return std::nullopt;
  }
  return zero;
}

int FleetRunner::CheckClocks(const FleetTraceOptions& options) {
  int status = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    const FleetBox& box = fleet_.boxes[i];
    std::vector<ClockSample> samples;
    std::string error;
    for (int s = 0; s < options.clock_samples; ++s) {
      ClockSample sample;
      sample.send_ns = WallClockNs();
      const std::optional<int64_t> box_ns = connections_[i]->Time(&error);
      sample.recv_ns = WallClockNs();
      if (!box_ns) break;
      sample.box_ns = *box_ns;
      samples.push_back(sample);
    }
    const std::optional<ClockOffset> offset = BestOffset(samples);
    if (!offset) {
      err_ << "box " << box.name << " (" << box.api << "): cannot read its clock: "
           << (error.empty() ? "this host's clock went back" : error) << "\n";
      status = 1;
      continue;
    }
    out_ << "box " << box.name << ": clock offset " << FormatOffset(offset->offset_ns) << " (+-"
         << FormatOffset(offset->round_trip_ns / 2).substr(1) << ")\n";
    const std::string problem = CheckOffset(*offset, options.max_offset_ns);
    if (problem.empty()) continue;
    if (options.offset_warn_only) {
      err_ << "box " << box.name << ": warning: " << problem << "\n";
    } else {
      err_ << "box " << box.name << ": " << problem << " (synchronise the clocks with PTP or "
           << "chrony, or pass --offset-warn-only)\n";
      status = 1;
    }
  }
  return status;
}

int FleetRunner::TraceStart(const FleetTraceOptions& options) {
  std::string error;
  const std::optional<std::string> text = yaml_source::ReadSourceFile(options.file, &error);
  if (!text) {
    err_ << "faultline fleet trace start: " << error << "\n";
    return 2;
  }
  const std::optional<int64_t> zero = TraceTimeZero(options.at);
  if (!zero) return 2;
  if (const int status = CheckReady("trace start")) return status;
  if (const int status = CheckClocks(options)) {
    err_ << "faultline fleet trace start: no trace started\n";
    return status;
  }
  const bool absolute = !options.at.empty() && options.at[0] != '+';
  const nlohmann::json request = {
      {"command", "trace-start"},
      {"trace", *text},
      {"name", options.file},
      {"directory", std::filesystem::absolute(options.file).parent_path().string()},
      {"speed", options.speed},
      {"at", absolute ? options.at : FormatRfc3339(*zero)}};
  int status = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto response = Ask(i, request, &status);
    if (!response) {
      // One trace on every box or on none: stop it where it started.
      for (size_t j = 0; j < i; ++j) {
        int ignored = 0;
        if (Ask(j, {{"command", "trace-stop"}, {"keep", false}}, &ignored)) {
          out_ << "box " << fleet_.boxes[j].name << ": trace stopped again\n";
        }
      }
      err_ << "faultline fleet trace start: no trace runs (box " << fleet_.boxes[i].name
           << " refused it)\n";
      return status;
    }
    const nlohmann::json& trace = (*response)["trace"];
    out_ << "box " << fleet_.boxes[i].name << ": trace " << trace.value("name", "") << " starts at "
         << trace.value("started_at", "") << "\n";
  }
  return 0;
}

int FleetRunner::TraceStop(bool keep) {
  int status = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto response = Ask(i, {{"command", "trace-stop"}, {"keep", keep}}, &status);
    if (!response) continue;
    const nlohmann::json trace = response->value("trace", nlohmann::json());
    out_ << "box " << fleet_.boxes[i].name << ": trace "
         << (trace.is_object() ? trace.value("name", "") + " " + trace.value("state", "")
                               : std::string("none"))
         << (response->value("restored", false) ? "; its base profile is in force again" : "")
         << "\n";
  }
  return status;
}

int FleetRunner::TraceStatus(bool json) {
  int status = 0;
  nlohmann::json boxes = nlohmann::json::object();
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto response = Ask(i, {{"command", "trace-status"}}, &status);
    if (!response) continue;
    const nlohmann::json trace = response->value("trace", nlohmann::json());
    boxes[fleet_.boxes[i].name] = trace;
    if (json) continue;
    out_ << "box " << fleet_.boxes[i].name << ": ";
    if (!trace.is_object()) {
      out_ << "no trace has been started\n";
      continue;
    }
    const nlohmann::json lateness = trace.value("lateness_ns", nlohmann::json::object());
    out_ << "trace " << trace.value("name", "") << " " << trace.value("state", "") << ", started "
         << trace.value("started_at", "") << ", steps applied " << trace.value("steps_applied", 0)
         << ", lateness max " << Micro(lateness.value("max", nlohmann::json())) << "\n";
  }
  if (json) out_ << nlohmann::json{{"boxes", boxes}}.dump(2) << "\n";
  return status;
}

}  // namespace faultline
