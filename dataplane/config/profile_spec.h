// A profile as the user wrote it, validated and in plain units (nanoseconds, fractions, bits per
// second, bytes or packets). The control plane parses YAML into this; the dataplane compiles
// it into the fast-path form (dataplane/pipeline/compiled_profile.h). Nothing here is touched per
// packet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

// An IPv4 or IPv6 prefix; an IPv4 address is stored in the first 4 bytes.
struct Prefix {
  uint8_t family = 4;  // 4 or 6
  uint8_t length = 0;  // prefix length in bits
  std::array<uint8_t, 16> address{};

  bool operator==(const Prefix&) const = default;
};

enum class Direction : uint8_t { kBoth, kAToB, kBToA };

using MacAddress = std::array<uint8_t, 6>;

// A set of endpoints: IPv4/IPv6 prefixes (a single address is a /32 or /128) and MAC addresses.
// A frame's source (or destination) is in the set if its IP address falls in one of the prefixes
// or its MAC address is one of the MACs. Group names expand to their members when parsed.
struct EndpointSet {
  std::vector<Prefix> prefixes;
  std::vector<MacAddress> macs;
  bool empty() const { return prefixes.empty() && macs.empty(); }

  bool operator==(const EndpointSet&) const = default;
};

// An inclusive range of a header field's values.
struct ValueRange {
  uint32_t min = 0, max = 0;

  bool operator==(const ValueRange&) const = default;
};

struct MatchSpec {
  Direction direction = Direction::kBoth;
  EndpointSet src, dst;          // empty: any endpoint
  std::optional<uint8_t> proto;  // IP protocol number (tcp 6, udp 17, icmp 1, ...)
  uint16_t src_port_min = 0, src_port_max = 65535;
  uint16_t dst_port_min = 0, dst_port_max = 65535;
  bool has_src_port = false, has_dst_port = false;  // ports given: only TCP/UDP/SCTP match
  std::optional<ValueRange> vlan;  // VID (0-4095) of the outermost tag; untagged: no match
  std::optional<ValueRange> dscp;  // 0-63; non-IP frames do not match
  std::vector<MacAddress> src_mac, dst_mac;  // empty: any; else one of these
  std::optional<uint16_t> ether_type;        // after any VLAN tags (0x0800 IPv4, 0x86DD IPv6, ...)

  bool operator==(const MatchSpec&) const = default;
};

// Delay distributions. uniform is netem's table-less jitter; the others are tables in iproute2's
// .dist format (values in units of sigma / 8192, see dataplane/delay_distribution.h).
enum class DistributionKind : uint8_t { kUniform, kNormal, kPareto, kParetoNormal, kTable };

struct DelaySpec {
  uint64_t base_ns = 0;
  uint64_t jitter_ns = 0;
  DistributionKind distribution = DistributionKind::kUniform;
  std::string table_path;      // kTable: the file it came from
  std::vector<int16_t> table;  // every kind but kUniform: the loaded or generated table
  double correlation = 0;

  bool operator==(const DelaySpec&) const = default;
};

enum class LossModel : uint8_t { kBernoulli, kGilbertElliott, kMarkov4 };

struct LossSpec {
  LossModel model = LossModel::kBernoulli;
  double probability = 0;  // bernoulli
  double correlation = 0;  // bernoulli
  // gilbert-elliott: p = P(good -> bad), r = P(bad -> good), loss in each state.
  double p = 0, r = 0, loss_bad = 1, loss_good = 0;
  // markov4 (netem's 4-state model; states 1 gap-rx, 2 burst-rx, 3 burst-loss, 4 gap-loss).
  double p13 = 0, p31 = 0, p32 = 0, p23 = 0, p14 = 0;
  uint32_t max_size = 0;  // bytes; > 0: only frames of at most this size can be lost

  bool operator==(const LossSpec&) const = default;
};

struct DuplicateSpec {
  double probability = 0;
  double correlation = 0;

  bool operator==(const DuplicateSpec&) const = default;
};

struct ReorderSpec {
  double probability = 0;
  double correlation = 0;
  uint32_t gap = 1;               // every gap-th packet is a candidate (netem)
  uint32_t max_displacement = 0;  // 0: unbounded; else no packet moves more than this many places

  bool operator==(const ReorderSpec&) const = default;
};

struct CorruptSpec {
  double probability = 0;  // flip one random bit past the Ethernet header
  double correlation = 0;
  double ber = 0;  // or: each bit past the Ethernet header flips with this probability
  bool fix_checksums = false;

  bool operator==(const CorruptSpec&) const = default;
};

// A size limit in packets and/or bytes; 0 means no limit of that kind.
struct SizeLimit {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool Set() const { return packets || bytes; }

  bool operator==(const SizeLimit&) const = default;
};

struct RateSpec {
  uint64_t bandwidth_bps = 0;
  int32_t overhead_bytes = 0;  // added to every frame's length on the link (20 = preamble + IFG)
  SizeLimit queue_limit;       // tail drop beyond this (default 1000 packets, as netem)
  SizeLimit ecn_threshold;     // set: ECT frames are marked CE when the queue is above it

