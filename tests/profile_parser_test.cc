#include "control/profile/profile_parser.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "control/profile/partition_shapes.h"
#include "dataplane/models/delay_distribution.h"

namespace faultline {
namespace {

// The example of the contract (shared/spec/cli-and-formats.md).
constexpr char kSpecExample[] = R"(version: 1                      # must
seed: 42                        # optional; without it a seed is drawn and reported
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24, "fd00:2::/64"]
  n3:     [10.0.2.13]
impairments:
  congested-tor:
    delay:     {base: 200us, jitter: 2ms, distribution: pareto, correlation: 25%}
    loss:      {model: gilbert-elliott, p: 1%, r: 30%, loss-bad: 100%, loss-good: 0%}
    rate:      {bandwidth: 1gbit, overhead: 20B, queue-limit: 1000pkt}
  flaky-link:
    loss:      {model: bernoulli, probability: 2%, correlation: 50%}
    duplicate: {probability: 0.5%}
    reorder:   {probability: 5%, gap: 5, max-displacement: 8}
    corrupt:   {probability: 0.01%}
rules:
  - name: etcd-peers
    match: {direction: both, src: rack-a, dst: rack-b, proto: tcp, dst-port: 2379-2380}
    impairment: congested-tor
  - name: everything-else
    match: {}
    impairment: flaky-link
partitions:
  - {from: rack-a, to: rack-b}                       # one-way: a's frames to b are lost
  - {between: [rack-a, n3], mode: icmp-unreachable}  # both ways, fail fast
)";

ProfileSpec Parse(const std::string& text) {
  std::string error;
  std::optional<ProfileSpec> profile = ParseProfileText(text, "p.yaml", &error);
  EXPECT_TRUE(profile.has_value()) << error;
  return profile.value_or(ProfileSpec{});
}

// The error for `text` (named p.yaml), which must not parse.
std::string Error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseProfileText(text, "p.yaml", &error).has_value()) << text;
  return error;
}

// Expects the error to start with `where` ("p.yaml:LINE:COL: ") and to contain `words`.
void ExpectError(const std::string& text, const std::string& where, const std::string& words) {
  const std::string error = Error(text);
  EXPECT_EQ(error.substr(0, where.size()), where) << error;
  EXPECT_NE(error.find(words), std::string::npos) << error;
}

Prefix V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint8_t length) {
  return Prefix{.family = 4, .length = length, .address = {a, b, c, d}};
}

void ExpectPrefix(const Prefix& actual, const Prefix& expected) {
  EXPECT_EQ(actual.family, expected.family);
  EXPECT_EQ(actual.length, expected.length);
  EXPECT_EQ(actual.address, expected.address);
}

