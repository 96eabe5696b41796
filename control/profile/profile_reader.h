// The profile parser's class, shared by its parts (docs/architecture.md, "Control plane"):
//   profile_parser.cc       the document, its version and top-level keys, rules, value checks
//   profile_groups.cc       groups (and endpoint references that name them)
//   profile_impairments.cc  impairments and their effects (delay, loss, ... stall)
//   profile_match.cc        a rule's match
//   profile_partitions.cc   partitions in all their forms
// Only those files include this header; everyone else uses profile_parser.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/base/units.h"
#include "control/profile/endpoints.h"
#include "control/profile/profile_parser.h"
#include "control/yaml/yaml_reader.h"
#include "control/yaml/yaml_source.h"

namespace faultline {

using yaml_source::At;
using yaml_source::Entry;
using yaml_source::KindOf;

// Walks the YAML tree once, filling a ProfileSpec. Every check reports through Fail(), which keeps
// the first error only; the parse functions return false as soon as one fails, so nothing after
// the first problem runs.
class ProfileParser : public yaml_source::Reader {
 public:
  ProfileParser(std::string name_for_errors, std::filesystem::path base_directory)
      : Reader(std::move(name_for_errors)), base_directory_(std::move(base_directory)) {}

  std::optional<ProfileSpec> Parse(const std::string& text, std::string* error);

  // A profile given as a YAML mapping inside another document (a trace's inline `profile:`).
  std::optional<ProfileSpec> ParseNode(const yaml::Node& root, std::string* error);

  // Group names in endpoint references resolve against the context's groups (none without a
  // profile); its hint replaces "the profile defines no groups" in the error for an unknown name,
  // and its count (if any) is where the endpoints named are counted.
  void UseGroups(const GroupContext& context);

  // One entry of `partitions:` on its own; named by `name:` or after what it cuts.
  std::optional<PartitionSpec> ParsePartitionEntry(const yaml::Node& item, std::string* error);

  // An endpoint reference on its own, as a rule's `src` or `dst`.
  std::optional<EndpointSet> ParseEndpointReference(const yaml::Node& value,
                                                    const yaml::Node& position,
                                                    const std::string& key, std::string* label,
                                                    std::string* error);

 private:
  // --- inline: running a parse, values with units and bounds ---
  // Runs `parse`; false with *error set on failure.
  template <typename Parse>
  bool Run(Parse parse, std::string* error) {
    const bool ok = parse();
    if (!ok) *error = Reader::error();
    return ok;
  }

  bool Probability(const Entry& entry, double* p) { return Unit(entry, ParseProbability, p); }

  bool Rate(const Entry& entry, uint64_t* bps) { return Unit(entry, ParseRate, bps); }

  bool SizeValue(const Entry& entry, Size* size) { return Unit(entry, ParseSize, size); }

  // `value` (of `entry`) within [min, max], else "KEY: 'TEXT' is below (above) the limit of X"
  // with X as `format` spells it.
  template <typename Value, typename Format>
  bool Within(const Entry& entry, Value value, Value min, Value max, Format format) {
    if (value >= min && value <= max) return true;
    return Fail(entry.value, entry.key + ": '" + entry.value.Scalar() + "' is " +
                                 (value < min ? "below" : "above") + " the limit of " +
                                 format(value < min ? min : max));
  }

  // --- profile_parser.cc: single values, the document, its top-level keys, rules ---
  bool PositiveSize(const Entry& entry, Size* size);

  bool BoundedDuration(const Entry& entry, uint64_t max, uint64_t* ns);

  // A positive size of at most `max_packets` packets or `max_bytes` bytes, as a limit.
  bool BoundedSize(const Entry& entry, uint64_t max_packets, uint64_t max_bytes, SizeLimit* limit);

  bool Integer(const Entry& entry, uint64_t min, uint64_t max, uint64_t* out);

  bool Bool(const Entry& entry, bool* out);

  bool ParseDocument(const std::string& text);

  bool ParseRoot(const yaml::Node& root);

  bool ParseRules(const Entry& rules_entry);

  bool ResolveImpairment(const Entry& entry, size_t* index);

  // --- profile_groups.cc: groups and the endpoint references that name them ---
  // Groups may include other groups, defined anywhere in the map, so their members are read
  // first and expanded once every name is known: each group once, after the groups it includes.
  bool ParseGroups(const Entry& groups_entry);

  static std::shared_ptr<const std::unordered_map<std::string, size_t>> IndexGroups(
      const std::vector<GroupSpec>& groups);

  std::optional<size_t> GroupIndex(const std::string& name) const;

  // Every group after the groups it includes (*order), or the first problem met walking them in
  // file order, depth first: a member that is neither a group nor an address, or a cycle. The
  // walk keeps its own stack, so groups nested 20,000 deep cannot overflow the thread's.
  bool OrderGroups(const std::vector<std::vector<yaml::Node>>& members, std::vector<size_t>* order);

  // Expands each group's members in `order` (every group after those it includes), in the order
  // a depth-first walk meets them, without repeats. Endpoints are numbered once and a group's
  // members are a list of numbers, so checking for a repeat is one array read (a stamp per
  // endpoint), not a search or a hash: including a group of k members costs k steps. Those steps
  // are bounded by kMaxGroupVisits and the members of all groups by kMaxGroupMembers.
  bool ExpandGroups(const std::vector<std::vector<yaml::Node>>& members,
                    const std::vector<size_t>& order);

  // `text` is no group, and ParseAddress said `error`: when it looks like an address that error
  // helps, else the user meant a group that is not there.
  bool UnknownEndpoint(const yaml::Node& item, const std::string& where, const std::string& text,
                       const std::string& error);

