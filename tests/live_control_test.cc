// A running dataplane changed through its control socket: one Worker on its own thread with the
// TSC clock, on two net_ring ports, fed by a traffic thread and drained by a consumer thread,
// with the control plane of `faultline run` (SnapshotPublisher, ControlCommands, a real
// ControlServer on a socket). Applies, heals and trace steps change behaviour at the right
// moments, without losing frames both profiles forward; hostile clients of the socket disturb
// neither the forwarding nor the other clients. (The fixture is tests/running_dataplane.h.)
//
// Frames carry their sequence number and the TSC at enqueue; the consumer records the TSC at
// dequeue. What is asserted holds however busy the machine is: no frame lost or duplicated, every
// frame out or counted, changes taking effect between two frames (the frames a change stops are
// one unbroken run of sequence numbers), and never later than the answer to the request that made
// them. How long things took (gaps, lateness, answer times) is printed as `[ measured ]` figures;
// waits end when what they wait for has happened, with bounds only a stalled machine reaches.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "control/server/control_server.h"
#include "tests/eal_environment.h"
#include "tests/raw_socket_client.h"
#include "tests/running_dataplane.h"

namespace faultline {
namespace {

using std::chrono::milliseconds;
using testing::Arrival;
using testing::kStallBound;
using testing::MaxGap;
using testing::RawClient;
using testing::RunningDataplaneTest;
using testing::SocketPath;
using Clock = std::chrono::steady_clock;

// Groups rack-a and rack-b hold the test frames' source and destination.
constexpr const char* kProfileA = R"(version: 1
seed: 11
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24]
impairments:
  short:
    delay: {base: 100us}
  tiny:
    delay: {base: 20us}
rules:
  - name: a-to-b
    match: {src: rack-a, dst: rack-b, proto: udp}
    impairment: short
  - name: rest
    match: {}
    impairment: tiny
)";

// Other groups, a new rule in front (with jitter: flow state), other delays for a-to-b, `rest`
// removed and another rule added.
constexpr const char* kProfileB = R"(version: 1
seed: 11
groups:
  rack-a: [10.0.1.0/24]
  rack-b: [10.0.2.0/24, 10.0.9.0/24]
  rack-c: [10.0.3.0/24]
impairments:
  jittery:
    delay: {base: 200us, jitter: 100us}
  long:
    delay: {base: 300us}
rules:
  - name: front
    match: {dst: rack-b, proto: udp, dst-port: 7000-7999}
    impairment: jittery
  - name: a-to-b
    match: {src: rack-a, dst: rack-b, proto: udp}
    impairment: long
  - name: c-traffic
    match: {src: rack-c}
    impairment: long
)";

