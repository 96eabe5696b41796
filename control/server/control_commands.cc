#include "control/server/control_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "control/base/units.h"
#include "control/profile/profile_parser.h"
#include "control/profile/profile_yaml.h"
#include "control/server/control_server.h"
#include "control/trace/trace_parser.h"
#include "dataplane/reporting/series.h"
#include "dataplane/reporting/stats.h"

namespace faultline {

namespace {

// Without --at a trace starts this long after it is accepted, so its first steps are compiled and
// handed to the workers before they are due.
constexpr uint64_t kDefaultTraceLeadNs = 200'000'000;

// How far ahead `at` may put a trace's start: far enough for any plan, near enough that the
// start in clock units (and as wall-clock nanoseconds) stays far inside 64 bits.
constexpr uint64_t kMaxTraceLeadNs = 365 * 86'400'000'000'000ull;

constexpr const char* kCommands =
    "ping, apply, heal, show, stats, trace-start, trace-stop, trace-status, capture-start, "
    "capture-read or capture-stop";

// "2", "0.5", "1e-06": a speed as the user may have written it.
std::string FormatSpeed(double speed) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", speed);
  return text;
}

// The first key of `request` not in `allowed`, or "".
std::string UnknownKey(const nlohmann::json& request, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : request.items()) {
    bool known = false;
    for (const char* name : allowed) known |= key == name;
    if (!known) return key;
  }
  return "";
}

// A string field of the request: *out set and true, or false with *problem set.
bool StringField(const nlohmann::json& request, const char* key, bool required, std::string* out,
                 std::string* problem) {
  const auto found = request.find(key);
  if (found == request.end()) {
    if (required) *problem = std::string("missing \"") + key + "\"";
    return !required;
  }
  if (!found->is_string()) {
    *problem = std::string("\"") + key + "\" must be a string";
    return false;
  }
  *out = found->get<std::string>();
  return true;
}

// Refuses keys a command does not take: a typo must not be silently ignored.
std::optional<nlohmann::json> RefuseUnknownKeys(const nlohmann::json& request, const char* command,
                                                std::initializer_list<const char*> allowed) {
  const std::string unknown = UnknownKey(request, allowed);
  if (unknown.empty()) return std::nullopt;
  return ControlError("bad-request", "unknown key \"" + unknown + "\" in " + std::string(command));
}

// Whether each side is up: {"a": "up", "b": "down"}.
nlohmann::json Links(const ProfileSpec& spec) {
  return {{"a", spec.link_down[0] ? "down" : "up"}, {"b", spec.link_down[1] ? "down" : "up"}};
}

// Where an applied file is, absolute where the client said where it was.
std::string AppliedPath(const std::string& name, const std::string& directory) {
  const std::filesystem::path path(name);
  if (path.is_absolute() || directory.empty()) return name;
  return (std::filesystem::path(directory) / path.filename()).string();
}

}  // namespace

ControlCommands::ControlCommands(LiveDataplane* dataplane, std::chrono::milliseconds ack_timeout)
    : dataplane_(dataplane),
      ack_timeout_(ack_timeout),
      trace_(std::make_unique<TraceRunner>(dataplane, &mutex_)),
      capture_(dataplane),
      loaded_at_ns_(WallClockNs()) {}

void ControlCommands::SetSource(std::string source, std::string how) {
  std::lock_guard lock(mutex_);
  source_ = std::move(source);
  how_ = std::move(how);
}

void ControlCommands::Loaded(std::string source, std::string how) {
  source_ = std::move(source);
  how_ = std::move(how);
  loaded_at_ns_ = WallClockNs();
  changes_.clear();
}

ControlCommands::~ControlCommands() { trace_.reset(); }

