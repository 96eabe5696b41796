// Partitions end to end through `faultline replay` with traffic in both directions: for every
// form and shape, exactly the expected (source, destination) node pairs are delivered and every
// other pair is dropped and counted; one-way cuts pass the reverse direction; `connections: new`
// cuts only the SYNs of new TCP connections; icmp-unreachable answers come back out of the side
// the cut frame arrived on. The expected matrices are written out by hand from the shapes'
// definitions (docs/formats.md), not computed by the code under test.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using testing::Frame;
using testing::ReadPcap;
using testing::RunFaultline;
using testing::WritePcap;
using Pair = std::pair<int, int>;  // (source node, destination node), 1-based like n1..n5

constexpr int kFramesPerPair = 3;
constexpr uint8_t kTcp = 6, kUdp = 17;

void Put16(std::vector<uint8_t>* b, uint16_t v) {
  b->push_back(static_cast<uint8_t>(v >> 8));
  b->push_back(static_cast<uint8_t>(v));
}

// Node n is 10.7.0.n with MAC 02:00:00:00:00:n.
std::vector<uint8_t> NodeFrame(int src, int dst, uint8_t proto, uint16_t src_port,
                               uint8_t tcp_flags = 0x10) {
  std::vector<uint8_t> b = {0x02, 0, 0, 0, 0, static_cast<uint8_t>(dst),
                            0x02, 0, 0, 0, 0, static_cast<uint8_t>(src)};
  Put16(&b, 0x0800);
  const uint16_t l4 = proto == kTcp ? 20 : 8;
  b.insert(b.end(), {0x45, 0});
  Put16(&b, static_cast<uint16_t>(20 + l4 + 8));
  b.insert(b.end(), {0, 0, 0, 0, 64, proto, 0, 0, 10, 7, 0, static_cast<uint8_t>(src), 10, 7, 0,
                     static_cast<uint8_t>(dst)});
  Put16(&b, src_port);
  Put16(&b, 7000);
  if (proto == kTcp) {
    b.insert(b.end(), {0, 0, 0, 1, 0, 0, 0, 1, 0x50, tcp_flags, 0xff, 0xff, 0, 0, 0, 0});
  } else {
    Put16(&b, 16);
    Put16(&b, 0);
  }
  b.insert(b.end(), 8, 0xab);
  return b;
}

// The pair a frame belongs to, from its addresses.
Pair PairOf(const std::vector<uint8_t>& bytes) { return {bytes[29], bytes[33]}; }

class PartitionReplayTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }

  // Writes a profile with groups n1..n<nodes> and `partitions` (YAML list items), sends
  // kFramesPerPair UDP frames for every ordered pair of distinct nodes (odd nodes live on side a,
  // even ones on side b), and returns the pairs delivered (each with all its frames, or it fails).
  std::set<Pair> Delivered(int nodes, const std::string& partitions) {
    std::string profile = "version: 1\ngroups:\n";
    for (int n = 1; n <= nodes; ++n) {
      profile += "  n" + std::to_string(n) + ": [10.7.0." + std::to_string(n) + "]\n";
    }
    profile += "partitions:\n" + partitions;
    std::vector<Frame> side_a, side_b;
    uint64_t time = 1'000'000'000;
    for (int round = 0; round < kFramesPerPair; ++round) {
      for (int src = 1; src <= nodes; ++src) {
        for (int dst = 1; dst <= nodes; ++dst) {
          if (src == dst) continue;
          Frame frame{time += 1000, NodeFrame(src, dst, kUdp, 1000)};
          (src % 2 ? side_a : side_b).push_back(frame);
        }
      }
    }
    const auto [out_b, out_a] = Replay(profile, side_a, side_b);
    std::map<Pair, int> counts;
    for (const Frame& frame : out_b) ++counts[PairOf(frame.bytes)];
    for (const Frame& frame : out_a) ++counts[PairOf(frame.bytes)];
    std::set<Pair> delivered;
    for (const auto& [pair, count] : counts) {
      EXPECT_EQ(count, kFramesPerPair) << pair.first << " -> " << pair.second;
      delivered.insert(pair);
    }
    const uint64_t sent = side_a.size() + side_b.size();
    EXPECT_EQ(stats_["dropped"]["partition"].get<uint64_t>(),
              sent - delivered.size() * kFramesPerPair)
        << "every frame not delivered is a counted partition drop";
    return delivered;
  }

  // Runs replay; returns (frames out of side b, frames out of side a) and keeps the stats.
  std::pair<std::vector<Frame>, std::vector<Frame>> Replay(const std::string& profile,
                                                           const std::vector<Frame>& side_a,
                                                           const std::vector<Frame>& side_b) {
    const std::string profile_path = Path("profile.yaml"), in_a = Path("in_a.pcap"),
                      in_b = Path("in_b.pcap"), out_b = Path("out_b.pcap"),
                      out_a = Path("out_a.pcap"), stats = Path("stats.json");
    std::ofstream(profile_path) << profile;
    WritePcap(in_a, side_a);
    WritePcap(in_b, side_b);
    const CommandResult run =
        RunFaultline({"replay", "--in", in_a, "--out", out_b, "--in-b", in_b, "--out-b", out_a,
                      "--profile", profile_path, "--seed", "1", "--stats-json", stats});
    EXPECT_EQ(run.status, 0) << run.output << "\n" << profile;
    std::ifstream stats_file(stats);
    stats_ = nlohmann::json::parse(stats_file, nullptr, /*allow_exceptions=*/false);
    return {ReadPcap(out_b), ReadPcap(out_a)};
  }

  // Every ordered pair of distinct nodes except `cut`.
  static std::set<Pair> AllBut(int nodes, const std::set<Pair>& cut) {
    std::set<Pair> pairs;
    for (int src = 1; src <= nodes; ++src) {
      for (int dst = 1; dst <= nodes; ++dst) {
        if (src != dst && !cut.count({src, dst})) pairs.insert({src, dst});
      }
    }
    return pairs;
  }

  // Both directions of every pair between `left` and `right`.
  static std::set<Pair> BothWays(const std::vector<int>& left, const std::vector<int>& right) {
    std::set<Pair> pairs;
    for (int l : left) {
      for (int r : right) {
        pairs.insert({l, r});
        pairs.insert({r, l});
      }
    }
    return pairs;
  }

  nlohmann::json stats_;
  testing::TempFiles temp_files_;
};

TEST_F(PartitionReplayTest, OneWayCutDropsOnlyItsDirection) {
  const std::set<Pair> delivered = Delivered(4, "  - {from: [n1, n2], to: [n3, n4]}\n");
  EXPECT_EQ(delivered, AllBut(4, {{1, 3}, {1, 4}, {2, 3}, {2, 4}}));
  ASSERT_EQ(stats_["partitions"].size(), 1u);
  // n1 -> n3 and n1 -> n4 enter on side a (odd sources), n2 -> n3 and n2 -> n4 on side b.
  EXPECT_EQ(stats_["partitions"][0]["directions"]["a-to-b"]["dropped"], 2 * kFramesPerPair);
  EXPECT_EQ(stats_["partitions"][0]["directions"]["b-to-a"]["dropped"], 2 * kFramesPerPair);
  EXPECT_EQ(stats_["partitions"][0]["answered"], 0);
}

TEST_F(PartitionReplayTest, BetweenCutsBothWays) {
  EXPECT_EQ(Delivered(4, "  - {between: [n1, n4]}\n"), AllBut(4, {{1, 4}, {4, 1}}));
}

TEST_F(PartitionReplayTest, IsolateCutsOneNodeFromEveryone) {
  EXPECT_EQ(Delivered(5, "  - {isolate: n3}\n"), AllBut(5, BothWays({3}, {1, 2, 4, 5})));
}

