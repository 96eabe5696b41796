#include "control/report/record_section.h"

#include <algorithm>
#include <set>

namespace faultline {
namespace {

using Json = nlohmann::json;

const char* DirectionName(int direction) { return direction == 0 ? "a-to-b" : "b-to-a"; }

// Drops by cause name, causes with 0 left out (as the series writes them).
std::map<std::string, uint64_t> DroppedByName(const RecordCounts& counts) {
  std::map<std::string, uint64_t> dropped;
  for (int cause = 0; cause < kRecordCauses; ++cause) {
    if (counts.dropped[cause] != 0) {
      dropped[DropCauseName(static_cast<DropCause>(cause))] = counts.dropped[cause];
    }
  }
  return dropped;
}

Json CountsJson(const RecordCounts& counts) {
  return {{"in", counts.in},
          {"delivered", counts.delivered},
          {"duplicates", counts.duplicates},
          {"answers", counts.answers},
          {"dropped", DroppedByName(counts)}};
}

Json Cdfs(const RecordSummary& record) {
  Json cdfs = Json::array();
  for (const auto& [rule, histogram] : record.residence) {
    HistogramSummary summary;
    summary.Add(*histogram);
    cdfs.push_back({{"rule", rule},
                    {"measured", HistogramCdf(summary)},
                    {"count", summary.total},
                    {"p50_ns", summary.Percentile(0.5)},
                    {"p99_ns", summary.Percentile(0.99)},
                    {"p999_ns", summary.Percentile(0.999)},
                    {"max_ns", summary.max}});
  }
  return cdfs;
}

// The series' totals of one rule over the run (null if the series never names it).
Json SeriesRuleTotals(const Series& series, const std::string& rule) {
  bool seen = false;
  uint64_t matched = 0, forwarded = 0;
  std::map<std::string, uint64_t> dropped;
  for (const SeriesInterval& interval : series.intervals) {
    const auto it = interval.rules.find(rule);
    if (it == interval.rules.end()) continue;
    seen = true;
    matched += it->second.matched;
    forwarded += it->second.forwarded;
    for (const auto& [cause, count] : it->second.dropped) dropped[cause] += count;
  }
  if (!seen) return nullptr;
  return {{"matched", matched}, {"forwarded", forwarded}, {"dropped", dropped}};
}

// Record against series, per rule and for the whole run; a note for each difference.
Json Comparison(const RecordSummary& record, const Series& series,
                std::vector<std::string>* notes) {
  std::set<std::string> rules;
  for (const auto& [key, counts] : record.counts) rules.insert(key.first);
  Json rows = Json::array();
  RecordCounts all;
  for (const std::string& rule : rules) {
    const RecordCounts total = record.RuleTotal(rule);
    all.Add(total);
    const Json theirs = SeriesRuleTotals(series, rule);
    bool agree = theirs.is_null();
    if (!theirs.is_null()) {
      agree = theirs["matched"] == total.in && theirs["forwarded"] == total.delivered &&
              theirs["dropped"] == Json(DroppedByName(total));
      if (!agree) notes->push_back("rule " + rule + ": the record and the series differ");
    }
    rows.push_back(
        {{"rule", rule}, {"record", CountsJson(total)}, {"series", theirs}, {"agree", agree}});
  }
  uint64_t delivered = 0;
  std::map<std::string, uint64_t> dropped;
  for (const SeriesInterval& interval : series.intervals) {
    delivered += interval.delivered;
    for (const auto& [cause, count] : interval.dropped) dropped[cause] += count;
  }
  const bool agree = delivered == all.delivered && Json(dropped) == Json(DroppedByName(all));
  if (!agree) {
    notes->push_back("whole run: the record has " + std::to_string(all.delivered) +
                     " delivered and " + std::to_string(all.DroppedTotal()) +
                     " dropped, the series " + std::to_string(delivered) +
                     " delivered (a live record may miss frames it counted as record_lost)");
  }
  rows.push_back(
      {{"rule", "(all)"},
       {"record", CountsJson(all)},
       {"series", {{"matched", nullptr}, {"forwarded", delivered}, {"dropped", dropped}}},
       {"agree", agree}});
  return rows;
}

// A record from another run than the series: its clock kind or its frames' times do not fit.
void CheckSameRun(const RecordSummary& record, const Series& series,
                  std::vector<std::string>* notes) {
  const bool virtual_series = series.header.source == "replay";
  if (record.header.virtual_clock != virtual_series) {
    notes->push_back(
        std::string("the record is of a ") + (record.header.virtual_clock ? "replay" : "live run") +
        " and the series of a " + series.header.source + ": they look like different runs");
    return;
  }
  if (record.records == 0 || series.intervals.empty()) return;
  const uint64_t slack = std::max<uint64_t>(series.header.interval_ns, 1'000'000'000);
  const uint64_t begin = series.header.start_ns > slack ? series.header.start_ns - slack : 0;
  const uint64_t end = series.intervals.back().t_ns + slack;
  if (record.last_arrival_ns < begin || record.first_arrival_ns > end) {
    notes->push_back(
        "the record's frames arrived outside the series' time span: they look "
        "like different runs");
  }
}

// Drops per second by cause, in bins of whole seconds (at most about 2000 of them).
Json DropRates(const RecordSummary& record, uint64_t axis_origin_ns) {
  const size_t seconds = record.drops_per_second.size();
  const size_t width = std::max<size_t>(1, (seconds + 1999) / 2000);
  std::set<int> causes;
  for (const auto& bin : record.drops_per_second) {
    for (int cause = 0; cause < kRecordCauses; ++cause) {
      if (bin[cause] != 0) causes.insert(cause);
    }
  }
  const double offset = (static_cast<double>(record.origin_ns) - axis_origin_ns) / 1e9;
  Json t = Json::array(), rates = Json::object();
  for (const int cause : causes)
    rates[DropCauseName(static_cast<DropCause>(cause))] = Json::array();
  for (size_t first = 0; first < seconds; first += width) {
    t.push_back(offset + static_cast<double>(std::min(first + width, seconds)));
    for (const int cause : causes) {
      uint64_t count = 0;
      for (size_t i = first; i < std::min(first + width, seconds); ++i) {
        count += record.drops_per_second[i][cause];
      }
      rates[DropCauseName(static_cast<DropCause>(cause))].push_back(static_cast<double>(count) /
                                                                    static_cast<double>(width));
    }
  }
  return {{"t", t}, {"causes", rates}, {"bin_s", width}};
}

}  // namespace

Json HistogramCdf(const HistogramSummary& summary, size_t max_points) {
  Json points = Json::array();
  if (summary.total == 0) return points;
  points.push_back({summary.min / 1e6, 0.0});  // the curve rises from 0 at the smallest delay
  const double step = 1.0 / static_cast<double>(max_points);
  uint64_t seen = 0;
  double last = 0;
  for (int bucket = 0; bucket < LatencyHistogram::kBuckets; ++bucket) {
    if (summary.counts[bucket] == 0) continue;
    seen += summary.counts[bucket];
    const double fraction = static_cast<double>(seen) / static_cast<double>(summary.total);
    if (fraction - last < step && seen != summary.total) continue;
    const uint64_t top =
        LatencyHistogram::BucketLow(bucket) + LatencyHistogram::BucketWidth(bucket) - 1;
    points.push_back({std::clamp(top, summary.min, summary.max) / 1e6, fraction});
    last = fraction;
  }
  return points;
}

Json RecordReportData(const RecordSummary& record, const Series* series,
                      std::vector<std::string>* notes) {
  Json rows = Json::array();
  for (const auto& [key, counts] : record.counts) {
    Json row = CountsJson(counts);
    row["rule"] = key.first;
    row["direction"] = DirectionName(key.second);
    rows.push_back(row);
  }
  Json data = {{"clock", record.header.virtual_clock ? "virtual" : "unix"},
               {"records", record.records},
               {"cdfs", Cdfs(record)},
               {"rows", rows},
               {"comparison", nullptr}};
  if (series != nullptr) {
    CheckSameRun(record, *series, notes);
    data["comparison"] = Comparison(record, *series, notes);
  }
  data["drops"] = DropRates(record, series != nullptr ? series->header.start_ns : record.origin_ns);
  return data;
}

}  // namespace faultline
