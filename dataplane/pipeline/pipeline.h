// The per-lcore packet pipeline: gives every received packet a departure time and holds it in
// the timing wheel until then. Live workers and offline replay drive the same object; only
// where `now` comes from differs.
//
// Stage order (docs/architecture.md has the picture): parse -> partitions (a cut frame is
// dropped, or answered with an ICMP unreachable or a TCP RST) -> then, for a frame matching a
// rule:
//   classify -> flow state -> stall (hold until the window ends, or drop past its limit)
//   -> loss -> duplicate (the copy runs every following stage on its own) -> corrupt
//   -> rate (queue, tail drop or ECN mark, serialisation) -> delay (base + jitter)
//   -> order (keep flow order, or reorder with a displacement bound) -> hold limit -> wheel
// Frames no rule matches leave at once, untouched. Without a profile every frame gets the
// constant delay of PipelineConfig (the `--delay` shortcut's fast path).
#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/express_lane.h"
#include "dataplane/fastpath/flow_table.h"
#include "dataplane/fastpath/fragment_tracker.h"
#include "dataplane/fastpath/frame_recorder.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/fastpath/random.h"
#include "dataplane/fastpath/stable_table.h"
#include "dataplane/fastpath/timing_wheel.h"
#include "dataplane/models/rule_counters.h"
#include "dataplane/pipeline/compiled_profile.h"

namespace faultline {

// Immutable once built; times already in clock units.
struct PipelineConfig {
  uint64_t delay = 0;       // constant delay for every packet when there is no profile
  uint64_t hold_limit = 0;  // packets this pipeline may hold at once (its share of the pool)
  std::shared_ptr<const CompiledProfile> profile;  // null: constant delay only
  uint64_t rng_stream = 0;                         // worker index: its own random sequence
  uint32_t flow_capacity = 65536;                  // flows with model state per pipeline
  // Idle time after which a flow's entry may be reused (FlowIdleTimeout: 30 s, at least twice
  // the profile's delay horizon). Whoever builds the config sets it; the default never expires.
  uint64_t flow_idle = UINT64_MAX;
  uint32_t fragment_capacity = 4096;  // datagrams whose first fragment's ports are remembered
  // Per-flow displacement ring length at least (a power of two, or 0). A live dataplane reserves
  // room so that a later profile may bound reordering (max-displacement up to length - 2).
  uint32_t min_displacement_ring = 0;
  // The latency histograms (per rule: delay, residence, lateness; per port: residence, lateness).
  // Off only to measure what they cost (bench/pipeline_bench): the statistics then read 0.
  bool measure_latency = true;
  // The pipeline serves one port pair (0, 1) only: a frame with a rule is then recorded in its
  // rule's residence and lateness histograms alone, and a port's are derived when read (the
  // rules' direction that leaves by it plus the port's own, of frames without a rule): 2 records
  // per transmitted frame instead of 4. Off (more pairs): every frame also goes to its port's.
  bool derive_port_latency = false;
  // Units per second of the clock that drives the pipeline (TimeBase::hz; replay: ns). The
  // histograms record clock differences (HistogramUnits) and are converted to ns when read.
  uint64_t clock_hz = 1'000'000'000;
  // Out ports [0, express_ports) get an express lane: bursts that one decision covers whole
  // (CompiledProfile::express, or no profile) skip the parser and the wheel, and the caller
  // transmits them with TransmitLane. 0 (replay, the tests of the wheel path): every frame
  // goes through the wheel. A live Worker sets it.
  uint16_t express_ports = 0;
};

// What the frames a port sent spent inside the dataplane (transmit - arrival) and how late they
// left (transmit - scheduled departure), in clock units (the names are the statistics keys).
struct PortLatency {
  LatencyHistogram residence_ns;
  LatencyHistogram lateness_ns;
  void Reset() {
    residence_ns.Reset();
    lateness_ns.Reset();
  }
};

// The unit of the latency histograms: 2^shift clock units, the longest not above 1 ns (a 2.6 GHz
// TSC: 2 units, 0.77 ns), so that the values below 1024 units, which have a bucket each, are not
// finer than ns: finer would only spread a lateness of a microsecond over more cache lines.
struct HistogramUnits {
  unsigned shift;
  uint64_t hz;  // histogram units per second
  explicit HistogramUnits(uint64_t clock_hz)
      : shift(clock_hz >= 2'000'000'000 ? 63 - __builtin_clzll(clock_hz / 1'000'000'000) : 0),
        hz(clock_hz >> shift) {}
};

