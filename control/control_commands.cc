#include "control/control_commands.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <string>

#include "control/control_server.h"
#include "control/profile_parser.h"
#include "control/trace_parser.h"
#include "control/units.h"
#include "dataplane/stats.h"

namespace faultline {

namespace {

// Without --at a trace starts this long after it is accepted, so its first steps are compiled and
// handed to the workers before they are due.
constexpr uint64_t kDefaultTraceLeadNs = 200'000'000;

// How far ahead `at` may put a trace's start: far enough for any plan, near enough that the
// start in clock units (and as wall-clock nanoseconds) stays far inside 64 bits.
constexpr uint64_t kMaxTraceLeadNs = 365 * 86'400'000'000'000ull;

constexpr const char* kCommands =
    "ping, apply, heal, stats, trace-start, trace-stop or trace-status";

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

}  // namespace

ControlCommands::ControlCommands(LiveDataplane* dataplane, std::chrono::milliseconds ack_timeout)
    : dataplane_(dataplane),
      ack_timeout_(ack_timeout),
      trace_(std::make_unique<TraceRunner>(dataplane, &mutex_)) {}

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
  if (command == "stats") return Stats(request);
  if (command == "trace-start") return TraceStart(request);
  if (command == "trace-stop") return TraceStop(request);
  if (command == "trace-status") return TraceStatus(request);
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
  return response;
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
  return Publish(*spec, true);
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
  if (auto refused = RefuseUnknownKeys(request, "stats", {"command", "format"})) return *refused;
  if (!StringField(request, "format", false, &format, &problem)) {
    return ControlError("bad-request", problem);
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
  if (format == "text") response["text"] = ToText(report);
  if (format == "prometheus") response["prometheus"] = ToPrometheus(report);
  return response;
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
        found->get<double>() > 1e9) {
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
  if (!trace_->Start(std::move(*trace), speed, origin, wall_now + static_cast<int64_t>(delay_ns),
                     &error)) {
    return ControlError("failed", error);
  }
  nlohmann::json response = {{"ok", true}, {"trace", trace_->Report()}};
  return response;
}

nlohmann::json ControlCommands::TraceStop(const nlohmann::json& request) {
  if (auto refused = RefuseUnknownKeys(request, "trace-stop", {"command"})) return *refused;
  if (!trace_->running()) return ControlError("bad-request", "no trace is running");
  trace_->Stop();
  return {{"ok", true}, {"trace", trace_->Report()}};
}

nlohmann::json ControlCommands::TraceStatus(const nlohmann::json& request) {
  if (auto refused = RefuseUnknownKeys(request, "trace-status", {"command"})) return *refused;
  dataplane_->publisher->Collect();
  return {{"ok", true}, {"trace", trace_->Report()}};
}

nlohmann::json ControlCommands::State() const {
  const CompiledProfile& running = *dataplane_->publisher->current();
  return {{"ok", true},
          {"workers", dataplane_->publisher->workers()},
          {"groups", running.spec.groups.size()},
          {"rules", running.spec.rules.size()},
          {"partitions", running.spec.partitions.size()},
          {"impairments", running.rules_active ? "active" : "healed"},
          {"trace", trace_->running() ? "running" : "none"}};
}

}  // namespace faultline
