// `faultline report`: a series file (docs/formats.md, "Series") as one self-contained HTML page.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "control/cli/subcommand.h"
#include "control/report/chart_js_source.h"
#include "control/report/record_summary.h"
#include "control/report/report_page.h"
#include "control/report/series_reader.h"

namespace faultline {
namespace {

class ReportCommand : public Subcommand {
 public:
  explicit ReportCommand(CLI::App* parent) {
    app_ = parent->add_subcommand(
        "report",
        "Turn a series file (`faultline run --series` or `replay --series`) into one HTML page\n"
        "that opens offline: frames per second by cause, residence-time percentiles, the fault\n"
        "timeline and the measured delay CDF against the configured one, and a summary table.\n"
        "Chart.js comes from Debian's libjs-chart.js and is inlined into the page.\n"
        "With --record, also what only the per-frame record shows (its exact delay CDF,\n"
        "counts per rule and direction against the series', drops per second by cause).\n"
        "Example: faultline report --series run.jsonl --record run.rec --out report.html");
    app_->add_option("--series", series_path_, "Series file (JSON lines)");
    app_->add_option("--record", record_path_,
                     "Frame record (`run --record`, `replay --record`): adds each rule's exact\n"
                     "delay CDF, per rule and direction counts beside the series' and drops\n"
                     "per second by cause");
    app_->add_option("--out", out_path_, "HTML file to write")->required();
  }

  int Run() override {
    if (series_path_.empty() && record_path_.empty()) {
      std::fprintf(stderr, "faultline report: give --series FILE, --record FILE or both\n");
      return 2;
    }
    std::string error;
    std::optional<Series> series;
    if (!series_path_.empty() && !(series = ReadSeries(series_path_, &error))) {
      std::fprintf(stderr, "faultline report: %s\n", error.c_str());
      return 2;
    }
    std::optional<RecordSummary> record;
    if (!record_path_.empty()) {
      const std::optional<uint64_t> origin =
          series ? std::optional<uint64_t>(series->header.start_ns) : std::nullopt;
      if (!(record = SummarizeRecord(record_path_, origin, &error))) {
        std::fprintf(stderr, "faultline report: %s\n", error.c_str());
        return 2;
      }
    }
    const std::optional<std::string> chart_js = ReadChartJs(&error);
    if (!chart_js) {
      std::fprintf(stderr, "faultline report: %s\n", error.c_str());
      return 1;
    }
    std::vector<std::string> notes;
    const std::string page = RenderReportPage(series ? &*series : nullptr,
                                              record ? &*record : nullptr, *chart_js, &notes);
    for (const std::string& note : notes) {
      std::fprintf(stderr, "faultline report: note: %s\n", note.c_str());
    }
    std::ofstream out(out_path_, std::ios::binary | std::ios::trunc);
    out << page;
    out.close();
    if (!out) {
      std::fprintf(stderr, "faultline report: %s: cannot write\n", out_path_.c_str());
      return 1;
    }
    std::printf("faultline report: %zu intervals, %zu events, %lu frame records -> %s\n",
                series ? series->intervals.size() : 0, series ? series->events.size() : 0,
                record ? record->records : 0, out_path_.c_str());
    return 0;
  }

 private:
  std::string series_path_;
  std::string record_path_;
  std::string out_path_;
};

}  // namespace

std::unique_ptr<Subcommand> AddReportCommand(CLI::App* parent) {
  return std::make_unique<ReportCommand>(parent);
}

}  // namespace faultline
