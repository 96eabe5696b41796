// Residence and lateness histograms filled by `faultline replay` (virtual time): a constant 5 ms
// delay profile replayed from a pcap makes every frame reside exactly 5 ms (the writer stamps each
// frame at its scheduled departure), so every percentile reads 5 ms and every lateness 0, per rule,
// per direction and per port.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"
#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using testing::Frame;
using testing::MakeFrames;
using testing::RunFaultline;
using testing::WritePcap;

constexpr const char* kProfile = R"(version: 1
seed: 1
impairments:
  five-ms:
    delay: {base: 5ms}
rules:
  - name: everything
    match: {}
    impairment: five-ms
)";

void ExpectConstant(const nlohmann::json& latency, uint64_t count, uint64_t value,
                    const std::string& where) {
  ASSERT_TRUE(latency.is_object()) << where;
  EXPECT_EQ(latency["count"], count) << where;
  for (const char* key : {"p50", "p90", "p99", "p999", "p9999", "max"}) {
    EXPECT_EQ(latency[key], value) << where << " " << key;
  }
}

TEST(ResidenceReplayTest, ConstantFiveMillisecondsResidesExactlyFiveMilliseconds) {
  testing::TempFiles files;
  const std::string profile = files.Path("profile.yaml"), in_a = files.Path("a.pcap"),
                    in_b = files.Path("b.pcap"), out_b = files.Path("out_b.pcap"),
                    out_a = files.Path("out_a.pcap"), stats = files.Path("stats.json");
  std::ofstream(profile) << kProfile;
  const std::vector<Frame> from_a = MakeFrames(5000, 1'000'000'000, 2'000'000, 4);
  const std::vector<Frame> from_b = MakeFrames(3000, 1'000'050'000, 3'000'000, 5);
  WritePcap(in_a, from_a);
  WritePcap(in_b, from_b);
  const CommandResult run =
      RunFaultline({"replay", "--in", in_a, "--out", out_b, "--in-b", in_b, "--out-b", out_a,
                    "--profile", profile, "--stats-json", stats});
  ASSERT_EQ(run.status, 0) << run.output;
  std::ifstream stats_file(stats);
  const nlohmann::json document = nlohmann::json::parse(stats_file, nullptr, false);
  ASSERT_FALSE(document.is_discarded());

  ExpectConstant(document["residence_ns"], 8000, 5'000'000, "all ports residence");
  ExpectConstant(document["lateness_ns"], 8000, 0, "all ports lateness");
  // Port 1 (side b) sends what came in on side a, port 0 what came in on side b.
  ExpectConstant(document["ports"][1]["residence_ns"], 5000, 5'000'000, "port 1");
  ExpectConstant(document["ports"][0]["residence_ns"], 3000, 5'000'000, "port 0");
  const nlohmann::json& rule = document["rules"][0];
  ExpectConstant(rule["residence_ns"], 8000, 5'000'000, "rule residence");
  ExpectConstant(rule["lateness_ns"], 8000, 0, "rule lateness");
  ExpectConstant(rule["delay_ns"], 8000, 5'000'000, "rule delay");  // the must keys are kept
  ExpectConstant(rule["directions"]["a-to-b"]["residence_ns"], 5000, 5'000'000, "a-to-b");
  ExpectConstant(rule["directions"]["b-to-a"]["residence_ns"], 3000, 5'000'000, "b-to-a");
}

}  // namespace
}  // namespace faultline
