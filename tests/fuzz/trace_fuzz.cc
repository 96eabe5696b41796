// Trace parser through its timeline: any bytes as a trace on a running profile with groups,
// rules and impairments. A valid trace is expanded step by step over two rounds and every step
// applied to the state, as validation and the live runner do; its step count must match
// EventStepCount and stay within kMaxTraceSteps a round.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "control/profile/profile_parser.h"
#include "control/trace/trace_parser.h"
#include "dataplane/config/trace_timeline.h"

namespace {

constexpr char kRunning[] = R"(version: 1
groups:
  rack-a: [10.0.1.0/24, "fd00:1::/64"]
  rack-b: [10.0.2.0/24]
  n3: [10.0.2.13, "02:00:00:00:02:0d"]
  n4: [10.0.2.14]
impairments:
  slow: {delay: {base: 5ms, jitter: 1ms}}
  flaky: {loss: {probability: 1%}}
  paused: {stall: {for: 100ms}}
rules:
  - {name: r1, match: {src: rack-a, dst: rack-b}, impairment: slow}
  - {name: r2, match: {proto: tcp, dst-port: 2379}, impairment: flaky}
partitions:
  - {isolate: n4, name: base-cut}
)";

const faultline::ProfileSpec& Running() {
  static const faultline::ProfileSpec running = [] {
    std::string error;
    std::optional<faultline::ProfileSpec> spec =
        faultline::ParseProfileText(kRunning, "running.yaml", &error);
    if (!spec) std::abort();
    return *spec;
  }();
  return running;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace faultline;
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const std::optional<TraceSpec> trace = ParseTraceText(text, "fuzz.yaml", "", &Running(), &error);
  if (!trace) {
    if (error.rfind("fuzz.yaml:", 0) != 0) std::abort();
    return 0;
  }
  (void)DescribeTrace(*trace);
  if (trace->events.size() > kMaxTraceEvents || trace->period_ns > kMaxTraceTimeNs) std::abort();
  uint64_t per_round = 0;
  for (const TraceEvent& event : trace->events) per_round += EventStepCount(event);
  if (per_round > kMaxTraceSteps) std::abort();

  TraceState state{.spec = trace->profile ? *trace->profile : Running(), .rules_active = true};
  TraceTimeline timeline(*trace);
  uint64_t steps = 0, last_at = 0;
  while (const std::optional<TraceStep> step = timeline.Next()) {
    if (step->round >= 2) break;
    if (step->at_ns < last_at) std::abort();  // time order
    last_at = step->at_ns;
    ++steps;
    // Validation played these very steps: none may fail now.
    if (!timeline.Apply(*step, &state).empty()) std::abort();
    if (state.spec.rules.size() > kMaxRules || state.spec.partitions.size() > kMaxPartitions) {
      std::abort();
    }
  }
  const uint64_t rounds = trace->repeat == 1 ? 1 : 2;
  if (steps != per_round * rounds) std::abort();
  // Scaled traces keep their order and never reach 0-length flaps.
  (void)ScaleTrace(*trace, 1000);
  return 0;
}
