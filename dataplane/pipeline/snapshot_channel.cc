#include "dataplane/pipeline/snapshot_channel.h"

#include <rte_common.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <thread>

#include "dataplane/pipeline/pipeline.h"

namespace faultline {

namespace {
// A ring of 2^n slots holds 2^n - 1 items.
constexpr unsigned kRingSlots = SnapshotChannel::kCapacity + 1;
static_assert((kRingSlots & (kRingSlots - 1)) == 0, "rte_ring sizes are powers of two");
}  // namespace

rte_ring* SnapshotChannel::MakeRing(const char* name) {
  const ssize_t bytes = rte_ring_get_memsize(kRingSlots);
  if (bytes < 0) throw std::bad_alloc();
  void* memory = std::aligned_alloc(
      RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL(static_cast<size_t>(bytes), RTE_CACHE_LINE_SIZE));
  if (memory == nullptr) throw std::bad_alloc();
  auto* ring = static_cast<rte_ring*>(memory);
  if (rte_ring_init(ring, name, kRingSlots, RING_F_SP_ENQ | RING_F_SC_DEQ) != 0) {
    std::free(memory);
    throw std::bad_alloc();
  }
  return ring;
}

SnapshotChannel::SnapshotChannel() : pending_(MakeRing("snapshots")), retired_(nullptr) {
  try {
    retired_ = MakeRing("retired");
  } catch (...) {
    std::free(pending_);
    throw;
  }
}

SnapshotChannel::~SnapshotChannel() {
  // Every handoff is in one of the rings or staged; the control side knows them all.
  for (SnapshotHandoff* handoff : on_their_way_) delete handoff;
  std::free(pending_);
  std::free(retired_);
}

bool SnapshotChannel::Publish(ProfileSnapshot next, uint64_t activation, uint64_t sequence) {
  if (in_flight() >= kCapacity) return false;
  auto* handoff = new SnapshotHandoff();
  handoff->snapshot = std::move(next);
  handoff->activation = activation;
  handoff->sequence = sequence;
  if (rte_ring_sp_enqueue(pending_, handoff) != 0) {  // cannot happen below kCapacity
    delete handoff;
    return false;
  }
  on_their_way_.push_back(handoff);
  ++published_;
  return true;
}

unsigned SnapshotChannel::CancelFrom(uint64_t not_before) {
  unsigned cancelled = 0;
  for (SnapshotHandoff* handoff : on_their_way_) {
    // A handoff the worker has already handed back has installed_at or discarded set, but the
    // control side must not read those before collecting it: the flag is harmless on those.
    if (handoff->activation >= not_before && !handoff->cancelled.load()) {
      handoff->cancelled.store(true, std::memory_order_release);
      ++cancelled;
    }
  }
  return cancelled;
}

unsigned SnapshotChannel::Collect(const std::function<void(const SnapshotHandoff&)>& returned) {
  void* items[kRingSlots];
  const unsigned got = rte_ring_sc_dequeue_burst(retired_, items, kRingSlots, nullptr);
  for (unsigned i = 0; i < got; ++i) {
    auto* handoff = static_cast<SnapshotHandoff*>(items[i]);
    if (returned) returned(*handoff);
    // They come back in the order they went.
    on_their_way_.erase(std::find(on_their_way_.begin(), on_their_way_.end(), handoff));
    delete handoff;
  }
  collected_ += got;
  return got;
}

SnapshotPublisher::SnapshotPublisher(std::vector<SnapshotChannel*> channels,
                                     std::vector<Pipeline*> pipelines, ProfileSnapshot current)
    : channels_(std::move(channels)),
      pipelines_(std::move(pipelines)),
      current_(current),
      installed_(std::move(current)) {}

void SnapshotPublisher::Collect() {
  for (size_t worker = 0; worker < channels_.size(); ++worker) {
    channels_[worker]->Collect([&](const SnapshotHandoff& handoff) {
      if (listener_) listener_(worker, handoff);
      for (Pending& pending : pending_) {
        if (pending.sequence == handoff.sequence) ++pending.acknowledged;
      }
    });
  }
  while (!pending_.empty() && pending_.front().acknowledged >= channels_.size()) {
    installed_ = std::move(pending_.front().snapshot);
    pending_.pop_front();
  }
}

bool SnapshotPublisher::Send(const ProfileSnapshot& next, uint64_t activation, uint64_t sequence,
                             std::string* error) {
  Collect();
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i]->in_flight() >= SnapshotChannel::kCapacity) {
      *error = "worker " + std::to_string(i) + " has not taken the last " +
               std::to_string(SnapshotChannel::kCapacity) + " changes; nothing changed";
      return false;
    }
  }
  for (Pipeline* pipeline : pipelines_) {
    const std::string problem = pipeline->Prepare(*next);
    if (!problem.empty()) {
      *error = problem + "; nothing changed";
      return false;
    }
  }
  // Only this thread publishes, so every channel still has room.
  for (SnapshotChannel* channel : channels_) channel->Publish(next, activation, sequence);
  pending_.push_back({sequence, activation, next, 0});
  current_ = next;
  return true;
}

bool SnapshotPublisher::Publish(ProfileSnapshot next, std::chrono::milliseconds timeout,
                                std::string* error) {
  const uint64_t sequence = next_sequence_++;
  if (!Send(next, 0, sequence, error)) return false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    Collect();
    bool all = true;
    for (const Pending& pending : pending_) {
      if (pending.sequence == sequence) all = false;
    }
    if (all) return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string list;
      for (size_t i = 0; i < channels_.size(); ++i) {
        if (channels_[i]->in_flight() == 0) continue;
        list.append(list.empty() ? "" : ", ").append(std::to_string(i));
      }
      *error = "worker(s) " + list + " did not take the change within " +
               std::to_string(timeout.count()) +
               " ms; it stays queued and applies when they next poll";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

uint64_t SnapshotPublisher::Schedule(ProfileSnapshot next, uint64_t activation,
                                     std::string* error) {
  const uint64_t sequence = next_sequence_++;
  return Send(next, activation, sequence, error) ? sequence : 0;
}

unsigned SnapshotPublisher::CancelFrom(uint64_t not_before) {
  unsigned cancelled = 0;
  for (SnapshotChannel* channel : channels_) cancelled += channel->CancelFrom(not_before);
  while (!pending_.empty() && pending_.back().activation >= not_before &&
         pending_.back().activation != 0) {
    pending_.pop_back();
  }
  current_ = pending_.empty() ? installed_ : pending_.back().snapshot;
  return cancelled;
}

}  // namespace faultline
