#include "control/trace/topology.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "control/profile/endpoints.h"
#include "control/profile/profile_parser.h"
#include "control/yaml/yaml_reader.h"
#include "control/yaml/yaml_source.h"

namespace faultline {

size_t Topology::NodeCount() const {
  size_t count = 0;
  for (const TopologyRack& rack : racks) count += rack.nodes.size();
  return count;
}

namespace {

// Names become group names of the trace's inline profile and words of partition names, so they
// are kept plain: a letter, then letters, digits, '-', '_' or '.'; never something a profile
// would read as a MAC address ("aa-bb-cc-dd-ee-ff", "a-b-c-d") or YAML as null.
bool ValidName(const std::string& name, std::string* why) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) {
    *why = "must start with a letter";
    return false;
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      *why = "may only hold letters, digits, '-', '_' and '.'";
      return false;
    }
  }
  if (name == "null" || name == "Null" || name == "NULL") {
    *why = "reads as null in YAML";
    return false;
  }
  // Hex digits in dash-separated groups of one or two, four groups or more: a MAC to a profile.
  if (HexGroupsLikeMac(name)) {
    *why = "looks like a MAC address";
    return false;
  }
  return true;
}

using yaml_source::Entry;
using yaml_source::KindOf;

class TopologyParser : public yaml_source::Reader {
 public:
  explicit TopologyParser(std::string name) : Reader(std::move(name)) {}

  std::optional<Topology> Parse(const std::string& text, std::string* error) {
    const std::optional<yaml::Node> root = yaml_source::LoadSingleDocument(
        text, name(), "topology", "'version: 1' and 'racks'", error);
    if (!root) return std::nullopt;
    if (!ParseDocument(*root)) {
      *error = Reader::error();
      return std::nullopt;
    }
    return std::move(topology_);
  }

 private:
  // A name for a rack, node, aggregation switch or load balancer: valid and not taken.
  bool Name(const yaml::Node& where, const std::string& name, const std::string& what) {
    std::string why;
    if (!ValidName(name, &why)) return Fail(where, what + " name '" + name + "' " + why);
    if (names_.size() == kMaxGroups) {
      return Fail(where, "more than " + std::to_string(kMaxGroups) +
                             " racks, nodes, aggregation switches and load balancers (each is a "
                             "group of the generated trace's profile)");
    }
    const auto [earlier, inserted] = names_.emplace(name, where.Mark().line + 1);
    if (!inserted) {
      return Fail(where, what + " name '" + name + "' is already used (line " +
                             std::to_string(earlier->second) + ")");
    }
    return true;
  }

  // One address or prefix (or a list of them) of node `node`.
  bool Addresses(const yaml::Node& value, const yaml::Node& position, const std::string& node,
                 std::vector<std::string>* addresses) {
    std::vector<yaml::Node> items;
    if (value.IsScalar()) {
      items.push_back(value);
    } else if (value.IsSequence()) {
      for (const yaml::Node& item : value) items.push_back(item);
      if (items.empty()) return Fail(position, "node '" + node + "' needs at least one address");
    } else {
      return Fail(position, "node '" + node + "' needs an address or a list of addresses, not " +
                                KindOf(value));
    }
    for (const yaml::Node& item : items) {
      if (!item.IsScalar()) {
        return Fail(item,
                    "node '" + node + "': expected an address or prefix, not " + KindOf(item));
      }
      std::string error;
      const std::optional<Prefix> prefix = ParsePrefix(item.Scalar(), &error);
      if (!prefix) return Fail(item, "node '" + node + "': " + error);
      const auto [earlier, inserted] = addresses_.emplace(KeyOf(*prefix), node);
      if (!inserted) {
        return Fail(item,
                    "node '" + node + "': " + item.Scalar() + " is already an address of " +
                        (earlier->second == node ? "this node" : "node '" + earlier->second + "'"));
      }
      addresses->push_back(item.Scalar());
    }
    return true;
  }

