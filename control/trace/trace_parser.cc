#include "control/trace/trace_parser.h"

#include <algorithm>
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

#include "control/base/units.h"
#include "control/profile/profile_names.h"
#include "control/profile/profile_parser.h"
#include "control/yaml/yaml_reader.h"
#include "control/yaml/yaml_source.h"
#include "dataplane/config/duration_text.h"
#include "dataplane/config/trace_timeline.h"

namespace faultline {
namespace {

constexpr std::string_view kEventKinds[] = {"set-impairment", "partition", "heal", "stall",
                                            "link"};  // TraceEventKind order
constexpr std::string_view kHealNames[] = {"partitions", "impairments", "all"};  // HealWhat order
constexpr std::string_view kSideNames[] = {"a", "b", "both"};                    // LinkSide order
constexpr std::string_view kLinkStates[] = {"up", "down", "flapping"};           // LinkChange order

template <size_t N>
std::vector<std::string> Names(const std::string_view (&names)[N]) {
  return std::vector<std::string>(names, names + N);
}

// "0s", "10s", "45800ms": exact times for error messages (summaries use FormatHumanDuration).
std::string Time(uint64_t ns) { return FormatTraceDuration(ns); }

using yaml_source::At;
using yaml_source::Entry;
using yaml_source::KindOf;

// Walks the trace's YAML tree; as the profile parser, it keeps the first error only and stops
// there. Partition entries, group references and inline profiles go to the profile parser, with
// positions in this file.
class TraceParser : public yaml_source::Reader {
 public:
  TraceParser(std::string name_for_errors, std::filesystem::path base_directory,
              const ProfileSpec* running)
      : Reader(std::move(name_for_errors)),
        base_directory_(std::move(base_directory)),
        running_(running) {}

  // The running profile replaces the trace's own `profile:` (replay --profile with --trace);
  // *replaced gets where that key is ("FILE:LINE:COL"), if the trace has one.
  void ReplaceOwnProfile(std::string* replaced) { replaced_ = replaced; }

  std::optional<TraceSpec> Parse(const std::string& text, std::string* error) {
    if (!ParseDocument(text)) {
      *error = Reader::error();
      return std::nullopt;
    }
    return std::move(trace_);
  }

 private:
  bool NonEmptyText(const Entry& entry, std::string* text) {
    if (!Text(entry, text)) return false;
    if (text->empty()) return Fail(At(entry), entry.key + " must not be empty");
    return true;
  }

  bool PositiveDuration(const Entry& entry, uint64_t* ns) {
    if (!Duration(entry, ns)) return false;
    if (*ns == 0) return Fail(entry.value, entry.key + " must be more than 0s");
    return true;
  }

