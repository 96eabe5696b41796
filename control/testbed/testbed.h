// Test beds on one machine, in network namespaces, where hosts can reach each other only
// through the dataplane's two net_af_packet ports (sitting on veths in the root namespace).
//
// Two hosts (Create: `faultline demo`, the live end-to-end test):
//   [ns a: 10.77.0.1] veth ==== net_af_packet0 [faultline] net_af_packet1 ==== veth [ns
//   b: 10.77.0.2]
//
// Two racks (CreateBridged: the partition tests): a Linux bridge per side, in a switch namespace
// of its own (so no firewall of the root namespace sees bridged frames), N hosts per side, all in
// one /24, so faultline is a bump in the wire between the two bridges:
//   a1 10.77.0.11 --+                                                     +-- b1 10.77.0.21
//   a2 10.77.0.12 --+-- bridge a == net_af_packet0 [faultline] net_af_packet1 == bridge b --+-- b2
//   ...           --+                                                     +-- ...
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"

namespace faultline {

struct TestbedHost {
  std::string name;       // "a", "b" (two hosts) or "a1", "a2", ..., "b1", ... (two racks)
  std::string netns;      // namespace of the host
  std::string interface;  // the host's veth end, inside netns
  std::string address;    // IPv4 address of the host
};

class Testbed {
 public:
  // Builds the two-host bed with names unique to this process. Needs root, iproute2, ethtool.
  static std::unique_ptr<Testbed> Create(std::string* error);
  // Builds the two-rack bed with `hosts_per_side` hosts on each side (at most 9).
  static std::unique_ptr<Testbed> CreateBridged(int hosts_per_side, std::string* error);
  ~Testbed();  // deletes the namespaces (and with them the veths and bridges)
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  // The first host of side a and of side b.
  const TestbedHost& a() const { return host(hosts_per_side_ == 0 ? "a" : "a1"); }
  const TestbedHost& b() const { return host(hosts_per_side_ == 0 ? "b" : "b1"); }
  // A host by name ("a2"); aborts on a name the bed does not have.
  const TestbedHost& host(const std::string& name) const;
  const std::vector<TestbedHost>& hosts() const { return hosts_; }

  // EAL arguments that put port 0 on side a's wire and port 1 on side b's.
  std::vector<std::string> EalArgs(unsigned lcore) const;

  // Runs a shell command inside a host's namespace.
  CommandResult Exec(const TestbedHost& host, const std::string& command) const;
  // argv prefix that runs a program inside a host's namespace.
  std::vector<std::string> ExecArgv(const TestbedHost& host) const;

  // Ping round trips from one host to the other, in ms (nullopt if no reply came back).
  struct PingRtt {
    double min_ms = 0, average_ms = 0, max_ms = 0;
  };
  std::optional<PingRtt> Ping(const TestbedHost& from, const TestbedHost& to, int count,
                              std::string* log) const;
  // TCP goodput of an iperf3 transfer from one host to the other, in Mbit/s.
  std::optional<double> TcpMbps(const TestbedHost& from, const TestbedHost& to, int seconds,
                                std::string* log) const;

 private:
  Testbed() = default;
  // Runs each step in the root namespace; on the first failure sets *error and returns false.
  static bool RunSteps(const std::vector<std::string>& steps, std::string* error);
  // Adds a host namespace whose veth peer (named `peer`) is created in namespace `peer_netns`
  // ("" for the root namespace).
  bool AddHost(TestbedHost host, const std::string& peer, const std::string& peer_netns,
               std::string* error);
  void Teardown();

  std::string tag_;         // unique prefix of every name this bed creates
  int hosts_per_side_ = 0;  // 0: the two-host bed
  std::vector<TestbedHost> hosts_;
  std::string port_a_, port_b_;  // root-namespace interfaces the dataplane opens
  std::string switch_netns_;     // two racks: where the bridges are
};

}  // namespace faultline