nlohmann::json ControlCommands::Handle(const nlohmann::json& request) {
  std::string command, problem;
  if (!StringField(request, "command", true, &command, &problem)) {
    return ControlError("bad-request", problem + " (" + kCommands + ")");
  }
  std::lock_guard lock(mutex_);
  if (command == "ping") {
    if (auto refused = RefuseUnknownKeys(request, "ping", {"command"})) return *refused;
    return State();
  }
  if (command == "heal") return Heal(request);
  if (command == "apply") return Apply(request);
  if (command == "show") return Show(request);
  if (command == "stats") return Stats(request);
  if (command == "trace-start") return TraceStart(request);
  if (command == "trace-stop") return TraceStop(request);
  if (command == "trace-status") return TraceStatus(request);
  if (command == "capture-start") {
    if (auto refused = RefuseUnknownKeys(request, "capture-start",
                                         {"command", "what", "rule", "count", "duration_ns"})) {
      return *refused;
    }
    return capture_.Start(request);
  }
  if (command == "capture-read") {
    if (auto refused = RefuseUnknownKeys(request, "capture-read", {"command", "id"})) {
      return *refused;
    }
    return capture_.Read(request);
  }
  if (command == "capture-stop") {
    if (auto refused = RefuseUnknownKeys(request, "capture-stop", {"command"})) return *refused;
    return capture_.Stop();
  }
  return ControlError("bad-request", "unknown command \"" + command + "\" (" + kCommands + ")");
}

nlohmann::json ControlCommands::TraceReport() {
  std::lock_guard lock(mutex_);
  return trace_->Report();
}

nlohmann::json ControlCommands::Heal(const nlohmann::json& request) {
  std::string what = "partitions", problem;
  if (auto refused = RefuseUnknownKeys(request, "heal", {"command", "what"})) return *refused;
  if (!StringField(request, "what", false, &what, &problem)) {
    return ControlError("bad-request", problem);
  }
  const bool partitions = what == "partitions" || what == "all";
  const bool impairments = what == "impairments" || what == "all";
  if (!partitions && !impairments) {
    return ControlError("bad-request", "heal \"what\" is \"" + what +
                                           "\"; expected partitions, impairments or all");
  }
  // Heal is the way out of a fault: it stops a running trace, whose later steps would bring the
  // faults back.
  const bool stopped_trace = trace_->running();
  trace_->Stop();
  const CompiledProfile& running = *dataplane_->publisher->current();
  ProfileSpec spec = running.spec;
  if (partitions) {
    spec.partitions.clear();
    spec.link_down = {};
  }
  nlohmann::json response = Publish(spec, running.rules_active && !impairments);
  if (stopped_trace) response["trace_stopped"] = true;
  if (response.value("ok", false)) {
    changes_.push_back("heal " + what + (stopped_trace ? " (stopped the running trace)" : ""));
    Note(what == "partitions" ? "heal-partitions" : "heal", "heal " + what);
  }
  return response;
}

void ControlCommands::Note(const std::string& kind, const std::string& detail) {
  // Publish returned once every worker took the change: now is just after it took effect.
  if (dataplane_->series) {
    dataplane_->series->Event(dataplane_->wall_ns(dataplane_->now()), kind, detail);
  }
}

nlohmann::json ControlCommands::Apply(const nlohmann::json& request) {
  std::string text, name = "applied profile", directory, problem;
  if (auto refused =
          RefuseUnknownKeys(request, "apply", {"command", "profile", "name", "directory"}))
    return *refused;
  if (!StringField(request, "profile", true, &text, &problem) ||
      !StringField(request, "name", false, &name, &problem) ||
      !StringField(request, "directory", false, &directory, &problem)) {
    return ControlError("bad-request", problem);
  }
  if (trace_->running()) {
    return ControlError("busy",
                        "a trace is running and its next steps were compiled from the profile in "
                        "force; `faultline trace stop` it first (or `faultline heal`)");
  }
  // The daemon trusts no client: the text is parsed and validated here, in full.
  std::string error;
  std::optional<ProfileSpec> spec = ParseProfileText(text, name, directory, &error);
  if (!spec) return ControlError("invalid-profile", error);
  spec->seed = dataplane_->publisher->current()->spec.seed;  // the models keep their seed
  nlohmann::json response = Publish(*spec, true);
  if (response.value("ok", false)) {
    Loaded(AppliedPath(name, directory), "faultline apply");
    Note("apply", "apply " + AppliedPath(name, directory));
  }
  return response;
}

