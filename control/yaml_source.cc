#include "control/yaml_source.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace faultline::yaml_source {

std::string KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "empty";
  }
}

std::string PositionedError(const std::string& name, const YAML::Mark& mark,
                            const std::string& message) {
  const int line = mark.is_null() ? 1 : mark.line + 1;
  const int column = mark.is_null() ? 1 : mark.column + 1;
  return name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::optional<std::string> ReadSourceFile(const std::string& path, std::string* error) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    *error = path + ": cannot read: it is a directory";
    return std::nullopt;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  return text.str();
}

std::optional<Problem> MapEntries(const YAML::Node& map, const YAML::Node& position,
                                  const std::string& what, bool allow_empty,
                                  std::vector<Entry>* entries) {
  entries->clear();
  if (map.IsNull() && allow_empty) return std::nullopt;
  if (!map.IsMap()) return Problem{position, what + " must be a map, not " + KindOf(map)};
  std::map<std::string, int> first_line;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) return Problem{key, "keys in " + what + " must be plain names"};
    const auto [earlier, inserted] = first_line.emplace(key.Scalar(), key.Mark().line + 1);
    if (!inserted) {
      return Problem{key, "duplicate key '" + key.Scalar() + "' in " + what + " (first on line " +
                              std::to_string(earlier->second) + ")"};
    }
    entries->push_back({key.Scalar(), key, it->second});
  }
  return std::nullopt;
}

nlohmann::ordered_json ToJson(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsSequence()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const YAML::Node& item : node) list.push_back(ToJson(item));
    return list;
  }
  if (node.IsMap()) {
    nlohmann::ordered_json map = nlohmann::ordered_json::object();
    for (const auto& item : node) map[item.first.Scalar()] = ToJson(item.second);
    return map;
  }
  return nullptr;
}

}  // namespace faultline::yaml_source
