// `--record` and `faultline record export`: the per-frame ground truth of a replay with a known
// profile, checked against the input, the output capture and the statistics document; damaged
// record files rejected with the byte offset.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/reporting/frame_record_file.h"
#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"
#include "tests/record_test_profile.h"

namespace faultline {
namespace {

using json = nlohmann::json;
using testing::Frame;
using testing::MakeUdpFrames;
using testing::ReadFileBytes;
using testing::ReadPcap;
using testing::RunFaultline;
using testing::UdpDestinationPort;
using testing::UdpStreamOptions;
using testing::WritePcap;

// The profile: tests/record_test_profile.h (lossy: 2 ms, 10% loss and duplication; slow: 3 ms).
// Frames alternate between the two ports (dst_ports 2).
constexpr const char* kProfile = testing::kRecordTestProfile;

class FrameRecordTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }

  std::vector<FrameRecord> ReadRecords(const std::string& path, RecordFileHeader* header) {
    RecordFileReader reader;
    std::string error;
    EXPECT_TRUE(reader.Open(path, &error)) << error;
    *header = reader.header();
    std::vector<FrameRecord> records;
    FrameRecord record;
    while (reader.Next(&record, &error)) records.push_back(record);
    EXPECT_EQ(error, "");
    return records;
  }

  testing::TempFiles temp_files_;
};

TEST_F(FrameRecordTest, ReplayRecordsEveryInputFrameOnceWithItsFate) {
  UdpStreamOptions options;
  options.count = 4000;
  options.flows = 8;
  options.dst_ports = 2;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string in = Path("in.pcap"), out = Path("out.pcap"), yaml = Path("p.yaml"),
                    stats_path = Path("stats.json"), record = Path("run.rec");
  WritePcap(in, input);
  std::ofstream(yaml) << kProfile;
  const auto run = RunFaultline({"replay", "--in", in, "--out", out, "--profile", yaml, "--seed",
                                 "7", "--stats-json", stats_path, "--record", record});
  ASSERT_EQ(run.status, 0) << run.output;
  const json stats = json::parse(ReadFileBytes(stats_path));
  const std::vector<Frame> output = ReadPcap(out);

  RecordFileHeader header;
  const std::vector<FrameRecord> records = ReadRecords(record, &header);
  EXPECT_TRUE(header.virtual_clock);
  std::map<uint16_t, std::string> names(header.rules.begin(), header.rules.end());
  ASSERT_EQ(names.size(), 2u);

  // Input frames by arrival time (the stream's gaps are constant: one frame per timestamp).
  std::map<uint64_t, const Frame*> by_time;
  for (const Frame& frame : input) by_time[frame.timestamp_ns] = &frame;
  std::map<uint64_t, int> originals, copies;
  uint64_t transmitted = 0, lost = 0, copy_count = 0;
  for (const FrameRecord& r : records) {
    ASSERT_TRUE(by_time.count(r.arrival)) << "a record of no input frame: " << r.arrival;
    const Frame& frame = *by_time[r.arrival];
    EXPECT_EQ(r.length, frame.bytes.size());
    EXPECT_EQ(r.direction, 0);
    const std::string rule = names.at(r.rule);
    EXPECT_EQ(rule, UdpDestinationPort(frame.bytes) == 5000 ? "lossy" : "slow");
    (r.copy == kCopyDuplicate ? copies : originals)[r.arrival]++;
    if (r.copy == kCopyDuplicate) ++copy_count;
    if (r.fate == kFateTransmitted) {
      ++transmitted;
      // Virtual time, constant delays, order kept: exact.
      EXPECT_EQ(r.departure - r.arrival, rule == "lossy" ? 2'000'000u : 3'000'000u);
    } else {
      ASSERT_EQ(r.fate, kFateDropped);
      EXPECT_EQ(r.cause, static_cast<uint8_t>(DropCause::kLoss));
      EXPECT_EQ(rule, "lossy");
      EXPECT_EQ(r.copy, kCopyOriginal) << "loss comes before duplication";
      ++lost;
    }
  }
  // Every input frame exactly once; a copy only of a frame that was duplicated.
  EXPECT_EQ(originals.size(), input.size());
  for (const auto& [time, n] : originals) EXPECT_EQ(n, 1) << time;
  for (const auto& [time, n] : copies) EXPECT_EQ(n, 1) << time;
  EXPECT_EQ(records.size(), input.size() + copy_count);
  // Counts agree with the statistics document and the output capture.
  EXPECT_EQ(transmitted, output.size());
  EXPECT_EQ(transmitted, stats["ports"][1]["tx"].get<uint64_t>());
  EXPECT_EQ(lost, stats["dropped"]["loss"].get<uint64_t>());
  uint64_t duplicated = 0;
  for (const json& rule : stats["rules"]) duplicated += rule["duplicated"].get<uint64_t>();
  EXPECT_EQ(copy_count, duplicated);
  EXPECT_GT(lost, 0u);
  EXPECT_GT(copy_count, 0u);
  EXPECT_EQ(stats["record_lost"], 0);

  // The CSV export: a header row and one row per record; --cause filters.
  const std::string csv = Path("run.csv"), drops = Path("drops.csv");
  ASSERT_EQ(RunFaultline({"record", "export", "--csv", record, "--out", csv}).status, 0);
  std::istringstream rows(ReadFileBytes(csv));
  std::string line;
  std::getline(rows, line);
  EXPECT_EQ(line.rfind("arrival_ns,departure_ns,residence_ns,fate,cause,rule,", 0), 0u) << line;
  size_t count = 0;
  while (std::getline(rows, line)) ++count;
  EXPECT_EQ(count, records.size());
  ASSERT_EQ(
      RunFaultline({"record", "export", "--csv", record, "--out", drops, "--cause", "loss"}).status,
      0);
  std::istringstream drop_rows(ReadFileBytes(drops));
  count = 0;
  while (std::getline(drop_rows, line)) {
    if (count++ > 0) {
      EXPECT_NE(line.find(",dropped,loss,lossy,a-to-b,"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(count, lost + 1);
}

TEST_F(FrameRecordTest, DamagedRecordFilesAreClearErrorsWithTheOffset) {
  const std::string not_record = Path("bad.rec"), cut = Path("cut.rec"), rec = Path("good.rec");
  std::ofstream(not_record) << "this is not a record file at all, not at all";
  auto run = RunFaultline({"record", "export", "--csv", not_record});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.output.find("byte 0: no FLRECORD magic"), std::string::npos) << run.output;

  // A record file of one rule and two records, the second cut short.
  RecordFileHeader header;
  header.rules = {{0, "r"}};
  std::string bytes = EncodeRecordHeader(header);
  const size_t header_size = bytes.size();
  FrameRecord record{};
  record.rule = 0;
  bytes.append(reinterpret_cast<const char*>(&record), sizeof(record));
  bytes.append(reinterpret_cast<const char*>(&record), sizeof(record) - 5);
  std::ofstream(cut, std::ios::binary) << bytes;
  run = RunFaultline({"record", "export", "--csv", cut});
  EXPECT_EQ(run.status, 2);
  const std::string offset = "truncated record at byte " + std::to_string(header_size + 32);
  EXPECT_NE(run.output.find(offset), std::string::npos) << run.output;
  // Cut inside the header.
  std::ofstream(rec, std::ios::binary) << bytes.substr(0, 20);
  run = RunFaultline({"record", "export", "--csv", rec});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.output.find("truncated at byte 20"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace faultline