// The per-flow displacement ring of a dataplane whose profile may change (live, or replay with a
// trace): a later profile may bound reordering up to max-displacement 14 without a restart (8
// bytes x 16 per flow, 8 MiB per worker at 64Ki flows).
inline constexpr uint32_t kChangeableDisplacementRing = 16;

using PacketWheel = TimingWheel<rte_mbuf, MbufWheelTraits>;

class alignas(64) Pipeline {
 public:
  Pipeline(const PipelineConfig& config, unsigned wheel_tick_shift, uint64_t now);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Takes ownership of `n` packets received on `in_port` at `now`. The port pair is
  // (2k, 2k+1): what enters on one side leaves by the other.
  void Ingest(uint16_t in_port, rte_mbuf* const* packets, uint16_t n, uint64_t now);

  // Express lanes (PipelineConfig::express_ports): sends the frames of `out_port`'s lane that
  // are due at `now`, a run at a time, through `send(frames, n)` (the device call; returns how
  // many it took), reading `clock()` right before each call as their transmit time. Stops at
  // the first call that takes less than it was offered: the rest waits, in order. Counts and
  // records what was sent as PopReady and RecordTransmitAt do, a run at a time (every frame
  // of a run has the same arrival, departure and transmit time). Returns the frames sent.
  // A caller sends a port's lane after what it still buffers for that port and before the
  // ready FIFO's frames: a lane holds the older frames of a constant delay.
  template <typename Send, typename Clock>
  uint32_t TransmitLane(uint16_t out_port, uint64_t now, Send&& send, Clock&& clock) {
    ExpressLane* lane = lanes_[out_port].get();
    if (lane == nullptr || lane->empty()) return 0;
    uint32_t total = 0;
    ExpressLane::Batch batch;
    while (lane->Due(now, &batch)) {
      const uint64_t sent_at = clock();
      const uint32_t sent = send(batch.frames, batch.count);
      if (sent != 0) LaneSent(out_port, *batch.run, sent, sent_at);
      lane->Consume(sent);
      lane_held_ -= sent;
      total += sent;
      if (sent < batch.count) {
        counters_.tx_retries.Add(1);
        break;
      }
    }
    lane->PrefetchHead();  // cold after its delay: load it while the next bursts come in
    return total;
  }
  // Whether any express lane holds a frame.
  bool lanes_empty() const { return lane_held_ == 0; }

  // Moves packets whose departure time is <= now to the ready FIFO.
  void Advance(uint64_t now) { wheel_.Advance(now); }
  // Moves everything to the ready FIFO (end of input offline, drain at shutdown).
  void AdvanceAll() { wheel_.AdvanceAll(); }

  rte_mbuf* PeekReady() const { return wheel_.PeekReady(); }
  // Takes the next ready packet; it counts as forwarded by its rule.
  rte_mbuf* PopReady() {
    rte_mbuf* packet = wheel_.PopReady();
    if (packet != nullptr) {
      const uint16_t slot = Meta(packet)->rule_slot;
      if (slot != 0) rule_counters_[slot - 1].forwarded.Add(1);
    }
    return packet;
  }

