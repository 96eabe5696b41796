// Classification cost against profile size: 10 rules over 10 prefixes vs 1,000 rules over
// 10,000 prefixes (IPv4 and IPv6 host routes in groups), with and without partitions. Each
// iteration classifies one parsed frame (Locate + Cut + Classify, what the pipeline does per
// frame); frames hit every rule uniformly, and 10% hit none.
//
//   build/bench/classifier_bench
#include <benchmark/benchmark.h>
#include <rte_eal.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "dataplane/fastpath/classifier.h"
#include "dataplane/runtime/eal.h"

namespace faultline {
namespace {

constexpr size_t kFrames = 4096;

Prefix HostRoute(uint8_t family, uint32_t index) {
  Prefix prefix;
  prefix.family = family;
  prefix.length = family == 4 ? 32 : 128;
  const uint32_t host = 0x0A000000 + index * 7;  // spread over many /24s (and tbl8 groups)
  if (family == 4) {
    for (int b = 0; b < 4; ++b) prefix.address[b] = static_cast<uint8_t>(host >> (24 - 8 * b));
  } else {
    prefix.address[0] = 0xfd;
    for (int b = 0; b < 4; ++b) prefix.address[12 + b] = static_cast<uint8_t>(host >> (24 - 8 * b));
  }
  return prefix;
}

struct Workload {
  std::vector<MatchSpec> rules;
  std::vector<PartitionSpec> partitions;
  std::vector<ParsedFrame> frames;
};

// `rules` rules, each a group of `per_rule` host routes as src, TCP, a port range of its own;
// `partitions` one-way partitions between disjoint groups of other hosts.
Workload MakeWorkload(uint8_t family, uint32_t rules, uint32_t per_rule, uint32_t partitions) {
  Workload work;
  for (uint32_t r = 0; r < rules; ++r) {
    MatchSpec match;
    for (uint32_t p = 0; p < per_rule; ++p)
      match.src.prefixes.push_back(HostRoute(family, r * per_rule + p));
    match.proto = kProtoTcp;
    match.has_dst_port = true;
    match.dst_port_min = static_cast<uint16_t>(1000 + r % 50);
    match.dst_port_max = static_cast<uint16_t>(1000 + r % 50 + 10);
    work.rules.push_back(match);
  }
  const uint32_t base = rules * per_rule + 1000;
  for (uint32_t p = 0; p < partitions; ++p) {
    PartitionSpec partition;
    // (name = "p" + to_string(p) makes GCC 12 print a false -Wrestrict.)
    partition.name = std::to_string(p);
    partition.name.insert(partition.name.begin(), 'p');
    PartitionCut cut;
    cut.from.prefixes.push_back(HostRoute(family, base + 2 * p));
    cut.to.prefixes.push_back(HostRoute(family, base + 2 * p + 1));
    partition.cuts.push_back(cut);
    work.partitions.push_back(partition);
  }
  std::mt19937_64 rng(7);
  for (size_t i = 0; i < kFrames; ++i) {
    ParsedFrame frame{};
    frame.key.family = family;
    frame.key.proto = kProtoTcp;
    frame.has_l4 = true;
    frame.ether_type = family == 4 ? 0x0800 : 0x86DD;
    const uint32_t total = rules * per_rule;
    const bool miss = rng() % 10 == 0;
    const uint32_t index = static_cast<uint32_t>(rng() % total);
    const Prefix src = HostRoute(family, miss ? total + 5000 + index : index);
    const Prefix dst = HostRoute(family, base + static_cast<uint32_t>(rng() % 64));
    std::memcpy(frame.key.src, src.address.data(), 16);
    std::memcpy(frame.key.dst, dst.address.data(), 16);
    frame.key.src_port = 40000;
    frame.key.dst_port = static_cast<uint16_t>(1000 + (index / per_rule) % 50 + 5);
    work.frames.push_back(frame);
  }
  return work;
}

void BM_Classify(benchmark::State& state) {
  const uint8_t family = static_cast<uint8_t>(state.range(0));
  const uint32_t rules = static_cast<uint32_t>(state.range(1));
  const uint32_t per_rule = static_cast<uint32_t>(state.range(2));
  const uint32_t partitions = static_cast<uint32_t>(state.range(3));
  const Workload work = MakeWorkload(family, rules, per_rule, partitions);
  const Classifier classifier(work.rules, work.partitions);
  size_t i = 0;
  int64_t matched = 0;
  for (auto _ : state) {
    const ParsedFrame& frame = work.frames[i++ & (kFrames - 1)];
    const FrameEndpoints where = classifier.Locate(frame);
    int result = classifier.has_partitions() ? classifier.Cut(frame, where) : -1;
    if (result < 0) result = classifier.Classify(frame, Direction::kAToB, where);
    matched += result >= 0;
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["prefixes"] = rules * per_rule;
  state.counters["matched_share"] =
      static_cast<double>(matched) / static_cast<double>(state.iterations());
}

// family, rules, prefixes per rule, partitions
BENCHMARK(BM_Classify)
    ->ArgNames({"family", "rules", "per_rule", "partitions"})
    ->Args({4, 10, 1, 0})
    ->Args({4, 1000, 10, 0})
    ->Args({4, 10, 1, 10})
    ->Args({4, 1000, 10, 256})
    ->Args({6, 10, 1, 0})
    ->Args({6, 1000, 10, 0});

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string error;
  if (!faultline::InitEal(faultline::OfflineEalArgs(1024), &error)) {
    std::fprintf(stderr, "classifier_bench: %s\n", error.c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  rte_eal_cleanup();
  return 0;
}
