#include "control/yaml/yaml_reader.h"

namespace faultline {

std::string Join(const std::vector<std::string>& words, std::string_view separator) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += separator;
    joined += word;
  }
  return joined;
}

std::string JoinSome(const std::vector<std::string>& words) {
  constexpr size_t kShown = 20;
  if (words.size() <= kShown) return Join(words);
  return Join(std::vector<std::string>(words.begin(), words.begin() + kShown)) + ", ... (" +
         std::to_string(words.size()) + " in all)";
}

std::string Plural(size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

namespace yaml_source {

bool Reader::Fail(const yaml::Mark& mark, const std::string& message) {
  if (!error_.empty()) return false;
  error_ = PositionedError(name_, mark, message);
  return false;
}

bool Reader::Fail(const yaml::Node& node, const std::string& message) {
  return Fail(node.Mark(), message);
}

bool Reader::Fail(const Entry& entry, const std::string& message) {
  return Fail(At(entry), message);
}

bool Reader::Forward(const std::string& error) {
  if (error_.empty()) error_ = error;
  return false;
}

bool Reader::UnknownKey(const Entry& entry, const std::string& where,
                        const std::vector<std::string>& known) {
  return Fail(entry.key_node,
              "unknown key '" + entry.key + "' in " + where + " (known: " + Join(known) + ")");
}

bool Reader::Entries(const yaml::Node& map, const yaml::Node& position, const std::string& what,
                     bool allow_empty, std::vector<Entry>* entries) {
  const auto problem = MapEntries(map, position, what, allow_empty, entries);
  return !problem || Fail(problem->where, problem->message);
}

bool Reader::Entries(const Entry& entry, const std::string& what, bool allow_empty,
                     std::vector<Entry>* entries) {
  return Entries(entry.value, At(entry), what, allow_empty, entries);
}

bool Reader::Text(const Entry& entry, std::string* text) {
  if (!entry.value.IsScalar()) {
    return Fail(At(entry), entry.key + " needs a single value, not " + KindOf(entry.value));
  }
  *text = entry.value.Scalar();
  return true;
}

bool Reader::VersionOne(const std::vector<Entry>& entries, const yaml::Node& root,
                        const std::string& format) {
  const Entry* version = nullptr;
  for (const Entry& entry : entries) {
    if (entry.key == "version") version = &entry;
  }
  if (version == nullptr) return Fail(root, "missing 'version' (write 'version: 1' first)");
  std::string version_text;
  if (!Text(*version, &version_text)) return false;
  if (version_text != "1") {
    return Fail(version->value, "version: unsupported " + format + " version '" + version_text +
                                    "' (this build reads version 1)");
  }
  return true;
}

bool Reader::Choice(const Entry& entry, std::span<const std::string_view> names, size_t* index) {
  std::string text;
  if (!Text(entry, &text)) return false;
  for (size_t i = 0; i < names.size(); ++i) {
    if (text == names[i]) {
      *index = i;
      return true;
    }
  }
  return Fail(entry.value, entry.key + ": unknown value '" + text + "' (use " +
                               Join(std::vector<std::string>(names.begin(), names.end())) + ")");
}

}  // namespace yaml_source
}  // namespace faultline
