#include "control/testbed/testbed.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

namespace faultline {

namespace {

bool IsRoot(std::string* error) {
  if (geteuid() == 0) return true;
  *error = "the test bed needs root (network namespaces and veth pairs)";
  return false;
}

std::string UniqueTag() { return "fl" + std::to_string(getpid() % 10'000'000); }

}  // namespace

std::unique_ptr<Testbed> Testbed::Create(std::string* error) {
  if (!IsRoot(error)) return nullptr;
  std::unique_ptr<Testbed> bed(new Testbed());
  bed->tag_ = UniqueTag();
  bed->port_a_ = bed->tag_ + "ad";
  bed->port_b_ = bed->tag_ + "bd";
  const TestbedHost a{"a", bed->tag_ + "-a", bed->tag_ + "ah", "10.77.0.1"};
  const TestbedHost b{"b", bed->tag_ + "-b", bed->tag_ + "bh", "10.77.0.2"};
  for (const auto& [host, port] : {std::pair{a, bed->port_a_}, std::pair{b, bed->port_b_}}) {
    if (!bed->AddHost(host, port, "", error) ||
        !RunSteps(
            {"sysctl -qw net.ipv6.conf." + port + ".disable_ipv6=1", "ip link set " + port + " up"},
            error)) {
      return nullptr;
    }
  }
  return bed;
}

std::unique_ptr<Testbed> Testbed::CreateBridged(int hosts_per_side, std::string* error) {
  if (!IsRoot(error)) return nullptr;
  if (hosts_per_side < 1 || hosts_per_side > 9) {
    *error = "test bed: 1 to 9 hosts per side";
    return nullptr;
  }
  std::unique_ptr<Testbed> bed(new Testbed());
  bed->tag_ = UniqueTag();
  bed->hosts_per_side_ = hosts_per_side;
  bed->port_a_ = bed->tag_ + "ad";
  bed->port_b_ = bed->tag_ + "bd";
  bed->switch_netns_ = bed->tag_ + "-sw";
  const std::string in_switch = "ip -n " + bed->switch_netns_ + " ";
  std::vector<std::string> steps = {
      "ip netns add " + bed->switch_netns_,
      "ip netns exec " + bed->switch_netns_ + " sysctl -qw net.ipv6.conf.all.disable_ipv6=1",
      "ip netns exec " + bed->switch_netns_ + " sysctl -qw net.ipv6.conf.default.disable_ipv6=1",
      in_switch + "link set lo up",
  };
  for (const char* side : {"a", "b"}) {
    const std::string bridge = std::string("br-") + side;
    const std::string& port = side[0] == 'a' ? bed->port_a_ : bed->port_b_;
    // The dataplane's port: a veth from the root namespace onto the side's bridge.
    for (const std::string& step : {
             in_switch + "link add " + bridge + " type bridge",
             in_switch + "link set " + bridge + " up",
             "ip link add " + port + " type veth peer name port-" + side + " netns " +
                 bed->switch_netns_,
             "sysctl -qw net.ipv6.conf." + port + ".disable_ipv6=1",
             "ip link set " + port + " up",
             in_switch + "link set port-" + side + " master " + bridge + " up",
         }) {
      steps.push_back(step);
    }
  }
  if (!RunSteps(steps, error)) return nullptr;
  for (const char side : {'a', 'b'}) {
    for (int i = 1; i <= hosts_per_side; ++i) {
      const std::string name = std::string(1, side) + std::to_string(i);
      const std::string address = "10.77.0." + std::to_string((side == 'a' ? 10 : 20) + i);
      const TestbedHost host{name, bed->tag_ + "-" + name, "eth0", address};
      if (!bed->AddHost(host, name, bed->switch_netns_, error) ||
          !RunSteps({in_switch + "link set " + name + " master br-" + side + " up"}, error)) {
        return nullptr;
      }
    }
  }
  return bed;
}

bool Testbed::RunSteps(const std::vector<std::string>& steps, std::string* error) {
  for (const std::string& step : steps) {
    const CommandResult result = RunShell(step);
    if (result.status != 0) {
      *error = "test bed: '" + step + "' failed: " + result.output;
      return false;
    }
  }
  return true;
}

bool Testbed::AddHost(TestbedHost host, const std::string& peer, const std::string& peer_netns,
                      std::string* error) {
  hosts_.push_back(host);  // first, so that Teardown removes what a failed step leaves
  const std::string in_ns = "ip netns exec " + host.netns + " ";
  const std::string make_pair = (peer_netns.empty() ? "" : "ip -n " + peer_netns + " ") +
                                "link add " + peer + " type veth peer name " + host.interface +
                                " netns " + host.netns;
  // Hosts send real checksums: af_packet hands the dataplane what the veth sends, and a veth
  // with tx offload would send partial checksums (and TSO super-frames) that TCP then rejects.
  return RunSteps(
      {
          "ip netns add " + host.netns,
          (peer_netns.empty() ? "ip " : "") + make_pair,
          in_ns + "ip link set lo up",
          in_ns + "ip addr add " + host.address + "/24 dev " + host.interface,
          in_ns + "ip link set " + host.interface + " up",
          in_ns + "ethtool -K " + host.interface + " tx off",
      },
      error);
}

Testbed::~Testbed() { Teardown(); }

void Testbed::Teardown() {
  std::vector<std::string> namespaces;
  for (const TestbedHost& host : hosts_) namespaces.push_back(host.netns);
  if (!switch_netns_.empty()) namespaces.push_back(switch_netns_);
  for (const std::string& netns : namespaces) {
    RunShell("ip netns pids " + netns + " | xargs -r kill -9");
    RunShell("ip netns del " + netns + " 2>/dev/null");
  }
  for (const std::string& port : {port_a_, port_b_}) {
    if (!port.empty()) RunShell("ip link del " + port + " 2>/dev/null");
  }
}

const TestbedHost& Testbed::host(const std::string& name) const {
  for (const TestbedHost& host : hosts_) {
    if (host.name == name) return host;
  }
  std::fprintf(stderr, "test bed: no host named %s\n", name.c_str());
  std::abort();
}

std::vector<std::string> Testbed::EalArgs(unsigned lcore) const {
  return {"--no-pci",
          "--no-huge",
          "--no-shconf",
          "-m",
          "1024",
          "-l",
          std::to_string(lcore),
          "--vdev=net_af_packet0,iface=" + port_a_ + ",framecnt=8192",
          "--vdev=net_af_packet1,iface=" + port_b_ + ",framecnt=8192"};
}

CommandResult Testbed::Exec(const TestbedHost& host, const std::string& command) const {
  return RunShell("ip netns exec " + host.netns + " " + command);
}

std::vector<std::string> Testbed::ExecArgv(const TestbedHost& host) const {
  return {"ip", "netns", "exec", host.netns};
}

std::optional<Testbed::PingRtt> Testbed::Ping(const TestbedHost& from, const TestbedHost& to,
                                              int count, std::string* log) const {
  const CommandResult result =
      Exec(from, "ping -n -q -c " + std::to_string(count) + " -i 0.2 -W 3 " + to.address);
  *log += result.output;
  const size_t at = result.output.find("min/avg/max");
  if (at == std::string::npos) return std::nullopt;
  const size_t equals = result.output.find('=', at);
  PingRtt rtt;
  if (equals == std::string::npos || std::sscanf(result.output.c_str() + equals + 1, " %lf/%lf/%lf",
                                                 &rtt.min_ms, &rtt.average_ms, &rtt.max_ms) != 3) {
    return std::nullopt;
  }
  return rtt;
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