  // A frame left by `out_port` (the transmit call took it): its delay (departure - arrival), its
  // residence (transmit - arrival) and lateness (transmit - departure, 0 if it left early: the
  // wheel releases a whole tick at once) go to its rule's (`rule_slot` of PacketMeta, 0: none)
  // and its port's histograms, in histogram units (HistogramUnits: converted when read, no
  // multiply per frame). `late` is the signed transmit - departure; residence is delay + late.
  // `count` frames alike (an express lane's run) are recorded at once.
  void RecordTransmit(uint16_t out_port, uint16_t rule_slot, uint64_t delay, int64_t late,
                      uint32_t count = 1) {
    if (!config_.measure_latency) return;
    const int64_t residence_signed = static_cast<int64_t>(delay) + late;
    const uint64_t residence = residence_signed > 0 ? static_cast<uint64_t>(residence_signed) : 0;
    const uint64_t lateness = late > 0 ? static_cast<uint64_t>(late) : 0;
    if (rule_slot != 0) {
      RuleCounters& rule = rule_counters_[rule_slot - 1];
      rule.delay_ns.Record(delay, count);
      rule.residence_ns.Record(residence, count);
      rule.lateness_ns.Record(lateness, count);
      if (config_.derive_port_latency) return;  // the port's are the rules' sum (AddPortLatency)
    }
    PortLatency& port = port_latency_[out_port];
    port.residence_ns.Record(residence, count);
    port.lateness_ns.Record(lateness, count);
  }
  // The same for a frame with `meta` handed to the device at `sent_at` (clock units): what the
  // live worker's transmit call records (and the bench as it does).
  void RecordTransmitAt(const PacketMeta& meta, uint64_t sent_at) {
    RecordTransmit(meta.out_port, meta.rule_slot, (meta.departure - meta.arrival) >> units_.shift,
                   static_cast<int64_t>(sent_at - meta.departure) >> units_.shift);
  }
  // Units per second of the histograms' values (HistogramSummary::Add converts them to ns).
  uint64_t histogram_hz() const { return units_.hz; }
  // Any thread: adds port `port`'s residence and lateness histograms (back to empty at
  // ResetCounters) to `residence` and `lateness`.
  void AddPortLatency(uint16_t port, HistogramSummary* residence, HistogramSummary* lateness) const;

  // Frees every held packet and counts it under `cause`.
  void DropAll(DropCause cause);

  // Records every frame's fate into `recorder` (--record), or nothing (null: off, one
  // predictable branch per hook). Set before the first Ingest, or between bursts (a live
  // capture): the frames in express lanes then move to the wheel, which records every frame.
  void set_recorder(FrameRecorder* recorder) {
    recorder_ = recorder;
    if (recorder != nullptr) {
      recorder->CountLostIn(&counters_.record_lost);
      SpillLanes();
    }
  }
  FrameRecorder* recorder() const { return recorder_; }

  // Time zero of the profile's schedules (stall windows): the first frame's time offline.
  void set_epoch(uint64_t epoch) { epoch_ = epoch; }

  uint64_t held() const { return wheel_.size() + lane_held_; }
  // Clock time of the earliest held packet's tick, or UINT64_MAX.
  uint64_t NextEventTime() const;

  PipelineCounters& counters() { return counters_; }
  const PipelineCounters& counters() const { return counters_; }

  // The counters of the rules of the profile in force: view[2r + d] for rule r in direction d
  // (0: a-to-b, 1: b-to-a). For the pipeline's own thread (tests, end of run); other threads use
  // FindRuleCounters with the ids of a profile they hold.
  class RuleCounterView {
   public:
    RuleCounterView(const Pipeline* pipeline) : pipeline_(pipeline) {}
    size_t size() const { return pipeline_->profile_ ? pipeline_->profile_->rule_count() * 2 : 0; }
    const RuleCounters& operator[](size_t slot) const {
      return pipeline_
          ->rule_counters_[pipeline_->profile_->rule_counter_id[slot / 2] * 2 + slot % 2];
    }
    struct Iterator {
      const RuleCounterView* view;
      size_t slot;
      const RuleCounters& operator*() const { return (*view)[slot]; }
      Iterator& operator++() {
        ++slot;
        return *this;
      }
      bool operator!=(const Iterator& other) const { return slot != other.slot; }
    };
    Iterator begin() const { return {this, 0}; }
    Iterator end() const { return {this, size()}; }

