// `faultline trace generate` on the command line (docs/traces.md): kept in one place so that the
// other `trace` subcommands can sit next to it under the same `trace` command.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace faultline {

class TraceGenerateCommand {
 public:
  // Whether `generate` was given on the command line (after CLI::App::parse).
  bool parsed() const { return app_->parsed(); }
  // Generates the trace: 0, 1 (a file that cannot be written) or 2 (bad input).
  int Run() const;

 private:
  friend std::unique_ptr<TraceGenerateCommand> AddTraceGenerateCommand(CLI::App* trace);

  CLI::App* app_ = nullptr;
  std::string model, topology, duration_text, compress_text, scale_text, out;
  uint64_t duration_ns = 0;
  double compress = 1, scale = 1;
  std::optional<uint64_t> seed;
};

// Adds `generate` with its options under `trace` (a CLI11 subcommand of the app).
std::unique_ptr<TraceGenerateCommand> AddTraceGenerateCommand(CLI::App* trace);

}  // namespace faultline
