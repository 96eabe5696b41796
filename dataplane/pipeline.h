// The per-lcore packet pipeline: gives every received packet a departure time and holds it in
// the timing wheel until then. Live workers and offline replay drive the same object; only
// where `now` comes from differs.
//
// Stage order (later issues insert their stages where marked):
//   ingest -> [classify] -> [drop / clone / corrupt] -> departure time -> hold limit -> wheel
//   wheel -> ready FIFO -> caller's tx
#pragma once

#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/packet_meta.h"
#include "dataplane/timing_wheel.h"

namespace faultline {

// Immutable once built; times already in clock units.
struct PipelineConfig {
  uint64_t delay = 0;       // constant delay added to every packet
  uint64_t hold_limit = 0;  // packets this pipeline may hold at once (its share of the pool)
};

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

  // Moves packets whose departure time is <= now to the ready FIFO.
  void Advance(uint64_t now) { wheel_.Advance(now); }
  // Moves everything to the ready FIFO (end of input offline, drain at shutdown).
  void AdvanceAll() { wheel_.AdvanceAll(); }

  rte_mbuf* PeekReady() const { return wheel_.PeekReady(); }
  rte_mbuf* PopReady() { return wheel_.PopReady(); }

  // Frees every held packet and counts it under `cause`.
  void DropAll(DropCause cause);

  uint64_t held() const { return wheel_.size(); }
  // Clock time of the earliest held packet's tick, or UINT64_MAX.
  uint64_t NextEventTime() const;

  PipelineCounters& counters() { return counters_; }
  const PipelineCounters& counters() const { return counters_; }

 private:
  PipelineCounters counters_;
  const PipelineConfig config_;
  PacketWheel wheel_;
};

}  // namespace faultline
