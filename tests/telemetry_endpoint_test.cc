// DPDK telemetry of `faultline run` (control/server/telemetry_endpoint.h): a live run on net_pcap
// ports forwards a capture of known frames; dpdk-telemetry.py (Debian: dpdk-dev), started as a
// process on the run's --file-prefix, reads /faultline/stats, /faultline/rules and
// /faultline/partitions, and every counter it shows equals the statistics document that
// `faultline stats --json` gives once the frames are through.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using std::chrono::seconds;
using testing::FaultlineBinary;
using testing::RunFaultline;

constexpr size_t kFrames = 2000;

class TelemetryEndpointTest : public ::testing::Test {
 protected:
  void TearDown() override {
    dataplane_.Stop(SIGTERM, seconds(10));
    // DPDK leaves the process's runtime directory (the telemetry socket's home) behind.
    std::error_code ignored;
    std::filesystem::remove_all("/var/run/dpdk/" + prefix_, ignored);
    for (const std::string& path : {input_, empty_, out_[0], out_[1]}) std::remove(path.c_str());
  }

  // `faultline stats --json` once side b has sent every frame (bounded: only a stalled machine
  // waits 30 s).
  nlohmann::json StatsWhenThrough() {
    const auto deadline = std::chrono::steady_clock::now() + seconds(30);
    nlohmann::json stats;
    do {
      const CommandResult result = RunFaultline({"stats", "--json", "--control", socket_});
      if (result.status == 0) stats = nlohmann::json::parse(result.output, nullptr, false);
      if (stats.is_object() && stats["ports"][1]["tx"] == kFrames) return stats;
      usleep(50'000);
    } while (std::chrono::steady_clock::now() < deadline);
    ADD_FAILURE() << "the frames never got through: " << stats;
    return stats;
  }

  // dpdk-telemetry.py's answers to `commands`, by command.
  nlohmann::json AskTelemetry(const std::vector<std::string>& commands) {
    Subprocess client;
    std::string error;
    EXPECT_TRUE(client.Start({"dpdk-telemetry.py", "-f", prefix_}, &error, /*pipe_input=*/true))
        << error;
    for (const std::string& command : commands) client.WriteInput(command + "\n");
    // The script answers each line and waits for more: the last answer ends the conversation.
    EXPECT_TRUE(client.WaitForOutput("{\"" + commands.back() + "\"", seconds(30)))
        << client.output();
    client.Stop(SIGTERM, seconds(10));
    return Answers(client.output());
  }

  static nlohmann::json Answers(const std::string& output) {
    nlohmann::json answers = nlohmann::json::object();
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
      const size_t brace = line.find('{');
      if (brace == std::string::npos) continue;
      const nlohmann::json answer = nlohmann::json::parse(line.substr(brace), nullptr, false);
      if (answer.is_object()) answers.update(answer);
    }
    return answers;
  }

  const std::string base_ = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                            "/faultline-telemetry-" + std::to_string(getpid());
  const std::string prefix_ = "faultline-telemetry-" + std::to_string(getpid());
  const std::string socket_ = base_ + ".sock";
  const std::string input_ = base_ + "-in.pcap";
  const std::string empty_ = base_ + "-empty.pcap";
  const std::string out_[2] = {base_ + "-out0.pcap", base_ + "-out1.pcap"};
  Subprocess dataplane_;
};

TEST_F(TelemetryEndpointTest, DpdkTelemetryShowsTheStatisticsDocument) {
  testing::UdpStreamOptions stream;
  stream.count = kFrames;
  testing::WritePcap(input_, testing::MakeUdpFrames(stream));
  testing::WritePcap(empty_, {});
  std::string error;
  ASSERT_TRUE(
      dataplane_.Start({FaultlineBinary(), "run", "--delay", "1ms", "--control", socket_, "--",
                        "--no-huge", "--no-pci", "-m", "512", "-l", "0", "--file-prefix", prefix_,
                        "--vdev=net_pcap0,rx_pcap=" + input_ + ",tx_pcap=" + out_[0],
                        "--vdev=net_pcap1,rx_pcap=" + empty_ + ",tx_pcap=" + out_[1]},
                       &error))
      << error;
  ASSERT_TRUE(dataplane_.WaitForOutput("faultline: forwarding", seconds(20)))
      << dataplane_.output();
  const nlohmann::json stats = StatsWhenThrough();

  const nlohmann::json answers =
      AskTelemetry({"/faultline/stats", "/faultline/rules", "/faultline/partitions"});
  ASSERT_TRUE(answers.contains("/faultline/stats")) << answers;
  const nlohmann::json& telemetry = answers["/faultline/stats"];
  for (int port = 0; port < 2; ++port) {
    const nlohmann::json& shown = telemetry["ports/" + std::to_string(port)];
    EXPECT_EQ(shown["rx"], stats["ports"][port]["rx"]) << port;
    EXPECT_EQ(shown["tx"], stats["ports"][port]["tx"]) << port;
  }
  EXPECT_EQ(telemetry["ports/0"]["rx"], kFrames);
  EXPECT_EQ(telemetry["ports/1"]["tx"], kFrames);
  for (const auto& [cause, count] : stats["dropped"].items()) {
    std::string name = cause;
    for (char& c : name) c = c == '-' ? '_' : c;
    EXPECT_EQ(telemetry["dropped"][name], count) << cause;
  }
  // The one rule of --delay, its counters and the a-to-b direction's, by name.
  ASSERT_EQ(stats["rules"].size(), 1u);
  const nlohmann::json& rule = stats["rules"][0];
  const nlohmann::json& shown = answers["/faultline/rules"][rule["name"].get<std::string>()];
  EXPECT_EQ(shown["forwarded"], kFrames);
  EXPECT_EQ(shown["forwarded"], rule["forwarded"]);
  EXPECT_EQ(shown["matched"], rule["matched"]);
  EXPECT_EQ(shown["directions/a_to_b/forwarded"], rule["directions"]["a-to-b"]["forwarded"]);
  EXPECT_EQ(answers["/faultline/partitions"], nlohmann::json::object());
}

}  // namespace
}  // namespace faultline