TEST_F(PartitionReplayTest, Halves) {
  // Five nodes: [n1 n2] | [n3 n4 n5].
  EXPECT_EQ(Delivered(5, "  - {shape: halves, nodes: [n1, n2, n3, n4, n5]}\n"),
            AllBut(5, BothWays({1, 2}, {3, 4, 5})));
  // Four nodes: [n1 n2] | [n3 n4], no side has a majority.
  EXPECT_EQ(Delivered(4, "  - {shape: halves, nodes: [n1, n2, n3, n4]}\n"),
            AllBut(4, BothWays({1, 2}, {3, 4})));
}

TEST_F(PartitionReplayTest, MajorityCutsTheMinorityOff) {
  // Four nodes: majority [n1 n2 n3], minority [n4].
  EXPECT_EQ(Delivered(4, "  - {shape: majority, nodes: [n1, n2, n3, n4]}\n"),
            AllBut(4, BothWays({1, 2, 3}, {4})));
}

TEST_F(PartitionReplayTest, MajoritiesRing) {
  // Five nodes on a ring; each sees itself and its two neighbours (3 of 5), no two the same.
  EXPECT_EQ(
      Delivered(5, "  - {shape: majorities-ring, nodes: [n1, n2, n3, n4, n5]}\n"),
      AllBut(5, {{1, 3}, {3, 1}, {1, 4}, {4, 1}, {2, 4}, {4, 2}, {2, 5}, {5, 2}, {3, 5}, {5, 3}}));
}

TEST_F(PartitionReplayTest, BridgeSeesBothHalves) {
  // [n1 n2] n3 [n4 n5]: n3 reaches everyone, the halves not each other.
  EXPECT_EQ(Delivered(5, "  - {shape: bridge, nodes: [n1, n2, n3, n4, n5]}\n"),
            AllBut(5, BothWays({1, 2}, {4, 5})));
}

TEST_F(PartitionReplayTest, NewConnectionsOnlyCutsSyns) {
  // n1 (side a) -> n2 (side b): an established connection (ACK segments, its SYN before the
  // capture), a new connection (SYN, then its retransmission), and n2 -> n1 new connection.
  std::vector<Frame> side_a, side_b;
  uint64_t time = 1'000'000'000;
  for (int i = 0; i < 5; ++i) side_a.push_back({time += 1000, NodeFrame(1, 2, kTcp, 1111, 0x10)});
  for (int i = 0; i < 2; ++i) side_a.push_back({time += 1000, NodeFrame(1, 2, kTcp, 2222, 0x02)});
  side_a.push_back({time += 1000, NodeFrame(1, 2, kUdp, 3333)});
  side_b.push_back({time += 1000, NodeFrame(2, 1, kTcp, 4444, 0x02)});
  side_b.push_back({time += 1000, NodeFrame(2, 1, kTcp, 4444, 0x10)});
  const auto [out_b, out_a] = Replay(
      "version: 1\ngroups:\n  n1: [10.7.0.1]\n  n2: [10.7.0.2]\npartitions:\n"
      "  - {from: n1, to: n2, connections: new}\n",
      side_a, side_b);
  std::multiset<uint16_t> ports_b, ports_a;
  for (const Frame& frame : out_b)
    ports_b.insert(static_cast<uint16_t>(frame.bytes[34] << 8 | frame.bytes[35]));
  for (const Frame& frame : out_a)
    ports_a.insert(static_cast<uint16_t>(frame.bytes[34] << 8 | frame.bytes[35]));
  EXPECT_EQ(ports_b.count(1111), 5u) << "established connection flows";
  EXPECT_EQ(ports_b.count(2222), 0u) << "new connection's SYNs are cut";
  EXPECT_EQ(ports_b.count(3333), 1u) << "not TCP: not a connection partition's business";
  EXPECT_EQ(ports_a.count(4444), 2u) << "one-way: the other direction opens connections";
  EXPECT_EQ(stats_["partitions"][0]["dropped"], 2);
  EXPECT_EQ(stats_["partitions"][0]["connections"], "new");
}