   private:
    const Pipeline* pipeline_;
  };
  RuleCounterView rule_counters() const { return RuleCounterView(this); }
  // Counters of the rule with counter id `id` (CompiledProfile::rule_counter_id) in direction
  // `direction`, or null if no profile this pipeline was prepared for had it. Any thread.
  const RuleCounters* FindRuleCounters(uint32_t id, int direction) const {
    return rule_counters_.Find(size_t{id} * 2 + direction);
  }
  // Counters of the partition with counter id `id` (CompiledPartition::counter_id) in direction
  // `direction`, or null if no profile this pipeline was prepared for had it. Any thread.
  const PartitionCounters* FindPartitionCounters(uint32_t id, int direction) const {
    return partition_counters_.Find(size_t{id} * 2 + direction);
  }

  // Every counter and histogram of this pipeline back to 0: its own thread, between bursts
  // (Worker, at a statistics reset).
  void ResetCounters();
  const CompiledProfile* profile() const { return profile_.get(); }

  // Control thread (any thread, once per profile, before the profile reaches SwapProfile): makes
  // room for `next`'s rules, so the swap itself allocates nothing. Returns "" or why this
  // pipeline cannot run `next` (a max-displacement beyond its flows' rings).
  std::string Prepare(const CompiledProfile& next);

  // Replaces the profile between bursts (a live `apply`, `heal` or trace step); `next` must have
  // been Prepared. A rule keeps its counters and flows by name and its model state (stall window,
  // rate queue) by name and effects (RuleIdentities); held packets leave as scheduled. Returns
  // the previous profile so the caller can free it outside the fast path.
  std::shared_ptr<const CompiledProfile> SwapProfile(std::shared_ptr<const CompiledProfile> next);
  const FlowTable* flows() const { return flows_.get(); }

 private:
  // Mutable model state of one rule in one direction (the profile itself is shared, read-only).
  struct alignas(64) RuleRuntime {
    bool prepared = false;  // set by Prepare (control thread) before the worker sees the slot
    bool seeded = false;    // shared_flow seeded (by the worker, from its generator)
    StallState stall;
    std::unique_ptr<RateLink> link;
    uint64_t bits_to_error = UINT64_MAX;  // corrupt ber mode: distance to the next bit error
    FlowState shared_flow{};              // used by flows the flow table had no room for
    std::unique_ptr<uint64_t[]> shared_ring;
  };

  // Where a frame's processing stands once it has passed the per-original stages.
  struct Context {
    const CompiledImpairment* impairment;
    RuleRuntime* runtime;
    RuleCounters* counters;
    FlowState* flow;
    uint64_t* ring;
    uint64_t now;
    uint64_t ready;  // earliest the frame may enter the link (arrival or stall release)
    uint16_t out_port;
    uint16_t slot;
    uint16_t l3_offset;
    uint8_t family, ecn;
  };

  // What the classification stages decided for one frame of a burst: the partition cutting it
  // (or -1), else the rule it matched (or -1), and its flow's hash if the rule keeps flow state.
  struct Verdict {
    int partition;
    int rule;
    uint64_t flow_hash;
  };
  // The staged burst (as DPDK's l3fwd): parse all, locate all (one bulk LPM lookup), classify
  // all and prefetch their flow buckets, then run the models frame by frame in arrival order
  // (so every random draw comes in the same order as one frame at a time).
  static constexpr uint16_t kStageBurst = Classifier::kLocateBurst;
  void IngestBurst(uint16_t in_port, rte_mbuf* const* packets, uint16_t n, uint64_t now);
  void ParseStage(rte_mbuf* const* packets, uint16_t n, ParsedFrame* parsed, uint64_t now);
  void ClassifyStage(ParsedFrame* parsed, uint16_t n, uint16_t direction, Verdict* verdicts);
  // Frees the frames dropped during the burst, in one call.
  void FreeDropped() {
    if (dropped_count_ == 0) return;
    rte_pktmbuf_free_bulk(dropped_, dropped_count_);
    dropped_count_ = 0;
  }
  void Discard(rte_mbuf* packet) {
    if (dropped_count_ == kMaxDropped) FreeDropped();
    dropped_[dropped_count_++] = packet;
  }