  bool operator==(const RateSpec&) const = default;
};

struct StallSpec {
  uint64_t duration_ns = 0;  // `for`
  uint64_t start_ns = 0;     // first stall begins this long after the dataplane starts
  uint64_t every_ns = 0;     // > 0: the stall repeats with this period
  SizeLimit limit;           // frames held at most per stall; beyond, dropped (stall-limit)
  // A trace's `stall` event: one window of duration_ns that begins when the step is scheduled to
  // take effect (CompileOptions::activation), not at the dataplane's start. Not a profile key.
  bool at_activation = false;

  bool operator==(const StallSpec&) const = default;
};

struct ImpairmentSpec {
  std::string name;
  std::optional<DelaySpec> delay;
  std::optional<LossSpec> loss;
  std::optional<DuplicateSpec> duplicate;
  std::optional<ReorderSpec> reorder;
  std::optional<CorruptSpec> corrupt;
  std::optional<RateSpec> rate;
  std::optional<StallSpec> stall;

  bool operator==(const ImpairmentSpec&) const = default;
};

struct GroupSpec {
  std::string name;
  EndpointSet members;

  bool operator==(const GroupSpec&) const = default;
};

// What the appliance does with a frame a partition cuts.
enum class PartitionMode : uint8_t {
  kDrop,             // silent blackhole: the sender sees a timeout
  kIcmpUnreachable,  // answer with ICMP host unreachable / ICMPv6 address unreachable
  kTcpReset,         // answer TCP with a RST (UDP with ICMP port unreachable): a dead process
};
// The names of the modes, in enum order: profiles, `show`, the statistics document.
inline constexpr std::string_view kPartitionModeNames[] = {"drop", "icmp-unreachable", "tcp-reset"};
inline const char* PartitionModeName(PartitionMode mode) {
  return kPartitionModeNames[static_cast<int>(mode)].data();  // literals: NUL-terminated
}

// One directed cut: frames whose source is in `from` and whose destination is in `to` do not
// get through. A complemented side means every endpoint outside the set (`isolate`).
struct PartitionCut {
  EndpointSet from, to;
  bool from_complement = false, to_complement = false;

  bool operator==(const PartitionCut&) const = default;
};

// Fixed limits of the dataplane: the pipeline keeps counters for every partition entry, and
// partition bitmaps stay a few cache lines.
inline constexpr size_t kMaxPartitions = 256;
inline constexpr size_t kMaxPartitionCuts = 4096;
// Rules: each has a bitmap bit, counters and model state in every pipeline, and the dataplane
// numbers at most RuleIdentities::kMaxIds (16384) rule names over a run.
inline constexpr size_t kMaxRules = 4096;
// Endpoints (prefixes and MAC addresses) in every rule's src and dst and every cut's two sides,
// a group counted at its size each time it is named: what the classifier's tables are built
// from, so it bounds their memory and the time to compile them.
inline constexpr size_t kMaxMatchEndpoints = 1'000'000;

// One entry of `partitions:` with the cuts its form expands to ({from, to}: one cut;
// {between: [X, Y]}: two; {isolate: N}: N -> not-N and not-N -> N; shapes: one cut per ordered
// pair of nodes that must not reach each other).
struct PartitionSpec {
  std::string name;  // `name:` if given, else a description of the entry ("rack-a -> rack-b")
  std::vector<PartitionCut> cuts;
  PartitionMode mode = PartitionMode::kDrop;
  bool new_connections_only = false;  // `connections: new`: only TCP SYNs (without ACK) are cut
  // The entry's form keys as written, as a JSON object ({"isolate": "n3"}, {"shape": "bridge",
  // "nodes": [...]}), so the profile can be written back in the words it was given in (group
  // names, shapes); "" for an entry built in code.
  std::string form;

  bool operator==(const PartitionSpec&) const = default;
};

struct RuleSpec {
  std::string name;
  MatchSpec match;
  size_t impairment = 0;  // index into ProfileSpec::impairments

  bool operator==(const RuleSpec&) const = default;
};

struct ProfileSpec {
  int version = 1;
  std::optional<uint64_t> seed;
  std::vector<GroupSpec> groups;
  std::vector<ImpairmentSpec> impairments;
  std::vector<RuleSpec> rules;
  std::vector<PartitionSpec> partitions;
  // Set by a trace's `link` events, not a profile key: side a (index 0) or b (1) is down, so
  // every frame received on it or leaving by it is dropped (cause link-down).
  std::array<bool, 2> link_down{};

  bool operator==(const ProfileSpec&) const = default;
};

// The endpoints kMaxMatchEndpoints counts: in rules' src and dst and in both sides of every cut.
inline size_t MatchEndpointCount(const ProfileSpec& spec) {
  auto size = [](const EndpointSet& set) { return set.prefixes.size() + set.macs.size(); };
  size_t count = 0;
  for (const RuleSpec& rule : spec.rules) count += size(rule.match.src) + size(rule.match.dst);
  for (const PartitionSpec& partition : spec.partitions) {
    for (const PartitionCut& cut : partition.cuts) count += size(cut.from) + size(cut.to);
  }
  return count;
}

}  // namespace faultline