// The control server's deadlines for clients (idle, and for a request or an answer under way),
// set to this where hostile clients are tested. A server blocked by hostile clients would answer
// others only once it dropped them, so an answer within half of it shows it was not blocked.
constexpr auto kClientDeadline = milliseconds(10'000);

// Frames in sequence order as runs of one fate: out (came out, once) or stopped (did not).
struct FateRun {
  bool out;
  size_t first, count;  // sequence numbers [first, first + count)
};
std::vector<FateRun> Runs(const std::vector<unsigned>& deliveries) {
  std::vector<FateRun> runs;
  for (size_t sequence = 0; sequence < deliveries.size(); ++sequence) {
    const bool out = deliveries[sequence] > 0;
    if (runs.empty() || runs.back().out != out) runs.push_back({out, sequence, 0});
    ++runs.back().count;
  }
  return runs;
}

std::string Describe(const std::vector<FateRun>& runs) {
  std::string text;
  for (const FateRun& run : runs) {
    text += (run.out ? " out " : " stopped ") + std::to_string(run.first) + "+" +
            std::to_string(run.count);
  }
  return text;
}

// The first sequence number enqueued after `tsc`.
size_t FirstEnqueuedAfter(const std::vector<uint64_t>& enqueued, uint64_t tsc) {
  return std::upper_bound(enqueued.begin(), enqueued.end(), tsc) - enqueued.begin();
}

// A live apply under load loses no frame that the old and the new profile would both have
// forwarded, and forwarding never stops: 50 round trips between profiles with other groups,
// rules (one new in front, one removed, one added), names and delays.
TEST_F(RunningDataplaneTest, ApplyUnderLoadLosesNothingBothProfilesForward) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  StatsWhen(
      [](const nlohmann::json& stats) { return stats["ports"][0]["rx"].get<uint64_t>() >= 1000; });
  constexpr int kRoundTrips = 50;
  uint64_t slowest_apply = 0, total_apply = 0;
  const uint64_t applies_start = rte_rdtsc();
  for (int i = 0; i < 2 * kRoundTrips; ++i) {
    const uint64_t before = rte_rdtsc();
    const nlohmann::json response = Apply(i % 2 == 0 ? kProfileB : kProfileA);
    const uint64_t took = rte_rdtsc() - before;
    ASSERT_EQ(response.value("ok", false), true) << "apply " << i << ": " << response;
    EXPECT_EQ(response["rules"], i % 2 == 0 ? 3 : 2) << response;
    slowest_apply = std::max(slowest_apply, took);
    total_apply += took;
  }
  const uint64_t applies_end = rte_rdtsc();
  Sleep(milliseconds(100));
  StopTraffic(/*drain=*/true);
  // Once more B: its rule `front` took the frames while B was in force.
  ASSERT_EQ(Apply(kProfileB).value("ok", false), true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();

  const size_t during =
      FirstEnqueuedAfter(enqueued_, applies_end) - FirstEnqueuedAfter(enqueued_, applies_start);
  ASSERT_GT(during, 0u) << "no traffic while the applies ran";
  EXPECT_EQ(stats["dropped"]["buffer_exhausted"], 0) << stats["dropped"];
  uint64_t dropped = 0;
  for (const auto& [cause, count] : stats["dropped"].items()) dropped += count.get<uint64_t>();
  EXPECT_EQ(dropped, 0u) << stats["dropped"];
  EXPECT_EQ(stats["ports"][0]["rx"], enqueued_.size());
  EXPECT_EQ(stats["ports"][1]["tx"], enqueued_.size());
  EXPECT_EQ(wrong_way_.load(), 0u);
  const std::vector<unsigned> deliveries = Deliveries();
  size_t missing = 0, repeated = 0;
  for (unsigned count : deliveries) {
    missing += count == 0;
    repeated += count > 1;
  }
  EXPECT_EQ(missing, 0u) << "of " << enqueued_.size() << " frames sent";
  EXPECT_EQ(repeated, 0u);
  // Counters follow a rule by name through every change: a-to-b (A) and front (B) took them all.
  const uint64_t front = Rule(stats, "front").value("matched", uint64_t{0});
  const uint64_t a_to_b = Rule(stats, "a-to-b").value("matched", uint64_t{0});
  EXPECT_GT(front, 0u);
  EXPECT_GT(a_to_b, 0u);
  EXPECT_EQ(front + a_to_b, enqueued_.size());

  const uint64_t gap = MaxGap(arrivals_, applies_start, applies_end);
  const uint64_t quiet_gap = MaxGap(arrivals_, 0, applies_start);
  uint64_t latency = 0;
  for (const Arrival& arrival : arrivals_) {
    if (arrival.dequeued >= applies_start && arrival.dequeued <= applies_end) {
      latency = std::max(latency, arrival.dequeued - arrival.enqueued);
    }
  }
  // Figures, not assertions: on a busy machine the threads here wait for a core, and that shows
  // in the gaps (docs/performance.md, "Live changes").
  // (Bursts the traffic thread could not enqueue, because the rx ring was full or mbufs ran out
  // while the worker waited for a core, were never sent: they count nowhere.)
  std::printf(
      "[ measured ] %zu frames, %zu of them enqueued during %d applies in %.1f ms (mean %.2f ms, "
      "slowest %.2f ms); max gap between dequeues %.3f ms during the applies (%.3f ms before "
      "them); max frame latency during the applies %.3f ms; bursts not sent: %lu (rx ring full), "
      "%lu (no mbufs)\n",
      enqueued_.size(), during, 2 * kRoundTrips, Ms(applies_end - applies_start),
      Ms(total_apply) / (2 * kRoundTrips), Ms(slowest_apply), Ms(gap), Ms(quiet_gap), Ms(latency),
      ring_full_.load(), alloc_failures_.load());
}

// Apply a partition and a 100% loss rule, then heal each: their counters go from 0 up while they
// stop the frames and stand still after the heal, which lets frames flow again. Each phase lasts
// until it has seen 100 frames. The frames in sequence order come out, are cut, come out, are
// lost, come out: five runs, the stopped ones as long as the counters say, each change taking
// effect no later than its answer (every frame enqueued after the answer has the new fate).
TEST_F(RunningDataplaneTest, ApplyAndHealChangeWhatComesOutAndTheCounters) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  auto matched = [](const nlohmann::json& stats) {
    return Rule(stats, "a-to-b").value("matched", uint64_t{0});
  };
  nlohmann::json stats = StatsWhen([&](const nlohmann::json& s) { return matched(s) >= 100; });
  EXPECT_EQ(stats["dropped"]["partition"], 0);
  EXPECT_TRUE(stats["partitions"].empty());

  // A partition cuts rack-a -> rack-b.
  const std::string partitioned =
      std::string(kProfileA) + "partitions:\n  - {from: rack-a, to: rack-b, name: cut-ab}\n";
  nlohmann::json response = Apply(partitioned);
  const uint64_t cut_answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["partitions"], 1);
  const nlohmann::json cut_early = Stats();
  stats = StatsWhen([&](const nlohmann::json& s) {
    return s["partitions"].size() == 1 &&
           s["partitions"][0]["dropped"].get<uint64_t>() >=
               cut_early["partitions"][0]["dropped"].get<uint64_t>() + 100;
  });
  ASSERT_EQ(stats["partitions"].size(), 1u) << stats;
  EXPECT_EQ(stats["partitions"][0]["name"], "cut-ab");
  EXPECT_GT(stats["partitions"][0]["directions"]["a-to-b"]["dropped"], 0);
  EXPECT_EQ(stats["partitions"][0]["directions"]["b-to-a"]["dropped"], 0);
  EXPECT_EQ(matched(stats), matched(cut_early)) << "partitions come before rules";

  response = Request({{"command", "heal"}});
  const uint64_t heal_answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["partitions"], 0);
  const nlohmann::json healed_early = Stats();
  stats =
      StatsWhen([&](const nlohmann::json& s) { return matched(s) >= matched(healed_early) + 100; });
  EXPECT_EQ(stats["dropped"]["partition"], healed_early["dropped"]["partition"])
      << "nothing is cut once the heal is answered";

  // The same with a rule that loses everything, healed with `heal impairments`.
  std::string lossy = kProfileA;
  lossy.replace(lossy.find("  tiny:"), 7, "  gone:\n    loss: {probability: 100%}\n  tiny:");
  lossy.replace(lossy.find("impairment: short"), 17, "impairment: gone");
  EXPECT_EQ(Rule(stats, "a-to-b")["dropped"]["loss"], 0);
  response = Apply(lossy);
  const uint64_t loss_answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  const nlohmann::json loss_early = Stats();
  auto lost = [](const nlohmann::json& s) {
    return Rule(s, "a-to-b")["dropped"].value("loss", uint64_t{0});
  };
  stats = StatsWhen([&](const nlohmann::json& s) { return lost(s) >= lost(loss_early) + 100; });
  EXPECT_EQ(Rule(stats, "a-to-b")["impairment"], "gone");

  response = Request({{"command", "heal"}, {"what", "impairments"}});
  const uint64_t loss_healed = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["impairments"], "healed");
  const nlohmann::json healed_loss = Stats();
  stats = StatsWhen([&](const nlohmann::json& s) {
    return s["unmatched"].get<uint64_t>() >= healed_loss["unmatched"].get<uint64_t>() + 100;
  });
  EXPECT_EQ(lost(stats), lost(healed_loss)) << "nothing is lost once the heal is answered";

  StopTraffic(/*drain=*/true);
  stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();
  const uint64_t partition = stats["dropped"]["partition"], loss = stats["dropped"]["loss"];
  EXPECT_EQ(received_.load() + partition + loss, enqueued_.size()) << stats["dropped"];
  const std::vector<unsigned> deliveries = Deliveries();
  for (unsigned count : deliveries) ASSERT_LE(count, 1u) << "a frame came out twice";
  const std::vector<FateRun> runs = Runs(deliveries);
  std::printf(
      "[ measured ] %zu frames sent, %lu out, %lu cut by the partition, %lu lost; runs:%s\n",
      enqueued_.size(), received_.load(), partition, loss, Describe(runs).c_str());
  ASSERT_EQ(runs.size(), 5u) << Describe(runs);
  EXPECT_TRUE(runs[0].out && !runs[1].out && runs[2].out && !runs[3].out && runs[4].out);
  EXPECT_EQ(runs[1].count, partition);
  EXPECT_EQ(runs[3].count, loss);
  // A frame enqueued after an answer was received after the change was in place.
  EXPECT_LE(runs[1].first, FirstEnqueuedAfter(enqueued_, cut_answered));
  EXPECT_LE(runs[2].first, FirstEnqueuedAfter(enqueued_, heal_answered));
  EXPECT_LE(runs[3].first, FirstEnqueuedAfter(enqueued_, loss_answered));
  EXPECT_LE(runs[4].first, FirstEnqueuedAfter(enqueued_, loss_healed));
}

