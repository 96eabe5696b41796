// The profile parser's limits and value bounds (docs/formats.md, "Limits"): each just under (it
// parses) and just over (the exact error at the exact place), and the inputs that froze or
// killed the daemon before they existed: groups nested 10,000 deep, groups that each include all
// groups before them, values that overflowed the dataplane's arithmetic.
#include <gtest/gtest.h>
#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "control/profile/profile_parser.h"

namespace faultline {
namespace {

std::optional<ProfileSpec> Parse(const std::string& text, std::string* error) {
  return ParseProfileText(text, "p.yaml", error);
}

// Parses `text`, which must be valid.
ProfileSpec Valid(const std::string& text) {
  std::string error;
  std::optional<ProfileSpec> profile = Parse(text, &error);
  EXPECT_TRUE(profile.has_value()) << error;
  return profile.value_or(ProfileSpec{});
}

// The error of `text`, which must not parse.
std::string Error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(Parse(text, &error).has_value());
  return error;
}

// "10.A.B.C" for the n-th address (n < 2^24).
std::string Address(size_t n) {
  return "10." + std::to_string(n >> 16 & 255) + "." + std::to_string(n >> 8 & 255) + "." +
         std::to_string(n & 255);
}

// "[10.0.0.0, 10.0.0.1, ...]": `count` addresses from `first`.
std::string Addresses(size_t count, size_t first = 0) {
  std::string list = "[";
  for (size_t i = 0; i < count; ++i) list += (i ? ", " : "") + Address(first + i);
  return list + "]";
}

// "[name, name, ...]", `count` times.
std::string Repeated(const std::string& name, size_t count) {
  std::string list = "[";
  for (size_t i = 0; i < count; ++i) list += (i ? ", " : "") + name;
  return list + "]";
}

// Groups g0 -> g1 -> ... -> g(n-1) -> 10.0.0.1, each including the next.
std::string Chain(size_t n) {
  std::string text = "version: 1\ngroups:\n";
  for (size_t i = 0; i + 1 < n; ++i) {
    text += "  g" + std::to_string(i) + ": [g" + std::to_string(i + 1) + "]\n";
  }
  return text + "  g" + std::to_string(n - 1) + ": [10.0.0.1]\n";
}

// Runs `work` on a thread with a stack of `stack_bytes`: recursion per nesting level would
// overflow it and crash the test.
template <typename Work>
void OnSmallStack(size_t stack_bytes, Work work) {
  pthread_attr_t attributes;
  ASSERT_EQ(pthread_attr_init(&attributes), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attributes, stack_bytes), 0);
  pthread_t thread;
  auto run = [](void* argument) -> void* {
    (*static_cast<Work*>(argument))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attributes, run, &work), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attributes);
}

TEST(ProfileLimitsTest, GroupsNestedAsDeepAsThereMayBeGroupsNeedNoStack) {
  const std::string text = Chain(kMaxGroups);
  ProfileSpec profile;
  // 10,000 nested groups in 256 KiB of stack: the old recursive expansion needed ~400 bytes per
  // level (20,000 levels overflowed the daemon's 8 MiB).
  OnSmallStack(256 << 10, [&] { profile = Valid(text); });
  ASSERT_EQ(profile.groups.size(), kMaxGroups);
  for (const GroupSpec& group : profile.groups) {
    ASSERT_EQ(group.members.prefixes.size(), 1u) << group.name;
  }
}

