// `faultline stats --watch`: what happened between two statistics documents of one dataplane, so
// each report says what the last interval did, not only the totals since the start.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace faultline {

// The counters of `current` minus those of `previous` (ports, drops by cause, per rule, per
// partition), with rates per second of the dataplane's own elapsed time between the two. If the
// statistics were reset in between (`resets` grew), the interval starts at that reset: it is
// `current` itself, and says so (`"reset": true`). Delay percentiles are not subtracted: they
// stay in the document, since the start or the last reset.
nlohmann::json StatsInterval(const nlohmann::json& previous, const nlohmann::json& current);

// The interval for people: a header line with the length and the ports' rates, then one line
// per rule and per partition that did something.
std::string IntervalText(const nlohmann::json& interval);

// The answer to `stats --reset` for people: what the counters held when they were reset.
std::string ResetText(const nlohmann::json& response);

// `stats --window`: per rule, the residence percentiles of the window (`window`, the answer's
// "window") beside the whole run's (`stats`, the statistics document), and the ports' lateness.
std::string WindowText(const nlohmann::json& window, const nlohmann::json& stats);

}  // namespace faultline
