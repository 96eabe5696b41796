// Partitions on real TCP, live: two racks of three hosts (network namespaces on a Linux bridge
// per side) that reach each other only through `faultline run`. Each case starts the dataplane
// with a profile naming every host as a group, then connects with tests/tcp_probe inside the
// hosts' namespaces: a one-way blackhole, fail-fast ICMP and TCP reset, and a live `apply` of a
// new-connections-only cut followed by `heal`.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "control/testbed/subprocess.h"
#include "control/testbed/testbed.h"
#include "tests/faultline_binary.h"

namespace faultline {
namespace {

using std::chrono::seconds;
using testing::FaultlineBinary;
using testing::kApplyTimeout;
using testing::RunFaultline;

constexpr const char* kTcpPort = "7000";
constexpr const char* kUdpPort = "7001";
// How long a probe waits for a connect, an answer or an echo that must come: a bound only a
// stalled machine reaches (each wait ends as soon as it comes).
constexpr int kAnswerMs = 10000;

std::string ProbeBinary() {
  const char* path = std::getenv("TCP_PROBE_BIN");
  return path ? path : "build/tests/tcp_probe";
}

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-partition-" + std::to_string(getpid()) +
         "-" + name;
}

struct ConnectResult {
  std::string outcome;  // "connected" or an errno name ("ETIMEDOUT", "EHOSTUNREACH", ...)
  long ms = -1;
  std::string output;
};

class PartitionEndToEndTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) return;
    signal(SIGPIPE, SIG_IGN);  // a probe that exits closes its stdin pipe
    std::string error;
    bed_ = Testbed::CreateBridged(3, &error).release();
    if (bed_ == nullptr) {
      setup_error_ = error;
      return;
    }
    // Echo servers where the cases connect to.
    for (const char* name : {"a1", "b1", "b2"}) {
      auto server = std::make_unique<Subprocess>();
      if (!server->Start(Probe(bed_->host(name), {"serve", kTcpPort}), &error) ||
          !server->WaitForOutput("listening", seconds(20))) {
        setup_error_ = std::string("echo server on ") + name + ": " + error + server->output();
        return;
      }
      servers_.push_back(std::move(server));
    }
  }

  static void TearDownTestSuite() {
    servers_.clear();  // killed by PID
    delete bed_;       // kills whatever else runs in the namespaces and deletes them
    bed_ = nullptr;
  }

  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root for network namespaces";
    ASSERT_NE(bed_, nullptr) << setup_error_;
    ASSERT_TRUE(setup_error_.empty()) << setup_error_;
    socket_ = TempPath("control.sock");
  }

  void TearDown() override {
    if (dataplane_) {
      EXPECT_EQ(dataplane_->Stop(SIGTERM, seconds(10)), 0) << dataplane_->output();
      dataplane_.reset();
    }
    for (const std::string& file : files_) unlink(file.c_str());
  }

  static std::vector<std::string> Probe(const TestbedHost& host,
                                        const std::vector<std::string>& args) {
    std::vector<std::string> argv = bed_->ExecArgv(host);
    argv.push_back(ProbeBinary());
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // A profile with every host as a group of its own and `partitions` (YAML list items) if any.
  std::string WriteProfile(const std::string& name, const std::string& partitions) {
    std::string text = "version: 1\ngroups:\n";
    for (const TestbedHost& host : bed_->hosts()) {
      text += "  " + host.name + ": [" + host.address + "]\n";
    }
    if (!partitions.empty()) text += "partitions:\n" + partitions;
    const std::string path = TempPath(name);
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }

  void StartDataplane(const std::string& profile) {
    const unsigned lcore = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
    std::vector<std::string> argv = {
        FaultlineBinary(), "run",         "--profile", profile,        "--control",
        socket_,           "--hold",      "65536",     "--idle-sleep", "20us",
        "--apply-timeout", kApplyTimeout, "--"};
    for (const std::string& arg : bed_->EalArgs(lcore)) argv.push_back(arg);
    dataplane_ = std::make_unique<Subprocess>();
    std::string error;
    ASSERT_TRUE(dataplane_->Start(argv, &error)) << error;
    ASSERT_TRUE(dataplane_->WaitForOutput("faultline: forwarding", seconds(20)))
        << dataplane_->output();
  }

  static ConnectResult Connect(const std::string& from, const std::string& to, int timeout_ms) {
    Subprocess probe;
    std::string error;
    ConnectResult result;
    if (!probe.Start(Probe(bed_->host(from), {"connect", bed_->host(to).address, kTcpPort,
                                              std::to_string(timeout_ms)}),
                     &error)) {
      result.outcome = error;
      return result;
    }
    probe.Wait(std::chrono::milliseconds(timeout_ms) + seconds(5));
    result.output = probe.output();
    char word[64] = "";
    if (std::sscanf(result.output.c_str(), "%63s %ld", word, &result.ms) == 2) {
      result.outcome = word;
    }
    return result;
  }

  // `count` UDP datagrams from one host to another: how many arrived.
  // The wait for the last one ends as soon as it arrives; a direction that is cut waits it all.
  static int UdpDelivered(const std::string& from, const std::string& to, int count,
                          std::chrono::milliseconds wait_for_last = seconds(10)) {
    Subprocess listener;
    std::string error;
    if (!listener.Start(Probe(bed_->host(to), {"udp-listen", kUdpPort}), &error) ||
        !listener.WaitForOutput("listening", seconds(20))) {
      return -1;
    }
    Subprocess sender;
    if (!sender.Start(Probe(bed_->host(from),
                            {"udp-send", bed_->host(to).address, kUdpPort, std::to_string(count)}),
                      &error)) {
      return -1;
    }
    sender.Wait(seconds(10));
    listener.WaitForOutput("datagram probe " + std::to_string(count - 1), wait_for_last);
    listener.Stop(SIGKILL, seconds(2));
    int delivered = 0;
    for (size_t at = listener.output().find("datagram "); at != std::string::npos;
         at = listener.output().find("datagram ", at + 1)) {
      ++delivered;
    }
    return delivered;
  }

  static inline Testbed* bed_ = nullptr;
  static inline std::string setup_error_;
  static inline std::vector<std::unique_ptr<Subprocess>> servers_;
  std::unique_ptr<Subprocess> dataplane_;
  std::string socket_;
  std::vector<std::string> files_;
};

