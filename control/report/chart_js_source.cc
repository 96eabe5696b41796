#include "control/report/chart_js_source.h"

#include "dataplane/config/regular_file.h"

namespace faultline {

std::optional<std::string> ReadChartJs(std::string* error, const std::string& path) {
  std::string why;
  std::optional<std::string> text = ReadRegularFile(path, &why);
  if (!text) {
    *error = why + " (the report inlines Chart.js from Debian's libjs-chart.js: apt-get install " +
             "libjs-chart.js)";
    return std::nullopt;
  }
  // The page inlines it in a <script> element, which the text must not close early.
  if (text->find("</script") != std::string::npos) {
    *error = path + ": contains \"</script\", cannot be inlined into the report";
    return std::nullopt;
  }
  return text;
}

}  // namespace faultline
