// Profiles written back as YAML (`faultline show`): the text parses to the same ProfileSpec, for
// every shipped profile, every trace's own profile and the profile in force after each of its
// steps, and for a profile that uses every key, form and awkward name.
#include "control/profile/profile_yaml.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "control/profile/profile_parser.h"
#include "control/trace/trace_parser.h"
#include "control/yaml/yaml_source.h"
#include "dataplane/config/trace_timeline.h"

namespace faultline {
namespace {

// Writes `profile`, parses the text back and compares; the text is in the failure message.
void ExpectRoundTrip(const ProfileSpec& profile, const std::string& what) {
  const std::string text = ProfileYaml(profile);
  std::string error;
  const std::optional<ProfileSpec> back = ParseProfileText(text, what + " (written)", &error);
  ASSERT_TRUE(back.has_value()) << what << ": " << error << "\n" << text;
  EXPECT_TRUE(*back == profile) << what << ": reads back differently:\n"
                                << text << "\nread back and written again:\n"
                                << ProfileYaml(*back);
}

// The profile in force with what no profile file can say taken out (ProfileNotes).
ProfileSpec WithoutTraceOnlyState(ProfileSpec profile) {
  profile.link_down = {};
  for (ImpairmentSpec& impairment : profile.impairments) {
    if (impairment.stall) impairment.stall->at_activation = false;
  }
  return profile;
}

std::vector<std::filesystem::path> ShippedFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(
           std::filesystem::path(FAULTLINE_SOURCE_ROOT) / "profiles")) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ProfileYaml, EveryShippedProfileAndTraceStateReadsBackTheSame) {
  size_t profiles = 0, states = 0;
  for (const std::filesystem::path& path : ShippedFiles()) {
    SCOPED_TRACE(path.string());
    std::string error;
    const std::optional<std::string> text = yaml_source::ReadSourceFile(path.string(), &error);
    ASSERT_TRUE(text) << error;
    if (text->find("\nracks:") != std::string::npos || text->rfind("racks:", 0) == 0) {
      continue;  // a topology for `trace generate`
    }
    if (!LooksLikeTrace(*text)) {
      const std::optional<ProfileSpec> profile = ParseProfileFile(path.string(), &error);
      ASSERT_TRUE(profile) << error;
      ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(*profile, path.filename().string()));
      ++profiles;
      continue;
    }
    const std::optional<TraceSpec> trace = ParseTraceFile(path.string(), nullptr, &error);
    ASSERT_TRUE(trace) << error;
    ASSERT_TRUE(trace->profile) << "shipped traces bring their profile";
    ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(*trace->profile, path.filename().string()));
    ++profiles;
    // The first round's steps (at most 200: the generated month has thousands).
    TraceTimeline timeline(*trace);
    TraceState state{.spec = *trace->profile};
    for (int step = 0; step < 200; ++step) {
      const std::optional<TraceStep> next = timeline.Next();
      if (!next || next->round > 0) break;
      ASSERT_EQ(timeline.Apply(*next, &state), "");
      ASSERT_NO_FATAL_FAILURE(ExpectRoundTrip(WithoutTraceOnlyState(state.spec),
                                              path.filename().string() + " after step " +
                                                  std::to_string(next->index) + " (" +
                                                  next->description + ")"));
      ++states;
    }
  }
  std::printf("[ measured ] %zu profiles and %zu trace states written and read back\n", profiles,
              states);
  EXPECT_GE(profiles, 20u);
  EXPECT_GE(states, 20u);
}

// Every key, every partition form and shape, defaults and awkward values.
constexpr const char* kEverything = R"(version: 1
seed: 9007199254740991
groups:
  rack-a: [10.0.1.0/24, "fd00:1::/64"]
  rack-b: [10.0.2.0/24]
  n3: [10.0.2.13, "02:00:00:00:02:0d"]
  db: [rack-b, n3]
  "null": [10.9.9.9]
  "odd: name, with #": [10.8.0.0/16]
  n1: [10.1.0.1]
  n2: [10.1.0.2]
  n4: [10.1.0.4]
  n5: [10.1.0.5]
impairments:
  everything:
    delay: {base: 1500us, jitter: 333333ns, distribution: paretonormal, correlation: 0.3333333333333333}
    loss: {model: gilbert-elliott, p: 1%, r: 30%}
    duplicate: {probability: 0.5%, correlation: 1e-9}
    reorder: {probability: 5%, gap: 5, max-displacement: 8}
    corrupt: {probability: 0.01%, fix-checksums: true}
    rate: {bandwidth: 1500kbit, overhead: -4B, queue-limit: [100pkt, 64KiB], ecn-threshold: 10pkt}
    stall: {for: 800ms, start: 10s, every: 30s}
  markov:
    loss: {model: markov4, p13: 0.1%, p31: 90%, p32: 5%, p23: 80%, p14: 0.01%, max-size: 128B}
  bits:
    corrupt: {ber: 1e-6}
  plain:
    reorder: {}
  nothing: {}
  "impairment with spaces":
    loss: {probability: 1e-6, correlation: 25%}
