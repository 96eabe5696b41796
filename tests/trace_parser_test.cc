#include "control/trace/trace_parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "control/profile/profile_parser.h"
#include "dataplane/config/trace_timeline.h"

namespace faultline {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1'000'000'000;

// The example of docs/formats.md ("Trace file"), with its profile inline.
constexpr char kExample[] = R"(version: 1
name: leader-isolation
profile:
  version: 1
  groups:
    rack-a: [10.0.1.0/24]
    rack-b: [10.0.2.0/24]
    n3: [10.0.2.13]
  impairments:
    congested-tor: {delay: {base: 1ms}}
    flaky-link: {loss: {probability: 2%}}
  rules:
    - {name: etcd-peers, match: {src: rack-a, dst: rack-b}, impairment: congested-tor}
repeat: 3
duration: 180s
events:
  - at: 0s
    set-impairment: {rule: etcd-peers, impairment: flaky-link}
  - at: 10s
    partition: {isolate: n3, mode: icmp-unreachable, name: iso-n3}
  - at: 40s
    heal: partitions
  - at: 45s
    stall: {group: n3, for: 800ms, limit: 10000pkt}
  - at: 60s
    link: {side: b, state: down, for: 59s}
  - at: 120s
    link: {side: a, state: flapping, for: 30s, down: 1s, up: 4s}
)";

// The profile traces without `profile:` run on in these tests.
constexpr char kRunning[] = R"(version: 1
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24]
  n3: [10.0.2.13]
  n4: [10.0.2.14]
impairments:
  slow: {delay: {base: 5ms}}
  flaky: {loss: {probability: 1%}}
rules:
  - {name: r1, match: {}, impairment: slow}
partitions:
  - {from: rack-a, to: rack-b, name: one-way}
)";

ProfileSpec Running() {
  std::string error;
  std::optional<ProfileSpec> profile = ParseProfileText(kRunning, "running.yaml", &error);
  EXPECT_TRUE(profile.has_value()) << error;
  return profile.value_or(ProfileSpec{});
}

TraceSpec Parse(const std::string& text, const ProfileSpec* running = nullptr,
                const std::string& directory = "") {
  std::string error;
  std::optional<TraceSpec> trace = ParseTraceText(text, "t.yaml", directory, running, &error);
  EXPECT_TRUE(trace.has_value()) << error;
  return trace.value_or(TraceSpec{});
}

TraceSpec ParseOnRunning(const std::string& text) {
  const ProfileSpec running = Running();
  return Parse(text, &running);
}

// Expects `text` (named t.yaml) not to parse, with an error starting with `where`
// ("t.yaml:LINE:COL: ") and containing `words`.
void ExpectError(const std::string& text, const std::string& where, const std::string& words,
                 const ProfileSpec* running = nullptr, const std::string& directory = "") {
  std::string error;
  EXPECT_FALSE(ParseTraceText(text, "t.yaml", directory, running, &error).has_value()) << text;
  EXPECT_EQ(error.substr(0, where.size()), where) << error;
  EXPECT_NE(error.find(words), std::string::npos) << error;
}

void ExpectErrorOnRunning(const std::string& text, const std::string& where,
                          const std::string& words) {
  const ProfileSpec running = Running();
  ExpectError(text, where, words, &running);
}

Prefix Host(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return Prefix{.family = 4, .length = 32, .address = {a, b, c, d}};
}

