// Control requests as a client sends them: each input is up to 8 request lines, answered in
// order by the control plane of a dataplane without workers (the publisher installs every change
// at once, as in tests/control_server_test's ControlCommandsTest). Each input gets a fresh
// publisher and command handler, so one input's applies and traces do not reach the next.
// Every line must get exactly one JSON object back with "ok", or nothing for a blank line.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "control/profile/profile_parser.h"
#include "control/server/control_commands.h"
#include "control/server/control_server.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/pipeline/snapshot_channel.h"
#include "dataplane/runtime/eal.h"

namespace {

using namespace faultline;

// The profile running when each input starts: no groups (no LPM tables to build per input),
// every kind of impairment, a partition.
constexpr char kRunning[] = R"(version: 1
seed: 5
impairments:
  slow: {delay: {base: 1ms, jitter: 100us, distribution: normal}}
  lossy: {loss: {model: gilbert-elliott, p: 1%}, duplicate: {probability: 1%}}
  narrow: {rate: {bandwidth: 10mbit, queue-limit: 100pkt, ecn-threshold: 10pkt}}
  paused: {stall: {for: 10ms, every: 1s}}
rules:
  - {name: r1, match: {proto: tcp}, impairment: slow}
  - {name: r2, match: {proto: udp}, impairment: lossy}
  - {name: r3, match: {dst-port: 80, proto: tcp}, impairment: narrow}
  - {name: r4, match: {}, impairment: paused}
partitions:
  - {from: 10.0.0.1, to: 10.0.0.2}
)";

const ProfileSpec& Running() {
  static const ProfileSpec running = [] {
    std::string error;
    std::optional<ProfileSpec> spec = ParseProfileText(kRunning, "running.yaml", &error);
    if (!spec) {
      std::fprintf(stderr, "control_fuzz: %s\n", error.c_str());
      std::abort();
    }
    return *spec;
  }();
  return running;
}

uint64_t SteadyNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string error;
  // Profiles with groups build DPDK LPM tables: room for a few at once.
  if (!InitEal(OfflineEalArgs(1024), &error) || !RegisterPacketMeta(&error)) {
    std::fprintf(stderr, "control_fuzz: %s\n", error.c_str());
    std::abort();
  }
  (void)Running();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const TimeBase time_base = TimeBase::ForHz(1'000'000'000);
  RuleIdentities identities;
  SnapshotPublisher publisher(
      {}, {}, CompileProfile(Running(), time_base, 77, CompileOptions{.identities = &identities}));
  LiveDataplane dataplane;
  dataplane.publisher = &publisher;
  dataplane.identities = &identities;
  dataplane.time_base = time_base;
  dataplane.now = SteadyNs;
  dataplane.stats = [] {
    StatsReport report;
    report.ports.resize(2);
    return report;
  };
  {
    ControlCommands commands(&dataplane);
    const ControlHandler handler = [&](const nlohmann::json& request) {
      return commands.Handle(request);
    };
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t start = 0;
    for (int line = 0; line < 8 && start <= input.size(); ++line) {
      const size_t end = std::min(input.find('\n', start), input.size());
      const std::string response = AnswerRequestLine(handler, input.substr(start, end - start));
      if (!response.empty()) {
        const nlohmann::json parsed = nlohmann::json::parse(response, nullptr, false);
        if (!parsed.is_object() || !parsed.contains("ok")) std::abort();
      }
      start = end + 1;
    }
  }  // stops a trace the input started
  publisher.Collect();
  return 0;
}
