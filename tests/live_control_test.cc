// A running dataplane changed through its control socket: one Worker on its own thread with the
// TSC clock, on two net_ring ports, fed by a traffic thread and drained by a consumer thread,
// with the control plane of `faultline run` (SnapshotPublisher, ControlCommands, a real
// ControlServer on a socket). Applies, heals and trace steps change behaviour at the right
// moments, without losing frames both profiles forward and without a forwarding gap; hostile
// clients of the socket disturb neither the forwarding nor the other clients.
//
// Frames carry their sequence number and the TSC at enqueue; the consumer records the TSC at
// dequeue. Bounds on time are generous (a shared two-core machine); the measured values are
// printed.
#include <gtest/gtest.h>
#include <rte_cycles.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "control/control_server.h"
#include "tests/eal_environment.h"
#include "tests/raw_socket_client.h"
#include "tests/running_dataplane.h"

namespace faultline {
namespace {

using std::chrono::milliseconds;
using testing::Arrival;
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

// Forwarding gaps and control answers: generous bounds for a loaded two-core machine.
constexpr uint64_t kMaxGapNs = 50'000'000;
constexpr auto kAnswerBound = milliseconds(1000);

// A live apply under load loses no frame that the old and the new profile would both have
// forwarded, and forwarding never stops: 50 round trips between profiles with other groups,
// rules (one new in front, one removed, one added), names and delays.
TEST_F(RunningDataplaneTest, ApplyUnderLoadLosesNothingBothProfilesForward) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  Sleep(milliseconds(200));
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

  ASSERT_GT(enqueued_.size(), 10'000u) << "too little traffic to say anything";
  EXPECT_EQ(stats["dropped"]["buffer_exhausted"], 0) << stats["dropped"];
  uint64_t dropped = 0;
  for (const auto& [cause, count] : stats["dropped"].items()) dropped += count.get<uint64_t>();
  EXPECT_EQ(dropped, 0u) << stats["dropped"];
  EXPECT_EQ(stats["ports"][0]["rx"], enqueued_.size());
  EXPECT_EQ(stats["ports"][1]["tx"], enqueued_.size());
  EXPECT_EQ(wrong_way_.load(), 0u);
  EXPECT_EQ(ring_full_.load(), 0u) << "the worker left side a's rx ring full";
  EXPECT_EQ(alloc_failures_.load(), 0u) << "mbufs ran out";
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
  std::printf(
      "[ measured ] %zu frames, %d applies in %.1f ms (mean %.2f ms, slowest %.2f ms); max gap "
      "between dequeues %.3f ms during the applies (%.3f ms before them); max frame latency "
      "during the applies %.3f ms\n",
      enqueued_.size(), 2 * kRoundTrips, Ms(applies_end - applies_start),
      Ms(total_apply) / (2 * kRoundTrips), Ms(slowest_apply), Ms(gap), Ms(quiet_gap), Ms(latency));
  EXPECT_LT(time_base_.ToNs(gap), kMaxGapNs) << "forwarding stopped during an apply";
}

// Apply a partition and a 100% loss rule, then heal each: counters go from 0 to more, frames stop
// coming out; after the heal they flow again and those counters stand still. Every frame sent
// came out or was counted as dropped.
TEST_F(RunningDataplaneTest, ApplyAndHealChangeWhatComesOutAndTheCounters) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(kProfileA));
  StartTraffic();
  Sleep(milliseconds(150));
  nlohmann::json stats = Stats();
  EXPECT_EQ(stats["dropped"]["partition"], 0);
  EXPECT_TRUE(stats["partitions"].empty());
  EXPECT_GT(Rule(stats, "a-to-b").value("matched", 0), 0);

