// A trace's limits (docs/formats.md, "Limits"), each just under and just over: events, the steps
// one round expands to, times, stall limits, the endpoints its events name together; and what a
// step may put in force (rules, endpoints) when the timeline plays it. A link flapping 1ns down,
// 1ns up for an hour made validation walk 3.6e12 steps.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "control/profile/profile_parser.h"
#include "control/trace/trace_parser.h"
#include "dataplane/config/trace_timeline.h"

namespace faultline {
namespace {

std::optional<TraceSpec> Parse(const std::string& text, std::string* error) {
  return ParseTraceText(text, "t.yaml", "", nullptr, error);
}

TraceSpec Valid(const std::string& text) {
  std::string error;
  std::optional<TraceSpec> trace = Parse(text, &error);
  EXPECT_TRUE(trace.has_value()) << error;
  return trace.value_or(TraceSpec{});
}

std::string Error(const std::string& text) {
  std::string error;
  EXPECT_FALSE(Parse(text, &error).has_value());
  return error;
}

// "version: 1\nevents:\n" and `count` events `event` at 0s, 1s, ...
std::string Events(size_t count, const std::string& event = "heal: all") {
  std::string text = "version: 1\nevents:\n";
  for (size_t i = 0; i < count; ++i) {
    text += "  - {at: " + std::to_string(i) + "s, " + event + "}\n";
  }
  return text;
}

TEST(TraceLimitsTest, EventsJustUnderAndOver) {
  EXPECT_EQ(Valid(Events(kMaxTraceEvents)).events.size(), 10'000u);
  EXPECT_EQ(Error(Events(kMaxTraceEvents + 1)), "t.yaml:10003:5: more than 10000 events");
}

// A flap of 1ns down and 1ns up makes two steps per 2ns.
std::string Flap(const std::string& length) {
  return "version: 1\nevents:\n  - {at: 0s, link: {side: a, state: flapping, for: " + length +
         ", down: 1ns, up: 1ns}}\n";
}

TEST(TraceLimitsTest, StepsOfARoundJustUnderAndOver) {
  ASSERT_EQ(kMaxTraceSteps, 1'000'000u);
  // 1ms: 500,000 cycles, 1,000,000 steps, all played through by validation.
  const auto start = std::chrono::steady_clock::now();
  const TraceSpec trace = Valid(Flap("1ms"));
  std::printf("[ measured ] validating a round of 1,000,000 steps: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  EXPECT_EQ(EventStepCount(trace.events[0]), 1'000'000u);
  TraceTimeline timeline(trace);
  uint64_t steps = 0;
  while (timeline.Next()) ++steps;
  EXPECT_EQ(steps, 1'000'000u);
  EXPECT_EQ(Error(Flap("1000001ns")),
            "t.yaml:3:5: the events make more than 1000000 steps in a round (this flap makes "
            "1000002: two per cycle of down and up)");
  // The flap of the report, refused at once instead of walking 3.6e12 steps.
  EXPECT_EQ(Error(Flap("1h")),
            "t.yaml:3:5: the events make more than 1000000 steps in a round (this flap makes "
            "3600000000000: two per cycle of down and up)");
  // Steps of all events count together: 999,998 steps of flap and two heals.
  const std::string near =
      "version: 1\nevents:\n  - {at: 0s, link: {side: a, state: flapping, for: 999998ns, down: "
      "1ns, up: 1ns}}\n  - {at: 1s, heal: all}\n  - {at: 2s, heal: all}\n";
  EXPECT_EQ(Valid(near).events.size(), 3u);
  EXPECT_EQ(Error(near + "  - {at: 3s, heal: all}\n"),
            "t.yaml:6:5: the events make more than 1000000 steps in a round");
}

TEST(TraceLimitsTest, StepCountsOfEachKind) {
  TraceEvent event;
  event.kind = TraceEventKind::kLink;
  event.link = LinkChange::kFlapping;
  event.for_ns = 10;
  event.flap_down_ns = 2;
  event.flap_up_ns = 3;
  EXPECT_EQ(EventStepCount(event), 4u);  // down 0, up 2, down 5, up 7
  event.for_ns = 11;
  EXPECT_EQ(EventStepCount(event), 6u);  // and down 10, up at 11 (the end)
  event.flap_down_ns = event.flap_up_ns = UINT64_MAX;
  EXPECT_EQ(EventStepCount(event), 2u);
  event.link = LinkChange::kDown;
  EXPECT_EQ(EventStepCount(event), 2u);
  event.for_ns = 0;
  EXPECT_EQ(EventStepCount(event), 1u);
  event.kind = TraceEventKind::kStall;
  EXPECT_EQ(EventStepCount(event), 2u);
  event.kind = TraceEventKind::kPartition;
  EXPECT_EQ(EventStepCount(event), 1u);
  // The count is what the timeline plays.
  TraceSpec trace;
  trace.events = {TraceEvent{}};
  trace.events[0].kind = TraceEventKind::kLink;
  trace.events[0].link = LinkChange::kFlapping;
  trace.events[0].for_ns = 11;
  trace.events[0].flap_down_ns = 2;
  trace.events[0].flap_up_ns = 3;
  trace.period_ns = 11;
  TraceTimeline timeline(trace);
  uint64_t steps = 0;
  while (timeline.Next()) ++steps;
  EXPECT_EQ(steps, EventStepCount(trace.events[0]));
}

TEST(TraceLimitsTest, TimesJustUnderAndOver) {
  EXPECT_EQ(Valid("version: 1\nevents:\n  - {at: 3650d, heal: all}\n").period_ns, kMaxTraceTimeNs);
  EXPECT_EQ(Error("version: 1\nevents:\n  - {at: 315360000000000001ns, heal: all}\n"),
            "t.yaml:3:5: at + for is later than 3650d, the longest a trace may last");
  EXPECT_TRUE(Valid("version: 1\nevents:\n  - {at: 3649d, link: {side: a, state: down, for: 1d}}\n")
                  .events.size());
  EXPECT_EQ(Error("version: 1\nevents:\n  - {at: 3649d, link: {side: a, state: down, for: "
                  "86400000000001ns}}\n"),
            "t.yaml:3:5: at + for is later than 3650d, the longest a trace may last");
  EXPECT_EQ(Valid("version: 1\nduration: 3650d\nevents:\n  - {at: 0s, heal: all}\n").period_ns,
            kMaxTraceTimeNs);
  EXPECT_EQ(Error("version: 1\nduration: 315360000000000001ns\nevents:\n  - {at: 0s, heal: all}\n"),
            "t.yaml:2:11: duration: '315360000000000001ns' is above the limit of 3650d");
}

TEST(TraceLimitsTest, StallLimitJustUnderAndOver) {
  const std::string stall = "version: 1\nevents:\n  - {at: 0s, stall: {group: 10.0.0.1, for: 1s, ";
  EXPECT_EQ(Valid(stall + "limit: 4294967295pkt}}\n").events[0].stall_limit.packets, UINT32_MAX);
  EXPECT_EQ(Error(stall + "limit: 4294967296pkt}}\n"),
            "t.yaml:3:55: limit: '4294967296pkt' is above the limit of 4294967295pkt");
  EXPECT_EQ(Valid(stall + "limit: 1000GB}}\n").events[0].stall_limit.bytes, 1'000'000'000'000u);
  EXPECT_EQ(Error(stall + "limit: 18446744073709551615B}}\n"),
            "t.yaml:3:55: limit: '18446744073709551615B' is above the limit of 1000GB");
}

// The events of a trace name and hold endpoints together: a partition between 50 groups of 204
// addresses holds 2 x 49 x 50 x 204 = 999,600 endpoints (every ordered pair, both sides); a
// second such event is over.
TEST(TraceLimitsTest, EndpointsOfAllEventsTogether) {
  std::string text = "version: 1\nprofile:\n  version: 1\n  groups:\n";
  std::string between;
  for (size_t g = 0; g < 50; ++g) {
    text += "    g" + std::to_string(g) + ": [";
    for (size_t i = 0; i < 204; ++i) {
      text += (i ? ", 10." : "10.") + std::to_string(g) + "." + std::to_string(i) + ".1";
    }
    text += "]\n";
    between += (g ? ", g" : "g") + std::to_string(g);
  }
  text += "events:\n  - {at: 1s, partition: {between: [" + between + "]}}\n";
  EXPECT_EQ(Valid(text).events[0].partition.cuts.size(), 50u * 49u);
  EXPECT_EQ(Error(text + "  - {at: 2s, partition: {between: [" + between + "], name: again}}\n"),
            "t.yaml:57:35: the rules and partitions hold more than 1000000 endpoints (every cut "
            "holds both its sides, and between and shapes cut each ordered pair of their items)");
}

// A profile whose one rule holds `endpoints` source addresses, and `rules` - 1 more empty rules.
ProfileSpec Holding(size_t endpoints, size_t rules) {
  ProfileSpec spec;
  spec.impairments.push_back(ImpairmentSpec{.name = "x"});
  for (size_t r = 0; r < rules; ++r) {
    spec.rules.push_back(RuleSpec{.name = "r" + std::to_string(r), .match = {}, .impairment = 0});
  }
  for (size_t i = 0; i < endpoints; ++i) {
    spec.rules[0].match.src.prefixes.push_back(Prefix{
        .family = 4, .length = 32, .address = {10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)}});
  }
  return spec;
}

// Plays the one-event trace `event` on `start`; the first error or "".
std::string Play(const TraceEvent& event, const ProfileSpec& start) {
  TraceSpec trace;
  trace.events = {event};
  trace.period_ns = event.for_ns + 1;
  TraceTimeline timeline(trace);
  TraceState state{.spec = start};
  while (const std::optional<TraceStep> step = timeline.Next()) {
    const std::string error = timeline.Apply(*step, &state);
    if (!error.empty()) return error;
  }
  return "";
}

TEST(TraceLimitsTest, WhatAStepPutsInForceStaysWithinTheDataplanesLimits) {
  TraceEvent partition;
  partition.kind = TraceEventKind::kPartition;
  partition.partition.name = "p";
  partition.partition.cuts = {PartitionCut{}};
  partition.partition.cuts[0].from.prefixes = {Prefix{.family = 4, .length = 32, .address = {1}}};
  partition.partition.cuts[0].to.prefixes = {Prefix{.family = 4, .length = 32, .address = {2}}};
  EXPECT_EQ(Play(partition, Holding(kMaxMatchEndpoints - 2, 1)), "");
  EXPECT_EQ(Play(partition, Holding(kMaxMatchEndpoints - 1, 1)),
            "partition: its cuts make the rules and partitions in force hold 1000001 endpoints; "
            "the dataplane holds at most 1000000");

  TraceEvent stall;
  stall.kind = TraceEventKind::kStall;
  stall.group = "n";
  stall.for_ns = 1000;
  stall.members.prefixes = {Prefix{.family = 4, .length = 32, .address = {3}}};
  EXPECT_EQ(Play(stall, Holding(1, kMaxRules - 2)), "");
  EXPECT_EQ(Play(stall, Holding(1, kMaxRules - 1)),
            "stall: its two rules make 4097 rules in force; the dataplane holds at most 4096");
  EXPECT_EQ(Play(stall, Holding(kMaxMatchEndpoints - 2, 1)), "");
  EXPECT_EQ(Play(stall, Holding(kMaxMatchEndpoints - 1, 1)),
            "stall: its two rules make the rules and partitions in force hold 1000001 endpoints; "
            "the dataplane holds at most 1000000");
}

}  // namespace
}  // namespace faultline
