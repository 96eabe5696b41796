// Durations for people to read in text output (`stats`, `trace status`, `validate`): short and
// rounded where the exact spelling would be a wall of digits. Files and JSON keep exact values.
#pragma once

#include <cstdint>
#include <string>

namespace faultline {

// The exact spelling when it is short ("800ms", "59s", "30d", "0s"); otherwise rounded:
// "48m44.17s", "1d2h0m5s" (from a minute up, to 10 ms), "2.924s", "12.35ms", "1.5ms" (below a
// minute, to four significant digits of the largest unit that is at least 1).
std::string FormatHumanDuration(uint64_t ns);

}  // namespace faultline
