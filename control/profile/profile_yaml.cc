#include "control/profile/profile_yaml.h"

#include <charconv>
#include <cstdio>

#include "control/base/units.h"
#include "control/profile/profile_names.h"

namespace faultline {

namespace {

using Json = nlohmann::ordered_json;

// Lines longer than this are written in block style.
constexpr size_t kLineWidth = 100;

// The shortest decimal that reads back as exactly `value`.
std::string Shortest(double value) {
  char text[64];
  const auto [end, status] = std::to_chars(text, text + sizeof(text), value);
  return status == std::errc() ? std::string(text, end) : std::to_string(value);
}

// A probability as "2%" where that reads back to exactly the same number and is short, else as
// the shortest exact fraction ("1e-06", "0.3333333333333333").
std::string ExactProbability(double probability) {
  const std::string fraction = Shortest(probability);
  const std::string percent = Shortest(probability * 100) + "%";
  std::string error;
  const std::optional<double> back = ParseProbability(percent, &error);
  const bool exact = back && *back == probability;
  if (exact && (percent.size() <= 6 || percent.size() <= fraction.size())) return percent;
  return fraction;
}

Json Limit(const SizeLimit& limit) {
  if (limit.packets && limit.bytes) {
    return Json::array({FormatSize({limit.packets, true}), FormatSize({limit.bytes, false})});
  }
  return limit.packets ? FormatSize({limit.packets, true}) : FormatSize({limit.bytes, false});
}

// An address without its length when it is a single host ("10.0.2.13"), else the prefix.
std::string Address(const Prefix& prefix) {
  std::string text = FormatPrefix(prefix);
  if (prefix.length == (prefix.family == 4 ? 32 : 128)) text.resize(text.find('/'));
  return text;
}

// A list of members, or the one member on its own.
Json OneOrList(std::vector<std::string> items) {
  if (items.size() == 1) return items.front();
  Json list = Json::array();
  for (std::string& item : items) list.push_back(std::move(item));
  return list;
}

std::vector<std::string> Members(const EndpointSet& endpoints) {
  std::vector<std::string> members;
  for (const Prefix& prefix : endpoints.prefixes) members.push_back(Address(prefix));
  for (const MacAddress& mac : endpoints.macs) members.push_back(FormatMac(mac));
  return members;
}

// The name of the first group with exactly these endpoints, else the endpoints themselves.
Json Endpoints(const EndpointSet& endpoints, const ProfileSpec& profile) {
  for (const GroupSpec& group : profile.groups) {
    if (group.members == endpoints) return group.name;
  }
  return OneOrList(Members(endpoints));
}

Json Macs(const std::vector<MacAddress>& macs) {
  std::vector<std::string> texts;
  for (const MacAddress& mac : macs) texts.push_back(FormatMac(mac));
  return OneOrList(std::move(texts));
}

Json Range(uint32_t min, uint32_t max) {
  if (min == max) return min;
  return std::to_string(min) + "-" + std::to_string(max);
}

Json Match(const MatchSpec& match, const ProfileSpec& profile) {
  Json json = Json::object();
  if (match.direction != Direction::kBoth) {
    json["direction"] = kDirectionNames[static_cast<int>(match.direction)];
  }
  if (!match.src.empty()) json["src"] = Endpoints(match.src, profile);
  if (!match.dst.empty()) json["dst"] = Endpoints(match.dst, profile);
  if (match.proto) {
    json["proto"] = *match.proto;
    for (const ProtocolName& known : kProtocols) {
      if (known.number == *match.proto) json["proto"] = known.name;
    }
  }
  if (match.has_src_port) json["src-port"] = Range(match.src_port_min, match.src_port_max);
  if (match.has_dst_port) json["dst-port"] = Range(match.dst_port_min, match.dst_port_max);
  if (match.vlan) json["vlan"] = Range(match.vlan->min, match.vlan->max);
  if (match.dscp) {
    const std::string name = DscpName(match.dscp->min);
    json["dscp"] = match.dscp->min == match.dscp->max && !name.empty()
                       ? Json(name)
                       : Range(match.dscp->min, match.dscp->max);
  }
  if (!match.src_mac.empty()) json["src-mac"] = Macs(match.src_mac);
  if (!match.dst_mac.empty()) json["dst-mac"] = Macs(match.dst_mac);
  if (match.ether_type) {
    json["ethertype"] = Hex16(*match.ether_type);
    for (const EtherTypeName& known : kEtherTypes) {
      if (known.number == *match.ether_type) json["ethertype"] = known.name;
    }
  }
  return json;
}

Json Delay(const DelaySpec& delay) {
  Json json = {{"base", FormatDuration(delay.base_ns)}};
  if (delay.jitter_ns > 0) json["jitter"] = FormatDuration(delay.jitter_ns);
  if (delay.distribution == DistributionKind::kTable) {
    json["table"] = delay.table_path;
  } else if (delay.distribution != DistributionKind::kUniform) {
    json["distribution"] = kDistributionNames[static_cast<int>(delay.distribution)];
  }
  if (delay.correlation > 0) json["correlation"] = ExactProbability(delay.correlation);
  return json;
}

Json Loss(const LossSpec& loss) {
  Json json = {{"model", kLossModelNames[static_cast<int>(loss.model)]}};
  const auto put = [&json](const char* key, double value) { json[key] = ExactProbability(value); };
  switch (loss.model) {
    case LossModel::kBernoulli:
      put("probability", loss.probability);
      if (loss.correlation > 0) put("correlation", loss.correlation);
      break;
    case LossModel::kGilbertElliott:
      put("p", loss.p);
      put("r", loss.r);
      put("loss-bad", loss.loss_bad);
      put("loss-good", loss.loss_good);
      break;
    case LossModel::kMarkov4:
      put("p13", loss.p13);
      put("p31", loss.p31);
      put("p32", loss.p32);
      put("p23", loss.p23);
      put("p14", loss.p14);
      break;
  }
  if (loss.max_size > 0) json["max-size"] = FormatSize({loss.max_size, false});
  return json;
}

Json Corrupt(const CorruptSpec& corrupt) {
  Json json = Json::object();
  if (corrupt.ber > 0) {
    json["ber"] = ExactProbability(corrupt.ber);
  } else {
    json["probability"] = ExactProbability(corrupt.probability);
    if (corrupt.correlation > 0) json["correlation"] = ExactProbability(corrupt.correlation);
  }
  if (corrupt.fix_checksums) json["fix-checksums"] = true;
  return json;
}

Json Rate(const RateSpec& rate) {
  Json json = {{"bandwidth", FormatRate(rate.bandwidth_bps)}};
  if (rate.overhead_bytes != 0) json["overhead"] = std::to_string(rate.overhead_bytes) + "B";
  json["queue-limit"] = Limit(rate.queue_limit);
  if (rate.ecn_threshold.Set()) json["ecn-threshold"] = Limit(rate.ecn_threshold);
  return json;
}

Json Stall(const StallSpec& stall) {
  Json json = {{"for", FormatDuration(stall.duration_ns)}};
  if (stall.start_ns > 0) json["start"] = FormatDuration(stall.start_ns);
  if (stall.every_ns > 0) json["every"] = FormatDuration(stall.every_ns);
  json["limit"] = Limit(stall.limit);
  return json;
}

Json Impairment(const ImpairmentSpec& impairment) {
  Json json = Json::object();
  if (impairment.delay) json["delay"] = Delay(*impairment.delay);
  if (impairment.loss) json["loss"] = Loss(*impairment.loss);
  if (impairment.duplicate) {
    json["duplicate"] = {{"probability", ExactProbability(impairment.duplicate->probability)}};
    if (impairment.duplicate->correlation > 0) {
      json["duplicate"]["correlation"] = ExactProbability(impairment.duplicate->correlation);
    }
  }
  if (const auto& reorder = impairment.reorder) {
    Json& out = json["reorder"] = Json::object();
    if (reorder->probability > 0) out["probability"] = ExactProbability(reorder->probability);
    if (reorder->correlation > 0) out["correlation"] = ExactProbability(reorder->correlation);
    if (reorder->gap != 1) out["gap"] = reorder->gap;
    if (reorder->max_displacement > 0) out["max-displacement"] = reorder->max_displacement;
  }
  if (impairment.corrupt) json["corrupt"] = Corrupt(*impairment.corrupt);
  if (impairment.rate) json["rate"] = Rate(*impairment.rate);
  if (impairment.stall) json["stall"] = Stall(*impairment.stall);
  return json;
}

// A partition in the words it was given in; an entry built in code gets the form its cuts have,
// if it has one (null if not: the caller notes it).
Json Partition(const PartitionSpec& partition, const ProfileSpec& profile) {
  Json json = {{"name", partition.name}};
  const std::vector<PartitionCut>& cuts = partition.cuts;
  if (!partition.form.empty()) {
    const Json form = Json::parse(partition.form);
    for (auto& [key, value] : form.items()) json[key] = value;
  } else if (cuts.size() == 1 && !cuts[0].from_complement && !cuts[0].to_complement) {
    json["from"] = Endpoints(cuts[0].from, profile);
    json["to"] = Endpoints(cuts[0].to, profile);
  } else if (cuts.size() == 2 && cuts[0].to_complement && cuts[1].from_complement &&
             cuts[0].from == cuts[1].to) {
    json["isolate"] = Endpoints(cuts[0].from, profile);
  } else {
    return nullptr;
  }
  if (partition.mode != PartitionMode::kDrop) {
    json["mode"] = kPartitionModeNames[static_cast<int>(partition.mode)];
  }
  if (partition.new_connections_only) json["connections"] = kConnectionNames[1];
  return json;
}

// --- YAML text ---

bool IsPlainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
         c == '_' || c == '.' || c == '/' || c == '+' || c == '=' || c == '-' || c == '%';
}

// A string as a YAML scalar that reads back as the same string: plain where that is safe,
// double-quoted otherwise.
std::string Scalar(const std::string& text) {
  bool plain = !text.empty() && text.front() != ' ' && text.back() != ' ' && text.front() != '%' &&
               text != "-" && text.rfind("- ", 0) != 0;
  for (char c : text) plain = plain && IsPlainChar(c);
  if (plain) {
    // Words YAML reads as null or booleans.
    std::string lower;
    for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (const char* word : {"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n"}) {
      plain = plain && lower != word;
    }
  }
  if (plain) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      quoted += '\\';
      quoted += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escape[5];
      std::snprintf(escape, sizeof(escape), "\\x%02x", static_cast<unsigned char>(c));
      quoted += escape;
    } else {
      quoted += c;
    }
  }
  return quoted + "\"";
}