  bool ParseDocument(const std::string& text) {
    std::string error;
    const std::optional<yaml::Node> document = yaml_source::LoadSingleDocument(
        text, name(), "trace", "'version: 1' and 'events:'", &error);
    if (!document) return Forward(error);
    const yaml::Node& root = *document;
    std::vector<Entry> entries;
    if (!Entries(root, root, "the trace", /*allow_empty=*/false, &entries)) return false;
    // A profile or a topology given where a trace belongs: say what it is, not which key is
    // unknown.
    bool has_events = false;
    for (const Entry& entry : entries) has_events |= entry.key == "events";
    for (const Entry& entry : entries) {
      if (has_events) break;
      if (entry.key == "racks") {
        return Fail(entry.key_node,
                    "this is a topology (it has 'racks:'), not a trace: it is for 'faultline "
                    "trace generate --topology FILE'");
      }
      for (const char* key : {"seed", "groups", "impairments", "rules", "partitions"}) {
        if (entry.key != key) continue;
        return Fail(entry.key_node,
                    "this is a profile (it has '" + entry.key +
                        ":' and no 'events:'), not a trace: use it with --profile or "
                        "'faultline apply FILE', or name it in a trace's 'profile:'");
      }
    }

    const Entry* events = nullptr;
    const Entry* repeat = nullptr;
    const Entry* duration = nullptr;
    if (!VersionOne(entries, root, "trace")) return false;
    trace_.version = 1;
    trace_.name = std::filesystem::path(name()).stem().string();
    // "leader-isolation.trace.yaml" is the trace "leader-isolation".
    if (trace_.name.size() > 6 && trace_.name.ends_with(".trace")) {
      trace_.name.resize(trace_.name.size() - 6);
    }

    // Events name groups of the profile, so everything else comes first.
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "version") {
        continue;
      } else if (entry.key == "name") {
        ok = NonEmptyText(entry, &trace_.name);
      } else if (entry.key == "profile") {
        ok = ParseProfile(entry);
      } else if (entry.key == "repeat") {
        ok = ParseRepeat(entry);
        repeat = &entry;
      } else if (entry.key == "duration") {
        ok = PositiveDuration(entry, &trace_.period_ns);
        if (ok && trace_.period_ns > kMaxTraceTimeNs) {
          ok = Fail(entry.value, "duration: '" + entry.value.Scalar() + "' is above the limit of " +
                                     Time(kMaxTraceTimeNs));
        }
        duration = &entry;
      } else if (entry.key == "events") {
        events = &entry;
      } else {
        ok = UnknownKey(entry, "the trace",
                        {"version", "name", "profile", "repeat", "duration", "events"});
      }
      if (!ok) return false;
    }
    if (events == nullptr) return Fail(root, "missing 'events' (a trace needs at least one)");
    if (!ParseEvents(*events)) return false;
    return CheckTiming(repeat, duration) && CheckEvents();
  }

  bool ParseProfile(const Entry& entry) {
    if (replaced_ != nullptr) {
      // Not loaded: the events are checked against the profile that replaces it.
      const std::string where = yaml_source::PositionedError(name(), entry.key_node.Mark(), "");
      *replaced_ = where.substr(0, where.size() - 2);  // without the ": " of the empty message
      return true;
    }
    if (entry.value.IsMap()) {
      std::string error;
      std::optional<ProfileSpec> profile =
          ParseProfileNode(entry.value, name(), base_directory_.string(), &error);
      if (!profile) return Forward(error);
      trace_.profile = std::move(*profile);
      trace_.profile_source = "inline";
      return true;
    }
    if (!entry.value.IsScalar() || entry.value.Scalar().empty()) {
      return Fail(At(entry), "profile needs the path of a profile file or a profile (a map with " +
                                 std::string("version, groups, impairments, rules, partitions)") +
                                 ", not " + KindOf(entry.value));
    }
    std::filesystem::path path(entry.value.Scalar());
    if (path.is_relative()) path = base_directory_ / path;
    std::string error;
    std::optional<ProfileSpec> profile = ParseProfileFile(path.string(), &error);
    if (!profile) {
      // Cannot read it: the trace is wrong, point there. Else the profile's own error names it.
      if (error.starts_with(path.string() + ": cannot read")) {
        return Fail(entry.value, "profile: " + error);
      }
      return Forward(error);
    }
    trace_.profile = std::move(*profile);
    trace_.profile_source = entry.value.Scalar();
    return true;
  }

  bool ParseRepeat(const Entry& entry) {
    std::string text;
    if (!Text(entry, &text)) return false;
    if (text == "forever") {
      trace_.repeat = 0;
      return true;
    }
    uint64_t value = 0;
    bool digits = !text.empty() && text.size() <= 18;
    for (char c : text) {
      digits = digits && c >= '0' && c <= '9';
      if (digits) value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!digits || value == 0) {
      return Fail(entry.value,
                  "repeat: '" + text + "' is not a number of rounds (1 or more) or 'forever'");
    }
    trace_.repeat = value;
    return true;
  }

