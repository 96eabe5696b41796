// Golden tests of `faultline replay` on a corpus of malformed and unusual frames (runts, cut and
// invalid IPv4/IPv6/TCP/UDP headers, endless IPv6 extension chains, VLAN stacks, fragments in
// any order, jumbo frames) between valid ones, in both directions, with and without a profile of
// port and prefix rules: every frame leaves exactly once and unchanged, and the statistics
// count exactly the malformed frames and unresolved fragments the corpus was built with.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tests/faultline_binary.h"
#include "tests/frame_builder.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using nlohmann::json;
using testing::AppendIpv4;
using testing::AppendIpv6;
using testing::AppendIpv6Extension;
using testing::AppendIpv6Fragment;
using testing::AppendPorts;
using testing::Bytes;
using testing::Frame;
using testing::Ipv4Options;
using testing::PutZeros;
using testing::ReadFileBytes;
using testing::ReadPcap;
using testing::RunFaultline;
using testing::WritePcap;

constexpr uint8_t kTcp = 6, kUdp = 17;

// The frames of one direction and what a profile run must count for them. Side b's corpus is
// side a's with MACs and addresses swapped (the replies), so both directions hold every case.
class Corpus {
 public:
  Corpus(bool reverse, uint64_t start_ns) : reverse_(reverse), now_ns_(start_ns) {
    v4_src_ = reverse ? "10.0.2.7" : "10.0.1.5";
    v4_dst_ = reverse ? "10.0.1.5" : "10.0.2.7";
    v6_src_ = reverse ? "fd00:2::7" : "fd00:1::5";
    v6_dst_ = reverse ? "fd00:1::5" : "fd00:2::7";
    Build();
  }

  const std::vector<Frame>& frames() const { return frames_; }
  uint64_t malformed() const { return malformed_; }
  uint64_t unresolved() const { return unresolved_; }

 private:
  Bytes Ethernet(uint16_t ether_type, std::vector<uint16_t> tags = {}) const {
    return testing::Ethernet(ether_type, std::move(tags), reverse_);
  }
  Bytes Ipv4(Ipv4Options options, std::vector<uint16_t> tags = {}) const {
    Bytes frame = Ethernet(0x0800, std::move(tags));
    options.src = v4_src_;
    options.dst = v4_dst_;
    AppendIpv4(&frame, options);
    return frame;
  }
  Bytes Ipv6(uint8_t next_header) const {
    Bytes frame = Ethernet(0x86DD);
    AppendIpv6(&frame, next_header, 0, v6_src_, v6_dst_);
    return frame;
  }
  static Bytes Cut(Bytes frame, size_t length) {
    frame.resize(length);
    return frame;
  }
  static Bytes Padded(Bytes frame, size_t length) {
    frame.resize(std::max(frame.size(), length), 0x5a);
    return frame;
  }

  // Appends a frame, then a valid one of a rotating kind (so malformed frames sit between valid
  // frames of every rule and of none).
  void Add(const Bytes& bytes, bool malformed) {
    Push(bytes);
    malformed_ += malformed;
    Bytes valid;
    switch (valid_kind_++ % 4) {
      case 0:  // the port rule
        valid = Ipv4({});
        AppendPorts(&valid, 4000, 53);
        break;
      case 1:  // TCP outside the port range: the prefix rule on side a, no rule on side b
        valid = Ipv4({.proto = kTcp});
        AppendPorts(&valid, 80, 8080, 20);
        break;
      case 2:
        valid = Ipv6(kUdp);
        AppendPorts(&valid, 5353, 53);
        break;
      default:  // ARP
        valid = Ethernet(0x0806);
        PutZeros(&valid, 28);
        break;
    }
    Push(Padded(valid, 60));
  }
  void Push(const Bytes& bytes) {
    frames_.push_back({now_ns_, bytes});
    now_ns_ += 1000;
  }

