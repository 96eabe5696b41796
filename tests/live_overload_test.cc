// Overload of a running dataplane (tests/running_dataplane.h: a Worker on its own thread, net_ring
// ports, a traffic and a consumer thread, the control plane behind a real socket). Each test
// checks that every frame is accounted for: in + duplicated = out + counted drops + held (nothing
// is held once the traffic has drained):
//   - the mbuf pool runs out: the frames and copies that cannot get an mbuf are counted, and
//     when the pressure goes, forwarding recovers with no further drop;
//   - side b's port stops accepting (its TX ring is full): frames wait in order, what the hold
//     limit cannot take is counted, and when the port takes frames again they leave in order;
//   - clients flooding the socket with applies: the worker keeps forwarding every frame;
//   - rate rules through repeated applies and trace steps that free the profiles their queues
//     came from (a use after free under AddressSanitizer before the fix).
// Measured values (gaps, rates) are printed ("[ measured ]"), never asserted; waits end when what
// they wait for has happened, with bounds only a stalled machine reaches.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "control/server/control_server.h"
#include "tests/eal_environment.h"
#include "tests/running_dataplane.h"

namespace faultline {
namespace {

using std::chrono::milliseconds;
using testing::kStallBound;
using testing::RunningDataplaneTest;
using testing::SocketPath;
using Clock = std::chrono::steady_clock;

// The test frames go 10.0.1.5 -> 10.0.2.7 (rack-a -> rack-b), UDP, 16 source ports.
constexpr const char* kGroups = R"(version: 1
seed: 11
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24]
)";

