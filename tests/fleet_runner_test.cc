// `faultline fleet` against fake boxes (control/fleet/fleet_runner.h): what every box is sent, the
// per-box report, the roll-back of a partial apply or trace start, the clock-offset check and the
// summed statistics.
#include "control/fleet/fleet_runner.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "control/base/units.h"
#include "control/fleet/fleet_stats.h"

namespace faultline {
namespace {

struct FakeState {
  std::string refuse;  // a command this box refuses with `code`
  std::string code = "invalid-profile";
  int64_t clock_offset_ns = 0;  // added to our clock in Time()
  bool unreachable = false;
  std::vector<nlohmann::json> requests;  // every request but ping and show
  std::string profile = "shown-before";
};

class FakeBox : public BoxConnection {
 public:
  explicit FakeBox(std::shared_ptr<FakeState> state) : state_(std::move(state)) {}
  nlohmann::json Request(const nlohmann::json& request) override {
    if (state_->unreachable) return {{"ok", false}, {"code", "unreachable"}, {"error", "no route"}};
    const std::string command = request["command"];
    if (command == state_->refuse) return {{"ok", false}, {"code", state_->code}, {"error", "no"}};
    if (command == "ping") return {{"ok", true}, {"trace", "none"}};
    if (command == "show") return {{"ok", true}, {"show", {{"yaml", state_->profile}}}};
    state_->requests.push_back(request);
    if (command == "apply") state_->profile = request["profile"];
    if (command == "stats") return {{"ok", true}, {"stats", Document()}};
    if (command == "trace-start") {
      return {{"ok", true}, {"trace", {{"name", "t"}, {"started_at", request["at"]}}}};
    }
    return {{"ok", true}, {"groups", 1}, {"rules", 1}, {"impairments", "active"}};
  }
  std::optional<int64_t> Time(std::string*) override {
    return WallClockNs() + state_->clock_offset_ns;
  }

 private:
  static nlohmann::json Document() {
    return nlohmann::json::parse(R"({"ports": [{"port": 0, "side": "a", "rx": 10, "tx": 9},
      {"port": 1, "side": "b", "rx": 5, "tx": 5}], "dropped": {"loss": 1, "partition": 0},
      "unmatched": 2, "seed": 7, "elapsed_ns": 100,
      "rules": [{"name": "r", "matched": 4, "forwarded": 3, "dropped": {"loss": 1, "total": 1},
                 "delay_ns": {"count": 3, "p50": 10, "max": 20}}],
      "partitions": [{"name": "cut", "mode": "drop", "dropped": 6, "answered": 0}]})");
  }
  std::shared_ptr<FakeState> state_;
};

class FleetRunnerTest : public ::testing::Test {
 protected:
  FleetRunnerTest() {
    for (const char* name : {"east", "west", "north"}) {
      states_[name] = std::make_shared<FakeState>();
      fleet_.boxes.push_back({.name = name, .api = std::string("http://") + name + ":1"});
    }
    dir_ =
        std::filesystem::temp_directory_path() / ("fleet_runner_test." + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "p.yaml") << "version: 1\nrules: []\n";
    std::ofstream(dir_ / "bad.yaml") << "version: 1\nrules: 3\n";
    std::ofstream(dir_ / "t.yaml") << "version: 1\nevents:\n  - {at: 1s, heal: all}\n";
  }
  ~FleetRunnerTest() override { std::filesystem::remove_all(dir_); }

  FleetRunner Runner() {
    return FleetRunner(
        fleet_,
        [this](const FleetBox& box) { return std::make_unique<FakeBox>(states_[box.name]); }, out_,
        err_);
  }
  std::string File(const char* name) const { return (dir_ / name).string(); }

  Fleet fleet_;
  std::map<std::string, std::shared_ptr<FakeState>> states_;
  std::filesystem::path dir_;
  std::ostringstream out_, err_;
};

TEST_F(FleetRunnerTest, ApplyReachesEveryBox) {
  EXPECT_EQ(Runner().Apply(File("p.yaml")), 0) << err_.str();
  for (const auto& [name, state] : states_) {
    ASSERT_EQ(state->requests.size(), 1u) << name;
    EXPECT_EQ(state->requests[0]["profile"], "version: 1\nrules: []\n");
    EXPECT_NE(out_.str().find("box " + name + ": " + File("p.yaml") + " applied"),
              std::string::npos);
  }
}

TEST_F(FleetRunnerTest, InvalidProfileTouchesNoBox) {
  EXPECT_EQ(Runner().Apply(File("bad.yaml")), 2);
  EXPECT_NE(err_.str().find("bad.yaml:2:"), std::string::npos) << err_.str();
  for (const auto& [name, state] : states_) EXPECT_TRUE(state->requests.empty()) << name;
}

TEST_F(FleetRunnerTest, UnreachableBoxStopsTheApplyBeforeAnyChange) {
  states_["north"]->unreachable = true;
  EXPECT_EQ(Runner().Apply(File("p.yaml")), 1);
  for (const auto& [name, state] : states_) EXPECT_TRUE(state->requests.empty()) << name;
  EXPECT_NE(err_.str().find("box north (http://north:1): no route (unreachable)"),
            std::string::npos);
}

