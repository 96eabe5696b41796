// The profile document: its one YAML document, the version and top-level keys, rules, and the
// checks of single values that every part uses. Groups, impairments, matches and partitions are
// read in the files named after them (profile_reader.h).
#include "control/profile/profile_parser.h"

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "control/profile/profile_reader.h"

namespace faultline {

std::optional<ProfileSpec> ProfileParser::Parse(const std::string& text, std::string* error) {
  if (!Run([&] { return ParseDocument(text); }, error)) return std::nullopt;
  return std::move(profile_);
}

// A profile given as a YAML mapping inside another document (a trace's inline `profile:`).
std::optional<ProfileSpec> ProfileParser::ParseNode(const yaml::Node& root, std::string* error) {
  if (!Run([&] { return ParseRoot(root); }, error)) return std::nullopt;
  return std::move(profile_);
}

// One entry of `partitions:` on its own; named by `name:` or after what it cuts.
std::optional<PartitionSpec> ProfileParser::ParsePartitionEntry(const yaml::Node& item,
                                                                std::string* error) {
  PartitionSpec partition;
  std::string label;
  std::map<std::string, int> named;
  if (!Run([&] { return ParsePartition(item, 0, &named, &partition, &label); }, error)) {
    return std::nullopt;
  }
  if (partition.name.empty()) partition.name = label;
  return partition;
}

// An endpoint reference on its own, as a rule's `src` or `dst`.
std::optional<EndpointSet> ProfileParser::ParseEndpointReference(const yaml::Node& value,
                                                                 const yaml::Node& position,
                                                                 const std::string& key,
                                                                 std::string* label,
                                                                 std::string* error) {
  EndpointSet endpoints;
  if (!Run([&] { return Endpoints(value, position, key, &endpoints, label); }, error)) {
    return std::nullopt;
  }
  return endpoints;
}

bool ProfileParser::PositiveSize(const Entry& entry, Size* size) {
  if (!SizeValue(entry, size)) return false;
  if (size->value == 0) return Fail(entry.value, entry.key + " must be more than 0");
  return true;
}

bool ProfileParser::BoundedDuration(const Entry& entry, uint64_t max, uint64_t* ns) {
  return Duration(entry, ns) && Within(entry, *ns, uint64_t{0}, max, FormatDuration);
}

// A positive size of at most `max_packets` packets or `max_bytes` bytes, as a limit.
bool ProfileParser::BoundedSize(const Entry& entry, uint64_t max_packets, uint64_t max_bytes,
                                SizeLimit* limit) {
  Size size;
  if (!PositiveSize(entry, &size)) return false;
  const uint64_t max = size.packets ? max_packets : max_bytes;
  if (!Within(entry, size.value, uint64_t{1}, max, [&](uint64_t bound) {
        return FormatSize({bound, size.packets});
      })) {
    return false;
  }
  *limit = size.packets ? SizeLimit{.packets = size.value, .bytes = 0}
                        : SizeLimit{.packets = 0, .bytes = size.value};
  return true;
}

bool ProfileParser::Integer(const Entry& entry, uint64_t min, uint64_t max, uint64_t* out) {
  std::string text;
  if (!Text(entry, &text)) return false;
  const std::optional<uint64_t> value = ParseUnsigned(text);
  if (!value || *value < min || *value > max) {
    const std::string expected =
        max == UINT64_MAX && min == 0
            ? "a non-negative integer"
            : "an integer in " + std::to_string(min) + ".." + std::to_string(max);
    return Fail(entry.value, entry.key + ": '" + text + "' is not " + expected);
  }
  *out = *value;
  return true;
}

bool ProfileParser::Bool(const Entry& entry, bool* out) {
  std::string text;
  if (!Text(entry, &text)) return false;
  if (text == "true" || text == "True" || text == "TRUE") {
    *out = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    *out = false;
  } else {
    return Fail(entry.value, entry.key + ": '" + text + "' is not true or false");
  }
  return true;
}

bool ProfileParser::ParseDocument(const std::string& text) {
  std::string error;
  const std::optional<yaml::Node> root =
      yaml_source::LoadSingleDocument(text, name(), "profile", "at least 'version: 1'", &error);
  return root ? ParseRoot(*root) : Forward(error);
}

bool ProfileParser::ParseRoot(const yaml::Node& root) {
  std::vector<Entry> entries;
  if (!Entries(root, root, "the profile", /*allow_empty=*/false, &entries)) return false;
  // A trace or a topology given where a profile belongs: say what it is, not which key is
  // unknown.
  for (const Entry& entry : entries) {
    if (entry.key == "events") {
      return Fail(entry.key_node,
                  "this is a trace (it has 'events:'), not a profile: play it with 'faultline "
                  "trace start FILE' or 'faultline replay --trace FILE'");
    }
    if (entry.key == "racks") {
      return Fail(entry.key_node,
                  "this is a topology (it has 'racks:'), not a profile: it is for 'faultline "
                  "trace generate --topology FILE'");
    }
  }

  // The version first: if it is missing or not one this build reads, the rest of the file is
  // in a format it does not know, and that is the error worth reporting.
  if (!VersionOne(entries, root, "profile")) return false;
  profile_.version = 1;

  // Rules and partitions refer to groups and impairments by name, wherever those appear in the
  // file, so they are parsed (in file order) once everything else is known.
  std::vector<const Entry*> deferred;
  for (const Entry& entry : entries) {
    if (entry.key == "version") continue;
    bool ok = true;
    if (entry.key == "seed") {
      uint64_t seed = 0;
      ok = Integer(entry, 0, kMaxSeed, &seed);
      profile_.seed = seed;
    } else if (entry.key == "groups") {
      ok = ParseGroups(entry);
    } else if (entry.key == "impairments") {
      ok = ParseImpairments(entry);
    } else if (entry.key == "rules" || entry.key == "partitions") {
      deferred.push_back(&entry);
    } else {
      ok = UnknownKey(entry, "the profile",
                      {"version", "seed", "groups", "impairments", "rules", "partitions"});
    }
    if (!ok) return false;
  }
  for (const Entry* entry : deferred) {
    if (!(entry->key == "rules" ? ParseRules(*entry) : ParsePartitions(*entry))) return false;
  }
  return true;
}

bool ProfileParser::ParseRules(const Entry& rules_entry) {
  if (rules_entry.value.IsNull()) return true;
  if (!rules_entry.value.IsSequence()) {
    return Fail(rules_entry.value, "rules must be a list, not " + KindOf(rules_entry.value));
  }
  std::map<std::string, int> first_line;  // rule name -> the line naming it
  for (const yaml::Node& item : rules_entry.value) {
    if (profile_.rules.size() == kMaxRules) {
      return Fail(item, "more than " + std::to_string(kMaxRules) + " rules");
    }
    std::vector<Entry> entries;
    if (!Entries(item, item, "a rule", /*allow_empty=*/false, &entries)) return false;
    RuleSpec rule;
    bool has_name = false, has_match = false, has_impairment = false;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "name") {
        ok = Text(entry, &rule.name);
        if (ok && rule.name.empty()) ok = Fail(At(entry), "a rule name must not be empty");
        if (ok) {
          const auto [earlier, inserted] =
              first_line.emplace(rule.name, entry.value.Mark().line + 1);
          if (!inserted) {
            ok = Fail(entry.value, "duplicate rule name '" + rule.name + "' (first on line " +
                                       std::to_string(earlier->second) + ")");
          }
        }
        has_name = true;
      } else if (entry.key == "match") {
        if (entry.value.IsNull()) {
          ok = Fail(At(entry), "match is empty; write 'match: {}' to match every frame");
        } else {
          ok = ParseMatch(entry, &rule.match);
        }
        has_match = true;
      } else if (entry.key == "impairment") {
        ok = ResolveImpairment(entry, &rule.impairment);
        has_impairment = true;
      } else {
        ok = UnknownKey(entry, "a rule", {"name", "match", "impairment"});
      }
      if (!ok) return false;
    }
    if (!has_name) return Fail(item, "a rule needs a 'name'");
    // An absent match would silently catch every frame; make that a choice written down.
    if (!has_match) {
      return Fail(item,
                  "rule '" + rule.name + "' needs a 'match' (use 'match: {}' for every frame)");
    }
    if (!has_impairment) return Fail(item, "rule '" + rule.name + "' needs an 'impairment'");
    if (!CountHeld(item, EndpointCount(rule.match.src) + EndpointCount(rule.match.dst))) {
      return false;
    }
    profile_.rules.push_back(std::move(rule));
  }
  return true;
}