TEST(ProfileParserTest, SpecExampleParsesToItsValues) {
  const ProfileSpec profile = Parse(kSpecExample);
  EXPECT_EQ(profile.version, 1);
  EXPECT_EQ(profile.seed, 42u);

  ASSERT_EQ(profile.groups.size(), 3u);
  EXPECT_EQ(profile.groups[0].name, "rack-a");
  ASSERT_EQ(profile.groups[0].members.prefixes.size(), 1u);
  ExpectPrefix(profile.groups[0].members.prefixes[0], V4(10, 0, 1, 0, 24));
  EXPECT_EQ(profile.groups[1].name, "rack-b");
  ASSERT_EQ(profile.groups[1].members.prefixes.size(), 2u);
  ExpectPrefix(profile.groups[1].members.prefixes[0], V4(10, 0, 2, 0, 24));
  ExpectPrefix(profile.groups[1].members.prefixes[1],
               Prefix{.family = 6, .length = 64, .address = {0xfd, 0x00, 0x00, 0x02}});
  EXPECT_EQ(profile.groups[2].name, "n3");
  ASSERT_EQ(profile.groups[2].members.prefixes.size(), 1u);
  ExpectPrefix(profile.groups[2].members.prefixes[0], V4(10, 0, 2, 13, 32));

  ASSERT_EQ(profile.impairments.size(), 2u);
  const ImpairmentSpec& tor = profile.impairments[0];
  EXPECT_EQ(tor.name, "congested-tor");
  ASSERT_TRUE(tor.delay.has_value());
  EXPECT_EQ(tor.delay->base_ns, 200'000u);
  EXPECT_EQ(tor.delay->jitter_ns, 2'000'000u);
  EXPECT_EQ(tor.delay->distribution, DistributionKind::kPareto);
  EXPECT_EQ(tor.delay->table, GenerateDistributionTable(DistributionKind::kPareto));
  EXPECT_EQ(tor.delay->table.size(), 4096u);
  EXPECT_DOUBLE_EQ(tor.delay->correlation, 0.25);
  ASSERT_TRUE(tor.loss.has_value());
  EXPECT_EQ(tor.loss->model, LossModel::kGilbertElliott);
  EXPECT_DOUBLE_EQ(tor.loss->p, 0.01);
  EXPECT_DOUBLE_EQ(tor.loss->r, 0.30);
  EXPECT_DOUBLE_EQ(tor.loss->loss_bad, 1.0);
  EXPECT_DOUBLE_EQ(tor.loss->loss_good, 0.0);
  ASSERT_TRUE(tor.rate.has_value());
  EXPECT_EQ(tor.rate->bandwidth_bps, 1'000'000'000u);
  EXPECT_EQ(tor.rate->overhead_bytes, 20);
  EXPECT_EQ(tor.rate->queue_limit.packets, 1000u);
  EXPECT_EQ(tor.rate->queue_limit.bytes, 0u);
  EXPECT_FALSE(tor.rate->ecn_threshold.Set());
  EXPECT_FALSE(tor.duplicate || tor.reorder || tor.corrupt || tor.stall);

  const ImpairmentSpec& flaky = profile.impairments[1];
  EXPECT_EQ(flaky.name, "flaky-link");
  ASSERT_TRUE(flaky.loss && flaky.duplicate && flaky.reorder && flaky.corrupt);
  EXPECT_EQ(flaky.loss->model, LossModel::kBernoulli);
  EXPECT_DOUBLE_EQ(flaky.loss->probability, 0.02);
  EXPECT_DOUBLE_EQ(flaky.loss->correlation, 0.5);
  EXPECT_EQ(flaky.loss->max_size, 0u);
  EXPECT_DOUBLE_EQ(flaky.duplicate->probability, 0.005);
  EXPECT_DOUBLE_EQ(flaky.duplicate->correlation, 0.0);
  EXPECT_DOUBLE_EQ(flaky.reorder->probability, 0.05);
  EXPECT_EQ(flaky.reorder->gap, 5u);
  EXPECT_EQ(flaky.reorder->max_displacement, 8u);
  EXPECT_DOUBLE_EQ(flaky.corrupt->probability, 0.0001);
  EXPECT_DOUBLE_EQ(flaky.corrupt->ber, 0.0);
  EXPECT_FALSE(flaky.corrupt->fix_checksums);
  EXPECT_FALSE(flaky.delay || flaky.rate || flaky.stall);

  ASSERT_EQ(profile.rules.size(), 2u);
  const RuleSpec& etcd = profile.rules[0];
  EXPECT_EQ(etcd.name, "etcd-peers");
  EXPECT_EQ(etcd.impairment, 0u);
  EXPECT_EQ(etcd.match.direction, Direction::kBoth);
  ASSERT_EQ(etcd.match.src.prefixes.size(), 1u);
  ExpectPrefix(etcd.match.src.prefixes[0], V4(10, 0, 1, 0, 24));
  ASSERT_EQ(etcd.match.dst.prefixes.size(), 2u);  // rack-b's two prefixes
  ExpectPrefix(etcd.match.dst.prefixes[0], V4(10, 0, 2, 0, 24));
  EXPECT_EQ(etcd.match.dst.prefixes[1].family, 6);
  EXPECT_EQ(etcd.match.proto, 6);
  EXPECT_TRUE(etcd.match.has_dst_port);
  EXPECT_EQ(etcd.match.dst_port_min, 2379);
  EXPECT_EQ(etcd.match.dst_port_max, 2380);
  EXPECT_FALSE(etcd.match.has_src_port);

  const RuleSpec& rest = profile.rules[1];
  EXPECT_EQ(rest.name, "everything-else");
  EXPECT_EQ(rest.impairment, 1u);
  EXPECT_EQ(rest.match.direction, Direction::kBoth);
  EXPECT_TRUE(rest.match.src.empty());
  EXPECT_TRUE(rest.match.dst.empty());
  EXPECT_FALSE(rest.match.proto.has_value());
  EXPECT_FALSE(rest.match.has_src_port || rest.match.has_dst_port);

  const EndpointSet rack_a{.prefixes = {V4(10, 0, 1, 0, 24)}, .macs = {}};
  const EndpointSet rack_b = profile.groups[1].members;
  const EndpointSet n3{.prefixes = {V4(10, 0, 2, 13, 32)}, .macs = {}};
  ASSERT_EQ(profile.partitions.size(), 2u);
  const PartitionSpec& one_way = profile.partitions[0];
  EXPECT_EQ(one_way.name, "rack-a -> rack-b");
  EXPECT_EQ(one_way.mode, PartitionMode::kDrop);
  EXPECT_FALSE(one_way.new_connections_only);
  EXPECT_EQ(one_way.cuts, (std::vector<PartitionCut>{{.from = rack_a, .to = rack_b}}));
  const PartitionSpec& both = profile.partitions[1];
  EXPECT_EQ(both.name, "rack-a <-> n3");
  EXPECT_EQ(both.mode, PartitionMode::kIcmpUnreachable);
  EXPECT_EQ(both.cuts,
            (std::vector<PartitionCut>{{.from = rack_a, .to = n3}, {.from = n3, .to = rack_a}}));
}

TEST(ProfileParserTest, DescribesEachRule) {
  EXPECT_EQ(DescribeProfile(Parse(kSpecExample)),
            "version 1, seed 42, 3 groups, 2 impairments, 2 rules (first match wins; frames "
            "matching none pass untouched), 2 partitions (checked before rules)\n"
            "  partition rack-a -> rack-b: drop, all traffic, 1 cut\n"
            "  partition rack-a <-> n3: icmp-unreachable, all traffic, 2 cuts\n"
            "  rule etcd-peers: both, src 10.0.1.0/24, dst 10.0.2.0/24 fd00:2::/64, tcp, dst-port "
            "2379-2380 -> congested-tor: delay 200us jitter 2ms pareto correlation 25%; loss "
            "gilbert-elliott p 1% r 30% loss-bad 100% loss-good 0%; rate 1gbit overhead 20B "
            "queue-limit 1000pkt\n"
            "  rule everything-else: both, any frame -> flaky-link: loss 2% correlation 50%; "
            "duplicate 0.5%; reorder 5% gap 5 max-displacement 8; corrupt 0.01%\n");
  EXPECT_EQ(DescribeProfile(Parse("version: 1\nimpairments: {pass: {}, spare: {}}\nrules:\n"
                                  "  - {name: r, match: {direction: a-to-b}, impairment: pass}\n")),
            "version 1, no seed (one is drawn and reported at start), 0 groups, 2 impairments, 1 "
            "rule (first match wins; frames matching none pass untouched)\n"
            "  rule r: a-to-b, any frame -> pass: no effects (forwarded untouched)\n"
            "  not used by any rule: spare\n");
}

TEST(ProfileParserTest, DefaultsFollowTcAndNetem) {
  const ProfileSpec profile = Parse(R"(version: 1
impairments:
  ge: {loss: {model: gilbert-elliott, p: 10%}}
  m4: {loss: {model: markov4, p13: 5%}}
  jittery: {delay: {base: 10ms, jitter: 1ms}}
  shaped: {rate: {bandwidth: 1.5mbit}}
  paused: {stall: {for: 800ms}}
  shuffled: {reorder: {probability: 1%}}
  empty:
)");
  ASSERT_EQ(profile.impairments.size(), 7u);
  const LossSpec& ge = *profile.impairments[0].loss;
  EXPECT_DOUBLE_EQ(ge.r, 0.9);
  EXPECT_DOUBLE_EQ(ge.loss_bad, 1.0);
  EXPECT_DOUBLE_EQ(ge.loss_good, 0.0);
  const LossSpec& m4 = *profile.impairments[1].loss;
  EXPECT_EQ(m4.model, LossModel::kMarkov4);
  EXPECT_DOUBLE_EQ(m4.p13, 0.05);
  EXPECT_DOUBLE_EQ(m4.p31, 0.95);
  EXPECT_DOUBLE_EQ(m4.p32, 0.0);
  EXPECT_DOUBLE_EQ(m4.p23, 1.0);
  EXPECT_DOUBLE_EQ(m4.p14, 0.0);
  const DelaySpec& delay = *profile.impairments[2].delay;
  EXPECT_EQ(delay.distribution, DistributionKind::kUniform);
  EXPECT_TRUE(delay.table.empty());
  const RateSpec& rate = *profile.impairments[3].rate;
  EXPECT_EQ(rate.bandwidth_bps, 1'500'000u);
  EXPECT_EQ(rate.overhead_bytes, 0);
  EXPECT_EQ(rate.queue_limit.packets, 1000u);
  EXPECT_EQ(rate.queue_limit.bytes, 0u);
  const StallSpec& stall = *profile.impairments[4].stall;
  EXPECT_EQ(stall.duration_ns, 800'000'000u);
  EXPECT_EQ(stall.start_ns, 0u);
  EXPECT_EQ(stall.every_ns, 0u);
  EXPECT_EQ(stall.limit.packets, 10000u);
  EXPECT_EQ(profile.impairments[5].reorder->gap, 1u);
  EXPECT_EQ(profile.impairments[5].reorder->max_displacement, 0u);
  const ImpairmentSpec& empty = profile.impairments[6];
  EXPECT_FALSE(empty.delay || empty.loss || empty.duplicate || empty.reorder || empty.corrupt ||
               empty.rate || empty.stall);
  EXPECT_FALSE(profile.seed.has_value());
  EXPECT_TRUE(profile.rules.empty());
}

TEST(ProfileParserTest, EveryFormOfEachValue) {
  const ProfileSpec profile = Parse(R"(version: "1"
seed: 0
groups:
  one: 10.0.0.1
  v6: ["fd00::1", "fd00:1::/48"]
impairments:
  all:
    delay: {base: 1ms, jitter: 100us, distribution: normal}
    loss: {model: markov4, p13: 0.01, p31: 0.5, p32: 0.5, p23: 90%, p14: 0.99, max-size: 1500B}
    duplicate: {probability: 0.001, correlation: "10%"}
    corrupt: {ber: 1e-6, fix-checksums: true}
    rate: {bandwidth: 10Mbit, overhead: -4B, queue-limit: [500pkt, 1MiB], ecn-threshold: 64KiB}
    stall: {for: 1s, start: 10s, every: 1m, limit: 1MB}
  pn: {delay: {jitter: 1ms, distribution: paretonormal, correlation: 0}}
rules:
  - name: mixed
    match:
      direction: b-to-a
      src: [one, 192.168.0.0/16, v6]
      dst: 2001:db8::1
      proto: 17
      src-port: 53
      dst-port: "1024-65535"
    impairment: all
  - {name: any-icmp, match: {proto: icmpv6}, impairment: pn}
)");
  EXPECT_EQ(profile.seed, 0u);
  ASSERT_EQ(profile.impairments.size(), 2u);
  const ImpairmentSpec& all = profile.impairments[0];
  EXPECT_EQ(all.delay->table, GenerateDistributionTable(DistributionKind::kNormal));
  EXPECT_DOUBLE_EQ(all.loss->p23, 0.9);
  EXPECT_DOUBLE_EQ(all.loss->p14, 0.99);
  EXPECT_EQ(all.loss->max_size, 1500u);
  EXPECT_DOUBLE_EQ(all.duplicate->correlation, 0.1);
  EXPECT_DOUBLE_EQ(all.corrupt->ber, 1e-6);
  EXPECT_DOUBLE_EQ(all.corrupt->probability, 0.0);
  EXPECT_TRUE(all.corrupt->fix_checksums);
  EXPECT_EQ(all.rate->bandwidth_bps, 10'000'000u);
  EXPECT_EQ(all.rate->overhead_bytes, -4);
  EXPECT_EQ(all.rate->queue_limit.packets, 500u);
  EXPECT_EQ(all.rate->queue_limit.bytes, 1u << 20);
  EXPECT_EQ(all.rate->ecn_threshold.bytes, 65'536u);
  EXPECT_EQ(all.rate->ecn_threshold.packets, 0u);
  EXPECT_EQ(all.stall->every_ns, 60'000'000'000u);
  EXPECT_EQ(all.stall->limit.bytes, 1'000'000u);
  EXPECT_EQ(profile.impairments[1].delay->distribution, DistributionKind::kParetoNormal);

  const MatchSpec& match = profile.rules[0].match;
  EXPECT_EQ(match.direction, Direction::kBToA);
  ASSERT_EQ(match.src.prefixes.size(), 4u);  // one's address, the prefix, v6's two
  ExpectPrefix(match.src.prefixes[0], V4(10, 0, 0, 1, 32));
  ExpectPrefix(match.src.prefixes[1], V4(192, 168, 0, 0, 16));
  EXPECT_EQ(match.src.prefixes[2].length, 128);
  EXPECT_EQ(match.src.prefixes[3].length, 48);
  ASSERT_EQ(match.dst.prefixes.size(), 1u);
  EXPECT_EQ(match.dst.prefixes[0].family, 6);
  EXPECT_EQ(match.dst.prefixes[0].length, 128);
  EXPECT_EQ(match.proto, 17);
  EXPECT_EQ(match.src_port_min, 53);
  EXPECT_EQ(match.src_port_max, 53);
  EXPECT_EQ(match.dst_port_min, 1024);
  EXPECT_EQ(match.dst_port_max, 65535);
  EXPECT_EQ(profile.rules[1].match.proto, 58);
}

// The error cases the contract cares most about: each names the exact line and column.

TEST(ProfileParserErrorTest, UnknownTopLevelKey) {
  ExpectError("version: 1\nsede: 42\n", "p.yaml:2:1: ", "unknown key 'sede' in the profile");
}

// A trace or a topology where a profile belongs is named as such (not "unknown key").
TEST(ProfileParserErrorTest, TraceOrTopologyInsteadOfAProfile) {
  ExpectError("version: 1\nname: t\nevents:\n  - {at: 1s, heal: all}\n", "p.yaml:3:1: ",
              "this is a trace (it has 'events:'), not a profile: play it with 'faultline trace "
              "start FILE'");
  ExpectError("version: 1\nracks:\n  r: [10.0.0.1]\n",
              "p.yaml:2:1: ", "this is a topology (it has 'racks:'), not a profile");
}

TEST(ProfileParserErrorTest, UnknownImpairmentKey) {
  ExpectError(R"(version: 1
impairments:
  slow:
    delay: {base: 10ms}
    jiter: 5ms
)",
              "p.yaml:5:5: ", "unknown key 'jiter' in impairment 'slow'");
  ExpectError(R"(version: 1
impairments:
  slow:
    delay: {base: 10ms, jiter: 5ms}
)",
              "p.yaml:4:25: ", "unknown key 'jiter' in delay");
}

TEST(ProfileParserErrorTest, UnknownMatchKey) {
  EXPECT_EQ(Error(R"(version: 1
impairments:
  slow: {delay: {base: 10ms}}
rules:
  - name: r
    match: {vlan: 10, colour: red}
    impairment: slow
)"),
            "p.yaml:6:23: unknown key 'colour' in match (known: direction, src, dst, proto, "
            "src-port, dst-port, vlan, dscp, src-mac, dst-mac, ethertype)");
}

TEST(ProfileParserErrorTest, BareNumberDuration) {
  ExpectError(R"(version: 1
impairments:
  slow:
    delay:
      base: 10
)",
              "p.yaml:5:13: ", "base: '10' needs a unit");
}

TEST(ProfileParserErrorTest, ProbabilityAboveOne) {
  ExpectError(R"(version: 1
impairments:
  lossy:
    loss: {probability: 150%}
)",
              "p.yaml:4:25: ", "probability: '150%' is outside [0, 1]");
}