  void Build() {
    // Runts: every length below an Ethernet header, 0 included (a pcap record may be empty).
    const Bytes udp = [this] {
      Bytes frame = Ipv4({});
      AppendPorts(&frame, 4000, 53);
      return Padded(frame, 60);
    }();
    for (size_t length = 0; length < 14; ++length) Add(Cut(udp, length), true);
    // IPv4 header cut, IHL below 5, IHL beyond the frame, wrong versions.
    for (size_t length : {15, 24, 33}) Add(Cut(udp, length), true);
    for (uint8_t ihl = 0; ihl < 5; ++ihl) Add(Padded(Ipv4({.ihl = ihl}), 80), true);
    Add(Cut(Ipv4({.ihl = 15}), 14 + 40), true);
    Add(Padded(Ipv4({.ihl = 6}), 80), false);  // options, valid
    Add(Padded(Ipv4({.version = 6}), 80), true);
    Add(Padded(Ipv4({.version = 0}), 80), true);
    Bytes v4_under_v6 = Ethernet(0x86DD);
    AppendIpv4(&v4_under_v6, {});
    Add(Padded(v4_under_v6, 80), true);
    // IPv6 header cut.
    const Bytes v6_udp = [this] {
      Bytes frame = Ipv6(kUdp);
      AppendPorts(&frame, 5353, 53);
      return frame;
    }();
    for (size_t length : {15, 34, 53}) Add(Cut(v6_udp, length), true);
    // Transport headers cut where the IP header puts them.
    Bytes v4_tcp = Ipv4({.proto = kTcp});
    AppendPorts(&v4_tcp, 1500, 443, 20);
    for (size_t length : {34, 44, 53}) Add(Cut(v4_tcp, length), true);
    Add(v4_tcp, false);
    for (size_t length : {34, 38, 41}) Add(Cut(udp, length), true);
    Bytes v6_tcp = Ipv6(kTcp);
    AppendPorts(&v6_tcp, 1500, 443, 20);
    Add(Cut(v6_tcp, 66), true);
    Add(Cut(v6_udp, 61), true);
    // IPv6 extension chains: 8 headers are followed, 9 or more (a loop) are malformed, as are a
    // header running past the frame and one cut in its first 8 bytes.
    for (int headers : {8, 9, 30}) {
      Bytes chain = Ipv6(0);
      for (int i = 0; i < headers; ++i) AppendIpv6Extension(&chain, i + 1 < headers ? 60 : kUdp);
      AppendPorts(&chain, 5353, 53);
      Add(chain, headers > 8);
    }
    Bytes overlong = Ipv6(0);
    overlong.insert(overlong.end(), {kUdp, 255, 0, 0, 0, 0, 0, 0});
    AppendPorts(&overlong, 5353, 53);
    Add(overlong, true);
    Add(Cut(Ipv6(43), 14 + 40 + 4), true);
    // VLAN stacks: QinQ is parsed, a third tag is not followed (valid all the same), a cut tag is
    // malformed.
    Bytes qinq = Ipv4({}, {0x88A8, 0x8100});
    AppendPorts(&qinq, 4000, 53);
    Add(Padded(qinq, 64), false);
    Bytes triple = Ipv4({}, {0x88A8, 0x8100, 0x8100});
    AppendPorts(&triple, 4000, 53);
    Add(Padded(triple, 68), false);
    Add(Cut(Ethernet(0x0800, {0x8100}), 16), true);
    // Fragments: first then later; a later one before its first (unresolved); one whose first
    // never comes (unresolved).
    auto v4_fragment = [this](uint16_t id, uint16_t offset) {
      Bytes frame = Ipv4({.fragment = static_cast<uint16_t>(0x2000 | offset), .id = id});
      if (offset == 0) AppendPorts(&frame, 4000, 53);
      return Padded(frame, 100);
    };
    auto v6_fragment = [this](uint32_t id, uint16_t offset) {
      Bytes frame = Ipv6(44);
      AppendIpv6Fragment(&frame, kUdp, offset, true, id);
      if (offset == 0) AppendPorts(&frame, 5353, 53);
      return Padded(frame, 120);
    };
    for (const auto& fragment : {std::function<Bytes(uint32_t, uint16_t)>(v4_fragment),
                                 std::function<Bytes(uint32_t, uint16_t)>(v6_fragment)}) {
      Add(fragment(10, 0), false);
      Add(fragment(10, 185), false);
      Add(fragment(10, 370), false);
      Add(fragment(11, 185), false);
      ++unresolved_;
      Add(fragment(11, 0), false);
      Add(fragment(11, 370), false);
      Add(fragment(12, 185), false);
      ++unresolved_;
    }
    // Jumbo frames (replay makes them chains of 2 KB segments), one of them malformed only in its
    // first bytes: a v4 header with IHL 3.
    Bytes jumbo_v4 = Ipv4({});
    AppendPorts(&jumbo_v4, 4000, 53);
    Add(Padded(jumbo_v4, 9000), false);
    Bytes jumbo_v6 = Ipv6(kTcp);
    AppendPorts(&jumbo_v6, 1500, 443, 20);
    Add(Padded(jumbo_v6, 9000), false);
    Add(Padded(Ipv4({.ihl = 3}), 9000), true);
  }

  bool reverse_;
  uint64_t now_ns_;
  const char *v4_src_, *v4_dst_, *v6_src_, *v6_dst_;
  std::vector<Frame> frames_;
  uint64_t malformed_ = 0, unresolved_ = 0;
  unsigned valid_kind_ = 0;
};

// Port and prefix rules; `impairments` false: every rule forwards untouched (order is kept).
std::string Profile(bool impairments) {
  const char* slow = impairments ? "{delay: {base: 2ms, jitter: 1ms}}" : "{}";
  const char* late = impairments ? "{delay: {base: 1ms}}" : "{}";
  return std::string("version: 1\nseed: 5\nimpairments:\n  slow: ") + slow + "\n  late: " + late +
         "\nrules:\n"
         "  - name: dns\n"
         "    match: {proto: udp, dst-port: 53}\n"
         "    impairment: slow\n"
         "  - name: web\n"
         "    match: {proto: tcp, src-port: 1000-2000}\n"
         "    impairment: late\n"
         "  - name: rack\n"
         "    match: {dst: [10.0.2.0/24, \"fd00:2::/64\"]}\n"
         "    impairment: late\n";
}

