#include "control/profile_parser.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "control/units.h"
#include "dataplane/delay_distribution.h"

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

std::string FormatPrefix(const Prefix& prefix) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(prefix.family == 4 ? AF_INET : AF_INET6, prefix.address.data(), text, sizeof(text));
  return std::string(text) + "/" + std::to_string(prefix.length);
}

// "aa:bb:cc:dd:ee:ff" or with '-': groups may one day hold MAC addresses (the contract names
// them), so say that rather than "not an IP address".
bool LooksLikeMac(const std::string& text) {
  if (text.size() != 17) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool separator = i % 3 == 2;
    const bool fits = separator ? text[i] == ':' || text[i] == '-'
                                : std::isxdigit(static_cast<unsigned char>(text[i])) != 0;
    if (!fits) return false;
  }
  return true;
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
  } else if (LooksLikeMac(text)) {
    *error = "'" + text + "' looks like a MAC address; MAC addresses are not supported by " +
             "this build yet";
    return std::nullopt;
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

// A map entry in file order, with the nodes kept for their positions.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

// Where to point for a problem with an entry's value. yaml-cpp places an empty value (`base:`)
// after the end of its line, so point at the key instead.
const YAML::Node& At(const Entry& entry) {
  return entry.value.IsNull() ? entry.key_node : entry.value;
}

std::string KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    default:
      return "empty";
  }
}

// The names users write, in the order of docs/formats.md.
constexpr std::string_view kDirectionNames[] = {"both", "a-to-b", "b-to-a"};  // Direction order
constexpr std::string_view kDistributionNames[] = {"uniform", "normal", "pareto", "paretonormal"};
constexpr std::string_view kLossModelNames[] = {"bernoulli", "gilbert-elliott", "markov4"};

struct ProtocolName {
  std::string_view name;
  uint8_t number;
};
constexpr ProtocolName kProtocols[] = {
    {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"icmpv6", 58}, {"sctp", 132}};

