#include "control/server/stats_interval.h"

#include <cstdio>

#include "dataplane/config/duration_text.h"

namespace faultline {

namespace {

using Json = nlohmann::json;

uint64_t Count(const Json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_number() ? found->get<uint64_t>() : 0;
}

// `now - before`, or `now` when the counter went back (a reset the document did not mark).
uint64_t Delta(uint64_t before, uint64_t now) { return now >= before ? now - before : now; }

// The entry of `list` whose "name" (or "port") is `entry`'s, or an empty object. A copy: the
// callers' lists are temporaries.
Json Matching(const Json& list, const Json& entry, const char* key) {
  if (!list.is_array()) return Json::object();
  for (const Json& candidate : list) {
    if (candidate.value(key, Json()) == entry.value(key, Json())) return candidate;
  }
  return Json::object();
}

// "12.3k/s", "1.49M/s", "830/s".
std::string Rate(double per_second) {
  char text[32];
  if (per_second >= 1e6) {
    std::snprintf(text, sizeof(text), "%.3gM/s", per_second / 1e6);
  } else if (per_second >= 1e3) {
    std::snprintf(text, sizeof(text), "%.3gk/s", per_second / 1e3);
  } else {
    std::snprintf(text, sizeof(text), "%.3g/s", per_second);
  }
  return text;
}

// " (loss +3, partition +6)" for the causes that counted (`sign` before each), "" if none did.
std::string Causes(const Json& dropped, const char* sign) {
  std::string text;
  for (const auto& [cause, count] : dropped.items()) {
    if (cause == "total" || !count.is_number() || count.get<uint64_t>() == 0) continue;
    text +=
        (text.empty() ? " (" : ", ") + cause + " " + sign + std::to_string(count.get<uint64_t>());
  }
  return text.empty() ? "" : text + ")";
}

}  // namespace

nlohmann::json StatsInterval(const nlohmann::json& previous, const nlohmann::json& current) {
  const bool reset = Count(current, "resets") != Count(previous, "resets") ||
                     Count(current, "elapsed_ns") < Count(previous, "elapsed_ns");
  const Json before = reset ? Json::object() : previous;
  const uint64_t elapsed_ns = Delta(Count(before, "elapsed_ns"), Count(current, "elapsed_ns"));
  const double seconds = static_cast<double>(elapsed_ns) / 1e9;
  Json interval = {{"elapsed_ns", elapsed_ns}, {"reset", reset}};

  Json& ports = interval["ports"] = Json::array();
  for (const Json& port : current.value("ports", Json::array())) {
    const Json earlier = Matching(before.value("ports", Json()), port, "port");
    const uint64_t rx = Delta(Count(earlier, "rx"), Count(port, "rx"));
    const uint64_t tx = Delta(Count(earlier, "tx"), Count(port, "tx"));
    ports.push_back({{"port", port.value("port", 0)},
                     {"side", port.value("side", "")},
                     {"rx", rx},
                     {"tx", tx},
                     {"rx_per_s", seconds > 0 ? rx / seconds : 0.0},
                     {"tx_per_s", seconds > 0 ? tx / seconds : 0.0}});
  }
  Json& dropped = interval["dropped"] = Json::object();
  uint64_t total = 0;
  const Json earlier_dropped = before.value("dropped", Json::object());
  const Json current_dropped = current.value("dropped", Json::object());
  for (const auto& [cause, count] : current_dropped.items()) {
    const uint64_t delta = Delta(Count(earlier_dropped, cause.c_str()), count.get<uint64_t>());
    dropped[cause] = delta;
    total += delta;
  }
  dropped["total"] = total;

  Json& rules = interval["rules"] = Json::array();
  for (const Json& rule : current.value("rules", Json::array())) {
    const Json earlier = Matching(before.value("rules", Json()), rule, "name");
    const Json earlier_drops = earlier.value("dropped", Json::object());
    const Json current_drops = rule.value("dropped", Json::object());
    Json drops = Json::object();
    for (const auto& [cause, count] : current_drops.items()) {
      drops[cause] = Delta(Count(earlier_drops, cause.c_str()), count.get<uint64_t>());
    }
    Json entry = {{"name", rule.value("name", "")}, {"dropped", drops}};
    for (const char* key :
         {"matched", "forwarded", "duplicated", "corrupted", "reordered", "ecn_marked"}) {
      entry[key] = Delta(Count(earlier, key), Count(rule, key));
    }
    rules.push_back(entry);
  }
  Json& partitions = interval["partitions"] = Json::array();
  for (const Json& partition : current.value("partitions", Json::array())) {
    const Json earlier = Matching(before.value("partitions", Json()), partition, "name");
    partitions.push_back(
        {{"name", partition.value("name", "")},
         {"in_force", partition.value("in_force", true)},
         {"dropped", Delta(Count(earlier, "dropped"), Count(partition, "dropped"))},
         {"answered", Delta(Count(earlier, "answered"), Count(partition, "answered"))}});
  }
  return interval;
}

std::string IntervalText(const nlohmann::json& interval) {
  std::string text = "interval " + FormatHumanDuration(Count(interval, "elapsed_ns")) +
                     (interval.value("reset", false) ? " (since the statistics were reset)" : "") +
                     ":";
  for (const Json& port : interval.value("ports", Json::array())) {
    text += " port " + std::to_string(port.value("port", 0)) + " rx +" +
            std::to_string(Count(port, "rx")) + " (" + Rate(port.value("rx_per_s", 0.0)) +
            ") tx +" + std::to_string(Count(port, "tx")) + " (" +
            Rate(port.value("tx_per_s", 0.0)) + ");";
  }
  const Json dropped = interval.value("dropped", Json::object());
  text += " dropped +" + std::to_string(Count(dropped, "total")) + Causes(dropped, "+") + "\n";
  for (const Json& rule : interval.value("rules", Json::array())) {
    if (Count(rule, "matched") == 0 && Count(rule, "forwarded") == 0) continue;
    const Json drops = rule.value("dropped", Json::object());
    text += "  rule " + rule.value("name", "") + ": matched +" +
            std::to_string(Count(rule, "matched")) + " forwarded +" +
            std::to_string(Count(rule, "forwarded")) + " dropped +" +
            std::to_string(Count(drops, "total")) + Causes(drops, "+") + "\n";
  }
  for (const Json& partition : interval.value("partitions", Json::array())) {
    if (Count(partition, "dropped") == 0) continue;
    text += "  partition " + partition.value("name", "") +
            (partition.value("in_force", true) ? "" : " (healed)") + ": dropped +" +
            std::to_string(Count(partition, "dropped")) + " answered +" +
            std::to_string(Count(partition, "answered")) + "\n";
  }
  return text;
}

std::string ResetText(const nlohmann::json& response) {
  const Json reset = response.value("reset", Json::object());
  std::string text = "counters and delay histograms reset at " + response.value("reset_at", "") +
                     " (" + std::to_string(Count(response, "rules_reset")) + " rule(s), " +
                     std::to_string(Count(response, "partitions_reset")) +
                     " partition(s)); over the " + FormatHumanDuration(Count(reset, "elapsed_ns")) +
                     " before, they counted:";
  for (const Json& port : reset.value("ports", Json::array())) {
    text += " port " + std::to_string(port.value("port", 0)) + " rx " +
            std::to_string(Count(port, "rx")) + " tx " + std::to_string(Count(port, "tx")) + ";";
  }
  uint64_t total = 0;
  const Json dropped = reset.value("dropped", Json::object());
  for (const auto& [cause, count] : dropped.items()) total += count.get<uint64_t>();
  text += " dropped " + std::to_string(total) + Causes(dropped, "") + "; " +
          std::to_string(Count(reset, "held")) +
          " frame(s) were in flight and count when they leave\n";
  return text;
}

namespace {

// "p50 1.000ms p90 ... max ..." of a percentiles object.
std::string PercentileText(const nlohmann::json& percentiles) {
  std::string text;
  for (const char* key : {"p50", "p90", "p99", "p999", "p9999", "max"}) {
    if (!percentiles.contains(key)) continue;
    text += std::string(text.empty() ? "" : " ") + key + " " +
            FormatHumanDuration(percentiles[key].get<uint64_t>());
  }
  return text + " (" + std::to_string(percentiles.value("count", uint64_t{0})) + " frames)";
}

}  // namespace

std::string WindowText(const nlohmann::json& window, const nlohmann::json& stats) {
  if (!window.is_object()) {
    return "window: not yet (the series needs two samples; see --series-interval)\n";
  }
  std::string text =
      "window " + FormatHumanDuration(window.value("window_ns", uint64_t{0})) + " (residence):\n";
  for (const auto& [name, rule] : window["rules"].items()) {
    text += "  rule " + name + ": " + PercentileText(rule["residence_ns"]) + "\n";
    for (const nlohmann::json& whole : stats.value("rules", nlohmann::json::array())) {
      if (whole.value("name", "") == name && whole.contains("delay_ns")) {
        text += "    whole run: " + PercentileText(whole["delay_ns"]) + "\n";
      }
    }
  }
  if (window.contains("lateness_ns")) {
    text += "  lateness (all ports): " + PercentileText(window["lateness_ns"]) + "\n";
  }
  return text;
}

}  // namespace faultline
