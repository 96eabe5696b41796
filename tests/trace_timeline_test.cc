#include "dataplane/config/trace_timeline.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <vector>

namespace faultline {
namespace {

constexpr uint64_t kUs = 1'000;
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kS = 1'000'000'000;

Prefix Host(uint8_t last) { return Prefix{.family = 4, .length = 32, .address = {10, 0, 2, last}}; }

EndpointSet Hosts(std::initializer_list<uint8_t> lasts) {
  EndpointSet set;
  for (uint8_t last : lasts) set.prefixes.push_back(Host(last));
  return set;
}

TraceEvent SetImpairment(uint64_t at, const std::string& rule, const std::string& impairment) {
  TraceEvent event;
  event.at_ns = at;
  event.kind = TraceEventKind::kSetImpairment;
  event.rule = rule;
  event.impairment = impairment;
  return event;
}

// An `isolate` partition of one host, named `name` (2 cuts).
TraceEvent Partition(uint64_t at, const std::string& name, uint8_t host = 13) {
  TraceEvent event;
  event.at_ns = at;
  event.kind = TraceEventKind::kPartition;
  const EndpointSet node = Hosts({host});
  event.partition.name = name;
  event.partition.cuts = {
      PartitionCut{.from = node, .to = node, .from_complement = false, .to_complement = true},
      PartitionCut{.from = node, .to = node, .from_complement = true, .to_complement = false}};
  return event;
}

TraceEvent Heal(uint64_t at, HealWhat what, const std::string& partition = "") {
  TraceEvent event;
  event.at_ns = at;
  event.kind = TraceEventKind::kHeal;
  event.heal = what;
  event.heal_partition = partition;
  return event;
}

TraceEvent Stall(uint64_t at, const std::string& group, uint64_t for_ns, uint8_t host = 13) {
  TraceEvent event;
  event.at_ns = at;
  event.kind = TraceEventKind::kStall;
  event.group = group;
  event.members = Hosts({host});
  event.for_ns = for_ns;
  event.stall_limit.packets = 10000;
  return event;
}

TraceEvent Link(uint64_t at, LinkSide side, LinkChange change, uint64_t for_ns = 0,
                uint64_t down = 0, uint64_t up = 0) {
  TraceEvent event;
  event.at_ns = at;
  event.kind = TraceEventKind::kLink;
  event.side = side;
  event.link = change;
  event.for_ns = for_ns;
  event.flap_down_ns = down;
  event.flap_up_ns = up;
  return event;
}

// A trace of `events` (in time order) with one round ending at the last event's end.
TraceSpec Trace(std::vector<TraceEvent> events, uint64_t repeat = 1, uint64_t period = 0) {
  TraceSpec trace;
  trace.name = "t";
  trace.repeat = repeat;
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].line = static_cast<int>(3 + 2 * i);
    events[i].column = 5;
    period = std::max(period, events[i].at_ns + events[i].for_ns);
  }
  trace.events = std::move(events);
  trace.period_ns = period;
  return trace;
}

std::vector<TraceStep> Steps(const TraceSpec& trace, size_t limit = 100000) {
  TraceTimeline timeline(trace);
  std::vector<TraceStep> steps;
  while (steps.size() < limit) {
    std::optional<TraceStep> step = timeline.Next();
    if (!step) break;
    steps.push_back(std::move(*step));
  }
  return steps;
}

struct Expected {
  uint64_t at_ns;
  std::string description;
  bool implied;
};

void ExpectSteps(const std::vector<TraceStep>& steps, const std::vector<Expected>& expected) {
  ASSERT_EQ(steps.size(), expected.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    EXPECT_EQ(steps[i].index, i);
    EXPECT_EQ(steps[i].at_ns, expected[i].at_ns);
    EXPECT_EQ(steps[i].description, expected[i].description);
    EXPECT_EQ(steps[i].implied, expected[i].implied);
  }
}

