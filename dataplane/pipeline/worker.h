// One worker lcore: polls its rx queue on every port, runs the pipeline, transmits what is due.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/latency_histogram.h"
#include "dataplane/fastpath/tx_queue.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/pipeline/snapshot_channel.h"

namespace faultline {

struct WorkerPlan {
  uint16_t queue = 0;           // this worker's rx/tx queue index on every port
  std::vector<uint16_t> ports;  // ports in pairs (0,1), (2,3), ...
  PipelineConfig pipeline;
  TimeBase time_base;
  uint64_t idle_sleep_ns = 0;  // 0: busy-poll; else sleep this long when idle (test mode)
  bool drain_on_exit = false;  // at stop: deliver held packets (up to drain_timeout_ns)
  uint64_t drain_timeout_ns = 0;
  // Where new profile snapshots arrive (live apply/heal); null: the profile never changes.
  SnapshotChannel* snapshots = nullptr;
};

class alignas(64) Worker {
 public:
  Worker(const WorkerPlan& plan, uint64_t now);

  // The lcore loop; returns when `stop` becomes true, after Shutdown.
  void Run(const std::atomic<bool>& stop);

  // One iteration at time `now`: take a new profile snapshot if one waits, rx, pipeline, tx.
  // Returns whether anything moved.
  bool PollOnce(uint64_t now);
  // The same; with `read_clock_at_rx` (live, Run), each received burst is dated by the TSC read
  // once it has arrived, not by `now`.
  bool Poll(uint64_t now, bool read_clock_at_rx);

  // Records every frame's fate into `recorder` (--record; null: off). Before Run.
  void SetRecorder(FrameRecorder* recorder);
  // Live capture (`faultline capture`): the worker reads `tap`'s filter once per burst and, while
  // a capture is on, offers the frames at the recorder's fate hooks to it. Before Run.
  void SetCapture(CaptureTap* tap);

  // Delivers (if planned) or frees everything still held; every freed packet is counted.
  void Shutdown();

  // A statistics reset, asked by a control thread and done by the worker between two bursts: its
  // counters and histograms go to 0 at one instant of its own, right after their values were kept
  // (reset_totals). No lock: a request number the worker answers when it next polls.
  uint64_t RequestReset() { return reset_requested_.fetch_add(1, std::memory_order_release) + 1; }
  bool ResetDone(uint64_t request) const {
    return reset_done_.load(std::memory_order_acquire) >= request;
  }
  // What the counters held at the last reset (read once ResetDone).
  const PipelineCounters& reset_totals() const { return reset_totals_; }
  uint64_t held_at_reset() const { return held_at_reset_; }

  const Pipeline& pipeline() const { return pipeline_; }
  Pipeline& pipeline() { return pipeline_; }
  uint64_t buffered_tx() const;
  // Packets held (wheel and tx buffers) when the stop request arrived.
  uint64_t held_at_stop() const { return held_at_stop_; }

  // Departure lateness of the packets sent by `port` (its direction: port 1 carries a-to-b):
  // the time of the transmit call minus the scheduled departure, in ns. Written by the worker
  // alone, readable by any thread; back to empty at a statistics reset.
  HistogramSummary lateness(uint16_t port) const {
    HistogramSummary residence_ns, lateness_ns;
    pipeline_.AddPortLatency(port, &residence_ns, &lateness_ns);
    return lateness_ns;
  }
  // Residence time of the packets sent by `port`: the time of the transmit call minus the time
  // the packet was received, in ns. As lateness().
  HistogramSummary residence(uint16_t port) const {
    HistogramSummary residence_ns, lateness_ns;
    pipeline_.AddPortLatency(port, &residence_ns, &lateness_ns);
    return residence_ns;
  }

 private:
  // Moves ready packets into the tx buffers and flushes them. `now` is the time of the transmit
  // calls, or with `read_clock` (live) the clock is read before each call. Returns whether any
  // were sent.
  bool TransmitReady(uint64_t now, bool read_clock);
  void IdleWait(uint64_t now);
  // Does the reset asked for, if one was (worker thread).
  void ResetIfAsked();
  // The capture filter changed: hooks on (the recorder's, or one of capture's own) or off.
  void ApplyCapture();
  // Sets the fate hooks of the pipeline and the transmit buffers (null: off).
  void AttachRecorder(FrameRecorder* recorder);

  const WorkerPlan plan_;
  TscClock clock_;
  Pipeline pipeline_;
  std::array<TxQueue, kMaxPorts> tx_;
  uint32_t idle_iterations_ = 0;
  uint64_t held_at_stop_ = 0;
  alignas(64) std::atomic<uint64_t> reset_requested_{0};  // written by control threads
  alignas(64) std::atomic<uint64_t> reset_done_{0};       // written by the worker
  PipelineCounters reset_totals_;                         // the worker's, published by reset_done_
  uint64_t held_at_reset_ = 0;
  CaptureTap* capture_ = nullptr;
  FrameRecorder* record_recorder_ = nullptr;        // --record's, or null
  FrameRecorder capture_recorder_{nullptr, false};  // capture without --record: hooks only
};

}  // namespace faultline