// A fresh directory for files, removed at the end of the test.
class TempDirectory {
 public:
  TempDirectory() {
    path_ = std::filesystem::temp_directory_path() /
            ("trace_parser_test." + std::to_string(getpid()) + "." + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDirectory() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

// --- Good traces ---

TEST(TraceParserTest, ExampleParsesToItsValues) {
  const TraceSpec trace = Parse(kExample);
  EXPECT_EQ(trace.version, 1);
  EXPECT_EQ(trace.name, "leader-isolation");
  ASSERT_TRUE(trace.profile.has_value());
  EXPECT_EQ(trace.profile_source, "inline");
  EXPECT_EQ(trace.profile->groups.size(), 3u);
  EXPECT_EQ(trace.profile->rules.size(), 1u);
  EXPECT_EQ(trace.repeat, 3u);
  EXPECT_EQ(trace.period_ns, 180 * kS);
  ASSERT_EQ(trace.events.size(), 6u);

  const TraceEvent& set = trace.events[0];
  EXPECT_EQ(set.kind, TraceEventKind::kSetImpairment);
  EXPECT_EQ(set.at_ns, 0u);
  EXPECT_EQ(set.rule, "etcd-peers");
  EXPECT_EQ(set.impairment, "flaky-link");
  EXPECT_EQ(set.line, 17);
  EXPECT_EQ(set.column, 5);

  const TraceEvent& partition = trace.events[1];
  EXPECT_EQ(partition.kind, TraceEventKind::kPartition);
  EXPECT_EQ(partition.at_ns, 10 * kS);
  EXPECT_EQ(partition.partition.name, "iso-n3");
  EXPECT_EQ(partition.partition.mode, PartitionMode::kIcmpUnreachable);
  EXPECT_FALSE(partition.partition.new_connections_only);
  ASSERT_EQ(partition.partition.cuts.size(), 2u);
  EXPECT_EQ(partition.partition.cuts[0].from.prefixes, std::vector{Host(10, 0, 2, 13)});
  EXPECT_TRUE(partition.partition.cuts[0].to_complement);
  EXPECT_TRUE(partition.partition.cuts[1].from_complement);
  EXPECT_EQ(partition.line, 19);

  EXPECT_EQ(trace.events[2].kind, TraceEventKind::kHeal);
  EXPECT_EQ(trace.events[2].heal, HealWhat::kPartitions);

  const TraceEvent& stall = trace.events[3];
  EXPECT_EQ(stall.kind, TraceEventKind::kStall);
  EXPECT_EQ(stall.at_ns, 45 * kS);
  EXPECT_EQ(stall.group, "n3");
  EXPECT_EQ(stall.members.prefixes, std::vector{Host(10, 0, 2, 13)});
  EXPECT_EQ(stall.for_ns, 800 * kMs);
  EXPECT_EQ(stall.stall_limit.packets, 10000u);
  EXPECT_EQ(stall.stall_limit.bytes, 0u);

  const TraceEvent& down = trace.events[4];
  EXPECT_EQ(down.kind, TraceEventKind::kLink);
  EXPECT_EQ(down.side, LinkSide::kB);
  EXPECT_EQ(down.link, LinkChange::kDown);
  EXPECT_EQ(down.for_ns, 59 * kS);

  const TraceEvent& flap = trace.events[5];
  EXPECT_EQ(flap.side, LinkSide::kA);
  EXPECT_EQ(flap.link, LinkChange::kFlapping);
  EXPECT_EQ(flap.for_ns, 30 * kS);
  EXPECT_EQ(flap.flap_down_ns, 1 * kS);
  EXPECT_EQ(flap.flap_up_ns, 4 * kS);
  EXPECT_EQ(flap.at_ns, 120 * kS);
}

TEST(TraceParserTest, EveryPartitionFormWithGeneratedNames) {
  const TraceSpec trace = ParseOnRunning(R"(version: 1
events:
  - {at: 1s, partition: {from: rack-a, to: rack-b}}
  - {at: 2s, partition: {between: [rack-a, n3], connections: new}}
  - {at: 3s, partition: {isolate: [n3, n4], mode: tcp-reset}}
  - {at: 4s, partition: {shape: halves, nodes: [rack-a, rack-b, n3, n4]}}
  - {at: 5s, partition: {isolate: 10.9.0.0/16}}
)");
  ASSERT_EQ(trace.events.size(), 5u);
  EXPECT_EQ(trace.events[0].partition.name, "rack-a -> rack-b");
  EXPECT_EQ(trace.events[0].partition.cuts.size(), 1u);
  EXPECT_EQ(trace.events[1].partition.name, "rack-a <-> n3");
  EXPECT_TRUE(trace.events[1].partition.new_connections_only);
  EXPECT_EQ(trace.events[1].partition.cuts.size(), 2u);
  EXPECT_EQ(trace.events[2].partition.name, "isolate n3+n4");
  EXPECT_EQ(trace.events[2].partition.mode, PartitionMode::kTcpReset);
  EXPECT_EQ(trace.events[2].partition.cuts[0].from.prefixes.size(), 2u);
  EXPECT_EQ(trace.events[3].partition.name, "halves rack-a,rack-b | n3,n4");
  EXPECT_EQ(trace.events[3].partition.cuts.size(), 8u);
  EXPECT_EQ(trace.events[4].partition.name, "isolate 10.9.0.0/16");
  EXPECT_EQ(trace.events[4].line, 7);
  EXPECT_EQ(trace.events[4].column, 5);
}

TEST(TraceParserTest, HealForms) {
  const TraceSpec trace = ParseOnRunning(R"(version: 1
events:
  - {at: 1s, heal: partitions}
  - {at: 2s, heal: impairments}
  - {at: 3s, heal: all}
  - {at: 4s, partition: {isolate: n3, name: iso}}
  - {at: 5s, heal: {partition: iso}}
)");
  ASSERT_EQ(trace.events.size(), 5u);
  EXPECT_EQ(trace.events[0].heal, HealWhat::kPartitions);
  EXPECT_EQ(trace.events[1].heal, HealWhat::kImpairments);
  EXPECT_EQ(trace.events[2].heal, HealWhat::kAll);
  EXPECT_EQ(trace.events[4].heal, HealWhat::kPartition);
  EXPECT_EQ(trace.events[4].heal_partition, "iso");
}

TEST(TraceParserTest, HealANamedPartitionOfTheRunningProfile) {
  const TraceSpec trace = ParseOnRunning(R"(version: 1
events:
  - {at: 1s, heal: {partition: one-way}}
)");
  ASSERT_EQ(trace.events.size(), 1u);
  EXPECT_EQ(trace.events[0].heal_partition, "one-way");
}

TEST(TraceParserTest, StallForms) {
  const TraceSpec trace = ParseOnRunning(R"(version: 1
events:
  - {at: 1s, stall: {group: n3, for: 2s}}
  - {at: 5s, stall: {group: [n3, 10.0.9.9], for: 1ms, limit: 64KiB}}
  - {at: 6s, stall: {group: 10.0.2.14, for: 1s, limit: 5pkt}}
)");
  ASSERT_EQ(trace.events.size(), 3u);
  EXPECT_EQ(trace.events[0].stall_limit.packets, 10000u);  // the default
  EXPECT_EQ(trace.events[0].for_ns, 2 * kS);
  EXPECT_EQ(trace.events[1].group, "n3+10.0.9.9");
  EXPECT_EQ(trace.events[1].members.prefixes.size(), 2u);
  EXPECT_EQ(trace.events[1].stall_limit.bytes, 65536u);
  EXPECT_EQ(trace.events[1].stall_limit.packets, 0u);
  EXPECT_EQ(trace.events[2].group, "10.0.2.14");
  EXPECT_EQ(trace.events[2].stall_limit.packets, 5u);
  EXPECT_EQ(trace.period_ns, 7 * kS);  // the last event's end
}

TEST(TraceParserTest, LinkForms) {
  const TraceSpec trace = Parse(R"(version: 1
events:
  - {at: 1s, link: {side: a, state: down}}
  - {at: 2s, link: {side: a, state: up}}
  - {at: 3s, link: {side: both, state: down, for: 1s}}
  - {at: 5s, link: {state: flapping, side: b, up: 20ms, down: 10ms, for: 1s}}
)");
  ASSERT_EQ(trace.events.size(), 4u);
  EXPECT_EQ(trace.events[0].link, LinkChange::kDown);
  EXPECT_EQ(trace.events[0].for_ns, 0u);
  EXPECT_EQ(trace.events[1].link, LinkChange::kUp);
  EXPECT_EQ(trace.events[2].side, LinkSide::kBoth);
  EXPECT_EQ(trace.events[2].for_ns, 1 * kS);
  EXPECT_EQ(trace.events[3].side, LinkSide::kB);
  EXPECT_EQ(trace.events[3].flap_down_ns, 10 * kMs);
  EXPECT_EQ(trace.events[3].flap_up_ns, 20 * kMs);
  EXPECT_EQ(trace.period_ns, 6 * kS);
  EXPECT_FALSE(trace.profile.has_value());
  EXPECT_EQ(trace.profile_source, "");
  EXPECT_EQ(trace.name, "t");  // from the file name
  EXPECT_EQ(trace.repeat, 1u);
}

TEST(TraceParserTest, EventsOutOfOrderAreSortedStably) {
  const TraceSpec trace = Parse(R"(version: 1
events:
  - {at: 10s, heal: all}
  - {at: 1s, link: {side: a, state: down}}
  - {at: 10s, heal: partitions}
  - {at: 1s, link: {side: b, state: down}}
)");
  ASSERT_EQ(trace.events.size(), 4u);
  EXPECT_EQ(trace.events[0].side, LinkSide::kA);
  EXPECT_EQ(trace.events[0].line, 4);
  EXPECT_EQ(trace.events[1].side, LinkSide::kB);
  EXPECT_EQ(trace.events[1].line, 6);
  EXPECT_EQ(trace.events[2].heal, HealWhat::kAll);
  EXPECT_EQ(trace.events[2].line, 3);
  EXPECT_EQ(trace.events[3].heal, HealWhat::kPartitions);
  EXPECT_EQ(trace.events[3].line, 5);
}

TEST(TraceParserTest, RepeatForeverAndDuration) {
  const TraceSpec forever = Parse(R"(version: 1
repeat: forever
duration: 1m
events:
  - {at: 10s, link: {side: a, state: down, for: 5s}}
)");
  EXPECT_EQ(forever.repeat, 0u);
  EXPECT_EQ(forever.period_ns, 60 * kS);
  // A round of exactly the events' end is fine; the default is that end.
  EXPECT_EQ(Parse("version: 1\nrepeat: 2\nduration: 15s\nevents:\n"
                  "  - {at: 10s, link: {side: a, state: down, for: 5s}}\n")
                .period_ns,
            15 * kS);
  const TraceSpec twice = Parse(R"(version: 1
repeat: 2
events:
  - {at: 10s, stall: {group: 10.0.0.1, for: 5s}}
  - {at: 12s, heal: all}
)");
  EXPECT_EQ(twice.repeat, 2u);
  EXPECT_EQ(twice.period_ns, 15 * kS);
}

TEST(TraceParserTest, ProfileByPathRelativeToTheTrace) {
  TempDirectory directory;
  directory.Write("profiles/base.yaml", kRunning);
  const std::string path = directory.Write("traces/t.yaml", R"(version: 1
profile: ../profiles/base.yaml
events:
  - {at: 1s, set-impairment: {rule: r1, impairment: flaky}}
  - {at: 2s, stall: {group: n4, for: 1s}}
)");
  std::string error;
  const std::optional<TraceSpec> trace = ParseTraceFile(path, nullptr, &error);
  ASSERT_TRUE(trace.has_value()) << error;
  EXPECT_EQ(trace->profile_source, "../profiles/base.yaml");
  ASSERT_TRUE(trace->profile.has_value());
  EXPECT_EQ(trace->profile->groups.size(), 4u);
  EXPECT_EQ(trace->events[1].members.prefixes, std::vector{Host(10, 0, 2, 14)});
  EXPECT_EQ(trace->name, "t");
}

TEST(TraceParserTest, OwnProfileWinsOverTheRunningOne) {
  // The running profile has no rule `only-here`; the trace's own does.
  const ProfileSpec running = Running();
  const TraceSpec trace = Parse(R"(version: 1
profile:
  version: 1
  groups: {n9: [10.9.9.9]}
  impairments: {x: {}}
  rules: [{name: only-here, match: {src: n9}, impairment: x}]
events:
  - {at: 1s, set-impairment: {rule: only-here, impairment: x}}
  - {at: 1s, stall: {group: n9, for: 1s}}
)",
                                &running);
  EXPECT_EQ(trace.events[1].members.prefixes, std::vector{Host(10, 9, 9, 9)});
}

TEST(TraceParserTest, WithoutAnyProfileAddressesStillWork) {
  const TraceSpec trace = Parse(R"(version: 1
events:
  - {at: 1s, partition: {from: 10.0.0.1, to: 10.0.0.2}}
  - {at: 2s, stall: {group: "02:00:00:00:00:01", for: 1s}}
  - {at: 3s, heal: {partition: 10.0.0.1 -> 10.0.0.2}}
)");
  ASSERT_EQ(trace.events.size(), 3u);
  EXPECT_EQ(trace.events[1].members.macs.size(), 1u);
}

TEST(TraceParserTest, LooksLikeTrace) {
  EXPECT_TRUE(LooksLikeTrace(kExample));
  EXPECT_TRUE(LooksLikeTrace("events: []\n"));
  EXPECT_FALSE(LooksLikeTrace(kRunning));
  EXPECT_FALSE(LooksLikeTrace("- events\n"));
  EXPECT_FALSE(LooksLikeTrace("{unclosed\n"));
  EXPECT_FALSE(LooksLikeTrace(""));
}

TEST(TraceParserTest, DescribeTraceListsEveryEvent) {
  const std::string text = DescribeTrace(Parse(kExample));
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "trace leader-isolation, version 1, 6 events, 3 rounds of 3m, profile inline");
  EXPECT_NE(text.find("\n  profile inline: version 1, no seed"), std::string::npos) << text;
  EXPECT_NE(text.find("\n  at 0s (line 17): set-impairment etcd-peers -> flaky-link\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  at 10s (line 19): partition iso-n3: icmp-unreachable, all traffic, 2 "
                      "cuts\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  at 45s (line 23): stall n3 for 800ms, limit 10000pkt, ends at "
                      "45.8s\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n  at 1m (line 25): link b down for 59s, up again at 119s\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(TraceParserTest, TimelineOfTheExample) {
  const TraceSpec trace = Parse(kExample);
  TraceTimeline timeline(trace);
  TraceState state{.spec = *trace.profile};
  std::vector<std::string> descriptions;
  while (std::optional<TraceStep> step = timeline.Next()) {
    ASSERT_EQ(timeline.Apply(*step, &state), "") << step->description;
    if (step->round == 0) descriptions.push_back(step->description);
  }
  ASSERT_GE(descriptions.size(), 8u);
  EXPECT_EQ(descriptions[0], "set-impairment etcd-peers -> flaky-link");
  EXPECT_EQ(descriptions[1], "partition iso-n3");
  EXPECT_EQ(descriptions[2], "heal partitions");
  EXPECT_EQ(descriptions[3], "stall n3 for 800ms");
  EXPECT_EQ(descriptions[4], "stall n3 ends");
  EXPECT_EQ(descriptions[5], "link b down for 59s");
  EXPECT_EQ(descriptions[6], "link b up");
  EXPECT_EQ(descriptions[7], "link a flapping for 30s (down 1s, up 4s): down");
  EXPECT_EQ(state.spec.rules.size(), 1u);
  EXPECT_EQ(state.spec.impairments.size(), 2u);
  EXPECT_EQ(state.spec.link_down, (std::array<bool, 2>{false, false}));
}

// --- Bad traces: each error names t.yaml:LINE:COL ---

TEST(TraceParserTest, TopLevelErrors) {
  ExpectError("name: x\nevents: []\n", "t.yaml:1:1: ", "missing 'version'");
  ExpectError("version: 2\nevents: []\n", "t.yaml:1:10: ", "unsupported trace version '2'");
  ExpectError("version: 1\nspeed: 2\nevents:\n  - {at: 1s, heal: all}\n", "t.yaml:2:1: ",
              "unknown key 'speed' in the trace (known: version, name, profile, repeat, "
              "duration, events)");
  ExpectError("version: 1\nname: x\n", "t.yaml:1:1: ", "missing 'events'");
  ExpectError("version: 1\nevents: []\n", "t.yaml:2:9: ", "events is an empty list");
  ExpectError("version: 1\nevents: {at: 1s}\n", "t.yaml:2:9: ", "events must be a list");
  ExpectError("version: 1\nname: \"\"\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:2:7: ", "name must not be empty");
  ExpectError("version: 1\nevents:\n  - {at: 1s, heal: all}\n---\nversion: 1\n",
              "t.yaml:5:1: ", "a trace is a single YAML document");
  ExpectError("version: 1\nevents:\n  - {at: 1s, heal: all}\nevents: []\n",
              "t.yaml:4:1: ", "duplicate key 'events' in the trace (first on line 2)");
  ExpectError("version: 1\nevents: [\n", "t.yaml:", "");  // a YAML syntax error
}

// A profile or a topology where a trace belongs is named as such (not "unknown key 'seed'").
TEST(TraceParserTest, ProfileOrTopologyInsteadOfATrace) {
  ExpectError("version: 1\nseed: 42\ngroups:\n  a: [10.0.0.1]\n", "t.yaml:2:1: ",
              "this is a profile (it has 'seed:' and no 'events:'), not a trace: use it with "
              "--profile or 'faultline apply FILE'");
  ExpectError("version: 1\nrules: []\n", "t.yaml:2:1: ", "this is a profile");
  ExpectError("version: 1\nracks:\n  r: [10.0.0.1]\n",
              "t.yaml:2:1: ", "this is a topology (it has 'racks:'), not a trace");
  // A trace with a stray profile key is still a trace with an unknown key.
  ExpectError("version: 1\nseed: 2\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:2:1: ", "unknown key 'seed' in the trace");
}

TEST(TraceParserTest, EventShapeErrors) {
  ExpectError("version: 1\nevents:\n  - heal all\n",
              "t.yaml:3:5: ", "an event must be a map, not 'heal all'");
  ExpectError("version: 1\nevents:\n  - heal: all\n",
              "t.yaml:3:5: ", "an event needs 'at' (when it happens");
  ExpectError("version: 1\nevents:\n  - at: 1s\n",
              "t.yaml:3:5: ", "an event needs one of set-impairment, partition, heal, stall, link");
  ExpectError("version: 1\nevents:\n  - at: 1s\n    heal: all\n    link: {side: a, state: up}\n",
              "t.yaml:5:5: ", "an event has one kind, and 'link' cannot go with 'heal'");
  ExpectError("version: 1\nevents:\n  - at: 1s\n    when: now\n    heal: all\n", "t.yaml:4:5: ",
              "unknown key 'when' in an event (known: at, set-impairment, partition, heal, "
              "stall, link)");
  ExpectError("version: 1\nevents:\n  - at: 1s\n    at: 2s\n    heal: all\n",
              "t.yaml:4:5: ", "duplicate key 'at' in an event (first on line 3)");
}

TEST(TraceParserTest, UnitsAreMandatory) {
  ExpectError("version: 1\nevents:\n  - {at: 10, heal: all}\n",
              "t.yaml:3:10: ", "at: '10' needs a unit");
  ExpectError("version: 1\nevents:\n  - {at: 5sec, heal: all}\n", "t.yaml:3:10: ", "at: ");
  ExpectError("version: 1\nevents:\n  - {at: 1s, stall: {group: 10.0.0.1, for: 800}}\n",
              "t.yaml:3:44: ", "for: '800' needs a unit");
  ExpectError("version: 1\nevents:\n  - {at: 1s, stall: {group: 10.0.0.1, for: 1s, limit: 100}}\n",
              "t.yaml:3:55: ", "limit: '100'");
  ExpectError("version: 1\nduration: 90\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:2:11: ", "duration: '90' needs a unit");
  ExpectError(
      "version: 1\nevents:\n  - {at: 1s, link: {side: a, state: flapping, for: 10s, down: 1, "
      "up: 1s}}\n",
      "t.yaml:3:63: ", "down: '1' needs a unit");
}

TEST(TraceParserTest, SetImpairmentErrors) {
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, set-impairment: {rule: r1}}\n",
                       "t.yaml:3:30: ", "set-impairment needs 'impairment'");
  ExpectErrorOnRunning(
      "version: 1\nevents:\n  - {at: 1s, set-impairment: {rule: r1, impairment: slow, x: 1}}\n",
      "t.yaml:3:59: ", "unknown key 'x' in set-impairment (known: rule, impairment)");
  // Checked against the profile, pointing at the event.
  ExpectErrorOnRunning(
      "version: 1\nevents:\n  - at: 1s\n    set-impairment: {rule: r9, impairment: slow}\n",
      "t.yaml:3:5: ", "set-impairment: no rule named 'r9' (rules: r1)");
  ExpectErrorOnRunning(
      "version: 1\nevents:\n  - {at: 1s, heal: all}\n  - {at: 2s, set-impairment: {rule: r1, "
      "impairment: gone}}\n",
      "t.yaml:4:5: ", "set-impairment: no impairment named 'gone' (impairments: slow, flaky)");
  // No profile at all: say how to give one.
  ExpectError("version: 1\nevents:\n  - {at: 1s, set-impairment: {rule: r1, impairment: x}}\n",
              "t.yaml:3:5: ", "add 'profile:' to the trace or pass --profile");
}

TEST(TraceParserTest, PartitionErrors) {
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, partition: {isolate: n7}}\n",
                       "t.yaml:3:35: ",
                       "isolate: 'n7' is neither a group nor an address, prefix or MAC address "
                       "(groups: rack-a, rack-b, n3, n4)");
  ExpectError("version: 1\nevents:\n  - {at: 1s, partition: {isolate: n3}}\n", "t.yaml:3:35: ",
              "the trace has no 'profile:' to take groups from; add one, or pass --profile");
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, partition: {isolate: n3, from: n4}}\n",
                       "t.yaml:3:39: ", "a partition has one form");
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, partition: isolate n3}\n",
                       "t.yaml:3:25: ", "partition needs one entry as in a profile's partitions");
  ExpectErrorOnRunning(
      "version: 1\nevents:\n  - {at: 1s, partition: {isolate: n3, mode: silent}}\n",
      "t.yaml:3:45: ", "mode: unknown value 'silent'");
}