std::vector<Bytes> SortedBytes(const std::vector<Frame>& frames) {
  std::vector<Bytes> bytes;
  for (const Frame& frame : frames) bytes.push_back(frame.bytes);
  // Compared as strings: vector<uint8_t>'s operator<=> makes GCC 12 print a false
  // -Wstringop-overread.
  std::sort(bytes.begin(), bytes.end(), [](const Bytes& a, const Bytes& b) {
    return std::string_view(reinterpret_cast<const char*>(a.data()), a.size()) <
           std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
  });
  return bytes;
}

class MalformedFramesTest : public ::testing::Test {
 protected:
  MalformedFramesTest() : side_a_(false, 1'000'000'000), side_b_(true, 1'000'000'500) {}

  // Replays both sides (with `profile` YAML, if any); checks that every frame left by the other
  // side exactly once, unchanged, and in order if `ordered`; returns the statistics document.
  json Replay(const std::string& profile, bool ordered) {
    const std::string in_a = Path("a.pcap"), in_b = Path("b.pcap");
    const std::string out_b = Path("out-b.pcap"), out_a = Path("out-a.pcap");
    const std::string stats = Path("stats.json"), yaml = Path("profile.yaml");
    WritePcap(in_a, side_a_.frames());
    WritePcap(in_b, side_b_.frames());
    std::vector<std::string> args = {"replay", "--in",    in_a,  "--out",        out_b, "--in-b",
                                     in_b,     "--out-b", out_a, "--stats-json", stats};
    if (!profile.empty()) {
      std::ofstream(yaml) << profile;
      args.insert(args.end(), {"--profile", yaml});
    }
    const CommandResult run = RunFaultline(args);
    EXPECT_EQ(run.status, 0) << run.output;
    for (const auto& [input, output_path] :
         {std::pair{&side_a_, out_b}, std::pair{&side_b_, out_a}}) {
      const std::vector<Frame> output = ReadPcap(output_path);
      EXPECT_EQ(output.size(), input->frames().size()) << output_path;
      if (ordered) {
        for (size_t i = 0; i < std::min(output.size(), input->frames().size()); ++i) {
          EXPECT_EQ(output[i].bytes, input->frames()[i].bytes) << output_path << " frame " << i;
          EXPECT_EQ(output[i].timestamp_ns, input->frames()[i].timestamp_ns);
        }
      } else {
        EXPECT_TRUE(SortedBytes(output) == SortedBytes(input->frames()))
            << output_path << ": not every frame left exactly once, unchanged";
      }
    }
    return json::parse(ReadFileBytes(stats));
  }

  std::string Path(const std::string& name) { return temp_files_.Path(name); }

  Corpus side_a_, side_b_;
  testing::TempFiles temp_files_;
};

TEST_F(MalformedFramesTest, CorpusHasEveryCase) {
  EXPECT_GT(side_a_.malformed(), 40u);
  EXPECT_EQ(side_a_.malformed(), side_b_.malformed());
  EXPECT_EQ(side_a_.unresolved(), 4u);
  EXPECT_EQ(side_a_.frames().front().bytes.size(), 0u) << "an empty record";
}

TEST_F(MalformedFramesTest, WithoutProfileEveryFrameLeavesUnchangedInOrder) {
  const json stats = Replay("", /*ordered=*/true);
  // Without a profile nothing is parsed (the constant-delay fast path), so nothing is counted.
  EXPECT_EQ(stats["malformed"], 0);
  EXPECT_EQ(stats["ports"][0]["rx"], side_a_.frames().size());
  EXPECT_EQ(stats["ports"][1]["tx"], side_a_.frames().size());
}

TEST_F(MalformedFramesTest, PortAndPrefixRulesWithoutImpairmentKeepEverythingInOrder) {
  const json stats = Replay(Profile(/*impairments=*/false), /*ordered=*/true);
  EXPECT_EQ(stats["malformed"], side_a_.malformed() + side_b_.malformed()) << stats.dump(2);
  EXPECT_EQ(stats["fragments_unresolved"], side_a_.unresolved() + side_b_.unresolved());
  EXPECT_EQ(stats["dropped"]["buffer_exhausted"], 0);
}

TEST_F(MalformedFramesTest, PortAndPrefixRulesWithDelaysForwardEveryFrameOnce) {
  const json stats = Replay(Profile(/*impairments=*/true), /*ordered=*/false);
  EXPECT_EQ(stats["malformed"], side_a_.malformed() + side_b_.malformed()) << stats.dump(2);
  EXPECT_EQ(stats["fragments_unresolved"], side_a_.unresolved() + side_b_.unresolved());
  uint64_t matched = 0;
  for (const json& rule : stats["rules"]) matched += rule["matched"].get<uint64_t>();
  const uint64_t frames = side_a_.frames().size() + side_b_.frames().size();
  EXPECT_EQ(matched + stats["unmatched"].get<uint64_t>(), frames);
  EXPECT_GT(stats["rules"][0]["matched"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace faultline