  // A partition cuts rack-a -> rack-b.
  const std::string partitioned =
      std::string(kProfileA) + "partitions:\n  - {from: rack-a, to: rack-b, name: cut-ab}\n";
  nlohmann::json response = Apply(partitioned);
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["partitions"], 1);
  Sleep(milliseconds(20));  // frames held before the cut (100 us) leave
  const uint64_t out_at_cut = received_.load();
  const nlohmann::json cut_early = Stats();
  Sleep(milliseconds(200));
  EXPECT_EQ(received_.load(), out_at_cut) << "frames came out through the partition";
  stats = Stats();
  ASSERT_EQ(stats["partitions"].size(), 1u) << stats;
  EXPECT_EQ(stats["partitions"][0]["name"], "cut-ab");
  EXPECT_GT(stats["partitions"][0]["dropped"], 0);
  EXPECT_GT(stats["partitions"][0]["directions"]["a-to-b"]["dropped"], 0);
  EXPECT_EQ(stats["partitions"][0]["directions"]["b-to-a"]["dropped"], 0);
  EXPECT_GT(stats["dropped"]["partition"], cut_early["dropped"]["partition"]);
  EXPECT_EQ(Rule(stats, "a-to-b")["matched"], Rule(cut_early, "a-to-b")["matched"])
      << "partitions come before rules";

  response = Request({{"command", "heal"}});
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["partitions"], 0);
  Sleep(milliseconds(20));
  const uint64_t out_at_heal = received_.load();
  const nlohmann::json healed_early = Stats();
  Sleep(milliseconds(200));
  EXPECT_GT(received_.load(), out_at_heal + 1000) << "frames do not flow after the heal";
  stats = Stats();
  EXPECT_TRUE(stats["partitions"].empty()) << "heal removes the partitions and their counters";
  EXPECT_EQ(stats["dropped"]["partition"], healed_early["dropped"]["partition"]);
  EXPECT_GT(Rule(stats, "a-to-b")["matched"], Rule(healed_early, "a-to-b")["matched"]);

  // The same with a rule that loses everything, healed with `heal impairments`.
  std::string lossy = kProfileA;
  lossy.replace(lossy.find("  tiny:"), 7, "  gone:\n    loss: {probability: 100%}\n  tiny:");
  lossy.replace(lossy.find("impairment: short"), 17, "impairment: gone");
  EXPECT_EQ(Rule(stats, "a-to-b")["dropped"]["loss"], 0);
  response = Apply(lossy);
  ASSERT_EQ(response.value("ok", false), true) << response;
  Sleep(milliseconds(20));
  const uint64_t out_at_loss = received_.load();
  const nlohmann::json loss_early = Stats();
  Sleep(milliseconds(200));
  EXPECT_EQ(received_.load(), out_at_loss) << "frames came out of a 100% loss rule";
  stats = Stats();
  EXPECT_GT(Rule(stats, "a-to-b")["dropped"]["loss"],
            Rule(loss_early, "a-to-b")["dropped"]["loss"]);
  EXPECT_EQ(Rule(stats, "a-to-b")["impairment"], "gone");

  response = Request({{"command", "heal"}, {"what", "impairments"}});
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["impairments"], "healed");
  Sleep(milliseconds(20));
  const uint64_t out_at_heal_loss = received_.load();
  const nlohmann::json healed_loss = Stats();
  Sleep(milliseconds(200));
  EXPECT_GT(received_.load(), out_at_heal_loss + 1000) << "frames do not flow after the heal";
  stats = Stats();
  EXPECT_EQ(Rule(stats, "a-to-b")["dropped"]["loss"],
            Rule(healed_loss, "a-to-b")["dropped"]["loss"]);
  EXPECT_GT(stats["unmatched"], healed_loss["unmatched"]) << "no rule matches after the heal";

  StopTraffic(/*drain=*/true);
  stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();
  const uint64_t partition = stats["dropped"]["partition"], loss = stats["dropped"]["loss"];
  std::printf("[ measured ] %zu frames sent, %lu out, %lu cut by the partition, %lu lost\n",
              enqueued_.size(), received_.load(), partition, loss);
  EXPECT_EQ(received_.load() + partition + loss, enqueued_.size()) << stats["dropped"];
  for (unsigned count : Deliveries()) ASSERT_LE(count, 1u) << "a frame came out twice";
}

