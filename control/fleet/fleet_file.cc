#include "control/fleet/fleet_file.h"

#include <filesystem>
#include <map>
#include <set>

#include "control/yaml/yaml_reader.h"
#include "control/yaml/yaml_source.h"

namespace faultline {
namespace {

using yaml_source::Entry;
using yaml_source::KindOf;

// At most this many boxes: a fleet command talks to each in turn.
constexpr size_t kMaxFleetBoxes = 256;

class FleetParser : public yaml_source::Reader {
 public:
  FleetParser(std::string name, std::string directory)
      : Reader(std::move(name)), directory_(std::move(directory)) {}

  std::optional<Fleet> Parse(const std::string& text, std::string* error) {
    const std::optional<yaml::Node> root = yaml_source::LoadSingleDocument(
        text, name(), "fleet file", "'version: 1' and 'boxes'", error);
    if (!root) return std::nullopt;
    if (!ParseDocument(*root)) {
      *error = Reader::error();
      return std::nullopt;
    }
    return std::move(fleet_);
  }

 private:
  bool ParseDocument(const yaml::Node& root) {
    std::vector<Entry> entries;
    if (!Entries(root, root, "the fleet file", false, &entries)) return false;
    if (!VersionOne(entries, root, "fleet file")) return false;
    const Entry* boxes = nullptr;
    for (const Entry& entry : entries) {
      if (entry.key == "version") continue;
      if (entry.key != "boxes") return UnknownKey(entry, "the fleet file", {"version", "boxes"});
      boxes = &entry;
    }
    if (boxes == nullptr) return Fail(root, "the fleet file needs 'boxes' (a map of named boxes)");
    std::vector<Entry> named;
    if (!Entries(*boxes, "boxes", false, &named)) return false;
    if (named.empty()) return Fail(*boxes, "boxes: needs at least one box");
    if (named.size() > kMaxFleetBoxes) {
      return Fail(*boxes, "boxes: more than " + std::to_string(kMaxFleetBoxes) + " boxes");
    }
    for (const Entry& entry : named) {
      if (!ParseBox(entry)) return false;
    }
    return true;
  }

  bool ParseBox(const Entry& box_entry) {
    FleetBox box{.name = box_entry.key, .line = box_entry.key_node.Mark().line + 1};
    std::vector<Entry> entries;
    if (!Entries(box_entry, "box '" + box.name + "'", false, &entries)) return false;
    bool has_api = false;
    for (const Entry& entry : entries) {
      if (entry.key == "api") {
        if (!Text(entry, &box.api)) return false;
        if (!Api(entry, box)) return false;
        has_api = true;
      } else if (entry.key == "token-file" || entry.key == "ca-file") {
        std::string* path = entry.key == "token-file" ? &box.token_file : &box.ca_file;
        if (!Path(entry, path)) return false;
      } else if (entry.key == "carries") {
        if (!Carries(entry, &box.carries)) return false;
      } else {
        return UnknownKey(entry, "box '" + box.name + "'",
                          {"api", "token-file", "ca-file", "carries"});
      }
    }
    if (!has_api) {
      return Fail(box_entry.key_node,
                  "box '" + box.name + "' needs 'api' (http://HOST:PORT or https://HOST:PORT)");
    }
    fleet_.boxes.push_back(std::move(box));
    return true;
  }

  // A file path, relative ones resolved against the fleet file's directory.
  bool Path(const Entry& entry, std::string* path) {
    if (!Text(entry, path)) return false;
    if (path->empty()) return Fail(entry, entry.key + ": needs a path");
    if (std::filesystem::path(*path).is_relative() && !directory_.empty()) {
      *path = (std::filesystem::path(directory_) / *path).string();
    }
    return true;
  }

  // http(s)://HOST:PORT, each address once in the fleet.
  bool Api(const Entry& entry, const FleetBox& box) {
    const std::string& api = box.api;
    const size_t scheme_end = api.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : api.substr(0, scheme_end);
    const std::string rest = scheme_end == std::string::npos ? "" : api.substr(scheme_end + 3);
    const size_t colon = rest.rfind(':');
    const std::string port = colon == std::string::npos ? "" : rest.substr(colon + 1);
    const auto port_number = ParseUnsigned(port);
    if ((scheme != "http" && scheme != "https") || colon == 0 || !port_number ||
        *port_number == 0 || *port_number > 65535 || rest.find('/') != std::string::npos) {
      return Fail(entry.value, "api: '" + api +
                                   "' is not http://HOST:PORT or https://HOST:PORT (the "
                                   "address of a `faultline run --api`)");
    }
    const auto [earlier, inserted] = apis_.emplace(api, box.name);
    if (!inserted) {
      return Fail(entry.value, "api: " + api + " is already box '" + earlier->second + "'");
    }
    return true;
  }

  // One group name or a list of them: names a profile would take for a group.
  bool Carries(const Entry& entry, std::vector<std::string>* carries) {
    std::vector<yaml::Node> items;
    if (entry.value.IsScalar()) {
      items.push_back(entry.value);
    } else if (entry.value.IsSequence()) {
      for (const yaml::Node& item : entry.value) items.push_back(item);
    } else if (!entry.value.IsNull()) {
      return Fail(entry,
                  "carries: needs a group name or a list of them, not " + KindOf(entry.value));
    }
    std::set<std::string> seen;
    for (const yaml::Node& item : items) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return Fail(item, "carries: expected a group name, not " + KindOf(item));
      }
      if (!seen.insert(item.Scalar()).second) {
        return Fail(item, "carries: group '" + item.Scalar() + "' is listed twice");
      }
      carries->push_back(item.Scalar());
    }
    return true;
  }

  std::string directory_;
  Fleet fleet_;
  std::map<std::string, std::string> apis_;
};

}  // namespace

std::optional<Fleet> ParseFleetText(const std::string& text, const std::string& name_for_errors,
                                    const std::string& directory, std::string* error) {
  return FleetParser(name_for_errors, directory).Parse(text, error);
}

std::optional<Fleet> ParseFleetFile(const std::string& path, std::string* error) {
  const std::optional<std::string> text = yaml_source::ReadSourceFile(path, error);
  if (!text) return std::nullopt;
  return ParseFleetText(*text, path, std::filesystem::path(path).parent_path().string(), error);
}

}  // namespace faultline