TEST(TraceParserTest, HealErrors) {
  ExpectError("version: 1\nevents:\n  - {at: 1s, heal: everything}\n", "t.yaml:3:20: ",
              "heal: unknown value 'everything' (use partitions, impairments, all)");
  ExpectError("version: 1\nevents:\n  - {at: 1s, heal: {rule: x}}\n",
              "t.yaml:3:21: ", "unknown key 'rule' in heal (known: partition)");
  ExpectError("version: 1\nevents:\n  - {at: 1s, heal: [all]}\n",
              "t.yaml:3:20: ", "heal needs partitions, impairments, all or {partition: NAME}");
  ExpectErrorOnRunning(
      "version: 1\nevents:\n  - {at: 1s, partition: {isolate: n3, name: iso}}\n"
      "  - {at: 2s, heal: {partition: isolate n3}}\n",
      "t.yaml:4:5: ", "heal: partition 'isolate n3' is not in force (in force: 'one-way', 'iso')");
}

TEST(TraceParserTest, StallErrors) {
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, stall: {group: n3}}\n",
                       "t.yaml:3:21: ", "stall needs 'for' (how long the pause lasts)");
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, stall: {for: 1s}}\n",
                       "t.yaml:3:21: ", "stall needs 'group'");
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, stall: {group: n9, for: 1s}}\n",
                       "t.yaml:3:29: ", "group: 'n9' is neither a group nor an address");
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, stall: {group: n3, for: 0s}}\n",
                       "t.yaml:3:38: ", "for must be more than 0s");
  ExpectErrorOnRunning(
      "version: 1\nevents:\n  - {at: 1s, stall: {group: n3, for: 1s, start: 0s}}\n",
      "t.yaml:3:42: ", "unknown key 'start' in stall (known: group, for, limit)");
  ExpectErrorOnRunning("version: 1\nevents:\n  - {at: 1s, stall: }\n",
                       "t.yaml:3:14: ", "stall must be a map, not empty");
}

