// What the YAML readers (profiles, traces, topologies) share: reading the file, loading its one
// document, walking a map's entries in file order with their positions, and "FILE:LINE:COL:
// message" errors.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "control/yaml/yaml_document.h"

namespace faultline::yaml_source {

// A map entry in file order, with the nodes kept for their positions.
struct Entry {
  std::string key;
  yaml::Node key_node;
  yaml::Node value;
};

// Where to point for a problem with an entry's value. An empty value (`base:`) is nothing the
// user wrote, so point at the key instead.
inline const yaml::Node& At(const Entry& entry) {
  return entry.value.IsNull() ? entry.key_node : entry.value;
}

// "a map", "a list", "'text'" or "empty": what a node is, for messages.
std::string KindOf(const yaml::Node& node);

// "NAME:LINE:COL: message", 1-based; a null mark is reported at the start of the file.
std::string PositionedError(const std::string& name, const yaml::Mark& mark,
                            const std::string& message);

// The whole file at `path` (a regular file, at most kMaxConfigFileBytes), or nullopt with *error
// "PATH: cannot read: why".
std::optional<std::string> ReadSourceFile(const std::string& path, std::string* error);

// The one document of `text`, or nullopt with *error "NAME:LINE:COL: message": a syntax error, a
// limit of yaml::Limits, a second document ("a WHAT is a single YAML document; this is a second
// one"), or none at all ("the WHAT is empty (it needs NEEDS)").
std::optional<yaml::Node> LoadSingleDocument(const std::string& text, const std::string& name,
                                             const std::string& what, const std::string& needs,
                                             std::string* error);

// A problem found walking a map, and the node to report it at.
struct Problem {
  yaml::Node where;
  std::string message;
};

// The entries of `map` in file order into *entries, or the problem: `map` is not a map (an empty
// value counts as an empty map where `allow_empty`; reported at `position`), a key is not a plain
// name, or a key is given twice (YAML readers differ on which one wins, and silently using one
// would hide a mistake). `what` names the map in messages.
std::optional<Problem> MapEntries(const yaml::Node& map, const yaml::Node& position,
                                  const std::string& what, bool allow_empty,
                                  std::vector<Entry>* entries);

// A node as JSON, keeping what was written: scalars as strings (as the parsers read them), lists
// as arrays, maps as objects in file order, empty values as null.
nlohmann::ordered_json ToJson(const yaml::Node& node);

}  // namespace faultline::yaml_source
