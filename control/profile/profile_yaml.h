// A ProfileSpec written back as a profile file (docs/formats.md, "Profile"): what `faultline show`
// prints. Parsing the text again (ParseProfileText) gives the same ProfileSpec: every value is
// written exactly (durations, rates and sizes in their exact units, probabilities in the shortest
// form that reads back to the same number) and every default explicitly. Groups are written
// expanded (a group of groups lists their members); a rule's src or dst that equals a group is
// written as the group's name; a partition in the words it was given in (PartitionSpec::form).
//
// Two things a running profile may hold are not profile keys, so they are written as comments
// and do not come back from the text: sides a trace's `link` event took down, and a trace's stall
// windows, which begin when their step takes effect (written back, they would begin at the start).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/config/profile_spec.h"

namespace faultline {

// The profile as a document with the keys of a profile file, in file order (JSON for `show
// --json`; the same keys and values as the YAML).
nlohmann::ordered_json ProfileDocument(const ProfileSpec& profile);

// What of `profile` the document cannot carry (see above), one note per line, without '#'.
std::vector<std::string> ProfileNotes(const ProfileSpec& profile);

// The profile file: the notes as comments, then the document as YAML.
std::string ProfileYaml(const ProfileSpec& profile);

// `document` as block YAML: maps and lists that fit on a line (and hold no maps of their own)
// in flow style, scalars quoted where YAML would read them as something else.
std::string EmitYaml(const nlohmann::ordered_json& document);

}  // namespace faultline