bool ProfileParser::ResolveImpairment(const Entry& entry, size_t* index) {
  std::string name;
  if (!Text(entry, &name)) return false;
  if (impairment_index_.size() != profile_.impairments.size()) {
    for (size_t i = impairment_index_.size(); i < profile_.impairments.size(); ++i) {
      impairment_index_.emplace(profile_.impairments[i].name, i);
    }
  }
  if (const auto found = impairment_index_.find(name); found != impairment_index_.end()) {
    *index = found->second;
    return true;
  }
  std::vector<std::string> known;
  for (const ImpairmentSpec& impairment : profile_.impairments) known.push_back(impairment.name);
  return Fail(entry.value,
              "no impairment named '" + name + "' (" +
                  (known.empty() ? "the profile defines none" : "defined: " + JoinSome(known)) +
                  ")");
}

std::optional<ProfileSpec> ParseProfileText(const std::string& text,
                                            const std::string& name_for_errors,
                                            std::string* error) {
  return ProfileParser(name_for_errors, std::filesystem::path()).Parse(text, error);
}

std::optional<ProfileSpec> ParseProfileText(const std::string& text,
                                            const std::string& name_for_errors,
                                            const std::string& base_directory, std::string* error) {
  return ProfileParser(name_for_errors, base_directory).Parse(text, error);
}

std::optional<ProfileSpec> ParseProfileFile(const std::string& path, std::string* error) {
  const std::optional<std::string> text = yaml_source::ReadSourceFile(path, error);
  if (!text) return std::nullopt;
  return ProfileParser(path, std::filesystem::path(path).parent_path()).Parse(*text, error);
}

std::optional<ProfileSpec> ParseProfileNode(const yaml::Node& root,
                                            const std::string& name_for_errors,
                                            const std::string& base_directory, std::string* error) {
  return ProfileParser(name_for_errors, base_directory).ParseNode(root, error);
}

std::optional<PartitionSpec> ParsePartitionNode(const yaml::Node& entry, const GroupContext& groups,
                                                const std::string& name_for_errors,
                                                std::string* error) {
  ProfileParser parser(name_for_errors, std::filesystem::path());
  parser.UseGroups(groups);
  return parser.ParsePartitionEntry(entry, error);
}

std::optional<EndpointSet> ParseEndpointsNode(const yaml::Node& value, const yaml::Node& position,
                                              const std::string& key, const GroupContext& groups,
                                              const std::string& name_for_errors,
                                              std::string* label, std::string* error) {
  ProfileParser parser(name_for_errors, std::filesystem::path());
  parser.UseGroups(groups);
  return parser.ParseEndpointReference(value, position, key, label, error);
}

}  // namespace faultline
