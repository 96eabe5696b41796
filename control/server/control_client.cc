#include "control/server/control_client.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "control/base/units.h"
#include "control/profile/profile_parser.h"
#include "control/server/control_server.h"
#include "control/server/stats_interval.h"
#include "control/yaml/yaml_source.h"
#include "dataplane/config/duration_text.h"

namespace faultline {

namespace {

// Long enough for the daemon to parse, compile and wait its second for the workers.
constexpr std::chrono::seconds kResponseTimeout{10};

ControlTransport& Transport() {
  static ControlTransport transport = ControlRequest;
  return transport;
}

// The exit status of a refused request: a runtime failure, or bad input.
int RefusedStatus(const nlohmann::json& response) {
  const std::string code = response.value("code", "failed");
  return code == "failed" || code == "busy" ? 1 : 2;
}

// Sends `request`; on failure prints why as `command` and returns nullopt with *status set.
std::optional<nlohmann::json> Ask(const char* command, const nlohmann::json& request,
                                  const std::string& socket_path, int* status) {
  std::string error;
  bool connected = false;
  auto response = Transport()(socket_path, request, kResponseTimeout, &error, &connected);
  if (!response) {
    std::fprintf(stderr, "faultline %s: %s\n", command, error.c_str());
    *status = 1;
    return std::nullopt;
  }
  if (!response->value("ok", false)) {
    std::fprintf(stderr, "faultline %s: %s\n", command, response->value("error", "").c_str());
    *status = RefusedStatus(*response);
    return std::nullopt;
  }
  return response;
}

// The absolute directory of `file`: relative paths in it resolve there, wherever the daemon runs.
std::string DirectoryOf(const std::string& file) {
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  return (parent.empty() ? std::filesystem::current_path() : std::filesystem::absolute(parent))
      .string();
}

std::string Microseconds(const nlohmann::json& ns) {
  if (!ns.is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", ns.get<double>() / 1e3);
  return text;
}

std::string Seconds(const nlohmann::json& ns) {
  if (!ns.is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", ns.get<double>() / 1e9);
  return text;
}

// "2 group(s), 3 rule(s), partitions 'isolate n3', 'cut', link b down, impairments active": what
// a state response (ping, apply, heal, trace-stop) says is in force.
std::string InForce(const nlohmann::json& state) {
  std::string text = std::to_string(state.value("groups", 0)) + " group(s), " +
                     std::to_string(state.value("rules", 0)) + " rule(s), ";
  const nlohmann::json names = state.value("partition_names", nlohmann::json::array());
  if (names.empty()) {
    text += std::to_string(state.value("partitions", 0)) + " partition(s)";
  } else {
    text += std::to_string(names.size()) + " partition(s) (";
    for (size_t i = 0; i < names.size(); ++i) {
      text += (i ? ", '" : "'") + names[i].get<std::string>() + "'";
    }
    text += ")";
  }
  const nlohmann::json links = state.value("links", nlohmann::json::object());
  for (const char* side : {"a", "b"}) {
    if (links.value(side, "up") == "down") text += std::string(", link ") + side + " down";
  }
  return text + ", impairments " + state.value("impairments", "");
}

// "12.35s", "3d4h0m2s": a wait for people.
std::string In(const nlohmann::json& ns) {
  return ns.is_number() ? FormatHumanDuration(ns.get<uint64_t>()) : "-";
}

// `trace status` for people: the header, then the last steps.
std::string DescribeTraceReport(const nlohmann::json& trace) {
  if (!trace.is_object()) return "no trace has been started\n";
  std::string text;
  const nlohmann::json lateness = trace.value("lateness_ns", nlohmann::json::object());
  char speed[32];
  std::snprintf(speed, sizeof(speed), "%g", trace.value("speed", 1.0));
  const nlohmann::json started = trace.value("started_at", nlohmann::json());
  text += "trace " + trace.value("name", "") + ": " + trace.value("state", "") + ", started " +
          (started.is_string() ? started.get<std::string>() : "at the first frame") + ", speed " +
          speed + "\n";
  if (trace.contains("error")) text += "error: " + trace.value("error", "") + "\n";
  text += "steps applied " + std::to_string(trace.value("steps_applied", uint64_t{0})) +
          "; lateness p50 " + Microseconds(lateness.value("p50", nlohmann::json())) + " us, p99 " +
          Microseconds(lateness.value("p99", nlohmann::json())) + " us, max " +
          Microseconds(lateness.value("max", nlohmann::json())) + " us\n";
  if (trace.contains("next")) {
    const nlohmann::json& next = trace["next"];
    text += "next: step " + std::to_string(next.value("index", uint64_t{0})) + " at " +
            In(next.value("at_ns", nlohmann::json())) +
            " from time zero: " + next.value("description", "") + "\n";
  }
  const nlohmann::json events = trace.value("events", nlohmann::json::array());
  const size_t shown = std::min<size_t>(events.size(), 20);
  if (shown) {
    text += "  step  line  scheduled s        applied s          late us  state      what\n";
  }
  for (size_t i = events.size() - shown; i < events.size(); ++i) {
    const nlohmann::json& step = events[i];
    char line[512];
    std::snprintf(line, sizeof(line), "  %4lu  %4s  %-17s  %-17s  %7s  %-9s  %s\n",
                  step.value("index", uint64_t{0}),
                  step["line"].is_number() ? std::to_string(step["line"].get<int>()).c_str() : "-",
                  Seconds(step.value("scheduled_ns", nlohmann::json())).c_str(),
                  Seconds(step.value("applied_ns", nlohmann::json())).c_str(),
                  Microseconds(step.value("lateness_ns", nlohmann::json())).c_str(),
                  step.value("state", "").c_str(), step.value("description", "").c_str());
    text += line;
  }
  if (events.size() > shown) {
    text += "  (" + std::to_string(events.size() - shown) +
            " earlier steps: `faultline trace status --json` lists them all)\n";
  }
  return text;
}

std::atomic<bool> g_interrupted{false};

// Sends the request and reports the result as `command` on stdout or stderr; returns the exit
// status.
int Send(const char* command, const nlohmann::json& request, const std::string& socket_path,
         const std::string& done) {
  int status = 0;
  const auto response = Ask(command, request, socket_path, &status);
  if (!response) return status;
  std::printf("faultline %s: %s on %s; now %s%s\n", command, done.c_str(), socket_path.c_str(),
              InForce(*response).c_str(),
              response->value("trace_stopped", false) ? " (the running trace was stopped)" : "");
  return 0;
}

}  // namespace

void SetControlTransport(ControlTransport transport) { Transport() = std::move(transport); }

int RunHeal(const std::string& what, const std::string& socket_path) {
  return Send("heal", {{"command", "heal"}, {"what", what}}, socket_path, what + " healed");
}

int RunApply(const std::string& file, const std::string& socket_path) {
  // Read once: what is validated here is what the daemon gets. Relative `table:` paths resolve
  // against the file's directory, wherever the daemon runs.
  std::string error;
  const std::optional<std::string> text = yaml_source::ReadSourceFile(file, &error);
  const std::string directory = DirectoryOf(file);
  if (!text || !ParseProfileText(*text, file, directory, &error)) {
    std::fprintf(stderr, "faultline apply: %s\n", error.c_str());
    return 2;
  }
  const nlohmann::json request = {
      {"command", "apply"}, {"profile", *text}, {"name", file}, {"directory", directory}};
  return Send("apply", request, socket_path, file + " applied");
}

int RunStats(const std::string& format, uint64_t watch_ns, uint64_t count,
             const std::string& socket_path) {
  std::signal(SIGINT, [](int) { g_interrupted.store(true); });
  std::signal(SIGTERM, [](int) { g_interrupted.store(true); });
  nlohmann::json previous;  // the last report's document, for the interval (watch)
  for (uint64_t report = 1;; ++report) {
    int status = 0;
    const nlohmann::json request = {{"command", "stats"}, {"format", format}};
    const auto response = Ask("stats", request, socket_path, &status);
    if (!response) return status;
    if (format == "json") {
      nlohmann::json document = (*response)["stats"];
      if (!previous.is_null()) document["interval"] = StatsInterval(previous, (*response)["stats"]);
      std::printf("%s\n", document.dump(watch_ns ? -1 : 2).c_str());
    } else if (format == "prometheus") {
      std::printf("%s", response->value("prometheus", "").c_str());
    } else {
      if (watch_ns) std::printf("--- %s\n", FormatRfc3339(WallClockNs()).c_str());
      std::printf("%s", response->value("text", "").c_str());
      // The text comes with its document (the same sample), for the interval.
      if (!previous.is_null() && response->contains("stats")) {
        std::printf("%s", IntervalText(StatsInterval(previous, (*response)["stats"])).c_str());
      }
    }
    if (response->contains("stats")) previous = (*response)["stats"];
    std::fflush(stdout);
    if (watch_ns == 0 || (count != 0 && report >= count)) return 0;
    // Sleep in short steps so Ctrl-C ends the watch at once.
    const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(watch_ns);
    while (std::chrono::steady_clock::now() < until) {
      if (g_interrupted.load()) return 0;
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(
          std::chrono::milliseconds(20), until - std::chrono::steady_clock::now()));
    }
    if (g_interrupted.load()) return 0;
  }
}

int RunStatsWindow(bool json, uint64_t window_ns, const std::string& socket_path) {
  int status = 0;
  const nlohmann::json request = {
      {"command", "stats"}, {"format", json ? "json" : "text"}, {"window_ns", window_ns}};
  const auto response = Ask("stats --window", request, socket_path, &status);
  if (!response) return status;
  if (json) {
    nlohmann::json document = (*response)["stats"];
    document["window"] = (*response)["window"];
    std::printf("%s\n", document.dump(2).c_str());
  } else {
    std::printf("%s%s", response->value("text", "").c_str(),
                WindowText((*response)["window"], (*response)["stats"]).c_str());
  }
  return 0;
}

int RunStatsSeries(uint64_t since_ns, const std::string& socket_path) {
  int status = 0;
  const nlohmann::json request = {{"command", "stats"}, {"series", true}, {"since_ns", since_ns}};
  const auto response = Ask("stats --series", request, socket_path, &status);
  if (!response) return status;
  for (const nlohmann::json& line : (*response)["series"]) std::printf("%s\n", line.dump().c_str());
  return 0;
}

int RunStatsReset(bool json, const std::string& socket_path) {
  int status = 0;
  const auto response =
      Ask("stats --reset", {{"command", "stats"}, {"reset", true}}, socket_path, &status);
  if (!response) return status;
  if (json) {
    nlohmann::json document = *response;
    document.erase("ok");
    std::printf("%s\n", document.dump(2).c_str());
  } else {
    std::printf("faultline stats: %s", ResetText(*response).c_str());
  }
  return 0;
}

int RunTraceStart(const std::string& file, double speed, const std::string& at,
                  const std::string& socket_path) {
  std::string error;
  const std::optional<std::string> text = yaml_source::ReadSourceFile(file, &error);
  if (!text) {
    std::fprintf(stderr, "faultline trace start: %s\n", error.c_str());
    return 2;
  }
  nlohmann::json request = {{"command", "trace-start"},
                            {"trace", *text},
                            {"name", file},
                            {"directory", DirectoryOf(file)},
                            {"speed", speed}};
  if (!at.empty()) request["at"] = at;
  int status = 0;
  const auto response = Ask("trace start", request, socket_path, &status);
  if (!response) return status;
  const nlohmann::json& trace = (*response)["trace"];
  std::printf("faultline trace start: %s starts at %s (speed %g)\n",
              trace.value("name", "").c_str(), trace.value("started_at", "").c_str(), speed);
  return 0;
}

int RunTraceStop(bool keep, const std::string& socket_path) {
  int status = 0;
  const auto response =
      Ask("trace stop", {{"command", "trace-stop"}, {"keep", keep}}, socket_path, &status);
  if (!response) return status;
  std::printf("%s", DescribeTraceReport((*response)["trace"]).c_str());
  if (response->value("restored", false)) {
    std::printf("faultline trace stop: the trace's base profile is in force again: %s\n",
                InForce(*response).c_str());
  } else {
    std::printf(
        "faultline trace stop: what the trace's last step left stays in force: %s "
        "(`faultline show` lists it; `faultline heal --all` lifts partitions, links and "
        "impairments)\n",
        InForce(*response).c_str());
  }
  return 0;
}

int RunShow(bool json, const std::string& socket_path) {
  int status = 0;
  const auto response = Ask("show", {{"command", "show"}}, socket_path, &status);
  if (!response) return status;
  const nlohmann::json& show = (*response)["show"];
  if (json) {
    std::printf("%s\n", show.dump(2).c_str());
    return 0;
  }
  // Everything but the profile as comments: the output is a profile file `apply` takes.
  std::string text = "# faultline show: the profile in force on " + socket_path + "\n";
  text += "# source: " + show.value("source", "") + " (" + show.value("loaded_by", "") + ", " +
          show.value("loaded_at", "") + ")\n";
  for (const nlohmann::json& change : show.value("changed_since", nlohmann::json::array())) {
    text += "#   since then: " + change.get<std::string>() + "\n";
  }
  const nlohmann::json links = show.value("links", nlohmann::json::object());
  text += "# seed " + std::to_string(show.value("seed", uint64_t{0})) + "; impairments " +
          show.value("impairments", "") +
          (show.value("impairments", "") == "healed" ? " (no rule matches until an apply)" : "") +
          "; link a " + links.value("a", "") + ", link b " + links.value("b", "") + "\n";
  const nlohmann::json trace = show.value("trace", nlohmann::json());
  if (trace.is_object()) {
    text += "# trace " + trace.value("name", "") + ": " + trace.value("state", "") +
            ", time zero " + trace.value("started_at", "") + ", " +
            std::to_string(trace.value("steps_applied", uint64_t{0})) + " step(s) applied";
    if (trace.contains("next")) {
      const nlohmann::json& next = trace["next"];
      text += "; next: step " + std::to_string(next.value("index", uint64_t{0})) + " in " +
              In(next.value("in_ns", nlohmann::json())) + " (" +
              In(next.value("at_ns", nlohmann::json())) +
              " from time zero): " + next.value("description", "");
    }
    text += "\n";
  } else {
    text += "# no trace has been started\n";
  }
  std::printf("%s%s", text.c_str(), show.value("yaml", "").c_str());
  return 0;
}

int RunTraceStatus(bool json, const std::string& socket_path) {
  int status = 0;
  const auto response = Ask("trace status", {{"command", "trace-status"}}, socket_path, &status);
  if (!response) return status;
  if (json) {
    std::printf("%s\n", (*response)["trace"].dump(2).c_str());
  } else {
    std::printf("%s", DescribeTraceReport((*response)["trace"]).c_str());
  }
  return 0;
}

std::optional<nlohmann::json> AskControl(const char* command, const nlohmann::json& request,
                                         const std::string& socket_path, int* status) {
  return Ask(command, request, socket_path, status);
}

}  // namespace faultline