TEST(ProfileParserErrorTest, MissingVersion) {
  ExpectError("# a profile\nseed: 1\n", "p.yaml:2:1: ", "missing 'version'");
  ExpectError("version: 2\n", "p.yaml:1:10: ", "unsupported profile version '2'");
  // Checked before anything else: a file in another format should say so first.
  ExpectError("bogus: 1\nversion: 2\n", "p.yaml:2:10: ", "unsupported profile version");
}

TEST(ProfileParserErrorTest, RuleNamingMissingImpairment) {
  ExpectError(R"(version: 1
impairments:
  slow: {delay: {base: 10ms}}
rules:
  - name: r
    match: {}
    impairment: fast
)",
              "p.yaml:7:17: ", "no impairment named 'fast' (defined: slow)");
}

TEST(ProfileParserErrorTest, DuplicateRuleName) {
  ExpectError(R"(version: 1
impairments:
  slow: {}
rules:
  - name: r
    match: {}
    impairment: slow
  - {name: r, match: {}, impairment: slow}
)",
              "p.yaml:8:12: ", "duplicate rule name 'r' (first on line 5)");
}

TEST(ProfileParserErrorTest, BadPrefix) {
  ExpectError("version: 1\ngroups:\n  rack-a: [10.0.1.0/24, 10.0.2.5/24]\n", "p.yaml:3:25: ",
              "'10.0.2.5/24' has host bits set beyond /24 (did you mean 10.0.2.0/24?)");
  ExpectError("version: 1\ngroups:\n  a: [10.0.0.0/33]\n",
              "p.yaml:3:7: ", "the prefix length must be 0..32");
  ExpectError("version: 1\ngroups:\n  a: [\"fd00::1/64\"]\n",
              "p.yaml:3:7: ", "did you mean fd00::/64?");
  ExpectError(R"(version: 1
impairments: {x: {}}
rules:
  - {name: r, match: {dst: 10.1.2.300}, impairment: x}
)",
              "p.yaml:4:28: ", "dst: '10.1.2.300' is not an IPv4 or IPv6 address");
}

TEST(ProfileParserErrorTest, YamlSyntaxError) {
  // libyaml's words, at libyaml's positions (the same as yaml-cpp's before it for these).
  ExpectError("version: 1\nimpairments:\n  x: y: z\n",
              "p.yaml:3:7: ", "mapping values are not allowed in this context");
  ExpectError("version: 1\nrules: [\n", "p.yaml:3:1: ",
              "did not find expected node content (while parsing a flow node at line 3, column 1)");
  // libyaml reads a plain key directly followed by ':' and '}' as an error (YAML 1.2 allows it);
  // with a space it is an empty value (below).
  ExpectError("version: 1\nimpairments: {x:}\n", "p.yaml:2:16: ", "found unexpected ':'");
  // yaml-cpp 0.7 looped forever on these bytes, its memory growing ~150 MB/s.
  ExpectError(", T", "p.yaml:1:1: ", "did not find expected node content");
  ExpectError("version: 1\nseed: 5\n, T\n", "p.yaml:3:1: ", "did not find expected key");
  // A few bytes of aliases would expand to gigabytes: refused where they start.
  ExpectError("version: 1\ngroups:\n  a: &x [10.0.0.1]\n  b: *x\n",
              "p.yaml:3:6: ", "anchors (&x) are not supported");
}

TEST(ProfileParserErrorTest, MarkovRowSumAboveOne) {
  ExpectError(R"(version: 1
impairments:
  bursty:
    loss:
      model: markov4
      p13: 60%
      p14: 50%
)",
              "p.yaml:7:12: ", "p13 + p14 = 110% is more than 100%");
  // p31 defaults to 1 - p13 (as in tc), which leaves no room for p32 here.
  ExpectError("version: 1\nimpairments:\n  b: {loss: {model: markov4, p13: 5%, p32: 10%}}\n",
              "p.yaml:3:44: ",
              "p31 + p32 = 105% is more than 100% (they leave state 3); p31 "
              "defaults to 1 - p13");
}

TEST(ProfileParserErrorTest, EcnThresholdNotBelowQueueLimit) {
  ExpectError(R"(version: 1
impairments:
  slow:
    rate:
      bandwidth: 10mbit
      queue-limit: 100pkt
      ecn-threshold: 200pkt
)",
              "p.yaml:7:22: ", "ecn-threshold 200pkt must be below the queue limit of 100pkt");
  ExpectError("version: 1\nimpairments:\n  s: {rate: {bandwidth: 1mbit, ecn-threshold: 1000pkt}}\n",
              "p.yaml:3:47: ", "below the queue limit of 1000pkt (the default)");
  // A byte threshold under a packet limit has nothing to be compared with: fine.
  EXPECT_EQ(
      Parse("version: 1\nimpairments:\n  s: {rate: {bandwidth: 1mbit, ecn-threshold: 30KB}}\n")
          .impairments[0]
          .rate->ecn_threshold.bytes,
      30'000u);
}

// More of what users get wrong; the position is checked as exactly as above.