TEST(TraceParserTest, LinkErrors) {
  ExpectError("version: 1\nevents:\n  - {at: 1s, link: {side: c, state: down}}\n",
              "t.yaml:3:27: ", "side: unknown value 'c' (use a, b, both)");
  ExpectError("version: 1\nevents:\n  - {at: 1s, link: {side: a, state: off}}\n",
              "t.yaml:3:37: ", "state: unknown value 'off' (use up, down, flapping)");
  ExpectError("version: 1\nevents:\n  - {at: 1s, link: {state: down}}\n",
              "t.yaml:3:20: ", "link needs 'side' (a, b or both)");
  ExpectError("version: 1\nevents:\n  - {at: 1s, link: {side: a}}\n",
              "t.yaml:3:20: ", "link needs 'state' (up, down or flapping)");
  ExpectError(
      "version: 1\nevents:\n  - {at: 1s, link: {side: a, state: flapping, for: 10s, up: 1s}}\n",
      "t.yaml:3:20: ", "link state flapping needs 'down' (how long each down lasts)");
  ExpectError(
      "version: 1\nevents:\n  - {at: 1s, link: {side: a, state: flapping, down: 1s, up: 1s}}\n",
      "t.yaml:3:20: ", "link state flapping needs 'for' (how long it flaps)");
  ExpectError(
      "version: 1\nevents:\n  - {at: 1s, link: {side: a, state: up, for: 1s}}\n", "t.yaml:3:41: ",
      "'for' is only for state down (back up after it) or flapping; this link's state is up");
  ExpectError(
      "version: 1\nevents:\n  - {at: 1s, link: {side: a, state: down, down: 1s}}\n",
      "t.yaml:3:43: ",
      "'down' is only for state flapping (how long each down lasts); this link's state is down");
}