nlohmann::json ControlCommands::Publish(const ProfileSpec& spec, bool rules_active) {
  SnapshotPublisher& publisher = *dataplane_->publisher;
  const CompiledProfile& running = *publisher.current();
  ProfileSnapshot next;
  try {
    next = CompileProfile(spec, running.time_base, running.seed,
                          CompileOptions{.rules_active = rules_active,
                                         .identities = dataplane_->identities,
                                         .previous = &running});
  } catch (const std::exception& failure) {
    return ControlError("failed", failure.what());
  }
  std::string error;
  if (!publisher.Publish(std::move(next), ack_timeout_, &error)) {
    // Prepare refusals (nothing sent) are the request's fault; a late worker is not.
    const bool refused = error.find("nothing changed") != std::string::npos &&
                         error.find("has not taken") == std::string::npos;
    return ControlError(refused ? "unsupported" : "failed", error);
  }
  return State();
}

nlohmann::json ControlCommands::Stats(const nlohmann::json& request) {
  std::string format = "json", problem;
  if (auto refused = RefuseUnknownKeys(
          request, "stats", {"command", "format", "reset", "series", "since_ns", "window_ns"})) {
    return *refused;
  }
  if (request.contains("series")) return Series(request);
  if (!StringField(request, "format", false, &format, &problem)) {
    return ControlError("bad-request", problem);
  }
  if (const auto reset = request.find("reset"); reset != request.end()) {
    if (!reset->is_boolean()) return ControlError("bad-request", "\"reset\" must be true or false");
    if (reset->get<bool>()) return ResetStats();
  }
  if (format != "json" && format != "text" && format != "prometheus") {
    return ControlError(
        "bad-request", "stats \"format\" is \"" + format + "\"; expected json, text or prometheus");
  }
  dataplane_->publisher->Collect();  // the lateness of steps applied since the last look
  StatsReport report = dataplane_->stats();
  report.trace = trace_->Report();
  nlohmann::json response = {{"ok", true}};
  if (format == "json") response["stats"] = ToJson(report);
  if (format == "text") {
    response["text"] = ToText(report);
    response["stats"] = ToJson(report);  // the same sample, for `stats --watch`'s intervals
  }
  if (format == "prometheus") response["prometheus"] = ToPrometheus(report);
  if (const auto window = request.find("window_ns"); window != request.end()) {
    if (!window->is_number_unsigned() || window->get<uint64_t>() == 0) {
      return ControlError("bad-request", "\"window_ns\" must be a whole number of ns above 0");
    }
    if (dataplane_->series == nullptr) {
      return ControlError("unsupported", "this dataplane keeps no series");
    }
    response["window"] = dataplane_->series->Window(window->get<uint64_t>());
  }
  return response;
}

nlohmann::json ControlCommands::Series(const nlohmann::json& request) {
  if (!request["series"].is_boolean() || !request["series"].get<bool>()) {
    return ControlError("bad-request", "\"series\" must be true");
  }
  uint64_t since_ns = 0;
  if (const auto since = request.find("since_ns"); since != request.end()) {
    if (!since->is_number_unsigned()) {
      return ControlError("bad-request", "\"since_ns\" must be a whole number of ns");
    }
    since_ns = since->get<uint64_t>();
  }
  if (dataplane_->series == nullptr) {
    return ControlError("unsupported", "this dataplane keeps no series");
  }
  uint64_t ring_dropped = 0;
  nlohmann::json lines = nlohmann::json::array();
  for (const std::string& line : dataplane_->series->LinesSince(since_ns, &ring_dropped)) {
    lines.push_back(nlohmann::json::parse(line));
  }
  const uint64_t now = dataplane_->wall_ns(dataplane_->now());
  lines.push_back(
      nlohmann::json::parse(dataplane_->series->HistogramLine(now, dataplane_->stats())));
  return {{"ok", true}, {"series", lines}, {"ring_dropped", ring_dropped}};
}

nlohmann::json ControlCommands::ResetStats() {
  if (!dataplane_->reset_stats) {
    return ControlError("unsupported", "this dataplane cannot reset its statistics");
  }
  dataplane_->publisher->Collect();
  const CompiledProfile& installed = *dataplane_->publisher->installed();
  std::string error;
  const std::optional<StatsReport> reset = dataplane_->reset_stats(&error);
  if (!reset) return ControlError("failed", error);
  Note("reset", "stats --reset");
  nlohmann::json document = ToJson(*reset);
  // Rules and partitions were reset with everything else; the document itemises what the
  // workers kept at the instant of the reset: ports, drops and the pipeline's counters.
  document.erase("rules");
  document.erase("partitions");
  document.erase("trace");
  return {{"ok", true},
          {"reset", document},
          {"reset_at", FormatRfc3339(WallClockNs())},
          {"rules_reset", installed.rule_count()},
          {"partitions_reset", installed.partitions.size() + installed.healed_partitions.size()}};
}

