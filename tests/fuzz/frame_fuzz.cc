// The frame path on hostile frames: parser, classifier (a profile using every match field and
// partition form), the partition responder in every mode, ECN marking and checksum fixing.
//
// Input: byte 0 says where the frame splits into two segments (0: one segment), the rest is the
// frame. Each segment's data lives in a heap buffer of exactly its size (an external mbuf
// buffer), so AddressSanitizer sees any read or write past a segment, which the spare room of a
// 2 KB mbuf would hide.
#include <rte_mbuf.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "control/profile/profile_parser.h"
#include "dataplane/fastpath/classifier.h"
#include "dataplane/fastpath/frame_parser.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/models/corruptor.h"
#include "dataplane/models/ecn_marker.h"
#include "dataplane/models/partition_responder.h"
#include "dataplane/runtime/eal.h"

namespace {

using namespace faultline;

constexpr char kProfile[] = R"(version: 1
groups:
  rack-a: [10.0.1.0/24, "fd00:1::/64"]
  rack-b: [10.0.2.0/24, "fd00:2::/64"]
  n3: [10.0.2.13, "02:00:00:00:02:0d"]
  macs: ["aa:bb:cc:dd:ee:01", "aa:bb:cc:dd:ee:02"]
impairments:
  x: {}
rules:
  - {name: tcp, match: {direction: a-to-b, src: rack-a, dst: rack-b, proto: tcp, dst-port: 2379-2380}, impairment: x}
  - {name: udp, match: {src-port: 53, proto: udp}, impairment: x}
  - {name: vlan, match: {vlan: 10-20, dscp: af11-af13, ethertype: ipv4}, impairment: x}
  - {name: v6, match: {dst: "fd00:2::/64", proto: icmpv6}, impairment: x}
  - {name: mac, match: {src-mac: ["aa:bb:cc:dd:ee:01"], dst: macs}, impairment: x}
  - {name: arp, match: {ethertype: arp}, impairment: x}
  - {name: sctp, match: {proto: sctp, src-port: 1-1000}, impairment: x}
  - {name: all, match: {}, impairment: x}
partitions:
  - {from: rack-a, to: n3, mode: icmp-unreachable}
  - {between: [rack-a, rack-b], mode: tcp-reset, connections: new}
  - {isolate: n3}
  - {shape: majority, nodes: [10.0.3.1, 10.0.3.2, "fd00:3::3"], mode: tcp-reset}
)";

rte_mempool* g_pool = nullptr;
std::unique_ptr<Classifier> g_classifier;

void FreeExternal(void* buffer, void* shinfo) {
  std::free(buffer);
  delete static_cast<rte_mbuf_ext_shared_info*>(shinfo);
}

// An mbuf whose data is a heap copy of `bytes` of exactly that size.
rte_mbuf* Segment(const uint8_t* bytes, size_t length) {
  rte_mbuf* segment = rte_pktmbuf_alloc(g_pool);
  if (segment == nullptr) std::abort();
  void* buffer = std::malloc(length == 0 ? 1 : length);
  auto* shinfo = new rte_mbuf_ext_shared_info{};
  shinfo->free_cb = FreeExternal;
  shinfo->fcb_opaque = shinfo;
  rte_mbuf_ext_refcnt_set(shinfo, 1);
  rte_pktmbuf_attach_extbuf(segment, buffer, 0, static_cast<uint16_t>(length), shinfo);
  char* data = rte_pktmbuf_append(segment, static_cast<uint16_t>(length));
  if (length > 0) std::memcpy(data, bytes, length);
  return segment;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string error;
  if (!InitEal(OfflineEalArgs(256), &error) || !RegisterPacketMeta(&error)) {
    std::fprintf(stderr, "frame_fuzz: %s\n", error.c_str());
    std::abort();
  }
  g_pool = rte_pktmbuf_pool_create("fuzz", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  const std::optional<ProfileSpec> profile = ParseProfileText(kProfile, "fuzz-profile", &error);
  if (g_pool == nullptr || !profile) {
    std::fprintf(stderr, "frame_fuzz: %s\n", error.c_str());
    std::abort();
  }
  std::vector<MatchSpec> matches;
  for (const RuleSpec& rule : profile->rules) matches.push_back(rule.match);
  g_classifier = std::make_unique<Classifier>(matches, profile->partitions);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 16'000) return 0;
  const size_t length = size - 1;
  const size_t split = length == 0 ? 0 : data[0] % length;
  rte_mbuf* frame = Segment(data + 1, split == 0 ? length : split);
  if (split != 0 && rte_pktmbuf_chain(frame, Segment(data + 1 + split, length - split)) != 0) {
    std::abort();
  }
  ParsedFrame parsed;
  ParseFrame(frame, &parsed);
  if (parsed.l3_offset > rte_pktmbuf_pkt_len(frame)) std::abort();
  const FrameEndpoints where = g_classifier->Locate(parsed);
  for (Direction direction : {Direction::kAToB, Direction::kBToA}) {
    const int rule = g_classifier->Classify(parsed, direction, where);
    if (rule < -1 || rule >= static_cast<int>(g_classifier->rule_count())) std::abort();
  }
  (void)g_classifier->Cut(parsed, where);
  for (PartitionMode mode :
       {PartitionMode::kDrop, PartitionMode::kIcmpUnreachable, PartitionMode::kTcpReset}) {
    if (rte_mbuf* answer = BuildPartitionAnswer(mode, frame, parsed, g_pool)) {
      ParsedFrame reply;
      ParseFrame(answer, &reply);
      if (reply.malformed) std::abort();  // an answer is a well-formed frame
      rte_pktmbuf_free(answer);
    }
  }
  // What the pipeline does to frames it forwards: ECN marking (an ECN-capable IP frame a rate
  // queue marks) and checksum fixing (after a flipped bit anywhere).
  if (parsed.ecn == 1 || parsed.ecn == 2) {
    MarkCongestionExperienced(frame, parsed.l3_offset, parsed.key.family);
  }
  FixChecksums(frame);
  rte_pktmbuf_free(frame);
  return 0;
}