TEST(TraceParserTest, TimingErrors) {
  ExpectError(
      "version: 1\nduration: 30s\nevents:\n  - {at: 1s, heal: all}\n"
      "  - {at: 25s, link: {side: a, state: down, for: 10s}}\n",
      "t.yaml:2:11: ",
      "duration: 30s is shorter than the events, which end at 35s (the event on line 5)");
  ExpectError("version: 1\nrepeat: 3\nevents:\n  - {at: 0s, heal: all}\n",
              "t.yaml:2:9: ", "repeat: a round of 0s cannot repeat");
  ExpectError("version: 1\nrepeat: 0\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:2:9: ", "repeat: '0' is not a number of rounds (1 or more) or 'forever'");
  ExpectError("version: 1\nrepeat: always\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:2:9: ", "repeat: 'always' is not a number of rounds");
  ExpectError("version: 1\nduration: 0s\nevents:\n  - {at: 0s, heal: all}\n",
              "t.yaml:2:11: ", "duration must be more than 0s");
}

TEST(TraceParserTest, SecondRoundErrorsNameTheRound) {
  // Healing the running profile's partition works once, not again in round 2.
  ExpectErrorOnRunning(
      "version: 1\nrepeat: 2\nevents:\n  - {at: 1s, heal: {partition: one-way}}\n", "t.yaml:4:5: ",
      "heal: partition 'one-way' is not in force (no partition is) (in round 2, at 2s)");
}

