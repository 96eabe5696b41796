// SIGTERM and SIGINT end `faultline run` promptly with its final statistics even while the
// control thread is busy with a request (a huge or hostile one): the stop does not wait for it.
// The daemon is tests/busy_control_daemon (the real RunWithControl with a request that keeps the
// control thread busy for a minute).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"
#include "tests/raw_socket_client.h"

namespace faultline {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-busystop-" + std::to_string(getpid()) +
         "-" + name;
}

TEST(BusyControlStopTest, StopSignalEndsTheRunWhileARequestIsRunning) {
  for (int stop_signal : {SIGTERM, SIGINT}) {
    const std::string socket = TempPath("control.sock"), stats = TempPath("stats.json");
    unlink(stats.c_str());
    Subprocess dataplane;
    std::string error;
    ASSERT_TRUE(dataplane.Start(
        {std::getenv("BUSY_CONTROL_DAEMON_BIN"), socket, stats, "--", "--no-huge", "--no-pci",
         "--no-shconf", "-m", "512", "-l", "0", "--vdev=net_null0", "--vdev=net_null1"},
        &error))
        << error;
    ASSERT_TRUE(dataplane.WaitForOutput("faultline: forwarding", seconds(20)))
        << dataplane.output();
    testing::RawClient client(socket);
    ASSERT_TRUE(client.connected());
    ASSERT_TRUE(client.Send("{\"command\": \"test-busy\"}\n"));
    ASSERT_TRUE(dataplane.WaitForOutput("busy with a request", seconds(10))) << dataplane.output();

    const auto signalled = Clock::now();
    // Without the fix the stop waited for the request (a minute): 10 s is far beyond any load.
    const int status = dataplane.Stop(stop_signal, seconds(10));
    const double took_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - signalled).count();
    std::printf("[ measured ] signal %d to exit with the control thread busy: %.1f ms\n",
                stop_signal, took_ms);
    const std::string& output = dataplane.output();
    EXPECT_EQ(status, 0) << output;
    EXPECT_NE(output.find("faultline: stopped"), std::string::npos) << output;
    EXPECT_NE(output.find("still busy with a request"), std::string::npos) << output;
    EXPECT_NE(output.find("port 1 (side b): rx "), std::string::npos) << output;
    // The final statistics document was written, with what was forwarded.
    std::ifstream file(stats);
    const nlohmann::json document = nlohmann::json::parse(file, nullptr, false);
    ASSERT_TRUE(document.is_object()) << "no statistics document at " << stats;
    // Every frame it took is accounted for (how many depends on the machine's load: none, when
    // the worker got no CPU before the signal).
    uint64_t in = 0, out = 0;
    for (const nlohmann::json& port : document["ports"]) {
      in += port["rx"].get<uint64_t>();
      out += port["tx"].get<uint64_t>();
    }
    // (`held` is what the stop found in flight, then freed: those are the `shutdown` drops.)
    EXPECT_EQ(in, out + document["dropped"]["shutdown"].get<uint64_t>()) << document.dump();
    struct stat unused;
    EXPECT_NE(lstat(socket.c_str(), &unused), 0) << "the socket file is left behind";
    unlink(stats.c_str());
  }
}

}  // namespace
}  // namespace faultline
