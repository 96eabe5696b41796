// A profile's groups, and the endpoint references (src, dst, partitions' sides) that name them.
#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "control/profile/profile_reader.h"

namespace faultline {

// Group names in endpoint references resolve against the context's groups (none without a
// profile); its hint replaces "the profile defines no groups" in the error for an unknown name,
// and its count (if any) is where the endpoints named are counted.
void ProfileParser::UseGroups(const GroupContext& context) {
  static const std::vector<GroupSpec> kNone;
  groups_ = context.profile != nullptr ? &context.profile->groups : &kNone;
  if (context.index == nullptr) context.index = IndexGroups(*groups_);
  group_index_ = context.index;
  no_groups_hint_ = context.no_groups_hint;
  if (context.endpoints != nullptr) endpoints_ = context.endpoints;
}

// Groups may include other groups, defined anywhere in the map, so their members are read
// first and expanded once every name is known: each group once, after the groups it includes.
bool ProfileParser::ParseGroups(const Entry& groups_entry) {
  std::vector<Entry> groups;
  if (!Entries(groups_entry, "groups", /*allow_empty=*/true, &groups)) return false;
  std::vector<std::vector<yaml::Node>> members(groups.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    const Entry& entry = groups[g];
    if (g == kMaxGroups) {
      return Fail(entry.key_node, "more than " + std::to_string(kMaxGroups) + " groups");
    }
    if (entry.key.empty()) return Fail(entry.key_node, "a group needs a name");
    if (LookalikeOf(entry.key) != Lookalike::kName) {
      // A group called "10.0.0.1" would make `src: 10.0.0.1` ambiguous.
      return Fail(entry.key_node,
                  "group name '" + entry.key + "' must not look like an address or MAC address");
    }
    const std::string what = "group '" + entry.key + "'";
    if (!ScalarOrList(entry.value, &members[g])) {
      return Fail(At(entry), what + " must be a list of addresses, prefixes, MAC addresses or " +
                                 "groups, not " + KindOf(entry.value));
    }
    // An empty group would leave a rule's src or dst empty, and an empty src matches every
    // address: the opposite of what an empty group suggests.
    if (members[g].empty()) return Fail(At(entry), what + " is empty");
    for (const yaml::Node& item : members[g]) {
      if (!item.IsScalar()) {
        return Fail(item, what + ": expected an address, prefix, MAC address or group name, " +
                              "not " + KindOf(item));
      }
    }
    profile_.groups.push_back(GroupSpec{.name = entry.key, .members = {}});
  }
  group_index_ = IndexGroups(profile_.groups);
  std::vector<size_t> order;
  return OrderGroups(members, &order) && ExpandGroups(members, order);
}

std::shared_ptr<const std::unordered_map<std::string, size_t>> ProfileParser::IndexGroups(
    const std::vector<GroupSpec>& groups) {
  auto index = std::make_shared<std::unordered_map<std::string, size_t>>();
  for (size_t g = 0; g < groups.size(); ++g) index->emplace(groups[g].name, g);
  return index;
}

std::optional<size_t> ProfileParser::GroupIndex(const std::string& name) const {
  if (group_index_ == nullptr) return std::nullopt;
  const auto found = group_index_->find(name);
  if (found == group_index_->end()) return std::nullopt;
  return found->second;
}

// Every group after the groups it includes (*order), or the first problem met walking them in
// file order, depth first: a member that is neither a group nor an address, or a cycle. The
// walk keeps its own stack, so groups nested 20,000 deep cannot overflow the thread's.
bool ProfileParser::OrderGroups(const std::vector<std::vector<yaml::Node>>& members,
                                std::vector<size_t>* order) {
  enum class State : uint8_t { kPending, kActive, kDone };
  std::vector<State> state(members.size(), State::kPending);
  struct Frame {
    size_t group;
    size_t next_member;
  };
  std::vector<Frame> path;  // the chain of groups being walked, to name a cycle
  for (size_t root = 0; root < members.size(); ++root) {
    if (state[root] != State::kPending) continue;
    state[root] = State::kActive;
    path.push_back({root, 0});
    while (!path.empty()) {
      Frame& frame = path.back();
      const size_t g = frame.group;
      if (frame.next_member == members[g].size()) {
        state[g] = State::kDone;
        order->push_back(g);
        path.pop_back();
        continue;
      }
      const yaml::Node& item = members[g][frame.next_member++];
      const std::string what = "group '" + (*groups_)[g].name + "'";
      const std::string& text = item.Scalar();
      if (const std::optional<size_t> other = GroupIndex(text)) {
        if (state[*other] == State::kActive) {
          std::vector<std::string> cycle;
          auto it = std::find_if(path.begin(), path.end(),
                                 [&](const Frame& f) { return f.group == *other; });
          for (; it != path.end(); ++it) cycle.push_back((*groups_)[it->group].name);
          cycle.push_back(text);
          return Fail(item, what + ": including group '" + text +
                                "' makes a cycle: " + Join(cycle, " -> "));
        }
        if (state[*other] == State::kPending) {
          state[*other] = State::kActive;
          path.push_back({*other, 0});
        }
        continue;
      }
      EndpointBuilder scratch;
      std::string error;
      if (!ParseAddress(text, &scratch, &error)) return UnknownEndpoint(item, what, text, error);
    }
  }
  return true;
}

// Expands each group's members in `order` (every group after those it includes), in the order
// a depth-first walk meets them, without repeats. Endpoints are numbered once and a group's
// members are a list of numbers, so checking for a repeat is one array read (a stamp per
// endpoint), not a search or a hash: including a group of k members costs k steps. Those steps
// are bounded by kMaxGroupVisits and the members of all groups by kMaxGroupMembers.
bool ProfileParser::ExpandGroups(const std::vector<std::vector<yaml::Node>>& members,
                                 const std::vector<size_t>& order) {
  std::vector<Prefix> prefixes;  // by number, where is_mac[number] is false
  std::vector<MacAddress> macs;  // by number, where it is true
  std::vector<uint32_t> slot;    // number -> index into prefixes or macs
  std::vector<bool> is_mac;
  std::unordered_map<EndpointKey, uint32_t, EndpointKeyHash> numbers;
  auto number_of = [&](const EndpointKey& key, bool mac) {
    const auto [found, inserted] = numbers.emplace(key, static_cast<uint32_t>(slot.size()));
    if (inserted) {
      is_mac.push_back(mac);
      slot.push_back(static_cast<uint32_t>(mac ? macs.size() : prefixes.size()));
    }
    return std::pair{found->second, inserted};
  };
  std::vector<std::vector<uint32_t>> expanded(members.size());
  std::vector<uint32_t> stamp;  // number -> 1 + the group that last took it
  uint64_t visits = 0, total = 0;
  for (size_t g : order) {
    const auto marker = static_cast<uint32_t>(g + 1);
    std::vector<uint32_t>& set = expanded[g];
    auto take = [&](uint32_t number) {
      if (stamp[number] == marker) return;
      stamp[number] = marker;
      set.push_back(number);
    };
    for (const yaml::Node& item : members[g]) {
      const std::optional<size_t> other = GroupIndex(item.Scalar());
      visits += other ? expanded[*other].size() : 1;
      if (visits > kMaxGroupVisits) {
        return Fail(item, "group '" + profile_.groups[g].name + "': expanding the groups takes " +
                              "more than " + std::to_string(kMaxGroupVisits) +
                              " steps (a group's members count again each time another group "
                              "includes it)");
      }
      if (other) {
        for (uint32_t number : expanded[*other]) take(number);
        continue;
      }
      EndpointBuilder parsed;
      std::string error;
      ParseAddress(item.Scalar(), &parsed, &error);  // checked by OrderGroups
      EndpointSet one = parsed.Take();
      const bool mac = !one.macs.empty();
      const auto [number, added] =
          mac ? number_of(KeyOf(one.macs[0]), true) : number_of(KeyOf(one.prefixes[0]), false);
      if (added) {
        if (mac) {
          macs.push_back(one.macs[0]);
        } else {
          prefixes.push_back(one.prefixes[0]);
        }
        stamp.push_back(0);
      }
      take(number);
    }
    total += set.size();
    if (total > kMaxGroupMembers) {
      return Fail(members[g].front(), "group '" + profile_.groups[g].name +
                                          "': the groups hold more than " +
                                          std::to_string(kMaxGroupMembers) +
                                          " endpoints in all (a group counts all it includes)");
    }
  }
  for (size_t g = 0; g < members.size(); ++g) {
    EndpointSet& set = profile_.groups[g].members;
    for (uint32_t number : expanded[g]) {
      if (is_mac[number]) {
        set.macs.push_back(macs[slot[number]]);
      } else {
        set.prefixes.push_back(prefixes[slot[number]]);
      }
    }
  }
  return true;
}

// `text` is no group, and ParseAddress said `error`: when it looks like an address that error
// helps, else the user meant a group that is not there.
bool ProfileParser::UnknownEndpoint(const yaml::Node& item, const std::string& where,
                                    const std::string& text, const std::string& error) {
  if (LookalikeOf(text) != Lookalike::kName) return Fail(item, where + ": " + error);
  std::vector<std::string> names;
  for (const GroupSpec& group : *groups_) names.push_back(group.name);
  return Fail(item, where + ": '" + text +
                        "' is neither a group nor an address, prefix or MAC address (" +
                        (!names.empty()            ? "groups: " + JoinSome(names)
                         : no_groups_hint_.empty() ? "the profile defines no groups"
                                                   : no_groups_hint_) +
                        ")");
}

// A group name, an address, a prefix or a MAC address, or a list of them, as EndpointSet
// (groups expanded, repeats dropped). `label` gets the text as written, list items joined
// by '+' ("rack-a", "n1+n2"), for the names of partitions.
bool ProfileParser::Endpoints(const yaml::Node& value, const yaml::Node& position,
                              const std::string& key, EndpointSet* endpoints, std::string* label) {
  std::vector<yaml::Node> items;
  if (!ScalarOrList(value, &items)) {
    return Fail(position, key + " needs a group name, an address, a prefix or a MAC address, " +
                              "or a list of them, not " + KindOf(value));
  }
  // An empty list would read as "any address", the opposite of what it says.
  if (items.empty()) return Fail(value, key + " is an empty list");
  std::vector<std::string> labels;
  EndpointBuilder set;
  set.Add(*endpoints);
  for (const yaml::Node& item : items) {
    if (!item.IsScalar()) {
      return Fail(item, key + ": expected a group name, address, prefix or MAC address, not " +
                            KindOf(item));
    }
    const std::string& text = item.Scalar();
    labels.push_back(text);
    if (const std::optional<size_t> group = GroupIndex(text)) {
      if (!CountNamed(item, EndpointCount((*groups_)[*group].members))) return false;
      set.Add((*groups_)[*group].members);
      continue;
    }
    std::string error;
    if (!ParseAddress(text, &set, &error)) return UnknownEndpoint(item, key, text, error);
    if (!CountNamed(item, 1)) return false;
  }
  *endpoints = set.Take();
  *label = Join(labels, "+");
  return true;
}

// Counts `count` more endpoints named at `item` against kMaxMatchEndpoints.
bool ProfileParser::CountNamed(const yaml::Node& item, size_t count) {
  endpoints_->named += count;
  if (endpoints_->named <= kMaxMatchEndpoints) return true;
  return Fail(item, "more than " + std::to_string(kMaxMatchEndpoints) +
                        " endpoints named in rules and partitions (a group counts as many as it "
                        "holds, each time it is named)");
}

// Counts `count` more endpoints held by a rule's src and dst or a partition's cuts (at
// `where`) against kMaxMatchEndpoints.
bool ProfileParser::CountHeld(const yaml::Node& where, size_t count) {
  endpoints_->held += count;
  if (endpoints_->held <= kMaxMatchEndpoints) return true;
  return Fail(where, "the rules and partitions hold more than " +
                         std::to_string(kMaxMatchEndpoints) +
                         " endpoints (every cut holds both its sides, and between and shapes "
                         "cut each ordered pair of their items)");
}
}  // namespace faultline