  bool ParseEvents(const Entry& events_entry) {
    if (!events_entry.value.IsSequence()) {
      return Fail(At(events_entry),
                  "events must be a list of events, not " + KindOf(events_entry.value));
    }
    if (events_entry.value.size() == 0) {
      return Fail(events_entry.value, "events is an empty list (a trace needs at least one)");
    }
    groups_.profile = trace_.profile ? &*trace_.profile : running_;
    groups_.endpoints = &endpoints_;  // every event's partition and stall together
    if (groups_.profile == nullptr) {
      groups_.no_groups_hint =
          "the trace has no 'profile:' to take groups from; add one, or pass --profile";
    }
    uint64_t steps = 0;  // in one round
    for (const yaml::Node& item : events_entry.value) {
      if (trace_.events.size() == kMaxTraceEvents) {
        return Fail(item, "more than " + std::to_string(kMaxTraceEvents) + " events");
      }
      TraceEvent event;
      if (!ParseEvent(item, &event)) return false;
      const uint64_t more = EventStepCount(event);
      steps = more > UINT64_MAX - steps ? UINT64_MAX : steps + more;
      if (steps > kMaxTraceSteps) {
        return Fail(item, "the events make more than " + std::to_string(kMaxTraceSteps) +
                              " steps in a round" +
                              (more > 2 ? " (this flap makes " + std::to_string(more) +
                                              ": two per cycle of down and up)"
                                        : ""));
      }
      trace_.events.push_back(std::move(event));
    }
    // Events may be written in any order; equal times keep the file's order.
    std::stable_sort(trace_.events.begin(), trace_.events.end(),
                     [](const TraceEvent& a, const TraceEvent& b) { return a.at_ns < b.at_ns; });
    return true;
  }

  bool ParseEvent(const yaml::Node& item, TraceEvent* event) {
    std::vector<Entry> entries;
    if (!Entries(item, item, "an event", /*allow_empty=*/false, &entries)) return false;
    event->line = item.Mark().line + 1;
    event->column = item.Mark().column + 1;
    std::vector<std::string> known = {"at"};
    for (std::string_view kind : kEventKinds) known.emplace_back(kind);
    const Entry* kind = nullptr;
    bool has_at = false;
    for (const Entry& entry : entries) {
      if (entry.key == "at") {
        if (!Duration(entry, &event->at_ns)) return false;
        has_at = true;
        continue;
      }
      const auto it = std::find(std::begin(kEventKinds), std::end(kEventKinds), entry.key);
      if (it == std::end(kEventKinds)) return UnknownKey(entry, "an event", known);
      if (kind != nullptr) {
        return Fail(entry.key_node, "an event has one kind, and '" + entry.key +
                                        "' cannot go with '" + kind->key +
                                        "' (one kind per list item)");
      }
      kind = &entry;
      event->kind = static_cast<TraceEventKind>(it - std::begin(kEventKinds));
    }
    if (!has_at) return Fail(item, "an event needs 'at' (when it happens, like 'at: 10s')");
    if (kind == nullptr) {
      return Fail(item, "an event needs one of " + Join(Names(kEventKinds)) + " (what happens)");
    }
    switch (event->kind) {
      case TraceEventKind::kSetImpairment:
        return ParseSetImpairment(*kind, event);
      case TraceEventKind::kPartition:
        return ParsePartitionEvent(*kind, event);
      case TraceEventKind::kHeal:
        return ParseHeal(*kind, event);
      case TraceEventKind::kStall:
        return ParseStall(*kind, event);
      case TraceEventKind::kLink:
        return ParseLink(*kind, event);
    }
    return true;
  }