// Everything is accounted for once the traffic has drained: in + duplicated = out + dropped,
// where in is what the traffic thread handed to side a and out what the consumer took.
class LiveOverloadTest : public RunningDataplaneTest {
 protected:
  // Stops the traffic and waits for every frame to come out or be counted (10 s: far beyond any
  // delay here; only a stuck worker takes that long).
  nlohmann::json Drain() {
    StopTraffic(/*drain=*/false);
    EXPECT_TRUE(WaitUntilAllOut(milliseconds(10'000))) << "frames are still held";
    const nlohmann::json stats = Stats();
    stop_consumer_.store(true);
    consumer_thread_.join();
    return stats;
  }
  static uint64_t Dropped(const nlohmann::json& stats) {
    uint64_t dropped = 0;
    for (const auto& [cause, count] : stats["dropped"].items()) dropped += count.get<uint64_t>();
    return dropped;
  }
  static uint64_t Duplicated(const nlohmann::json& stats) {
    uint64_t duplicated = 0;
    for (const nlohmann::json& rule : stats["rules"])
      duplicated += rule["duplicated"].get<uint64_t>();
    return duplicated;
  }
  void ExpectAccounted(const nlohmann::json& stats) {
    const uint64_t in = enqueued_.size(), out = received_.load() + wrong_way_.load();
    EXPECT_EQ(stats["ports"][0]["rx"], in);
    EXPECT_EQ(in + Duplicated(stats), out + Dropped(stats))
        << "in " << in << " out " << out << " dropped " << stats["dropped"];
  }
};

// A pool of 1023 mbufs for the traffic and its copies, frames held 200 ms, every frame
// duplicated: at tens of thousands of frames per second the pool runs out. Frames the traffic
// thread cannot allocate never enter (a NIC counts those as rx_nombuf); copies the worker cannot
// allocate are dropped as buffer_exhausted. When the traffic slows to 80 frames/s (32 mbufs in
// flight; a worker kept off the CPU for a whole second would find 80 more waiting, far from the
// pool's 1023), the pool comes back: a second passes in which frames arrive and nothing is dropped
// or refused (the first such second is waited for: on a busy machine the frames held at full rate
// may take longer than their 200 ms to leave), and nothing is dropped after it either.
TEST_F(LiveOverloadTest, AnMbufPoolThatRunsOutDegradesToCountedDropsAndRecovers) {
  static rte_mempool* small_pool = rte_pktmbuf_pool_create(
      "overload_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  ASSERT_NE(small_pool, nullptr);
  traffic_pool_ = small_pool;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(std::string(kGroups) + R"(impairments:
  twice: {duplicate: {probability: 100%}, delay: {base: 200ms}}
rules:
  - {name: a-to-b, match: {src: rack-a, dst: rack-b}, impairment: twice}
)"));
  StartTraffic();
  // Full rate until the pool has run out (within a second here; kStallBound at most).
  const nlohmann::json overloaded = StatsWhen([this](const nlohmann::json& stats) {
    return alloc_failures_.load() + stats["dropped"]["buffer_exhausted"].get<uint64_t>() > 0;
  });
  const uint64_t refused_overloaded = alloc_failures_.load();
  traffic_pause_us_.store(100'000);  // bursts of 8 every 100 ms
  auto exhausted_in = [](const nlohmann::json& stats) {
    return stats["dropped"]["buffer_exhausted"].get<uint64_t>();
  };
  auto in = [](const nlohmann::json& stats) { return stats["ports"][0]["rx"].get<uint64_t>(); };
  nlohmann::json recovered = Stats();
  uint64_t refused_recovered = alloc_failures_.load();
  bool calm = false;
  int seconds = 0;
  for (const auto deadline = Clock::now() + kStallBound; !calm && Clock::now() < deadline;) {
    Sleep(milliseconds(1000));
    ++seconds;
    const nlohmann::json now = Stats();
    const uint64_t refused_now = alloc_failures_.load();
    calm = exhausted_in(now) == exhausted_in(recovered) && refused_now == refused_recovered &&
           in(now) > in(recovered);
    recovered = now;
    refused_recovered = refused_now;
  }
  ASSERT_TRUE(calm) << "the pool did not come back: drops or refusals in every second";
  Sleep(milliseconds(1000));
  const nlohmann::json after = Stats();
  const nlohmann::json stats = Drain();

  const uint64_t exhausted = stats["dropped"]["buffer_exhausted"];
  std::printf(
      "[ measured ] pool of 1023: %zu frames in, %lu never entered (no mbuf), %lu copies "
      "dropped as buffer_exhausted until the pool had run out, %lu in all; calm after %d s at the "
      "lower rate\n",
      enqueued_.size(), alloc_failures_.load(),
      overloaded["dropped"]["buffer_exhausted"].get<uint64_t>(), exhausted, seconds);
  EXPECT_GT(refused_overloaded + overloaded["dropped"]["buffer_exhausted"].get<uint64_t>(), 0u)
      << "the pool never ran out: the test did not overload anything";
  EXPECT_EQ(exhausted, exhausted_in(recovered)) << "drops came back after the pressure was gone";
  EXPECT_EQ(alloc_failures_.load(), refused_recovered) << "the pool ran out again";
  EXPECT_GT(in(after), in(recovered)) << "no traffic after the recovery";
  EXPECT_EQ(Dropped(stats), exhausted) << "only copies are dropped: " << stats["dropped"];
  ExpectAccounted(stats);
  // Every original came out once, and once more for each copy that got an mbuf.
  uint64_t twice = 0;
  for (unsigned count : Deliveries()) {
    EXPECT_GE(count, 1u);
    EXPECT_LE(count, 2u);
    twice += count == 2;
  }
  EXPECT_EQ(twice, Duplicated(stats) - exhausted);
  EXPECT_EQ(rte_mempool_in_use_count(small_pool), 0u) << "mbufs leaked";
}

// Side b stops taking frames (its TX ring of 4096 fills) until more than the hold limit has come:
// the worker keeps what the device refuses, in order, in its TX buffer and the wheel, up to the
// hold limit (2048); beyond, frames are dropped as buffer_exhausted. When side b takes frames
// again they all leave, in order, and every frame sent is out or counted.
TEST_F(LiveOverloadTest, AFullTransmitPortKeepsOrderAndCountsWhatItCannotHold) {
  hold_limit_ = 2048;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(std::string(kGroups) + R"(impairments:
  short: {delay: {base: 100us}}
rules:
  - {name: a-to-b, match: {src: rack-a, dst: rack-b}, impairment: short}
)"));
  StartTraffic();
  Sleep(milliseconds(200));
  consumer_paused_.store(true);
  const nlohmann::json blocked = StatsWhen([](const nlohmann::json& stats) {
    return stats["dropped"]["buffer_exhausted"].get<uint64_t>() > 0;
  });
  consumer_paused_.store(false);
  Sleep(milliseconds(300));
  const nlohmann::json stats = Drain();

  const uint64_t exhausted = stats["dropped"]["buffer_exhausted"];
  std::printf(
      "[ measured ] %zu frames in, %lu out, %lu dropped as buffer_exhausted while side b took "
      "nothing, %lu tx bursts refused\n",
      enqueued_.size(), received_.load(), exhausted, stats["tx_retries"].get<uint64_t>());
  EXPECT_GT(blocked["tx_retries"].get<uint64_t>(), 0u) << "the port never refused a burst";
  EXPECT_GT(exhausted, 0u) << "more than the hold limit arrived while side b was blocked";
  EXPECT_EQ(Dropped(stats), exhausted) << stats["dropped"];
  ExpectAccounted(stats);
  EXPECT_EQ(stats["ports"][1]["tx"], received_.load());
  // Order: one FIFO (a constant delay), so frames leave in sequence; each at most once.
  uint64_t previous = 0, out_of_order = 0;
  bool first = true;
  for (const testing::Arrival& arrival : arrivals_) {
    if (!first && arrival.sequence <= previous) ++out_of_order;
    previous = arrival.sequence;
    first = false;
  }
  EXPECT_EQ(out_of_order, 0u) << "frames left out of order after the port came back";
}

// Two clients apply profiles back to back, as fast as the socket answers, for 2 s and at least
// 20 applies while traffic flows: every apply is compiled (group tables included) and handed
// over on the control side, so the worker goes on forwarding every frame (none lost, none
// dropped, frames out during the flood), and installs each change (an apply answers only once it
// has). The largest gap between frames out is a figure: on a busy machine it is the scheduler's.
TEST_F(LiveOverloadTest, ClientsFloodingAppliesDoNotStarveTheWorker) {
  const std::string near = std::string(kGroups) + R"(impairments:
  short: {delay: {base: 100us}}
rules:
  - {name: a-to-b, match: {src: rack-a, dst: rack-b}, impairment: short}
)";
  const std::string far = std::string(kGroups) + R"(  rack-c: [10.0.3.0/24, 10.9.0.0/16]
impairments:
  longer: {delay: {base: 300us}}
rules:
  - {name: c-traffic, match: {src: rack-c}, impairment: longer}
  - {name: a-to-b, match: {src: rack-a, dst: rack-b}, impairment: longer}
)";
  ASSERT_NO_FATAL_FAILURE(StartDataplane(near));
  StartTraffic();
  Sleep(milliseconds(200));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> applied{0}, refused{0};
  auto flood = [&](int client) {
    for (int i = 0; !stop.load(); ++i) {
      std::string error;
      bool connected = false;
      const std::optional<nlohmann::json> answer = ControlRequest(
          SocketPath(),
          {{"command", "apply"}, {"profile", (i + client) % 2 ? far : near}, {"name", "flood"}},
          milliseconds(10'000), &error, &connected);
      (answer && answer->value("ok", false) ? applied : refused)++;
    }
  };
  const uint64_t flood_start = rte_rdtsc();
  const uint64_t out_before = received_.load();
  std::thread first(flood, 0), second(flood, 1);
  Sleep(milliseconds(2000));
  for (const auto deadline = Clock::now() + kStallBound;
       applied.load() + refused.load() < 20 && Clock::now() < deadline;) {
    Sleep(milliseconds(50));
  }
  const uint64_t out_during = received_.load() - out_before;
  stop.store(true);
  first.join();
  second.join();
  const uint64_t flood_end = rte_rdtsc();
  const nlohmann::json stats = Drain();

  const uint64_t gap = testing::MaxGap(arrivals_, flood_start, flood_end);
  std::printf(
      "[ measured ] %lu applies in %.1f s (%lu refused), %zu frames, %lu of them out during the "
      "flood; largest gap between frames out during the flood %.3f ms\n",
      applied.load(), Ms(flood_end - flood_start) / 1e3, refused.load(), enqueued_.size(),
      out_during, Ms(gap));
  EXPECT_GE(applied.load(), 20u);
  EXPECT_GT(out_during, 0u) << "no frame came out while the applies ran";
  EXPECT_EQ(refused.load(), 0u);
  EXPECT_EQ(Dropped(stats), 0u) << stats["dropped"];
  ExpectAccounted(stats);
  size_t missing = 0, repeated = 0;
  for (unsigned count : Deliveries()) {
    missing += count == 0;
    repeated += count > 1;
  }
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(repeated, 0u);
}

// Rate rules keep their queue through every apply and trace step that keeps their name and
// effects, while the profile the queue was made from is replaced and freed: 60 applies between
// two profiles that share the rule and differ elsewhere, then a trace that switches the rule
// between two rates and adds and heals partitions every 40 ms. (The queue once kept a reference
// into the first profile: under AddressSanitizer every frame after the first change was a use
// after free, and the release build died of it within a few hundred applies.)
TEST_F(LiveOverloadTest, RateQueuesOutliveTheProfilesAppliesAndTraceStepsFree) {
  const std::string base = std::string(kGroups) + R"(  rack-c: [10.0.3.0/24]
impairments:
  fast: {rate: {bandwidth: 200mbit}, delay: {base: 50us}}
  slow: {rate: {bandwidth: 100mbit, queue-limit: 500pkt}, delay: {base: 50us}}
  other: {delay: {base: 20us}}
rules:
  - {name: a-to-b, match: {src: rack-a, dst: rack-b}, impairment: fast}
)";
  const std::string wider =
      base + "  - {name: c-traffic, match: {src: rack-c}, impairment: other}\n";
  ASSERT_NO_FATAL_FAILURE(StartDataplane(base));
  StartTraffic();
  Sleep(milliseconds(100));
  for (int i = 0; i < 60; ++i) {
    const nlohmann::json answer = Apply(i % 2 ? base : wider);
    ASSERT_EQ(answer.value("ok", false), true) << "apply " << i << ": " << answer;
  }
  std::string trace = "version: 1\nevents:\n";
  for (int step = 0; step < 20; ++step) {
    trace += "  - at: " + std::to_string(step * 40) + "ms\n";
    if (step % 4 == 0) {
      trace += "    set-impairment: {rule: a-to-b, impairment: " +
               std::string(step % 8 ? "fast" : "slow") + "}\n";
    } else if (step % 4 == 1) {
      trace += "    partition: {from: rack-c, to: rack-b, name: cut" + std::to_string(step) + "}\n";
    } else {
      trace += "    heal: partitions\n";
    }
  }
  const nlohmann::json started =
      Request({{"command", "trace-start"}, {"trace", trace}, {"at", "+100ms"}});
  ASSERT_EQ(started.value("ok", false), true) << started;
  const nlohmann::json status = TraceWhenOver();
  EXPECT_EQ(status["state"], "finished") << status.dump(2);
  EXPECT_EQ(status["steps_applied"], 20);
  const nlohmann::json stats = Drain();

  std::printf("[ measured ] %zu frames through 60 applies and 20 trace steps; drops %s\n",
              enqueued_.size(), stats["dropped"].dump().c_str());
  EXPECT_EQ(stats["dropped"]["buffer_exhausted"], 0);
  EXPECT_EQ(Dropped(stats), stats["dropped"]["queue"].get<uint64_t>())
      << "only the rate queues drop";
  ExpectAccounted(stats);
  for (unsigned count : Deliveries()) ASSERT_LE(count, 1u) << "a frame came out twice";
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Snapshots with groups hold 64 MiB LPM tables, and a flood of applies holds a few at once.
  ::testing::AddGlobalTestEnvironment(new faultline::testing::EalEnvironment({"-m", "1024"}));
  return RUN_ALL_TESTS();
}
