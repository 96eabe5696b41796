#include "control/server/telemetry_endpoint.h"

#include <rte_telemetry.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace faultline {
namespace {

std::mutex g_mutex;                       // guards g_stats; never taken by a worker
std::function<nlohmann::json()> g_stats;  // set while a run's control plane is up

// A name telemetry accepts: it allows letters, digits, '_' and '/' only (rte_telemetry's
// valid_name), so every other character ('-' of "a-to-b", a rule's '.') becomes '_'.
std::string TelemetryName(const std::string& name) {
  std::string out = name.substr(0, RTE_TEL_MAX_STRING_LEN - 1);
  for (char& c : out) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                         (c >= 'a' && c <= 'z') || c == '_' || c == '/';
    if (!allowed) c = '_';
  }
  return out;
}

// A dictionary being filled, with room for RTE_TEL_MAX_DICT_ENTRIES (one kept for "truncated").
struct Dict {
  rte_tel_data* d;
  int entries = 0;
  int left_out = 0;

  bool Room() {
    if (entries < RTE_TEL_MAX_DICT_ENTRIES - 1) return ++entries, true;
    ++left_out;
    return false;
  }
  void AddScalar(const std::string& name, const nlohmann::json& value) {
    if (value.is_null() || !Room()) return;
    const std::string key = TelemetryName(name);
    if (value.is_number_unsigned()) {
      rte_tel_data_add_dict_u64(d, key.c_str(), value.get<uint64_t>());
    } else if (value.is_number_integer()) {
      rte_tel_data_add_dict_int(d, key.c_str(), static_cast<int>(value.get<int64_t>()));
    } else if (value.is_boolean()) {
      rte_tel_data_add_dict_int(d, key.c_str(), value.get<bool>() ? 1 : 0);
    } else if (value.is_string()) {
      rte_tel_data_add_dict_string(d, key.c_str(), value.get<std::string>().c_str());
    } else {
      rte_tel_data_add_dict_string(d, key.c_str(), value.dump().c_str());  // fractions
    }
  }
  void Finish() {
    if (left_out > 0) rte_tel_data_add_dict_int(d, "truncated", left_out);
  }
};

// The scalars under `value`, keyed by their dotted path below `prefix`.
void Flatten(const nlohmann::json& value, const std::string& prefix, Dict* dict) {
  if (!value.is_structured()) {
    dict->AddScalar(prefix, value);
    return;
  }
  size_t index = 0;
  for (auto it = value.begin(); it != value.end(); ++it, ++index) {
    const std::string key = value.is_object() ? it.key() : std::to_string(index);
    Flatten(*it, prefix.empty() ? key : prefix + "/" + key, dict);
  }
}

void AddContainer(const std::string& name, const nlohmann::json& value, Dict* dict) {
  if (!dict->Room()) return;
  rte_tel_data* container = rte_tel_data_alloc();
  if (container == nullptr) return;
  rte_tel_data_start_dict(container);
  Dict inner{container};
  Flatten(value, "", &inner);
  inner.Finish();
  rte_tel_data_add_dict_container(dict->d, TelemetryName(name).c_str(), container, /*keep=*/0);
}

// The statistics document, or null when no run is attached.
nlohmann::json Document() {
  std::lock_guard lock(g_mutex);
  return g_stats ? g_stats() : nlohmann::json();
}

// `section` of the statistics document (an array of named entries) as a dictionary by name.
int NamedEntries(const char* section, rte_tel_data* d) {
  const nlohmann::json document = Document();
  if (!document.is_object()) return -1;
  nlohmann::json by_name = nlohmann::json::object();
  for (const nlohmann::json& entry : document.value(section, nlohmann::json::array())) {
    nlohmann::json rest = entry;
    rest.erase("name");
    by_name[entry.value("name", std::string("?"))] = rest;
  }
  ToTelemetryDict(by_name, d);
  return 0;
}

int StatsCommand(const char*, const char*, rte_tel_data* d) {
  nlohmann::json document = Document();
  if (!document.is_object()) return -1;
  // Rules and partitions have commands of their own; the trace is `faultline trace status`'s.
  for (const char* own : {"rules", "partitions", "trace"}) document.erase(own);
  ToTelemetryDict(document, d);
  return 0;
}

int RulesCommand(const char*, const char*, rte_tel_data* d) { return NamedEntries("rules", d); }

int PartitionsCommand(const char*, const char*, rte_tel_data* d) {
  return NamedEntries("partitions", d);
}

}  // namespace

void ToTelemetryDict(const nlohmann::json& object, rte_tel_data* d) {
  rte_tel_data_start_dict(d);
  Dict dict{d};
  for (auto it = object.begin(); it != object.end(); ++it) {
    const nlohmann::json& value = *it;
    const bool entries = value.is_array() && !value.empty() && value.front().is_object();
    if (entries) {
      for (size_t i = 0; i < value.size(); ++i) {
        AddContainer(it.key() + "/" + std::to_string(i), value[i], &dict);
      }
    } else if (value.is_structured()) {
      AddContainer(it.key(), value, &dict);
    } else {
      dict.AddScalar(it.key(), value);
    }
  }
  dict.Finish();
}

bool AttachTelemetry(std::function<nlohmann::json()> stats) {
  static const bool registered =
      rte_telemetry_register_cmd("/faultline/stats", StatsCommand,
                                 "faultline's statistics document without rules and partitions "
                                 "(ports, drops by cause, lateness). Takes no parameters.") == 0 &&
      rte_telemetry_register_cmd("/faultline/rules", RulesCommand,
                                 "faultline's per-rule counters, by rule name. No parameters.") ==
          0 &&
      rte_telemetry_register_cmd("/faultline/partitions", PartitionsCommand,
                                 "faultline's partitions and what they cut, by name. No "
                                 "parameters.") == 0;
  std::lock_guard lock(g_mutex);
  g_stats = std::move(stats);
  return registered;
}

void DetachTelemetry() {
  std::lock_guard lock(g_mutex);
  g_stats = nullptr;
}

}  // namespace faultline
