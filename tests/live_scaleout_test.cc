// `faultline run --workers 2` as a process, with EAL mapping three lcores onto two CPUs
// (--lcores '0@0,1@0,2@1': the main lcore shares CPU 0 with worker lcore 1): two net_pcap ports
// of two rx queues, each queue fed by its own capture file (a flow per queue), as RSS would
// spread them. Every frame comes out or is counted, and each worker took exactly its queue's
// frames (the statistics document's per-worker counters: worker i polls rx queue i only).
// The workers sleep when idle (--idle-sleep), so two of them fit on this machine's two cores.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"
#include "tests/faultline_binary.h"
#include "tests/live_stats.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using std::chrono::seconds;
using testing::ControlSocket;
using testing::StatsWhen;

// Frames in each queue's file; different per queue so that a worker reading the other queue
// would show.
constexpr uint64_t kQueueFrames[2] = {1500, 2500};
constexpr uint64_t kTotal = 2 * (kQueueFrames[0] + kQueueFrames[1]);  // both ports

// port_q<queue>.pcap: one UDP flow per (port, queue), kQueueFrames[queue] frames.
std::string QueueFile(testing::TempFiles& paths, int port, int queue) {
  const std::string path =
      paths.Path("port" + std::to_string(port) + "_q" + std::to_string(queue) + ".pcap");
  testing::UdpStreamOptions options;
  options.count = kQueueFrames[queue];
  options.src_port_base = static_cast<uint16_t>(10'000 + 100 * port + queue);
  testing::WritePcap(path, testing::MakeUdpFrames(options));
  return path;
}

TEST(LiveScaleoutTest, TwoWorkersOnThreeLcoresOfTwoCpusForwardEveryFrame) {
  testing::TempFiles paths;
  const std::string stats = paths.Path("stats.json");
  std::vector<std::string> argv = {testing::FaultlineBinary(),
                                   "run",
                                   "--workers",
                                   "2",
                                   "--delay",
                                   "1ms",
                                   "--hold",
                                   "20000",
                                   "--idle-sleep",
                                   "50us",
                                   "--control",
                                   ControlSocket(),
                                   "--stats-json",
                                   stats,
                                   "--",
                                   "--no-huge",
                                   "--no-pci",
                                   "--no-shconf",
                                   "-m",
                                   "512",
                                   "--lcores",
                                   "0@0,1@0,2@1"};
  for (int port = 0; port < 2; ++port) {
    argv.push_back("--vdev=net_pcap" + std::to_string(port) + ",rx_pcap=" +
                   QueueFile(paths, port, 0) + ",rx_pcap=" + QueueFile(paths, port, 1));
  }
  Subprocess dataplane;
  std::string error;
  ASSERT_TRUE(dataplane.Start(argv, &error)) << error;
  ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20))) << dataplane.output();
  EXPECT_NE(dataplane.output().find("faultline: mbuf pool faultline_pool_s0 on socket 0: "),
            std::string::npos)
      << dataplane.output();
  StatsWhen([](const nlohmann::json& document) {
    return document["ports"][0]["rx"].get<uint64_t>() +
               document["ports"][1]["rx"].get<uint64_t>() ==
           kTotal;
  });
  ASSERT_EQ(dataplane.Stop(SIGTERM, seconds(10)), 0) << dataplane.output();

  const nlohmann::json document = nlohmann::json::parse(std::ifstream(stats));
  uint64_t rx = 0, tx = 0, dropped = 0;
  for (const nlohmann::json& port : document["ports"]) {
    rx += port["rx"].get<uint64_t>();
    tx += port["tx"].get<uint64_t>();
  }
  for (const auto& [cause, count] : document["dropped"].items()) dropped += count.get<uint64_t>();
  EXPECT_EQ(rx, kTotal);
  EXPECT_EQ(rx, tx + dropped) << document.dump();
  // Worker i (lcores 1 and 2, after the main lcore 0) polled queue i of both ports.
  ASSERT_EQ(document["workers"].size(), 2u) << document.dump();
  for (int worker = 0; worker < 2; ++worker) {
    const nlohmann::json& entry = document["workers"][worker];
    EXPECT_EQ(entry["lcore"], worker + 1);
    EXPECT_EQ(entry["socket"], 0);
    EXPECT_EQ(entry["rx"].get<uint64_t>(), 2 * kQueueFrames[worker]) << entry;
  }
}

}  // namespace
}  // namespace faultline