std::string ScalarText(const Json& value) {
  if (value.is_string()) return Scalar(value.get<std::string>());
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_null()) return "\"\"";
  return value.dump();
}

bool IsContainer(const Json& value) { return value.is_object() || value.is_array(); }

// Whether `value` may be written in flow style: no maps inside it.
bool Flowable(const Json& value) {
  if (!IsContainer(value)) return true;
  for (const Json& item : value) {
    if (item.is_object() || !Flowable(item)) return false;
  }
  return true;
}

std::string Flow(const Json& value) {
  if (!IsContainer(value)) return ScalarText(value);
  std::string text = value.is_object() ? "{" : "[";
  bool first = true;
  for (auto& [key, item] : value.items()) {
    if (!first) text += ", ";
    first = false;
    if (value.is_object()) text += Scalar(key) + ": ";
    text += Flow(item);
  }
  return text + (value.is_object() ? "}" : "]");
}

void Block(const Json& value, size_t indent, bool top, std::string* out) {
  const std::string pad(indent, ' ');
  for (auto& [key, item] : value.items()) {
    const std::string lead = value.is_object() ? pad + Scalar(key) + ":" : pad + "-";
    // Top-level sections are always blocks, so a profile reads the same whatever its size.
    const bool inline_value = !IsContainer(item) ||
                              (!(top && value.is_object()) && Flowable(item) &&
                               lead.size() + 1 + Flow(item).size() <= kLineWidth) ||
                              item.empty();
    if (inline_value) {
      *out += lead + " " + Flow(item) + "\n";
    } else if (value.is_object()) {
      *out += lead + "\n";
      Block(item, indent + 2, false, out);
    } else {
      // A map in a list starts on the dash's line.
      std::string nested;
      Block(item, indent + 2, false, &nested);
      *out += lead + nested.substr(indent + 1);
    }
  }
}

}  // namespace