TEST(TraceParserTest, InlineProfileErrorsPointIntoTheTrace) {
  ExpectError(R"(version: 1
profile:
  version: 1
  impairments: {x: {delay: {base: 5}}}
events:
  - {at: 1s, heal: all}
)",
              "t.yaml:4:35: ", "base: '5' needs a unit");
  ExpectError("version: 1\nprofile:\n  groups: {}\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:3:3: ", "missing 'version'");
  ExpectError("version: 1\nprofile: [a.yaml]\nevents:\n  - {at: 1s, heal: all}\n",
              "t.yaml:2:10: ", "profile needs the path of a profile file or a profile");
}

TEST(TraceParserTest, ProfilePathErrors) {
  TempDirectory directory;
  directory.Write("bad.yaml", "version: 1\nrules: 5\n");
  ExpectError("version: 1\nprofile: bad.yaml\nevents:\n  - {at: 1s, heal: all}\n",
              directory.path() + "/bad.yaml:2:8: ", "rules must be a list", nullptr,
              directory.path());
  ExpectError(
      "version: 1\nprofile: missing.yaml\nevents:\n  - {at: 1s, heal: all}\n",
      "t.yaml:2:10: ", "profile: " + directory.path() + "/missing.yaml: cannot read: No such file",
      nullptr, directory.path());
}

TEST(TraceParserTest, ParseTraceFileNamesTheFile) {
  TempDirectory directory;
  const std::string path =
      directory.Write("x.yaml", "version: 1\nevents:\n  - {at: 1s, heal: sometimes}\n");
  std::string error;
  EXPECT_FALSE(ParseTraceFile(path, nullptr, &error).has_value());
  EXPECT_EQ(error.substr(0, path.size() + 7), path + ":3:20: ") << error;
  EXPECT_FALSE(ParseTraceFile(directory.path() + "/none.yaml", nullptr, &error).has_value());
  EXPECT_EQ(error, directory.path() + "/none.yaml: cannot read: No such file or directory");
}

}  // namespace
}  // namespace faultline