// The frames of each period, classified by when they were enqueued (TSC), with `margin` around
// each change.
struct Periods {
  size_t before_out = 0, before_lost = 0;  // must all come out
  size_t during_out = 0, during_lost = 0;  // must all be stopped
  size_t after_out = 0, after_lost = 0;    // must all come out
};

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
  const uint64_t request_sent = rte_rdtsc();
  nlohmann::json response = Request(
      {{"command", "trace-start"}, {"trace", trace}, {"name", "cut.yaml"}, {"at", "+100ms"}});
  const uint64_t answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  EXPECT_EQ(response["trace"]["state"], "running");
  // Time zero is between these two.
  const uint64_t zero_earliest = request_sent + Tsc(kLeadNs);
  const uint64_t zero_latest = answered + Tsc(kLeadNs);

  nlohmann::json status;
  const auto deadline = Clock::now() + milliseconds(3000);
  do {
    Sleep(milliseconds(20));
    status = Request({{"command", "trace-status"}})["trace"];
  } while (status["state"] == "running" && Clock::now() < deadline);
  Sleep(milliseconds(100));
  StopTraffic(/*drain=*/true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();

  ASSERT_EQ(status["state"], "finished") << status.dump(2);
  EXPECT_EQ(status["steps_applied"], 2) << status.dump(2);
  ASSERT_EQ(status["events"].size(), 2u) << status.dump(2);
  for (const nlohmann::json& step : status["events"]) {
    EXPECT_EQ(step["state"], "applied") << step;
    ASSERT_TRUE(step["lateness_ns"].is_number()) << step;
    std::printf("[ measured ] step %s: scheduled %.3f ms, applied %.3f ms, lateness %.1f us\n",
                step["description"].get<std::string>().c_str(),
                step["scheduled_ns"].get<double>() / 1e6, step["applied_ns"].get<double>() / 1e6,
                step["lateness_ns"].get<double>() / 1e3);
    EXPECT_LT(step["lateness_ns"].get<uint64_t>(), 20'000'000u) << step;
  }
  EXPECT_EQ(status["lateness_ns"]["count"], 2);
  EXPECT_GT(stats["dropped"]["partition"], 0);

  const uint64_t margin = Tsc(20'000'000);
  const uint64_t cut = Tsc(300'000'000), heal = Tsc(700'000'000);
  const std::vector<unsigned> deliveries = Deliveries();
  Periods periods;
  // The last frame out before the cut and the first after the heal, from time zero (earliest).
  uint64_t last_before_cut = 0, first_after_heal = UINT64_MAX;
  for (size_t sequence = 0; sequence < enqueued_.size(); ++sequence) {
    const uint64_t at = enqueued_[sequence];
    const bool out = deliveries[sequence] > 0;
    EXPECT_LE(deliveries[sequence], 1u);
    if (at + margin < zero_earliest + cut) {
      (out ? periods.before_out : periods.before_lost)++;
    } else if (at > zero_latest + cut + margin && at + margin < zero_earliest + heal) {
      (out ? periods.during_out : periods.during_lost)++;
    } else if (at > zero_latest + heal + margin) {
      (out ? periods.after_out : periods.after_lost)++;
    }
    if (out && at < zero_earliest + (cut + heal) / 2)
      last_before_cut = std::max(last_before_cut, at);
    if (out && at > zero_earliest + (cut + heal) / 2)
      first_after_heal = std::min(first_after_heal, at);
  }
  std::printf(
      "[ measured ] time zero known within %.3f ms; last frame out enqueued at %.3f ms, first "
      "after the heal at %.3f ms (from the earliest time zero)\n",
      Ms(zero_latest - zero_earliest), Ms(last_before_cut - zero_earliest),
      first_after_heal == UINT64_MAX ? -1.0 : Ms(first_after_heal - zero_earliest));
  EXPECT_EQ(periods.before_lost, 0u) << "frames before the partition were cut";
  EXPECT_EQ(periods.during_out, 0u) << "frames passed the partition";
  EXPECT_EQ(periods.after_lost, 0u) << "frames after the heal were cut";
  EXPECT_GT(periods.before_out, 1000u);
  EXPECT_GT(periods.during_lost, 1000u);
  EXPECT_GT(periods.after_out, 1000u);
  // Every frame is accounted for: out, or cut by the partition.
  EXPECT_EQ(received_.load() + stats["dropped"]["partition"].get<uint64_t>(), enqueued_.size());
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
  const uint64_t request_sent = rte_rdtsc();
  nlohmann::json response =
      Request({{"command", "trace-start"}, {"trace", trace}, {"at", "+100ms"}});
  const uint64_t answered = rte_rdtsc();
  ASSERT_EQ(response.value("ok", false), true) << response;
  const uint64_t zero_earliest = request_sent + Tsc(100'000'000);
  const uint64_t zero_latest = answered + Tsc(100'000'000);

  nlohmann::json status;
  const auto deadline = Clock::now() + milliseconds(3000);
  do {
    Sleep(milliseconds(20));
    status = Request({{"command", "trace-status"}})["trace"];
  } while (status["state"] == "running" && Clock::now() < deadline);
  Sleep(milliseconds(100));
  StopTraffic(/*drain=*/true);
  const nlohmann::json stats = Stats();
  stop_consumer_.store(true);
  consumer_thread_.join();

  ASSERT_EQ(status["state"], "finished") << status.dump(2);
  EXPECT_EQ(status["steps_applied"], 2) << "down, and the implied up: " << status.dump(2);
  for (const nlohmann::json& step : status["events"]) {
    ASSERT_TRUE(step["lateness_ns"].is_number()) << step;
    std::printf("[ measured ] step %s: lateness %.1f us\n",
                step["description"].get<std::string>().c_str(),
                step["lateness_ns"].get<double>() / 1e3);
    EXPECT_LT(step["lateness_ns"].get<uint64_t>(), 20'000'000u) << step;
  }
  const uint64_t link_down = stats["dropped"]["link-down"];
  EXPECT_GT(link_down, 0u) << stats["dropped"];

  const uint64_t margin = Tsc(20'000'000), up = Tsc(200'000'000);
  const std::vector<unsigned> deliveries = Deliveries();
  Periods periods;
  for (size_t sequence = 0; sequence < enqueued_.size(); ++sequence) {
    const uint64_t at = enqueued_[sequence];
    const bool out = deliveries[sequence] > 0;
    if (at + margin < zero_earliest) {
      (out ? periods.before_out : periods.before_lost)++;
    } else if (at > zero_latest + margin && at + margin < zero_earliest + up) {
      (out ? periods.during_out : periods.during_lost)++;
    } else if (at > zero_latest + up + margin) {
      (out ? periods.after_out : periods.after_lost)++;
    }
  }
  std::printf(
      "[ measured ] link-down drops %lu; periods out/stopped: before %zu/%zu, down %zu/%zu, "
      "after %zu/%zu\n",
      link_down, periods.before_out, periods.before_lost, periods.during_out, periods.during_lost,
      periods.after_out, periods.after_lost);
  EXPECT_EQ(periods.before_lost, 0u);
  EXPECT_EQ(periods.during_out, 0u) << "frames crossed a link that was down";
  EXPECT_EQ(periods.after_lost, 0u) << "traffic did not resume";
  EXPECT_GT(periods.during_lost, 500u);
  EXPECT_GT(periods.after_out, 500u);
  EXPECT_EQ(received_.load() + link_down, enqueued_.size());
}

