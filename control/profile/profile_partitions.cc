// A profile's partitions in all their forms (from/to, between, isolate, shape/nodes), their
// names, and the dataplane's limit on cuts.
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/profile/partition_shapes.h"
#include "control/profile/profile_names.h"
#include "control/profile/profile_reader.h"

namespace faultline {

bool ProfileParser::ParsePartitions(const Entry& partitions_entry) {
  if (partitions_entry.value.IsNull()) return true;
  if (!partitions_entry.value.IsSequence()) {
    return Fail(partitions_entry.value,
                "partitions must be a list, not " + KindOf(partitions_entry.value));
  }
  std::map<std::string, int> named;  // `name:` -> the line giving it
  std::vector<std::string> labels;   // per partition: its generated name, "" if named
  size_t cuts = 0;                   // in all partitions so far
  for (const yaml::Node& item : partitions_entry.value) {
    if (profile_.partitions.size() == kMaxPartitions) {
      return Fail(item, "more than " + std::to_string(kMaxPartitions) +
                            " partitions (the most the dataplane holds)");
    }
    PartitionSpec partition;
    std::string label;
    if (!ParsePartition(item, cuts, &named, &partition, &label)) return false;
    cuts += partition.cuts.size();
    labels.push_back(partition.name.empty() ? label : "");
    profile_.partitions.push_back(std::move(partition));
  }
  // Unnamed partitions are named after what they cut; a name already taken (by `name:` or an
  // earlier partition) gets " #2", " #3"...
  std::set<std::string> taken;
  for (const auto& [name, line] : named) taken.insert(name);
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i].empty()) continue;
    std::string name = labels[i];
    for (int copy = 2; taken.count(name); ++copy) name = labels[i] + " #" + std::to_string(copy);
    taken.insert(name);
    profile_.partitions[i].name = name;
  }
  return true;
}

// The forms of a partition entry; each key of a form names it.
std::string_view ProfileParser::PartitionForm(const std::string& key) {
  if (key == "from" || key == "to") return "from/to";
  if (key == "shape" || key == "nodes") return "shape/nodes";
  if (key == "between") return "between";
  if (key == "isolate") return "isolate";
  return "";
}

// One entry of `partitions:`. `cuts_before` counts the cuts of the entries before it (for the
// dataplane's limit); `named` the names given so far. Without `name:`, partition->name stays
// empty and `label` says what the entry cuts.
bool ProfileParser::ParsePartition(const yaml::Node& item, size_t cuts_before,
                                   std::map<std::string, int>* named, PartitionSpec* partition,
                                   std::string* label) {
  std::vector<Entry> entries;
  if (!Entries(item, item, "a partition", /*allow_empty=*/false, &entries)) return false;
  std::map<std::string, const Entry*> form;  // the form's keys, by key
  const Entry* first = nullptr;              // the form's first key in the file
  for (const Entry& entry : entries) {
    bool ok = true;
    size_t index = 0;
    const std::string_view form_name = PartitionForm(entry.key);
    if (!form_name.empty()) {
      if (first == nullptr) first = &entry;
      if (PartitionForm(first->key) != form_name) {
        return Fail(entry.key_node, "a partition has one form, and '" + entry.key +
                                        "' cannot go with '" + first->key +
                                        "' (use from/to, between, isolate or shape/nodes, one "
                                        "per list item)");
      }
      form[entry.key] = &entry;
    } else if (entry.key == "mode") {
      ok = Choice(entry, kPartitionModeNames, &index);
      partition->mode = static_cast<PartitionMode>(index);
    } else if (entry.key == "connections") {
      ok = Choice(entry, kConnectionNames, &index);
      partition->new_connections_only = index == 1;
    } else if (entry.key == "name") {
      ok = Text(entry, &partition->name);
      if (ok && partition->name.empty()) {
        ok = Fail(At(entry), "a partition name must not be empty");
      }
      if (ok) {
        const auto [earlier, inserted] =
            named->emplace(partition->name, entry.value.Mark().line + 1);
        if (!inserted) {
          ok = Fail(entry.value, "duplicate partition name '" + partition->name +
                                     "' (first on line " + std::to_string(earlier->second) + ")");
        }
      }
    } else {
      ok = UnknownKey(
          entry, "a partition",
          {"from", "to", "between", "isolate", "shape", "nodes", "mode", "connections", "name"});
    }
    if (!ok) return false;
  }
  if (first == nullptr) {
    return Fail(item,
                "a partition needs one of {from: X, to: Y}, {between: [X, Y, ...]}, "
                "{isolate: X} or {shape: halves|majority|majorities-ring|bridge, nodes: [...]}");
  }
  nlohmann::ordered_json written = nlohmann::ordered_json::object();
  for (const Entry& entry : entries) {
    if (!PartitionForm(entry.key).empty()) written[entry.key] = yaml_source::ToJson(entry.value);
  }
  partition->form = written.dump();
  if (PartitionForm(first->key) == "from/to") return FromTo(form, cuts_before, partition, label);
  if (PartitionForm(first->key) == "shape/nodes") {
    return Shape(form, cuts_before, partition, label);
  }
  if (first->key == "isolate") return Isolate(*first, cuts_before, partition, label);
  return Between(*first, cuts_before, partition, label);
}