TEST(ProfileLimitsTest, GroupCountJustUnderAndOver) {
  std::string text = "version: 1\ngroups:\n";
  for (size_t g = 0; g < kMaxGroups; ++g) {
    text += "  g" + std::to_string(g) + ": [" + Address(g) + "]\n";
  }
  EXPECT_EQ(Valid(text).groups.size(), 10'000u);
  EXPECT_EQ(Error(text + "  one-more: [10.200.0.1]\n"), "p.yaml:10003:3: more than 10000 groups");
}

// Each group includes every group before it: 1.7e8 steps of expansion, 500,500 members in all.
// It took 17.7 s before; now each step is one array read (the time is printed, not asserted).
TEST(ProfileLimitsTest, GroupsIncludingEveryEarlierGroupExpandOnceEach) {
  constexpr size_t kGroups = 1000;
  std::string text = "version: 1\ngroups:\n  g0: [" + Address(0) + "]\n";
  for (size_t g = 1; g < kGroups; ++g) {
    text += "  g" + std::to_string(g) + ": [" + Address(g);
    for (size_t earlier = 0; earlier < g; ++earlier) text += ", g" + std::to_string(earlier);
    text += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  const ProfileSpec profile = Valid(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ measured ] %zu groups each including all before: parsed in %.2f s\n", kGroups,
              seconds);
  ASSERT_EQ(profile.groups.size(), kGroups);
  // Members in the order a depth-first walk meets them: its own address, then g0's, g1's...
  const std::vector<Prefix>& last = profile.groups.back().members.prefixes;
  ASSERT_EQ(last.size(), kGroups);
  EXPECT_EQ(last[0].address[2], (kGroups - 1) >> 8);
  EXPECT_EQ(last[0].address[3], (kGroups - 1) & 255);
  for (size_t i = 1; i < kGroups; ++i) {
    EXPECT_EQ(last[i].address[3], (i - 1) & 255);
    EXPECT_EQ(last[i].address[2], (i - 1) >> 8);
  }
}

TEST(ProfileLimitsTest, GroupExpansionStepsJustUnderAndOver) {
  // big: 2^14 addresses (2^14 steps); h names big M times (M * 2^14 steps).
  ASSERT_EQ(kMaxGroupVisits, uint64_t{1} << 28);
  const std::string big = "version: 1\ngroups:\n  big: " + Addresses(1 << 14) + "\n";
  const ProfileSpec profile = Valid(big + "  h: " + Repeated("big", (1 << 14) - 1) + "\n");
  EXPECT_EQ(profile.groups[1].members.prefixes.size(), 1u << 14);
  const std::string error = Error(big + "  h: " + Repeated("big", 1 << 14) + "\n");
  EXPECT_EQ(error,
            "p.yaml:4:" + std::to_string(7 + 5 * ((1 << 14) - 1)) +
                ": group 'h': expanding the groups takes more than 268435456 steps (a group's "
                "members count again each time another group includes it)");
}

TEST(ProfileLimitsTest, GroupMembersJustUnderAndOver) {
  // big and 99 groups including it: 100 x 10,000 members (one more address: 100 x 10,001).
  auto profile = [](size_t big) {
    std::string text = "version: 1\ngroups:\n  big: " + Addresses(big) + "\n";
    for (int h = 1; h < 100; ++h) text += "  h" + std::to_string(h) + ": [big]\n";
    return text;
  };
  EXPECT_EQ(Valid(profile(10'000)).groups.size(), 100u);
  EXPECT_EQ(Error(profile(10'001)),
            "p.yaml:102:9: group 'h99': the groups hold more than 1000000 endpoints in all (a "
            "group counts all it includes)");
}

std::string ImpairmentsAndRules(size_t impairments, size_t rules) {
  std::string text = "version: 1\nimpairments:\n";
  for (size_t i = 0; i < impairments; ++i) text += "  i" + std::to_string(i) + ": {}\n";
  text += "rules:\n";
  for (size_t r = 0; r < rules; ++r) {
    text += "  - {name: r" + std::to_string(r) + ", match: {}, impairment: i0}\n";
  }
  return text;
}

TEST(ProfileLimitsTest, RulesAndImpairmentsJustUnderAndOver) {
  const ProfileSpec profile = Valid(ImpairmentsAndRules(kMaxImpairments, kMaxRules));
  EXPECT_EQ(profile.impairments.size(), 4096u);
  EXPECT_EQ(profile.rules.size(), 4096u);
  EXPECT_EQ(Error(ImpairmentsAndRules(4097, 1)), "p.yaml:4099:3: more than 4096 impairments");
  // An unknown name among thousands: the list of known ones is cut short.
  std::string unknown = ImpairmentsAndRules(kMaxImpairments, 1);
  unknown.replace(unknown.rfind("impairment: i0"), 14, "impairment: nope");
  EXPECT_EQ(Error(unknown),
            "p.yaml:4100:39: no impairment named 'nope' (defined: i0, i1, i2, i3, i4, i5, i6, i7, "
            "i8, i9, i10, i11, i12, i13, i14, i15, i16, i17, i18, i19, ... (4096 in all))");
  EXPECT_EQ(Error(ImpairmentsAndRules(1, 4097)), "p.yaml:4101:5: more than 4096 rules");
}

// Delay tables: 4,096 impairments with a normal table each hold 2^24 values, the limit; one value
// more is over. Each table is made once per profile, not once per impairment (400,000 erf()
// calls each).
TEST(ProfileLimitsTest, DelayTableValuesJustUnderAndOver) {
  auto profile = [](size_t normal, const std::string& file) {
    std::string text = "version: 1\nimpairments:\n";
    for (size_t i = 0; i < normal; ++i) {
      text +=
          "  n" + std::to_string(i) + ": {delay: {base: 1ms, jitter: 1ms, distribution: normal}}\n";
    }
    if (!file.empty()) text += "  t: {delay: {base: 1ms, jitter: 1ms, table: " + file + "}}\n";
    return text;
  };
  EXPECT_EQ(Valid(profile(kMaxImpairments, "")).impairments.size(), 4096u);
  // 4,095 normal tables and a file of 4,096 values: the limit; of 4,097: over.
  auto write = [](size_t values) {
    const std::string path =
        ::testing::TempDir() + "/profile_limits_" + std::to_string(values) + ".dist";
    std::FILE* dist = std::fopen(path.c_str(), "w");
    for (size_t i = 0; dist != nullptr && i < values; ++i) std::fputs("0\n", dist);
    if (dist != nullptr) std::fclose(dist);
    return path;
  };
  const std::string at_limit = write(4096), over = write(4097);
  EXPECT_EQ(Valid(profile(4095, at_limit)).impairments.back().delay->table.size(), 4096u);
  EXPECT_EQ(Error(profile(4095, over)),
            "p.yaml:4098:46: the delay tables of all impairments hold more than 16777216 values");
  std::remove(at_limit.c_str());
  std::remove(over.c_str());
}

TEST(ProfileLimitsTest, EndpointsNamedJustUnderAndOver) {
  // A group of 1,000 named 1,000 times by one rule: 10^6 named, 1,000 held.
  const std::string start = "version: 1\ngroups:\n  big: " + Addresses(1000) +
                            "\nimpairments: {x: {}}\nrules:\n  - name: r\n    impairment: x\n"
                            "    match:\n      src: ";
  const ProfileSpec profile = Valid(start + Repeated("big", 1000) + "\n");
  EXPECT_EQ(profile.rules[0].match.src.prefixes.size(), 1000u);
  std::string over = Repeated("big", 1000);
  over.back() = ',';
  EXPECT_EQ(Error(start + over + " 10.99.0.1]\n"),
            "p.yaml:9:" + std::to_string(13 + 5 * 1000) +
                ": more than 1000000 endpoints named in rules and partitions (a group counts as "
                "many as it holds, each time it is named)");
}

TEST(ProfileLimitsTest, EndpointsHeldJustUnderAndOver) {
  // A partition between 50 groups holds every group 2 x 49 times (each ordered pair, both
  // sides): 98 x 10,204 = 999,992 endpoints; a rule holding 8 more makes 10^6, 9 more is over.
  auto profile = [](size_t rule_sources) {
    std::string text = "version: 1\ngroups:\n", between;
    for (size_t g = 0; g < 50; ++g) {
      text += "  g" + std::to_string(g) + ": " + Addresses(g < 4 ? 205 : 204, g * 256) + "\n";
      between += (g ? ", g" : "g") + std::to_string(g);
    }
    return text + "partitions:\n  - {between: [" + between + "]}\nimpairments: {x: {}}\n" +
           "rules:\n  - {name: r, match: {src: " + Addresses(rule_sources, 1 << 16) +
           "}, impairment: x}\n";
  };
  const ProfileSpec at_limit = Valid(profile(8));
  EXPECT_EQ(MatchEndpointCount(at_limit), kMaxMatchEndpoints);
  EXPECT_EQ(Error(profile(9)),
            "p.yaml:57:5: the rules and partitions hold more than 1000000 endpoints (every cut "
            "holds both its sides, and between and shapes cut each ordered pair of their items)");
  // isolate holds its node 4 times (two cuts, both sides).
  const ProfileSpec isolate =
      Valid("version: 1\npartitions:\n  - {isolate: [10.0.0.1, 10.0.0.2, 10.0.0.3]}\n");
  EXPECT_EQ(MatchEndpointCount(isolate), 12u);
}

// A profile with one impairment `effect` (a flow map's content) and a rule using it.
std::string WithEffect(const std::string& effect) {
  return "version: 1\nimpairments:\n  x: {" + effect +
         "}\nrules:\n  - {name: r, match: {}, "
         "impairment: x}\n";
}

// `effect` parses.
void ExpectValid(const std::string& effect) {
  std::string error;
  EXPECT_TRUE(Parse(WithEffect(effect), &error).has_value()) << effect << ": " << error;
}

// `effect` fails with `message` at line 3, column `column`.
void ExpectRefused(const std::string& effect, int column, const std::string& message) {
  EXPECT_EQ(Error(WithEffect(effect)), "p.yaml:3:" + std::to_string(column) + ": " + message)
      << effect;
}

TEST(ProfileLimitsTest, SeedJustUnderAndOver) {
  EXPECT_EQ(Valid("version: 1\nseed: 9007199254740991\n").seed, (uint64_t{1} << 53) - 1);
  EXPECT_EQ(Error("version: 1\nseed: 9007199254740992\n"),
            "p.yaml:2:7: seed: '9007199254740992' is not an integer in 0..9007199254740991");
  EXPECT_EQ(Error("version: 1\nseed: 18446744073709551615\n").substr(0, 12), "p.yaml:2:7: ");
}

// delay: 213503d wrapped departure times; 100,000 days of jitter overflowed the table lookup.
TEST(ProfileLimitsTest, DelayAndJitterJustUnderAndOver) {
  ExpectValid("delay: {base: 1d, jitter: 1d, distribution: pareto}");
  ExpectValid("delay: {base: 86400s}");
  ExpectRefused("delay: {base: 86400000000001ns}", 21,
                "base: '86400000000001ns' is above the limit of 1d");
  ExpectRefused("delay: {base: 1d, jitter: 86400000000001ns}", 33,
                "jitter: '86400000000001ns' is above the limit of 1d");
  ExpectRefused("delay: {base: 213503d}", 21, "base: '213503d' is above the limit of 1d");
  ExpectRefused("delay: {base: 1ms, jitter: 100000d}", 34,
                "jitter: '100000d' is above the limit of 1d");
}

// ber 1e-300 overflowed the conversion of the distance to the next error to an integer.
TEST(ProfileLimitsTest, BitErrorRateJustUnderAndOver) {
  ExpectValid("corrupt: {ber: 1e-15}");
  ExpectValid("corrupt: {ber: 0}");
  ExpectValid("corrupt: {ber: 0.01}");
  ExpectRefused("corrupt: {ber: 9.99e-16}", 22,
                "ber: '9.99e-16' is below the minimum bit error rate of 1e-15 (0 for none)");
  ExpectRefused("corrupt: {ber: 1e-300}", 22,
                "ber: '1e-300' is below the minimum bit error rate of 1e-15 (0 for none)");
}

TEST(ProfileLimitsTest, BandwidthJustUnderAndOver) {
  ExpectValid("rate: {bandwidth: 1kbit}");
  ExpectValid("rate: {bandwidth: 1tbit}");
  ExpectRefused("rate: {bandwidth: 999bit}", 25, "bandwidth: '999bit' is below the limit of 1kbit");
  ExpectRefused("rate: {bandwidth: 1000000000001bit}", 25,
                "bandwidth: '1000000000001bit' is above the limit of 1tbit");
  ExpectRefused("rate: {bandwidth: 18446744073709551615bit}", 25,
                "bandwidth: '18446744073709551615bit' is above the limit of 1tbit");
}

TEST(ProfileLimitsTest, QueueLimitsJustUnderAndOver) {
  ExpectValid("rate: {bandwidth: 1gbit, queue-limit: 1048576pkt}");
  ExpectValid("rate: {bandwidth: 1gbit, queue-limit: 50MB}");
  ExpectValid("rate: {bandwidth: 1gbit, queue-limit: [1048576pkt, 50MB]}");
  ExpectValid("rate: {bandwidth: 1gbit, queue-limit: 1000pkt, ecn-threshold: 50MB}");
  ExpectRefused("rate: {bandwidth: 1gbit, queue-limit: 1048577pkt}", 45,
                "queue-limit: '1048577pkt' is above the limit of 1048576pkt");
  ExpectRefused("rate: {bandwidth: 1gbit, queue-limit: 50000001B}", 45,
                "queue-limit: '50000001B' is above the limit of 50MB");
  ExpectRefused("rate: {bandwidth: 1gbit, queue-limit: [1pkt, 50000001B]}", 52,
                "queue-limit: '50000001B' is above the limit of 50MB");
  ExpectRefused("rate: {bandwidth: 1gbit, queue-limit: 18446744073709551615pkt}", 45,
                "queue-limit: '18446744073709551615pkt' is above the limit of 1048576pkt");
  ExpectRefused("rate: {bandwidth: 1gbit, queue-limit: 1000pkt, ecn-threshold: 50000001B}", 69,
                "ecn-threshold: '50000001B' is above the limit of 50MB");
}

TEST(ProfileLimitsTest, StallTimesAndLimitsJustUnderAndOver) {
  ExpectValid("stall: {for: 1d, start: 365d, every: 365d, limit: 4294967295pkt}");
  ExpectValid("stall: {for: 1s, limit: 1000GB}");
  ExpectRefused("stall: {for: 86400000000001ns}", 20,
                "for: '86400000000001ns' is above the limit of 1d");
  ExpectRefused("stall: {for: 1s, start: 31536000000000001ns}", 31,
                "start: '31536000000000001ns' is above the limit of 365d");
  ExpectRefused("stall: {for: 1s, every: 366d}", 31, "every: '366d' is above the limit of 365d");
  ExpectRefused("stall: {for: 1s, limit: 4294967296pkt}", 31,
                "limit: '4294967296pkt' is above the limit of 4294967295pkt");
  ExpectRefused("stall: {for: 1s, limit: 1000000000001B}", 31,
                "limit: '1000000000001B' is above the limit of 1000GB");
  ExpectRefused("stall: {for: 1s, limit: 18446744073709551615B}", 31,
                "limit: '18446744073709551615B' is above the limit of 1000GB");
}

}  // namespace
}  // namespace faultline
