#include "control/testbed.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

namespace faultline {

std::unique_ptr<Testbed> Testbed::Create(std::string* error) {
  if (geteuid() != 0) {
    *error = "the test bed needs root (network namespaces and veth pairs)";
    return nullptr;
  }
  const std::string tag = "fl" + std::to_string(getpid() % 10'000'000);
  std::unique_ptr<Testbed> bed(new Testbed());
  bed->a_ = {tag + "-a", tag + "ah", "10.77.0.1", tag + "ad"};
  bed->b_ = {tag + "-b", tag + "bh", "10.77.0.2", tag + "bd"};
  if (!bed->AddHost(bed->a_, error) || !bed->AddHost(bed->b_, error)) return nullptr;
  return bed;
}

bool Testbed::AddHost(TestbedHost& host, std::string* error) {
  const std::string in_ns = "ip netns exec " + host.netns + " ";
  // Hosts send real checksums: af_packet hands the dataplane what the veth sends, and a veth
  // with tx offload would send partial checksums (and TSO super-frames) that TCP then rejects.
  const std::vector<std::string> steps = {
      "ip netns add " + host.netns,
      "ip link add " + host.dataplane_interface + " type veth peer name " + host.interface,
      "ip link set " + host.interface + " netns " + host.netns,
      in_ns + "ip link set lo up",
      in_ns + "ip addr add " + host.address + "/24 dev " + host.interface,
      in_ns + "ip link set " + host.interface + " up",
      in_ns + "ethtool -K " + host.interface + " tx off",
      "sysctl -qw net.ipv6.conf." + host.dataplane_interface + ".disable_ipv6=1",
      "ip link set " + host.dataplane_interface + " up",
  };
  for (const std::string& step : steps) {
    const CommandResult result = RunShell(step);
    if (result.status != 0) {
      *error = "test bed: '" + step + "' failed: " + result.output;
      return false;
    }
  }
  return true;
}

Testbed::~Testbed() { Teardown(); }

void Testbed::Teardown() {
  for (const TestbedHost* host : {&a_, &b_}) {
    if (host->netns.empty()) continue;
    RunShell("ip netns pids " + host->netns + " | xargs -r kill -9");
    RunShell("ip netns del " + host->netns);
    RunShell("ip link del " + host->dataplane_interface + " 2>/dev/null");
  }
}

std::vector<std::string> Testbed::EalArgs(unsigned lcore) const {
  return {"--no-pci",
          "--no-huge",
          "--no-shconf",
          "-m",
          "1024",
          "-l",
          std::to_string(lcore),
          "--vdev=net_af_packet0,iface=" + a_.dataplane_interface + ",framecnt=8192",
          "--vdev=net_af_packet1,iface=" + b_.dataplane_interface + ",framecnt=8192"};
}

CommandResult Testbed::Exec(const TestbedHost& host, const std::string& command) const {
  return RunShell("ip netns exec " + host.netns + " " + command);
}

std::vector<std::string> Testbed::ExecArgv(const TestbedHost& host) const {
  return {"ip", "netns", "exec", host.netns};
}

std::optional<double> Testbed::PingAverageMs(const TestbedHost& from, const TestbedHost& to,
                                             int count, std::string* log) const {
  const CommandResult result =
      Exec(from, "ping -n -q -c " + std::to_string(count) + " -i 0.2 -W 3 " + to.address);
  *log += result.output;
  const size_t at = result.output.find("min/avg/max");
  if (at == std::string::npos) return std::nullopt;
  const size_t equals = result.output.find('=', at);
  double min_ms, average_ms;
  if (equals == std::string::npos ||
      std::sscanf(result.output.c_str() + equals + 1, " %lf/%lf", &min_ms, &average_ms) != 2) {
    return std::nullopt;
  }
  return average_ms;
}

std::optional<double> Testbed::TcpMbps(const TestbedHost& from, const TestbedHost& to, int seconds,
                                       std::string* log) const {
  Subprocess server;
  std::vector<std::string> argv = ExecArgv(to);
  for (const char* arg : {"iperf3", "--server", "--one-off", "--forceflush", "--bind"})
    argv.push_back(arg);
  argv.push_back(to.address);
  std::string error;
  if (!server.Start(argv, &error) ||
      !server.WaitForOutput("Server listening", std::chrono::seconds(5))) {
    *log += "iperf3 server did not start: " + error + server.output();
    return std::nullopt;
  }
  const CommandResult client = Exec(from, "iperf3 --json --connect-timeout 3000 --client " +
                                              to.address + " --time " + std::to_string(seconds));
  server.Stop(SIGTERM, std::chrono::seconds(2));
  *log += client.output;
  const nlohmann::json report = nlohmann::json::parse(client.output, nullptr, false);
  if (report.is_discarded() || !report.contains("end") || !report["end"].contains("sum_received")) {
    return std::nullopt;
  }
  return report["end"]["sum_received"]["bits_per_second"].get<double>() / 1e6;
}

}  // namespace faultline
