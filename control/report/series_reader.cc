#include "control/report/series_reader.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "dataplane/config/regular_file.h"

namespace faultline {
namespace {

using Json = nlohmann::json;

// A wrong line; ParseSeries adds the file and line number.
struct LineError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

const Json* Field(const Json& object, const char* key, bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (required) throw LineError(std::string("missing \"") + key + "\"");
    return nullptr;
  }
  return &*it;
}

uint64_t Uint(const Json& object, const char* key, bool required = true) {
  const Json* value = Field(object, key, required);
  if (value == nullptr) return 0;
  if (!value->is_number_unsigned()) {
    throw LineError(std::string("\"") + key + "\" must be a non-negative integer, not " +
                    value->dump());
  }
  return value->get<uint64_t>();
}

std::string Text(const Json& object, const char* key, bool required = true) {
  const Json* value = Field(object, key, required);
  if (value == nullptr) return "";
  if (!value->is_string()) {
    throw LineError(std::string("\"") + key + "\" must be a string, not " + value->dump());
  }
  return value->get<std::string>();
}

const Json& Object(const Json& object, const char* key) {
  const Json* value = Field(object, key, true);
  if (!value->is_object()) throw LineError(std::string("\"") + key + "\" must be an object");
  return *value;
}

const Json* OptionalArray(const Json& object, const char* key) {
  const Json* value = Field(object, key, false);
  if (value != nullptr && !value->is_array()) {
    throw LineError(std::string("\"") + key + "\" must be an array");
  }
  return value;
}

SeriesHeader ReadHeader(const Json& line) {
  SeriesHeader header;
  if (Uint(line, "version") != 1) throw LineError("unknown series version (this reader knows 1)");
  header.source = Text(line, "source");
  header.profile = Text(line, "profile", false);
  header.start_ns = Uint(line, "start_ns");
  header.interval_ns = Uint(line, "interval_ns");
  header.seed = Uint(line, "seed", false);
  if (const Json* rules = OptionalArray(line, "rules")) {
    for (const Json& rule : *rules) {
      if (!rule.is_object()) throw LineError("each of \"rules\" must be an object");
      SeriesRuleDelay delay;
      delay.name = Text(rule, "name");
      if (rule.contains("delay")) {
        const Json& spec = Object(rule, "delay");
        delay.delay_ns = Uint(spec, "delay_ns");
        delay.jitter_ns = Uint(spec, "jitter_ns", false);
        delay.distribution = Text(spec, "distribution", false);
      }
      header.rules.push_back(delay);
    }
  }
  return header;
}

SeriesPercentiles ReadPercentiles(const Json& object) {
  SeriesPercentiles p;
  p.count = Uint(object, "count");
  p.p50 = Uint(object, "p50");
  p.p90 = Uint(object, "p90", false);
  p.p99 = Uint(object, "p99");
  p.p999 = Uint(object, "p999");
  p.p9999 = Uint(object, "p9999", false);
  p.max = Uint(object, "max");
  return p;
}

std::map<std::string, uint64_t> ReadDropped(const Json& line) {
  std::map<std::string, uint64_t> counts;
  const Json& dropped = Object(line, "dropped");
  for (auto it = dropped.begin(); it != dropped.end(); ++it) {
    counts[it.key()] = Uint(dropped, it.key().c_str());
  }
  return counts;
}

void ReadIntervalRules(const Json& line, SeriesInterval* interval) {
  if (!line.contains("rules")) return;
  for (const auto& [name, rule] : Object(line, "rules").items()) {
    if (!rule.is_object()) throw LineError("each rule of \"rules\" must be an object");
    SeriesRuleCounts& counts = interval->rules[name];
    counts.matched = Uint(rule, "matched", false);
    counts.forwarded = Uint(rule, "forwarded", false);
    if (rule.contains("dropped")) counts.dropped = ReadDropped(rule);
  }
}

SeriesInterval ReadInterval(const Json& line, uint64_t default_interval_ns) {
  SeriesInterval interval;
  interval.t_ns = Uint(line, "t_ns");
  interval.interval_ns =
      line.contains("interval_ns") ? Uint(line, "interval_ns") : default_interval_ns;
  interval.delivered = Uint(line, "delivered");
  interval.duplicated = Uint(line, "duplicated", false);
  interval.corrupted = Uint(line, "corrupted", false);
  interval.reordered = Uint(line, "reordered", false);
  interval.dropped = ReadDropped(line);
  interval.residence = ReadPercentiles(Object(line, "residence_ns"));
  ReadIntervalRules(line, &interval);
  return interval;
}

SeriesEvent ReadEvent(const Json& line) {
  SeriesEvent event;
  event.t_ns = Uint(line, "t_ns");
  event.kind = Text(line, "kind");
  event.detail = Text(line, "detail", false);
  if (line.contains("until_ns")) event.until_ns = Uint(line, "until_ns");
  return event;
}

void ReadHistogram(const Json& line, Series* series) {
  series->residence_histograms.clear();  // the last histogram line is the whole run's
  for (const auto& [rule, value] : Object(line, "rules").items()) {
    if (!value.is_object()) throw LineError("each rule of \"rules\" must be an object");
    std::vector<std::pair<uint64_t, uint64_t>>& buckets = series->residence_histograms[rule];
    if (const Json* pairs = OptionalArray(value, "residence_ns")) {
      for (const Json& pair : *pairs) {
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_unsigned() ||
            !pair[1].is_number_unsigned()) {
          throw LineError("a residence_ns bucket must be [LOW_NS, COUNT], not " + pair.dump());
        }
        buckets.emplace_back(pair[0].get<uint64_t>(), pair[1].get<uint64_t>());
      }
    }
  }
}

// One line into `series`; `seen_header` says whether the header came already.
void ReadLine(const std::string& text, bool* seen_header, Series* series) {
  Json line;
  try {
    line = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw LineError(std::string("not JSON: ") + e.what());
  }
  if (!line.is_object()) throw LineError("each line must be a JSON object");
  const std::string type = Text(line, "type");
  if (!*seen_header) {
    if (type != "header")
      throw LineError("the first line must be the header, not \"" + type + "\"");
    series->header = ReadHeader(line);
    *seen_header = true;
  } else if (type == "header") {
    throw LineError("a second header");
  } else if (type == "interval") {
    series->intervals.push_back(ReadInterval(line, series->header.interval_ns));
  } else if (type == "event") {
    series->events.push_back(ReadEvent(line));
  } else if (type == "histogram") {
    ReadHistogram(line, series);
  }  // other types: later additions to the format, skipped
}

}  // namespace

std::optional<Series> ParseSeries(const std::string& text, const std::string& name,
                                  std::string* error) {
  Series series;
  bool seen_header = false;
  size_t line_number = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line_number;
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      ReadLine(line, &seen_header, &series);
    } catch (const std::exception& e) {  // LineError, or nlohmann's on a value out of range
      *error = name + ":" + std::to_string(line_number) + ": " + e.what();
      return std::nullopt;
    }
  }
  if (!seen_header) {
    *error = name + ":1: no header line (the first line must be {\"type\":\"header\",...})";
    return std::nullopt;
  }
  return series;
}

std::optional<Series> ReadSeries(const std::string& path, std::string* error) {
  const std::optional<std::string> text = ReadRegularFile(path, error, kMaxSeriesFileBytes);
  if (!text) return std::nullopt;
  return ParseSeries(*text, path, error);
}

}  // namespace faultline
