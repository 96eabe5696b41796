// `faultline report`: a series file (docs/formats.md, "Series") as one self-contained HTML page.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "control/cli/subcommand.h"
#include "control/report/chart_js_source.h"
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
        "Example: faultline report --series run.jsonl --out report.html");
    app_->add_option("--series", series_path_, "Series file (JSON lines)")->required();
    app_->add_option("--out", out_path_, "HTML file to write")->required();
  }

  int Run() override {
    std::string error;
    const std::optional<Series> series = ReadSeries(series_path_, &error);
    if (!series) {
      std::fprintf(stderr, "faultline report: %s\n", error.c_str());
      return 2;
    }
    const std::optional<std::string> chart_js = ReadChartJs(&error);
    if (!chart_js) {
      std::fprintf(stderr, "faultline report: %s\n", error.c_str());
      return 1;
    }
    std::vector<std::string> notes;
    const std::string page = RenderReportPage(*series, *chart_js, &notes);
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
    std::printf("faultline report: %zu intervals, %zu events -> %s\n", series->intervals.size(),
                series->events.size(), out_path_.c_str());
    return 0;
  }

 private:
  std::string series_path_;
  std::string out_path_;
};

}  // namespace

std::unique_ptr<Subcommand> AddReportCommand(CLI::App* parent) {
  return std::make_unique<ReportCommand>(parent);
}

}  // namespace faultline
