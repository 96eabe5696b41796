// `faultline report --record`: a replay of a known profile with --series and --record, then the
// report; the page's embedded data is checked against an independent count of `record export
// --csv` (counts per rule and direction, drops per second), the exact CDF's p50 against the
// configured constant delays, and the series' totals. A damaged record is exit 2 with the byte
// offset and no page; a record alone makes a page of its own parts; a record of another run is a
// note, not a failure.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"
#include "tests/record_test_profile.h"

namespace faultline {
namespace {

using json = nlohmann::json;
using testing::ReadFileBytes;
using testing::RunFaultline;

// The profile: tests/record_test_profile.h (lossy: 2 ms, 10% loss and duplication; slow: 3 ms).
constexpr const char* kProfile = testing::kRecordTestProfile;

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

// Counts of `record export --csv` by (rule, direction), as the page's rows name them.
struct CsvCounts {
  std::map<std::string, json> rows;                        // "rule/direction" -> row
  std::map<std::string, std::vector<uint64_t>> residence;  // rule -> delivered residences
  uint64_t drops = 0;
};

CsvCounts CountCsv(const std::string& csv) {
  CsvCounts counts;
  std::istringstream rows(csv);
  std::string line;
  std::getline(rows, line);  // arrival_ns,departure_ns,residence_ns,fate,cause,rule,direction,..
  while (std::getline(rows, line)) {
    const std::vector<std::string> f = SplitCsv(line);
    const std::string &fate = f.at(3), &cause = f.at(4), &rule = f.at(5), &copy = f.at(9);
    json& row = counts.rows[rule + "/" + f.at(6)];
    if (row.is_null()) {
      row = {{"in", 0},
             {"delivered", 0},
             {"duplicates", 0},
             {"answers", 0},
             {"dropped", json::object()}};
    }
    if (copy == "original") row["in"] = row["in"].get<uint64_t>() + 1;
    if (copy == "duplicate") row["duplicates"] = row["duplicates"].get<uint64_t>() + 1;
    if (copy == "answer") row["answers"] = row["answers"].get<uint64_t>() + 1;
    if (fate == "transmitted") {
      row["delivered"] = row["delivered"].get<uint64_t>() + 1;
      counts.residence[rule].push_back(std::stoull(f.at(2)));
    } else {
      row["dropped"][cause] = row["dropped"].value(cause, uint64_t{0}) + 1;
      ++counts.drops;
    }
  }
  return counts;
}

// The JSON the page's script reads.
json PageData(const std::string& page) {
  const std::string open = "<script id=\"series-data\" type=\"application/json\">";
  const size_t begin = page.find(open);
  EXPECT_NE(begin, std::string::npos);
  const size_t end = page.find("</script>", begin);
  return json::parse(page.substr(begin + open.size(), end - begin - open.size()));
}

class ReportRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::UdpStreamOptions options;
    options.count = 6000;
    options.flows = 8;
    options.dst_ports = 2;
    options.gap_ns = 1'000'000;  // 6 s of virtual time: drops in six seconds
    testing::WritePcap(Path("in.pcap"), testing::MakeUdpFrames(options));
    std::ofstream(Path("p.yaml")) << kProfile;
  }
  std::string Path(const std::string& name) { return temp_files_.Path(name); }
  // Replays in.pcap with `seed`, writing SERIES and RECORD.
  void Replay(const std::string& seed, const std::string& series, const std::string& record) {
    const auto run =
        RunFaultline({"replay", "--in", Path("in.pcap"), "--out", Path("out.pcap"), "--profile",
                      Path("p.yaml"), "--seed", seed, "--series", series, "--record", record});
    ASSERT_EQ(run.status, 0) << run.output;
  }
  testing::TempFiles temp_files_;
};