TEST(ProfileParserErrorTest, StructureMistakes) {
  ExpectError("", "p.yaml:1:1: ", "the profile is empty");
  ExpectError("- version: 1\n", "p.yaml:1:1: ", "the profile must be a map, not a list");
  ExpectError("version: 1\nseed: 1\nseed: 2\n",
              "p.yaml:3:1: ", "duplicate key 'seed' in the profile (first on line 2)");
  ExpectError("version: 1\n---\nversion: 1\n", "p.yaml:3:1: ", "a single YAML document");
  ExpectError("version: 1\nseed: -1\n",
              "p.yaml:2:7: ", "seed: '-1' is not an integer in 0..9007199254740991");
  ExpectError("version: 1\nimpairments:\n  x:\n    delay:\n",
              "p.yaml:4:5: ", "delay must be a map, not empty");
  ExpectError("version: 1\nimpairments: {x: {}}\nrules:\n  - {name: r, impairment: x}\n",
              "p.yaml:4:5: ", "rule 'r' needs a 'match' (use 'match: {}' for every frame)");
  ExpectError("version: 1\nimpairments: {x: {}}\nrules:\n  - {match: {}, impairment: x}\n",
              "p.yaml:4:5: ", "a rule needs a 'name'");
  ExpectError("version: 1\nrules:\n  - {name: r, match: {}, impairment: x}\n",
              "p.yaml:3:38: ", "no impairment named 'x' (the profile defines none)");
}

TEST(ProfileParserErrorTest, GroupAndMatchMistakes) {
  ExpectError("version: 1\ngroups:\n  a: []\n", "p.yaml:3:6: ", "group 'a' is empty");
  ExpectError("version: 1\ngroups:\n  a: [\"aa:bb:cc:dd:ee\"]\n", "p.yaml:3:7: ",
              "group 'a': 'aa:bb:cc:dd:ee' is not a MAC address (six hex bytes like "
              "aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff)");
  const std::string header = "version: 1\ngroups: {a: 10.0.0.1}\nimpairments: {x: {}}\nrules:\n";
  ExpectError(header + "  - {name: r, match: {src: b}, impairment: x}\n", "p.yaml:5:28: ",
              "src: 'b' is neither a group nor an address, prefix or MAC address (groups: a)");
  ExpectError(header + "  - {name: r, match: {src: []}, impairment: x}\n",
              "p.yaml:5:28: ", "src is an empty list");
  ExpectError(header + "  - {name: r, match: {direction: up}, impairment: x}\n",
              "p.yaml:5:34: ", "direction: unknown value 'up' (use both, a-to-b, b-to-a)");
  ExpectError(header + "  - {name: r, match: {proto: gre}, impairment: x}\n",
              "p.yaml:5:30: ", "proto: unknown protocol 'gre'");
  ExpectError(header + "  - {name: r, match: {proto: 256}, impairment: x}\n",
              "p.yaml:5:30: ", "proto: unknown protocol '256'");
  ExpectError(header + "  - {name: r, match: {dst-port: 80-70}, impairment: x}\n",
              "p.yaml:5:33: ", "the range '80-70' runs backwards");
  ExpectError(header + "  - {name: r, match: {dst-port: 70000}, impairment: x}\n",
              "p.yaml:5:33: ", "is not a port");
  ExpectError(header + "  - {name: r, match: {proto: icmp, dst-port: 80}, impairment: x}\n",
              "p.yaml:5:36: ", "dst-port needs proto tcp, udp or sctp, not 'icmp'");
}

TEST(ProfileParserErrorTest, ImpairmentMistakes) {
  const std::string header = "version: 1\nimpairments:\n  x: ";
  ExpectError(header + "{loss: {probability: 1%, r: 5%}}\n", "p.yaml:3:31: ",
              "'r' belongs to the gilbert-elliott loss model, but this loss is bernoulli (the "
              "default; set model: gilbert-elliott)");
  ExpectError(header + "{loss: {model: gilbert-elliott, p13: 5%}}\n", "p.yaml:3:38: ",
              "'p13' belongs to the markov4 loss model, but this loss is gilbert-elliott");
  ExpectError(header + "{loss: {model: markov4}}\n",
              "p.yaml:3:13: ", "the markov4 loss model needs 'p13'");
  ExpectError(header + "{loss: {model: ge}}\n", "p.yaml:3:21: ", "model: unknown value 'ge'");
  ExpectError(header + "{loss: {probability: 1%, max-size: 100pkt}}\n",
              "p.yaml:3:41: ", "max-size must be a frame size in bytes");
  ExpectError(header + "{delay: {base: 1ms, distribution: pareto}}\n",
              "p.yaml:3:40: ", "distribution 'pareto' needs a jitter greater than 0");
  ExpectError(header + "{delay: {jitter: 1ms, distribution: pareto, table: x.dist}}\n",
              "p.yaml:3:50: ", "give either distribution or table, not both");
  ExpectError(header + "{delay: {jitter: 1ms, distribution: gauss}}\n",
              "p.yaml:3:42: ", "distribution: unknown value 'gauss'");
  ExpectError(header + "{corrupt: {probability: 1%, ber: 1e-6}}\n",
              "p.yaml:3:34: ", "give either probability or ber, not both");
  ExpectError(header + "{corrupt: {ber: 2%}}\n",
              "p.yaml:3:22: ", "ber: '2%' is above the maximum bit error rate of 0.01");
  ExpectError(header + "{corrupt: {ber: 1e-6, correlation: 5%}}\n",
              "p.yaml:3:28: ", "correlation applies to probability, not to ber");
  ExpectError(header + "{corrupt: {fix-checksums: yes, probability: 1%}}\n",
              "p.yaml:3:32: ", "fix-checksums: 'yes' is not true or false");
  ExpectError(header + "{duplicate: {correlation: 5%}}\n",
              "p.yaml:3:18: ", "duplicate needs 'probability'");
  ExpectError(header + "{reorder: {probability: 1%, gap: 0}}\n",
              "p.yaml:3:39: ", "gap: '0' is not an integer in 1..4294967295");
  ExpectError(header + "{reorder: {probability: 1%, max-displacement: 2000}}\n",
              "p.yaml:3:52: ", "max-displacement: '2000' is not an integer in 0..1024");
  ExpectError(header + "{rate: {bandwidth: 10mbps}}\n",
              "p.yaml:3:25: ", "bandwidth: '10mbps' is in bytes per second");
  ExpectError(header + "{rate: {bandwidth: 100000}}\n",
              "p.yaml:3:25: ", "bandwidth: '100000' needs a unit");
  ExpectError(header + "{rate: {bandwidth: 0mbit}}\n",
              "p.yaml:3:25: ", "bandwidth must be more than 0");
  ExpectError(header + "{rate: {queue-limit: 10pkt}}\n", "p.yaml:3:13: ", "rate needs 'bandwidth'");
  ExpectError(header + "{rate: {bandwidth: 1mbit, overhead: -65B}}\n",
              "p.yaml:3:42: ", "overhead: '-65B' must be bytes from -64B to 1024B");
  ExpectError(header + "{rate: {bandwidth: 1mbit, overhead: -4}}\n",
              "p.yaml:3:42: ", "overhead: '-4' needs a unit");
  ExpectError(header + "{rate: {bandwidth: 1mbit, queue-limit: [1pkt, 2pkt]}}\n",
              "p.yaml:3:52: ", "queue-limit as a list needs one packet count and one byte size");
  ExpectError(header + "{rate: {bandwidth: 1mbit, queue-limit: 0pkt}}\n",
              "p.yaml:3:45: ", "queue-limit must be more than 0");
  ExpectError(header + "{stall: {start: 1s}}\n", "p.yaml:3:14: ", "stall needs 'for'");
  ExpectError(header + "{stall: {for: 1s, every: 1s}}\n",
              "p.yaml:3:31: ", "every (1s) must be longer than for (1s)");
  ExpectError(header + "{stall: {for: 0s}}\n", "p.yaml:3:20: ", "for must be more than 0s");
  ExpectError(header + "{teleport: {}}\n", "p.yaml:3:7: ",
              "unknown key 'teleport' in impairment 'x' (known: delay, loss, duplicate, reorder, "
              "corrupt, rate, stall)");
}

TEST(ProfileParserErrorTest, FirstErrorWins) {
  // Two problems; the earlier one in the file is reported.
  ExpectError("version: 1\nimpairments:\n  x: {delay: {base: 5}}\n  y: {loss: {probability: 2}}\n",
              "p.yaml:3:21: ", "base:");
}

// --- Classification: groups, endpoint sets and the match fields beyond ports ---

MacAddress Mac(uint8_t last) { return {0xaa, 0xbb, 0xcc, 0xdd, 0xee, last}; }