// What a trace's steps did to the frames: in sequence order they come out, are stopped, come out
// (three runs, the stopped one as long as `stopped` says and not empty). Each step took effect at
// or after its scheduled time and no later than when the workers say they installed it: every
// frame enqueued after that comes out again. `zero_latest` is the latest time zero can be.
void ExpectStoppedOnce(const std::vector<unsigned>& deliveries,
                       const std::vector<uint64_t>& enqueued, uint64_t stopped,
                       const nlohmann::json& status, const TimeBase& time_base,
                       uint64_t zero_latest) {
  for (unsigned count : deliveries) ASSERT_LE(count, 1u) << "a frame came out twice";
  const std::vector<FateRun> runs = Runs(deliveries);
  if (runs.size() == 1 && runs[0].out && stopped == 0) {
    // Nothing was stopped, and nothing counted. That is right only if no frame was enqueued
    // while the fault was in force, i.e. the traffic thread was kept off the CPU at least that
    // long: some gap between two enqueues is as long as the fault (else one fell inside it).
    const uint64_t in_force =
        time_base.FromNs(status["events"].back()["applied_ns"].get<uint64_t>() -
                         status["events"].front()["applied_ns"].get<uint64_t>());
    uint64_t longest_gap = 0;
    for (size_t i = 1; i < enqueued.size(); ++i) {
      longest_gap = std::max(longest_gap, enqueued[i] - enqueued[i - 1]);
    }
    ASSERT_GE(longest_gap, in_force) << "frames enqueued during the fault went through";
    GTEST_SKIP() << "the traffic thread enqueued nothing for " << time_base.ToNs(longest_gap) / 1e6
                 << " ms, while the fault was in force (a busy machine): nothing to check";
  }
  ASSERT_EQ(runs.size(), 3u) << Describe(runs);
  EXPECT_TRUE(runs[0].out && !runs[1].out && runs[2].out) << Describe(runs);
  EXPECT_EQ(runs[1].count, stopped) << Describe(runs);
  const nlohmann::json& last = status["events"].back();
  EXPECT_LE(runs[2].first,
            FirstEnqueuedAfter(enqueued,
                               zero_latest + time_base.FromNs(last["applied_ns"].get<uint64_t>())))
      << "frames enqueued after the last step was installed were stopped: " << Describe(runs);
  for (const nlohmann::json& step : status["events"]) {
    EXPECT_EQ(step["state"], "applied") << step;
    EXPECT_GE(step["applied_ns"].get<uint64_t>(), step["scheduled_ns"].get<uint64_t>())
        << "installed before its time: " << step;
    std::printf("[ measured ] step %s: scheduled %.3f ms, applied %.3f ms, lateness %.1f us\n",
                step["description"].get<std::string>().c_str(),
                step["scheduled_ns"].get<double>() / 1e6, step["applied_ns"].get<double>() / 1e6,
                step["lateness_ns"].get<double>() / 1e3);
  }
  std::printf(
      "[ measured ] stopped frames %zu..%zu, enqueued %.3f ms to %.3f ms after the latest "
      "time zero\n",
      runs[1].first, runs[1].first + runs[1].count - 1,
      (static_cast<double>(enqueued[runs[1].first]) - static_cast<double>(zero_latest)) /
          time_base.hz * 1e3,
      (static_cast<double>(enqueued[runs[1].first + runs[1].count - 1]) -
       static_cast<double>(zero_latest)) /
          time_base.hz * 1e3);
}

