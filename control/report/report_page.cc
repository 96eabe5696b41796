#include "control/report/report_page.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "control/report/configured_cdf.h"
#include "control/report/record_section.h"
#include "control/report/report_script.h"

namespace faultline {
namespace {

using Json = nlohmann::json;

double Seconds(const Series& series, uint64_t t_ns) {
  return (static_cast<double>(t_ns) - static_cast<double>(series.header.start_ns)) / 1e9;
}

// A percentile for a log axis: null for an interval without frames.
Json Micros(uint64_t count, uint64_t ns) {
  return count == 0 ? Json(nullptr) : Json(static_cast<double>(ns) / 1e3);
}

Json Rates(const Series& series) {
  Json t = Json::array(), delivered = Json::array(), dropped = Json::object();
  Json p50 = Json::array(), p99 = Json::array(), p999 = Json::array();
  for (const SeriesInterval& interval : series.intervals) {
    for (const auto& [cause, count] : interval.dropped) dropped[cause] = Json::array();
  }
  for (const SeriesInterval& interval : series.intervals) {
    const double seconds = interval.interval_ns == 0 ? 1.0 : interval.interval_ns / 1e9;
    t.push_back(Seconds(series, interval.t_ns));
    delivered.push_back(static_cast<double>(interval.delivered) / seconds);
    for (auto& [cause, values] : dropped.items()) {
      const auto it = interval.dropped.find(cause);
      values.push_back(it == interval.dropped.end() ? 0.0 : it->second / seconds);
    }
    const SeriesPercentiles& r = interval.residence;
    p50.push_back(Micros(r.count, r.p50));
    p99.push_back(Micros(r.count, r.p99));
    p999.push_back(Micros(r.count, r.p999));
  }
  return {{"t", t},
          {"delivered", delivered},
          {"dropped", dropped},
          {"residence", {{"p50", p50}, {"p99", p99}, {"p999", p999}}}};
}

// Events; a partition or stall without until_ns lasts until the next heal (or the series' end).
Json Events(const Series& series) {
  const uint64_t end_ns =
      series.intervals.empty() ? series.header.start_ns : series.intervals.back().t_ns;
  Json events = Json::array();
  for (size_t i = 0; i < series.events.size(); ++i) {
    const SeriesEvent& event = series.events[i];
    std::optional<uint64_t> until = event.until_ns;
    if (!until && (event.kind == "partition" || event.kind == "stall")) {
      until = std::max(end_ns, event.t_ns);
      for (size_t j = i + 1; j < series.events.size(); ++j) {
        const std::string& kind = series.events[j].kind;
        if (kind == "heal" || kind == "heal-partitions" || kind == "reset") {
          until = series.events[j].t_ns;
          break;
        }
      }
    }
    events.push_back({{"t", Seconds(series, event.t_ns)},
                      {"until", until ? Json(Seconds(series, *until)) : Json(nullptr)},
                      {"kind", event.kind},
                      {"detail", event.detail}});
  }
  return events;
}

// The smallest bucket bound at or below which `q` of the frames fall.
uint64_t HistogramQuantile(const std::vector<std::pair<uint64_t, uint64_t>>& buckets,
                           uint64_t total, double q) {
  uint64_t seen = 0;
  for (const auto& [low, count] : buckets) {
    seen += count;
    if (static_cast<double>(seen) >= q * static_cast<double>(total)) return low;
  }
  return buckets.empty() ? 0 : buckets.back().first;
}

// The rule's configured delay CDF from the series header (null: not in the header, or not drawn).
Json ConfiguredCdf(const Series& series, const std::string& rule, std::vector<std::string>* notes) {
  Json configured = nullptr;
  for (const SeriesRuleDelay& delay : series.header.rules) {
    if (delay.name != rule) continue;
    std::string error;
    const auto cdf =
        ConfiguredDelayCdf(delay.delay_ns, delay.jitter_ns, delay.distribution, &error);
    if (!cdf) {
      notes->push_back("rule " + rule + ": configured delay not drawn: " + error);
      continue;
    }
    configured = Json::array();
    for (const auto& [ns, p] : *cdf) configured.push_back({ns / 1e6, p});
  }
  return configured;
}

Json DelayCdfs(const Series& series, std::vector<std::string>* notes) {
  Json cdfs = Json::array();
  for (const auto& [rule, buckets] : series.residence_histograms) {
    uint64_t total = 0;
    for (const auto& bucket : buckets) total += bucket.second;
    Json measured = Json::array();
    uint64_t seen = 0;
    for (const auto& [low, count] : buckets) {
      seen += count;
      measured.push_back({low / 1e6, static_cast<double>(seen) / static_cast<double>(total)});
    }
    const Json configured = ConfiguredCdf(series, rule, notes);
    cdfs.push_back({{"rule", rule},
                    {"measured", measured},
                    {"configured", configured},
                    {"p50_us", HistogramQuantile(buckets, total, 0.5) / 1e3},
                    {"p99_us", HistogramQuantile(buckets, total, 0.99) / 1e3},
                    {"p999_us", HistogramQuantile(buckets, total, 0.999) / 1e3},
                    {"count", total}});
  }
  return cdfs;
}

Json Summary(const Series& series) {
  uint64_t delivered = 0, duplicated = 0, corrupted = 0, reordered = 0, worst_p999 = 0;
  std::map<std::string, uint64_t> dropped;
  for (const SeriesInterval& interval : series.intervals) {
    delivered += interval.delivered;
    duplicated += interval.duplicated;
    corrupted += interval.corrupted;
    reordered += interval.reordered;
    worst_p999 = std::max(worst_p999, interval.residence.p999);
    for (const auto& [cause, count] : interval.dropped) dropped[cause] += count;
  }
  const double duration =
      series.intervals.empty() ? 0 : Seconds(series, series.intervals.back().t_ns);
  Json rows = Json::array(
      {Json::array({"source", series.header.source}),
       Json::array({"profile", series.header.profile}), Json::array({"seed", series.header.seed}),
       Json::array({"duration (s)", duration}), Json::array({"intervals", series.intervals.size()}),
       Json::array({"delivered frames", delivered})});
  for (const auto& [cause, count] : dropped) rows.push_back({"dropped: " + cause, count});
  rows.push_back({"duplicated", duplicated});
  rows.push_back({"corrupted", corrupted});
  rows.push_back({"reordered", reordered});
  rows.push_back({"worst interval p99.9 residence (us)", worst_p999 / 1e3});
  rows.push_back({"fault and control events", series.events.size()});
  return rows;
}

// JSON inside a <script> element: no '<' at all (written \u003c, the same string to JSON), so
// no text from the series can close the element or open another ("</script>", "<!--").
std::string ScriptSafe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (const char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string HtmlEscape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else
      out += c;
  }
  return out;
}

// The record's part of the data, each rule's CDF with the configured one beside it (taken from
// the series' CDFs where drawn there already, so a note is not made twice).
Json RecordPart(const RecordSummary& record, const Series* series, const Json& series_cdfs,
                std::vector<std::string>* notes) {
  Json part = RecordReportData(record, series, notes);
  for (Json& cdf : part["cdfs"]) {
    cdf["configured"] = nullptr;
    if (series == nullptr) continue;
    const std::string rule = cdf["rule"];
    const auto drawn = std::find_if(series_cdfs.begin(), series_cdfs.end(),
                                    [&](const Json& c) { return c["rule"] == rule; });
    cdf["configured"] =
        drawn != series_cdfs.end() ? (*drawn)["configured"] : ConfiguredCdf(*series, rule, notes);
  }
  return part;
}

}  // namespace

