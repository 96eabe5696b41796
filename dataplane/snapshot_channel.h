// How configuration reaches running workers: immutable compiled snapshots, handed over through
// lock-free single-producer/single-consumer rings (docs/architecture.md, "Live changes").
//
//   control thread --Publish--> [pending ring] --Receive (worker, between bursts)--> pipeline
//   control thread <--Collect-- [retired ring] <--the previous snapshot-------------- worker
//
// A snapshot crosses a ring as a heap box holding a std::shared_ptr. The worker moves the new
// snapshot into its pipeline and moves the previous one back into the same box, so on the worker
// side nothing is allocated, freed or reference-counted: the control thread allocates every box
// and frees it (and, if it was the last reference, the snapshot) when it comes back.
#pragma once

#include <rte_ring.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/compiled_profile.h"

namespace faultline {

using ProfileSnapshot = std::shared_ptr<const CompiledProfile>;

// The rings between the control thread and one worker. Publish and Collect are called by one
// control thread, Receive by the one worker; nothing else is shared.
class SnapshotChannel {
 public:
  // Snapshots on their way at most (published and not yet collected back).
  static constexpr unsigned kCapacity = 15;

  // Needs no EAL: the rings live in ordinary memory (rte_ring_init).
  SnapshotChannel();
  ~SnapshotChannel();  // frees whatever is still in either ring
  SnapshotChannel(const SnapshotChannel&) = delete;
  SnapshotChannel& operator=(const SnapshotChannel&) = delete;

  // Control side. Queues `next` for the worker; false if kCapacity snapshots are on their way.
  bool Publish(ProfileSnapshot next);
  // Control side. Frees the previous snapshots the worker has handed back; returns how many.
  unsigned Collect();
  // Control side: snapshots published and not yet handed back.
  unsigned in_flight() const { return published_ - collected_; }
  uint64_t published() const { return published_; }
  uint64_t collected() const { return collected_; }

  // Worker side, once per loop iteration: if a snapshot is waiting, `install(next)` must put it
  // in place and return the previous one, which goes back to the control thread. One snapshot
  // per call (the next loop iteration takes the next). Cheap when nothing waits: one load of the
  // producer's index.
  template <typename Install>
  bool Receive(Install&& install) {
    if (rte_ring_empty(pending_)) return false;
    void* item = nullptr;
    if (rte_ring_sc_dequeue(pending_, &item) != 0) return false;
    auto* box = static_cast<ProfileSnapshot*>(item);
    *box = install(std::move(*box));
    // Never fails: the retired ring holds as many as may be on their way (kCapacity).
    rte_ring_sp_enqueue(retired_, box);
    return true;
  }

 private:
  static rte_ring* MakeRing(const char* name);

  rte_ring* pending_;
  rte_ring* retired_;
  uint64_t published_ = 0;  // control thread only
  uint64_t collected_ = 0;  // control thread only
};

// The control thread's end of every worker's channel, and the snapshot they all run.
class SnapshotPublisher {
 public:
  // `channels`: one per worker, alive as long as the publisher. `current`: what the workers
  // started with.
  SnapshotPublisher(std::vector<SnapshotChannel*> channels, ProfileSnapshot current);

  // The snapshot most recently published (what every worker runs once it has acknowledged).
  const ProfileSnapshot& current() const { return current_; }

  // Sends `next` to every worker and waits up to `timeout` for each to install it. All or
  // nothing: if a worker has kCapacity snapshots still on their way, nothing is sent and false
  // returned. If a worker does not acknowledge in time, returns false with *error saying so; the
  // snapshot stays queued and that worker installs it when it next polls.
  bool Publish(ProfileSnapshot next, std::chrono::milliseconds timeout, std::string* error);

  size_t workers() const { return channels_.size(); }

 private:
  std::vector<SnapshotChannel*> channels_;
  ProfileSnapshot current_;
};

}  // namespace faultline
