// `faultline trace generate` on the command line (docs/traces.md): kept in one place so that the
// other `trace` subcommands can sit next to it under the same `trace` command.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "control/cli/subcommand.h"
#include "control/trace/trace_generator.h"

namespace faultline {

class TraceGenerateCommand : public Subcommand {
 public:
  // Generates the trace: 0, 1 (a file that cannot be written) or 2 (bad input).
  int Run() override;

 private:
  friend std::unique_ptr<TraceGenerateCommand> AddTraceGenerateCommand(CLI::App* trace);

  // The generator's options from the command line (a seed drawn and printed if none is given).
  TraceGenerateOptions Options() const;
  // Whether `trace` is one validate would take; if not, prints why.
  bool Writable(const GeneratedTrace& trace) const;
  // Writes `trace` to --out or stdout: the exit status.
  int Write(const GeneratedTrace& trace) const;

  std::string model, topology, duration_text, compress_text, scale_text, out;
  uint64_t duration_ns = 0;
  double compress = 1, scale = 1;
  std::optional<uint64_t> seed;
};

// Adds `generate` with its options under `trace` (a CLI11 subcommand of the app).
std::unique_ptr<TraceGenerateCommand> AddTraceGenerateCommand(CLI::App* trace);

}  // namespace faultline