  // A partition cut the frame: drop it, answer it if the partition's mode says so.
  void CutFrame(rte_mbuf* packet, const ParsedFrame& parsed, int partition, uint16_t direction,
                uint16_t in_port, uint64_t now);
  void IngestMatched(rte_mbuf* packet, const ParsedFrame& parsed, const Verdict& verdict,
                     uint16_t direction, uint16_t out_port, uint64_t now);
  // Corrupt, rate, delay, order, schedule: every copy of a frame goes through these.
  void Emit(rte_mbuf* packet, const Context& context);
  // The departure that keeps the flow's order (or reorders it within its bound); `earliest` is
  // when a frame chosen to go ahead leaves.
  uint64_t OrderDeparture(const Context& context, uint64_t departure, uint64_t earliest);
  // Frees `packet` (if any) and counts the drop for its rule and the pipeline.
  void DropMatched(rte_mbuf* packet, RuleCounters& counters, DropCause cause);
  void Schedule(rte_mbuf* packet, uint64_t departure, uint16_t out_port, uint16_t slot_plus_one,
                uint64_t now);
  // A burst that one decision covers whole (CompiledProfile::express, or no profile) goes to
  // its out port's express lane, if it has one with room; false: it takes the frame-by-frame
  // path (which also applies the hold limit and counts its drops).
  bool IngestExpress(const CompiledProfile* profile, uint16_t in_port, rte_mbuf* const* packets,
                     uint16_t n, uint64_t now);
  // `sent` frames of `run` left by `out_port` at `sent_at`: counted and recorded.
  void LaneSent(uint16_t out_port, const ExpressLane::Run& run, uint32_t sent, uint64_t sent_at);
  // Moves every frame of the express lanes into the wheel, with its PacketMeta written.
  void SpillLanes();
  void SeedFlow(FlowState* flow);
  // Recording (recorder_ set): arrival marks, drops of a whole burst, a duplicate's copy.
  void MarkArrivals(rte_mbuf* const* packets, uint16_t n, uint64_t now);
  void RecordDrops(rte_mbuf* const* packets, uint16_t n, uint16_t out_port, DropCause cause);
  void RecordCopy(rte_mbuf* original, rte_mbuf* copy);

  PipelineCounters counters_;
  FrameRecorder* recorder_ = nullptr;
  std::unique_ptr<PortLatency[]> port_latency_;  // kMaxPorts, 496 KiB each
  // Frames dropped during the current burst, freed together at its end (FreeDropped).
  static constexpr uint16_t kMaxDropped = 2 * kStageBurst;
  uint16_t dropped_count_ = 0;
  rte_mbuf* dropped_[kMaxDropped];
  const PipelineConfig config_;  // without its profile (profile_ holds that)
  const HistogramUnits units_;
  std::shared_ptr<const CompiledProfile> profile_;  // config.profile until the first swap
  PacketWheel wheel_;
  std::array<std::unique_ptr<ExpressLane>, kMaxPorts> lanes_;  // by out port; null: none
  uint64_t lane_held_ = 0;                                     // frames in all lanes
  Rng rng_;
  uint64_t epoch_;
  std::unique_ptr<FlowTable> flows_;
  std::unique_ptr<FragmentTracker> fragments_;
  // Indexed by state id * 2 + direction and counter id * 2 + direction (CompiledProfile).
  static constexpr size_t kRuleChunkBits = 5;
  static constexpr size_t kRuleChunks = RuleIdentities::kMaxIds * 2 >> kRuleChunkBits;
  StableTable<RuleRuntime, kRuleChunkBits, kRuleChunks> runtime_;
  // One rule (both directions) per chunk: a RuleCounters holds three 220 KiB histograms, so its
  // memory grows with the rules a run used, not with 32-slot chunks.
  static constexpr size_t kRuleCounterChunkBits = 1;
  StableTable<RuleCounters, kRuleCounterChunkBits,
              (RuleIdentities::kMaxIds * 2 >> kRuleCounterChunkBits)>
      rule_counters_;
  // Seeds the shared flow state of the profile's rules that have none yet (worker thread).
  void SeedRuntimes(const CompiledProfile& profile);
  // Indexed by partition counter id * 2 + direction: a partition keeps its counters by name
  // through every change, and after it is healed (history, until a reset).
  StableTable<PartitionCounters, kRuleChunkBits, kRuleChunks> partition_counters_;
};

}  // namespace faultline
