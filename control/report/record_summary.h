// A frame record file (`--record`, docs/formats.md "Frame record") summarised for the report in
// one pass and bounded memory, whatever its size: per rule and direction the frames in, delivered,
// duplicate copies, partition answers and drops by cause; per rule the exact residence (departure
// - arrival) of every delivered frame in an HDR LatencyHistogram (dataplane/fastpath, 0.05%: no
// sampling); drops per second by cause. Read with the record file's own reader
// (dataplane/reporting/frame_record_file.h), so a damaged file is its error with the byte offset.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/latency_histogram.h"
#include "dataplane/reporting/frame_record_file.h"

namespace faultline {

inline constexpr int kRecordCauses = static_cast<int>(DropCause::kCount);

// The counts of one rule in one direction (or a whole rule: both directions added).
struct RecordCounts {
  uint64_t in = 0;          // input frames (copy original)
  uint64_t delivered = 0;   // records transmitted, copies and answers included
  uint64_t duplicates = 0;  // copies a duplicate rule made (transmitted or dropped)
  uint64_t answers = 0;     // answers a partition sent back
  std::array<uint64_t, kRecordCauses> dropped{};  // by DropCause
  uint64_t DroppedTotal() const;
  void Add(const RecordCounts& other);
};

// The rule name a summary uses for frames no rule matched.
inline constexpr char kNoRuleName[] = "(no rule)";

struct RecordSummary {
  RecordFileHeader header;
  uint64_t records = 0;
  uint64_t first_arrival_ns = UINT64_MAX, last_arrival_ns = 0;  // UINT64_MAX: no record
  // (rule name, direction 0 a-to-b / 1 b-to-a) -> counts.
  std::map<std::pair<std::string, int>, RecordCounts> counts;
  // Rule name -> residence of its delivered frames (ns), exact to 0.05%.
  std::map<std::string, std::unique_ptr<LatencyHistogram>> residence;
  // Drops per second by cause: bin i counts drops that arrived in [origin + i s, origin + i+1 s)
  // (earlier ones in bin 0; from kMaxDropSeconds on in the last bin).
  uint64_t origin_ns = 0;
  std::vector<std::array<uint64_t, kRecordCauses>> drops_per_second;

  RecordCounts RuleTotal(const std::string& rule) const;
};

// Bins of drops per second kept at most (a week); later drops fall in the last bin.
inline constexpr size_t kMaxDropSeconds = 7 * 86400;

// Reads the record file at `path` once. `origin_ns`: the time the drops per second count from
// (the series' start); nullopt: the record's own (its header's start for a live record, its
// first arrival for a virtual-time one). Nullopt and *error (the reader's, with the byte offset)
// for a file that cannot be read or is damaged.
std::optional<RecordSummary> SummarizeRecord(const std::string& path,
                                             std::optional<uint64_t> origin_ns, std::string* error);

}  // namespace faultline
