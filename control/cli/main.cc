// faultline: the command line. Each subcommand is an object (control/cli/subcommand.h) that adds
// its options and does its work; main parses the command line and runs the one chosen.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "control/cli/subcommand.h"

int main(int argc, char** argv) {
  CLI::App app{
      "faultline: an inline packet-level network fault emulator on DPDK.\n"
      "It forwards every frame between port 0 (side a) and port 1 (side b) and gives\n"
      "each one a departure time. Run `faultline demo` to see it work."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "faultline 0.1.0");
  const std::vector<std::unique_ptr<faultline::Subcommand>> subcommands =
      faultline::AddSubcommands(&app, argc, argv);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // For tests of the documentation: the command line parsed (every option known, every value
  // checked), nothing is run.
  if (const char* parse_only = std::getenv("FAULTLINE_PARSE_ONLY");
      parse_only != nullptr && std::string(parse_only) == "1") {
    return 0;
  }
  for (const std::unique_ptr<faultline::Subcommand>& subcommand : subcommands) {
    if (subcommand->Chosen()) return subcommand->Run();
  }
  return 2;
}