TEST(ProfileParserTest, GroupsHoldMacsAndOtherGroupsDefinedAnywhere) {
  const ProfileSpec profile = Parse(R"(version: 1
groups:
  everyone: [left, right, 10.0.0.1]   # names groups defined further down
  left: [n1, n2]
  right: [n3, "AA-BB-CC-DD-EE-03", n1]
  n1: [10.0.0.1, aa:bb:cc:dd:ee:01]
  n2: "fd00::2"
  n3: [10.0.0.0/30]
)");
  ASSERT_EQ(profile.groups.size(), 6u);
  EXPECT_EQ(profile.groups[1].name, "left");
  EXPECT_EQ(
      profile.groups[1].members,
      (EndpointSet{.prefixes = {V4(10, 0, 0, 1, 32), Prefix{.family = 6,
                                                            .length = 128,
                                                            .address = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                                                        0, 0, 0, 0, 0, 0, 0, 2}}},
                   .macs = {Mac(1)}}));
  // Upper case and '-' read as the same MAC; n1 comes in once although named twice.
  EXPECT_EQ(profile.groups[2].members,
            (EndpointSet{.prefixes = {V4(10, 0, 0, 0, 30), V4(10, 0, 0, 1, 32)},
                         .macs = {Mac(3), Mac(1)}}));
  const EndpointSet& everyone = profile.groups[0].members;
  EXPECT_EQ(everyone.prefixes.size(), 3u);  // 10.0.0.1, fd00::2, 10.0.0.0/30; no repeat
  EXPECT_EQ(everyone.prefixes[0], V4(10, 0, 0, 1, 32));
  EXPECT_EQ(everyone.prefixes[2], V4(10, 0, 0, 0, 30));
  EXPECT_EQ(everyone.macs, (std::vector<MacAddress>{Mac(1), Mac(3)}));
}

TEST(ProfileParserTest, SrcAndDstTakeGroupsAddressesAndMacs) {
  const ProfileSpec profile = Parse(R"(version: 1
groups: {web: [10.0.1.0/24, aa:bb:cc:dd:ee:01]}
impairments: {x: {}}
rules:
  - {name: mixed, match: {src: [web, aa:bb:cc:dd:ee:02, 10.0.1.0/24], dst: AA:BB:CC:DD:EE:09},
     impairment: x}
)");
  const MatchSpec& match = profile.rules[0].match;
  EXPECT_EQ(match.src, (EndpointSet{.prefixes = {V4(10, 0, 1, 0, 24)}, .macs = {Mac(1), Mac(2)}}));
  EXPECT_EQ(match.dst, (EndpointSet{.prefixes = {}, .macs = {Mac(9)}}));
}

TEST(ProfileParserTest, VlanDscpMacsAndEtherType) {
  const ProfileSpec profile = Parse(R"(version: 1
impairments: {x: {}}
rules:
  - name: tagged-voice
    match: {vlan: 100, dscp: EF, ethertype: ipv4, src-mac: aa:bb:cc:dd:ee:01}
    impairment: x
  - name: ranges
    match: {vlan: 100-200, dscp: af11-AF13, dst-mac: [aa-bb-cc-dd-ee-02, AA:BB:CC:DD:EE:02,
                                                       aa:bb:cc:dd:ee:03]}
    impairment: x
  - {name: numbers, match: {vlan: 0-4095, dscp: 0-63, ethertype: ipv6}, impairment: x}
  - {name: decimal, match: {vlan: 5, ethertype: 2054}, impairment: x}
)");
  ASSERT_EQ(profile.rules.size(), 4u);
  const MatchSpec& voice = profile.rules[0].match;
  EXPECT_EQ(voice.vlan, (ValueRange{.min = 100, .max = 100}));
  EXPECT_EQ(voice.dscp, (ValueRange{.min = 46, .max = 46}));
  EXPECT_EQ(voice.ether_type, 0x0800);
  EXPECT_EQ(voice.src_mac, (std::vector<MacAddress>{Mac(1)}));
  EXPECT_TRUE(voice.dst_mac.empty());
  EXPECT_TRUE(voice.src.empty());
  const MatchSpec& ranges = profile.rules[1].match;
  EXPECT_EQ(ranges.vlan, (ValueRange{.min = 100, .max = 200}));
  EXPECT_EQ(ranges.dscp, (ValueRange{.min = 10, .max = 14}));
  EXPECT_FALSE(ranges.ether_type.has_value());
  EXPECT_EQ(ranges.dst_mac, (std::vector<MacAddress>{Mac(2), Mac(3)}));  // one 02: same MAC
  EXPECT_EQ(profile.rules[2].match.vlan, (ValueRange{.min = 0, .max = 4095}));
  EXPECT_EQ(profile.rules[2].match.dscp, (ValueRange{.min = 0, .max = 63}));
  EXPECT_EQ(profile.rules[2].match.ether_type, 0x86dd);
  EXPECT_EQ(profile.rules[3].match.vlan, (ValueRange{.min = 5, .max = 5}));
  EXPECT_EQ(profile.rules[3].match.ether_type, 0x0806);
  // A rule without these keys leaves them unset.
  const MatchSpec none = Parse(
                             "version: 1\nimpairments: {x: {}}\nrules:\n"
                             "  - {name: r, match: {}, impairment: x}\n")
                             .rules[0]
                             .match;
  EXPECT_FALSE(none.vlan || none.dscp || none.ether_type);
  EXPECT_TRUE(none.src_mac.empty() && none.dst_mac.empty());
}

// The value of `match: {KEY: VALUE}` for a single-rule profile.
MatchSpec MatchOf(const std::string& key, const std::string& value) {
  return Parse("version: 1\nimpairments: {x: {}}\nrules:\n  - {name: r, match: {" + key + ": " +
               value + "}, impairment: x}\n")
      .rules.at(0)
      .match;
}

TEST(ProfileParserTest, DscpNamesAreTheStandardCodePoints) {
  const std::pair<const char*, uint32_t> names[] = {
      {"cs0", 0},   {"cs1", 8},   {"cs2", 16},  {"cs3", 24},  {"cs4", 32},  {"cs5", 40},
      {"cs6", 48},  {"cs7", 56},  {"af11", 10}, {"af12", 12}, {"af13", 14}, {"af21", 18},
      {"af22", 20}, {"af23", 22}, {"af31", 26}, {"af32", 28}, {"af33", 30}, {"af41", 34},
      {"af42", 36}, {"af43", 38}, {"ef", 46},   {"le", 1},    {"Cs6", 48},  {"AF41", 34}};
  for (const auto& [name, value] : names) {
    EXPECT_EQ(MatchOf("dscp", name).dscp, (ValueRange{.min = value, .max = value})) << name;
  }
}

TEST(ProfileParserTest, EtherTypeNames) {
  const std::pair<const char*, uint16_t> names[] = {
      {"ipv4", 0x0800},   {"ipv6", 0x86dd},   {"arp", 0x0806},  {"lldp", 0x88cc},
      {"ptp", 0x88f7},    {"mpls", 0x8847},   {"rarp", 0x8035}, {"ARP", 0x0806},
      {"0x0806", 0x0806}, {"0X86DD", 0x86dd}, {"1536", 0x0600}, {"0xffff", 0xffff}};
  for (const auto& [name, value] : names) EXPECT_EQ(MatchOf("ethertype", name).ether_type, value);
}

TEST(ProfileParserTest, MatchesThatCanHoldTogether) {
  // MACs can match frames of any type; a set with both families can match either.
  EXPECT_EQ(Parse("version: 1\ngroups: {g: [10.0.0.1, aa:bb:cc:dd:ee:01]}\nimpairments: {x: {}}\n"
                  "rules:\n  - {name: r, match: {ethertype: arp, src: g, dst: g}, impairment: x}\n")
                .rules[0]
                .match.ether_type,
            0x0806);
  EXPECT_EQ(MatchOf("ethertype", "ipv6, dst: [10.0.0.1, \"fd00::1\"]").dst.prefixes.size(), 2u);
  EXPECT_EQ(MatchOf("src", "aa:bb:cc:dd:ee:01, src-mac: [aa:bb:cc:dd:ee:02, aa:bb:cc:dd:ee:01]")
                .src_mac.size(),
            2u);
  EXPECT_EQ(MatchOf("ethertype", "ipv4, proto: tcp, dst-port: 80, dscp: ef").dst_port_min, 80);
}

// --- Partitions ---

EndpointSet Hosts(std::initializer_list<uint8_t> last_bytes) {
  EndpointSet set;
  for (uint8_t last : last_bytes) set.prefixes.push_back(V4(10, 0, 0, last, 32));
  return set;
}

