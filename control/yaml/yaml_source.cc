#include "control/yaml/yaml_source.h"

#include <map>

#include "dataplane/config/regular_file.h"

namespace faultline::yaml_source {

std::string KindOf(const yaml::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  return "empty";
}

std::string PositionedError(const std::string& name, const yaml::Mark& mark,
                            const std::string& message) {
  const int line = mark.is_null() ? 1 : mark.line + 1;
  const int column = mark.is_null() ? 1 : mark.column + 1;
  return name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::optional<std::string> ReadSourceFile(const std::string& path, std::string* error) {
  return ReadRegularFile(path, error);
}

std::optional<yaml::Node> LoadSingleDocument(const std::string& text, const std::string& name,
                                             const std::string& what, const std::string& needs,
                                             std::string* error) {
  yaml::LoadError problem;
  const std::optional<std::vector<yaml::Node>> documents = yaml::LoadAll(text, &problem);
  if (!documents) {
    *error = PositionedError(name, problem.mark, problem.message);
    return std::nullopt;
  }
  if (documents->size() > 1) {
    *error = PositionedError(name, (*documents)[1].Mark(),
                             "a " + what + " is a single YAML document; this is a second one");
    return std::nullopt;
  }
  if (documents->empty() || (*documents)[0].IsNull()) {
    *error =
        PositionedError(name, yaml::Mark(), "the " + what + " is empty (it needs " + needs + ")");
    return std::nullopt;
  }
  return (*documents)[0];
}

std::optional<Problem> MapEntries(const yaml::Node& map, const yaml::Node& position,
                                  const std::string& what, bool allow_empty,
                                  std::vector<Entry>* entries) {
  entries->clear();
  if (map.IsNull() && allow_empty) return std::nullopt;
  if (!map.IsMap()) return Problem{position, what + " must be a map, not " + KindOf(map)};
  std::map<std::string, int> first_line;
  for (size_t i = 0; i < map.size(); ++i) {
    const yaml::Node key = map.Key(i);
    if (!key.IsScalar()) return Problem{key, "keys in " + what + " must be plain names"};
    const auto [earlier, inserted] = first_line.emplace(key.Scalar(), key.Mark().line + 1);
    if (!inserted) {
      return Problem{key, "duplicate key '" + key.Scalar() + "' in " + what + " (first on line " +
                              std::to_string(earlier->second) + ")"};
    }
    entries->push_back({key.Scalar(), key, map.Value(i)});
  }
  return std::nullopt;
}

nlohmann::ordered_json ToJson(const yaml::Node& node) {
  if (node.IsScalar()) return node.Scalar();
  if (node.IsSequence()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const yaml::Node item : node) list.push_back(ToJson(item));
    return list;
  }
  if (node.IsMap()) {
    nlohmann::ordered_json map = nlohmann::ordered_json::object();
    for (size_t i = 0; i < node.size(); ++i) map[node.Key(i).Scalar()] = ToJson(node.Value(i));
    return map;
  }
  return nullptr;
}

}  // namespace faultline::yaml_source