// A trace started over the socket changes the dataplane at its scheduled moments: a partition
// at 300 ms and a heal at 700 ms from time zero.
TEST_F(RunningDataplaneTest, TraceChangesBehaviourAtItsScheduledMoments) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  Sleep(milliseconds(100));
  const std::string trace = R"(version: 1
name: cut-and-heal
events:
  - at: 300ms
    partition: {from: rack-a, to: rack-b, name: cut}
  - at: 700ms
    heal: partitions
)";
  constexpr uint64_t kLeadNs = 100'000'000;  // --at +100ms
  nlohmann::json response = Request(
      {{"command", "trace-start"}, {"trace", trace}, {"name", "cut.yaml"}, {"at", "+100ms"}});
  const uint64_t answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["trace"]["state"], "running");
  // Time zero is at most this (the lead after the answer).
  const uint64_t zero_latest = answered + Tsc(kLeadNs);

  const nlohmann::json status = TraceWhenOver();
  StopTraffic(/*drain=*/true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();

  ASSERT_EQ(status["state"], "finished") << status.dump(2);
  EXPECT_EQ(status["steps_applied"], 2) << status.dump(2);
  ASSERT_EQ(status["events"].size(), 2u) << status.dump(2);
  EXPECT_EQ(status["lateness_ns"]["count"], 2);
  const uint64_t cut = stats["dropped"]["partition"];
  // Every frame is accounted for: out, or cut by the partition.
  EXPECT_EQ(received_.load() + cut, enqueued_.size());
  ExpectStoppedOnce(Deliveries(), enqueued_, cut, status, time_base_, zero_latest);
}