  bool ParseSetImpairment(const Entry& kind, TraceEvent* event) {
    std::vector<Entry> entries;
    if (!Entries(kind, "set-impairment", /*allow_empty=*/false, &entries)) return false;
    bool has_rule = false, has_impairment = false;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "rule") {
        ok = NonEmptyText(entry, &event->rule);
        has_rule = true;
      } else if (entry.key == "impairment") {
        ok = NonEmptyText(entry, &event->impairment);
        has_impairment = true;
      } else {
        ok = UnknownKey(entry, "set-impairment", {"rule", "impairment"});
      }
      if (!ok) return false;
    }
    if (!has_rule) return Fail(kind.value, "set-impairment needs 'rule' (the rule's name)");
    if (!has_impairment) {
      return Fail(kind.value, "set-impairment needs 'impairment' (the impairment's name)");
    }
    return true;
  }

  bool ParsePartitionEvent(const Entry& kind, TraceEvent* event) {
    if (!kind.value.IsMap()) {
      return Fail(At(kind), "partition needs one entry as in a profile's partitions, like " +
                                std::string("{isolate: n3}, not ") + KindOf(kind.value));
    }
    std::string error;
    std::optional<PartitionSpec> partition =
        ParsePartitionNode(kind.value, groups_, name(), &error);
    if (!partition) return Forward(error);
    event->partition = std::move(*partition);
    return true;
  }

  bool ParseHeal(const Entry& kind, TraceEvent* event) {
    if (kind.value.IsMap()) {
      std::vector<Entry> entries;
      if (!Entries(kind, "heal", /*allow_empty=*/false, &entries)) return false;
      for (const Entry& entry : entries) {
        if (entry.key != "partition") return UnknownKey(entry, "heal", {"partition"});
        if (!NonEmptyText(entry, &event->heal_partition)) return false;
      }
      if (entries.empty()) return Fail(kind.value, "heal needs 'partition' (its name)");
      event->heal = HealWhat::kPartition;
      return true;
    }
    if (!kind.value.IsScalar()) {
      return Fail(At(kind), "heal needs partitions, impairments, all or {partition: NAME}, not " +
                                KindOf(kind.value));
    }
    size_t index = 0;
    if (!Choice(kind, kHealNames, &index)) return false;
    event->heal = static_cast<HealWhat>(index);
    return true;
  }

  bool ParseStall(const Entry& kind, TraceEvent* event) {
    std::vector<Entry> entries;
    if (!Entries(kind, "stall", /*allow_empty=*/false, &entries)) return false;
    bool has_group = false, has_for = false, has_limit = false;
    for (const Entry& entry : entries) {
      bool ok = true;
      if (entry.key == "group") {
        std::string error;
        std::optional<EndpointSet> members = ParseEndpointsNode(
            entry.value, At(entry), "group", groups_, name(), &event->group, &error);
        if (!members) return Forward(error);
        event->members = std::move(*members);
        has_group = true;
      } else if (entry.key == "for") {
        ok = PositiveDuration(entry, &event->for_ns);
        has_for = true;
      } else if (entry.key == "limit") {
        std::string text, error;
        ok = Text(entry, &text);
        if (!ok) return false;
        const std::optional<Size> size = ParseSize(text, &error);
        if (!size) return Fail(entry.value, "limit: " + error);
        if (size->value == 0) return Fail(entry.value, "limit must be more than 0");
        // As a profile's stall limit.
        const uint64_t max = size->packets ? kMaxStallLimitPackets : kMaxStallLimitBytes;
        if (size->value > max) {
          return Fail(entry.value, "limit: '" + text + "' is above the limit of " +
                                       FormatSize({max, size->packets}));
        }
        event->stall_limit = size->packets ? SizeLimit{.packets = size->value, .bytes = 0}
                                           : SizeLimit{.packets = 0, .bytes = size->value};
        has_limit = true;
      } else {
        ok = UnknownKey(entry, "stall", {"group", "for", "limit"});
      }
      if (!ok) return false;
    }
    if (!has_group) return Fail(kind.value, "stall needs 'group' (whose frames are held)");
    if (!has_for) return Fail(kind.value, "stall needs 'for' (how long the pause lasts)");
    if (!has_limit) event->stall_limit.packets = kDefaultStallLimitPackets;
    return true;
  }

  bool ParseLink(const Entry& kind, TraceEvent* event) {
    std::vector<Entry> entries;
    if (!Entries(kind, "link", /*allow_empty=*/false, &entries)) return false;
    std::map<std::string, const Entry*> given;
    for (const Entry& entry : entries) {
      bool ok = true;
      size_t index = 0;
      if (entry.key == "side") {
        ok = Choice(entry, kSideNames, &index);
        event->side = static_cast<LinkSide>(index);
      } else if (entry.key == "state") {
        ok = Choice(entry, kLinkStates, &index);
        event->link = static_cast<LinkChange>(index);
      } else if (entry.key == "for") {
        ok = PositiveDuration(entry, &event->for_ns);
      } else if (entry.key == "down") {
        ok = PositiveDuration(entry, &event->flap_down_ns);
      } else if (entry.key == "up") {
        ok = PositiveDuration(entry, &event->flap_up_ns);
      } else {
        ok = UnknownKey(entry, "link", {"side", "state", "for", "down", "up"});
      }
      if (!ok) return false;
      given[entry.key] = &entry;
    }
    if (!given.count("side")) return Fail(kind.value, "link needs 'side' (a, b or both)");
    if (!given.count("state")) return Fail(kind.value, "link needs 'state' (up, down or flapping)");
    const std::string state = given.at("state")->value.Scalar();
    if (event->link != LinkChange::kFlapping) {
      for (const char* key : {"down", "up"}) {
        if (given.count(key)) {
          return Fail(given.at(key)->key_node, "'" + std::string(key) +
                                                   "' is only for state flapping (how long each " +
                                                   key + " lasts); this link's state is " + state);
        }
      }
      if (event->link == LinkChange::kUp && given.count("for")) {
        return Fail(given.at("for")->key_node,
                    "'for' is only for state down (back up after it) or flapping; this link's "
                    "state is up");
      }
      return true;
    }
    for (const auto& [key, what] :
         {std::pair{"for", "how long it flaps"}, std::pair{"down", "how long each down lasts"},
          std::pair{"up", "how long each up lasts"}}) {
      if (!given.count(key)) {
        return Fail(kind.value,
                    "link state flapping needs '" + std::string(key) + "' (" + what + ")");
      }
    }
    return true;
  }

  // One round lasts `duration`, or until the last event ends; it must hold every event, and a
  // round of 0s cannot repeat.
  bool CheckTiming(const Entry* repeat, const Entry* duration) {
    uint64_t end = 0;
    const TraceEvent* last = nullptr;
    for (const TraceEvent& event : trace_.events) {
      if (event.at_ns > kMaxTraceTimeNs || event.for_ns > kMaxTraceTimeNs - event.at_ns) {
        yaml::Mark mark;
        mark.line = event.line - 1;
        mark.column = event.column - 1;
        return Fail(mark, "at + for is later than " + Time(kMaxTraceTimeNs) +
                              ", the longest a trace may last");
      }
      if (event.at_ns + event.for_ns >= end) {
        end = event.at_ns + event.for_ns;
        last = &event;
      }
    }
    if (duration == nullptr) {
      trace_.period_ns = end;
    } else if (trace_.period_ns < end) {
      return Fail(duration->value, "duration: " + Time(trace_.period_ns) +
                                       " is shorter than the events, which end at " + Time(end) +
                                       " (the event on line " + std::to_string(last->line) + ")");
    }
    if (trace_.repeat != 1 && trace_.period_ns == 0) {
      return Fail(repeat->value,
                  "repeat: a round of 0s cannot repeat (every event is at 0s and has no 'for'); "
                  "give 'duration'");
    }
    return true;
  }

  // Plays the trace on its profile (or the running one) so that every event can apply.
  bool CheckEvents() {
    const ProfileSpec empty;
    const ProfileSpec& base = running_ != nullptr ? *running_ : empty;
    const std::string error = CheckTrace(trace_, base);
    if (error.empty()) return true;
    const bool no_profile = !trace_.profile && running_ == nullptr;
    return Forward(name() + ":" + error +
                   (no_profile ? "; the trace has no 'profile:' and none was given: add 'profile:' "
                                 "to the trace or pass --profile"
                               : ""));
  }

  std::filesystem::path base_directory_;
  const ProfileSpec* running_;
  std::string* replaced_ = nullptr;
  GroupContext groups_;
  EndpointCounts endpoints_;
  TraceSpec trace_;
};

