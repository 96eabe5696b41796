// The report of a series as one self-contained HTML page: the series' figures as JSON in the page,
// Chart.js inlined, and the script that draws the charts (report_script.h). Nothing in it refers
// to the network, so it opens offline and can be mailed or archived as one file.
#pragma once

#include <string>
#include <vector>

#include "control/report/record_summary.h"
#include "control/report/series_reader.h"

namespace faultline {

// The figures the page plots, as JSON text (times in seconds from the header's start_ns,
// residence percentiles in microseconds, delay CDFs in milliseconds). `notes` gets one line per
// rule whose configured distribution could not be drawn (an unreadable table file, say).
std::string ReportData(const Series& series, std::vector<std::string>* notes);

// The whole page; `chart_js` is Chart.js's text (chart_js_source.h).
std::string RenderReportPage(const Series& series, const std::string& chart_js,
                             std::vector<std::string>* notes);

// With a frame record (record_section.h) and/or a series (either may be null, not both): the
// page's "record" part (null without one) and "has_series" (false: only the record's charts).
std::string ReportData(const Series* series, const RecordSummary* record,
                       std::vector<std::string>* notes);
std::string RenderReportPage(const Series* series, const RecordSummary* record,
                             const std::string& chart_js, std::vector<std::string>* notes);

}  // namespace faultline