// Impairments slow (0) and flaky (1); rules etcd-peers -> slow, rest -> flaky.
ProfileSpec BaseProfile() {
  ProfileSpec profile;
  profile.groups = {GroupSpec{.name = "n3", .members = Hosts({13})}};
  ImpairmentSpec slow, flaky;
  slow.name = "slow";
  slow.delay = DelaySpec{};
  slow.delay->base_ns = 5 * kMs;
  flaky.name = "flaky";
  flaky.loss = LossSpec{};
  flaky.loss->probability = 0.02;
  profile.impairments = {slow, flaky};
  profile.rules = {RuleSpec{.name = "etcd-peers", .match = {}, .impairment = 0},
                   RuleSpec{.name = "rest", .match = {}, .impairment = 1}};
  return profile;
}

// Plays every step of `trace` up to (and not including) time `until` on `state`.
void PlayUntil(const TraceSpec& trace, uint64_t until, TraceState* state) {
  TraceTimeline timeline(trace);
  while (std::optional<TraceStep> step = timeline.Next()) {
    if (step->at_ns >= until) break;
    ASSERT_EQ(timeline.Apply(*step, state), "") << step->description;
  }
}

TEST(TraceTimelineTest, StallEndsAfterItsLength) {
  const TraceSpec trace = Trace({Stall(45 * kS, "n3", 800 * kMs)});
  const std::vector<TraceStep> steps = Steps(trace);
  ExpectSteps(steps,
              {{45 * kS, "stall n3 for 800ms", false}, {45'800 * kMs, "stall n3 ends", true}});
  EXPECT_EQ(steps[0].action, TraceAction::kStallStart);
  EXPECT_EQ(steps[1].action, TraceAction::kStallEnd);
  EXPECT_EQ(steps[1].event, 0u);
}

TEST(TraceTimelineTest, LinkDownWithForComesBackUp) {
  const TraceSpec trace = Trace({Link(60 * kS, LinkSide::kB, LinkChange::kDown, 59 * kS),
                                 Link(200 * kS, LinkSide::kBoth, LinkChange::kDown),
                                 Link(300 * kS, LinkSide::kBoth, LinkChange::kUp)});
  const std::vector<TraceStep> steps = Steps(trace);
  ExpectSteps(steps, {{60 * kS, "link b down for 59s", false},
                      {119 * kS, "link b up", true},
                      {200 * kS, "link both down", false},
                      {300 * kS, "link both up", false}});
  EXPECT_EQ(steps[1].action, TraceAction::kLinkUp);
  EXPECT_EQ(steps[2].action, TraceAction::kLinkDown);
}

// Descriptions are for people: a link down for 2924170407us reads as 48m44.17s.
TEST(TraceTimelineTest, LongLengthsAreDescribedReadably) {
  const TraceSpec trace = Trace({Link(0, LinkSide::kB, LinkChange::kDown, 2'924'170'407 * kUs)});
  ExpectSteps(Steps(trace),
              {{0, "link b down for 48m44.17s", false}, {2'924'170'407 * kUs, "link b up", true}});
}

TEST(TraceTimelineTest, FlappingAlternatesUntilForAndEndsUp) {
  const TraceSpec trace =
      Trace({Link(120 * kS, LinkSide::kA, LinkChange::kFlapping, 30 * kS, 1 * kS, 4 * kS)});
  std::vector<Expected> expected = {
      {120 * kS, "link a flapping for 30s (down 1s, up 4s): down", false}};
  for (uint64_t cycle = 0; cycle < 6; ++cycle) {
    if (cycle > 0) expected.push_back({(120 + 5 * cycle) * kS, "link a down (flapping)", true});
    expected.push_back({(121 + 5 * cycle) * kS, "link a up (flapping)", true});
  }
  // The next down would be at 150s, the end: the link stays up.
  ExpectSteps(Steps(trace), expected);
}

TEST(TraceTimelineTest, FlappingCutShortComesUpAtTheEnd) {
  // down 0s-2s, up 2s-4s, down 4s-5s (cut), up at 5s.
  const TraceSpec trace =
      Trace({Link(0, LinkSide::kB, LinkChange::kFlapping, 5 * kS, 2 * kS, 2 * kS)});
  const std::vector<TraceStep> steps = Steps(trace);
  ExpectSteps(steps, {{0, "link b flapping for 5s (down 2s, up 2s): down", false},
                      {2 * kS, "link b up (flapping)", true},
                      {4 * kS, "link b down (flapping)", true},
                      {5 * kS, "link b up (flapping ends)", true}});
  EXPECT_EQ(steps[0].action, TraceAction::kLinkDown);
  EXPECT_EQ(steps[2].action, TraceAction::kLinkDown);
  EXPECT_EQ(steps[3].action, TraceAction::kLinkUp);
}

TEST(TraceTimelineTest, RepeatThreeRoundsOfTheDuration) {
  const TraceSpec trace = Trace({Partition(10 * kS, "isolate n3"), Heal(40 * kS, HealWhat::kAll)},
                                /*repeat=*/3, /*period=*/90 * kS);
  const std::vector<TraceStep> steps = Steps(trace);
  ExpectSteps(steps, {{10 * kS, "partition isolate n3", false},
                      {40 * kS, "heal all", false},
                      {100 * kS, "partition isolate n3", false},
                      {130 * kS, "heal all", false},
                      {190 * kS, "partition isolate n3", false},
                      {220 * kS, "heal all", false}});
  const uint64_t rounds[] = {0, 0, 1, 1, 2, 2};
  const size_t events[] = {0, 1, 0, 1, 0, 1};
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].round, rounds[i]);
    EXPECT_EQ(steps[i].event, events[i]);
  }
}

TEST(TraceTimelineTest, ForeverNeverEnds) {
  // Per round of 3s: down at 0s, up at 1s.
  const TraceSpec trace = Trace({Link(0, LinkSide::kA, LinkChange::kDown, 1 * kS)},
                                /*repeat=*/0, /*period=*/3 * kS);
  const std::vector<TraceStep> steps = Steps(trace, 1000);
  ASSERT_EQ(steps.size(), 1000u);
  for (size_t i = 0; i < steps.size(); ++i) {
    ASSERT_EQ(steps[i].index, i);
    ASSERT_EQ(steps[i].round, i / 2);
    ASSERT_EQ(steps[i].at_ns, (i / 2) * 3 * kS + (i % 2) * kS);
    ASSERT_EQ(steps[i].implied, i % 2 == 1);
  }
  EXPECT_EQ(steps[999].at_ns, 499 * 3 * kS + kS);
  EXPECT_EQ(steps[999].description, "link a up");
}

TEST(TraceTimelineTest, TiesImpliedFirstThenFileOrder) {
  const TraceSpec trace =
      Trace({Stall(0, "n3", 10 * kS), Link(5 * kS, LinkSide::kA, LinkChange::kDown, 5 * kS),
             Partition(10 * kS, "p"), Heal(10 * kS, HealWhat::kPartitions)},
            /*repeat=*/2);
  ASSERT_EQ(trace.period_ns, 10 * kS);
  const std::vector<TraceStep> steps = Steps(trace);
  // Round 0's steps at 10s (implied, then the file's) come before round 1's at 10s.
  ExpectSteps(steps, {{0, "stall n3 for 10s", false},
                      {5 * kS, "link a down for 5s", false},
                      {10 * kS, "stall n3 ends", true},
                      {10 * kS, "link a up", true},
                      {10 * kS, "partition p", false},
                      {10 * kS, "heal partitions", false},
                      {10 * kS, "stall n3 for 10s", false},
                      {15 * kS, "link a down for 5s", false},
                      {20 * kS, "stall n3 ends", true},
                      {20 * kS, "link a up", true},
                      {20 * kS, "partition p", false},
                      {20 * kS, "heal partitions", false}});
  EXPECT_EQ(steps[6].round, 1u);
  EXPECT_EQ(steps[5].round, 0u);
}

TEST(TraceTimelineTest, SetImpairmentDescribesAndTurnsRulesOn) {
  const TraceSpec trace = Trace({SetImpairment(0, "etcd-peers", "flaky")});
  const std::vector<TraceStep> steps = Steps(trace);
  ExpectSteps(steps, {{0, "set-impairment etcd-peers -> flaky", false}});
  TraceState state{.spec = BaseProfile(), .rules_active = false};
  EXPECT_EQ(TraceTimeline(trace).Apply(steps[0], &state), "");
  EXPECT_EQ(state.spec.rules[0].impairment, 1u);
  EXPECT_EQ(state.spec.rules[1].impairment, 1u);
  EXPECT_TRUE(state.rules_active);
}

TEST(TraceTimelineTest, SetImpairmentErrorsListTheNames) {
  const TraceSpec trace =
      Trace({SetImpairment(0, "nope", "flaky"), SetImpairment(1, "rest", "gone")});
  const std::vector<TraceStep> steps = Steps(trace);
  TraceTimeline timeline(trace);
  TraceState state{.spec = BaseProfile()};
  EXPECT_EQ(timeline.Apply(steps[0], &state),
            "set-impairment: no rule named 'nope' (rules: etcd-peers, rest)");
  EXPECT_EQ(timeline.Apply(steps[1], &state),
            "set-impairment: no impairment named 'gone' (impairments: slow, flaky)");
  EXPECT_EQ(state.spec, BaseProfile());  // nothing changed
}

TEST(TraceTimelineTest, StallRulesGoFirstAndLeaveWithTheirImpairment) {
  const TraceSpec trace = Trace({Stall(1 * kS, "n3", 800 * kMs)});
  TraceState state{.spec = BaseProfile()};
  PlayUntil(trace, 1 * kS + 1, &state);
  ASSERT_EQ(state.spec.rules.size(), 4u);
  EXPECT_EQ(state.spec.rules[0].name, "stall n3 from (event 1)");
  EXPECT_EQ(state.spec.rules[1].name, "stall n3 to (event 1)");
  EXPECT_EQ(state.spec.rules[0].match.src, Hosts({13}));
  EXPECT_TRUE(state.spec.rules[0].match.dst.empty());
  EXPECT_EQ(state.spec.rules[1].match.dst, Hosts({13}));
  EXPECT_TRUE(state.spec.rules[1].match.src.empty());
  EXPECT_EQ(state.spec.rules[0].match.direction, Direction::kBoth);
  EXPECT_EQ(state.spec.rules[2].name, "etcd-peers");
  EXPECT_EQ(state.spec.rules[3].name, "rest");
  ASSERT_EQ(state.spec.impairments.size(), 3u);
  const ImpairmentSpec& stall = state.spec.impairments[2];
  EXPECT_EQ(stall.name, "stall n3 (event 1)");
  ASSERT_TRUE(stall.stall.has_value());
  EXPECT_EQ(stall.stall->duration_ns, 800 * kMs);
  EXPECT_EQ(stall.stall->start_ns, 0u);
  EXPECT_EQ(stall.stall->every_ns, 0u);
  EXPECT_EQ(stall.stall->limit.packets, 10000u);
  EXPECT_TRUE(stall.stall->at_activation);
  EXPECT_FALSE(stall.delay || stall.loss);
  EXPECT_EQ(state.spec.rules[0].impairment, 2u);
  EXPECT_EQ(state.spec.rules[1].impairment, 2u);

  PlayUntil(trace, UINT64_MAX, &state);  // from the start again: the end removes it all
  TraceState after{.spec = BaseProfile()};
  PlayUntil(trace, UINT64_MAX, &after);
  EXPECT_EQ(after.spec, BaseProfile());
}

TEST(TraceTimelineTest, RemovingAnImpairmentFixesTheOtherRulesIndexes) {
  // n3 stalls 0s-2s (impairment 2), n4 1s-6s (impairment 3); at 2s n3's goes and n4's becomes 2.
  const TraceSpec trace = Trace({Stall(0, "n3", 2 * kS, 13), Stall(1 * kS, "n4", 5 * kS, 14)});
  TraceState state{.spec = BaseProfile()};
  PlayUntil(trace, 2 * kS, &state);
  ASSERT_EQ(state.spec.rules.size(), 6u);
  EXPECT_EQ(state.spec.rules[0].name, "stall n4 from (event 2)");
  EXPECT_EQ(state.spec.rules[0].impairment, 3u);
  EXPECT_EQ(state.spec.rules[2].name, "stall n3 from (event 1)");
  EXPECT_EQ(state.spec.rules[2].impairment, 2u);

  state = TraceState{.spec = BaseProfile()};
  PlayUntil(trace, 2 * kS + 1, &state);
  ASSERT_EQ(state.spec.impairments.size(), 3u);
  EXPECT_EQ(state.spec.impairments[2].name, "stall n4 (event 2)");
  ASSERT_EQ(state.spec.rules.size(), 4u);
  EXPECT_EQ(state.spec.rules[0].name, "stall n4 from (event 2)");
  EXPECT_EQ(state.spec.rules[0].impairment, 2u);
  EXPECT_EQ(state.spec.rules[1].impairment, 2u);
  EXPECT_EQ(state.spec.rules[2].name, "etcd-peers");
  EXPECT_EQ(state.spec.rules[2].impairment, 0u);
  EXPECT_EQ(state.spec.rules[3].impairment, 1u);
}

TEST(TraceTimelineTest, StallNamesAreTheSameEveryRound) {
  const TraceSpec trace =
      Trace({SetImpairment(0, "rest", "slow"), Stall(5 * kS, "n3", 1 * kS)}, 3, 10 * kS);
  TraceTimeline timeline(trace);
  TraceState state{.spec = BaseProfile()};
  std::vector<std::vector<std::string>> names_per_start;
  while (std::optional<TraceStep> step = timeline.Next()) {
    ASSERT_EQ(timeline.Apply(*step, &state), "");
    if (step->action == TraceAction::kStallStart) {
      EXPECT_EQ(step->at_ns, step->round * 10 * kS + 5 * kS);
      names_per_start.push_back(
          {state.spec.rules[0].name, state.spec.rules[1].name, state.spec.impairments.back().name});
    }
  }
  ASSERT_EQ(names_per_start.size(), 3u);
  const std::vector<std::string> expected = {"stall n3 from (event 2)", "stall n3 to (event 2)",
                                             "stall n3 (event 2)"};
  for (const auto& names : names_per_start) EXPECT_EQ(names, expected);
  EXPECT_EQ(state.spec.rules.size(), 2u);
  EXPECT_EQ(state.spec.impairments.size(), 2u);
}

TEST(TraceTimelineTest, RepeatedPartitionNamesGetSuffixes) {
  ProfileSpec base = BaseProfile();
  base.partitions.push_back(Partition(0, "iso").partition);
  // Never healed: every round adds one more.
  const TraceSpec trace = Trace({Partition(1 * kS, "iso")}, 3, 10 * kS);
  TraceState state{.spec = base};
  PlayUntil(trace, UINT64_MAX, &state);
  ASSERT_EQ(state.spec.partitions.size(), 4u);
  EXPECT_EQ(state.spec.partitions[0].name, "iso");
  EXPECT_EQ(state.spec.partitions[1].name, "iso #2");
  EXPECT_EQ(state.spec.partitions[2].name, "iso #3");
  EXPECT_EQ(state.spec.partitions[3].name, "iso #4");
  EXPECT_EQ(state.spec.partitions[3].cuts.size(), 2u);
}

TEST(TraceTimelineTest, HealANamedPartitionAlsoBySuffixedName) {
  const TraceSpec trace =
      Trace({Partition(0, "iso", 13), Partition(1 * kS, "iso", 14), Partition(2 * kS, "other"),
             Heal(3 * kS, HealWhat::kPartition, "iso"), Heal(4 * kS, HealWhat::kPartition, "iso"),
             Heal(5 * kS, HealWhat::kPartition, "iso")});
  TraceTimeline timeline(trace);
  TraceState state{.spec = BaseProfile()};
  std::vector<TraceStep> steps = Steps(trace);
  ASSERT_EQ(steps.size(), 6u);
  EXPECT_EQ(steps[3].description, "heal partition iso");
  for (size_t i = 0; i < 3; ++i) ASSERT_EQ(timeline.Apply(steps[i], &state), "");
  ASSERT_EQ(state.spec.partitions.size(), 3u);
  EXPECT_EQ(state.spec.partitions[1].name, "iso #2");
  EXPECT_EQ(timeline.Apply(steps[3], &state), "");
  ASSERT_EQ(state.spec.partitions.size(), 2u);
  EXPECT_EQ(state.spec.partitions[0].name, "iso #2");
  EXPECT_EQ(state.spec.partitions[0].cuts[0].from, Hosts({14}));
  EXPECT_EQ(timeline.Apply(steps[4], &state), "");
  ASSERT_EQ(state.spec.partitions.size(), 1u);
  EXPECT_EQ(state.spec.partitions[0].name, "other");
  EXPECT_EQ(timeline.Apply(steps[5], &state),
            "heal: partition 'iso' is not in force (in force: 'other')");
}

TEST(TraceTimelineTest, HealPartitionsImpairmentsAll) {
  ProfileSpec base = BaseProfile();
  base.partitions.push_back(Partition(0, "p").partition);
  const TraceSpec trace = Trace(
      {Heal(0, HealWhat::kImpairments), Heal(1, HealWhat::kPartitions), Heal(2, HealWhat::kAll)});
  const std::vector<TraceStep> steps = Steps(trace);
  TraceTimeline timeline(trace);
  TraceState state{.spec = base};
  ASSERT_EQ(timeline.Apply(steps[0], &state), "");
  EXPECT_FALSE(state.rules_active);
  EXPECT_EQ(state.spec.partitions.size(), 1u);
  EXPECT_EQ(state.spec.rules.size(), 2u);  // rules stay, switched off
  state.rules_active = true;
  ASSERT_EQ(timeline.Apply(steps[1], &state), "");
  EXPECT_TRUE(state.rules_active);
  EXPECT_TRUE(state.spec.partitions.empty());
  state.spec.partitions = base.partitions;
  ASSERT_EQ(timeline.Apply(steps[2], &state), "");
  EXPECT_FALSE(state.rules_active);
  EXPECT_TRUE(state.spec.partitions.empty());
}

TEST(TraceTimelineTest, LinkStepsSetLinkDown) {
  const TraceSpec trace =
      Trace({Link(0, LinkSide::kA, LinkChange::kDown), Link(1, LinkSide::kBoth, LinkChange::kDown),
             Link(2, LinkSide::kA, LinkChange::kUp), Link(3, LinkSide::kB, LinkChange::kUp)});
  const std::vector<TraceStep> steps = Steps(trace);
  TraceTimeline timeline(trace);
  TraceState state{.spec = BaseProfile()};
  const std::array<bool, 2> expected[] = {
      {true, false}, {true, true}, {false, true}, {false, false}};
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_EQ(timeline.Apply(steps[i], &state), "");
    EXPECT_EQ(state.spec.link_down, expected[i]) << i;
  }
}

TEST(TraceTimelineTest, PartitionLimits) {
  ProfileSpec full = BaseProfile();
  for (size_t i = 0; i < kMaxPartitions; ++i) {
    char name[16];  // ("p" + std::to_string(i) trips a false -Wrestrict in GCC 12)
    std::snprintf(name, sizeof(name), "p%zu", i);
    full.partitions.push_back(Partition(0, name).partition);
  }
  const TraceSpec trace = Trace({Partition(0, "one-more")});
  const std::vector<TraceStep> steps = Steps(trace);
  TraceState state{.spec = full};
  EXPECT_EQ(TraceTimeline(trace).Apply(steps[0], &state),
            "partition: 256 partitions are in force already, the most the dataplane holds");

  ProfileSpec many_cuts = BaseProfile();
  PartitionSpec big;
  big.name = "big";
  big.cuts.resize(kMaxPartitionCuts - 1);
  many_cuts.partitions.push_back(big);
  state = TraceState{.spec = many_cuts};
  EXPECT_EQ(TraceTimeline(trace).Apply(steps[0], &state),
            "partition: 2 more cuts make 4097 in force; the dataplane holds at most 4096");
  EXPECT_EQ(state.spec.partitions.size(), 1u);
}

TEST(TraceTimelineTest, CheckTracePointsAtTheEvent) {
  TraceSpec trace = Trace({Partition(0, "p"), SetImpairment(1 * kS, "etcd-peers", "nope")});
  EXPECT_EQ(CheckTrace(trace, BaseProfile()),
            "5:5: set-impairment: no impairment named 'nope' (impairments: slow, flaky)");
  trace.events[1].impairment = "flaky";
  EXPECT_EQ(CheckTrace(trace, BaseProfile()), "");
  // Against an empty running profile the rule is not there.
  EXPECT_EQ(CheckTrace(trace, ProfileSpec{}),
            "5:5: set-impairment: no rule named 'etcd-peers' (the profile has no rules)");
  // The trace's own profile wins over the running one.
  trace.profile = BaseProfile();
  EXPECT_EQ(CheckTrace(trace, ProfileSpec{}), "");
}

TEST(TraceTimelineTest, CheckTracePlaysASecondRoundWhenItRepeats) {
  ProfileSpec base = BaseProfile();
  base.partitions.push_back(Partition(0, "from-profile").partition);
  // Fine once; in round 2 the profile's partition is gone.
  TraceSpec trace = Trace({Heal(1 * kS, HealWhat::kPartition, "from-profile")}, 1, 10 * kS);
  EXPECT_EQ(CheckTrace(trace, base), "");
  trace.repeat = 2;
  EXPECT_EQ(CheckTrace(trace, base),
            "3:5: heal: partition 'from-profile' is not in force (no partition is) (in round 2, "
            "at 11s)");
  trace.repeat = 0;  // forever: still two rounds, and it returns
  EXPECT_NE(CheckTrace(trace, base), "");
}

TEST(TraceTimelineTest, ScaleTraceDividesEveryTime) {
  TraceSpec trace = Trace({Stall(10 * kS, "n3", 3 * kS),
                           Link(20 * kS, LinkSide::kA, LinkChange::kFlapping, 10 * kS, 1 * kS, 3)},
                          1, 40 * kS);
  const TraceSpec fast = ScaleTrace(trace, 2);
  EXPECT_EQ(fast.events[0].at_ns, 5 * kS);
  EXPECT_EQ(fast.events[0].for_ns, 1500 * kMs);
  EXPECT_EQ(fast.events[1].at_ns, 10 * kS);
  EXPECT_EQ(fast.events[1].for_ns, 5 * kS);
  EXPECT_EQ(fast.events[1].flap_down_ns, 500 * kMs);
  EXPECT_EQ(fast.events[1].flap_up_ns, 2u);  // 1.5ns rounds to 2
  EXPECT_EQ(fast.period_ns, 20 * kS);
  EXPECT_EQ(fast.events[0].members, trace.events[0].members);

  const TraceSpec slow = ScaleTrace(trace, 0.5);
  EXPECT_EQ(slow.events[0].at_ns, 20 * kS);
  EXPECT_EQ(slow.events[1].flap_up_ns, 6u);
  EXPECT_EQ(slow.period_ns, 80 * kS);

  // A length never rounds to 0 (a flap of 0ns would never end).
  EXPECT_EQ(ScaleTrace(trace, 8).events[1].flap_up_ns, 1u);
  // Rounded parts may end past the rounded round; the round grows to hold them.
  const TraceSpec tiny = ScaleTrace(Trace({Stall(1, "n3", 1)}, 1, 2), 2);
  EXPECT_EQ(tiny.events[0].at_ns, 1u);
  EXPECT_EQ(tiny.events[0].for_ns, 1u);
  EXPECT_EQ(tiny.period_ns, 2u);
  // Not a speed: unchanged.
  EXPECT_EQ(ScaleTrace(trace, 0).period_ns, 40 * kS);
  EXPECT_EQ(ScaleTrace(trace, -1).events[0].at_ns, 10 * kS);
}

}  // namespace
}  // namespace faultline