// A trace's link event: side b down for 200 ms drops frames as `link-down`, then traffic resumes.
TEST_F(RunningDataplaneTest, TraceLinkDownDropsFramesAndTrafficResumes) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  Sleep(milliseconds(100));
  const std::string trace = R"(version: 1
name: link-b-down
events:
  - at: 0s
    link: {side: b, state: down, for: 200ms}
)";
  nlohmann::json response =
      Request({{"command", "trace-start"}, {"trace", trace}, {"at", "+100ms"}});
  const uint64_t answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  const uint64_t zero_latest = answered + Tsc(100'000'000);

  const nlohmann::json status = TraceWhenOver();
  StopTraffic(/*drain=*/true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();

  ASSERT_EQ(status["state"], "finished") << status.dump(2);
  EXPECT_EQ(status["steps_applied"], 2) << "down, and the implied up: " << status.dump(2);
  const uint64_t link_down = stats["dropped"]["link-down"];
  EXPECT_EQ(received_.load() + link_down, enqueued_.size());
  ExpectStoppedOnce(Deliveries(), enqueued_, link_down, status, time_base_, zero_latest);
}

// `trace stop` ends the faults a trace made: a partition and a link it took down are gone, the
// profile the trace started from is back, and frames flow again.
TEST_F(RunningDataplaneTest, TraceStopEndsTheTracesFaults) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  StatsWhen([](const nlohmann::json& stats) { return stats["ports"][1]["tx"] >= 100; });
  const std::string trace = R"(version: 1
