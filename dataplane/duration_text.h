// Durations for people to read in text output (`stats`, `trace status`, `validate`): short and
// rounded where the exact spelling would be a wall of digits. Files and JSON keep exact values.
#pragma once

#include <cstdint>
#include <string>

namespace faultline {

// The exact spelling when it is short ("800ms", "1500us", "59s", "30d", "0s"); otherwise rounded:
// "48m44.17s", "1d2h0m5s" (from a minute up, to 10 ms), "2.92s", "12.35ms", "1.23us" (below a
// minute, to two decimals of the largest unit that is at least 1).
std::string FormatHumanDuration(uint64_t ns);

}  // namespace faultline