TEST_F(FleetRunnerTest, RefusedApplyPutsTheChangedBoxesBack) {
  states_["west"]->refuse = "apply";
  EXPECT_EQ(Runner().Apply(File("p.yaml")), 2);
  // east was changed, then got its shown profile back; north was never asked.
  ASSERT_EQ(states_["east"]->requests.size(), 2u);
  EXPECT_EQ(states_["east"]->requests[1]["profile"], "shown-before");
  EXPECT_TRUE(states_["north"]->requests.empty());
  EXPECT_NE(out_.str().find("box east: the profile it showed before is back"), std::string::npos);
  EXPECT_NE(err_.str().find("box west refused it"), std::string::npos);
}

TEST_F(FleetRunnerTest, HealGoesOnPastAFailedBox) {
  states_["east"]->refuse = "heal";
  states_["east"]->code = "failed";
  EXPECT_EQ(Runner().Heal("all"), 1);
  EXPECT_EQ(states_["north"]->requests.at(0)["what"], "all");
  EXPECT_NE(out_.str().find("box west: all healed"), std::string::npos);
}

TEST_F(FleetRunnerTest, TraceStartsAtOneTimeOnEveryBox) {
  FleetTraceOptions options{.file = File("t.yaml"), .at = "+3s", .max_offset_ns = 50'000'000};
  const int64_t before = WallClockNs();
  EXPECT_EQ(Runner().TraceStart(options), 0) << err_.str();
  const std::string at = states_["east"]->requests.at(0)["at"];
  std::string error;
  const auto zero = ParseRfc3339(at, &error);
  ASSERT_TRUE(zero) << error;
  EXPECT_GE(*zero, before + 3'000'000'000 - 1000);
  for (const auto& [name, state] : states_) EXPECT_EQ(state->requests.at(0)["at"], at) << name;
  EXPECT_NE(out_.str().find("box west: clock offset"), std::string::npos);
}

TEST_F(FleetRunnerTest, AbsoluteTimeIsPassedAsWritten) {
  const std::string at = FormatRfc3339(WallClockNs() + 5'000'000'000);
  FleetTraceOptions options{.file = File("t.yaml"), .at = at, .max_offset_ns = 50'000'000};
  EXPECT_EQ(Runner().TraceStart(options), 0) << err_.str();
  for (const auto& [name, state] : states_) EXPECT_EQ(state->requests.at(0)["at"], at);
  FleetTraceOptions past{.file = File("t.yaml"), .at = "2020-01-01T00:00:00Z"};
  EXPECT_EQ(Runner().TraceStart(past), 2);
  EXPECT_NE(err_.str().find("has passed"), std::string::npos);
}

TEST_F(FleetRunnerTest, ClockBeyondTheBoundRefusesOrWarns) {
  states_["west"]->clock_offset_ns = 5'000'000'000;
  FleetTraceOptions options{.file = File("t.yaml"), .max_offset_ns = 1'000'000'000};
  EXPECT_EQ(Runner().TraceStart(options), 1);
  for (const auto& [name, state] : states_) EXPECT_TRUE(state->requests.empty()) << name;
  EXPECT_NE(err_.str().find("box west: clock offset +5000.0"), std::string::npos) << err_.str();
  options.offset_warn_only = true;
  EXPECT_EQ(Runner().TraceStart(options), 0);
  EXPECT_NE(err_.str().find("box west: warning: clock offset"), std::string::npos);
}

TEST_F(FleetRunnerTest, RefusedTraceIsStoppedWhereItStarted) {
  states_["north"]->refuse = "trace-start";
  states_["north"]->code = "invalid-trace";
  FleetTraceOptions options{.file = File("t.yaml"), .max_offset_ns = 50'000'000};
  EXPECT_EQ(Runner().TraceStart(options), 2);
  for (const char* name : {"east", "west"}) {
    ASSERT_EQ(states_[name]->requests.size(), 2u) << name;
    EXPECT_EQ(states_[name]->requests[1]["command"], "trace-stop");
  }
}

TEST_F(FleetRunnerTest, StatsSumEveryBox) {
  EXPECT_EQ(Runner().Stats(true), 0);
  const nlohmann::json result = nlohmann::json::parse(out_.str());
  const nlohmann::json& total = result["total"];
  EXPECT_EQ(result["boxes"].size(), 3u);
  EXPECT_EQ(total["rx"], 45);
  EXPECT_EQ(total["tx"], 42);
  EXPECT_EQ(total["dropped"]["loss"], 3);
  EXPECT_EQ(total["unmatched"], 6);
  EXPECT_FALSE(total.contains("seed"));
  ASSERT_EQ(total["rules"].size(), 1u);
  EXPECT_EQ(total["rules"][0]["name"], "r");
  EXPECT_EQ(total["rules"][0]["forwarded"], 9);
  EXPECT_EQ(total["rules"][0]["dropped"]["total"], 3);
  EXPECT_EQ(total["rules"][0]["delay_ns"]["count"], 9);
  EXPECT_EQ(total["rules"][0]["delay_ns"]["max"], 20);
  EXPECT_FALSE(total["rules"][0]["delay_ns"].contains("p50"));
  EXPECT_EQ(total["partitions"][0]["dropped"], 18);
  EXPECT_EQ(total["partitions"][0]["mode"], "drop");
  std::ostringstream().swap(out_);
  EXPECT_EQ(Runner().Stats(false), 0);
  EXPECT_NE(out_.str().find("fleet (3 boxes): rx 45 tx 42, dropped 3 (loss 3), unmatched 6"),
            std::string::npos)
      << out_.str();
}

}  // namespace
}  // namespace faultline
