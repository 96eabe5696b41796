// The checks every YAML reader (profile, trace, topology) makes while walking its document, in
// one place: errors "NAME:LINE:COL: message" that keep the first problem only, the entries of a
// map, unknown keys, single values, one-of-a-list choices and values with units. Each parser
// derives from Reader and adds the keys of its own format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "control/base/units.h"
#include "control/yaml/yaml_document.h"
#include "control/yaml/yaml_source.h"

namespace faultline {

// "a, b, c" (or with another separator).
std::string Join(const std::vector<std::string>& words, std::string_view separator = ", ");
// At most the first 20 of `words`, then how many there are: an error about one name among
// 10,000 groups should not be 100 KB long.
std::string JoinSome(const std::vector<std::string>& words);
// "1 rule", "3 rules".
std::string Plural(size_t count, const std::string& noun);

namespace yaml_source {

// Walks a document and keeps the first error: every check reports through Fail(), which records
// only the first message, and returns false so that callers stop with `return Fail(...)`.
class Reader {
 public:
  explicit Reader(std::string name_for_errors) : name_(std::move(name_for_errors)) {}

  // The first error recorded ("NAME:LINE:COL: message"), or "".
  const std::string& error() const { return error_; }

 protected:
  const std::string& name() const { return name_; }

  // Records `message` at `mark` unless an earlier error was recorded; returns false.
  bool Fail(const yaml::Mark& mark, const std::string& message);
  bool Fail(const yaml::Node& node, const std::string& message);
  // At the entry's value, or at its key when the value is empty (At).
  bool Fail(const Entry& entry, const std::string& message);
  // An error already formatted "NAME:LINE:COL: message" (by another reader).
  bool Forward(const std::string& error);

  // "unknown key 'KEY' in WHERE (known: ...)", at the key.
  bool UnknownKey(const Entry& entry, const std::string& where,
                  const std::vector<std::string>& known);

  // The entries of a map in file order (MapEntries): fails on anything but a map (an empty
  // value counts as an empty map where `allow_empty`), on a key that is not a plain name and on
  // a key given twice.
  bool Entries(const yaml::Node& map, const yaml::Node& position, const std::string& what,
               bool allow_empty, std::vector<Entry>* entries);
  bool Entries(const Entry& entry, const std::string& what, bool allow_empty,
               std::vector<Entry>* entries);

  // A single value: "KEY needs a single value, not a map". YAML may give numbers as number or
  // string nodes, and both arrive here as the text the user wrote.
  bool Text(const Entry& entry, std::string* text);

  // The `version:` among `entries` (of the document at `root`), which must be 1: checked before
  // any other key, since a file of another version is in a format this build does not know.
  // `format` names the file's kind in the message ("profile", "trace").
  bool VersionOne(const std::vector<Entry>& entries, const yaml::Node& root,
                  const std::string& format);

  // One of `names`; *index is its position: "KEY: unknown value 'X' (use a, b, c)".
  bool Choice(const Entry& entry, std::span<const std::string_view> names, size_t* index);

  // A value with a unit, read by `parse` (units.h): "KEY: what parse said" at the value.
  template <typename Value, typename Parser>
  bool Unit(const Entry& entry, Parser parse, Value* out) {
    std::string text, error;
    if (!Text(entry, &text)) return false;
    const auto value = parse(text, &error);
    if (!value) return Fail(entry.value, entry.key + ": " + error);
    *out = *value;
    return true;
  }
  bool Duration(const Entry& entry, uint64_t* ns) { return Unit(entry, ParseDuration, ns); }

 private:
  std::string name_;
  std::string error_;
};

}  // namespace yaml_source
}  // namespace faultline