nlohmann::json ControlCommands::TraceStart(const nlohmann::json& request) {
  std::string text, name = "trace", directory, at, problem;
  if (auto refused = RefuseUnknownKeys(request, "trace-start",
                                       {"command", "trace", "name", "directory", "speed", "at"}))
    return *refused;
  if (!StringField(request, "trace", true, &text, &problem) ||
      !StringField(request, "name", false, &name, &problem) ||
      !StringField(request, "directory", false, &directory, &problem) ||
      !StringField(request, "at", false, &at, &problem)) {
    return ControlError("bad-request", problem);
  }
  double speed = 1;
  if (const auto found = request.find("speed"); found != request.end()) {
    if (!found->is_number() || !std::isfinite(found->get<double>()) || found->get<double>() <= 0 ||
        found->get<double>() > TraceRunner::kMaxSpeed) {
      return ControlError("bad-request", "\"speed\" must be a number above 0 (2: twice as fast)");
    }
    speed = found->get<double>();
  }
  if (trace_->running()) {
    return ControlError("busy", "a trace is running; `faultline trace stop` it first");
  }
  const CompiledProfile& running = *dataplane_->publisher->current();
  std::string error;
  std::optional<TraceSpec> trace = ParseTraceText(text, name, directory, &running.spec, &error);
  if (!trace) return ControlError("invalid-trace", error);
  if (speed != 1) {
    trace = ScaleTrace(*trace, speed);
    // Slowed down, its times may pass what the clock arithmetic holds.
    if (trace->period_ns > kMaxTraceTimeNs) {
      return ControlError("bad-request", "at speed " + FormatSpeed(speed) + " a round of the " +
                                             "trace lasts " + FormatDuration(trace->period_ns) +
                                             ", more than " + FormatDuration(kMaxTraceTimeNs) +
                                             " (the longest a trace may last)");
    }
  }

  // Time zero: now plus a lead, now plus --at +DUR, or a wall-clock time (several appliances
  // started from the same trace act together when their clocks are synchronised).
  const TimeBase& time_base = dataplane_->time_base;
  const uint64_t now = dataplane_->now();
  const int64_t wall_now = WallClockNs();
  uint64_t delay_ns = kDefaultTraceLeadNs;
  if (!at.empty() && at[0] == '+') {
    const auto parsed = ParseDuration(at.substr(1), &error);
    if (!parsed) return ControlError("bad-request", "\"at\": " + error);
    delay_ns = *parsed;
  } else if (!at.empty()) {
    const auto target = ParseRfc3339(at, &error);
    if (!target) return ControlError("bad-request", "\"at\": " + error);
    if (*target <= wall_now) {
      return ControlError("bad-request", "\"at\": " + at + " has passed (this host's clock says " +
                                             FormatRfc3339(wall_now) + ")");
    }
    delay_ns = static_cast<uint64_t>(*target - wall_now);
  }
  if (delay_ns > kMaxTraceLeadNs) {
    return ControlError("bad-request", "\"at\": " + at + " is more than " +
                                           FormatDuration(kMaxTraceLeadNs) + " ahead");
  }
  const uint64_t origin = now + time_base.FromNs(delay_ns);
  const std::string trace_name = trace->name;
  const std::optional<std::string> own_profile =
      trace->profile ? std::optional(trace->profile_source) : std::nullopt;
  if (!trace_->Start(std::move(*trace), speed, origin, wall_now + static_cast<int64_t>(delay_ns),
                     &error)) {
    return ControlError("failed", error);
  }
  nlohmann::json response = {{"ok", true}, {"trace", trace_->Report()}};
  if (own_profile) {
    Loaded("the profile of trace " + trace_name + " (" + *own_profile + ", from " + name + ")",
           "faultline trace start, at its time zero");
  }
  changes_.push_back("trace " + trace_name + " started (time zero " +
                     response["trace"].value("started_at", "") + ")");
  if (dataplane_->series) {
    dataplane_->series->Event(dataplane_->wall_ns(origin), "trace-start", "trace " + trace_name);
  }
  return response;
}

