// What the YAML readers (profiles, traces, topologies) share: reading the file, walking a map's
// entries in file order with their positions, and "FILE:LINE:COL: message" errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace faultline::yaml_source {

// A map entry in file order, with the nodes kept for their positions.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// Where to point for a problem with an entry's value. yaml-cpp places an empty value (`base:`)
// after the end of its line, so point at the key instead.
inline const YAML::Node& At(const Entry& entry) {
  return entry.value.IsNull() ? entry.key_node : entry.value;
}

// "a map", "a list", "'text'" or "empty": what a node is, for messages.
std::string KindOf(const YAML::Node& node);

// "NAME:LINE:COL: message", 1-based; a mark without a position (none in practice) is reported at
// the start of the file.
std::string PositionedError(const std::string& name, const YAML::Mark& mark,
                            const std::string& message);

// The whole file at `path`, or nullopt with *error "PATH: cannot read: why".
std::optional<std::string> ReadSourceFile(const std::string& path, std::string* error);

// A problem found walking a map, and the node to report it at.
struct Problem {
  YAML::Node where;
  std::string message;
};

// The entries of `map` in file order into *entries, or the problem: `map` is not a map (an empty
// value counts as an empty map where `allow_empty`; reported at `position`), a key is not a plain
// name, or a key is given twice (yaml-cpp keeps both, and silently using one would hide a
// mistake). `what` names the map in messages.
std::optional<Problem> MapEntries(const YAML::Node& map, const YAML::Node& position,
                                  const std::string& what, bool allow_empty,
                                  std::vector<Entry>* entries);

// A node as JSON, keeping what was written: scalars as strings (as the parsers read them), lists
// as arrays, maps as objects in file order, empty values as null.
nlohmann::ordered_json ToJson(const YAML::Node& node);

}  // namespace faultline::yaml_source