// Clients that send garbage, a 100 MB line, nothing, or never read their answers disturb neither
// the forwarding nor a well-behaved client.
TEST_F(RunningDataplaneTest, HostileClientsDisturbNeitherForwardingNorOtherClients) {
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
      const size_t sent = huge.SendSome(chunk, milliseconds(3000));
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

  // A well-behaved client meanwhile: ping and stats answered within a second, every time.
  Clock::duration slowest{};
  int answers = 0, unanswered = 0;
  const auto until = Clock::now() + milliseconds(1500);
  while (Clock::now() < until && unanswered == 0) {
    for (const char* command : {"ping", "stats"}) {
      const auto start = Clock::now();
      std::string error;
      bool connected = false;
      const std::optional<nlohmann::json> answer =
          ControlRequest(SocketPath(), {{"command", command}}, kAnswerBound, &error, &connected);
      const Clock::duration took = Clock::now() - start;
      if (!answer) {
        ADD_FAILURE() << command << ": " << error;
        ++unanswered;
        break;
      }
      EXPECT_EQ(answer->value("ok", false), true) << *answer;
      EXPECT_LT(took, kAnswerBound) << command;
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
  EXPECT_TRUE(huge.ClosedWithin(milliseconds(1000)));
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
  EXPECT_LT(time_base_.ToNs(gap), kMaxGapNs);
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