  bool ParseRack(const Entry& entry) {
    if (!Name(entry.key_node, entry.key, "rack")) return false;
    TopologyRack rack{.name = entry.key, .nodes = {}};
    if (entry.value.IsMap()) {
      std::vector<Entry> nodes;
      if (!Entries(entry.value, entry.value, "rack '" + entry.key + "'", false, &nodes)) {
        return false;
      }
      if (nodes.empty()) return Fail(entry, "rack '" + entry.key + "' needs at least one node");
      for (const Entry& node_entry : nodes) {
        if (!Name(node_entry.key_node, node_entry.key, "node")) return false;
        TopologyNode node{.name = node_entry.key, .addresses = {}};
        if (!Addresses(node_entry.value, yaml_source::At(node_entry), node.name, &node.addresses)) {
          return false;
        }
        rack.nodes.push_back(std::move(node));
      }
    } else if (entry.value.IsSequence() || entry.value.IsScalar()) {
      std::vector<yaml::Node> items;
      if (entry.value.IsScalar()) {
        items.push_back(entry.value);
      } else {
        for (const yaml::Node& item : entry.value) items.push_back(item);
      }
      if (items.empty()) return Fail(entry, "rack '" + entry.key + "' needs at least one node");
      for (const yaml::Node& item : items) {
        TopologyNode node{.name = entry.key + "-n" + std::to_string(rack.nodes.size() + 1),
                          .addresses = {}};
        if (!Name(item, node.name, "node")) return false;
        if (item.IsMap()) {
          return Fail(item, "rack '" + entry.key +
                                "': a list holds node addresses; name nodes with a map "
                                "instead ({db1: 10.0.2.11, db2: 10.0.2.12})");
        }
        if (!Addresses(item, item, node.name, &node.addresses)) return false;
        rack.nodes.push_back(std::move(node));
      }
    } else {
      return Fail(
          entry, "rack '" + entry.key + "' needs a list of node addresses or a map of named nodes");
    }
    const size_t r = topology_.racks.size();
    racks_.emplace(rack.name, r);
    for (size_t n = 0; n < rack.nodes.size(); ++n)
      nodes_.emplace(rack.nodes[n].name, std::pair{r, n});
    topology_.racks.push_back(std::move(rack));
    return true;
  }

  std::optional<size_t> RackIndex(const std::string& name) const {
    const auto found = racks_.find(name);
    if (found == racks_.end()) return std::nullopt;
    return found->second;
  }
  std::optional<std::pair<size_t, size_t>> NodeIndex(const std::string& name) const {
    const auto found = nodes_.find(name);
    if (found == nodes_.end()) return std::nullopt;
    return found->second;
  }

  // The names listed under `entry` (one name or a list of them, at least one).
  bool NameList(const Entry& entry, const std::string& what, std::vector<yaml::Node>* items) {
    items->clear();
    if (entry.value.IsScalar()) {
      items->push_back(entry.value);
    } else if (entry.value.IsSequence()) {
      for (const yaml::Node& item : entry.value) items->push_back(item);
    }
    if (items->empty()) return Fail(entry, what + " '" + entry.key + "' needs a list of names");
    for (const yaml::Node& item : *items) {
      if (!item.IsScalar()) {
        return Fail(item, what + " '" + entry.key + "': expected a name, not " + KindOf(item));
      }
    }
    return true;
  }

  bool ParseAggregation(const Entry& entry) {
    if (!Name(entry.key_node, entry.key, "aggregation switch")) return false;
    std::vector<yaml::Node> items;
    if (!NameList(entry, "aggregation switch", &items)) return false;
    TopologyAggregation aggregation{.name = entry.key, .racks = {}};
    std::set<size_t> listed;
    for (const yaml::Node& item : items) {
      const std::optional<size_t> rack = RackIndex(item.Scalar());
      if (!rack) {
        return Fail(
            item, "aggregation switch '" + entry.key + "': '" + item.Scalar() + "' is not a rack");
      }
      if (!listed.insert(*rack).second) {
        return Fail(item, "aggregation switch '" + entry.key + "': rack '" + item.Scalar() +
                              "' is listed twice");
      }
      aggregation.racks.push_back(*rack);
    }
    topology_.aggregations.push_back(std::move(aggregation));
    return true;
  }