nlohmann::json ControlCommands::TraceStop(const nlohmann::json& request) {
  if (auto refused = RefuseUnknownKeys(request, "trace-stop", {"command", "keep"})) return *refused;
  bool keep = false;
  if (const auto found = request.find("keep"); found != request.end()) {
    if (!found->is_boolean()) return ControlError("bad-request", "\"keep\" must be true or false");
    keep = found->get<bool>();
  }
  if (!trace_->running()) {
    nlohmann::json refused =
        ControlError("bad-request",
                     "no trace is running; what is in force stays (`faultline show` says what "
                     "it is, `faultline heal --all` lifts partitions, links and impairments)");
    refused["state"] = State();
    return refused;
  }
  // Stopping ends the faults the trace made: the dataplane goes back to what the trace started
  // from, unless asked to keep what its last step left.
  const TraceState base = trace_->base();
  trace_->Stop();
  const std::string name = trace_->Report().value("name", "");
  nlohmann::json response = keep ? State() : Publish(base.spec, base.rules_active);
  if (!response.value("ok", false)) return response;
  changes_.push_back("trace " + name + " stopped" +
                     (keep ? ", what its last step left kept" : ", its base profile back"));
  Note("trace-stop", "trace " + name + (keep ? " stopped, kept" : " stopped, base restored"));
  response["restored"] = !keep;
  response["trace"] = trace_->Report();
  return response;
}

nlohmann::json ControlCommands::TraceStatus(const nlohmann::json& request) {
  if (auto refused = RefuseUnknownKeys(request, "trace-status", {"command"})) return *refused;
  dataplane_->publisher->Collect();
  return {{"ok", true}, {"trace", trace_->Report()}};
}

nlohmann::json ControlCommands::State() const {
  const CompiledProfile& running = *dataplane_->publisher->current();
  nlohmann::json names = nlohmann::json::array();
  for (const PartitionSpec& partition : running.spec.partitions) names.push_back(partition.name);
  return {{"ok", true},
          {"workers", dataplane_->publisher->workers()},
          {"groups", running.spec.groups.size()},
          {"rules", running.spec.rules.size()},
          {"partitions", running.spec.partitions.size()},
          {"partition_names", names},
          {"links", Links(running.spec)},
          {"impairments", running.rules_active ? "active" : "healed"},
          {"trace", trace_->running() ? "running" : "none"}};
}

nlohmann::json ControlCommands::Show(const nlohmann::json& request) {
  if (auto refused = RefuseUnknownKeys(request, "show", {"command"})) return *refused;
  dataplane_->publisher->Collect();
  // What every worker runs (a trace's next steps may be on their way, not yet in force).
  const CompiledProfile& installed = *dataplane_->publisher->installed();
  ProfileSpec spec = installed.spec;
  spec.seed = installed.seed;  // the running seed, which --seed may have set
  nlohmann::json show = {{"source", source_},
                         {"loaded_by", how_},
                         {"loaded_at", FormatRfc3339(loaded_at_ns_)},
                         {"changed_since", changes_},
                         {"seed", installed.seed},
                         {"impairments", installed.rules_active ? "active" : "healed"},
                         {"links", Links(spec)},
                         {"profile", ProfileDocument(spec)},
                         {"notes", ProfileNotes(spec)},
                         {"yaml", ProfileYaml(spec)},
                         {"trace", nullptr}};
  const nlohmann::json trace = trace_->Report();
  if (trace.is_object()) {
    nlohmann::json& out = show["trace"] = {{"name", trace["name"]},
                                           {"state", trace["state"]},
                                           {"started_at", trace["started_at"]},
                                           {"speed", trace["speed"]},
                                           {"steps_applied", trace["steps_applied"]}};
    if (trace.contains("error")) out["error"] = trace["error"];
    if (trace.contains("next")) {
      out["next"] = trace["next"];
      const int64_t due = trace_->origin_wall_ns() + trace["next"]["at_ns"].get<int64_t>();
      out["next"]["due_at"] = FormatRfc3339(due);
      out["next"]["in_ns"] = std::max<int64_t>(0, due - WallClockNs());
    }
  }
  return {{"ok", true}, {"show", show}};
}

}  // namespace faultline