// The bed itself: no path between the racks without the dataplane; with it (and no partition)
// every host reaches its counterpart both ways, by TCP and UDP.
TEST_F(PartitionEndToEndTest, WithoutPartitionsTheRacksReachEachOtherOnlyThroughFaultline) {
  EXPECT_NE(Connect("a1", "b1", 500).outcome, "connected") << "a path around the dataplane";
  ASSERT_NO_FATAL_FAILURE(StartDataplane(WriteProfile("open.yaml", "")));
  for (const auto& [from, to] : {std::pair{"a1", "b1"}, {"b1", "a1"}, {"a2", "b2"}}) {
    const ConnectResult result = Connect(from, to, kAnswerMs);
    EXPECT_EQ(result.outcome, "connected") << from << " -> " << to << ": " << result.output;
  }
  EXPECT_EQ(UdpDelivered("b1", "a1", 20), 20);
  EXPECT_EQ(UdpDelivered("a1", "b1", 20), 20);
}

// (a) A one-way blackhole: a1's frames to b1 vanish, so a1 cannot connect (the SYN is lost and
// the connect times out), while b1's datagrams still reach a1 and other hosts are unaffected.
// (b1 -> a1 TCP cannot work either: a1's SYN-ACK is a frame from a1 to b1.)
TEST_F(PartitionEndToEndTest, OneWayDropTimesOutThatDirectionOnly) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(WriteProfile("drop.yaml", "  - {from: a1, to: b1}\n")));
  const ConnectResult other = Connect("a2", "b2", kAnswerMs);
  EXPECT_EQ(other.outcome, "connected") << other.output << dataplane_->output();

  const ConnectResult cut = Connect("a1", "b1", 1500);
  EXPECT_EQ(cut.outcome, "ETIMEDOUT") << cut.output << dataplane_->output();
  EXPECT_GE(cut.ms, 1400) << cut.output;

  EXPECT_GE(UdpDelivered("b1", "a1", 20), 15) << "b1 -> a1 is not cut";
  EXPECT_EQ(UdpDelivered("a1", "b1", 20, seconds(1)), 0) << "a1 -> b1 is cut";
}

