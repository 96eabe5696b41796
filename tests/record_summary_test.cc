// control/report/record_summary and record_section on crafted record files: counts per rule and
// direction for each kind of record (original, duplicate copy, partition answer, no rule), drops
// per second from the given origin, exact residence, the thinned CDF, and the reader's errors.
#include "control/report/record_summary.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "control/report/record_section.h"

namespace faultline {
namespace {

constexpr uint64_t kOrigin = 1'000'000'000'000;

FrameRecord Make(uint64_t arrival, uint64_t departure, uint16_t rule, uint8_t direction,
                 uint8_t copy, DropCause cause = DropCause::kLoss) {
  FrameRecord record{};
  record.arrival = arrival;
  record.departure = departure;
  record.rule = rule;
  record.direction = direction;
  record.copy = copy;
  record.fate = departure != 0 ? kFateTransmitted : kFateDropped;
  record.cause = departure != 0 ? 0 : static_cast<uint8_t>(cause);
  return record;
}

std::string WriteRecord(const std::string& name, const std::vector<FrameRecord>& records) {
  const std::string path = ::testing::TempDir() + name;
  RecordFileHeader header;
  header.virtual_clock = true;
  header.rules = {{3, "db"}};
  std::ofstream out(path, std::ios::binary);
  out << EncodeRecordHeader(header);
  for (const FrameRecord& record : records) {
    out.write(reinterpret_cast<const char*>(&record), sizeof(record));
  }
  return path;
}

TEST(RecordSummaryTest, CountsEveryKindOfRecordByRuleAndDirection) {
  const std::vector<FrameRecord> records = {
      Make(kOrigin + 10, kOrigin + 1'010, 3, 0, kCopyOriginal),   // delivered, 1000 ns
      Make(kOrigin + 20, kOrigin + 2'020, 3, 0, kCopyDuplicate),  // its copy, 2000 ns
      Make(kOrigin + 2'500'000'000, 0, 3, 1, kCopyOriginal, DropCause::kQueue),
      Make(kOrigin - 5, 0, 3, 1, kCopyOriginal),                    // before the origin: bin 0
      Make(kOrigin + 30, kOrigin + 40, kNoRule, 1, kCopyAnswer),    // a partition's answer
      Make(kOrigin + 50, kOrigin + 60, kNoRule, 0, kCopyOriginal),  // no rule matched
  };
  std::string error;
  const auto summary = SummarizeRecord(WriteRecord("counts.rec", records), kOrigin, &error);
  ASSERT_TRUE(summary) << error;
  EXPECT_EQ(summary->records, records.size());
  const RecordCounts& db_ab = summary->counts.at({"db", 0});
  EXPECT_EQ(db_ab.in, 1u);
  EXPECT_EQ(db_ab.delivered, 2u);
  EXPECT_EQ(db_ab.duplicates, 1u);
  const RecordCounts& db_ba = summary->counts.at({"db", 1});
  EXPECT_EQ(db_ba.in, 2u);
  EXPECT_EQ(db_ba.delivered, 0u);
  EXPECT_EQ(db_ba.dropped[static_cast<int>(DropCause::kQueue)], 1u);
  EXPECT_EQ(db_ba.dropped[static_cast<int>(DropCause::kLoss)], 1u);
  EXPECT_EQ(summary->counts.at({kNoRuleName, 1}).answers, 1u);
  EXPECT_EQ(summary->counts.at({kNoRuleName, 1}).in, 0u);
  EXPECT_EQ(summary->counts.at({kNoRuleName, 0}).in, 1u);
  EXPECT_EQ(summary->RuleTotal("db").in, 3u);
  // Drops per second from the origin: the early loss in bin 0, the queue drop in bin 2.
  ASSERT_EQ(summary->drops_per_second.size(), 3u);
  EXPECT_EQ(summary->drops_per_second[0][static_cast<int>(DropCause::kLoss)], 1u);
  EXPECT_EQ(summary->drops_per_second[2][static_cast<int>(DropCause::kQueue)], 1u);
  // Residence of db's two delivered frames, exact below 1024 ns and within 0.05% above.
  HistogramSummary db;
  db.Add(*summary->residence.at("db"));
  EXPECT_EQ(db.total, 2u);
  EXPECT_EQ(db.min, 1'000u);
  EXPECT_EQ(db.max, 2'000u);
  // Without an origin a virtual-time record counts from its first arrival.
  const auto own = SummarizeRecord(WriteRecord("own.rec", records), std::nullopt, &error);
  ASSERT_TRUE(own) << error;
  EXPECT_EQ(own->origin_ns, kOrigin + 10);
}

TEST(RecordSummaryTest, CdfIsThinnedAndEndsAtOne) {
  LatencyHistogram histogram;
  for (uint64_t ns = 1; ns <= 100'000; ++ns) histogram.Record(ns * 37);  // 37 ns .. 3.7 ms
  HistogramSummary summary;
  summary.Add(histogram);
  const nlohmann::json cdf = HistogramCdf(summary, 100);
  ASSERT_GE(cdf.size(), 90u);
  EXPECT_LE(cdf.size(), 102u);  // (min, 0), at most one point per 1/100, the last
  EXPECT_EQ(cdf.front(), nlohmann::json::array({37 / 1e6, 0.0}));
  EXPECT_EQ(cdf.back(), nlohmann::json::array({3.7, 1.0}));
  for (size_t i = 1; i < cdf.size(); ++i) {
    EXPECT_GE(cdf[i][0].get<double>(), cdf[i - 1][0].get<double>());
    EXPECT_GT(cdf[i][1].get<double>(), cdf[i - 1][1].get<double>());
  }
}

TEST(RecordSummaryTest, DamagedFileIsTheReadersErrorWithTheOffset) {
  const std::string path = WriteRecord("cut.rec", {Make(1, 2, 3, 0, kCopyOriginal)});
  std::ofstream(path, std::ios::binary | std::ios::app) << "short";
  std::string error;
  EXPECT_FALSE(SummarizeRecord(path, std::nullopt, &error));
  EXPECT_NE(error.find("truncated record at byte"), std::string::npos) << error;
  EXPECT_FALSE(SummarizeRecord(path + ".missing", std::nullopt, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

}  // namespace
}  // namespace faultline
