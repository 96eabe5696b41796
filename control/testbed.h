// A two-host test bed on one machine: host a and host b live in their own network
// namespaces, each joined by a veth pair to the root namespace, where the dataplane's
// net_af_packet ports sit on the peers. Nothing joins the hosts except faultline.
//
//   [ns a: 10.77.0.1] veth ==== net_af_packet0 [faultline] net_af_packet1 ==== veth [ns
//   b: 10.77.0.2]
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/subprocess.h"

namespace faultline {

struct TestbedHost {
  std::string netns;                // namespace of the host
  std::string interface;            // host's veth end, inside netns
  std::string address;              // IPv4 address of the host
  std::string dataplane_interface;  // veth peer in the root namespace, for net_af_packet
};

class Testbed {
 public:
  // Builds the bed with names unique to this process. Needs root, iproute2 and ethtool.
  static std::unique_ptr<Testbed> Create(std::string* error);
  ~Testbed();  // deletes the namespaces (and with them the veths)
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  const TestbedHost& a() const { return a_; }
  const TestbedHost& b() const { return b_; }

  // EAL arguments that put port 0 on host a's wire and port 1 on host b's.
  std::vector<std::string> EalArgs(unsigned lcore) const;

  // Runs a shell command inside a host's namespace.
  CommandResult Exec(const TestbedHost& host, const std::string& command) const;
  // argv prefix that runs a program inside a host's namespace.
  std::vector<std::string> ExecArgv(const TestbedHost& host) const;

  // Average ping round trip from one host to the other, in ms (nullopt if no reply came back).
  std::optional<double> PingAverageMs(const TestbedHost& from, const TestbedHost& to, int count,
                                      std::string* log) const;
  // TCP goodput of an iperf3 transfer from one host to the other, in Mbit/s.
  std::optional<double> TcpMbps(const TestbedHost& from, const TestbedHost& to, int seconds,
                                std::string* log) const;

 private:
  Testbed() = default;
  bool AddHost(TestbedHost& host, std::string* error);
  void Teardown();

  TestbedHost a_, b_;
};

}  // namespace faultline
