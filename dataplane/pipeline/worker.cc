#include "dataplane/pipeline/worker.h"

#include <rte_ethdev.h>

#include <algorithm>
#include <ctime>
#include <thread>

namespace faultline {

namespace {
// Iterations without work before an idle worker may sleep: a sleep on a busy port would cost
// far more than a few empty polls.
constexpr uint32_t kIdleIterationsBeforeSleep = 64;
// How long before a scheduled snapshot an idle worker stops sleeping.
constexpr uint64_t kSpinBeforeChangeNs = 200'000;

// The worker keeps its plan, but the starting profile only in its pipeline (which lets it go when
// a change replaces it).
WorkerPlan WithoutProfile(WorkerPlan plan) {
  plan.pipeline.profile.reset();
  return plan;
}
// The pipeline's histograms record in the worker's clock units, and every port the worker sends
// by has an express lane (TransmitReady sends them).
PipelineConfig ForWorker(PipelineConfig config, const WorkerPlan& plan) {
  config.clock_hz = plan.time_base.hz;
  for (uint16_t port : plan.ports) {
    config.express_ports = std::max<uint16_t>(config.express_ports, port + 1);
  }
  return config;
}
}  // namespace

Worker::Worker(const WorkerPlan& plan, uint64_t now)
    : plan_(WithoutProfile(plan)),
      pipeline_(ForWorker(plan.pipeline, plan), plan.time_base.wheel_tick_shift, now) {
  for (uint16_t port : plan_.ports) tx_[port].Bind(port, plan_.queue);
}

bool Worker::PollOnce(uint64_t now) { return Poll(now, /*read_clock_at_rx=*/false); }

bool Worker::Poll(uint64_t now, bool read_clock_at_rx) {
  // Between bursts: no frame of this pipeline is half-way through the old profile.
  if (plan_.snapshots != nullptr) {
    plan_.snapshots->Receive(
        now, [this](ProfileSnapshot next) { return pipeline_.SwapProfile(std::move(next)); });
  }
  // Only this thread writes reset_done_: one load of a line the control side rarely writes.
  if (reset_requested_.load(std::memory_order_relaxed) !=
      reset_done_.load(std::memory_order_relaxed)) {
    ResetIfAsked();
  }
  if (capture_ != nullptr && capture_->Changed()) ApplyCapture();
  bool moved = false;
  rte_mbuf* burst[kBurstSize];
  for (uint16_t port : plan_.ports) {
    const uint16_t received = rte_eth_rx_burst(port, plan_.queue, burst, kBurstSize);
    if (received) {
      // A frame's time is when it was received: a clock read before the burst would date frames
      // that arrived while this thread waited for a core before they arrived, and shorten their
      // delay by that wait.
      if (read_clock_at_rx) now = clock_.Now();
      pipeline_.Ingest(port, burst, received, now);
      moved = true;
    }
  }
  pipeline_.Advance(now);
  const bool sent = TransmitReady(now, read_clock_at_rx);
  if (pipeline_.recorder() != nullptr) pipeline_.recorder()->Flush();
  return sent || moved;
}

bool Worker::TransmitReady(uint64_t now, bool read_clock) {
  bool sent = false;
  PipelineCounters& counters = pipeline_.counters();
  // Residence and lateness are measured at the transmit call: live, the clock is read right
  // before it. The wheel releases a whole tick at once: a packet may go up to a tick before its
  // exact departure, which counts as on time (0), not as a wrapped huge lateness.
  auto on_sent = [this](const PacketMeta& meta, uint64_t sent_at) {
    pipeline_.RecordTransmitAt(meta, sent_at);
  };
  // The time of a transmit call: live, read right before it.
  auto transmit_time = [this, now, read_clock] { return read_clock ? clock_.Now() : now; };
  auto flush = [&](TxQueue& queue) { return queue.Flush(counters, transmit_time(), on_sent) > 0; };
  if (!pipeline_.lanes_empty()) {
    // Express lanes first (their frames are the older ones of a constant delay), each after
    // what its port still buffers, so a port's frames leave in order.
    for (uint16_t port : plan_.ports) {
      TxQueue& queue = tx_[port];
      if (queue.size() != 0) {
        sent |= flush(queue);
        if (queue.size() != 0) continue;  // the device is full: the lane waits behind them
      }
      sent |= pipeline_.TransmitLane(
                  port, now,
                  [this, port](rte_mbuf** frames, uint32_t n) {
                    return rte_eth_tx_burst(port, plan_.queue, frames, static_cast<uint16_t>(n));
                  },
                  transmit_time) != 0;
    }
  }
  while (rte_mbuf* packet = pipeline_.PeekReady()) {
    const PacketMeta* meta = Meta(packet);  // prefetched by the wheel
    TxQueue& queue = tx_[meta->out_port];
    if (queue.Full()) {
      sent |= flush(queue);
      // Device full: the packet waits at the head of the ready FIFO, in order.
      if (queue.Full()) break;
    }
    queue.Add(pipeline_.PopReady(), *meta);
    if (queue.ShouldFlush()) sent |= flush(queue);
  }
  // The drain timer is the loop period itself (about a microsecond under load): a longer timer
  // would add its whole length to the scheduling error of a lone packet.
  for (uint16_t port : plan_.ports) {
    if (tx_[port].size() != 0) sent |= flush(tx_[port]);  // no clock read for an empty queue
  }
  return sent;
}

void Worker::IdleWait(uint64_t now) {
  if (plan_.idle_sleep_ns == 0 || ++idle_iterations_ < kIdleIterationsBeforeSleep) return;
  uint64_t sleep_ns = plan_.idle_sleep_ns;
  // Wake for the next departure or the next scheduled change, whichever comes first.
  uint64_t next_event = pipeline_.NextEventTime();
  if (plan_.snapshots != nullptr) {
    const uint64_t activation = plan_.snapshots->NextActivation();
    // A sleep overshoots by tens of microseconds: spin through the last stretch before a
    // scheduled change so it is installed on time even in test mode.
    if (activation != UINT64_MAX &&
        (activation <= now || plan_.time_base.ToNs(activation - now) < kSpinBeforeChangeNs)) {
      return;
    }
    next_event = std::min(next_event, activation);
  }
  if (next_event != UINT64_MAX) {
    const uint64_t until_event = next_event > now ? plan_.time_base.ToNs(next_event - now) : 0;
    sleep_ns = std::min(sleep_ns, until_event);
  }
  if (sleep_ns == 0) return;
  timespec request{static_cast<time_t>(sleep_ns / 1'000'000'000),
                   static_cast<long>(sleep_ns % 1'000'000'000)};
  nanosleep(&request, nullptr);
}

void Worker::Run(const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    const uint64_t now = clock_.Now();
    if (Poll(now, /*read_clock_at_rx=*/true)) {
      idle_iterations_ = 0;
    } else {
      IdleWait(now);
    }
  }
  held_at_stop_ = pipeline_.held() + buffered_tx();
  Shutdown();
}

void Worker::Shutdown() {
  if (plan_.drain_on_exit) {
    const uint64_t deadline = clock_.Now() + plan_.time_base.FromNs(plan_.drain_timeout_ns);
    for (uint64_t now = clock_.Now(); now < deadline; now = clock_.Now()) {
      pipeline_.Advance(now);
      TransmitReady(now, /*read_clock=*/true);
      if (pipeline_.held() == 0 && buffered_tx() == 0) break;
    }
  }
  uint64_t freed = 0;
  for (uint16_t port : plan_.ports) freed += tx_[port].FreeAll();
  pipeline_.counters().Drop(DropCause::kShutdown, freed);
  pipeline_.DropAll(DropCause::kShutdown);
  if (pipeline_.recorder() != nullptr) pipeline_.recorder()->Flush();
}

void Worker::SetRecorder(FrameRecorder* recorder) {
  record_recorder_ = recorder;
  AttachRecorder(recorder);
}

void Worker::AttachRecorder(FrameRecorder* recorder) {
  pipeline_.set_recorder(recorder);
  for (uint16_t port : plan_.ports) tx_[port].set_recorder(recorder);
}

void Worker::SetCapture(CaptureTap* tap) {
  capture_ = tap;
  tap->CountLostIn(&pipeline_.counters().capture_lost);
}

void Worker::ApplyCapture() {
  const bool on = capture_->Apply();
  FrameRecorder* recorder = record_recorder_;
  if (recorder == nullptr && on) recorder = &capture_recorder_;
  if (recorder != nullptr) recorder->set_capture(on ? capture_ : nullptr);
  AttachRecorder(recorder);
}

void Worker::ResetIfAsked() {
  const uint64_t request = reset_requested_.load(std::memory_order_acquire);
  const PipelineCounters& counters = pipeline_.counters();
  reset_totals_.CopyFrom(counters);
  held_at_reset_ = pipeline_.held() + buffered_tx();
  pipeline_.ResetCounters();  // the latency histograms too
  reset_done_.store(request, std::memory_order_release);
}

uint64_t Worker::buffered_tx() const {
  uint64_t total = 0;
  for (uint16_t port : plan_.ports) total += tx_[port].size();
  return total;
}

}  // namespace faultline