  // A group name, an address, a prefix or a MAC address, or a list of them, as EndpointSet
  // (groups expanded, repeats dropped). `label` gets the text as written, list items joined
  // by '+' ("rack-a", "n1+n2"), for the names of partitions.
  bool Endpoints(const yaml::Node& value, const yaml::Node& position, const std::string& key,
                 EndpointSet* endpoints, std::string* label);

  // Counts `count` more endpoints named at `item` against kMaxMatchEndpoints.
  bool CountNamed(const yaml::Node& item, size_t count);

  // Counts `count` more endpoints held by a rule's src and dst or a partition's cuts (at
  // `where`) against kMaxMatchEndpoints.
  bool CountHeld(const yaml::Node& where, size_t count);

  // --- profile_impairments.cc: impairments and their effects ---
  bool ParseImpairments(const Entry& impairments_entry);

  bool ParseDelay(const Entry& delay_entry, DelaySpec* delay);

  bool ParseLoss(const Entry& loss_entry, LossSpec* loss);

  // The model's defaults for the keys not `given`, and the checks of the keys together.
  bool LossDefaults(const Entry& loss_entry, const std::map<std::string, const Entry*>& given,
                    LossSpec* loss);

  bool ParseDuplicate(const Entry& duplicate_entry, DuplicateSpec* duplicate);

  bool ParseReorder(const Entry& reorder_entry, ReorderSpec* reorder);

  bool ParseCorrupt(const Entry& corrupt_entry, CorruptSpec* corrupt);

  // A queue limit: one size, or a list of one packet count and one byte size (both apply).
  bool ParseLimit(const Entry& entry, SizeLimit* limit);

  bool ParseRateEffect(const Entry& rate_entry, RateSpec* rate);

  // "20B", "-4B": bytes added to (or taken from) every frame's length on the link.
  bool ParseOverhead(const Entry& entry, int32_t* overhead);

  bool ParseStall(const Entry& stall_entry, StallSpec* stall);

  // --- profile_match.cc: a rule's match ---
  bool ParseMatch(const Entry& match_entry, MatchSpec* match);

  // A rule no frame can satisfy is a mistake: say which keys contradict each other rather than
  // install a dead rule. `given` holds the match's entries by key.
  bool CanMatch(const MatchSpec& match, const std::map<std::string, const Entry*>& given);

  // `src-mac: aa:bb:cc:dd:ee:ff` or a list of MAC addresses.
  bool Macs(const Entry& entry, std::vector<MacAddress>* macs);

  // A name (ipv4, arp, ...), a number, or hex like 0x88b5: the type after any VLAN tags.
  bool ParseEtherType(const Entry& entry, std::optional<uint16_t>* ether_type);

  bool ParseProto(const Entry& entry, std::optional<uint8_t>* proto);

  // "80" or "2379-2380": one value or an inclusive range, each a number up to `max` or, where
  // `by_name` knows it, a name. `expected` says what is accepted.
  bool Range(const Entry& entry, uint32_t max, const std::string& expected,
             std::optional<uint32_t> (*by_name)(const std::string&), ValueRange* range);

  // --- profile_partitions.cc: partitions in all their forms ---
  bool ParsePartitions(const Entry& partitions_entry);

  // The forms of a partition entry; each key of a form names it.
  static std::string_view PartitionForm(const std::string& key);

  // One entry of `partitions:`. `cuts_before` counts the cuts of the entries before it (for the
  // dataplane's limit); `named` the names given so far. Without `name:`, partition->name stays
  // empty and `label` says what the entry cuts.
  bool ParsePartition(const yaml::Node& item, size_t cuts_before, std::map<std::string, int>* named,
                      PartitionSpec* partition, std::string* label);

  // The forms of a partition: each fills partition->cuts and *label.
  bool Isolate(const Entry& isolate, size_t cuts_before, PartitionSpec* partition,
               std::string* label);

  bool Between(const Entry& between, size_t cuts_before, PartitionSpec* partition,
               std::string* label);

  bool FromTo(const std::map<std::string, const Entry*>& form, size_t cuts_before,
              PartitionSpec* partition, std::string* label);

  bool Shape(const std::map<std::string, const Entry*>& form, size_t cuts_before,
             PartitionSpec* partition, std::string* label);

  // The list of `between` or `nodes`: at least `minimum` items, each endpoints of its own (an
  // item that is a list is one node made of several), no two the same.
  bool Nodes(const Entry& entry, size_t minimum, const std::string& what,
             std::vector<EndpointSet>* nodes, std::vector<std::string>* names);

  // Whether `count` more cuts fit the dataplane's limit; if not, the error points at `entry`.
  bool CutsFit(const Entry& entry, size_t cuts_before, uint64_t count);

  std::filesystem::path base_directory_;
  ProfileSpec profile_;
  // Where group names resolve: the profile's own groups, or those of a GroupContext.
  const std::vector<GroupSpec>* groups_ = &profile_.groups;
  std::shared_ptr<const std::unordered_map<std::string, size_t>> group_index_;
  std::unordered_map<std::string, size_t> impairment_index_;  // filled as rules look names up
  std::map<std::string, std::vector<int16_t>> tables_;  // delay tables made or read, by source
  size_t table_values_ = 0;                             // in all impairments' delay tables
  std::string no_groups_hint_;
  // Endpoints named and held by rules and partitions: this profile's, or a GroupContext's
  // counts shared by a trace's events.
  EndpointCounts endpoints_here_;
  EndpointCounts* endpoints_ = &endpoints_here_;
};

}  // namespace faultline