std::string DescribeLimit(const SizeLimit& limit) {
  return limit.packets ? FormatSize({limit.packets, true}) : FormatSize({limit.bytes, false});
}

}  // namespace

std::optional<TraceSpec> ParseTraceText(const std::string& text, const std::string& name_for_errors,
                                        const std::string& base_directory,
                                        const ProfileSpec* running, std::string* error) {
  return TraceParser(name_for_errors, base_directory, running).Parse(text, error);
}

std::optional<TraceSpec> ParseTraceFile(const std::string& path, const ProfileSpec* running,
                                        std::string* error) {
  const std::optional<std::string> text = yaml_source::ReadSourceFile(path, error);
  if (!text) return std::nullopt;
  return TraceParser(path, std::filesystem::path(path).parent_path(), running).Parse(*text, error);
}

std::optional<TraceSpec> ParseTraceFileReplacingProfile(const std::string& path,
                                                        const ProfileSpec& profile,
                                                        std::string* replaced, std::string* error) {
  replaced->clear();
  const std::optional<std::string> text = yaml_source::ReadSourceFile(path, error);
  if (!text) return std::nullopt;
  TraceParser parser(path, std::filesystem::path(path).parent_path(), &profile);
  parser.ReplaceOwnProfile(replaced);
  return parser.Parse(*text, error);
}

