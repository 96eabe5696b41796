#include "control/cli/subcommand.h"

#include "control/base/installed_files.h"
#include "control/base/units.h"
#include "control/cli/remote_box.h"
#include "control/cli/trace_generate_command.h"

namespace faultline {

std::vector<std::unique_ptr<Subcommand>> AddSubcommands(CLI::App* app, int argc, char** argv) {
  std::vector<std::unique_ptr<Subcommand>> all;
  AddRemoteBoxOptions(app);
  all.push_back(AddRunCommand(app, argc, argv));
  all.push_back(AddReplayCommand(app));
  all.push_back(AddValidateCommand(app));
  all.push_back(AddApplyCommand(app));
  all.push_back(AddHealCommand(app));
  all.push_back(AddStatsCommand(app));
  CLI::App* trace = nullptr;
  for (auto& command : AddTraceCommands(app, &trace)) all.push_back(std::move(command));
  all.push_back(AddShowCommand(app));
  all.push_back(AddDemoCommand(app));
  all.push_back(AddReportCommand(app));
  all.push_back(AddTraceGenerateCommand(trace));
  all.push_back(AddRecordCommand(app));
  all.push_back(AddCaptureCommand(app));
  for (auto& command : AddFleetCommands(app)) all.push_back(std::move(command));
  return all;
}

CLI::Option* AddDuration(CLI::App* app, const std::string& name, uint64_t* ns_out,
                         const std::string& help, uint64_t max_ns, uint64_t min_ns) {
  return app
      ->add_option_function<std::string>(
          name,
          [ns_out, name, max_ns, min_ns](const std::string& text) {
            std::string error;
            const auto ns = ParseDuration(text, &error);
            if (!ns) throw CLI::ValidationError(name, error);
            if (*ns > max_ns) {
              throw CLI::ValidationError(
                  name, "'" + text + "' is above the limit of " + FormatDuration(max_ns));
            }
            if (*ns < min_ns) {
              throw CLI::ValidationError(
                  name, "'" + text + "' is below the minimum of " + FormatDuration(min_ns));
            }
            *ns_out = *ns;
          },
          help)
      ->type_name("DURATION");
}

CLI::Validator InstalledFileLookup() {
  return CLI::Validator(
      [](std::string& path) {
        path = FindConfigurationFile(path);
        return std::string();
      },
      "", "installed file lookup");
}

}  // namespace faultline
