#include "control/report/record_summary.h"

namespace faultline {

uint64_t RecordCounts::DroppedTotal() const {
  uint64_t total = 0;
  for (const uint64_t count : dropped) total += count;
  return total;
}

void RecordCounts::Add(const RecordCounts& other) {
  in += other.in;
  delivered += other.delivered;
  duplicates += other.duplicates;
  answers += other.answers;
  for (int cause = 0; cause < kRecordCauses; ++cause) dropped[cause] += other.dropped[cause];
}

RecordCounts RecordSummary::RuleTotal(const std::string& rule) const {
  RecordCounts total;
  for (const auto& [key, counts] : counts) {
    if (key.first == rule) total.Add(counts);
  }
  return total;
}

namespace {

// One record into the summary; `names` caches the rule names by id.
void Count(const FrameRecord& record, const RecordFileReader& reader,
           std::map<uint16_t, std::string>* names, RecordSummary* summary) {
  auto name = names->find(record.rule);
  if (name == names->end()) {
    const std::string text = reader.RuleName(record.rule);
    name = names->emplace(record.rule, text.empty() ? kNoRuleName : text).first;
  }
  RecordCounts& counts = summary->counts[{name->second, record.direction == 0 ? 0 : 1}];
  ++summary->records;
  summary->first_arrival_ns = std::min(summary->first_arrival_ns, record.arrival);
  summary->last_arrival_ns = std::max(summary->last_arrival_ns, record.arrival);
  if (record.copy == kCopyOriginal) ++counts.in;
  if (record.copy == kCopyDuplicate) ++counts.duplicates;
  if (record.copy == kCopyAnswer) ++counts.answers;
  if (record.fate == kFateTransmitted) {
    ++counts.delivered;
    std::unique_ptr<LatencyHistogram>& histogram = summary->residence[name->second];
    if (histogram == nullptr) histogram = std::make_unique<LatencyHistogram>();
    histogram->Record(record.departure >= record.arrival ? record.departure - record.arrival : 0);
    return;
  }
  const int cause = record.cause < kRecordCauses ? record.cause : 0;
  ++counts.dropped[cause];
  const uint64_t since =
      record.arrival > summary->origin_ns ? record.arrival - summary->origin_ns : 0;
  const size_t bin = std::min<uint64_t>(since / 1'000'000'000, kMaxDropSeconds - 1);
  if (summary->drops_per_second.size() <= bin) summary->drops_per_second.resize(bin + 1);
  ++summary->drops_per_second[bin][cause];
}

}  // namespace

std::optional<RecordSummary> SummarizeRecord(const std::string& path,
                                             std::optional<uint64_t> origin_ns,
                                             std::string* error) {
  RecordFileReader reader;
  if (!reader.Open(path, error)) return std::nullopt;
  RecordSummary summary;
  summary.header = reader.header();
  std::map<uint16_t, std::string> names;
  FrameRecord record;
  bool first = true;
  while (reader.Next(&record, error)) {
    if (first) {
      // A virtual-time record's header start is when the replay ran, not its captures' time.
      summary.origin_ns = origin_ns                      ? *origin_ns
                          : summary.header.virtual_clock ? record.arrival
                                                         : summary.header.start_ns;
      first = false;
    }
    Count(record, reader, &names, &summary);
  }
  if (!error->empty()) return std::nullopt;
  if (first) summary.origin_ns = origin_ns.value_or(summary.header.start_ns);
  return summary;
}

}  // namespace faultline
