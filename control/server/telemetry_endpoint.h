// DPDK telemetry for `faultline run`: /faultline/stats, /faultline/rules and /faultline/partitions
// registered with rte_telemetry, so that dpdk-telemetry.py (Debian: dpdk-dev) shows them beside
// the /ethdev/ counters (docs/formats.md, "DPDK telemetry"). The callbacks run on DPDK's telemetry
// thread; they get the statistics document from the control plane's own `stats` request (which
// reads the workers' single-writer counters and is serialised with every other request), so they
// never touch the workers or their locks.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

struct rte_tel_data;

namespace faultline {

// Registers the commands (once per process, after rte_eal_init) and answers them with `stats`
// (the statistics document, docs/formats.md) until DetachTelemetry. Returns false if DPDK refused
// the registration (then the run goes on without them).
bool AttachTelemetry(std::function<nlohmann::json()> stats);
// Stops answering (the commands stay registered and answer with an error); waits for a call in
// progress, so that what `stats` uses may go once this returns.
void DetachTelemetry();

// A JSON object as a telemetry dictionary: scalars as values (booleans 0/1, fractions as text),
// nested objects and arrays as containers of their scalars flattened to keys joined by '/'
// ("directions/a_to_b/dropped/loss"), arrays of objects as one container per element
// ("ports/0"). Names keep letters, digits, '_' and '/' (all telemetry accepts): any other
// character becomes '_'. Telemetry holds at most 256 entries a dictionary: entries past that are
// left out and "truncated" says how many.
void ToTelemetryDict(const nlohmann::json& object, rte_tel_data* d);

}  // namespace faultline
