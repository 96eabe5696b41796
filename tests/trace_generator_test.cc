// `faultline trace generate`: the topology parser, the models' statistics against the figures of
// shared/research/datacenter-faults.md, merging, determinism and the emitted YAML.
#include "control/trace/trace_generator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "control/base/units.h"
#include "control/profile/profile_parser.h"
#include "control/trace/topology.h"
#include "control/yaml/yaml_document.h"

namespace faultline {
namespace {

constexpr double kYearNs = 365.0 * 86400 * 1e9;

Topology ParseTopology(const std::string& text) {
  std::string error;
  std::optional<Topology> topology = ParseTopologyText(text, "t.yaml", &error);
  EXPECT_TRUE(topology.has_value()) << error;
  return topology.value_or(Topology{});
}

std::string TopologyError(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseTopologyText(text, "t.yaml", &error).has_value()) << text;
  return error;
}

// ---------------------------------------------------------------------------------------------
// Topology parser

TEST(Topology, ListAndMapForms) {
  const Topology topology = ParseTopology(R"(version: 1
racks:
  rack-a: [10.0.1.11, 10.0.1.12]
  rack-b: {db1: 10.0.2.11, db2: [10.0.2.12, "fd00::12"]}
  rack-c: 10.0.3.0/24
aggregation:
  agg-1: [rack-a, rack-b]
load-balancers:
  lb-1: [rack-a-n1, db2]
  lb-2: rack-c
)");
  ASSERT_EQ(topology.racks.size(), 3u);
  EXPECT_EQ(topology.racks[0].name, "rack-a");
  ASSERT_EQ(topology.racks[0].nodes.size(), 2u);
  EXPECT_EQ(topology.racks[0].nodes[1].name, "rack-a-n2");
  EXPECT_EQ(topology.racks[0].nodes[1].addresses, std::vector<std::string>{"10.0.1.12"});
  EXPECT_EQ(topology.racks[1].nodes[1].name, "db2");
  EXPECT_EQ(topology.racks[1].nodes[1].addresses,
            (std::vector<std::string>{"10.0.2.12", "fd00::12"}));
  EXPECT_EQ(topology.racks[2].nodes[0].name, "rack-c-n1");
  EXPECT_EQ(topology.racks[2].nodes[0].addresses, std::vector<std::string>{"10.0.3.0/24"});
  EXPECT_EQ(topology.NodeCount(), 5u);
  ASSERT_EQ(topology.aggregations.size(), 1u);
  EXPECT_EQ(topology.aggregations[0].racks, (std::vector<size_t>{0, 1}));
  ASSERT_EQ(topology.load_balancers.size(), 2u);
  EXPECT_EQ(topology.load_balancers[0].nodes,
            (std::vector<std::pair<size_t, size_t>>{{0, 0}, {1, 1}}));
  EXPECT_EQ(topology.load_balancers[1].nodes, (std::vector<std::pair<size_t, size_t>>{{2, 0}}));
}

TEST(Topology, EmptyOptionalSections) {
  const Topology topology = ParseTopology(
      "version: 1\nracks:\n  r1: [10.0.0.1]\naggregation:\nload-balancers:   # none yet\n");
  EXPECT_EQ(topology.racks.size(), 1u);
  EXPECT_TRUE(topology.aggregations.empty());
  EXPECT_TRUE(topology.load_balancers.empty());
}

TEST(Topology, ShippedExample) {
  std::string error;
  const std::optional<Topology> topology = ParseTopologyFile(
      std::string(FAULTLINE_SOURCE_ROOT) + "/profiles/topology-example.yaml", &error);
  ASSERT_TRUE(topology.has_value()) << error;
  EXPECT_EQ(topology->racks.size(), 3u);
  EXPECT_EQ(topology->NodeCount(), 9u);
}

TEST(Topology, Errors) {
  struct Case {
    std::string text, error;
  };
  const std::vector<Case> cases = {
      {"", "t.yaml:1:1: the topology is empty (it needs 'version: 1' and 'racks')"},
      {"racks:\n  r: [10.0.0.1]\n", "t.yaml:1:1: the topology needs 'version: 1'"},
      {"version: 2\nracks:\n  r: [10.0.0.1]\n",
       "t.yaml:1:10: version: only version 1 is known, not '2'"},
      {"version: 1\n", "t.yaml:1:1: the topology needs 'racks'"},
      {"version: 1\nracks:\n", "t.yaml:2:1: racks: the topology needs at least one rack"},
      {"version: 1\nracks: {}\n", "t.yaml:2:8: racks: the topology needs at least one rack"},
      {"version: 1\nrack:\n  r: [10.0.0.1]\n",
       "t.yaml:2:1: unknown key 'rack' in the topology (known: version, racks, aggregation, "
       "load-balancers)"},
      {"version: 1\nracks:\n  r: [10.0.0.1, 10.0.0.300]\n",
       "t.yaml:3:17: node 'r-n2': '10.0.0.300' is not an IPv4 or IPv6 address or prefix"},
      {"version: 1\nracks:\n  r: [10.0.0.1/24]\n",
       "t.yaml:3:7: node 'r-n1': '10.0.0.1/24' has host bits set beyond /24 (did you mean "
       "10.0.0.0/24?)"},
      {"version: 1\nracks:\n  r: [10.0.0.0/33]\n",
       "t.yaml:3:7: node 'r-n1': '10.0.0.0/33': the prefix length must be 0..32 for IPv4"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\n  s: {x: [\"fd00::1\", 10.0.0.1]}\n",
       "t.yaml:4:22: node 'x': 10.0.0.1 is already an address of node 'r-n1'"},
      {"version: 1\nracks:\n  r: {x: [10.0.0.1, 10.0.0.1]}\n",
       "t.yaml:3:21: node 'x': 10.0.0.1 is already an address of this node"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\n  r: [10.0.0.2]\n",
       "t.yaml:4:3: duplicate key 'r' in racks (first on line 3)"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\n  s: {r-n1: 10.0.0.2}\n",
       "t.yaml:4:7: node name 'r-n1' is already used (line 3)"},
      {"version: 1\nracks:\n  1r: [10.0.0.1]\n",
       "t.yaml:3:3: rack name '1r' must start with a letter"},
      {"version: 1\nracks:\n  r: {\"db 1\": 10.0.0.1}\n",
       "t.yaml:3:7: node name 'db 1' may only hold letters, digits, '-', '_' and '.'"},
      {"version: 1\nracks:\n  aa-bb-cc-dd-ee-ff: [10.0.0.1]\n",
       "t.yaml:3:3: rack name 'aa-bb-cc-dd-ee-ff' looks like a MAC address"},
      {"version: 1\nracks:\n  r: []\n", "t.yaml:3:6: rack 'r' needs at least one node"},
      {"version: 1\nracks:\n  r:\n",
       "t.yaml:3:3: rack 'r' needs a list of node addresses or a "
       "map of named nodes"},
      {"version: 1\nracks:\n  r: {db1: []}\n",
       "t.yaml:3:12: node 'db1' needs at least one address"},
      {"version: 1\nracks:\n  r: [{a: 10.0.0.1}]\n",
       "t.yaml:3:7: rack 'r': a list holds node addresses; name nodes with a map instead "
       "({db1: 10.0.2.11, db2: 10.0.2.12})"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\naggregation:\n  agg: [r, s]\n",
       "t.yaml:5:12: aggregation switch 'agg': 's' is not a rack"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\naggregation:\n  agg: [r, r]\n",
       "t.yaml:5:12: aggregation switch 'agg': rack 'r' is listed twice"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\naggregation:\n  r: [r]\n",
       "t.yaml:5:3: aggregation switch name 'r' is already used (line 3)"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\naggregation:\n  agg: []\n",
       "t.yaml:5:8: aggregation switch 'agg' needs a list of names"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\nload-balancers:\n  lb: [r-n2]\n",
       "t.yaml:5:8: load balancer 'lb': 'r-n2' is neither a node nor a rack"},
      {"version: 1\nracks:\n  r: [10.0.0.1]\nload-balancers:\n  lb: [r-n1, r]\n",
       "t.yaml:5:14: load balancer 'lb': node 'r-n1' is listed twice"},
      {"version: 1\nracks:\n  r: [10.0.0.1\n",
       "t.yaml:4:1: did not find expected ',' or ']' (while parsing a flow sequence at line 3, "
       "column 6)"},
      {"version: 1\nracks: [r]\n", "t.yaml:2:8: racks must be a map, not a list"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TopologyError(c.text), c.error) << c.text;
  }
  std::string error;
  EXPECT_FALSE(ParseTopologyFile("/nonexistent/t.yaml", &error));
  EXPECT_EQ(error, "/nonexistent/t.yaml: cannot read: No such file or directory");
}

// Racks, nodes, aggregation switches and load balancers each become a group of the generated
// profile: at most kMaxGroups names in all (5,000 racks of one node: 10,000).
TEST(Topology, NamesJustUnderAndOver) {
  std::string text = "version: 1\nracks:\n";
  for (size_t r = 0; r < 5000; ++r) {
    text += "  r" + std::to_string(r) + ": [10." + std::to_string(r >> 8) + "." +
            std::to_string(r & 255) + ".1]\n";
  }
  std::string error;
  const std::optional<Topology> topology = ParseTopologyText(text, "t.yaml", &error);
  ASSERT_TRUE(topology) << error;
  EXPECT_EQ(topology->NodeCount(), 5000u);
  EXPECT_EQ(TopologyError(text + "  one-more: [10.99.0.1]\n"),
            "t.yaml:5003:3: more than 10000 racks, nodes, aggregation switches and load balancers "
            "(each is a group of the generated trace's profile)");
}

// ---------------------------------------------------------------------------------------------
// Portable draws

TEST(TraceDraws, InverseNormalCdf) {
  EXPECT_NEAR(InverseNormalCdf(0.5), 0, 1e-12);
  EXPECT_NEAR(InverseNormalCdf(0.975), 1.959963984540054, 1e-8);
  EXPECT_NEAR(InverseNormalCdf(0.01), -2.326347874040841, 1e-8);
  EXPECT_NEAR(InverseNormalCdf(0.99), 2.326347874040841, 1e-8);
  EXPECT_NEAR(InverseNormalCdf(1e-9), -5.997807015007687, 1e-7);
}

TEST(TraceDraws, SameSequenceEverywhere) {
  // Pinned values: a change of generator or transform changes every generated trace (and the
  // shipped profiles/gill-month.trace.yaml, which trace_generate_cli regenerates).
  Rng rng(42, 0);
  EXPECT_EQ(UniformOpen(rng), 0x1.5780b2e0c2ec4p-4);  // exact: integer arithmetic and a scale
  // Through log/exp of the C library: equal within 4 ULP (results are rounded to 1 us anyway).
  EXPECT_DOUBLE_EQ(ExponentialDraw(rng), 0x1.f0c76279dedbfp-1);
  EXPECT_DOUBLE_EQ(LognormalDraw(rng, 300, 3.27), 0x1.5a48c8b41fd35p+10);
  Rng a(7, 3), b(7, 3);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(LognormalDraw(a, 300, 3.27), LognormalDraw(b, 300, 3.27));
    const double u = UniformOpen(a);
    ASSERT_EQ(u, UniformOpen(b));
    ASSERT_GT(u, 0);
    ASSERT_LT(u, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Merging

TEST(TraceMerge, Intervals) {
  const std::vector<Interval> merged = MergeIntervals({{50, 60, 1},
                                                       {10, 20, 1},
                                                       {15, 30, 1},  // overlaps the first
                                                       {30, 35, 1},  // touches: merged
                                                       {12, 13, 1},  // inside
                                                       {36, 40, 1},  // a gap of 1: apart
                                                       {55, 70, 2}});
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].start_us, 10u);
  EXPECT_EQ(merged[0].end_us, 35u);
  EXPECT_EQ(merged[0].merged, 4u);
  EXPECT_EQ(merged[1].start_us, 36u);
  EXPECT_EQ(merged[1].end_us, 40u);
  EXPECT_EQ(merged[1].merged, 1u);
  EXPECT_EQ(merged[2].start_us, 50u);
  EXPECT_EQ(merged[2].end_us, 70u);
  EXPECT_EQ(merged[2].merged, 3u);
  EXPECT_TRUE(MergeIntervals({}).empty());
}

// ---------------------------------------------------------------------------------------------
// The models

// 10 racks of 3 nodes, 2 aggregation switches, 3 load balancers.
Topology TenRacks() {
  std::string text = "version: 1\nracks:\n";
  for (int r = 0; r < 10; ++r) {
    text += "  rack-" + std::to_string(r) + ": [";
    for (int n = 0; n < 3; ++n) {
      text +=
          (n ? ", " : "") + std::string("10.0.") + std::to_string(r) + "." + std::to_string(11 + n);
    }
    text += "]\n";
  }
  text +=
      "aggregation:\n  agg-1: [rack-0, rack-1, rack-2, rack-3, rack-4]\n"
      "  agg-2: [rack-5, rack-6, rack-7, rack-8, rack-9]\n";
  text +=
      "load-balancers:\n  lb-1: [rack-0-n1]\n  lb-2: [rack-1-n1, rack-2-n1]\n"
      "  lb-3: [rack-9]\n";
  return ParseTopology(text);
}

GeneratedTrace Generate(const Topology& topology, const std::string& model, uint64_t duration_ns,
                        double scale, uint64_t seed, double compress = 1) {
  TraceGenerateOptions options;
  options.model = model;
  options.duration_ns = duration_ns;
  options.scale = scale;
  options.seed = seed;
  options.compress = compress;
  options.command = "test";
  std::string error;
  std::optional<GeneratedTrace> trace = GenerateTrace(topology, options, &error);
  EXPECT_TRUE(trace.has_value()) << error;
  return trace.value_or(GeneratedTrace{});
}

// A Poisson count n with mean mu: |n - mu| < 4 sqrt(mu) (the normal approximation, fine for
// mu >> 1; a 4-sigma band fails about 6 times in 100000 per check).
void ExpectPoisson(size_t n, double mu, const std::string& what) {
  const double band = 4 * std::sqrt(mu);
  EXPECT_LT(std::abs(static_cast<double>(n) - mu), band)
      << what << ": n = " << n << ", mu = " << mu << ", 4 sqrt(mu) = " << band;
  std::printf("[ stats    ] %-34s n = %7zu  mu = %9.1f  |n-mu| = %6.1f < %6.1f\n", what.c_str(), n,
              mu, std::abs(static_cast<double>(n) - mu), band);
}

// The sample quantile q of `values` (nearest rank).
double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::max<size_t>(rank, 1) - 1];
}

// The quantile q of a lognormal (median m, sigma s) from n draws: its standard error is
// sqrt(q (1 - q) / n) / f(x_q), f the lognormal density: x_q s sqrt(q (1-q) / n) / phi(z_q). At
// the median (z = 0, phi = 1/sqrt(2 pi)): m s sqrt(2 pi) / (2 sqrt(n)). Expect within 4 SE.
void ExpectLognormalQuantile(const std::vector<double>& values, double q, double median,
                             double sigma, const std::string& what) {
  const double z = InverseNormalCdf(q);
  const double expected = median * std::exp(sigma * z);
  const double density = std::exp(-z * z / 2) / std::sqrt(2 * M_PI);
  const double n = static_cast<double>(values.size());
  const double se = expected * sigma * std::sqrt(q * (1 - q) / n) / density;
  const double measured = Quantile(values, q);
  EXPECT_LT(std::abs(measured - expected), 4 * se)
      << what << ": measured " << measured << " s, expected " << expected << " s, SE " << se;
  std::printf("[ stats    ] %-34s n = %7.0f  q%.0f = %9.1f s, expected %9.1f s, 4 SE = %7.1f s\n",
              what.c_str(), n, q * 100, measured, expected, 4 * se);
}

TEST(Gill2011, RatesAndRepairTimes) {
  // 200 model years of 10 racks at --scale 100: 200000 rack-years.
  const Topology topology = TenRacks();
  const double years = 200, scale = 100;
  const GeneratedTrace trace =
      Generate(topology, "gill2011", static_cast<uint64_t>(years * kYearNs), scale, 11);

  // The research figures (shared/research/datacenter-faults.md), not the generator's constants.
  const double tor = -std::log(0.95), agg = -std::log(0.90), lb = -std::log(0.80);
  const double link = 40.8 / 5.2 * tor;
  const std::map<std::string, double> per_target = {
      {"tor", tor * 10}, {"agg", agg * 2}, {"lb", lb * 3}, {"link", link * 10}};
  std::map<std::string, size_t> drawn, emitted;
  std::map<std::string, size_t> link_per_node;
  std::vector<double> repairs;
  for (const DrawnFailure& failure : trace.failures) {
    const std::string& process = trace.processes[failure.process].name;
    ++drawn[process];
    emitted[process] += failure.emitted;
    if (process == "link") ++link_per_node[failure.target];
    repairs.push_back(static_cast<double>(failure.repair_ns) / 1e9);
  }
  for (const auto& [process, rate] : per_target) {
    const double mu = rate * years * scale;
    ExpectPoisson(drawn[process], mu, "gill " + process + " drawn");
    // Thinning a Poisson process by 0.3 leaves a Poisson process of 0.3 times the rate.
    ExpectPoisson(emitted[process], 0.3 * mu, "gill " + process + " traffic-affecting");
  }
  // Each link failure isolates one of its rack's 3 nodes, uniformly.
  ASSERT_EQ(link_per_node.size(), 30u);
  for (const auto& [node, count] : link_per_node) {
    ExpectPoisson(count, link * years * scale / 3, "gill link on " + node);
  }
  // Repair: lognormal, median 5 min, 99th percentile 7 days.
  const double sigma = std::log(7 * 86400.0 / 300) / 2.3263478740408408;
  ExpectLognormalQuantile(repairs, 0.5, 300, sigma, "gill repair median");
  ExpectLognormalQuantile(repairs, 0.99, 300, sigma, "gill repair p99");
}

TEST(Dean2009, RatesAndRepairTimes) {
  // 500 cluster-years at --scale 20: 10000 cluster-years.
  const Topology topology = TenRacks();
  const double years = 500, scale = 20;
  const GeneratedTrace trace =
      Generate(topology, "dean2009", static_cast<uint64_t>(years * kYearNs), scale, 5);
  std::map<std::string, size_t> drawn, emitted;
  std::map<std::string, size_t> wonky_per_rack;
  std::vector<double> wonky_lengths;
  for (const DrawnFailure& failure : trace.failures) {
    const std::string& process = trace.processes[failure.process].name;
    ++drawn[process];
    emitted[process] += failure.emitted;
    if (process == "wonky") {
      ++wonky_per_rack[failure.target];
      wonky_lengths.push_back(static_cast<double>(failure.repair_ns) / 1e9);
    }
    if (process == "maintenance") {
      EXPECT_EQ(failure.repair_ns, 1800'000'000'000u);
    }
    if (process == "router") {
      EXPECT_EQ(failure.repair_ns, 3600'000'000'000u);
    }
  }
  const double cluster_years = years * scale;
  ExpectPoisson(drawn["wonky"], 5 * cluster_years, "dean wonky");
  ExpectPoisson(drawn["maintenance"], 8 * cluster_years, "dean maintenance drawn");
  ExpectPoisson(emitted["maintenance"], 4 * cluster_years, "dean maintenance with loss");
  ExpectPoisson(drawn["router"], 3 * cluster_years, "dean router");
  EXPECT_EQ(emitted["wonky"], drawn["wonky"]);
  EXPECT_EQ(emitted["router"], drawn["router"]);
  ASSERT_EQ(wonky_per_rack.size(), 10u);
  for (const auto& [rack, count] : wonky_per_rack) {
    ExpectPoisson(count, 5 * cluster_years / 10, "dean wonky on " + rack);
  }
  // Wonky racks last as CENIC hardware failures: median 32 min, 95th percentile 3.7 days.
  const double sigma = std::log(3.7 * 86400 / 1920) / 1.6448536269514722;
  ExpectLognormalQuantile(wonky_lengths, 0.5, 1920, sigma, "dean wonky median");
  ExpectLognormalQuantile(wonky_lengths, 0.95, 1920, sigma, "dean wonky p95");
}

// A union of [start, end) intervals, computed by sweeping +1/-1 boundaries (not MergeIntervals).
uint64_t CoveredLength(const std::vector<std::pair<uint64_t, uint64_t>>& intervals) {
  std::map<uint64_t, int> delta;
  for (const auto& [start, end] : intervals) {
    ++delta[start];
    --delta[end];
  }
  uint64_t covered = 0, since = 0;
  int depth = 0;
  for (const auto& [at, change] : delta) {
    if (depth == 0 && depth + change > 0) since = at;
    if (depth > 0 && depth + change == 0) covered += at - since;
    depth += change;
  }
  return covered;
}

TEST(Gill2011, OverlappingFailuresOfOneTargetMerge) {
  // One rack of one node at a high rate: failures of the node overlap often.
  const Topology topology = ParseTopology("version: 1\nracks:\n  r: [10.0.0.1]\n");
  const uint64_t duration = static_cast<uint64_t>(2 * kYearNs);
  const GeneratedTrace trace = Generate(topology, "gill2011", duration, 300, 3);
  // Per target: the raw traffic-affecting failures (clipped to the duration)...
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> raw;
  size_t emitted = 0;
  for (const DrawnFailure& failure : trace.failures) {
    if (!failure.emitted) continue;
    ++emitted;
    const uint64_t start = (failure.start_ns + 500) / 1000;
    const uint64_t end =
        std::min((failure.start_ns + failure.repair_ns + 500) / 1000, (duration + 500) / 1000);
    raw[failure.target].emplace_back(start, std::max(end, start + 1));
  }
  // ... and the partitions of the trace, which must never overlap for one target.
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> emitted_spans;
  std::map<std::string, std::pair<std::string, uint64_t>> open;  // name -> (target, start)
  std::map<std::string, uint64_t> last_end;
  size_t partitions = 0;
  for (const GeneratedEvent& event : trace.events) {
    if (event.kind == GeneratedKind::kPartition) {
      ++partitions;
      ASSERT_FALSE(open.count(event.partition)) << event.partition;
      if (last_end.count(event.isolate)) {
        EXPECT_GT(event.at_us, last_end[event.isolate]) << event.partition << " overlaps";
      }
      for (const auto& [name, what] : open) EXPECT_NE(what.first, event.isolate) << name;
      open[event.partition] = {event.isolate, event.at_us};
    } else if (event.kind == GeneratedKind::kHeal) {
      ASSERT_TRUE(open.count(event.partition)) << event.partition;
      const auto [target, start] = open[event.partition];
      EXPECT_GT(event.at_us, start);
      emitted_spans[target].emplace_back(start, event.at_us);
      last_end[target] = event.at_us;
      open.erase(event.partition);
    }
  }
  EXPECT_TRUE(open.empty());
  // The lognormal tail (p99 = 7 days) makes overlaps common: one repair may outlast dozens of
  // later failures.
  EXPECT_LT(partitions, emitted) << "some failures overlap and merge";
  EXPECT_GE(partitions, 2u);
  std::printf("[ stats    ] merge: %zu traffic-affecting failures -> %zu partitions\n", emitted,
              partitions);
  // Merging keeps exactly the time covered by the failures.
  ASSERT_EQ(raw.size(), emitted_spans.size());
  for (const auto& [target, spans] : raw) {
    EXPECT_EQ(CoveredLength(spans), CoveredLength(emitted_spans[target])) << target;
  }
}

TEST(Dean2009, OverlapsMergeAndEventsPair) {
  const Topology topology = ParseTopology("version: 1\nracks:\n  r: [10.0.0.1]\n  s: [10.0.0.2]\n");
  const GeneratedTrace trace =
      Generate(topology, "dean2009", static_cast<uint64_t>(20 * kYearNs), 200, 9, 60);
  uint64_t link_up_at = 0;
  size_t links = 0, raw_links = 0;
  std::map<std::string, std::string> rule_state;  // rule -> impairment
  for (const DrawnFailure& failure : trace.failures) {
    const std::string& process = trace.processes[failure.process].name;
    raw_links += failure.emitted && (process == "maintenance" || process == "router");
  }
  for (const GeneratedEvent& event : trace.events) {
    if (event.kind == GeneratedKind::kLinkDown) {
      ++links;
      EXPECT_GT(event.at_us, link_up_at) << "link-down intervals overlap";
      EXPECT_GT(event.for_us, 0u);
      link_up_at = event.at_us + event.for_us;
    } else if (event.kind == GeneratedKind::kSetImpairment) {
      const std::string before = rule_state.count(event.rule) ? rule_state[event.rule] : "healthy";
      EXPECT_NE(before, event.impairment) << event.rule << " at " << event.at_us;
      rule_state[event.rule] = event.impairment;
    } else {
      ADD_FAILURE() << "dean2009 emits links and set-impairment only";
    }
  }
  EXPECT_LT(links, raw_links);
  EXPECT_GT(links, raw_links / 2);
  EXPECT_EQ(rule_state.size(), 4u);  // both rules of both racks were used
  for (const auto& [rule, impairment] : rule_state) EXPECT_EQ(impairment, "healthy") << rule;
}

// ---------------------------------------------------------------------------------------------
// Determinism and the emitted file

TEST(TraceGenerate, SameSeedSameText) {
  const Topology topology = TenRacks();
  const uint64_t month = 30 * 86400'000'000'000ull;
  for (const std::string model : {"gill2011", "dean2009"}) {
    const std::string first = EmitTraceYaml(Generate(topology, model, month, 50, 7, 1440));
    const std::string again = EmitTraceYaml(Generate(topology, model, month, 50, 7, 1440));
    const std::string other = EmitTraceYaml(Generate(topology, model, month, 50, 8, 1440));
    EXPECT_EQ(first, again) << model;
    EXPECT_NE(first, other) << model;
    EXPECT_NE(first.find("events:\n  - at: "), std::string::npos) << model;
  }
}

TEST(TraceGenerate, BadOptions) {
  const Topology topology = TenRacks();
  TraceGenerateOptions options{.model = "gill2011", .duration_ns = 1'000'000'000};
  std::string error;
  options.model = "weibull";
  EXPECT_FALSE(GenerateTrace(topology, options, &error));
  EXPECT_EQ(error, "unknown model 'weibull' (known: gill2011, dean2009)");
  options.model = "gill2011";
  options.compress = 0;
  EXPECT_FALSE(GenerateTrace(topology, options, &error));
  EXPECT_EQ(error, "--compress must be a positive number");
  options.compress = 1;
  options.duration_ns = 0;
  EXPECT_FALSE(GenerateTrace(topology, options, &error));
  options.duration_ns = static_cast<uint64_t>(kYearNs);
  options.scale = 1e12;
  EXPECT_FALSE(GenerateTrace(topology, options, &error));
  EXPECT_NE(error.find("failures, more than 2e+07"), std::string::npos) << error;
  // More partitions at once than the dataplane holds: 300 nodes failing all the time.
  std::string text = "version: 1\nracks:\n";
  for (int r = 0; r < 100; ++r) {
    text += "  r" + std::to_string(r) + ": [10.1." + std::to_string(r) + ".1, 10.1." +
            std::to_string(r) + ".2, 10.1." + std::to_string(r) + ".3]\n";
  }
  options.scale = 1e5;
  options.duration_ns = static_cast<uint64_t>(kYearNs / 10);
  EXPECT_FALSE(GenerateTrace(ParseTopology(text), options, &error));
  EXPECT_NE(error.find("partitions at once, more than the dataplane's 256"), std::string::npos)
      << error;
}

TEST(TraceGenerate, TimeFormat) {
  EXPECT_EQ(FormatSeconds(0), "0s");
  EXPECT_EQ(FormatSeconds(1), "0.000001s");
  EXPECT_EQ(FormatSeconds(4'323'500'000), "4323.5s");
  EXPECT_EQ(FormatSeconds(60'000'000), "60s");
  std::string error;
  for (uint64_t us : {0ull, 1ull, 1'500'000ull, 4'323'500'010ull}) {
    EXPECT_EQ(ParseDuration(FormatSeconds(us), &error), us * 1000) << FormatSeconds(us);
  }
}

// The file parses as YAML with the structure of docs/traces.md, its inline profile passes the
// profile parser, and every event refers to what the profile (or an earlier event) defines.
void CheckEmitted(const GeneratedTrace& trace, uint64_t end_us) {
  const std::string text = EmitTraceYaml(trace);
  ASSERT_EQ(text.rfind("# generated by: test\n", 0), 0u);
  yaml::LoadError load_error;
  const std::optional<std::vector<yaml::Node>> documents = yaml::LoadAll(text, &load_error);
  ASSERT_TRUE(documents) << load_error.message;
  ASSERT_EQ(documents->size(), 1u);
  const yaml::Node root = (*documents)[0];
  ASSERT_TRUE(root.IsMap());
  EXPECT_EQ(root.size(), 4u);
  // A scalar's text ("" when absent).
  auto text_of = [](const yaml::Node& map, std::string_view key) {
    return map.Find(key).value_or(yaml::Node()).Scalar();
  };
  EXPECT_EQ(text_of(root, "version"), "1");
  EXPECT_EQ(text_of(root, "name"), trace.name);
  ASSERT_TRUE(root.Find("profile").has_value() && root.Find("profile")->IsMap());
  std::string error;
  const std::optional<ProfileSpec> profile =
      ParseProfileNode(*root.Find("profile"), "inline", "", &error);
  ASSERT_TRUE(profile.has_value()) << error;
  ASSERT_TRUE(ParseProfileText(trace.profile_yaml, "inline", &error).has_value()) << error;
  std::set<std::string> groups, rules, impairments;
  for (const GroupSpec& group : profile->groups) groups.insert(group.name);
  for (const RuleSpec& rule : profile->rules) rules.insert(rule.name);
  for (const ImpairmentSpec& impairment : profile->impairments) impairments.insert(impairment.name);

  const yaml::Node events = root.Find("events").value_or(yaml::Node());
  ASSERT_TRUE(events.IsSequence());
  EXPECT_EQ(events.size(), trace.events.size());
  uint64_t last = 0;
  std::set<std::string> names, open;
  for (const yaml::Node& event : events) {
    ASSERT_TRUE(event.IsMap());
    ASSERT_EQ(event.size(), 2u);
    const std::optional<uint64_t> at = ParseDuration(text_of(event, "at"), &error);
    ASSERT_TRUE(at.has_value()) << error;
    EXPECT_EQ(*at % 1000, 0u) << "whole microseconds";
    EXPECT_GE(*at, last);
    EXPECT_LE(*at, end_us * 1000);
    last = *at;
    if (const std::optional<yaml::Node> partition = event.Find("partition")) {
      ASSERT_EQ(partition->size(), 2u);
      const std::string name = text_of(*partition, "name");
      EXPECT_TRUE(groups.count(text_of(*partition, "isolate"))) << name;
      EXPECT_TRUE(names.insert(name).second) << "partition names are unique: " << name;
      open.insert(name);
    } else if (const std::optional<yaml::Node> heal = event.Find("heal")) {
      ASSERT_EQ(heal->size(), 1u);
      EXPECT_EQ(open.erase(text_of(*heal, "partition")), 1u);
    } else if (const std::optional<yaml::Node> set = event.Find("set-impairment")) {
      EXPECT_TRUE(rules.count(text_of(*set, "rule")));
      EXPECT_TRUE(impairments.count(text_of(*set, "impairment")));
    } else if (const std::optional<yaml::Node> link = event.Find("link")) {
      EXPECT_EQ(text_of(*link, "side"), "both");
      EXPECT_EQ(text_of(*link, "state"), "down");
      const std::optional<uint64_t> length = ParseDuration(text_of(*link, "for"), &error);
      ASSERT_TRUE(length.has_value()) << error;
      EXPECT_LE(*at + *length, end_us * 1000);
    } else {
      ADD_FAILURE() << "unexpected event on line " << event.Mark().line + 1;
    }
  }
  EXPECT_TRUE(open.empty()) << "every partition is healed by the end";
}

TEST(TraceGenerate, EmittedYamlHasTheTraceStructure) {
  const std::string text = R"(version: 1
racks:
  rack-a: [10.0.1.11, 10.0.1.12]
  rack-b: {db1: 10.0.2.11, db2: [10.0.2.12, "fd00::12"]}
  rack-c: [10.0.3.0/28]
aggregation:
  agg-1: [rack-a, rack-b]
load-balancers:
  lb-1: [rack-a-n1, db2]
)";
  const Topology topology = ParseTopology(text);
  const uint64_t month = 30 * 86400'000'000'000ull;
  const GeneratedTrace gill = Generate(topology, "gill2011", month, 400, 1, 1440);
  EXPECT_EQ(gill.name, "gill2011-30d-seed1");
  EXPECT_GT(gill.events.size(), 10u);
  CheckEmitted(gill, month / 1440 / 1000);
  const GeneratedTrace dean = Generate(topology, "dean2009", month, 50, 1, 1440);
  EXPECT_GT(dean.events.size(), 10u);
  CheckEmitted(dean, month / 1440 / 1000);
  // The inline profiles: a group per rack, node, switch and balancer; dean adds two rules per rack.
  std::string error;
  const std::optional<ProfileSpec> profile = ParseProfileText(dean.profile_yaml, "p", &error);
  ASSERT_TRUE(profile) << error;
  EXPECT_EQ(profile->groups.size(), 3u + 5u + 2u);
  EXPECT_EQ(profile->rules.size(), 6u);
  EXPECT_EQ(profile->rules[0].name, "wonky rack-a out");
  EXPECT_EQ(profile->rules[1].name, "wonky rack-a in");
  EXPECT_NE(gill.profile_yaml.find("  rack-b: [10.0.2.11, 10.0.2.12, \"fd00::12\"]\n"),
            std::string::npos)
      << gill.profile_yaml;
  EXPECT_NE(gill.profile_yaml.find("  agg-1: [rack-a, rack-b]\n"), std::string::npos);
  EXPECT_NE(gill.profile_yaml.find("  lb-1: [rack-a-n1, db2]\n"), std::string::npos);
  EXPECT_EQ(gill.profile_yaml.find("rules:"), std::string::npos);
}

TEST(TraceGenerate, NoEvents) {
  const Topology topology = ParseTopology("version: 1\nracks:\n  r: [10.0.0.1]\n");
  const GeneratedTrace trace = Generate(topology, "gill2011", 1'000'000'000, 1, 1);
  EXPECT_TRUE(trace.events.empty());
  yaml::LoadError error;
  const auto documents = yaml::LoadAll(EmitTraceYaml(trace), &error);
  ASSERT_TRUE(documents && documents->size() == 1) << error.message;
  const std::optional<yaml::Node> events = (*documents)[0].Find("events");
  ASSERT_TRUE(events.has_value());
  EXPECT_TRUE(events->IsSequence());
  EXPECT_EQ(events->size(), 0u);
}

}  // namespace
}  // namespace faultline
