// `--record` live: a Worker on its own thread (TSC clock, Run) on net_ring ports records into the
// writer thread's ring while traffic flows; at a low rate nothing is lost and the file holds one
// record per frame in plus one per duplicate, each transmitted no earlier than arrival + delay.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "dataplane/pipeline/worker.h"
#include "dataplane/runtime/frame_record_writer.h"
#include "dataplane/runtime/ports.h"
#include "tests/eal_environment.h"

namespace faultline {
namespace {

using testing::EalEnvironment;
using testing::MakePacket;

constexpr uint64_t kDelayNs = 1'000'000;
constexpr uint64_t kFrames = 2000;

TEST(FrameRecordLiveTest, LowRateRunRecordsEveryFrameAndEveryDuplicate) {
  rte_ring* rx[2];
  rte_ring* tx[2];
  for (int side = 0; side < 2; ++side) {
    const std::string name = std::string("rec_side_") + char('a' + side);
    rx[side] = rte_ring_create((name + "_rx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx[side] = rte_ring_create((name + "_tx").c_str(), 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(rx[side], nullptr);
    ASSERT_EQ(rte_eth_from_rings(name.c_str(), &rx[side], 1, &tx[side], 1, 0), side);
    std::string error;
    ASSERT_TRUE(StartPort(side, PortLayout{}, EalEnvironment::pool(), &error)) << error;
  }
  ProfileSpec spec;
  ImpairmentSpec impairment;
  impairment.name = "dup";
  impairment.delay = DelaySpec{.base_ns = kDelayNs};
  impairment.duplicate = DuplicateSpec{.probability = 0.2};
  spec.impairments.push_back(impairment);
  spec.rules.push_back(RuleSpec{.name = "everything", .match = {}, .impairment = 0});
  const TimeBase tsc = TimeBase::Tsc();
  WorkerPlan plan;
  plan.ports = {0, 1};
  plan.time_base = tsc;
  plan.idle_sleep_ns = 20'000;
  plan.pipeline.hold_limit = 8192;
  plan.pipeline.profile = CompileProfile(spec, tsc, 5);
  Worker worker(plan, rte_rdtsc());

  const std::string path = ::testing::TempDir() + "live-" + std::to_string(getpid()) + ".rec";
  std::string error;
  auto writer = FrameRecordWriter::Open(path, RecordHeaderNow(plan.pipeline.profile.get(), false),
                                        {.base = tsc, .start_units = rte_rdtsc()}, 1,
                                        /*lossless=*/false, &error);
  ASSERT_NE(writer, nullptr) << error;
  worker.SetRecorder(writer->recorder(0));
  writer->Start();
  std::atomic<bool> stop{false};
  std::thread lcore([&] { worker.Run(stop); });

  // A low rate: bursts of 8 every 200 us (40 kframes/s), to side a.
  uint64_t received = 0;
  std::vector<void*> out(64);
  const auto drain = [&] {
    const unsigned n = rte_ring_dequeue_burst(tx[1], out.data(), out.size(), nullptr);
    for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(out[i]));
    received += n;
  };
  for (uint64_t id = 0; id < kFrames;) {
    for (int i = 0; i < 8 && id < kFrames; ++i, ++id) {
      while (rte_ring_enqueue(rx[0], MakePacket(EalEnvironment::pool(), id)) != 0) drain();
    }
    drain();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  // Every frame and copy out (bounded only by a stalled machine).
  const RuleCounters& rule = worker.pipeline().rule_counters()[0];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (received < kFrames + rule.duplicated.Get() &&
         std::chrono::steady_clock::now() < deadline) {
    drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop.store(true);
  lcore.join();
  drain();
  ASSERT_EQ(writer->Finish(), "");
  const uint64_t duplicated = rule.duplicated.Get();
  EXPECT_GT(duplicated, 0u);
  EXPECT_EQ(received, kFrames + duplicated);
  EXPECT_EQ(worker.pipeline().counters().record_lost.Get(), 0u);

  RecordFileReader reader;
  ASSERT_TRUE(reader.Open(path, &error)) << error;
  EXPECT_FALSE(reader.header().virtual_clock);
  FrameRecord record;
  uint64_t records = 0, copies = 0, transmitted = 0;
  while (reader.Next(&record, &error)) {
    ++records;
    copies += record.copy == kCopyDuplicate;
    if (record.fate == kFateTransmitted) {
      ++transmitted;
      EXPECT_GE(record.departure - record.arrival, kDelayNs - 1000) << "left before its delay";
    }
    EXPECT_EQ(reader.RuleName(record.rule), "everything");
  }
  EXPECT_EQ(error, "");
  EXPECT_EQ(records, kFrames + duplicated) << "records == frames in + duplicates";
  EXPECT_EQ(copies, duplicated);
  EXPECT_EQ(transmitted, received);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace faultline