Json ProfileDocument(const ProfileSpec& profile) {
  Json document = {{"version", profile.version}};
  if (profile.seed) document["seed"] = *profile.seed;
  Json& groups = document["groups"] = Json::object();
  for (const GroupSpec& group : profile.groups) {
    groups[group.name] = Json::array();
    for (std::string& member : Members(group.members)) groups[group.name].push_back(member);
  }
  Json& impairments = document["impairments"] = Json::object();
  for (const ImpairmentSpec& impairment : profile.impairments) {
    impairments[impairment.name] = Impairment(impairment);
  }
  Json& rules = document["rules"] = Json::array();
  for (const RuleSpec& rule : profile.rules) {
    rules.push_back({{"name", rule.name},
                     {"match", Match(rule.match, profile)},
                     {"impairment", profile.impairments[rule.impairment].name}});
  }
  Json& partitions = document["partitions"] = Json::array();
  for (const PartitionSpec& partition : profile.partitions) {
    Json entry = Partition(partition, profile);
    if (!entry.is_null()) partitions.push_back(std::move(entry));
  }
  return document;
}

std::vector<std::string> ProfileNotes(const ProfileSpec& profile) {
  std::vector<std::string> notes;
  for (size_t side = 0; side < 2; ++side) {
    if (profile.link_down[side]) {
      notes.push_back(std::string("link ") + (side == 0 ? "a" : "b") +
                      " is down (a trace's link event; not a profile key: every frame received "
                      "on or leaving by that side is dropped)");
    }
  }
  for (const ImpairmentSpec& impairment : profile.impairments) {
    if (impairment.stall && impairment.stall->at_activation) {
      notes.push_back("impairment '" + impairment.name +
                      "' is a trace's stall, whose window began when its step took effect (as "
                      "written here it would begin at the start)");
    }
  }
  for (const PartitionSpec& partition : profile.partitions) {
    if (Partition(partition, profile).is_null()) {
      notes.push_back("partition '" + partition.name + "' (" +
                      std::to_string(partition.cuts.size()) +
                      " cuts) was built in code and has no form to write it in; left out");
    }
  }
  return notes;
}

std::string ProfileYaml(const ProfileSpec& profile) {
  std::string text;
  for (const std::string& note : ProfileNotes(profile)) text += "# " + note + "\n";
  return text + EmitYaml(ProfileDocument(profile));
}

std::string EmitYaml(const nlohmann::ordered_json& document) {
  if (!IsContainer(document) || document.empty()) return Flow(document) + "\n";
  std::string text;
  Block(document, 0, true, &text);
  return text;
}

}  // namespace faultline
