#include "control/testbed/demo.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "control/base/units.h"
#include "control/testbed/subprocess.h"
#include "control/testbed/testbed.h"

namespace faultline {
namespace {

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted.store(true); }

struct Measurement {
  std::optional<double> ping_ms;
  std::optional<double> tcp_mbps;
  std::string counters;
};

// Starts `faultline run --delay` on the bed's ports, measures ping and TCP, stops it.
bool Measure(const Testbed& bed, uint64_t delay_ns, int tcp_seconds, Measurement* out) {
  const unsigned lcore = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
  // A control socket of its own, so the demo runs beside a production `faultline run`.
  const std::string control = "/tmp/faultline-demo-" + std::to_string(getpid()) + ".sock";
  std::vector<std::string> argv = {
      SelfExecutable(), "run",   "--delay", FormatDuration(delay_ns), "--hold", "65536",
      "--control",      control, "--"};
  for (const std::string& arg : bed.EalArgs(lcore)) argv.push_back(arg);
  Subprocess dataplane;
  std::string error;
  if (!dataplane.Start(argv, &error) ||
      !dataplane.WaitForOutput("faultline: forwarding", std::chrono::seconds(20))) {
    std::fprintf(stderr, "faultline demo: the dataplane did not start: %s%s\n", error.c_str(),
                 dataplane.output().c_str());
    return false;
  }
  std::string log;
  std::printf("  delay %s: ping...", FormatDuration(delay_ns).c_str());
  std::fflush(stdout);
  if (const auto rtt = bed.Ping(bed.a(), bed.b(), 10, &log)) out->ping_ms = rtt->average_ms;
  if (!g_interrupted) {
    std::printf(" tcp...");
    std::fflush(stdout);
    out->tcp_mbps = bed.TcpMbps(bed.a(), bed.b(), tcp_seconds, &log);
  }
  std::printf(" done\n");
  const int status = dataplane.Stop(SIGTERM, std::chrono::seconds(10));
  const size_t stopped = dataplane.output().find("faultline: stopped\n");
  out->counters =
      stopped == std::string::npos ? dataplane.output() : dataplane.output().substr(stopped + 19);
  if (status != 0 || !out->ping_ms || !out->tcp_mbps) {
    std::fprintf(stderr, "faultline demo: measurement failed (dataplane exit %d)\n%s\n%s\n", status,
                 log.c_str(), dataplane.output().c_str());
    return false;
  }
  return true;
}

std::string Format(const std::optional<double>& value, const char* unit) {
  if (!value) return "-";
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f %s", *value, unit);
  return text;
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  for (const char* tool : {"ip", "ping", "iperf3", "ethtool"}) {
    if (RunShell(std::string("command -v ") + tool).status != 0) {
      std::fprintf(stderr, "faultline demo: '%s' is missing (run scripts/setup.sh)\n", tool);
      return 1;
    }
  }
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);

  std::string error;
  std::printf(
      "faultline demo: building a test bed: host a (10.77.0.1) and host b (10.77.0.2) in\n"
      "two network namespaces, joined only through faultline on net_af_packet ports\n");
  std::unique_ptr<Testbed> bed = Testbed::Create(&error);
  if (!bed) {
    std::fprintf(stderr, "faultline demo: %s\n", error.c_str());
    return 1;
  }
  Measurement plain, delayed;
  bool ok = Measure(*bed, 0, options.tcp_seconds, &plain);
  ok = ok && !g_interrupted && Measure(*bed, options.delay_ns, options.tcp_seconds, &delayed);
  bed.reset();  // tear down before reporting, so an interrupted demo leaves nothing behind
  if (g_interrupted) {
    std::fprintf(stderr, "faultline demo: interrupted; test bed removed\n");
    return 1;
  }
  if (!ok) return 1;

  const std::string delay = FormatDuration(options.delay_ns);
  std::printf("\n%-28s %16s %16s\n", "", "pass-through", ("delay " + delay).c_str());
  std::printf("%-28s %16s %16s\n", "ping a->b average RTT", Format(plain.ping_ms, "ms").c_str(),
              Format(delayed.ping_ms, "ms").c_str());
  std::printf("%-28s %16s %16s\n", "TCP a->b goodput (iperf3)",
              Format(plain.tcp_mbps, "Mbit/s").c_str(), Format(delayed.tcp_mbps, "Mbit/s").c_str());
  std::printf(
      "\nThe delay applies in each direction, so the RTT grows by 2 x %s = %.1f ms "
      "(measured: +%.2f ms).\n",
      delay.c_str(), 2 * options.delay_ns / 1e6, *delayed.ping_ms - *plain.ping_ms);
  std::printf("\nDataplane counters, pass-through run:\n%s", plain.counters.c_str());
  std::printf("\nDataplane counters, delayed run:\n%s", delayed.counters.c_str());
  std::printf("\nTest bed removed. Next: docs/architecture.md, `faultline replay --help`.\n");
  return 0;
}

}  // namespace faultline