constexpr char kNodes[] = R"(version: 1
groups:
  n1: [10.0.0.1]
  n2: [10.0.0.2]
  n3: [10.0.0.3]
  n4: [10.0.0.4]
  n5: [10.0.0.5]
  pair: [n1, n2]
)";

TEST(ProfileParserTest, PartitionFormsExpandToCuts) {
  const ProfileSpec profile = Parse(std::string(kNodes) + R"(partitions:
  - {from: pair, to: [n3, 10.0.0.4]}
  - {between: [n1, n2, n3], mode: tcp-reset, connections: all}
  - {isolate: n5, mode: icmp-unreachable, connections: new}
  - {between: [[n1, n2], aa:bb:cc:dd:ee:01], mode: drop, name: macs}
)");
  ASSERT_EQ(profile.partitions.size(), 4u);
  const PartitionSpec& one_way = profile.partitions[0];
  EXPECT_EQ(one_way.name, "pair -> n3+10.0.0.4");
  EXPECT_EQ(one_way.mode, PartitionMode::kDrop);
  EXPECT_FALSE(one_way.new_connections_only);
  EXPECT_EQ(one_way.cuts,
            (std::vector<PartitionCut>{{.from = Hosts({1, 2}), .to = Hosts({3, 4})}}));

  const PartitionSpec& between = profile.partitions[1];
  EXPECT_EQ(between.name, "between n1, n2, n3");
  EXPECT_EQ(between.mode, PartitionMode::kTcpReset);
  EXPECT_FALSE(between.new_connections_only);
  EXPECT_EQ(between.cuts, (std::vector<PartitionCut>{{.from = Hosts({1}), .to = Hosts({2})},
                                                     {.from = Hosts({1}), .to = Hosts({3})},
                                                     {.from = Hosts({2}), .to = Hosts({1})},
                                                     {.from = Hosts({2}), .to = Hosts({3})},
                                                     {.from = Hosts({3}), .to = Hosts({1})},
                                                     {.from = Hosts({3}), .to = Hosts({2})}}));

  const PartitionSpec& isolate = profile.partitions[2];
  EXPECT_EQ(isolate.name, "isolate n5");
  EXPECT_EQ(isolate.mode, PartitionMode::kIcmpUnreachable);
  EXPECT_TRUE(isolate.new_connections_only);
  EXPECT_EQ(isolate.cuts, (std::vector<PartitionCut>{
                              {.from = Hosts({5}), .to = Hosts({5}), .to_complement = true},
                              {.from = Hosts({5}), .to = Hosts({5}), .from_complement = true}}));

  const PartitionSpec& macs = profile.partitions[3];
  EXPECT_EQ(macs.name, "macs");
  const EndpointSet mac{.prefixes = {}, .macs = {Mac(1)}};
  EXPECT_EQ(macs.cuts, (std::vector<PartitionCut>{{.from = Hosts({1, 2}), .to = mac},
                                                  {.from = mac, .to = Hosts({1, 2})}}));
}

TEST(ProfileParserTest, PartitionShapesCutTheirNodePairs) {
  const ProfileSpec profile = Parse(std::string(kNodes) + R"(partitions:
  - {shape: halves, nodes: [n1, n2, n3, n4, n5]}
  - {shape: majority, nodes: [n1, n2, n3, n4, n5], mode: icmp-unreachable}
  - {shape: majorities-ring, nodes: [n1, n2, n3, n4, n5]}
  - {shape: bridge, nodes: [n1, n2, n3, n4, n5], connections: new}
  - {shape: halves, nodes: [pair, n3]}
)");
  ASSERT_EQ(profile.partitions.size(), 5u);
  EXPECT_EQ(profile.partitions[0].name, "halves n1,n2 | n3,n4,n5");
  EXPECT_EQ(profile.partitions[1].name, "majority n1,n2,n3 | n4,n5");
  EXPECT_EQ(profile.partitions[2].name, "majorities-ring n1..n5");
  EXPECT_EQ(profile.partitions[3].name, "bridge n1,n2 | n3 | n4,n5");
  EXPECT_EQ(profile.partitions[4].name, "halves pair | n3");
  EXPECT_EQ(profile.partitions[1].mode, PartitionMode::kIcmpUnreachable);
  EXPECT_TRUE(profile.partitions[3].new_connections_only);
  // Each cut is one ordered pair of nodes (node k is 10.0.0.k+1), as partition_shapes says.
  for (size_t p = 0; p < 4; ++p) {
    const auto shape = static_cast<PartitionShape>(p);
    const std::vector<std::pair<size_t, size_t>> pairs = PartitionShapeCuts(shape, 5);
    const std::vector<PartitionCut>& cuts = profile.partitions[p].cuts;
    ASSERT_EQ(cuts.size(), pairs.size()) << p;
    for (size_t c = 0; c < cuts.size(); ++c) {
      EXPECT_EQ(cuts[c].from, Hosts({static_cast<uint8_t>(pairs[c].first + 1)}));
      EXPECT_EQ(cuts[c].to, Hosts({static_cast<uint8_t>(pairs[c].second + 1)}));
      EXPECT_FALSE(cuts[c].from_complement || cuts[c].to_complement);
    }
  }
  EXPECT_EQ(profile.partitions[0].cuts.size(), 12u);  // 2 x 2 x 3
  EXPECT_EQ(profile.partitions[2].cuts.size(), 10u);  // each node cut from the 2 it cannot see
  EXPECT_EQ(profile.partitions[4].cuts,
            (std::vector<PartitionCut>{{.from = Hosts({1, 2}), .to = Hosts({3})},
                                       {.from = Hosts({3}), .to = Hosts({1, 2})}}));
}

TEST(ProfileParserTest, GeneratedPartitionNamesAreUnique) {
  const ProfileSpec profile = Parse(std::string(kNodes) + R"(partitions:
  - {from: n1, to: n2}
  - {from: n1, to: n2, connections: new}
  - {isolate: n3}
  - {isolate: n3, name: "isolate n3"}
  - {from: n1, to: n2}
)");
  std::vector<std::string> names;
  for (const PartitionSpec& partition : profile.partitions) names.push_back(partition.name);
  // A given name keeps its text; generated ones step around it.
  EXPECT_EQ(names, (std::vector<std::string>{"n1 -> n2", "n1 -> n2 #2", "isolate n3 #2",
                                             "isolate n3", "n1 -> n2 #3"}));
}

TEST(ProfileParserTest, PartitionLimitsAreTheDataplanes) {
  // 64 nodes between each other: 64 x 63 = 4032 cuts, 64 short of the limit.
  std::string nodes;
  for (int i = 1; i <= 64; ++i) nodes += (i > 1 ? ", 10.0.1." : "10.0.1.") + std::to_string(i);
  std::string text = "version: 1\npartitions:\n  - {between: [" + nodes + "]}\n";
  for (int i = 0; i < 32; ++i) text += "  - {isolate: 10.0.2." + std::to_string(i) + "}\n";
  const ProfileSpec full = Parse(text);
  size_t cuts = 0;
  for (const PartitionSpec& partition : full.partitions) cuts += partition.cuts.size();
  EXPECT_EQ(cuts, kMaxPartitionCuts);
  EXPECT_EQ(Error(text + "  - {from: 10.0.3.1, to: 10.0.3.2}\n"),
            "p.yaml:36:12: this partition needs 1 cuts, 4097 in all partitions; the dataplane "
            "holds at most 4096 (between and shapes cut each ordered pair of their items)");

  std::string many = "version: 1\npartitions:\n";
  for (size_t i = 0; i < kMaxPartitions; ++i) many += "  - {isolate: 10.0.0.1}\n";
  EXPECT_EQ(Parse(many).partitions.size(), 256u);
  EXPECT_EQ(Error(many + "  - {isolate: 10.0.0.1}\n"),
            "p.yaml:259:5: more than 256 partitions (the most the dataplane holds)");
}

