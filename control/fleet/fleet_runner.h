// `faultline fleet FILE ...`: one command acting on every box of a fleet file, each through its
// HTTP API (POST /v1/request with a control-socket request, GET /v1/time).
//
// What happens on a partial failure (docs/formats.md, "fleet"): every command reports per box.
// apply validates the profile here first, then asks every box for the profile it shows and
// refuses to start if one cannot be reached or runs a trace; if a box then refuses the profile,
// the boxes already changed get the profile they showed before back, so the fleet stays on one
// profile. trace start likewise stops the trace on the boxes that started it when another box
// refuses it. heal, stats, trace stop and trace status go on to the other boxes and report the
// ones that failed. The exit status is the worst of the boxes': 0, 1 (a box unreachable or
// failed), 2 (refused as bad input).
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "control/fleet/fleet_file.h"

namespace faultline {

// How the fleet reaches one box. Request answers with the box's response object; a transport
// failure is {"ok": false, "code": "unreachable", "error": why}.
class BoxConnection {
 public:
  virtual ~BoxConnection() = default;
  virtual nlohmann::json Request(const nlohmann::json& request) = 0;
  // The box's wall clock (ns since the epoch), or nullopt with *error.
  virtual std::optional<int64_t> Time(std::string* error) = 0;
};

using BoxConnector = std::function<std::unique_ptr<BoxConnection>(const FleetBox&)>;

struct FleetTraceOptions {
  std::string file;
  double speed = 1;
  std::string at;                      // "" (2 s from now), "+DUR" or RFC 3339
  uint64_t max_offset_ns = 1'000'000;  // --max-offset
  bool offset_warn_only = false;       // --offset-warn-only
  int clock_samples = 5;               // GET /v1/time per box; the shortest round trip wins
};

class FleetRunner {
 public:
  FleetRunner(Fleet fleet, BoxConnector connect, std::ostream& out, std::ostream& err);
  ~FleetRunner();

  int Apply(const std::string& file);
  int Heal(const std::string& what);
  int Stats(bool json);
  int TraceStart(const FleetTraceOptions& options);
  int TraceStop(bool keep);
  int TraceStatus(bool json);

 private:
  // Sends `request` to box i; prints "box NAME: error" and raises *status on a refusal.
  std::optional<nlohmann::json> Ask(size_t i, const nlohmann::json& request, int* status);
  // Every box reachable and running no trace (ping); else reports and returns the status.
  int CheckReady(const char* command);
  // The clock offset of every box; a status > 0 when one is beyond the bound (and not warn-only).
  int CheckClocks(const FleetTraceOptions& options);
  // Time zero of a trace: options.at as an absolute wall-clock time in ns, or nullopt with the
  // error printed.
  std::optional<int64_t> TraceTimeZero(const std::string& at);

  Fleet fleet_;
  std::vector<std::unique_ptr<BoxConnection>> connections_;
  std::ostream& out_;
  std::ostream& err_;
};

// The exit status of a refused request (as over the socket): 1 for a runtime failure (failed,
// busy, unreachable), 2 for bad input.
int RefusalStatus(const nlohmann::json& response);

}  // namespace faultline
