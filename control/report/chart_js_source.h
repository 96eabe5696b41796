// Chart.js as Debian's libjs-chart.js installs it, read at run time to be inlined into a report
// (the page must open offline). The lead's Debian package of faultline depends on libjs-chart.js.
#pragma once

#include <optional>
#include <string>

namespace faultline {

// Where libjs-chart.js installs its UMD build (Chart.js 3.9 in Debian 12).
inline constexpr const char* kChartJsPath = "/usr/share/javascript/chart.js/chart.min.js";

// The text of Chart.js at `path`; nullopt and *error naming the Debian package if it is missing.
std::optional<std::string> ReadChartJs(std::string* error, const std::string& path = kChartJsPath);

}  // namespace faultline