bool HasPorts(uint8_t proto) { return proto == 6 || proto == 17 || proto == 132; }

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
    bool ok = false;
    try {
      ok = ParseDocument(text);
    } catch (const YAML::Exception& e) {
      // Syntax errors (and yaml-cpp's recursion limit) come with a mark of their own.
      Fail(e.mark, e.msg);
    }
    if (!ok) {
      *error = error_;
      return std::nullopt;
    }
    return std::move(profile_);
  }

 private:
  // Records `message` at `mark` unless an earlier error was recorded; returns false so that
  // callers can `return Fail(...)`.
  bool Fail(const YAML::Mark& mark, const std::string& message) {
    if (!error_.empty()) return false;
    // A node without a position (none in practice) is reported at the start of the file.
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    error_ = name_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
    return false;
  }
  bool Fail(const YAML::Node& node, const std::string& message) {
    return Fail(node.Mark(), message);
  }

  bool UnknownKey(const Entry& entry, const std::string& where,
                  std::initializer_list<std::string_view> known) {
    std::vector<std::string> names(known.begin(), known.end());
    return Fail(entry.key_node,
                "unknown key '" + entry.key + "' in " + where + " (known: " + Join(names) + ")");
  }

  // The entries of a map in file order. Fails on anything but a map (an empty value counts as an
  // empty map where `allow_empty`), on a key that is not a plain name and on a key given twice:
  // yaml-cpp keeps both, and silently using one of them would hide a mistake.
  bool Entries(const YAML::Node& map, const YAML::Node& position, const std::string& what,
               bool allow_empty, std::vector<Entry>* entries) {
    entries->clear();
    if (map.IsNull() && allow_empty) return true;
    if (!map.IsMap()) return Fail(position, what + " must be a map, not " + KindOf(map));
    std::map<std::string, int> first_line;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) return Fail(key, "keys in " + what + " must be plain names");
      const auto [earlier, inserted] = first_line.emplace(key.Scalar(), key.Mark().line + 1);
      if (!inserted) {
        return Fail(key, "duplicate key '" + key.Scalar() + "' in " + what + " (first on line " +
                             std::to_string(earlier->second) + ")");
      }
      entries->push_back({key.Scalar(), key, it->second});
    }
    return true;
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
    const std::vector<YAML::Node> documents = YAML::LoadAll(text);
    if (documents.empty() || documents[0].IsNull()) {
      return Fail(YAML::Mark(), "the profile is empty (it needs at least 'version: 1')");
    }
    if (documents.size() > 1) {
      return Fail(documents[1], "a profile is a single YAML document; this is a second one");
    }
    const YAML::Node& root = documents[0];
    std::vector<Entry> entries;
    if (!Entries(root, root, "the profile", /*allow_empty=*/false, &entries)) return false;

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

    // Rules refer to groups and impairments by name, wherever those appear in the file, so they
    // are parsed once everything else is known.
    const Entry* rules = nullptr;
    for (const Entry& entry : entries) {
      if (entry.key == "version") continue;
      bool ok = true;
      if (entry.key == "seed") {
        uint64_t seed = 0;
        ok = Integer(entry, 0, UINT64_MAX, &seed);
        profile_.seed = seed;
      } else if (entry.key == "groups") {
        ok = ParseGroups(entry);
      } else if (entry.key == "impairments") {
        ok = ParseImpairments(entry);
      } else if (entry.key == "rules") {
        rules = &entry;
      } else if (entry.key == "partitions") {
        ok = Fail(entry.key_node, "partitions are not supported by this build yet");
      } else {
        ok = UnknownKey(entry, "the profile",
                        {"version", "seed", "groups", "impairments", "rules", "partitions"});
      }
      if (!ok) return false;
    }
    return rules == nullptr || ParseRules(*rules);
  }

  bool ParseGroups(const Entry& groups_entry) {
    std::vector<Entry> groups;
    if (!Entries(groups_entry, "groups", /*allow_empty=*/true, &groups)) return false;
    for (const Entry& entry : groups) {
      std::string unused;
      if (entry.key.empty() || ParsePrefix(entry.key, &unused)) {
        // A group called "10.0.0.1" would make `src: 10.0.0.1` ambiguous.
        return Fail(entry.key_node, "group name '" + entry.key + "' must not be an address");
      }
      GroupSpec group{.name = entry.key, .members = {}};
      const std::string what = "group '" + entry.key + "'";
      std::vector<YAML::Node> items;
      if (entry.value.IsScalar()) {
        items.push_back(entry.value);
      } else if (entry.value.IsSequence()) {
        for (const YAML::Node& item : entry.value) items.push_back(item);
      } else {
        return Fail(At(entry),
                    what + " must be a list of addresses or prefixes, not " + KindOf(entry.value));
      }
      // An empty group would leave a rule's src or dst empty, and an empty src matches every
      // address: the opposite of what an empty group suggests.
      if (items.empty()) return Fail(At(entry), what + " is empty");
      for (const YAML::Node& item : items) {
        if (!item.IsScalar()) {
          return Fail(item, what + ": expected an address or prefix, not " + KindOf(item));
        }
        std::string error;
        const std::optional<Prefix> prefix = ParsePrefix(item.Scalar(), &error);
        if (!prefix) return Fail(item, what + ": " + error);
        group.members.prefixes.push_back(*prefix);
      }
      profile_.groups.push_back(std::move(group));
    }
    return true;
  }

  bool ParseImpairments(const Entry& impairments_entry) {
    std::vector<Entry> impairments;
    if (!Entries(impairments_entry, "impairments", /*allow_empty=*/true, &impairments)) {
      return false;
    }
    for (const Entry& entry : impairments) {
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
        ok = Duration(entry, &delay->base_ns);
      } else if (entry.key == "jitter") {
        ok = Duration(entry, &delay->jitter_ns);
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
    if (delay->distribution != DistributionKind::kTable) {
      delay->table = GenerateDistributionTable(delay->distribution);
      return true;
    }
    std::filesystem::path path(table);
    if (path.is_relative()) path = base_directory_ / path;
    delay->table_path = path.string();
    std::string error;
    std::optional<std::vector<int16_t>> loaded = LoadDistributionTable(delay->table_path, &error);
    if (!loaded) return Fail(shape->value, "table: " + error);
    delay->table = std::move(*loaded);
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
    auto at = [&](const char* key) -> const YAML::Node& {
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
      Size size;
      if (!PositiveSize(entry, &size)) return false;
      *limit = size.packets ? SizeLimit{.packets = size.value, .bytes = 0}
                            : SizeLimit{.packets = 0, .bytes = size.value};
      return true;
    }
    const std::string shape =
        entry.key + " as a list needs one packet count and one byte size, like [1000pkt, 1MB]";
    if (entry.value.size() != 2) return Fail(entry.value, shape);
    *limit = SizeLimit{};
    for (const YAML::Node& item : entry.value) {
      Size size;
      if (!PositiveSize(Entry{entry.key, entry.key_node, item}, &size)) return false;
      uint64_t& slot = size.packets ? limit->packets : limit->bytes;
      if (slot != 0) return Fail(item, shape);
      slot = size.value;
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
        has_bandwidth = true;
      } else if (entry.key == "overhead") {
        ok = ParseOverhead(entry, &rate->overhead_bytes);
      } else if (entry.key == "queue-limit") {
        ok = ParseLimit(entry, &rate->queue_limit);
        has_queue_limit = true;
      } else if (entry.key == "ecn-threshold") {
        Size size;
        ok = PositiveSize(entry, &size);
        rate->ecn_threshold = size.packets ? SizeLimit{.packets = size.value, .bytes = 0}
                                           : SizeLimit{.packets = 0, .bytes = size.value};
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
        ok = Duration(entry, &stall->duration_ns);
        if (ok && stall->duration_ns == 0) ok = Fail(entry.value, "for must be more than 0s");
        for_entry = &entry;
      } else if (entry.key == "start") {
        ok = Duration(entry, &stall->start_ns);
      } else if (entry.key == "every") {
        ok = Duration(entry, &stall->every_ns);
        every = &entry;
      } else if (entry.key == "limit") {
        Size size;
        ok = PositiveSize(entry, &size);
        stall->limit = size.packets ? SizeLimit{.packets = size.value, .bytes = 0}
                                    : SizeLimit{.packets = 0, .bytes = size.value};
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
    for (const YAML::Node& item : rules_entry.value) {
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
      profile_.rules.push_back(std::move(rule));
    }
    return true;
  }

  bool ResolveImpairment(const Entry& entry, size_t* index) {
    std::string name;
    if (!Text(entry, &name)) return false;
    std::vector<std::string> known;
    for (size_t i = 0; i < profile_.impairments.size(); ++i) {
      if (profile_.impairments[i].name == name) {
        *index = i;
        return true;
      }
      known.push_back(profile_.impairments[i].name);
    }
    return Fail(entry.value,
                "no impairment named '" + name + "' (" +
                    (known.empty() ? "the profile defines none" : "defined: " + Join(known)) + ")");
  }

  bool ParseMatch(const Entry& match_entry, MatchSpec* match) {
    std::vector<Entry> entries;
    if (!Entries(match_entry, "match", /*allow_empty=*/false, &entries)) return false;
    const Entry* port_entry = nullptr;
    const Entry* proto_entry = nullptr;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "direction") {
        size_t index = 0;
        ok = Choice(entry, kDirectionNames, &index);
        match->direction = static_cast<Direction>(index);
      } else if (entry.key == "src") {
        ok = ParseEndpoints(entry, &match->src);
      } else if (entry.key == "dst") {
        ok = ParseEndpoints(entry, &match->dst);
      } else if (entry.key == "proto") {
        ok = ParseProto(entry, &match->proto);
        proto_entry = &entry;
      } else if (entry.key == "src-port") {
        ok = ParsePortRange(entry, &match->src_port_min, &match->src_port_max);
        match->has_src_port = true;
        port_entry = &entry;
      } else if (entry.key == "dst-port") {
        ok = ParsePortRange(entry, &match->dst_port_min, &match->dst_port_max);
        match->has_dst_port = true;
        port_entry = &entry;
      } else {
        ok = Fail(entry.key_node, "match key '" + entry.key +
                                      "' is not supported by this build yet (it matches on " +
                                      "direction, src, dst, proto, src-port and dst-port)");
      }
      if (!ok) return false;
    }
    // Ports only exist in TCP, UDP and SCTP; with another protocol the rule could never match.
    if (port_entry != nullptr && match->proto && !HasPorts(*match->proto)) {
      return Fail(port_entry->key_node, port_entry->key + " needs proto tcp, udp or sctp, not '" +
                                            proto_entry->value.Scalar() + "'");
    }
    return true;
  }

  // A group name, an address or prefix, or a list of those, expanded to prefixes.
  bool ParseEndpoints(const Entry& entry, EndpointSet* endpoints) {
    std::vector<Prefix>* prefixes = &endpoints->prefixes;
    std::vector<YAML::Node> items;
    if (entry.value.IsScalar()) {
      items.push_back(entry.value);
    } else if (entry.value.IsSequence()) {
      for (const YAML::Node& item : entry.value) items.push_back(item);
    } else {
      return Fail(At(entry), entry.key +
                                 " needs a group name, an address or prefix, or a list of " +
                                 "them, not " + KindOf(entry.value));
    }
    // An empty list would read as "any address", the opposite of what it says.
    if (items.empty()) return Fail(entry.value, entry.key + " is an empty list");
    for (const YAML::Node& item : items) {
      if (!item.IsScalar()) {
        return Fail(item,
                    entry.key + ": expected a group name, address or prefix, not " + KindOf(item));
      }
      const std::string& text = item.Scalar();
      const GroupSpec* group = nullptr;
      for (const GroupSpec& candidate : profile_.groups) {
        if (candidate.name == text) group = &candidate;
      }
      if (group != nullptr) {
        prefixes->insert(prefixes->end(), group->members.prefixes.begin(),
                         group->members.prefixes.end());
        continue;
      }
      std::string error;
      const std::optional<Prefix> prefix = ParsePrefix(text, &error);
      if (prefix) {
        prefixes->push_back(*prefix);
        continue;
      }
      // Address punctuation and only address characters: the user meant an address, so the
      // address error says more than "no such group".
      const bool address_like =
          text.find_first_of(".:/") != std::string::npos &&
          text.find_first_not_of("0123456789abcdefABCDEF.:/") == std::string::npos;
      if (address_like || LooksLikeMac(text)) return Fail(item, entry.key + ": " + error);
      std::vector<std::string> names;
      for (const GroupSpec& candidate : profile_.groups) names.push_back(candidate.name);
      return Fail(item,
                  entry.key + ": '" + text + "' is neither a group nor an address (" +
                      (names.empty() ? "the profile defines no groups" : "groups: " + Join(names)) +
                      ")");
    }
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

  // "80" or "2379-2380".
  bool ParsePortRange(const Entry& entry, uint16_t* min, uint16_t* max) {
    std::string text;
    if (!Text(entry, &text)) return false;
    const size_t dash = text.find('-');
    const std::optional<uint64_t> low = ParseUnsigned(text.substr(0, dash));
    const std::optional<uint64_t> high =
        dash == std::string::npos ? low : ParseUnsigned(text.substr(dash + 1));
    if (!low || !high || *low > 65535 || *high > 65535) {
      return Fail(entry.value, entry.key + ": '" + text +
                                   "' is not a port (0..65535) or a range of ports like 2379-2380");
    }
    if (*low > *high) {
      return Fail(entry.value, entry.key + ": the range '" + text + "' runs backwards");
    }
    *min = static_cast<uint16_t>(*low);
    *max = static_cast<uint16_t>(*high);
    return true;
  }

  std::string name_;
  std::filesystem::path base_directory_;
  std::string error_;
  ProfileSpec profile_;
};

