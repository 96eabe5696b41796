#include "control/control_commands.h"

#include <algorithm>
#include <initializer_list>
#include <string>

#include "control/control_server.h"
#include "control/profile_parser.h"

namespace faultline {

namespace {

// The first key of `request` not in `allowed`, or "".
std::string UnknownKey(const nlohmann::json& request, std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : request.items()) {
    bool known = false;
    for (const char* name : allowed) known |= key == name;
    if (!known) return key;
  }
  return "";
}

// A string field of the request: *out set and true, or false with *problem set.
bool StringField(const nlohmann::json& request, const char* key, bool required, std::string* out,
                 std::string* problem) {
  const auto found = request.find(key);
  if (found == request.end()) {
    if (required) *problem = std::string("missing \"") + key + "\"";
    return !required;
  }
  if (!found->is_string()) {
    *problem = std::string("\"") + key + "\" must be a string";
    return false;
  }
  *out = found->get<std::string>();
  return true;
}

// A `table:` path is stored as resolved against its profile's directory, and the same file can be
// reached from two directories: the table itself is what must not change.
void AdoptRunningTablePaths(const ProfileSpec& running, ProfileSpec* next) {
  const size_t count = std::min(running.impairments.size(), next->impairments.size());
  for (size_t i = 0; i < count; ++i) {
    const auto& was = running.impairments[i].delay;
    auto& now = next->impairments[i].delay;
    if (was && now && was->distribution == DistributionKind::kTable &&
        now->distribution == DistributionKind::kTable && was->table == now->table) {
      now->table_path = was->table_path;
    }
  }
}

}  // namespace

ControlCommands::ControlCommands(SnapshotPublisher* publisher,
                                 std::chrono::milliseconds ack_timeout)
    : publisher_(publisher), ack_timeout_(ack_timeout) {}

nlohmann::json ControlCommands::Handle(const nlohmann::json& request) {
  std::string command, problem;
  if (!StringField(request, "command", true, &command, &problem)) {
    return ControlError("bad-request", problem + " (heal, apply or ping)");
  }
  if (command == "ping") {
    const std::string unknown = UnknownKey(request, {"command"});
    if (!unknown.empty())
      return ControlError("bad-request", "unknown key \"" + unknown + "\" in ping");
    return State();
  }
  if (command == "heal") return Heal(request);
  if (command == "apply") return Apply(request);
  return ControlError("bad-request", "unknown command \"" + command + "\" (heal, apply or ping)");
}

nlohmann::json ControlCommands::Heal(const nlohmann::json& request) {
  std::string what = "partitions", problem;
  const std::string unknown = UnknownKey(request, {"command", "what"});
  if (!unknown.empty())
    return ControlError("bad-request", "unknown key \"" + unknown + "\" in heal");
  if (!StringField(request, "what", false, &what, &problem)) {
    return ControlError("bad-request", problem);
  }
  const bool partitions = what == "partitions" || what == "all";
  const bool impairments = what == "impairments" || what == "all";
  if (!partitions && !impairments) {
    return ControlError("bad-request", "heal \"what\" is \"" + what +
                                           "\"; expected partitions, impairments or all");
  }
  const CompiledProfile& running = *publisher_->current();
  ProfileSpec spec = running.spec;
  if (partitions) spec.partitions.clear();
  return Publish(spec, running.rules_active && !impairments);
}

nlohmann::json ControlCommands::Apply(const nlohmann::json& request) {
  std::string text, name = "applied profile", directory, problem;
  const std::string unknown = UnknownKey(request, {"command", "profile", "name", "directory"});
  if (!unknown.empty())
    return ControlError("bad-request", "unknown key \"" + unknown + "\" in apply");
  if (!StringField(request, "profile", true, &text, &problem) ||
      !StringField(request, "name", false, &name, &problem) ||
      !StringField(request, "directory", false, &directory, &problem)) {
    return ControlError("bad-request", problem);
  }
  // The daemon trusts no client: the text is parsed and validated here, in full.
  std::string error;
  std::optional<ProfileSpec> spec = ParseProfileText(text, name, directory, &error);
  if (!spec) return ControlError("invalid-profile", error);
  const CompiledProfile& running = *publisher_->current();
  AdoptRunningTablePaths(running.spec, &*spec);
  const std::string conflict = LiveChangeConflict(running.spec, *spec);
  if (!conflict.empty()) {
    return ControlError("unsupported",
                        name + ": live changes to rules or impairments are not supported yet (" +
                            conflict +
                            "); only groups, match fields and partitions can change while running. "
                            "Restart `faultline run --profile` with this profile to change them.");
  }
  spec->seed = running.spec.seed;  // the running models keep their seed
  return Publish(*spec, true);
}

nlohmann::json ControlCommands::Publish(const ProfileSpec& spec, bool rules_active) {
  const CompiledProfile& running = *publisher_->current();
  ProfileSnapshot next;
  try {
    next = CompileProfile(spec, running.time_base, running.seed, rules_active);
  } catch (const std::exception& failure) {
    return ControlError("failed", failure.what());
  }
  if (!running.SameRules(*next)) {
    return ControlError("unsupported",
                        "live changes to rules or impairments are not supported yet");
  }
  std::string error;
  if (!publisher_->Publish(std::move(next), ack_timeout_, &error)) {
    return ControlError("failed", error);
  }
  return State();
}

nlohmann::json ControlCommands::State() const {
  const CompiledProfile& running = *publisher_->current();
  return {{"ok", true},
          {"workers", publisher_->workers()},
          {"groups", running.spec.groups.size()},
          {"rules", running.spec.rules.size()},
          {"partitions", running.spec.partitions.size()},
          {"impairments", running.rules_active ? "active" : "healed"}};
}

}  // namespace faultline
