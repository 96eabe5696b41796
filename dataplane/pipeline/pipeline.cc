#include "dataplane/pipeline/pipeline.h"

#include <rte_prefetch.h>

#include <algorithm>

#include "dataplane/models/duplicate.h"
#include "dataplane/models/partition_responder.h"
#include "dataplane/pipeline/stage_timing.h"

namespace faultline {

namespace {
// The pipeline keeps its configuration but not the starting profile in it: that snapshot must be
// freed once a live change or a trace step has replaced it (its group tables take 64 MiB and
// more), like every later one.
PipelineConfig WithoutProfile(PipelineConfig config) {
  config.profile.reset();
  return config;
}

}  // namespace

Pipeline::Pipeline(const PipelineConfig& config, unsigned wheel_tick_shift, uint64_t now)
    : config_(WithoutProfile(config)),
      units_(config.clock_hz),
      profile_(config.profile),
      wheel_(wheel_tick_shift, now, config.hold_limit),
      rng_(config.profile ? config.profile->seed : 0, config.rng_stream),
      epoch_(now) {
  port_latency_ = std::make_unique<PortLatency[]>(kMaxPorts);
  // A lane can hold every frame the pipeline may hold. Runs are bursts: under load they are
  // full (32 frames); a lane out of runs sends further bursts through the wheel until it drains.
  const uint64_t lane_frames = std::max<uint64_t>(config.hold_limit, 2 * kStageBurst);
  for (uint16_t port = 0; port < std::min<uint16_t>(config.express_ports, kMaxPorts); ++port) {
    lanes_[port] =
        std::make_unique<ExpressLane>(lane_frames, std::max<uint64_t>(lane_frames / 8, 64));
  }
  const CompiledProfile* profile = profile_.get();
  if (profile == nullptr) return;
  flows_ = std::make_unique<FlowTable>(
      config_.flow_capacity, std::max(profile->displacement_ring, config_.min_displacement_ring));
  fragments_ = std::make_unique<FragmentTracker>(config_.fragment_capacity,
                                                 profile->time_base.FromNs(kFragmentTimeoutNs));
  Prepare(*profile);  // cannot fail: the rings were sized for this profile
  SeedRuntimes(*profile);
}

std::string Pipeline::Prepare(const CompiledProfile& next) {
  if (flows_ == nullptr) return "this pipeline runs without a profile";
  if (next.displacement_ring > flows_->ring_length()) {
    return "its max-displacement needs per-flow rings of " +
           std::to_string(next.displacement_ring) + " entries and this dataplane has " +
           std::to_string(flows_->ring_length()) + " (max-displacement up to " +
           std::to_string(flows_->ring_length() > 2 ? flows_->ring_length() - 2 : 0) +
           "); restart it with the profile";
  }
  for (size_t rule = 0; rule < next.rule_count(); ++rule) {
    const CompiledImpairment& impairment = next.impairments[next.rule_impairment[rule]];
    for (size_t direction = 0; direction < 2; ++direction) {
      rule_counters_.Reserve(size_t{next.rule_counter_id[rule]} * 2 + direction);
      RuleRuntime* runtime = runtime_.Reserve(size_t{next.rule_state_id[rule]} * 2 + direction);
      if (runtime->prepared) {
        // The worker may be using this state: it can only be shared, never rebuilt. A state id
        // has the same effects in every profile compiled with the same RuleIdentities; the
        // model state keeps copies of what it needs, never references into a profile (which is
        // freed when a later change replaces it).
        if (impairment.has_rate != (runtime->link != nullptr) ||
            (impairment.has_rate && !(runtime->link->rate() == impairment.rate))) {
          return "rule '" + next.rule_names[rule] + "' has state id " +
                 std::to_string(next.rule_state_id[rule]) +
                 " with other effects than before (compile every profile of a pipeline with "
                 "the same RuleIdentities)";
        }
        continue;
      }
      if (impairment.has_rate) runtime->link = std::make_unique<RateLink>(impairment.rate);
      if (flows_->ring_length()) {
        runtime->shared_ring = std::make_unique<uint64_t[]>(flows_->ring_length());
      }
      runtime->prepared = true;
    }
  }
  for (const CompiledPartition& partition : next.partitions) {
    for (size_t direction = 0; direction < 2; ++direction) {
      partition_counters_.Reserve(size_t{partition.counter_id} * 2 + direction);
    }
  }
  return "";
}

void Pipeline::ResetCounters() {
  counters_.Reset();
  rule_counters_.ForEach([](RuleCounters& counters) { counters.Reset(); });
  for (uint16_t port = 0; port < kMaxPorts; ++port) port_latency_[port].Reset();
  partition_counters_.ForEach([](PartitionCounters& counters) { counters.Reset(); });
}

void Pipeline::AddPortLatency(uint16_t port, HistogramSummary* residence,
                              HistogramSummary* lateness) const {
  residence->Add(port_latency_[port].residence_ns, units_.hz);
  lateness->Add(port_latency_[port].lateness_ns, units_.hz);
  if (!config_.derive_port_latency || port > 1) return;
  // Port p sends what came in by the other one: direction (p ^ 1) & 1, slot id * 2 + direction.
  const size_t direction = (port ^ 1) & 1;
  rule_counters_.ForEachSlot([&](size_t slot, const RuleCounters& rule) {
    if ((slot & 1) != direction) return;
    residence->Add(rule.residence_ns, units_.hz);
    lateness->Add(rule.lateness_ns, units_.hz);
  });
}

void Pipeline::SeedRuntimes(const CompiledProfile& profile) {
  for (size_t rule = 0; rule < profile.rule_count(); ++rule) {
    for (size_t direction = 0; direction < 2; ++direction) {
      RuleRuntime& runtime = runtime_[size_t{profile.rule_state_id[rule]} * 2 + direction];
      if (runtime.seeded) continue;
      SeedFlow(&runtime.shared_flow);
      runtime.seeded = true;
    }
  }
}

Pipeline::~Pipeline() { DropAll(DropCause::kShutdown); }

std::shared_ptr<const CompiledProfile> Pipeline::SwapProfile(
    std::shared_ptr<const CompiledProfile> next) {
  if (profile_ == nullptr || next == nullptr) {  // not allowed (see the header); keep running
    return next;
  }
  SeedRuntimes(*next);
  profile_.swap(next);
  return next;
}

void Pipeline::Ingest(uint16_t in_port, rte_mbuf* const* packets, uint16_t n, uint64_t now) {
  counters_.rx[in_port].Add(n);
  if (recorder_ != nullptr) MarkArrivals(packets, n, now);
  const uint16_t out_port = in_port ^ 1;
  const CompiledProfile* profile = profile_.get();
  if (lanes_[out_port] != nullptr && recorder_ == nullptr &&
      IngestExpress(profile, in_port, packets, n, now)) {
    return;
  }
  if (profile == nullptr) {
    for (uint16_t i = 0; i < n; ++i) Schedule(packets[i], now + config_.delay, out_port, 0, now);
    FreeDropped();
    return;
  }
  const uint16_t direction = in_port & 1;  // 0: a-to-b, 1: b-to-a
  if (profile->any_link_down &&
      (profile->link_down[direction] || profile->link_down[direction ^ 1])) {
    // A side that is down neither delivers what arrived on it nor takes what would leave by it.
    if (recorder_ != nullptr) RecordDrops(packets, n, out_port, DropCause::kLinkDown);
    rte_pktmbuf_free_bulk(const_cast<rte_mbuf**>(packets), n);
    counters_.Drop(DropCause::kLinkDown, n);
    return;
  }
  for (uint16_t done = 0; done < n; done += kStageBurst) {
    IngestBurst(in_port, packets + done, std::min<uint16_t>(kStageBurst, n - done), now);
  }
}

bool Pipeline::IngestExpress(const CompiledProfile* profile, uint16_t in_port,
                             rte_mbuf* const* packets, uint16_t n, uint64_t now) {
  uint64_t delay = config_.delay;
  uint16_t slot_plus_one = 0;
  const uint16_t direction = in_port & 1;
  if (profile != nullptr) {
    const ExpressRoute& route = profile->express[direction];
    if (!route.whole) return false;
    delay = route.delay;
    if (route.rule >= 0) {
      slot_plus_one =
          static_cast<uint16_t>(profile->rule_counter_id[route.rule] * 2 + direction + 1);
    }
  }
  ExpressLane& lane = *lanes_[in_port ^ 1];
  const uint64_t departure = now + delay;
  if (held() + n > config_.hold_limit || !lane.Accepts(departure, n)) return false;
  lane.Push(packets, n, now, departure, slot_plus_one);
  lane_held_ += n;
  if (slot_plus_one != 0) {
    rule_counters_[slot_plus_one - 1].matched.Add(n);
  } else if (profile != nullptr) {
    counters_.unmatched.Add(n);
  }
  return true;
}

void Pipeline::LaneSent(uint16_t out_port, const ExpressLane::Run& run, uint32_t sent,
                        uint64_t sent_at) {
  counters_.tx[out_port].Add(sent);
  if (run.rule_slot != 0) rule_counters_[run.rule_slot - 1].forwarded.Add(sent);
  RecordTransmit(out_port, run.rule_slot, (run.departure - run.arrival) >> units_.shift,
                 static_cast<int64_t>(sent_at - run.departure) >> units_.shift, sent);
}

void Pipeline::SpillLanes() {
  for (std::unique_ptr<ExpressLane>& lane : lanes_) {
    if (lane == nullptr) continue;
    const uint16_t out_port = static_cast<uint16_t>(&lane - lanes_.data());
    lane->ForEachAndClear([this, out_port](rte_mbuf* packet, const ExpressLane::Run& run) {
      PacketMeta* meta = Meta(packet);
      *meta = PacketMeta{.departure = run.departure,
                         .out_port = static_cast<uint8_t>(out_port),
                         .copy = kCopyOriginal,
                         .rule_slot = run.rule_slot,
                         .original_length = 0,
                         .arrival = run.arrival};
      --lane_held_;
      // The wheel's capacity is the hold limit, which the lanes' frames counted against.
      if (!wheel_.Insert(packet)) {
        rte_pktmbuf_free(packet);
        counters_.Drop(DropCause::kBufferExhausted);
      }
    });
  }
}

void Pipeline::IngestBurst(uint16_t in_port, rte_mbuf* const* packets, uint16_t n, uint64_t now) {
  const uint16_t out_port = in_port ^ 1;
  const uint16_t direction = in_port & 1;
  ParsedFrame parsed[kStageBurst];
  Verdict verdicts[kStageBurst];
  FL_STAGE_START(parse_start);
  ParseStage(packets, n, parsed, now);
  FL_STAGE_STOP(Stage::kParse, parse_start);
  FL_STAGE_START(classify_start);
  ClassifyStage(parsed, n, direction, verdicts);
  FL_STAGE_STOP(Stage::kClassify, classify_start);
  FL_STAGE_START(models_start);  // wheel inserts included (they are timed on their own too)
  for (uint16_t i = 0; i < n; ++i) {
    const Verdict& verdict = verdicts[i];
    if (recorder_ != nullptr)
      packets[i]->hash.usr = static_cast<uint32_t>(HashFlowKey(parsed[i].key));
    if (verdict.partition >= 0) {
      CutFrame(packets[i], parsed[i], verdict.partition, direction, in_port, now);
    } else if (verdict.rule < 0) {
      counters_.unmatched.Add(1);
      Schedule(packets[i], now, out_port, 0, now);
    } else {
      IngestMatched(packets[i], parsed[i], verdict, direction, out_port, now);
    }
  }
  FreeDropped();
  FL_STAGE_STOP(Stage::kModels, models_start);
}

void Pipeline::ParseStage(rte_mbuf* const* packets, uint16_t n, ParsedFrame* parsed, uint64_t now) {
  // The parser reads each frame's first line and the mbuf's: fetch them for the whole burst
  // first, so the misses overlap instead of stalling one frame at a time.
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(packets[i]);
  for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(packets[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    ParseFrame(packets[i], &parsed[i]);
    if (parsed[i].malformed) counters_.malformed.Add(1);
    // Later fragments take the ports (and flow) of their first fragment; the tracker sees the
    // frames in arrival order, as before.
    if (parsed[i].fragment != Fragment::kNone && !fragments_->Track(&parsed[i], now)) {
      counters_.fragments_unresolved.Add(1);
    }
  }
}

void Pipeline::ClassifyStage(ParsedFrame* parsed, uint16_t n, uint16_t direction,
                             Verdict* verdicts) {
  const CompiledProfile& profile = *profile_;
  const Classifier& classifier = *profile.classifier;
  const bool partitions = classifier.has_partitions();
  const bool rules = profile.rules_active && classifier.rule_count() != 0;
  // Where the frames' endpoints fall matters only to partitions and active rules (not after
  // `heal --impairments` with no partitions left).
  FrameEndpoints where[kStageBurst];
  if (partitions || rules) classifier.LocateBurst(parsed, n, where);
  const Direction match_direction = direction == 0 ? Direction::kAToB : Direction::kBToA;
  uint16_t keyed[kStageBurst];  // the frames whose rule keeps flow state
  uint16_t keyed_count = 0;
  for (uint16_t i = 0; i < n; ++i) {
    Verdict& verdict = verdicts[i];
    verdict.partition = partitions ? classifier.Cut(parsed[i], where[i]) : -1;
    verdict.rule = verdict.partition < 0 && rules
                       ? classifier.Classify(parsed[i], match_direction, where[i])
                       : -1;
    if (verdict.rule < 0) continue;
    // Counters and flows follow the rule's name (see RuleIdentities): the flow key carries the
    // rule's slot.
    const CompiledImpairment& impairment =
        profile.impairments[profile.rule_impairment[verdict.rule]];
    if (!impairment.needs_flow_state) continue;
    parsed[i].key.rule_slot =
        static_cast<uint16_t>(profile.rule_counter_id[verdict.rule] * 2 + direction);
    keyed[keyed_count++] = i;
  }
  // Hash the keys and start loading their buckets for the model stage. A pass of its own: the
  // hash reads the key as whole words, and a word read right after the 2-byte rule_slot store
  // into it cannot be forwarded from the store buffer and waits for the store to reach the
  // cache; a burst later it has.
  for (uint16_t k = 0; k < keyed_count; ++k) {
    Verdict& verdict = verdicts[keyed[k]];
    verdict.flow_hash = HashFlowKey(parsed[keyed[k]].key);
    flows_->Prefetch(verdict.flow_hash);
  }
}

void Pipeline::CutFrame(rte_mbuf* packet, const ParsedFrame& parsed, int partition,
                        uint16_t direction, uint16_t in_port, uint64_t now) {
  PartitionCounters& counters =
      partition_counters_[size_t{profile_->partitions[partition].counter_id} * 2 + direction];
  rte_mbuf* answer =
      BuildPartitionAnswer(profile_->partitions[partition].mode, packet, parsed, packet->pool);
  if (recorder_ != nullptr) {
    Meta(packet)->out_port = static_cast<uint8_t>(in_port ^ 1);
    recorder_->Dropped(packet, DropCause::kPartition);
    if (answer != nullptr) {
      FrameRecorder::MarkArrival(answer, now);
      Meta(answer)->copy = kCopyAnswer;
    }
  }
  Discard(packet);
  counters.dropped.Add(1);
  counters_.Drop(DropCause::kPartition);
  if (answer != nullptr) {
    counters.answered.Add(1);
    Schedule(answer, now, in_port, 0, now);  // back to the sender, at once
  }
}

void Pipeline::SeedFlow(FlowState* flow) {
  // netem starts the jitter's correlated sequence from a random value (init_crandom); the
  // yes/no decisions start from "no event before".
  flow->delay_last = rng_.Next32();
}

void Pipeline::IngestMatched(rte_mbuf* packet, const ParsedFrame& parsed, const Verdict& verdict,
                             uint16_t direction, uint16_t out_port, uint64_t now) {
  const CompiledProfile& profile = *profile_;
  const int rule = verdict.rule;
  // Counters and flows follow the rule's name, model state its name and effects (see
  // RuleIdentities), so they survive live changes that keep them.
  const uint16_t slot = static_cast<uint16_t>(profile.rule_counter_id[rule] * 2 + direction);
  Context context;
  context.impairment = &profile.impairments[profile.rule_impairment[rule]];
  context.runtime = &runtime_[size_t{profile.rule_state_id[rule]} * 2 + direction];
  context.counters = &rule_counters_[slot];
  context.flow = nullptr;
  context.ring = nullptr;
  context.now = now;
  context.ready = now;
  context.out_port = out_port;
  context.slot = slot;
  context.l3_offset = parsed.l3_offset;
  context.family = parsed.key.family;
  context.ecn = parsed.ecn;
  const CompiledImpairment& impairment = *context.impairment;
  RuleRuntime& runtime = *context.runtime;
  RuleCounters& counters = *context.counters;
  counters.matched.Add(1);
  if (recorder_ != nullptr) {
    Meta(packet)->rule_slot = static_cast<uint16_t>(slot + 1);
    Meta(packet)->out_port = static_cast<uint8_t>(out_port);
  }

  if (impairment.needs_flow_state) {
    FlowTable::Lookup lookup = FlowTable::Lookup::kFound;  // the key carries `slot` (ClassifyStage)
    context.flow =
        flows_->FindOrInsert(parsed.key, verdict.flow_hash, now, config_.flow_idle, &lookup);
    if (context.flow == nullptr) {
      counters_.flows_untracked.Add(1);
      context.flow = &runtime.shared_flow;
      context.ring = runtime.shared_ring.get();
    } else {
      if (lookup == FlowTable::Lookup::kReused) counters_.flows_expired.Add(1);
      if (lookup != FlowTable::Lookup::kFound) SeedFlow(context.flow);
      if (flows_->ring_length()) context.ring = flows_->Ring(context.flow);
    }
  } else {
    context.flow = &runtime.shared_flow;  // only read for correlation-free draws
  }

  const uint32_t bytes = rte_pktmbuf_pkt_len(packet);
  if (impairment.has_stall) {
    const uint64_t release = runtime.stall.ReleaseTime(impairment.stall, epoch_, now);
    if (release != 0) {
      if (!runtime.stall.Hold(impairment.stall, bytes)) {
        DropMatched(packet, counters, DropCause::kStallLimit);
        return;
      }
      context.ready = release;
    }
  }
  if (impairment.has_loss && (impairment.loss.max_size == 0 || bytes <= impairment.loss.max_size) &&
      LossEvent(impairment.loss, &context.flow->loss_state, &context.flow->loss_last, rng_)) {
    DropMatched(packet, counters, DropCause::kLoss);
    return;
  }
  rte_mbuf* copy = nullptr;
  if (impairment.has_duplicate && impairment.duplicate.Draw(rng_, &context.flow->duplicate_last)) {
    counters.duplicated.Add(1);
    copy = DuplicatePacket(packet);
    if (copy == nullptr) DropMatched(nullptr, counters, DropCause::kBufferExhausted);
    if (recorder_ != nullptr) RecordCopy(packet, copy);
  }
  Emit(packet, context);
  if (copy != nullptr) Emit(copy, context);
}

void Pipeline::Emit(rte_mbuf* packet, const Context& context) {
  const CompiledImpairment& impairment = *context.impairment;
  RuleCounters& counters = *context.counters;
  if (impairment.has_corrupt) {
    const uint32_t flipped = Corrupt(impairment.corrupt, packet, rng_, &context.flow->corrupt_last,
                                     &context.runtime->bits_to_error);
    if (flipped) {
      counters.corrupted.Add(1);
      counters.bits_flipped.Add(flipped);
      if (recorder_ != nullptr) recorder_->Corrupted(packet);
    }
  }
  uint64_t ready = context.ready;
  if (impairment.has_rate) {
    uint64_t finish = 0;
    const RateLink::Verdict verdict =
        context.runtime->link->Enqueue(rte_pktmbuf_pkt_len(packet), ready, &finish);
    if (verdict == RateLink::Verdict::kDropped) {
      DropMatched(packet, counters, DropCause::kQueue);
      return;
    }
    // ECT(0), ECT(1) -> CE; Not-ECT frames are queued unmarked (only the limit drops them).
    if (verdict == RateLink::Verdict::kMarked && (context.ecn == 1 || context.ecn == 2)) {
      MarkCongestionExperienced(packet, context.l3_offset, context.family);
      counters.ecn_marked.Add(1);
    }
    ready = finish;
  }
  uint64_t departure = ready;
  if (impairment.has_delay) departure += impairment.delay.Draw(rng_, &context.flow->delay_last);
  if (impairment.needs_flow_state) {
    departure = OrderDeparture(context, departure, ready);
  }
  Schedule(packet, departure, context.out_port, static_cast<uint16_t>(context.slot + 1),
           context.now);
}

uint64_t Pipeline::OrderDeparture(const Context& context, uint64_t departure, uint64_t earliest) {
  const CompiledImpairment& impairment = *context.impairment;
  FlowState& flow = *context.flow;
  if (!impairment.has_reorder) {
    // Jitter never reorders a flow: no packet leaves before its predecessor.
    departure = std::max(departure, flow.last_departure);
    flow.last_departure = departure;
    return departure;
  }
  // netem: every gap-th packet is a candidate; a chosen one is sent at once, ahead of the
  // packets of its flow still queued. Jitter may reorder freely here, as in netem.
  if (flow.reorder_counter + 1 < impairment.reorder_gap ||
      !impairment.reorder.Draw(rng_, &flow.reorder_last)) {
    ++flow.reorder_counter;
  } else {
    flow.reorder_counter = 0;
    departure = earliest;
    context.counters->reordered.Add(1);
  }
  const uint32_t bound = impairment.max_displacement;
  if (bound != 0 && context.ring != nullptr) {
    // ring[j] = max departure of packets 0..j of the flow. Packet j leaves no earlier than
    // every packet up to j - N - 1, so it overtakes at most N packets, and a packet i is
    // overtaken only by packets i + 1 .. i + N (for j > i + N, ring[j - N - 1] >= dep(i)).
    const uint32_t mask = flows_->ring_length() - 1;
    const uint64_t j = flow.packets;
    if (j > bound) departure = std::max(departure, context.ring[(j - bound - 1) & mask]);
    const uint64_t previous_max = j ? context.ring[(j - 1) & mask] : 0;
    context.ring[j & mask] = std::max(previous_max, departure);
  }
  ++flow.packets;
  return departure;
}

void Pipeline::Schedule(rte_mbuf* packet, uint64_t departure, uint16_t out_port,
                        uint16_t slot_plus_one, uint64_t now) {
  if (held() >= config_.hold_limit) {
    if (recorder_ != nullptr) Meta(packet)->out_port = static_cast<uint8_t>(out_port);
    if (slot_plus_one) {
      DropMatched(packet, rule_counters_[slot_plus_one - 1], DropCause::kBufferExhausted);
    } else {
      if (recorder_ != nullptr) recorder_->Dropped(packet, DropCause::kBufferExhausted);
      Discard(packet);
      counters_.Drop(DropCause::kBufferExhausted);
    }
    return;
  }
  PacketMeta* meta = Meta(packet);
  meta->departure = departure;
  meta->out_port = static_cast<uint8_t>(out_port);
  meta->rule_slot = slot_plus_one;
  meta->arrival = now;
  FL_STAGE_START(insert_start);
  wheel_.Insert(packet);
  FL_STAGE_STOP(Stage::kWheelInsert, insert_start);
}

void Pipeline::DropMatched(rte_mbuf* packet, RuleCounters& counters, DropCause cause) {
  if (packet != nullptr) {
    if (recorder_ != nullptr) recorder_->Dropped(packet, cause);
    Discard(packet);
  }
  counters.Drop(cause);
  counters_.Drop(cause);
}

void Pipeline::DropAll(DropCause cause) {
  uint64_t dropped = 0;
  wheel_.ForEachAndClear([this, &dropped, cause](rte_mbuf* packet) {
    if (recorder_ != nullptr) recorder_->Dropped(packet, cause);
    rte_pktmbuf_free(packet);
    ++dropped;
  });
  for (std::unique_ptr<ExpressLane>& lane : lanes_) {
    if (lane == nullptr) continue;
    lane->ForEachAndClear([&dropped](rte_mbuf* packet, const ExpressLane::Run&) {
      rte_pktmbuf_free(packet);
      ++dropped;
    });
  }
  lane_held_ = 0;
  if (dropped) counters_.Drop(cause, dropped);
}

void Pipeline::MarkArrivals(rte_mbuf* const* packets, uint16_t n, uint64_t now) {
  for (uint16_t i = 0; i < n; ++i) FrameRecorder::MarkArrival(packets[i], now);
}

void Pipeline::RecordDrops(rte_mbuf* const* packets, uint16_t n, uint16_t out_port,
                           DropCause cause) {
  for (uint16_t i = 0; i < n; ++i) {
    Meta(packets[i])->out_port = static_cast<uint8_t>(out_port);
    recorder_->Dropped(packets[i], cause);
  }
}

void Pipeline::RecordCopy(rte_mbuf* original, rte_mbuf* copy) {
  if (copy != nullptr) {
    Meta(copy)->copy = kCopyDuplicate;  // DuplicatePacket copied the original's meta
    recorder_->Duplicated(copy);
    return;
  }
  // The copy the pool could not hold: its drop is recorded as the copy's.
  FrameRecord record = FrameRecorder::Of(original, 0, kFateDropped,
                                         static_cast<uint8_t>(DropCause::kBufferExhausted));
  record.copy = kCopyDuplicate;
  recorder_->Add(record);
}

uint64_t Pipeline::NextEventTime() const {
  uint64_t next = UINT64_MAX;
  for (const std::unique_ptr<ExpressLane>& lane : lanes_) {
    if (lane != nullptr) next = std::min(next, lane->NextDeparture());
  }
  const uint64_t tick = wheel_.NextEventTick();
  if (tick == UINT64_MAX || tick >= (UINT64_MAX >> wheel_.tick_shift())) return next;
  return std::min(next, tick << wheel_.tick_shift());
}

}  // namespace faultline