name: cut-until-stopped
events:
  - at: 0s
    partition: {from: rack-a, to: rack-b, name: cut}
  - at: 0s
    link: {side: b, state: down}
  - at: 1h
    heal: all
)";
  nlohmann::json response =
      Request({{"command", "trace-start"}, {"trace", trace}, {"at", "+50ms"}});
  ASSERT_EQ(response.value("ok", false), true) << response;
  const nlohmann::json stopping =
      StatsWhen([](const nlohmann::json& stats) { return stats["dropped"]["link-down"] >= 100; });
  response = Request({{"command", "trace-stop"}});
  const uint64_t stop_answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["restored"], true);
  EXPECT_EQ(response["partitions"], 0) << response;
  EXPECT_EQ(response["links"], (nlohmann::json{{"a", "up"}, {"b", "up"}})) << response;
  const uint64_t out_at_stop = Stats()["ports"][1]["tx"];
  StatsWhen([out_at_stop](const nlohmann::json& stats) {
    return stats["ports"][1]["tx"] >= out_at_stop + 100;
  });
  StopTraffic(/*drain=*/true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();
  const uint64_t link_down = stats["dropped"]["link-down"];
  EXPECT_EQ(received_.load() + link_down + stats["dropped"]["partition"].get<uint64_t>(),
            enqueued_.size());
  const std::vector<FateRun> runs = Runs(Deliveries());
  std::printf("[ measured ] link-down drops %lu; runs:%s\n", link_down, Describe(runs).c_str());
  ASSERT_EQ(runs.size(), 3u) << Describe(runs);
  EXPECT_TRUE(runs[0].out && !runs[1].out && runs[2].out);
  EXPECT_LE(runs[2].first, FirstEnqueuedAfter(enqueued_, stop_answered))
      << "frames enqueued after the stop was answered were stopped";
}