// --- DescribeProfile ---

std::string DescribeLimit(const SizeLimit& limit) {
  if (limit.packets && limit.bytes) {
    return "[" + FormatSize({limit.packets, true}) + ", " + FormatSize({limit.bytes, false}) + "]";
  }
  return limit.packets ? FormatSize({limit.packets, true}) : FormatSize({limit.bytes, false});
}

std::string DescribePrefixes(const std::vector<Prefix>& prefixes) {
  constexpr size_t kShown = 4;
  std::vector<std::string> shown;
  for (size_t i = 0; i < prefixes.size() && i < kShown; ++i) {
    shown.push_back(FormatPrefix(prefixes[i]));
  }
  if (prefixes.size() > kShown) shown.push_back("+" + std::to_string(prefixes.size() - kShown));
  return Join(shown, " ");
}

std::string DescribePorts(uint16_t min, uint16_t max) {
  return min == max ? std::to_string(min) : std::to_string(min) + "-" + std::to_string(max);
}

std::string DescribeMatch(const MatchSpec& match) {
  std::vector<std::string> parts = {
      std::string(kDirectionNames[static_cast<int>(match.direction)])};
  if (!match.src.empty()) parts.push_back("src " + DescribePrefixes(match.src.prefixes));
  if (!match.dst.empty()) parts.push_back("dst " + DescribePrefixes(match.dst.prefixes));
  if (match.proto) {
    std::string name = "proto " + std::to_string(*match.proto);
    for (const ProtocolName& known : kProtocols) {
      if (known.number == *match.proto) name = std::string(known.name);
    }
    parts.push_back(name);
  }
  if (match.has_src_port) {
    parts.push_back("src-port " + DescribePorts(match.src_port_min, match.src_port_max));
  }
  if (match.has_dst_port) {
    parts.push_back("dst-port " + DescribePorts(match.dst_port_min, match.dst_port_max));
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
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    *error = path + ": cannot read: it is a directory";
    return std::nullopt;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  if (file.bad()) {
    *error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  return ProfileParser(path, std::filesystem::path(path).parent_path()).Parse(text.str(), error);
}

std::string DescribeProfile(const ProfileSpec& profile) {
  std::string text = "version " + std::to_string(profile.version) + ", " +
                     (profile.seed ? "seed " + std::to_string(*profile.seed)
                                   : "no seed (one is drawn and reported at start)") +
                     ", " + Plural(profile.groups.size(), "group") + ", " +
                     Plural(profile.impairments.size(), "impairment") + ", " +
                     Plural(profile.rules.size(), "rule") +
                     " (first match wins; frames matching none pass untouched)\n";
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