// (b) mode icmp-unreachable: the appliance answers the SYN with ICMP host unreachable.
TEST_F(PartitionEndToEndTest, IcmpUnreachableFailsTheConnectAtOnce) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(
      WriteProfile("icmp.yaml", "  - {from: a1, to: b1, mode: icmp-unreachable}\n")));
  // The answer, not the time it took, is what shows: a silent cut ends in ETIMEDOUT instead.
  const ConnectResult cut = Connect("a1", "b1", kAnswerMs);
  EXPECT_EQ(cut.outcome, "EHOSTUNREACH") << cut.output << dataplane_->output();
  std::printf("[ measured ] connect failed with EHOSTUNREACH after %ld ms\n", cut.ms);
  EXPECT_EQ(Connect("a2", "b2", kAnswerMs).outcome, "connected");
}

// (c) mode tcp-reset: the appliance answers the SYN with a RST, as a host without a listener.
TEST_F(PartitionEndToEndTest, TcpResetRefusesTheConnectAtOnce) {
  ASSERT_NO_FATAL_FAILURE(
      StartDataplane(WriteProfile("reset.yaml", "  - {from: a1, to: b1, mode: tcp-reset}\n")));
  const ConnectResult cut = Connect("a1", "b1", kAnswerMs);
  EXPECT_EQ(cut.outcome, "ECONNREFUSED") << cut.output << dataplane_->output();
  std::printf("[ measured ] connect refused after %ld ms\n", cut.ms);
  EXPECT_EQ(Connect("a2", "b2", kAnswerMs).outcome, "connected");
}

// (d) A live `faultline apply` of a cut of new connections only: an established a1 -> b1
// connection keeps exchanging data both ways, a new a1 -> b1 connect times out, b1 -> a1 still
// connects. (e) After `faultline heal`, a1 connects to b1 again.
TEST_F(PartitionEndToEndTest, LiveApplyCutsNewConnectionsOnlyAndHealRestores) {
  ASSERT_NO_FATAL_FAILURE(StartDataplane(WriteProfile("open.yaml", "")));
  Subprocess held;
  std::string error;
  ASSERT_TRUE(held.Start(Probe(bed_->host("a1"), {"hold", bed_->host("b1").address, kTcpPort,
                                                  std::to_string(kAnswerMs)}),
                         &error, true))
      << error;
  ASSERT_TRUE(held.WaitForOutput("connected", seconds(20))) << held.output();
  ASSERT_TRUE(held.WriteInput("before\n"));
  ASSERT_TRUE(held.WaitForOutput("echo before", seconds(20))) << held.output();

  const std::string cut =
      WriteProfile("cut-new.yaml", "  - {from: a1, to: b1, connections: new}\n");
  const CommandResult applied = RunFaultline({"apply", cut, "--control", socket_});
  ASSERT_EQ(applied.status, 0) << applied.output;
  EXPECT_NE(applied.output.find("1 partition(s)"), std::string::npos) << applied.output;

  ASSERT_TRUE(held.WriteInput("after-apply\n"));
  EXPECT_TRUE(held.WaitForOutput("echo after-apply", seconds(20))) << held.output();
  const ConnectResult fresh = Connect("a1", "b1", 1500);
  EXPECT_EQ(fresh.outcome, "ETIMEDOUT") << fresh.output << dataplane_->output();
  const ConnectResult reverse = Connect("b1", "a1", kAnswerMs);
  EXPECT_EQ(reverse.outcome, "connected") << reverse.output;
  ASSERT_TRUE(held.WriteInput("still-open\n"));
  EXPECT_TRUE(held.WaitForOutput("echo still-open", seconds(20))) << held.output();
  EXPECT_EQ(held.output().find("lost"), std::string::npos) << held.output();

  const CommandResult healed = RunFaultline({"heal", "--control", socket_});
  ASSERT_EQ(healed.status, 0) << healed.output;
  EXPECT_NE(healed.output.find("0 partition(s)"), std::string::npos) << healed.output;
  const ConnectResult after_heal = Connect("a1", "b1", kAnswerMs);
  EXPECT_EQ(after_heal.outcome, "connected") << after_heal.output << dataplane_->output();
  held.Stop(SIGTERM, seconds(2));
}

}  // namespace
}  // namespace faultline