  bool ParseLoadBalancer(const Entry& entry) {
    if (!Name(entry.key_node, entry.key, "load balancer")) return false;
    std::vector<yaml::Node> items;
    if (!NameList(entry, "load balancer", &items)) return false;
    TopologyLoadBalancer balancer{.name = entry.key, .nodes = {}};
    std::set<std::pair<size_t, size_t>> listed;
    for (const yaml::Node& item : items) {
      std::vector<std::pair<size_t, size_t>> nodes;
      if (const auto node = NodeIndex(item.Scalar())) {
        nodes.push_back(*node);
      } else if (const auto rack = RackIndex(item.Scalar())) {
        for (size_t n = 0; n < topology_.racks[*rack].nodes.size(); ++n) {
          nodes.emplace_back(*rack, n);
        }
      } else {
        return Fail(item, "load balancer '" + entry.key + "': '" + item.Scalar() +
                              "' is neither a node nor a rack");
      }
      for (const auto& node : nodes) {
        if (!listed.insert(node).second) {
          return Fail(item, "load balancer '" + entry.key + "': node '" +
                                topology_.racks[node.first].nodes[node.second].name +
                                "' is listed twice");
        }
        balancer.nodes.push_back(node);
      }
    }
    topology_.load_balancers.push_back(std::move(balancer));
    return true;
  }

  bool ParseDocument(const yaml::Node& root) {
    std::vector<Entry> entries;
    if (!Entries(root, root, "the topology", false, &entries)) return false;
    const Entry *version = nullptr, *racks = nullptr, *aggregation = nullptr, *balancers = nullptr;
    for (const Entry& entry : entries) {
      if (entry.key == "version") {
        version = &entry;
      } else if (entry.key == "racks") {
        racks = &entry;
      } else if (entry.key == "aggregation") {
        aggregation = &entry;
      } else if (entry.key == "load-balancers") {
        balancers = &entry;
      } else {
        return UnknownKey(entry, "the topology",
                          {"version", "racks", "aggregation", "load-balancers"});
      }
    }
    if (version == nullptr) return Fail(root, "the topology needs 'version: 1'");
    if (!version->value.IsScalar() || version->value.Scalar() != "1") {
      return Fail(*version, "version: only version 1 is known, not " + KindOf(version->value));
    }
    if (racks == nullptr) return Fail(root, "the topology needs 'racks'");
    std::vector<Entry> rack_entries;
    if (!Entries(*racks, "racks", true, &rack_entries)) {
      return false;
    }
    if (rack_entries.empty()) return Fail(*racks, "racks: the topology needs at least one rack");
    // Racks (and their nodes) first, wherever the other sections are written: those refer to them.
    for (const Entry& entry : rack_entries) {
      if (!ParseRack(entry)) return false;
    }
    if (aggregation != nullptr) {
      std::vector<Entry> items;
      if (!Entries(*aggregation, "aggregation", true, &items)) {
        return false;
      }
      for (const Entry& entry : items) {
        if (!ParseAggregation(entry)) return false;
      }
    }
    if (balancers != nullptr) {
      std::vector<Entry> items;
      if (!Entries(*balancers, "load-balancers", true, &items)) {
        return false;
      }
      for (const Entry& entry : items) {
        if (!ParseLoadBalancer(entry)) return false;
      }
    }
    return true;
  }

  Topology topology_;
  std::map<std::string, int> names_;                        // every name -> its line
  std::map<std::string, size_t> racks_;                     // rack name -> index
  std::map<std::string, std::pair<size_t, size_t>> nodes_;  // node name -> (rack, node)
  std::map<EndpointKey, std::string> addresses_;            // every address -> its node
};

}  // namespace

std::optional<Topology> ParseTopologyText(const std::string& text,
                                          const std::string& name_for_errors, std::string* error) {
  return TopologyParser(name_for_errors).Parse(text, error);
}

std::optional<Topology> ParseTopologyFile(const std::string& path, std::string* error) {
  const std::optional<std::string> text = yaml_source::ReadSourceFile(path, error);
  if (!text) return std::nullopt;
  return ParseTopologyText(*text, path, error);
}

}  // namespace faultline