TEST_F(PartitionReplayTest, IcmpUnreachableAnswersOutOfTheArrivalSide) {
  std::vector<Frame> side_a, side_b;
  uint64_t time = 1'000'000'000;
  for (int i = 0; i < 4; ++i) side_a.push_back({time += 1000, NodeFrame(1, 2, kUdp, 1000)});
  for (int i = 0; i < 3; ++i) side_b.push_back({time += 1000, NodeFrame(2, 1, kUdp, 1000)});
  const auto [out_b, out_a] = Replay(
      "version: 1\ngroups:\n  n1: [10.7.0.1]\n  n2: [10.7.0.2]\npartitions:\n"
      "  - {between: [n1, n2], mode: icmp-unreachable, name: split}\n",
      side_a, side_b);
  // Side a's four frames are answered back out of side a, side b's three out of side b.
  ASSERT_EQ(out_a.size(), 4u);
  ASSERT_EQ(out_b.size(), 3u);
  for (const Frame& answer : out_a) {
    EXPECT_EQ(answer.bytes[23], 1) << "ICMP";
    EXPECT_EQ(answer.bytes[34], 3) << "destination unreachable";
    EXPECT_EQ(answer.bytes[35], 1) << "host unreachable";
    EXPECT_EQ(PairOf(answer.bytes), Pair(2, 1)) << "from the cut destination to the sender";
  }
  EXPECT_EQ(stats_["partitions"][0]["name"], "split");
  EXPECT_EQ(stats_["partitions"][0]["directions"]["a-to-b"]["answered"], 4);
  EXPECT_EQ(stats_["partitions"][0]["directions"]["b-to-a"]["answered"], 3);
}

// With one input (--in, --out) only partitions' answers go back to side a, which has no output:
// they are dropped and counted as `no-output` (this crashed replay, pcap_dump(NULL), with the
// shipped split-brain profile). --out-b without --in-b keeps them.
TEST_F(PartitionReplayTest, AnswersTowardASideWithoutOutputAreCounted) {
  std::vector<Frame> side_a;
  uint64_t time = 1'000'000'000;
  for (int i = 0; i < 4; ++i) side_a.push_back({time += 1000, NodeFrame(1, 2, kTcp, 1000, 0x02)});
  side_a.push_back({time += 1000, NodeFrame(1, 3, kUdp, 1000)});
  const std::string profile_path = Path("profile.yaml"), in_a = Path("in_a.pcap"),
                    out_b = Path("out_b.pcap"), out_a = Path("out_a.pcap"),
                    stats = Path("stats.json");
  std::ofstream(profile_path) << "version: 1\ngroups:\n  n1: [10.7.0.1]\n  n2: [10.7.0.2]\n"
                                 "partitions:\n  - {between: [n1, n2], mode: tcp-reset}\n";
  WritePcap(in_a, side_a);
  const CommandResult one_side = RunFaultline(
      {"replay", "--in", in_a, "--out", out_b, "--profile", profile_path, "--stats-json", stats});
  ASSERT_EQ(one_side.status, 0) << one_side.output;
  EXPECT_NE(one_side.output.find("4 frame(s) to side a dropped as no-output"), std::string::npos)
      << one_side.output;
  std::ifstream stats_file(stats);
  const nlohmann::json document = nlohmann::json::parse(stats_file, nullptr, false);
  EXPECT_EQ(document["dropped"]["partition"], 4);
  EXPECT_EQ(document["dropped"]["no-output"], 4) << "every answer counted";
  EXPECT_EQ(document["partitions"][0]["answered"], 4);
  EXPECT_EQ(ReadPcap(out_b).size(), 1u) << "n1 -> n3 is not cut";

  const CommandResult answers_kept = RunFaultline(
      {"replay", "--in", in_a, "--out", out_b, "--out-b", out_a, "--profile", profile_path});
  ASSERT_EQ(answers_kept.status, 0) << answers_kept.output;
  const std::vector<Frame> answers = ReadPcap(out_a);
  ASSERT_EQ(answers.size(), 4u);
  for (const Frame& answer : answers) {
    EXPECT_EQ(answer.bytes[23], kTcp);
    EXPECT_EQ(answer.bytes[47] & 0x04, 0x04) << "RST";
  }
}

}  // namespace
}  // namespace faultline
