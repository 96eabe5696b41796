#include "control/profile_parser.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "control/partition_shapes.h"
#include "control/profile_names.h"
#include "control/units.h"
#include "control/yaml_source.h"
#include "dataplane/models/delay_distribution.h"

namespace faultline {
namespace {

// Row sums of the markov4 model are checked with this much slack, so that "30%" + "70%" (which
// are not exact in binary) still add up to at most 1.
constexpr double kProbabilityEpsilon = 1e-9;

constexpr uint32_t kMaxReorderDisplacement = 1024;
constexpr double kMaxBitErrorRate = 0.01;
constexpr int64_t kMinOverheadBytes = -64;
constexpr int64_t kMaxOverheadBytes = 1024;
constexpr uint64_t kDefaultQueueLimitPackets = 1000;  // netem's default limit
constexpr uint64_t kDefaultStallLimitPackets = 10000;

std::string Join(const std::vector<std::string>& words, std::string_view separator = ", ") {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += separator;
    joined += word;
  }
  return joined;
}

// At most the first 20 of `words`, then how many there are: an error about one name among
// 10,000 groups should not be 100 KB long.
std::string JoinSome(const std::vector<std::string>& words) {
  constexpr size_t kShown = 20;
  if (words.size() <= kShown) return Join(words);
  return Join(std::vector<std::string>(words.begin(), words.begin() + kShown)) + ", ... (" +
         std::to_string(words.size()) + " in all)";
}

bool Contains(std::initializer_list<std::string_view> names, std::string_view name) {
  for (std::string_view candidate : names) {
    if (candidate == name) return true;
  }
  return false;
}

// Decimal digits only: YAML would also read "0x10", "+5" or "1_000" as integers, and a profile
// that means something different to another YAML reader is not worth the convenience.
std::optional<uint64_t> ParseUnsigned(const std::string& text) {
  if (text.empty()) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = c - '0';
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

constexpr char kMacForm[] = "six hex bytes like aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff";

// "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff", any case, one kind of separator throughout.
std::optional<MacAddress> ParseMac(const std::string& text) {
  if (text.size() != 17 || (text[2] != ':' && text[2] != '-')) return std::nullopt;
  MacAddress mac{};
  for (size_t byte = 0; byte < mac.size(); ++byte) {
    const size_t at = byte * 3;
    if (byte > 0 && text[at - 1] != text[2]) return std::nullopt;
    const char high = text[at], low = text[at + 1];
    if (!std::isxdigit(static_cast<unsigned char>(high)) ||
        !std::isxdigit(static_cast<unsigned char>(low))) {
      return std::nullopt;
    }
    mac[byte] = static_cast<uint8_t>(std::stoi(text.substr(at, 2), nullptr, 16));
  }
  return mac;
}

// What a text that is not a valid address was most likely meant to be, to pick the error that
// helps: "10.1.2.300" and "fd00::1::2" are broken IP addresses, "aa:bb:cc:dd:ee" a broken MAC,
// "rack-a" a name.
enum class Lookalike { kName, kIp, kMac };

Lookalike Classify(const std::string& text) {
  constexpr char kHexDigits[] = "0123456789abcdefABCDEF";
  const std::string address = text.substr(0, text.find('/'));
  std::array<uint8_t, 16> scratch{};
  if (inet_pton(AF_INET, address.c_str(), scratch.data()) == 1 ||
      inet_pton(AF_INET6, address.c_str(), scratch.data()) == 1) {
    return Lookalike::kIp;
  }
  if (text.size() == 17) {  // punctuated like a MAC ("aa:bb:cc:dd:ee:fg")
    bool punctuated = true;
    for (size_t i = 2; i < text.size(); i += 3) {
      punctuated = punctuated && (text[i] == ':' || text[i] == '-');
    }
    if (punctuated) return Lookalike::kMac;
  }
  if (!text.empty() && text.find_first_not_of("0123456789./") == std::string::npos &&
      text.find_first_of("./") != std::string::npos) {
    return Lookalike::kIp;
  }
  if (text.empty() || text.find_first_not_of(std::string(kHexDigits) + ":-") != std::string::npos) {
    return Lookalike::kName;
  }
  // Hex digits and separators only: four or more groups of one or two digits read as a MAC.
  size_t groups = 1, longest = 0, run = 0;
  for (char c : text) {
    if (c == ':' || c == '-') {
      ++groups;
      run = 0;
    } else {
      longest = std::max(longest, ++run);
    }
  }
  if (groups >= 4 && longest <= 2) return Lookalike::kMac;
  return text.find(':') != std::string::npos ? Lookalike::kIp : Lookalike::kName;
}

// "10.0.1.0/24", "fd00::/64", or a bare address (a /32 or /128).
std::optional<Prefix> ParsePrefix(const std::string& text, std::string* error) {
  const size_t slash = text.find('/');
  const std::string address = text.substr(0, slash);
  Prefix prefix;
  if (inet_pton(AF_INET, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = 4;
  } else if (inet_pton(AF_INET6, address.c_str(), prefix.address.data()) == 1) {
    prefix.family = 6;
  } else {
    *error = "'" + text + "' is not an IPv4 or IPv6 address or prefix";
    return std::nullopt;
  }
  const int max_length = prefix.family == 4 ? 32 : 128;
  prefix.length = max_length;
  if (slash != std::string::npos) {
    const std::optional<uint64_t> length = ParseUnsigned(text.substr(slash + 1));
    if (!length || *length > static_cast<uint64_t>(max_length)) {
      *error = "'" + text + "': the prefix length must be 0.." + std::to_string(max_length) +
               " for IPv" + std::to_string(prefix.family);
      return std::nullopt;
    }
    prefix.length = static_cast<uint8_t>(*length);
  }
  // Host bits beyond the prefix are almost always a typo for another prefix (10.0.1.5/24 for
  // 10.0.1.0/24, or for 10.0.1.5/32): refuse rather than guess which.
  Prefix network = prefix;
  for (int bit = prefix.length; bit < max_length; ++bit) {
    network.address[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (network.address != prefix.address) {
    *error = "'" + text + "' has host bits set beyond /" + std::to_string(prefix.length) +
             " (did you mean " + FormatPrefix(network) + "?)";
    return std::nullopt;
  }
  return prefix;
}

// One endpoint as bytes: family (0 for a MAC), prefix length, address.
using EndpointKey = std::array<uint8_t, 18>;

EndpointKey KeyOf(const Prefix& prefix) {
  EndpointKey key{};
  key[0] = prefix.family;
  key[1] = prefix.length;
  std::copy(prefix.address.begin(), prefix.address.end(), key.begin() + 2);
  return key;
}

EndpointKey KeyOf(const MacAddress& mac) {
  EndpointKey key{};
  std::copy(mac.begin(), mac.end(), key.begin() + 2);
  return key;
}

struct EndpointKeyHash {
  size_t operator()(const EndpointKey& key) const {
    return std::hash<std::string_view>()(
        std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  }
};

// An EndpointSet built in order without repeats, each endpoint added in O(1): searching the set
// for every addition made a group of n members cost n^2, and a group including large groups far
// more.
class EndpointBuilder {
 public:
  void Add(const Prefix& prefix) {
    if (keys_.insert(KeyOf(prefix)).second) set_.prefixes.push_back(prefix);
  }
  void Add(const MacAddress& mac) {
    if (keys_.insert(KeyOf(mac)).second) set_.macs.push_back(mac);
  }
  void Add(const EndpointSet& more) {
    for (const Prefix& prefix : more.prefixes) Add(prefix);
    for (const MacAddress& mac : more.macs) Add(mac);
  }
  EndpointSet Take() { return std::move(set_); }

 private:
  EndpointSet set_;
  std::unordered_set<EndpointKey, EndpointKeyHash> keys_;
};

size_t EndpointCount(const EndpointSet& set) { return set.prefixes.size() + set.macs.size(); }

// A set's endpoints in a canonical order, to compare sets whatever order they were named in.
std::vector<EndpointKey> Canonical(const EndpointSet& set) {
  std::vector<EndpointKey> keys;
  keys.reserve(EndpointCount(set));
  for (const Prefix& prefix : set.prefixes) keys.push_back(KeyOf(prefix));
  for (const MacAddress& mac : set.macs) keys.push_back(KeyOf(mac));
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Whether two sets (each without repeats, as EndpointBuilder builds them) hold the same
// endpoints.
bool SameEndpoints(const EndpointSet& a, const EndpointSet& b) {
  if (a.prefixes.size() != b.prefixes.size() || a.macs.size() != b.macs.size()) return false;
  return Canonical(a) == Canonical(b);
}

// An address, a prefix or a MAC address, added to `set`.
bool ParseAddress(const std::string& text, EndpointBuilder* set, std::string* error) {
  if (const std::optional<MacAddress> mac = ParseMac(text)) {
    set->Add(*mac);
    return true;
  }
  if (Classify(text) == Lookalike::kMac) {
    *error = "'" + text + "' is not a MAC address (" + kMacForm + ")";
    return false;
  }
  const std::optional<Prefix> prefix = ParsePrefix(text, error);
  if (!prefix) return false;
  set->Add(*prefix);
  return true;
}

using yaml_source::At;
using yaml_source::Entry;
using yaml_source::KindOf;

// A scalar as a list of one, or a list's items; false for anything else.
bool ScalarOrList(const yaml::Node& value, std::vector<yaml::Node>* items) {
  items->clear();
  if (value.IsScalar()) {
    items->push_back(value);
  } else if (value.IsSequence()) {
    for (const yaml::Node& item : value) items->push_back(item);
  } else {
    return false;
  }
  return true;
}

// 4 or 6 when every endpoint of `set` is an IPv4 (IPv6) prefix; 0 when it holds a MAC address,
// both families or nothing, and so can match frames of any kind.
int OnlyFamily(const EndpointSet& set) {
  if (set.prefixes.empty() || !set.macs.empty()) return 0;
  const uint8_t family = set.prefixes[0].family;
  for (const Prefix& prefix : set.prefixes) {
    if (prefix.family != family) return 0;
  }
  return family;
}

constexpr char kPortForm[] = "a port (0..65535) or a range of ports like 2379-2380";

bool HasPorts(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132; }

constexpr uint16_t kEtherTypeIpv4 = 0x0800, kEtherTypeIpv6 = 0x86dd;
// EtherType values from here up; below are 802.3 lengths.
constexpr uint64_t kMinEtherType = 0x0600;
// Tag protocol identifiers: `ethertype` is the type after the tags, so these never match there.
constexpr uint16_t kVlanTpids[] = {0x8100, 0x88a8, 0x9100};

constexpr uint32_t kMaxVlanId = 4095;
constexpr uint32_t kMaxDscp = 63;

std::string Lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The DSCP names of RFC 4594 and RFC 8622, any case: cs0..cs7, af11..af43, ef, le.
std::optional<uint32_t> DscpByName(const std::string& text) {
  const std::string name = Lowercase(text);
  if (name == "ef") return 46;
  if (name == "le") return 1;
  if (name.size() == 3 && name.starts_with("cs") && name[2] >= '0' && name[2] <= '7') {
    return 8 * (name[2] - '0');
  }
  if (name.size() == 4 && name.starts_with("af") && name[2] >= '1' && name[2] <= '4' &&
      name[3] >= '1' && name[3] <= '3') {
    return 8 * (name[2] - '0') + 2 * (name[3] - '0');
  }
  return std::nullopt;
}

// The keys of each loss model, to tell "belongs to another model" from "unknown".
struct LossModelKeys {
  LossModel model;
  std::initializer_list<std::string_view> keys;
};
const LossModelKeys kLossModelKeys[] = {
    {LossModel::kBernoulli, {"probability", "correlation"}},
    {LossModel::kGilbertElliott, {"p", "r", "loss-bad", "loss-good"}},
    {LossModel::kMarkov4, {"p13", "p31", "p32", "p23", "p14"}},
};

std::string LossModelName(LossModel model) {
  return std::string(kLossModelNames[static_cast<int>(model)]);
}

// Walks the YAML tree once, filling a ProfileSpec. Every check reports through Fail(), which keeps
// the first error only; the parse functions return false as soon as one fails, so nothing after
// the first problem runs.
class ProfileParser {
 public:
  ProfileParser(std::string name_for_errors, std::filesystem::path base_directory)
      : name_(std::move(name_for_errors)), base_directory_(std::move(base_directory)) {}

  std::optional<ProfileSpec> Parse(const std::string& text, std::string* error) {
    if (!Run([&] { return ParseDocument(text); }, error)) return std::nullopt;
    return std::move(profile_);
  }

  // A profile given as a YAML mapping inside another document (a trace's inline `profile:`).
  std::optional<ProfileSpec> ParseNode(const yaml::Node& root, std::string* error) {
    if (!Run([&] { return ParseRoot(root); }, error)) return std::nullopt;
    return std::move(profile_);
  }

  // Group names in endpoint references resolve against the context's groups (none without a
  // profile); its hint replaces "the profile defines no groups" in the error for an unknown name,
  // and its count (if any) is where the endpoints named are counted.
  void UseGroups(const GroupContext& context) {
    static const std::vector<GroupSpec> kNone;
    groups_ = context.profile != nullptr ? &context.profile->groups : &kNone;
    if (context.index == nullptr) context.index = IndexGroups(*groups_);
    group_index_ = context.index;
    no_groups_hint_ = context.no_groups_hint;
    if (context.endpoints != nullptr) endpoints_ = context.endpoints;
  }

  // One entry of `partitions:` on its own; named by `name:` or after what it cuts.
  std::optional<PartitionSpec> ParsePartitionEntry(const yaml::Node& item, std::string* error) {
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
  std::optional<EndpointSet> ParseEndpointReference(const yaml::Node& value,
                                                    const yaml::Node& position,
                                                    const std::string& key, std::string* label,
                                                    std::string* error) {
    EndpointSet endpoints;
    if (!Run([&] { return Endpoints(value, position, key, &endpoints, label); }, error)) {
      return std::nullopt;
    }
    return endpoints;
  }

 private:
  // Runs `parse`; false with *error set on failure.
  template <typename Parse>
  bool Run(Parse parse, std::string* error) {
    const bool ok = parse();
    if (!ok) *error = error_;
    return ok;
  }

  // Records `message` at `mark` unless an earlier error was recorded; returns false so that
  // callers can `return Fail(...)`.
  bool Fail(const yaml::Mark& mark, const std::string& message) {
    if (!error_.empty()) return false;
    error_ = yaml_source::PositionedError(name_, mark, message);
    return false;
  }
  bool Fail(const yaml::Node& node, const std::string& message) {
    return Fail(node.Mark(), message);
  }
  // An error already formatted "FILE:LINE:COL: message".
  bool Forward(const std::string& error) {
    if (error_.empty()) error_ = error;
    return false;
  }

  bool UnknownKey(const Entry& entry, const std::string& where,
                  std::initializer_list<std::string_view> known) {
    std::vector<std::string> names(known.begin(), known.end());
    return Fail(entry.key_node,
                "unknown key '" + entry.key + "' in " + where + " (known: " + Join(names) + ")");
  }

  // The entries of a map in file order. Fails on anything but a map (an empty value counts as an
  // empty map where `allow_empty`), on a key that is not a plain name and on a key given twice:
  // YAML readers differ on which one wins, and silently using one of them would hide a mistake.
  bool Entries(const yaml::Node& map, const yaml::Node& position, const std::string& what,
               bool allow_empty, std::vector<Entry>* entries) {
    const auto problem = yaml_source::MapEntries(map, position, what, allow_empty, entries);
    return !problem || Fail(problem->where, problem->message);
  }
  bool Entries(const Entry& entry, const std::string& what, bool allow_empty,
               std::vector<Entry>* entries) {
    return Entries(entry.value, At(entry), what, allow_empty, entries);
  }

  // Scalar values. Each reports "KEY: problem" at the value; YAML may give numbers as number or
  // string nodes, and both arrive here as the text the user wrote.
  bool Text(const Entry& entry, std::string* text) {
    if (!entry.value.IsScalar()) {
      return Fail(At(entry), entry.key + " needs a single value, not " + KindOf(entry.value));
    }
    *text = entry.value.Scalar();
    return true;
  }

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
  bool Probability(const Entry& entry, double* p) { return Unit(entry, ParseProbability, p); }
  bool Rate(const Entry& entry, uint64_t* bps) { return Unit(entry, ParseRate, bps); }
  bool SizeValue(const Entry& entry, Size* size) { return Unit(entry, ParseSize, size); }

  bool PositiveSize(const Entry& entry, Size* size) {
    if (!SizeValue(entry, size)) return false;
    if (size->value == 0) return Fail(entry.value, entry.key + " must be more than 0");
    return true;
  }

  // `value` (of `entry`) within [min, max], else "KEY: 'TEXT' is below (above) the limit of X"
  // with X as `format` spells it.
  template <typename Value, typename Format>
  bool Within(const Entry& entry, Value value, Value min, Value max, Format format) {
    if (value >= min && value <= max) return true;
    return Fail(entry.value, entry.key + ": '" + entry.value.Scalar() + "' is " +
                                 (value < min ? "below" : "above") + " the limit of " +
                                 format(value < min ? min : max));
  }
  bool BoundedDuration(const Entry& entry, uint64_t max, uint64_t* ns) {
    return Duration(entry, ns) && Within(entry, *ns, uint64_t{0}, max, FormatDuration);
  }
  // A positive size of at most `max_packets` packets or `max_bytes` bytes, as a limit.
  bool BoundedSize(const Entry& entry, uint64_t max_packets, uint64_t max_bytes, SizeLimit* limit) {
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

  bool Integer(const Entry& entry, uint64_t min, uint64_t max, uint64_t* out) {
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

  bool Bool(const Entry& entry, bool* out) {
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

  // One of `names`; *index is its position in the list.
  template <size_t N>
  bool Choice(const Entry& entry, const std::string_view (&names)[N], size_t* index) {
    std::string text;
    if (!Text(entry, &text)) return false;
    for (size_t i = 0; i < N; ++i) {
      if (text == names[i]) {
        *index = i;
        return true;
      }
    }
    return Fail(entry.value, entry.key + ": unknown value '" + text + "' (use " +
                                 Join(std::vector<std::string>(names, names + N), ", ") + ")");
  }

  bool ParseDocument(const std::string& text) {
    std::string error;
    const std::optional<yaml::Node> root =
        yaml_source::LoadSingleDocument(text, name_, "profile", "at least 'version: 1'", &error);
    return root ? ParseRoot(*root) : Forward(error);
  }

  bool ParseRoot(const yaml::Node& root) {
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
    const Entry* version = nullptr;
    for (const Entry& entry : entries) {
      if (entry.key == "version") version = &entry;
    }
    if (version == nullptr) return Fail(root, "missing 'version' (write 'version: 1' first)");
    std::string version_text;
    if (!Text(*version, &version_text)) return false;
    if (version_text != "1") {
      return Fail(version->value, "version: unsupported profile version '" + version_text +
                                      "' (this build reads version 1)");
    }
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

  // Groups may include other groups, defined anywhere in the map, so their members are read
  // first and expanded once every name is known: each group once, after the groups it includes.
  bool ParseGroups(const Entry& groups_entry) {
    std::vector<Entry> groups;
    if (!Entries(groups_entry, "groups", /*allow_empty=*/true, &groups)) return false;
    std::vector<std::vector<yaml::Node>> members(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
      const Entry& entry = groups[g];
      if (g == kMaxGroups) {
        return Fail(entry.key_node, "more than " + std::to_string(kMaxGroups) + " groups");
      }
      if (entry.key.empty()) return Fail(entry.key_node, "a group needs a name");
      if (Classify(entry.key) != Lookalike::kName) {
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

  static std::shared_ptr<const std::unordered_map<std::string, size_t>> IndexGroups(
      const std::vector<GroupSpec>& groups) {
    auto index = std::make_shared<std::unordered_map<std::string, size_t>>();
    for (size_t g = 0; g < groups.size(); ++g) index->emplace(groups[g].name, g);
    return index;
  }

  std::optional<size_t> GroupIndex(const std::string& name) const {
    if (group_index_ == nullptr) return std::nullopt;
    const auto found = group_index_->find(name);
    if (found == group_index_->end()) return std::nullopt;
    return found->second;
  }

  // Every group after the groups it includes (*order), or the first problem met walking them in
  // file order, depth first: a member that is neither a group nor an address, or a cycle. The
  // walk keeps its own stack, so groups nested 20,000 deep cannot overflow the thread's.
  bool OrderGroups(const std::vector<std::vector<yaml::Node>>& members,
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
  bool ExpandGroups(const std::vector<std::vector<yaml::Node>>& members,
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
  bool UnknownEndpoint(const yaml::Node& item, const std::string& where, const std::string& text,
                       const std::string& error) {
    if (Classify(text) != Lookalike::kName) return Fail(item, where + ": " + error);
    std::vector<std::string> names;
    for (const GroupSpec& group : *groups_) names.push_back(group.name);
    return Fail(item, where + ": '" + text +
                          "' is neither a group nor an address, prefix or MAC address (" +
                          (!names.empty()            ? "groups: " + JoinSome(names)
                           : no_groups_hint_.empty() ? "the profile defines no groups"
                                                     : no_groups_hint_) +
                          ")");
  }

  bool ParseImpairments(const Entry& impairments_entry) {
    std::vector<Entry> impairments;
    if (!Entries(impairments_entry, "impairments", /*allow_empty=*/true, &impairments)) {
      return false;
    }
    for (const Entry& entry : impairments) {
      if (profile_.impairments.size() == kMaxImpairments) {
        return Fail(entry.key_node,
                    "more than " + std::to_string(kMaxImpairments) + " impairments");
      }
      if (entry.key.empty()) return Fail(entry.key_node, "an impairment needs a name");
      ImpairmentSpec impairment;
      impairment.name = entry.key;
      const std::string what = "impairment '" + entry.key + "'";
      std::vector<Entry> effects;
      // `name:` with nothing (or {}) is an impairment without effects: it forwards untouched.
      if (!Entries(entry, what, /*allow_empty=*/true, &effects)) return false;
      for (const Entry& effect : effects) {
        bool ok = true;
        if (effect.key == "delay") {
          ok = ParseDelay(effect, &impairment.delay.emplace());
        } else if (effect.key == "loss") {
          ok = ParseLoss(effect, &impairment.loss.emplace());
        } else if (effect.key == "duplicate") {
          ok = ParseDuplicate(effect, &impairment.duplicate.emplace());
        } else if (effect.key == "reorder") {
          ok = ParseReorder(effect, &impairment.reorder.emplace());
        } else if (effect.key == "corrupt") {
          ok = ParseCorrupt(effect, &impairment.corrupt.emplace());
        } else if (effect.key == "rate") {
          ok = ParseRateEffect(effect, &impairment.rate.emplace());
        } else if (effect.key == "stall") {
          ok = ParseStall(effect, &impairment.stall.emplace());
        } else {
          ok = UnknownKey(effect, what,
                          {"delay", "loss", "duplicate", "reorder", "corrupt", "rate", "stall"});
        }
        if (!ok) return false;
      }
      profile_.impairments.push_back(std::move(impairment));
    }
    return true;
  }

  bool ParseDelay(const Entry& delay_entry, DelaySpec* delay) {
    std::vector<Entry> entries;
    if (!Entries(delay_entry, "delay", /*allow_empty=*/false, &entries)) return false;
    const Entry* shape = nullptr;  // the distribution or table entry
    std::string table;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "base") {
        ok = BoundedDuration(entry, kMaxDelayNs, &delay->base_ns);
      } else if (entry.key == "jitter") {
        ok = BoundedDuration(entry, kMaxDelayNs, &delay->jitter_ns);
      } else if (entry.key == "correlation") {
        ok = Probability(entry, &delay->correlation);
      } else if (entry.key == "distribution" || entry.key == "table") {
        if (shape != nullptr) {
          return Fail(entry.key_node, "give either distribution or table, not both");
        }
        shape = &entry;
        if (entry.key == "table") {
          ok = Text(entry, &table);
          if (ok && table.empty()) ok = Fail(At(entry), "table needs the path of a .dist file");
          delay->distribution = DistributionKind::kTable;
        } else {
          size_t index = 0;
          ok = Choice(entry, kDistributionNames, &index);
          delay->distribution = static_cast<DistributionKind>(index);
        }
      } else {
        ok = UnknownKey(entry, "delay", {"base", "jitter", "distribution", "table", "correlation"});
      }
      if (!ok) return false;
    }
    if (delay->distribution == DistributionKind::kUniform) return true;
    // Every shape but uniform is a table of multiples of the jitter: without one it is void.
    if (delay->jitter_ns == 0) {
      return Fail(shape->value,
                  shape->key + " '" + shape->value.Scalar() + "' needs a jitter greater than 0");
    }
    // Each table is made or read once per profile, however many impairments use it (a normal
    // table takes 400,000 erf() calls; a .dist file up to 16 MiB).
    std::string key = "generated " + std::to_string(static_cast<int>(delay->distribution));
    if (delay->distribution == DistributionKind::kTable) {
      std::filesystem::path path(table);
      if (path.is_relative()) path = base_directory_ / path;
      delay->table_path = path.string();
      key = "file " + delay->table_path;
    }
    auto cached = tables_.find(key);
    if (cached == tables_.end()) {
      std::vector<int16_t> values;
      if (delay->distribution != DistributionKind::kTable) {
        values = GenerateDistributionTable(delay->distribution);
      } else {
        std::string error;
        std::optional<std::vector<int16_t>> loaded =
            LoadDistributionTable(delay->table_path, &error);
        if (!loaded) return Fail(shape->value, "table: " + error);
        values = std::move(*loaded);
      }
      cached = tables_.emplace(key, std::move(values)).first;
    }
    table_values_ += cached->second.size();
    if (table_values_ > kMaxDelayTableValues) {
      return Fail(shape->value, "the delay tables of all impairments hold more than " +
                                    std::to_string(kMaxDelayTableValues) + " values");
    }
    delay->table = cached->second;
    return true;
  }

  bool ParseLoss(const Entry& loss_entry, LossSpec* loss) {
    std::vector<Entry> entries;
    if (!Entries(loss_entry, "loss", /*allow_empty=*/false, &entries)) return false;
    // The model decides which keys are valid, wherever it is written in the map.
    bool model_given = false;
    for (const Entry& entry : entries) {
      if (entry.key != "model") continue;
      size_t index = 0;
      if (!Choice(entry, kLossModelNames, &index)) return false;
      loss->model = static_cast<LossModel>(index);
      model_given = true;
    }
    const std::string model_name = LossModelName(loss->model);
    std::map<std::string, const Entry*> given;
    for (const Entry& entry : entries) {
      if (entry.key == "model") continue;
      if (entry.key == "max-size") {
        Size size;
        if (!PositiveSize(entry, &size)) return false;
        if (size.packets || size.value > UINT32_MAX) {
          return Fail(entry.value, "max-size must be a frame size in bytes, like 1500B");
        }
        loss->max_size = static_cast<uint32_t>(size.value);
        continue;
      }
      const LossModelKeys* owner = nullptr;
      for (const LossModelKeys& model : kLossModelKeys) {
        if (Contains(model.keys, entry.key)) owner = &model;
      }
      if (owner == nullptr) {
        return UnknownKey(entry, "loss",
                          {"model", "probability", "correlation", "p", "r", "loss-bad", "loss-good",
                           "p13", "p31", "p32", "p23", "p14", "max-size"});
      }
      if (owner->model != loss->model) {
        return Fail(
            entry.key_node,
            "'" + entry.key + "' belongs to the " + LossModelName(owner->model) +
                " loss model, but this loss is " + model_name +
                (model_given ? ""
                             : " (the default; set model: " + LossModelName(owner->model) + ")"));
      }
      double* field = entry.key == "probability"   ? &loss->probability
                      : entry.key == "correlation" ? &loss->correlation
                      : entry.key == "p"           ? &loss->p
                      : entry.key == "r"           ? &loss->r
                      : entry.key == "loss-bad"    ? &loss->loss_bad
                      : entry.key == "loss-good"   ? &loss->loss_good
                      : entry.key == "p13"         ? &loss->p13
                      : entry.key == "p31"         ? &loss->p31
                      : entry.key == "p32"         ? &loss->p32
                      : entry.key == "p23"         ? &loss->p23
                                                   : &loss->p14;
      if (!Probability(entry, field)) return false;
      given[entry.key] = &entry;
    }
    // Where to point for a problem with a key's value; the loss map when the key is absent.
    auto at = [&](const char* key) -> const yaml::Node& {
      return given.count(key) ? given[key]->value : loss_entry.value;
    };
    auto require = [&](const char* key) {
      if (given.count(key)) return true;
      return Fail(loss_entry.value,
                  "the " + model_name + " loss model needs '" + std::string(key) + "'");
    };
    switch (loss->model) {
      case LossModel::kBernoulli:
        return require("probability");
      case LossModel::kGilbertElliott:
        // tc's gemodel defaults: r = 1 - p, all loss in the bad state, none in the good one.
        if (!require("p")) return false;
        if (!given.count("r")) loss->r = 1 - loss->p;
        if (!given.count("loss-bad")) loss->loss_bad = 1;
        if (!given.count("loss-good")) loss->loss_good = 0;
        return true;
      case LossModel::kMarkov4: {
        // tc's `loss state` defaults.
        if (!require("p13")) return false;
        if (!given.count("p31")) loss->p31 = 1 - loss->p13;
        if (!given.count("p32")) loss->p32 = 0;
        if (!given.count("p23")) loss->p23 = 1;
        if (!given.count("p14")) loss->p14 = 0;
        // The chances of leaving a state cannot add up to more than 1. With p14 and p32 at their
        // default of 0 the sums cannot exceed 1, so when they do, p14 or p32 was given: point
        // there.
        if (loss->p13 + loss->p14 > 1 + kProbabilityEpsilon) {
          return Fail(at("p14"),
                      "markov4: p13 + p14 = " + FormatProbability(loss->p13 + loss->p14) +
                          " is more than 100% (they leave state 1)");
        }
        if (loss->p31 + loss->p32 > 1 + kProbabilityEpsilon) {
          return Fail(at("p32"),
                      "markov4: p31 + p32 = " + FormatProbability(loss->p31 + loss->p32) +
                          " is more than 100% (they leave state 3)" +
                          (given.count("p31") ? "" : "; p31 defaults to 1 - p13, give it"));
        }
        return true;
      }
    }
    return true;
  }

  bool ParseDuplicate(const Entry& duplicate_entry, DuplicateSpec* duplicate) {
    std::vector<Entry> entries;
    if (!Entries(duplicate_entry, "duplicate", /*allow_empty=*/false, &entries)) return false;
    bool has_probability = false;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "probability") {
        ok = Probability(entry, &duplicate->probability);
        has_probability = true;
      } else if (entry.key == "correlation") {
        ok = Probability(entry, &duplicate->correlation);
      } else {
        ok = UnknownKey(entry, "duplicate", {"probability", "correlation"});
      }
      if (!ok) return false;
    }
    if (!has_probability) return Fail(duplicate_entry.value, "duplicate needs 'probability'");
    return true;
  }

  bool ParseReorder(const Entry& reorder_entry, ReorderSpec* reorder) {
    std::vector<Entry> entries;
    // Every key is optional: `reorder: {}` lets jitter reorder the flow (netem's behaviour) and
    // `reorder: {max-displacement: 4}` lets it reorder by at most 4 places.
    if (!Entries(reorder_entry, "reorder", /*allow_empty=*/true, &entries)) return false;
    for (const Entry& entry : entries) {
      bool ok = true;
      uint64_t number = 0;
      if (entry.key == "probability") {
        ok = Probability(entry, &reorder->probability);
      } else if (entry.key == "correlation") {
        ok = Probability(entry, &reorder->correlation);
      } else if (entry.key == "gap") {
        ok = Integer(entry, 1, UINT32_MAX, &number);
        reorder->gap = static_cast<uint32_t>(number);
      } else if (entry.key == "max-displacement") {
        ok = Integer(entry, 0, kMaxReorderDisplacement, &number);
        reorder->max_displacement = static_cast<uint32_t>(number);
      } else {
        ok =
            UnknownKey(entry, "reorder", {"probability", "correlation", "gap", "max-displacement"});
      }
      if (!ok) return false;
    }
    return true;
  }

  bool ParseCorrupt(const Entry& corrupt_entry, CorruptSpec* corrupt) {
    std::vector<Entry> entries;
    if (!Entries(corrupt_entry, "corrupt", /*allow_empty=*/false, &entries)) return false;
    const Entry* probability = nullptr;
    const Entry* ber = nullptr;
    const Entry* correlation = nullptr;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "probability" || entry.key == "ber") {
        if (probability != nullptr || ber != nullptr) {
          return Fail(entry.key_node, "give either probability or ber, not both");
        }
        if (entry.key == "probability") {
          probability = &entry;
          ok = Probability(entry, &corrupt->probability);
        } else {
          ber = &entry;
          ok = Probability(entry, &corrupt->ber);
          if (ok && corrupt->ber > kMaxBitErrorRate) {
            // Beyond 1% a frame is noise, and the per-bit draw would dominate the fast path.
            ok = Fail(entry.value, "ber: '" + entry.value.Scalar() + "' is above the maximum " +
                                       "bit error rate of 0.01");
          }
          if (ok && corrupt->ber > 0 && corrupt->ber < kMinBitErrorRate) {
            // The distance to the next error, in bits, must fit 64 bits (and one error per
            // 10^15 bits is a day of 10 Gbit/s).
            ok = Fail(entry.value, "ber: '" + entry.value.Scalar() + "' is below the minimum " +
                                       "bit error rate of 1e-15 (0 for none)");
          }
        }
      } else if (entry.key == "correlation") {
        correlation = &entry;
        ok = Probability(entry, &corrupt->correlation);
      } else if (entry.key == "fix-checksums") {
        ok = Bool(entry, &corrupt->fix_checksums);
      } else {
        ok = UnknownKey(entry, "corrupt", {"probability", "correlation", "ber", "fix-checksums"});
      }
      if (!ok) return false;
    }
    if (probability == nullptr && ber == nullptr) {
      return Fail(corrupt_entry.value, "corrupt needs 'probability' or 'ber'");
    }
    if (ber != nullptr && correlation != nullptr) {
      // Correlation links successive per-frame draws; ber draws per bit, so it would mean nothing.
      return Fail(correlation->key_node, "correlation applies to probability, not to ber");
    }
    return true;
  }

  // A queue limit: one size, or a list of one packet count and one byte size (both apply).
  bool ParseLimit(const Entry& entry, SizeLimit* limit) {
    if (!entry.value.IsSequence()) {
      return BoundedSize(entry, kMaxQueuePackets, kMaxQueueBytes, limit);
    }
    const std::string shape =
        entry.key + " as a list needs one packet count and one byte size, like [1000pkt, 1MB]";
    if (entry.value.size() != 2) return Fail(entry.value, shape);
    *limit = SizeLimit{};
    for (const yaml::Node& item : entry.value) {
      SizeLimit one;
      if (!BoundedSize(Entry{entry.key, entry.key_node, item}, kMaxQueuePackets, kMaxQueueBytes,
                       &one)) {
        return false;
      }
      uint64_t& slot = one.packets ? limit->packets : limit->bytes;
      if (slot != 0) return Fail(item, shape);
      slot = one.packets ? one.packets : one.bytes;
    }
    return true;
  }

  bool ParseRateEffect(const Entry& rate_entry, RateSpec* rate) {
    std::vector<Entry> entries;
    if (!Entries(rate_entry, "rate", /*allow_empty=*/false, &entries)) return false;
    bool has_bandwidth = false, has_queue_limit = false;
    const Entry* ecn = nullptr;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "bandwidth") {
        ok = Rate(entry, &rate->bandwidth_bps);
        if (ok && rate->bandwidth_bps == 0) ok = Fail(entry.value, "bandwidth must be more than 0");
        ok = ok &&
             Within(entry, rate->bandwidth_bps, kMinBandwidthBps, kMaxBandwidthBps, FormatRate);
        has_bandwidth = true;
      } else if (entry.key == "overhead") {
        ok = ParseOverhead(entry, &rate->overhead_bytes);
      } else if (entry.key == "queue-limit") {
        ok = ParseLimit(entry, &rate->queue_limit);
        has_queue_limit = true;
      } else if (entry.key == "ecn-threshold") {
        ok = BoundedSize(entry, kMaxQueuePackets, kMaxQueueBytes, &rate->ecn_threshold);
        ecn = &entry;
      } else {
        ok = UnknownKey(entry, "rate", {"bandwidth", "overhead", "queue-limit", "ecn-threshold"});
      }
      if (!ok) return false;
    }
    if (!has_bandwidth) return Fail(rate_entry.value, "rate needs 'bandwidth'");
    if (!has_queue_limit) rate->queue_limit.packets = kDefaultQueueLimitPackets;
    // Marking only makes sense while the queue can still grow past the mark; a limit of the other
    // kind (or none of this kind) cannot be compared, and does not stop the queue reaching it.
    if (ecn != nullptr) {
      const SizeLimit& mark = rate->ecn_threshold;
      const SizeLimit& limit = rate->queue_limit;
      const bool packets = mark.packets != 0;
      const uint64_t threshold = packets ? mark.packets : mark.bytes;
      const uint64_t bound = packets ? limit.packets : limit.bytes;
      if (bound != 0 && threshold >= bound) {
        return Fail(ecn->value, "ecn-threshold " + FormatSize({threshold, packets}) +
                                    " must be below the queue limit of " +
                                    FormatSize({bound, packets}) +
                                    (has_queue_limit ? "" : " (the default)"));
      }
    }
    return true;
  }

  // "20B", "-4B": bytes added to (or taken from) every frame's length on the link.
  bool ParseOverhead(const Entry& entry, int32_t* overhead) {
    std::string text, error;
    if (!Text(entry, &text)) return false;
    const bool negative = !text.empty() && text[0] == '-';
    const std::string magnitude = negative ? text.substr(1) : text;
    const std::optional<Size> size = ParseSize(magnitude, &error);
    if (!size) {
      // ParseSize's errors start by quoting what it was given; quote the sign too.
      if (negative) error = "'" + text + "'" + error.substr(magnitude.size() + 2);
      return Fail(entry.value, "overhead: " + error);
    }
    const int64_t bytes = size->value > 1'000'000 ? INT64_MAX : static_cast<int64_t>(size->value);
    const int64_t signed_bytes = negative ? -bytes : bytes;
    if (size->packets || signed_bytes < kMinOverheadBytes || signed_bytes > kMaxOverheadBytes) {
      return Fail(entry.value, "overhead: '" + text + "' must be bytes from " +
                                   std::to_string(kMinOverheadBytes) + "B to " +
                                   std::to_string(kMaxOverheadBytes) + "B");
    }
    *overhead = static_cast<int32_t>(signed_bytes);
    return true;
  }

  bool ParseStall(const Entry& stall_entry, StallSpec* stall) {
    std::vector<Entry> entries;
    if (!Entries(stall_entry, "stall", /*allow_empty=*/false, &entries)) return false;
    const Entry* for_entry = nullptr;
    const Entry* every = nullptr;
    bool has_limit = false;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "for") {
        ok = BoundedDuration(entry, kMaxStallNs, &stall->duration_ns);
        if (ok && stall->duration_ns == 0) ok = Fail(entry.value, "for must be more than 0s");
        for_entry = &entry;
      } else if (entry.key == "start") {
        ok = BoundedDuration(entry, kMaxStallPeriodNs, &stall->start_ns);
      } else if (entry.key == "every") {
        ok = BoundedDuration(entry, kMaxStallPeriodNs, &stall->every_ns);
        every = &entry;
      } else if (entry.key == "limit") {
        ok = BoundedSize(entry, kMaxStallLimitPackets, kMaxStallLimitBytes, &stall->limit);
        has_limit = true;
      } else {
        ok = UnknownKey(entry, "stall", {"for", "start", "every", "limit"});
      }
      if (!ok) return false;
    }
    if (for_entry == nullptr) return Fail(stall_entry.value, "stall needs 'for' (how long)");
    // A period no longer than the stall itself would never let a frame through.
    if (every != nullptr && stall->every_ns <= stall->duration_ns) {
      return Fail(every->value, "every (" + FormatDuration(stall->every_ns) +
                                    ") must be longer than for (" +
                                    FormatDuration(stall->duration_ns) + ")");
    }
    if (!has_limit) stall->limit.packets = kDefaultStallLimitPackets;
    return true;
  }

  bool ParseRules(const Entry& rules_entry) {
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

  bool ParsePartitions(const Entry& partitions_entry) {
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
  static std::string_view PartitionForm(const std::string& key) {
    if (key == "from" || key == "to") return "from/to";
    if (key == "shape" || key == "nodes") return "shape/nodes";
    if (key == "between") return "between";
    if (key == "isolate") return "isolate";
    return "";
  }

  // One entry of `partitions:`. `cuts_before` counts the cuts of the entries before it (for the
  // dataplane's limit); `named` the names given so far. Without `name:`, partition->name stays
  // empty and `label` says what the entry cuts.
  bool ParsePartition(const yaml::Node& item, size_t cuts_before, std::map<std::string, int>* named,
                      PartitionSpec* partition, std::string* label) {
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
    if (first->key == "isolate") {
      EndpointSet node;
      if (!Endpoints(first->value, At(*first), first->key, &node, label)) return false;
      if (!CutsFit(*first, cuts_before, 2) || !CountHeld(At(*first), 4 * EndpointCount(node))) {
        return false;
      }
      partition->cuts = {
          PartitionCut{.from = node, .to = node, .from_complement = false, .to_complement = true},
          PartitionCut{.from = node, .to = node, .from_complement = true, .to_complement = false}};
      *label = "isolate " + *label;
      return true;
    }
    // between: every ordered pair of its items.
    std::vector<EndpointSet> sides;
    std::vector<std::string> names;
    if (!Nodes(*first, 2, "endpoints", &sides, &names)) return false;
    const uint64_t count = static_cast<uint64_t>(sides.size()) * (sides.size() - 1);
    if (!CutsFit(*first, cuts_before, count)) return false;
    size_t endpoints = 0;  // each side is in 2 (n - 1) cuts
    for (const EndpointSet& side : sides) endpoints += 2 * (sides.size() - 1) * EndpointCount(side);
    if (!CountHeld(At(*first), endpoints)) return false;
    for (size_t i = 0; i < sides.size(); ++i) {
      for (size_t j = 0; j < sides.size(); ++j) {
        if (i != j) partition->cuts.push_back(PartitionCut{.from = sides[i], .to = sides[j]});
      }
    }
    *label = sides.size() == 2 ? names[0] + " <-> " + names[1] : "between " + Join(names);
    return true;
  }

  bool FromTo(const std::map<std::string, const Entry*>& form, size_t cuts_before,
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

  bool Shape(const std::map<std::string, const Entry*>& form, size_t cuts_before,
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
  bool Nodes(const Entry& entry, size_t minimum, const std::string& what,
             std::vector<EndpointSet>* nodes, std::vector<std::string>* names) {
    if (!entry.value.IsSequence()) {
      return Fail(At(entry), entry.key + " needs a list of at least " + std::to_string(minimum) +
                                 " " + what + ", like [rack-a, rack-b], not " +
                                 KindOf(entry.value));
    }
    if (entry.value.size() < minimum) {
      return Fail(entry.value, entry.key + " needs at least " + std::to_string(minimum) + " " +
                                   what + ", not " + std::to_string(entry.value.size()));
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
  bool CutsFit(const Entry& entry, size_t cuts_before, uint64_t count) {
    if (cuts_before + count <= kMaxPartitionCuts) return true;
    return Fail(At(entry), "this partition needs " + std::to_string(count) + " cuts, " +
                               std::to_string(cuts_before + count) +
                               " in all partitions; the dataplane holds at most " +
                               std::to_string(kMaxPartitionCuts) +
                               " (between and shapes cut each ordered pair of their items)");
  }

  bool ResolveImpairment(const Entry& entry, size_t* index) {
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

  bool ParseMatch(const Entry& match_entry, MatchSpec* match) {
    std::vector<Entry> entries;
    if (!Entries(match_entry, "match", /*allow_empty=*/false, &entries)) return false;
    std::map<std::string, const Entry*> given;
    for (const Entry& entry : entries) {
      bool ok = true;
      std::string label;  // for partition names only
      ValueRange ports;
      if (entry.key == "direction") {
        size_t index = 0;
        ok = Choice(entry, kDirectionNames, &index);
        match->direction = static_cast<Direction>(index);
      } else if (entry.key == "src" || entry.key == "dst") {
        ok = Endpoints(entry.value, At(entry), entry.key,
                       entry.key == "src" ? &match->src : &match->dst, &label);
      } else if (entry.key == "proto") {
        ok = ParseProto(entry, &match->proto);
      } else if (entry.key == "src-port") {
        ok = Range(entry, 65535, kPortForm, nullptr, &ports);
        match->src_port_min = static_cast<uint16_t>(ports.min);
        match->src_port_max = static_cast<uint16_t>(ports.max);
        match->has_src_port = true;
      } else if (entry.key == "dst-port") {
        ok = Range(entry, 65535, kPortForm, nullptr, &ports);
        match->dst_port_min = static_cast<uint16_t>(ports.min);
        match->dst_port_max = static_cast<uint16_t>(ports.max);
        match->has_dst_port = true;
      } else if (entry.key == "vlan") {
        ok = Range(entry, kMaxVlanId, "a VLAN ID (0..4095) or a range of them like 100-200",
                   nullptr, &match->vlan.emplace());
      } else if (entry.key == "dscp") {
        ok = Range(entry, kMaxDscp,
                   "a DSCP value (0..63 or a name: cs0..cs7, af11..af43, ef, le) or a range of "
                   "them like af11-af13",
                   DscpByName, &match->dscp.emplace());
      } else if (entry.key == "src-mac") {
        ok = Macs(entry, &match->src_mac);
      } else if (entry.key == "dst-mac") {
        ok = Macs(entry, &match->dst_mac);
      } else if (entry.key == "ethertype") {
        ok = ParseEtherType(entry, &match->ether_type);
      } else {
        ok = UnknownKey(entry, "match",
                        {"direction", "src", "dst", "proto", "src-port", "dst-port", "vlan", "dscp",
                         "src-mac", "dst-mac", "ethertype"});
      }
      if (!ok) return false;
      given[entry.key] = &entry;
    }
    return CanMatch(*match, given);
  }

  // A rule no frame can satisfy is a mistake: say which keys contradict each other rather than
  // install a dead rule. `given` holds the match's entries by key.
  bool CanMatch(const MatchSpec& match, const std::map<std::string, const Entry*>& given) {
    // Ports only exist in TCP, UDP and SCTP.
    for (const std::string port : {"src-port", "dst-port"}) {
      if (given.count(port) && match.proto && !HasPorts(*match.proto)) {
        return Fail(given.at(port)->key_node, port + " needs proto tcp, udp or sctp, not '" +
                                                  given.at("proto")->value.Scalar() + "'");
      }
    }
    const std::pair<const char*, const EndpointSet*> sides[] = {{"src", &match.src},
                                                                {"dst", &match.dst}};
    if (match.ether_type) {
      const std::string ether = "ethertype '" + given.at("ethertype")->value.Scalar() + "'";
      const bool ip = *match.ether_type == kEtherTypeIpv4 || *match.ether_type == kEtherTypeIpv6;
      for (const std::string key : {"proto", "src-port", "dst-port", "dscp"}) {
        if (!ip && given.count(key)) {
          return Fail(given.at(key)->key_node,
                      key + " needs an IP ethertype (ipv4 or ipv6), not " + ether);
        }
      }
      for (const auto& [side, set] : sides) {
        const int family = OnlyFamily(*set);
        const yaml::Node& at = given.count(side) ? At(*given.at(side)) : yaml::Node();
        if (!ip && family != 0) {
          return Fail(at, std::string(side) + " has only IP addresses, which frames of " + ether +
                              " do not carry (give MAC addresses, or leave out ethertype)");
        }
        const int wanted = *match.ether_type == kEtherTypeIpv4 ? 4 : 6;
        if (ip && family != 0 && family != wanted) {
          return Fail(at, std::string(side) + " has only IPv" + std::to_string(family) +
                              " prefixes, which never match " + ether);
        }
      }
    }
    const int src_family = OnlyFamily(match.src), dst_family = OnlyFamily(match.dst);
    if (src_family != 0 && dst_family != 0 && src_family != dst_family) {
      return Fail(At(*given.at("dst")),
                  "dst has only IPv" + std::to_string(dst_family) + " prefixes and src only IPv" +
                      std::to_string(src_family) + " ones: no frame has both");
    }
    // A side of only MACs must share one with the same side's MAC list.
    const std::pair<const char*, const std::vector<MacAddress>*> mac_lists[] = {
        {"src-mac", &match.src_mac}, {"dst-mac", &match.dst_mac}};
    for (size_t s = 0; s < 2; ++s) {
      const EndpointSet& set = *sides[s].second;
      const std::vector<MacAddress>& macs = *mac_lists[s].second;
      if (!set.prefixes.empty() || set.macs.empty() || macs.empty()) continue;
      const bool shared = std::any_of(macs.begin(), macs.end(), [&](const MacAddress& mac) {
        return std::find(set.macs.begin(), set.macs.end(), mac) != set.macs.end();
      });
      if (!shared) {
        return Fail(given.at(mac_lists[s].first)->value,
                    std::string(mac_lists[s].first) + " shares no address with " + sides[s].first +
                        ", which has only MAC addresses: no frame matches both");
      }
    }
    return true;
  }

  // A group name, an address, a prefix or a MAC address, or a list of them, as EndpointSet
  // (groups expanded, repeats dropped). `label` gets the text as written, list items joined
  // by '+' ("rack-a", "n1+n2"), for the names of partitions.
  bool Endpoints(const yaml::Node& value, const yaml::Node& position, const std::string& key,
                 EndpointSet* endpoints, std::string* label) {
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
  bool CountNamed(const yaml::Node& item, size_t count) {
    endpoints_->named += count;
    if (endpoints_->named <= kMaxMatchEndpoints) return true;
    return Fail(item, "more than " + std::to_string(kMaxMatchEndpoints) +
                          " endpoints named in rules and partitions (a group counts as many as it "
                          "holds, each time it is named)");
  }

  // Counts `count` more endpoints held by a rule's src and dst or a partition's cuts (at
  // `where`) against kMaxMatchEndpoints.
  bool CountHeld(const yaml::Node& where, size_t count) {
    endpoints_->held += count;
    if (endpoints_->held <= kMaxMatchEndpoints) return true;
    return Fail(where, "the rules and partitions hold more than " +
                           std::to_string(kMaxMatchEndpoints) +
                           " endpoints (every cut holds both its sides, and between and shapes "
                           "cut each ordered pair of their items)");
  }

  // `src-mac: aa:bb:cc:dd:ee:ff` or a list of MAC addresses.
  bool Macs(const Entry& entry, std::vector<MacAddress>* macs) {
    std::vector<yaml::Node> items;
    if (!ScalarOrList(entry.value, &items)) {
      return Fail(At(entry),
                  entry.key + " needs a MAC address or a list of them, not " + KindOf(entry.value));
    }
    if (items.empty()) return Fail(entry.value, entry.key + " is an empty list");
    for (const yaml::Node& item : items) {
      if (!item.IsScalar()) {
        return Fail(item, entry.key + ": expected a MAC address, not " + KindOf(item));
      }
      const std::optional<MacAddress> mac = ParseMac(item.Scalar());
      if (!mac) {
        const bool group = GroupIndex(item.Scalar()).has_value();
        return Fail(item, entry.key + ": '" + item.Scalar() + "' is not a MAC address (" +
                              kMacForm + ")" +
                              (group ? "; it is a group: match groups with src or dst" : ""));
      }
      if (std::find(macs->begin(), macs->end(), *mac) == macs->end()) macs->push_back(*mac);
    }
    return true;
  }

  // A name (ipv4, arp, ...), a number, or hex like 0x88b5: the type after any VLAN tags.
  bool ParseEtherType(const Entry& entry, std::optional<uint16_t>* ether_type) {
    std::string text;
    if (!Text(entry, &text)) return false;
    const std::string lower = Lowercase(text);
    for (const EtherTypeName& known : kEtherTypes) {
      if (lower == known.name) {
        *ether_type = known.number;
        return true;
      }
    }
    std::optional<uint64_t> number;
    if (lower.starts_with("0x")) {
      const std::string digits = lower.substr(2);
      if (!digits.empty() && digits.size() <= 4 &&
          digits.find_first_not_of("0123456789abcdef") == std::string::npos) {
        number = std::stoul(digits, nullptr, 16);
      }
    } else {
      number = ParseUnsigned(text);
    }
    if (!number || *number > 0xffff) {
      std::vector<std::string> names;
      for (const EtherTypeName& known : kEtherTypes) names.emplace_back(known.name);
      return Fail(entry.value, "ethertype: unknown EtherType '" + text + "' (use " + Join(names) +
                                   ", or a number like 0x88b5)");
    }
    if (*number < kMinEtherType) {
      return Fail(entry.value, "ethertype: '" + text +
                                   "' is below 0x0600, where the field holds an 802.3 frame "
                                   "length, not a type");
    }
    for (uint16_t tpid : kVlanTpids) {
      if (*number == tpid) {
        return Fail(entry.value, "ethertype: '" + text +
                                     "' is a VLAN tag; ethertype is the type after any tags "
                                     "(match tags with vlan)");
      }
    }
    *ether_type = static_cast<uint16_t>(*number);
    return true;
  }

  bool ParseProto(const Entry& entry, std::optional<uint8_t>* proto) {
    std::string text;
    if (!Text(entry, &text)) return false;
    for (const ProtocolName& known : kProtocols) {
      if (text == known.name) {
        *proto = known.number;
        return true;
      }
    }
    const std::optional<uint64_t> number = ParseUnsigned(text);
    if (!number || *number > 255) {
      return Fail(entry.value, "proto: unknown protocol '" + text +
                                   "' (use tcp, udp, icmp, icmpv6, sctp or a number 0..255)");
    }
    *proto = static_cast<uint8_t>(*number);
    return true;
  }

  // "80" or "2379-2380": one value or an inclusive range, each a number up to `max` or, where
  // `by_name` knows it, a name. `expected` says what is accepted.
  bool Range(const Entry& entry, uint32_t max, const std::string& expected,
             std::optional<uint32_t> (*by_name)(const std::string&), ValueRange* range) {
    std::string text;
    if (!Text(entry, &text)) return false;
    auto value = [&](const std::string& part) -> std::optional<uint32_t> {
      if (by_name != nullptr) {
        if (const std::optional<uint32_t> named = by_name(part)) return named;
      }
      const std::optional<uint64_t> number = ParseUnsigned(part);
      if (!number || *number > max) return std::nullopt;
      return static_cast<uint32_t>(*number);
    };
    const size_t dash = text.find('-');
    const std::optional<uint32_t> low = value(text.substr(0, dash));
    const std::optional<uint32_t> high =
        dash == std::string::npos ? low : value(text.substr(dash + 1));
    if (!low || !high) return Fail(entry.value, entry.key + ": '" + text + "' is not " + expected);
    if (*low > *high) {
      return Fail(entry.value, entry.key + ": the range '" + text + "' runs backwards");
    }
    *range = ValueRange{.min = *low, .max = *high};
    return true;
  }

  std::string name_;
  std::filesystem::path base_directory_;
  std::string error_;
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

// --- DescribeProfile ---

std::string DescribeLimit(const SizeLimit& limit) {
  if (limit.packets && limit.bytes) {
    return "[" + FormatSize({limit.packets, true}) + ", " + FormatSize({limit.bytes, false}) + "]";
  }
  return limit.packets ? FormatSize({limit.packets, true}) : FormatSize({limit.bytes, false});
}

std::string DescribeEndpoints(const EndpointSet& endpoints) {
  constexpr size_t kShown = 4;
  std::vector<std::string> all;
  for (const Prefix& prefix : endpoints.prefixes) all.push_back(FormatPrefix(prefix));
  for (const MacAddress& mac : endpoints.macs) all.push_back(FormatMac(mac));
  if (all.size() > kShown) {
    const size_t more = all.size() - kShown;
    all.resize(kShown);
    all.push_back("+" + std::to_string(more));
  }
  return Join(all, " ");
}

std::string DescribeMacs(const std::vector<MacAddress>& macs) {
  return DescribeEndpoints(EndpointSet{.prefixes = {}, .macs = macs});
}

std::string DescribeRange(const ValueRange& range) {
  return range.min == range.max ? std::to_string(range.min)
                                : std::to_string(range.min) + "-" + std::to_string(range.max);
}

std::string DescribeMatch(const MatchSpec& match) {
  std::vector<std::string> parts = {
      std::string(kDirectionNames[static_cast<int>(match.direction)])};
  if (!match.src.empty()) parts.push_back("src " + DescribeEndpoints(match.src));
  if (!match.dst.empty()) parts.push_back("dst " + DescribeEndpoints(match.dst));
  if (!match.src_mac.empty()) parts.push_back("src-mac " + DescribeMacs(match.src_mac));
  if (!match.dst_mac.empty()) parts.push_back("dst-mac " + DescribeMacs(match.dst_mac));
  if (match.vlan) parts.push_back("vlan " + DescribeRange(*match.vlan));
  if (match.ether_type) {
    std::string name = "ethertype " + Hex16(*match.ether_type);
    for (const EtherTypeName& known : kEtherTypes) {
      if (known.number == *match.ether_type) name = "ethertype " + std::string(known.name);
    }
    parts.push_back(name);
  }
  if (match.proto) {
    std::string name = "proto " + std::to_string(*match.proto);
    for (const ProtocolName& known : kProtocols) {
      if (known.number == *match.proto) name = std::string(known.name);
    }
    parts.push_back(name);
  }
  if (match.has_src_port) {
    parts.push_back("src-port " + DescribeRange({match.src_port_min, match.src_port_max}));
  }
  if (match.has_dst_port) {
    parts.push_back("dst-port " + DescribeRange({match.dst_port_min, match.dst_port_max}));
  }
  if (match.dscp) {
    const std::string name = DscpName(match.dscp->min);
    parts.push_back("dscp " + DescribeRange(*match.dscp) +
                    (match.dscp->min == match.dscp->max && !name.empty() ? " (" + name + ")" : ""));
  }
  if (parts.size() == 1) parts.push_back("any frame");
  return Join(parts);
}

std::string Correlated(double correlation) {
  return correlation > 0 ? " correlation " + FormatProbability(correlation) : "";
}

std::string DescribeImpairment(const ImpairmentSpec& impairment) {
  std::vector<std::string> effects;
  if (const auto& delay = impairment.delay) {
    std::string text = "delay " + FormatDuration(delay->base_ns);
    if (delay->jitter_ns > 0) {
      text += " jitter " + FormatDuration(delay->jitter_ns) + " ";
      text += delay->distribution == DistributionKind::kTable
                  ? "table " + delay->table_path
                  : std::string(kDistributionNames[static_cast<int>(delay->distribution)]);
    }
    effects.push_back(text + Correlated(delay->correlation));
  }
  if (const auto& loss = impairment.loss) {
    std::string text = "loss ";
    switch (loss->model) {
      case LossModel::kBernoulli:
        text += FormatProbability(loss->probability) + Correlated(loss->correlation);
        break;
      case LossModel::kGilbertElliott:
        text += "gilbert-elliott p " + FormatProbability(loss->p) + " r " +
                FormatProbability(loss->r) + " loss-bad " + FormatProbability(loss->loss_bad) +
                " loss-good " + FormatProbability(loss->loss_good);
        break;
      case LossModel::kMarkov4:
        text += "markov4 p13 " + FormatProbability(loss->p13) + " p31 " +
                FormatProbability(loss->p31) + " p32 " + FormatProbability(loss->p32) + " p23 " +
                FormatProbability(loss->p23) + " p14 " + FormatProbability(loss->p14);
        break;
    }
    if (loss->max_size > 0) text += " max-size " + FormatSize({loss->max_size, false});
    effects.push_back(text);
  }
  if (const auto& duplicate = impairment.duplicate) {
    effects.push_back("duplicate " + FormatProbability(duplicate->probability) +
                      Correlated(duplicate->correlation));
  }
  if (const auto& reorder = impairment.reorder) {
    std::string text = "reorder " + FormatProbability(reorder->probability);
    if (reorder->gap != 1) text += " gap " + std::to_string(reorder->gap);
    if (reorder->max_displacement > 0) {
      text += " max-displacement " + std::to_string(reorder->max_displacement);
    }
    effects.push_back(text + Correlated(reorder->correlation));
  }
  if (const auto& corrupt = impairment.corrupt) {
    std::string text = corrupt->ber > 0 ? "corrupt ber " + FormatProbability(corrupt->ber)
                                        : "corrupt " + FormatProbability(corrupt->probability) +
                                              Correlated(corrupt->correlation);
    if (corrupt->fix_checksums) text += " fix-checksums";
    effects.push_back(text);
  }
  if (const auto& rate = impairment.rate) {
    std::string text = "rate " + FormatRate(rate->bandwidth_bps);
    if (rate->overhead_bytes != 0)
      text += " overhead " + std::to_string(rate->overhead_bytes) + "B";
    text += " queue-limit " + DescribeLimit(rate->queue_limit);
    if (rate->ecn_threshold.Set()) text += " ecn-threshold " + DescribeLimit(rate->ecn_threshold);
    effects.push_back(text);
  }
  if (const auto& stall = impairment.stall) {
    std::string text = "stall " + FormatDuration(stall->duration_ns);
    if (stall->start_ns > 0) text += " start " + FormatDuration(stall->start_ns);
    if (stall->every_ns > 0) text += " every " + FormatDuration(stall->every_ns);
    effects.push_back(text + " limit " + DescribeLimit(stall->limit));
  }
  if (effects.empty()) return "no effects (forwarded untouched)";
  return Join(effects, "; ");
}

std::string Plural(size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

}  // namespace

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

std::string DescribeProfile(const ProfileSpec& profile) {
  std::string text =
      "version " + std::to_string(profile.version) + ", " +
      (profile.seed ? "seed " + std::to_string(*profile.seed)
                    : "no seed (one is drawn and reported at start)") +
      ", " + Plural(profile.groups.size(), "group") + ", " +
      Plural(profile.impairments.size(), "impairment") + ", " +
      Plural(profile.rules.size(), "rule") +
      " (first match wins; frames matching none pass untouched)" +
      (profile.partitions.empty()
           ? ""
           : ", " + Plural(profile.partitions.size(), "partition") + " (checked before rules)") +
      "\n";
  for (const PartitionSpec& partition : profile.partitions) {
    text += "  partition " + partition.name + ": " +
            std::string(kPartitionModeNames[static_cast<int>(partition.mode)]) + ", " +
            (partition.new_connections_only ? "new connections (TCP SYN) only" : "all traffic") +
            ", " + Plural(partition.cuts.size(), "cut") + "\n";
  }
  std::vector<bool> used(profile.impairments.size(), false);
  for (const RuleSpec& rule : profile.rules) {
    const ImpairmentSpec& impairment = profile.impairments[rule.impairment];
    used[rule.impairment] = true;
    text += "  rule " + rule.name + ": " + DescribeMatch(rule.match) + " -> " + impairment.name +
            ": " + DescribeImpairment(impairment) + "\n";
  }
  std::vector<std::string> unused;
  for (size_t i = 0; i < profile.impairments.size(); ++i) {
    if (!used[i]) unused.push_back(profile.impairments[i].name);
  }
  if (!unused.empty()) text += "  not used by any rule: " + Join(unused) + "\n";
  return text;
}

}  // namespace faultline