bool ProfileParser::Isolate(const Entry& isolate, size_t cuts_before, PartitionSpec* partition,
                            std::string* label) {
  EndpointSet node;
  if (!Endpoints(isolate.value, At(isolate), isolate.key, &node, label)) return false;
  if (!CutsFit(isolate, cuts_before, 2) || !CountHeld(At(isolate), 4 * EndpointCount(node))) {
    return false;
  }
  partition->cuts = {
      PartitionCut{.from = node, .to = node, .from_complement = false, .to_complement = true},
      PartitionCut{.from = node, .to = node, .from_complement = true, .to_complement = false}};
  *label = "isolate " + *label;
  return true;
}

// Every ordered pair of the items of `between`.
bool ProfileParser::Between(const Entry& between, size_t cuts_before, PartitionSpec* partition,
                            std::string* label) {
  std::vector<EndpointSet> sides;
  std::vector<std::string> names;
  if (!Nodes(between, 2, "endpoints", &sides, &names)) return false;
  const uint64_t count = static_cast<uint64_t>(sides.size()) * (sides.size() - 1);
  if (!CutsFit(between, cuts_before, count)) return false;
  size_t endpoints = 0;  // each side is in 2 (n - 1) cuts
  for (const EndpointSet& side : sides) endpoints += 2 * (sides.size() - 1) * EndpointCount(side);
  if (!CountHeld(At(between), endpoints)) return false;
  for (size_t i = 0; i < sides.size(); ++i) {
    for (size_t j = 0; j < sides.size(); ++j) {
      if (i != j) partition->cuts.push_back(PartitionCut{.from = sides[i], .to = sides[j]});
    }
  }
  *label = sides.size() == 2 ? names[0] + " <-> " + names[1] : "between " + Join(names);
  return true;
}

bool ProfileParser::FromTo(const std::map<std::string, const Entry*>& form, size_t cuts_before,
                           PartitionSpec* partition, std::string* label) {
  for (const auto& [key, other] : {std::pair{"from", "to"}, std::pair{"to", "from"}}) {
    if (!form.count(key)) {
      return Fail(form.at(other)->key_node, std::string(other) + " needs '" + key +
                                                "' ({from: X, to: Y} cuts frames from X to Y)");
    }
  }
  const Entry& from = *form.at("from");
  const Entry& to = *form.at("to");
  PartitionCut cut;
  std::string from_label, to_label;
  if (!Endpoints(from.value, At(from), "from", &cut.from, &from_label) ||
      !Endpoints(to.value, At(to), "to", &cut.to, &to_label)) {
    return false;
  }
  if (SameEndpoints(cut.from, cut.to)) {
    return Fail(At(to),
                "from and to are the same endpoints; a partition cuts traffic between "
                "different ones");
  }
  if (!CutsFit(from, cuts_before, 1) ||
      !CountHeld(At(from), EndpointCount(cut.from) + EndpointCount(cut.to))) {
    return false;
  }
  partition->cuts.push_back(std::move(cut));
  *label = from_label + " -> " + to_label;
  return true;
}

