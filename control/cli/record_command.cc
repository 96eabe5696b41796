// `faultline record export`: a `--record` file (docs/formats.md "Frame record file") as CSV.
#include <cstdio>
#include <optional>

#include "control/cli/subcommand.h"
#include "dataplane/reporting/frame_record_file.h"

namespace faultline {

namespace {

class RecordExportCommand : public Subcommand {
 public:
  explicit RecordExportCommand(CLI::App* record) {
    app_ = record->add_subcommand(
        "export",
        "Write a --record file as CSV: a header row, then one row per frame fate.\n"
        "Example: faultline record export --csv run.rec --out run.csv --cause loss");
    app_->add_option("--csv", in_, "The record file (written by run or replay --record)")
        ->required();
    app_->add_option("--out", out_, "Write the CSV here (default: standard output)");
    app_->add_option_function<std::string>(
        "--rule", [this](const std::string& rule) { options_.rule = rule; },
        "Only the records of this rule");
    app_->add_option_function<std::string>(
        "--cause", [this](const std::string& cause) { options_.cause = cause; },
        "Only the drops of this cause (loss, queue, ...), or none: only transmitted frames");
  }

  int Run() override {
    std::FILE* out = out_.empty() ? stdout : std::fopen(out_.c_str(), "w");
    if (out == nullptr) {
      std::fprintf(stderr, "faultline record export: cannot create %s\n", out_.c_str());
      return 1;
    }
    const std::string error = ExportRecordCsv(in_, out, options_);
    const bool written = std::fflush(out) == 0 && (out == stdout || std::fclose(out) == 0);
    if (!error.empty()) {
      std::fprintf(stderr, "faultline record export: %s\n", error.c_str());
      return 2;
    }
    if (!written) {
      std::fprintf(stderr, "faultline record export: cannot write %s\n", out_.c_str());
      return 1;
    }
    return 0;
  }

 private:
  std::string in_, out_;
  RecordExportOptions options_;
};

}  // namespace

std::unique_ptr<Subcommand> AddRecordCommand(CLI::App* parent) {
  CLI::App* record = parent->add_subcommand(
      "record", "Per-frame records of run/replay --record (docs/formats.md): export them.");
  record->require_subcommand(1);
  return std::make_unique<RecordExportCommand>(record);
}

}  // namespace faultline