// A healed partition's counters stay in the statistics as history; `stats` with reset sets every
// counter and histogram to 0 at one instant of the worker's, and says what they held: the counts
// before plus the counts after are exactly the frames sent, and the history is gone.
TEST_F(RunningDataplaneTest, ResetZeroesEveryCounterAtOneInstantAndEndsTheHistory) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  auto matched = [](const nlohmann::json& stats) {
    return Rule(stats, "a-to-b").value("matched", uint64_t{0});
  };
  StatsWhen([&](const nlohmann::json& s) { return matched(s) >= 100; });
  const std::string partitioned =
      std::string(kProfileA) + "partitions:\n  - {from: rack-a, to: rack-b, name: cut-ab}\n";
  ASSERT_EQ(Apply(partitioned).value("ok", false), true);
  StatsWhen([](const nlohmann::json& s) {
    return !s["partitions"].empty() && s["partitions"][0]["dropped"] >= 100;
  });
  ASSERT_EQ(Request({{"command", "heal"}}).value("ok", false), true);
  nlohmann::json stats = Stats();
  ASSERT_EQ(stats["partitions"].size(), 1u) << "the healed partition stays as history";
  EXPECT_EQ(stats["partitions"][0]["name"], "cut-ab");
  EXPECT_EQ(stats["partitions"][0]["in_force"], false);
  const uint64_t cut = stats["partitions"][0]["dropped"];
  EXPECT_GE(cut, 100u);
  StatsWhen([&](const nlohmann::json& s) { return matched(s) >= matched(stats) + 100; });

  const nlohmann::json reset = Request({{"command", "stats"}, {"reset", true}});
  ASSERT_EQ(reset.value("ok", false), true) << reset;
  EXPECT_EQ(reset["rules_reset"], 2);
  EXPECT_EQ(reset["reset"]["dropped"]["partition"], cut) << "the history is in what was reset";
  EXPECT_EQ(reset["reset"]["resets"], 1);
  stats = Stats();
  EXPECT_TRUE(stats["partitions"].empty()) << "history ends at a reset: " << stats["partitions"];
  EXPECT_EQ(stats["resets"], 1);
  StatsWhen([&](const nlohmann::json& s) { return matched(s) >= 100; });

  StopTraffic(/*drain=*/true, /*dropped_before_reset=*/cut);
  stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();
  const uint64_t rx_before = reset["reset"]["ports"][0]["rx"], rx_after = stats["ports"][0]["rx"];
  const uint64_t tx_before = reset["reset"]["ports"][1]["tx"], tx_after = stats["ports"][1]["tx"];
  std::printf(
      "[ measured ] %zu frames: %lu received before the reset, %lu after; %lu held "
      "across it\n",
      enqueued_.size(), rx_before, rx_after, reset["reset"]["held"].get<uint64_t>());
  // Every frame counted once, on one side of the reset.
  EXPECT_EQ(rx_before + rx_after, enqueued_.size());
  EXPECT_EQ(tx_before + tx_after, received_.load());
  EXPECT_EQ(received_.load() + cut, enqueued_.size());
  // The ports' and the rules' counters went to 0 at the same instant.
  EXPECT_EQ(matched(stats), rx_after);
  EXPECT_EQ(stats["dropped"]["partition"], 0);
  // The delay is recorded at the transmit call: only frames sent after the reset may count.
  EXPECT_LE(Rule(stats, "a-to-b")["delay_ns"]["count"].get<uint64_t>(), tx_after)
      << "the delay histogram was reset too";
}