bool ProfileParser::Shape(const std::map<std::string, const Entry*>& form, size_t cuts_before,
                          PartitionSpec* partition, std::string* label) {
  if (!form.count("nodes")) {
    return Fail(form.at("shape")->key_node, "shape needs 'nodes' (the list of nodes to cut)");
  }
  if (!form.count("shape")) {
    return Fail(form.at("nodes")->key_node,
                "nodes needs a 'shape' (" +
                    Join(std::vector<std::string>(std::begin(kPartitionShapeNames),
                                                  std::end(kPartitionShapeNames))) +
                    ")");
  }
  size_t index = 0;
  if (!Choice(*form.at("shape"), kPartitionShapeNames, &index)) return false;
  const auto shape = static_cast<PartitionShape>(index);
  const Entry& nodes_entry = *form.at("nodes");
  std::vector<EndpointSet> nodes;
  std::vector<std::string> names;
  if (!Nodes(nodes_entry, MinimumNodes(shape),
             "nodes for shape " + std::string(PartitionShapeName(shape)), &nodes, &names)) {
    return false;
  }
  if (!CutsFit(nodes_entry, cuts_before, PartitionShapeCutCount(shape, nodes.size()))) {
    return false;
  }
  const std::vector<std::pair<size_t, size_t>> cuts = PartitionShapeCuts(shape, nodes.size());
  size_t endpoints = 0;
  for (const auto& [i, j] : cuts) endpoints += EndpointCount(nodes[i]) + EndpointCount(nodes[j]);
  if (!CountHeld(At(nodes_entry), endpoints)) return false;
  for (const auto& [i, j] : cuts) {
    partition->cuts.push_back(PartitionCut{.from = nodes[i], .to = nodes[j]});
  }
  *label = PartitionShapeLabel(shape, names);
  return true;
}

// The list of `between` or `nodes`: at least `minimum` items, each endpoints of its own (an
// item that is a list is one node made of several), no two the same.
bool ProfileParser::Nodes(const Entry& entry, size_t minimum, const std::string& what,
                          std::vector<EndpointSet>* nodes, std::vector<std::string>* names) {
  if (!entry.value.IsSequence()) {
    return Fail(At(entry), entry.key + " needs a list of at least " + std::to_string(minimum) +
                               " " + what + ", like [rack-a, rack-b], not " + KindOf(entry.value));
  }
  if (entry.value.size() < minimum) {
    return Fail(entry.value, entry.key + " needs at least " + std::to_string(minimum) + " " + what +
                                 ", not " + std::to_string(entry.value.size()));
  }
  // Each node's endpoints in canonical order -> its index: finds a repeat in O(log n).
  std::map<std::vector<EndpointKey>, size_t> seen;
  for (const yaml::Node& item : entry.value) {
    EndpointSet node;
    std::string name;
    if (!Endpoints(item, item, entry.key, &node, &name)) return false;
    const auto [earlier, inserted] = seen.emplace(Canonical(node), nodes->size());
    if (!inserted) {
      return Fail(item, entry.key + ": '" + name + "' has the same endpoints as '" +
                            (*names)[earlier->second] + "' (item " +
                            std::to_string(earlier->second + 1) + ")");
    }
    nodes->push_back(std::move(node));
    names->push_back(std::move(name));
  }
  return true;
}

// Whether `count` more cuts fit the dataplane's limit; if not, the error points at `entry`.
bool ProfileParser::CutsFit(const Entry& entry, size_t cuts_before, uint64_t count) {
  if (cuts_before + count <= kMaxPartitionCuts) return true;
  return Fail(At(entry), "this partition needs " + std::to_string(count) + " cuts, " +
                             std::to_string(cuts_before + count) +
                             " in all partitions; the dataplane holds at most " +
                             std::to_string(kMaxPartitionCuts) +
                             " (between and shapes cut each ordered pair of their items)");
}
}  // namespace faultline
