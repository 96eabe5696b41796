#include "control/fleet/fleet_runner.h"

#include <filesystem>
#include <ostream>
#include <vector>

#include "control/base/units.h"
#include "control/fleet/fleet_stats.h"
#include "control/profile/profile_parser.h"
#include "control/yaml/yaml_source.h"

namespace faultline {
namespace {

// "2 group(s), 1 rule(s), 1 partition(s), impairments active": a state response for people.
std::string StateText(const nlohmann::json& state) {
  std::string text = std::to_string(state.value("groups", 0)) + " group(s), " +
                     std::to_string(state.value("rules", 0)) + " rule(s), " +
                     std::to_string(state.value("partitions", 0)) + " partition(s)";
  const nlohmann::json links = state.value("links", nlohmann::json::object());
  for (const char* side : {"a", "b"}) {
    if (links.value(side, "up") == "down") text += std::string(", link ") + side + " down";
  }
  return text + ", impairments " + state.value("impairments", "");
}

std::string AbsoluteDirectory(const std::string& file) {
  return std::filesystem::absolute(file).parent_path().string();
}

}  // namespace

int RefusalStatus(const nlohmann::json& response) {
  const std::string code = response.value("code", "failed");
  return code == "failed" || code == "busy" || code == "unreachable" ? 1 : 2;
}

FleetRunner::FleetRunner(Fleet fleet, BoxConnector connect, std::ostream& out, std::ostream& err)
    : fleet_(std::move(fleet)), out_(out), err_(err) {
  for (const FleetBox& box : fleet_.boxes) connections_.push_back(connect(box));
}

FleetRunner::~FleetRunner() = default;

std::optional<nlohmann::json> FleetRunner::Ask(size_t i, const nlohmann::json& request,
                                               int* status) {
  nlohmann::json response = connections_[i]->Request(request);
  if (response.is_object() && response.value("ok", false)) return response;
  const nlohmann::json refusal =
      response.is_object() ? response : nlohmann::json{{"code", "failed"}};
  err_ << "box " << fleet_.boxes[i].name << " (" << fleet_.boxes[i].api
       << "): " << refusal.value("error", "no answer") << " (" << refusal.value("code", "failed")
       << ")\n";
  *status = std::max(*status, RefusalStatus(refusal));
  return std::nullopt;
}

int FleetRunner::CheckReady(const char* command) {
  int status = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto state = Ask(i, {{"command", "ping"}}, &status);
    if (state && state->value("trace", "none") == "running") {
      err_ << "box " << fleet_.boxes[i].name << ": a trace is running (faultline fleet FILE "
           << "trace stop stops it)\n";
      status = std::max(status, 1);
    }
  }
  if (status) err_ << "faultline fleet " << command << ": nothing changed on any box\n";
  return status;
}

int FleetRunner::Apply(const std::string& file) {
  // Validated here first, as `faultline apply` does: a bad file touches no box.
  std::string error;
  const std::optional<std::string> text = yaml_source::ReadSourceFile(file, &error);
  const std::string directory = AbsoluteDirectory(file);
  if (!text || !ParseProfileText(*text, file, directory, &error)) {
    err_ << "faultline fleet apply: " << error << "\n";
    return 2;
  }
  if (const int status = CheckReady("apply")) return status;
  int status = 0;
  std::vector<std::string> before(connections_.size());
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto shown = Ask(i, {{"command", "show"}}, &status);
    if (shown) before[i] = (*shown)["show"].value("yaml", "");
  }
  if (status) {
    err_ << "faultline fleet apply: nothing changed on any box\n";
    return status;
  }
  const nlohmann::json request = {
      {"command", "apply"}, {"profile", *text}, {"name", file}, {"directory", directory}};
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto state = Ask(i, request, &status);
    if (!state) {
      // Put the boxes already changed back, so that the fleet runs one profile.
      for (size_t j = 0; j < i; ++j) {
        int ignored = 0;
        const nlohmann::json restore = {
            {"command", "apply"}, {"profile", before[j]}, {"name", "profile before fleet apply"}};
        if (Ask(j, restore, &ignored)) {
          out_ << "box " << fleet_.boxes[j].name << ": the profile it showed before is back\n";
        }
      }
      err_ << "faultline fleet apply: " << file << " was not applied (box " << fleet_.boxes[i].name
           << " refused it)\n";
      return status;
    }
    out_ << "box " << fleet_.boxes[i].name << ": " << file << " applied; now " << StateText(*state)
         << "\n";
  }
  return 0;
}

int FleetRunner::Heal(const std::string& what) {
  int status = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto state = Ask(i, {{"command", "heal"}, {"what", what}}, &status);
    if (state) {
      out_ << "box " << fleet_.boxes[i].name << ": " << what << " healed; now " << StateText(*state)
           << "\n";
    }
  }
  return status;
}

int FleetRunner::Stats(bool json) {
  int status = 0;
  std::vector<std::pair<std::string, nlohmann::json>> documents;
  nlohmann::json boxes = nlohmann::json::object();
  for (size_t i = 0; i < connections_.size(); ++i) {
    const auto response = Ask(i, {{"command", "stats"}, {"format", "json"}}, &status);
    if (!response) continue;
    documents.emplace_back(fleet_.boxes[i].name, (*response)["stats"]);
    boxes[fleet_.boxes[i].name] = (*response)["stats"];
  }
  std::vector<nlohmann::json> all;
  for (const auto& [name, document] : documents) all.push_back(document);
  const nlohmann::json total = SumStatistics(all);
  if (json) {
    out_ << nlohmann::json{{"boxes", boxes}, {"total", total}}.dump(2) << "\n";
  } else {
    out_ << FleetStatsText(documents, total);
  }
  return status;
}

}  // namespace faultline