rules:
  - name: "etcd: peers"
    match: {direction: a-to-b, src: rack-a, dst: [rack-b, 10.9.0.0/16], proto: tcp, src-port: 1000-2000, dst-port: 2379}
    impairment: everything
  - name: voice
    match: {vlan: 20, dscp: ef, proto: udp, src-mac: "02:00:00:00:00:01", dst-mac: ["02:00:00:00:00:02", "02:00:00:00:00:03"]}
    impairment: markov
  - name: classes
    match: {direction: b-to-a, dscp: af11-af13, vlan: 100-200, proto: 132}
    impairment: bits
  - name: arp
    match: {ethertype: arp, src: "02:00:00:00:02:0d"}
    impairment: plain
  - name: other-type
    match: {ethertype: 0x88b5}
    impairment: nothing
  - name: dscp-number
    match: {dscp: 5, src: db}
    impairment: "impairment with spaces"
  - name: rest
    match: {}
    impairment: nothing
partitions:
  - {from: rack-a, to: rack-b}
  - {between: [rack-a, n3, "null"], mode: icmp-unreachable}
  - {isolate: [n3, 10.7.0.1], mode: tcp-reset, connections: new}
  - {shape: bridge, nodes: [n1, [n2, n3], n4, n5, "odd: name, with #"], name: "a \"quoted\" name"}
  - {shape: halves, nodes: [n1, n2, n4, n5]}
  - {shape: majority, nodes: [n1, n2, n4]}
  - {shape: majorities-ring, nodes: [n1, n2, n4, n5]}
  - {from: rack-a, to: rack-b, name: "rack-a -> rack-b #2"}
)";

TEST(ProfileYaml, EveryKeyFormAndAwkwardNameReadsBackTheSame) {
  std::string error;
  const std::optional<ProfileSpec> profile =
      ParseProfileText(kEverything, "everything.yaml", &error);
  ASSERT_TRUE(profile) << error;
  ASSERT_EQ(profile->partitions.size(), 8u);
  ExpectRoundTrip(*profile, "everything.yaml");
}

TEST(ProfileYaml, WritesWhatPeopleWrote) {
  std::string error;
  const std::optional<ProfileSpec> profile =
      ParseProfileText(kEverything, "everything.yaml", &error);
  ASSERT_TRUE(profile) << error;
  const std::string text = ProfileYaml(*profile);
  // Group names where a rule names a group, partitions in their own form, exact units.
  EXPECT_NE(text.find("      src: rack-a\n      dst: [10.0.2.0/24, 10.9.0.0/16]\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  - {name: isolate n3+10.7.0.1, isolate: [n3, 10.7.0.1], mode: tcp-reset, "
                      "connections: new}\n"),
            std::string::npos)
      << text;
  // Too long for one line: a block.
  EXPECT_NE(text.find("    delay:\n      base: 1500us\n      jitter: 333333ns\n      distribution: "
                      "paretonormal\n      correlation: 0.3333333333333333\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("loss: {model: gilbert-elliott, p: 1%, r: 30%, loss-bad: 100%, loss-good: 0%}"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("  \"null\": [10.9.9.9]\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rate: {bandwidth: 1500kbit, overhead: -4B, queue-limit: [100pkt, 64KiB], "
                      "ecn-threshold: 10pkt}"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.rfind("version: 1\nseed: 9007199254740991\ngroups:\n", 0), 0u) << text;
}

// A trace's stall and link state are not profile keys: they are noted, not silently written as
// something else.
TEST(ProfileYaml, TraceOnlyStateIsNotedAsComments) {
  std::string error;
  std::optional<ProfileSpec> profile = ParseProfileText(kEverything, "everything.yaml", &error);
  ASSERT_TRUE(profile) << error;
  profile->link_down[1] = true;
  profile->impairments[0].stall->at_activation = true;
  const std::string text = ProfileYaml(*profile);
  EXPECT_EQ(text.rfind("# link b is down (a trace's link event", 0), 0u) << text;
  EXPECT_NE(text.find("\n# impairment 'everything' is a trace's stall"), std::string::npos) << text;
  const std::optional<ProfileSpec> back = ParseProfileText(text, "written", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_TRUE(*back == WithoutTraceOnlyState(*profile));
}

TEST(ProfileYaml, EmitsEmptySectionsAndScalarsThatReadBack) {
  EXPECT_EQ(EmitYaml({{"version", 1},
                      {"groups", nlohmann::ordered_json::object()},
                      {"rules", nlohmann::ordered_json::array()}}),
            "version: 1\ngroups: {}\nrules: []\n");
  EXPECT_EQ(EmitYaml({{"a", "yes"}, {"b", "x: y"}, {"c", "tab\there"}, {"d", "%d"}}),
            "a: \"yes\"\nb: \"x: y\"\nc: \"tab\\x09here\"\nd: \"%d\"\n");
}

}  // namespace
}  // namespace faultline
