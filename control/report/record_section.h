// The parts of the report that only a frame record (`--record`) can show, as the page's JSON:
// each rule's delay CDF from the exact per-frame residence of its delivered frames, a table per
// rule and direction of frames in, delivered, duplicate copies, answers and drops by cause next
// to the series' own totals for the same rules (a difference is shown, not hidden), and drops per
// second by cause on the series' time axis.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/report/record_summary.h"
#include "control/report/series_reader.h"

namespace faultline {

// The "record" object of the page's data. `series`: the series given with the record (null:
// none; times then count from the record's origin). `notes` gets a line for each difference
// between record and series and for a record that looks like another run's.
nlohmann::json RecordReportData(const RecordSummary& record, const Series* series,
                                std::vector<std::string>* notes);

// Points (delay_ms, P[delay <= delay]) of a residence histogram: (min, 0), then at most about
// `max_points` more (a point where the fraction grew by at least 1/max_points, and the last),
// each bucket at its largest value kept within the histogram's [min, max], so a constant reads
// exactly.
nlohmann::json HistogramCdf(const HistogramSummary& summary, size_t max_points = 1000);

}  // namespace faultline
