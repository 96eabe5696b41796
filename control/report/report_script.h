// The fixed parts of the report page: its style, its body (one canvas per chart, the summary
// table) and the script that draws the charts with Chart.js from the page's JSON data. The script
// marks each chart's canvas data-rendered="1" once Chart.js drew it and counts them in the body's
// data-charts-rendered, which the rendering test reads from the DOM.
#pragma once

namespace faultline {

extern const char* const kReportStyle;
extern const char* const kReportBody;
extern const char* const kReportScript;

}  // namespace faultline