TEST(ProfileParserTest, DescribesPartitionsAndTheNewMatchFields) {
  EXPECT_EQ(DescribeProfile(Parse(R"(version: 1
groups: {web: [10.0.1.0/24, aa:bb:cc:dd:ee:01]}
impairments: {x: {}}
rules:
  - name: voice
    match: {src: web, dst-mac: aa:bb:cc:dd:ee:02, vlan: 10-20, ethertype: ipv4, dscp: ef}
    impairment: x
  - {name: lldp, match: {ethertype: lldp, src-mac: aa:bb:cc:dd:ee:03}, impairment: x}
  - {name: odd, match: {ethertype: 0x88B5, vlan: 7}, impairment: x}
  - {name: af, match: {dscp: 10-14, proto: udp}, impairment: x}
partitions:
  - {isolate: web, mode: tcp-reset, connections: new}
  - {name: split, shape: majority, nodes: [10.0.0.1, 10.0.0.2, 10.0.0.3]}
)")),
            "version 1, no seed (one is drawn and reported at start), 1 group, 1 impairment, 4 "
            "rules (first match wins; frames matching none pass untouched), 2 partitions "
            "(checked before rules)\n"
            "  partition isolate web: tcp-reset, new connections (TCP SYN) only, 2 cuts\n"
            "  partition split: drop, all traffic, 4 cuts\n"
            "  rule voice: both, src 10.0.1.0/24 aa:bb:cc:dd:ee:01, dst-mac aa:bb:cc:dd:ee:02, "
            "vlan 10-20, ethertype ipv4, dscp 46 (ef) -> x: no effects (forwarded untouched)\n"
            "  rule lldp: both, src-mac aa:bb:cc:dd:ee:03, ethertype lldp -> x: no effects "
            "(forwarded untouched)\n"
            "  rule odd: both, vlan 7, ethertype 0x88b5 -> x: no effects (forwarded untouched)\n"
            "  rule af: both, udp, dscp 10-14 -> x: no effects (forwarded untouched)\n");
}

// --- Classification and partition mistakes, each with its exact position and message ---

// Each text must fail with exactly its error.
void ExpectErrors(const std::vector<std::pair<std::string, std::string>>& cases) {
  for (const auto& [text, error] : cases) EXPECT_EQ(Error(text), error) << text;
}

// A profile with groups a, b, m (a MAC) and v6, impairment x, and one rule whose match is
// `match` (it starts on line 5, column 23).
std::string RuleWith(const std::string& match) {
  return "version: 1\ngroups: {a: 10.0.0.1, b: 10.0.0.2, m: aa:bb:cc:dd:ee:ff, v6: \"fd00::1\"}\n"
         "impairments: {x: {}}\nrules:\n  - {name: r, match: {" +
         match + "}, impairment: x}\n";
}

TEST(ProfileParserErrorTest, GroupMistakes) {
  ExpectErrors({
      {"version: 1\ngroups:\n  a: [b]\n  b: [c, 10.0.0.1]\n  c: [a]\n",
       "p.yaml:5:7: group 'c': including group 'a' makes a cycle: a -> b -> c -> a"},
      {"version: 1\ngroups:\n  a: [10.0.0.1, a]\n",
       "p.yaml:3:17: group 'a': including group 'a' makes a cycle: a -> a"},
      {"version: 1\ngroups:\n  aa-bb-cc-dd-ee-ff: [10.0.0.1]\n",
       "p.yaml:3:3: group name 'aa-bb-cc-dd-ee-ff' must not look like an address or MAC "
       "address"},
      {"version: 1\ngroups:\n  10.0.0.1: [10.0.0.1]\n",
       "p.yaml:3:3: group name '10.0.0.1' must not look like an address or MAC address"},
      {"version: 1\ngroups:\n  a: [10.0.0.1]\n  b: [a, c]\n",
       "p.yaml:4:10: group 'b': 'c' is neither a group nor an address, prefix or MAC "
       "address (groups: a, b)"},
      {"version: 1\ngroups:\n  a: [[10.0.0.1]]\n",
       "p.yaml:3:7: group 'a': expected an address, prefix, MAC address or group name, not "
       "a list"},
      {"version: 1\ngroups:\n  a: {b: 1}\n",
       "p.yaml:3:6: group 'a' must be a list of addresses, prefixes, MAC addresses or "
       "groups, not a map"},
      {"version: 1\ngroups:\n  a: [\"aa:bb:cc:dd:ee:fg\"]\n",
       "p.yaml:3:7: group 'a': 'aa:bb:cc:dd:ee:fg' is not a MAC address (six hex bytes "
       "like aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff)"},
  });
}

TEST(ProfileParserErrorTest, MatchValueMistakes) {
  ExpectErrors({
      {RuleWith("vlan: 4096"),
       "p.yaml:5:29: vlan: '4096' is not a VLAN ID (0..4095) or a range of them like "
       "100-200"},
      {RuleWith("vlan: 200-100"), "p.yaml:5:29: vlan: the range '200-100' runs backwards"},
      {RuleWith("dscp: 64"),
       "p.yaml:5:29: dscp: '64' is not a DSCP value (0..63 or a name: cs0..cs7, "
       "af11..af43, ef, le) or a range of them like af11-af13"},
      {RuleWith("dscp: af44"),
       "p.yaml:5:29: dscp: 'af44' is not a DSCP value (0..63 or a name: cs0..cs7, "
       "af11..af43, ef, le) or a range of them like af11-af13"},
      {RuleWith("dscp: af13-af11"), "p.yaml:5:29: dscp: the range 'af13-af11' runs backwards"},
      {RuleWith("src-mac: [aa:bb:cc:dd:ee:01, a]"),
       "p.yaml:5:52: src-mac: 'a' is not a MAC address (six hex bytes like "
       "aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff); it is a group: match groups with src or "
       "dst"},
      {RuleWith("dst-mac: []"), "p.yaml:5:32: dst-mac is an empty list"},
      {RuleWith("dst-mac: {a: 1}"),
       "p.yaml:5:32: dst-mac needs a MAC address or a list of them, not a map"},
      {RuleWith("ethertype: ip"),
       "p.yaml:5:34: ethertype: unknown EtherType 'ip' (use ipv4, ipv6, arp, lldp, ptp, "
       "mpls, rarp, or a number like 0x88b5)"},
      {RuleWith("ethertype: 0x10000"),
       "p.yaml:5:34: ethertype: unknown EtherType '0x10000' (use ipv4, ipv6, arp, lldp, ptp, "
       "mpls, rarp, or a number like 0x88b5)"},
      {RuleWith("ethertype: 1500"),
       "p.yaml:5:34: ethertype: '1500' is below 0x0600, where the field holds an 802.3 "
       "frame length, not a type"},
      {RuleWith("ethertype: 0x8100"),
       "p.yaml:5:34: ethertype: '0x8100' is a VLAN tag; ethertype is the type after any "
       "tags (match tags with vlan)"},
      {RuleWith("dst: \"aa:bb-cc:dd:ee:ff\""),
       "p.yaml:5:28: dst: 'aa:bb-cc:dd:ee:ff' is not a MAC address (six hex bytes like "
       "aa:bb:cc:dd:ee:ff or aa-bb-cc-dd-ee-ff)"},
      {RuleWith("src: {a: 1}"),
       "p.yaml:5:28: src needs a group name, an address, a prefix or a MAC address, or a "
       "list of them, not a map"},
  });
}

TEST(ProfileParserErrorTest, MatchesThatCanNeverMatch) {
  ExpectErrors({
      {RuleWith("ethertype: arp, proto: tcp"),
       "p.yaml:5:39: proto needs an IP ethertype (ipv4 or ipv6), not ethertype 'arp'"},
      {RuleWith("ethertype: arp, dst-port: 80"),
       "p.yaml:5:39: dst-port needs an IP ethertype (ipv4 or ipv6), not ethertype 'arp'"},
      {RuleWith("dscp: ef, ethertype: 0x88cc"),
       "p.yaml:5:23: dscp needs an IP ethertype (ipv4 or ipv6), not ethertype '0x88cc'"},
      {RuleWith("ethertype: arp, src: [a, b]"),
       "p.yaml:5:44: src has only IP addresses, which frames of ethertype 'arp' do not "
       "carry (give MAC addresses, or leave out ethertype)"},
      {RuleWith("ethertype: ipv6, dst: a"),
       "p.yaml:5:45: dst has only IPv4 prefixes, which never match ethertype 'ipv6'"},
      {RuleWith("dst: v6, ethertype: ipv4"),
       "p.yaml:5:28: dst has only IPv6 prefixes, which never match ethertype 'ipv4'"},
      {RuleWith("src: a, dst: v6"),
       "p.yaml:5:36: dst has only IPv6 prefixes and src only IPv4 ones: no frame has both"},
      {RuleWith("src: m, src-mac: aa:bb:cc:dd:ee:01"),
       "p.yaml:5:40: src-mac shares no address with src, which has only MAC addresses: no "
       "frame matches both"},
      // The port check of before still holds.
      {RuleWith("proto: icmp, src-port: 7"),
       "p.yaml:5:36: src-port needs proto tcp, udp or sctp, not 'icmp'"},
  });
}

// A profile with groups a, b, c (10.0.0.1-3) and ab = [a, b], and one partition `entry` (line 4,
// its first key on column 6).
std::string PartitionWith(const std::string& entry) {
  return "version: 1\ngroups: {a: 10.0.0.1, b: 10.0.0.2, c: 10.0.0.3, ab: [a, b]}\n"
         "partitions:\n  - {" +
         entry + "}\n";
}

TEST(ProfileParserErrorTest, PartitionMistakes) {
  ExpectErrors({
      {PartitionWith("from: a, to: b, between: [a, b]"),
       "p.yaml:4:22: a partition has one form, and 'between' cannot go with 'from' (use "
       "from/to, between, isolate or shape/nodes, one per list item)"},
      {PartitionWith("isolate: a, shape: halves"),
       "p.yaml:4:18: a partition has one form, and 'shape' cannot go with 'isolate' (use "
       "from/to, between, isolate or shape/nodes, one per list item)"},
      {PartitionWith("mode: drop"),
       "p.yaml:4:5: a partition needs one of {from: X, to: Y}, {between: [X, Y, ...]}, "
       "{isolate: X} or {shape: halves|majority|majorities-ring|bridge, nodes: [...]}"},
      {PartitionWith("from: a"),
       "p.yaml:4:6: from needs 'to' ({from: X, to: Y} cuts frames from X to Y)"},
      {PartitionWith("mode: drop, to: a"),
       "p.yaml:4:18: to needs 'from' ({from: X, to: Y} cuts frames from X to Y)"},
      {PartitionWith("from: [a, b], to: ab"),
       "p.yaml:4:24: from and to are the same endpoints; a partition cuts traffic between "
       "different ones"},
      {PartitionWith("from: a, to: []"), "p.yaml:4:19: to is an empty list"},
      {PartitionWith("from: a, to: d"),
       "p.yaml:4:19: to: 'd' is neither a group nor an address, prefix or MAC address "
       "(groups: a, b, c, ab)"},
      {PartitionWith("between: [a]"), "p.yaml:4:15: between needs at least 2 endpoints, not 1"},
      {PartitionWith("between: a"),
       "p.yaml:4:15: between needs a list of at least 2 endpoints, like [rack-a, rack-b], "
       "not 'a'"},
      {PartitionWith("between: [a, ab, b, [b, a]]"),
       "p.yaml:4:26: between: 'b+a' has the same endpoints as 'ab' (item 2)"},
      {PartitionWith("isolate: []"), "p.yaml:4:15: isolate is an empty list"},
      {PartitionWith("isolate: "),
       "p.yaml:4:6: isolate needs a group name, an address, a prefix or a MAC address, or a "
       "list of them, not empty"},
      {PartitionWith("shape: halves"),
       "p.yaml:4:6: shape needs 'nodes' (the list of nodes to cut)"},
      {PartitionWith("nodes: [a, b]"),
       "p.yaml:4:6: nodes needs a 'shape' (halves, majority, majorities-ring, bridge)"},
      {PartitionWith("shape: bisect, nodes: [a, b]"),
       "p.yaml:4:13: shape: unknown value 'bisect' (use halves, majority, majorities-ring, "
       "bridge)"},
      {PartitionWith("shape: majorities-ring, nodes: [a, b, c]"),
       "p.yaml:4:37: nodes needs at least 4 nodes for shape majorities-ring, not 3"},
      {PartitionWith("shape: bridge, nodes: [a, b]"),
       "p.yaml:4:28: nodes needs at least 3 nodes for shape bridge, not 2"},
      {PartitionWith("shape: majority, nodes: [a, b, [c, [a]]]"),
       "p.yaml:4:41: nodes: expected a group name, address, prefix or MAC address, not a "
       "list"},
      {PartitionWith("from: a, to: b, mode: reset"),
       "p.yaml:4:28: mode: unknown value 'reset' (use drop, icmp-unreachable, tcp-reset)"},
      {PartitionWith("from: a, to: b, connections: established"),
       "p.yaml:4:35: connections: unknown value 'established' (use all, new)"},
      {PartitionWith("from: a, to: b, name: \"\""),
       "p.yaml:4:28: a partition name must not be empty"},
      {PartitionWith("from: a, to: b, name: x}\n  - {from: b, to: a, name: x"),
       "p.yaml:5:28: duplicate partition name 'x' (first on line 4)"},
      {PartitionWith("from: a, to: b, colour: red"),
       "p.yaml:4:22: unknown key 'colour' in a partition (known: from, to, between, isolate, "
       "shape, nodes, mode, connections, name)"},
      {"version: 1\npartitions:\n  - isolate\n",
       "p.yaml:3:5: a partition must be a map, not 'isolate'"},
      {"version: 1\npartitions: {isolate: 10.0.0.1}\n",
       "p.yaml:2:13: partitions must be a list, not a map"},
  });
  // Partitions are read after the groups they name, wherever those are in the file.
  EXPECT_EQ(Parse("version: 1\npartitions: [{isolate: g}]\ngroups: {g: 10.0.0.1}\n")
                .partitions[0]
                .cuts.size(),
            2u);
}

// Profiles on disk: errors name the path, and relative table paths resolve against the
// profile's directory, not the current one.
class ProfileFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("faultline-profile-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::filesystem::path path = directory_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  std::filesystem::path directory_;
};

TEST_F(ProfileFileTest, RelativeTableResolvesAgainstTheProfileDirectory) {
  const std::string table = Write("custom.dist", "# a tiny table\n-100 0 100\n  200\n");
  const std::string path = Write("profile.yaml", R"(version: 1
impairments:
  custom: {delay: {base: 10ms, jitter: 5ms, table: custom.dist}}
)");
  std::string error;
  const std::optional<ProfileSpec> profile = ParseProfileFile(path, &error);
  ASSERT_TRUE(profile.has_value()) << error;
  const DelaySpec& delay = *profile->impairments[0].delay;
  EXPECT_EQ(delay.distribution, DistributionKind::kTable);
  EXPECT_EQ(delay.table_path, table);
  EXPECT_EQ(delay.table, (std::vector<int16_t>{-100, 0, 100, 200}));

  // An absolute path works from text too.
  const std::optional<ProfileSpec> from_text = ParseProfileText(
      "version: 1\nimpairments:\n  c: {delay: {jitter: 1ms, table: " + table + "}}\n", "t", &error);
  ASSERT_TRUE(from_text.has_value()) << error;
  EXPECT_EQ(from_text->impairments[0].delay->table.size(), 4u);
}

TEST_F(ProfileFileTest, MissingTableNamesTheProfilePositionAndTheTable) {
  const std::string path = Write("profile.yaml", R"(version: 1
impairments:
  slow:
    delay: {base: 10ms, jitter: 5ms, table: missing.dist}
)");
  std::string error;
  EXPECT_FALSE(ParseProfileFile(path, &error).has_value());
  EXPECT_EQ(error, path + ":4:45: table: " + (directory_ / "missing.dist").string() +
                       ": cannot read: No such file or directory");
}

TEST_F(ProfileFileTest, BadTableContentIsReportedWithBothPositions) {
  Write("bad.dist", "1 2\n3 x\n");
  const std::string path = Write(
      "profile.yaml", "version: 1\nimpairments:\n  b: {delay: {jitter: 1ms, table: bad.dist}}\n");
  std::string error;
  EXPECT_FALSE(ParseProfileFile(path, &error).has_value());
  const std::string prefix =
      path + ":3:35: table: " + (directory_ / "bad.dist").string() + ":2:3: ";
  EXPECT_EQ(error.substr(0, prefix.size()), prefix) << error;
}

TEST_F(ProfileFileTest, ErrorsNameThePathAsGiven) {
  const std::string path = Write("bad.yaml", "version: 1\nrules: 5\n");
  std::string error;
  EXPECT_FALSE(ParseProfileFile(path, &error).has_value());
  EXPECT_EQ(error, path + ":2:8: rules must be a list, not '5'");

  const std::string missing = (directory_ / "absent.yaml").string();
  EXPECT_FALSE(ParseProfileFile(missing, &error).has_value());
  EXPECT_EQ(error, missing + ": cannot read: No such file or directory");
  EXPECT_FALSE(ParseProfileFile(directory_.string(), &error).has_value());
  EXPECT_EQ(error, directory_.string() + ": cannot read: it is a directory");
}

}  // namespace
}  // namespace faultline