TEST_F(ReportRecordTest, PageHoldsTheRecordsCountsAndExactDelays) {
  const std::string series = Path("s.jsonl"), record = Path("r.rec"), page = Path("r.html"),
                    csv = Path("r.csv");
  Replay("7", series, record);
  const auto report =
      RunFaultline({"report", "--series", series, "--record", record, "--out", page});
  ASSERT_EQ(report.status, 0) << report.output;
  EXPECT_EQ(report.output.find("note:"), std::string::npos) << report.output;
  ASSERT_EQ(RunFaultline({"record", "export", "--csv", record, "--out", csv}).status, 0);
  CsvCounts expected = CountCsv(ReadFileBytes(csv));

  const json data = PageData(ReadFileBytes(page));
  ASSERT_TRUE(data["has_series"]);
  const json& part = data["record"];
  ASSERT_EQ(part["rows"].size(), expected.rows.size());
  for (const json& row : part["rows"]) {
    const std::string key =
        row["rule"].get<std::string>() + "/" + row["direction"].get<std::string>();
    ASSERT_TRUE(expected.rows.count(key)) << key;
    for (const char* field : {"in", "delivered", "duplicates", "answers", "dropped"}) {
      EXPECT_EQ(row[field], expected.rows[key][field]) << key << " " << field;
    }
  }
  EXPECT_GT(expected.rows["lossy/a-to-b"]["dropped"].value("loss", 0), 0);
  EXPECT_GT(expected.rows["lossy/a-to-b"]["duplicates"].get<uint64_t>(), 0u);

  // The exact CDF: constant delays read exactly (p50 and the one point at 2 ms / 3 ms), and
  // each rule's frame count and median equal the CSV's sorted residences.
  const std::map<std::string, uint64_t> configured = {{"lossy", 2'000'000}, {"slow", 3'000'000}};
  ASSERT_EQ(part["cdfs"].size(), 2u);
  for (const json& cdf : part["cdfs"]) {
    const std::string rule = cdf["rule"];
    std::vector<uint64_t>& sorted = expected.residence[rule];
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(cdf["count"], sorted.size()) << rule;
    EXPECT_EQ(cdf["p50_ns"], configured.at(rule)) << rule;
    EXPECT_EQ(cdf["p50_ns"], sorted[(sorted.size() - 1) / 2]) << rule;
    const double ms = configured.at(rule) / 1e6;
    EXPECT_EQ(cdf["measured"], json::array({{ms, 0.0}, {ms, 1.0}})) << rule;
    EXPECT_FALSE(cdf["configured"].is_null()) << rule;
  }
  // The record agrees with the series' totals, per rule and for the whole run.
  ASSERT_EQ(part["comparison"].size(), 3u);
  for (const json& row : part["comparison"]) EXPECT_TRUE(row["agree"]) << row.dump();
  // Drops per second: six one-second bins on the series' axis, adding up to the CSV's drops.
  const json& drops = part["drops"];
  EXPECT_EQ(drops["bin_s"], 1);
  EXPECT_EQ(drops["t"].size(), 6u);
  double total = 0;
  for (const json& rate : drops["causes"]["loss"]) total += rate.get<double>();
  EXPECT_EQ(total, static_cast<double>(expected.drops));
}

TEST_F(ReportRecordTest, DamagedRecordIsExitTwoWithTheOffsetAndNoPage) {
  const std::string series = Path("s.jsonl"), record = Path("r.rec"), cut = Path("cut.rec"),
                    page = Path("bad.html");
  Replay("7", series, record);
  const std::string bytes = ReadFileBytes(record);
  const size_t size = bytes.size() - 5;  // the last record cut short
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, size);
  const auto run = RunFaultline({"report", "--series", series, "--record", cut, "--out", page});
  EXPECT_EQ(run.status, 2);
  EXPECT_NE(run.output.find("truncated record at byte " + std::to_string(size - 27)),
            std::string::npos)
      << run.output;
  EXPECT_FALSE(std::filesystem::exists(page));
  std::ofstream(cut) << "not a record";
  EXPECT_EQ(RunFaultline({"report", "--record", cut, "--out", page}).status, 2);
  EXPECT_FALSE(std::filesystem::exists(page));
  EXPECT_EQ(RunFaultline({"report", "--out", page}).status, 2);  // neither --series nor --record
  EXPECT_FALSE(std::filesystem::exists(page));
}

TEST_F(ReportRecordTest, RecordAloneAndRecordOfAnotherRun) {
  const std::string series = Path("s.jsonl"), record = Path("r.rec"), other = Path("o.rec"),
                    page = Path("r.html");
  Replay("7", series, record);
  Replay("8", Path("s8.jsonl"), other);
  // Alone: the record's parts only, no comparison.
  auto run = RunFaultline({"report", "--record", record, "--out", page});
  ASSERT_EQ(run.status, 0) << run.output;
  json data = PageData(ReadFileBytes(page));
  EXPECT_FALSE(data["has_series"]);
  EXPECT_TRUE(data["record"]["comparison"].is_null());
  EXPECT_EQ(data["record"]["cdfs"].size(), 2u);
  EXPECT_EQ(data["record"]["drops"]["t"].size(), 6u);
  // Another seed's record beside this series: the page is made, the differences are notes.
  run = RunFaultline({"report", "--series", series, "--record", other, "--out", page});
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("note: rule lossy: the record and the series differ"),
            std::string::npos)
      << run.output;
  data = PageData(ReadFileBytes(page));
  EXPECT_FALSE(data["record"]["comparison"][0]["agree"]);
  EXPECT_FALSE(data["notes"].empty());
}

}  // namespace
}  // namespace faultline