bool LooksLikeTrace(const std::string& text) {
  yaml::LoadError ignored;  // not YAML at all: the profile parser reports it
  const std::optional<std::vector<yaml::Node>> documents = yaml::LoadAll(text, &ignored);
  return documents && !documents->empty() && (*documents)[0].Find("events").has_value();
}

std::string DescribeTrace(const TraceSpec& trace) {
  const std::string rounds =
      trace.repeat == 1 ? "once, " + FormatHumanDuration(trace.period_ns)
      : trace.repeat == 0
          ? "forever, rounds of " + FormatHumanDuration(trace.period_ns)
          : std::to_string(trace.repeat) + " rounds of " + FormatHumanDuration(trace.period_ns);
  std::string text =
      "trace " + trace.name + ", version " + std::to_string(trace.version) + ", " +
      Plural(trace.events.size(), "event") + ", " + rounds + ", " +
      (trace.profile ? "profile " + trace.profile_source : "on the running profile") + "\n";
  if (trace.profile) {
    std::istringstream profile(DescribeProfile(*trace.profile));
    std::string line;
    std::getline(profile, line);
    text += "  profile " + trace.profile_source + ": " + line + "\n";
    while (std::getline(profile, line)) text += "  " + line + "\n";
  }
  for (const TraceEvent& event : trace.events) {
    text += "  at " + FormatHumanDuration(event.at_ns) + " (line " + std::to_string(event.line) +
            "): " + DescribeTraceEvent(event);
    if (event.kind == TraceEventKind::kPartition) {
      text += ": " + std::string(kPartitionModeNames[static_cast<int>(event.partition.mode)]) +
              ", " +
              (event.partition.new_connections_only ? "new connections (TCP SYN) only"
                                                    : "all traffic") +
              ", " + Plural(event.partition.cuts.size(), "cut");
    } else if (event.kind == TraceEventKind::kStall) {
      text += ", limit " + DescribeLimit(event.stall_limit) + ", ends at " +
              FormatHumanDuration(event.at_ns + event.for_ns);
    } else if (event.kind == TraceEventKind::kLink && event.for_ns > 0) {
      text += ", up again at " + FormatHumanDuration(event.at_ns + event.for_ns);
    }
    text += "\n";
  }
  return text;
}

}  // namespace faultline
