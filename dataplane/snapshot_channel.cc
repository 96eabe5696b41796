#include "dataplane/snapshot_channel.h"

#include <rte_common.h>

#include <cstdlib>
#include <new>
#include <thread>

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
  void* item = nullptr;
  for (rte_ring* ring : {pending_, retired_}) {
    while (rte_ring_sc_dequeue(ring, &item) == 0) delete static_cast<ProfileSnapshot*>(item);
    std::free(ring);
  }
}

bool SnapshotChannel::Publish(ProfileSnapshot next) {
  if (in_flight() >= kCapacity) return false;
  auto* box = new ProfileSnapshot(std::move(next));
  if (rte_ring_sp_enqueue(pending_, box) != 0) {  // cannot happen below kCapacity
    delete box;
    return false;
  }
  ++published_;
  return true;
}

unsigned SnapshotChannel::Collect() {
  void* items[kRingSlots];
  const unsigned got = rte_ring_sc_dequeue_burst(retired_, items, kRingSlots, nullptr);
  for (unsigned i = 0; i < got; ++i) delete static_cast<ProfileSnapshot*>(items[i]);
  collected_ += got;
  return got;
}

SnapshotPublisher::SnapshotPublisher(std::vector<SnapshotChannel*> channels,
                                     ProfileSnapshot current)
    : channels_(std::move(channels)), current_(std::move(current)) {}

bool SnapshotPublisher::Publish(ProfileSnapshot next, std::chrono::milliseconds timeout,
                                std::string* error) {
  for (size_t i = 0; i < channels_.size(); ++i) {
    channels_[i]->Collect();
    if (channels_[i]->in_flight() >= SnapshotChannel::kCapacity) {
      *error = "worker " + std::to_string(i) + " has not taken the last " +
               std::to_string(SnapshotChannel::kCapacity) + " changes; nothing changed";
      return false;
    }
  }
  // Only this thread publishes, so every channel still has room.
  for (SnapshotChannel* channel : channels_) channel->Publish(next);
  current_ = std::move(next);

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<size_t> waiting;
    for (size_t i = 0; i < channels_.size(); ++i) {
      channels_[i]->Collect();
      if (channels_[i]->in_flight() != 0) waiting.push_back(i);
    }
    if (waiting.empty()) return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string list;
      for (size_t i : waiting) list.append(list.empty() ? "" : ", ").append(std::to_string(i));
      *error = "worker(s) " + list + " did not take the change within " +
               std::to_string(timeout.count()) +
               " ms; it stays queued and applies when they next poll";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

}  // namespace faultline