std::string ReportData(const Series& series, std::vector<std::string>* notes) {
  return ReportData(&series, nullptr, notes);
}

std::string ReportData(const Series* series, const RecordSummary* record,
                       std::vector<std::string>* notes) {
  Series none;  // a record alone: its times count from the record's origin
  if (series == nullptr && record != nullptr) none.header.start_ns = record->origin_ns;
  const Series& shown = series != nullptr ? *series : none;
  Json data = Rates(shown);
  data["has_series"] = series != nullptr;
  data["events"] = Events(shown);
  data["cdfs"] = DelayCdfs(shown, notes);
  data["summary"] = Summary(shown);
  data["record"] = record != nullptr ? RecordPart(*record, series, data["cdfs"], notes) : nullptr;
  data["notes"] = *notes;
  return data.dump();
}

std::string RenderReportPage(const Series& series, const std::string& chart_js,
                             std::vector<std::string>* notes) {
  return RenderReportPage(&series, nullptr, chart_js, notes);
}

std::string RenderReportPage(const Series* series, const RecordSummary* record,
                             const std::string& chart_js, std::vector<std::string>* notes) {
  const std::string name = series != nullptr ? series->header.profile : "frame record";
  const std::string title = "faultline report: " + HtmlEscape(name);
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
                     title + "</title>\n<style>" + kReportStyle + "</style>\n</head><body>\n<h1>" +
                     title + "</h1>\n" + kReportBody;
  page += "<script id=\"series-data\" type=\"application/json\">" +
          ScriptSafe(ReportData(series, record, notes)) + "</script>\n";
  page += "<script>\n" + chart_js + "\n</script>\n";
  page += "<script>\n" + std::string(kReportScript) + "\n</script>\n</body></html>\n";
  return page;
}

}  // namespace faultline