// Clients that send garbage, a 100 MB line, nothing, or never read their answers disturb neither
// the forwarding nor a well-behaved client.
TEST_F(RunningDataplaneTest, HostileClientsDisturbNeitherForwardingNorOtherClients) {
  control_options_.idle_timeout = kClientDeadline;
  control_options_.request_timeout = kClientDeadline;
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  Sleep(milliseconds(100));
  const uint64_t hostile_start = rte_rdtsc();

  // (c) Connect and hang: some say nothing, one stops half-way through a request.
  std::vector<std::unique_ptr<RawClient>> hanging;
  for (int i = 0; i < 8; ++i) {
    hanging.push_back(std::make_unique<RawClient>(SocketPath()));
    ASSERT_TRUE(hanging.back()->connected());
  }
  const std::string half = "{\"command\": \"st";
  ASSERT_EQ(hanging.back()->SendSome(half), half.size());

  // (b) A 100 MB request line, written from a thread until the server refuses it.
  RawClient huge(SocketPath());
  ASSERT_TRUE(huge.connected());
  std::atomic<uint64_t> huge_sent{0};
  std::thread huge_writer([&] {
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 100; ++i) {
      const size_t sent = huge.SendSome(chunk, kStallBound);
      huge_sent += sent;
      if (sent < chunk.size()) return;  // refused and closed
    }
  });

  // (d) Requests whose (large) answers are never read.
  RawClient deaf(SocketPath());
  ASSERT_TRUE(deaf.connected());
  const int small = 4096;
  setsockopt(deaf.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::string flood;
  for (int i = 0; i < 50'000; ++i) flood += "{\"command\":\"stats\",\"format\":\"text\"}\n";
  const size_t flooded = deaf.SendSome(flood, milliseconds(300));
  EXPECT_LT(flooded, flood.size())
      << "the server should stop reading from a client that never reads";

  // (a) Garbage: binary bytes, lines that are not JSON, not objects, not requests.
  RawClient garbage(SocketPath());
  ASSERT_TRUE(garbage.connected());
  std::mt19937 random(7);
  std::string noise(8192, '\0');
  for (char& byte : noise) byte = static_cast<char>(random() & 0xff);
  noise += "\n";
  ASSERT_EQ(garbage.SendSome(noise), noise.size());
  const std::string lines =
      "not json at all\n{\"command\": \"ping\"\n[1, 2, 3]\n\"text\"\n{\"command\": \"reboot\"}\n"
      "{\"command\": \"apply\", \"profile\": 7}\n{\"command\": \"ping\"}\n";
  ASSERT_EQ(garbage.SendSome(lines), lines.size());
  size_t errors = 0;
  bool pinged = false;
  for (std::optional<nlohmann::json> answer; !pinged && (answer = garbage.Receive());) {
    if (answer->is_object() && answer->value("ok", false) && answer->contains("workers")) {
      pinged = true;
    } else {
      ++errors;
      EXPECT_EQ(answer->value("code", ""), "bad-request") << *answer;
    }
  }
  EXPECT_TRUE(pinged) << "the garbage client's own ping got no answer";
  EXPECT_GE(errors, 6u) << "every bad line gets an error";

  // A well-behaved client meanwhile: ping and stats answered every time, and sooner than a server
  // blocked by the hostile clients could (it would answer only once it dropped them).
  Clock::duration slowest{};
  int answers = 0, unanswered = 0;
  const auto until = Clock::now() + milliseconds(1500);
  while (Clock::now() < until && unanswered == 0) {
    for (const char* command : {"ping", "stats"}) {
      const auto start = Clock::now();
      std::string error;
      bool connected = false;
      const std::optional<nlohmann::json> answer = ControlRequest(
          SocketPath(), {{"command", command}}, kClientDeadline / 2, &error, &connected);
      const Clock::duration took = Clock::now() - start;
      if (!answer) {
        ADD_FAILURE() << command << ": " << error;
        ++unanswered;
        break;
      }
      EXPECT_EQ(answer->value("ok", false), true) << *answer;
      EXPECT_LT(took, kClientDeadline / 2) << command;
      slowest = std::max(slowest, took);
      ++answers;
    }
    Sleep(milliseconds(50));
  }

  huge_writer.join();
  const std::optional<nlohmann::json> refusal = huge.Receive();
  ASSERT_TRUE(refusal.has_value()) << "the 100 MB request got no answer";
  EXPECT_EQ(refusal->value("code", ""), "bad-request") << *refusal;
  EXPECT_NE(refusal->value("error", "").find("request longer than 1048576 bytes"),
            std::string::npos)
      << *refusal;
  EXPECT_TRUE(huge.ClosedWithin(kStallBound));
  EXPECT_LT(huge_sent.load(), uint64_t{16} << 20) << "the server kept reading the huge line";
  const uint64_t hostile_end = rte_rdtsc();

  Sleep(milliseconds(50));
  StopTraffic(/*drain=*/true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();
  uint64_t dropped = 0;
  for (const auto& [cause, count] : stats["dropped"].items()) dropped += count.get<uint64_t>();
  EXPECT_EQ(dropped, 0u) << stats["dropped"];
  size_t missing = 0;
  for (unsigned count : Deliveries()) missing += count != 1;
  EXPECT_EQ(missing, 0u) << "of " << enqueued_.size() << " frames";
  const uint64_t gap = MaxGap(arrivals_, hostile_start, hostile_end);
  std::printf(
      "[ measured ] %d answers to the good client, slowest %.2f ms; the huge line was cut after "
      "%.2f MiB; %zu frames, max gap between dequeues %.3f ms\n",
      answers, std::chrono::duration<double, std::milli>(slowest).count(),
      static_cast<double>(huge_sent.load()) / (1 << 20), enqueued_.size(), Ms(gap));
}

}  // namespace
}  // namespace faultline

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  // Every snapshot with IPv4 groups holds a 64 MiB LPM table, and a change or a trace holds a few
  // at once: more EAL memory than the other EAL tests need.
  ::testing::AddGlobalTestEnvironment(new faultline::testing::EalEnvironment({"-m", "1024"}));
  return RUN_ALL_TESTS();
}
