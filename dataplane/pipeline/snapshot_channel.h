// How configuration reaches running workers: immutable compiled snapshots, handed over through
// lock-free single-producer/single-consumer rings (docs/architecture.md, "Live changes").
//
//   control thread --Publish--> [pending ring] --Receive (worker, between bursts)--> pipeline
//   control thread <--Collect-- [retired ring] <--the previous snapshot-------------- worker
//
// A snapshot crosses a ring in a handoff the control thread allocates. The worker moves the new
// snapshot into its pipeline and the previous one back into the same handoff, so on the worker
// side nothing is allocated, freed or reference-counted: the control thread frees the handoff
// (and, if it was the last reference, the snapshot) when it comes back.
//
// A handoff may carry an activation time: the worker takes it off the ring at once but installs
// it only when its clock reaches that time (trace events are handed over ahead of time and take
// effect in the dataplane itself, on time). It records when it did, so lateness is measured
// where it happens.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/compiled_profile.h"

namespace faultline {

using ProfileSnapshot = std::shared_ptr<const CompiledProfile>;

struct SnapshotHandoff {
  ProfileSnapshot snapshot;   // the new one on the way there, the previous one on the way back
  uint64_t sequence = 0;      // numbered by the publisher, for matching acknowledgements
  uint64_t activation = 0;    // worker clock time to install at (0: as soon as it is seen)
  uint64_t installed_at = 0;  // worker clock when installed (set by the worker)
  bool discarded = false;     // cancelled before its time: never installed
  std::atomic<bool> cancelled{false};  // set by the control thread, read by the worker
};

// The rings between the control thread and one worker. Publish, Cancel and Collect are called by
// one control thread, Receive and NextActivation by the one worker; nothing else is shared.
class SnapshotChannel {
 public:
  // Snapshots on their way at most (published and not yet collected back).
  static constexpr unsigned kCapacity = 15;

  // Needs no EAL: the rings live in ordinary memory (rte_ring_init).
  SnapshotChannel();
  ~SnapshotChannel();  // frees whatever is still in either ring
  SnapshotChannel(const SnapshotChannel&) = delete;
  SnapshotChannel& operator=(const SnapshotChannel&) = delete;

  // Control side. Queues `next` for the worker, to install at `activation` (0: at once); false if
  // kCapacity snapshots are on their way.
  bool Publish(ProfileSnapshot next, uint64_t activation = 0, uint64_t sequence = 0);
  // Control side. Marks every handoff on its way whose activation is at or after `not_before`
  // as cancelled: the worker hands it back uninstalled. Returns how many.
  unsigned CancelFrom(uint64_t not_before);
  // Control side. Frees the handoffs the worker has handed back, calling `returned` with each
  // first (in order); returns how many.
  unsigned Collect(const std::function<void(const SnapshotHandoff&)>& returned = nullptr);
  // Control side: snapshots published and not yet handed back.
  unsigned in_flight() const { return static_cast<unsigned>(published_ - collected_); }
  uint64_t published() const { return published_; }
  uint64_t collected() const { return collected_; }

  // Worker side, once per loop iteration: if a snapshot is due (its activation <= now),
  // `install(next)` must put it in place and return the previous one, which goes back to the
  // control thread. One snapshot per call. Cheap when nothing waits: one load of the producer's
  // index; while a future one waits, a load of its cancel flag and a compare.
  template <typename Install>
  bool Receive(uint64_t now, Install&& install) {
    if (staged_ == nullptr) {
      if (rte_ring_empty(pending_)) return false;
      void* item = nullptr;
      if (rte_ring_sc_dequeue(pending_, &item) != 0) return false;
      staged_ = static_cast<SnapshotHandoff*>(item);
    }
    if (staged_->cancelled.load(std::memory_order_acquire)) {
      staged_->discarded = true;
      Retire();
      return false;
    }
    if (now < staged_->activation) return false;
    staged_->snapshot = install(std::move(staged_->snapshot));
    staged_->installed_at = now;
    Retire();
    return true;
  }
  // Without a clock: whatever is queued installs at once.
  template <typename Install>
  bool Receive(Install&& install) {
    return Receive(UINT64_MAX, std::forward<Install>(install));
  }
  // Worker side: when the snapshot it holds back is due (UINT64_MAX: none). Bounds idle sleeps.
  uint64_t NextActivation() const { return staged_ ? staged_->activation : UINT64_MAX; }

 private:
  static rte_ring* MakeRing(const char* name);
  void Retire() {
    // Never fails: the retired ring holds as many as may be on their way (kCapacity).
    rte_ring_sp_enqueue(retired_, staged_);
    staged_ = nullptr;
  }

  rte_ring* pending_;
  rte_ring* retired_;
  SnapshotHandoff* staged_ = nullptr;          // worker only: taken off the ring, not yet due
  uint64_t published_ = 0;                     // control thread only
  uint64_t collected_ = 0;                     // control thread only
  std::deque<SnapshotHandoff*> on_their_way_;  // control thread only, in publish order
};

// The control thread's end of every worker's channel, and the snapshots they run. Not thread
// safe: one control thread at a time (the control plane serialises requests and trace steps).
class SnapshotPublisher {
 public:
  // `channels` and `pipelines`: one per worker, alive as long as the publisher. `current`: what
  // the workers started with. Each snapshot is Prepared on every pipeline before it is sent.
  SnapshotPublisher(std::vector<SnapshotChannel*> channels, std::vector<class Pipeline*> pipelines,
                    ProfileSnapshot current);

  // The snapshot most recently published and not cancelled (what every worker runs once it has
  // installed everything on its way): the base of the next change.
  const ProfileSnapshot& current() const { return current_; }
  // The newest snapshot every worker has installed.
  const ProfileSnapshot& installed() const { return installed_; }

  // Sends `next` to every worker and waits up to `timeout` for each to install it. All or
  // nothing: if a worker has kCapacity snapshots still on their way, or a pipeline cannot run
  // it, nothing is sent and false returned. If a worker does not acknowledge in time, returns
  // false with *error saying so; the snapshot stays queued and installs when the worker polls.
  bool Publish(ProfileSnapshot next, std::chrono::milliseconds timeout, std::string* error);

  // Sends `next` to every worker to install at clock time `activation`, without waiting.
  // Returns its sequence number, or 0 with *error set (nothing sent).
  uint64_t Schedule(ProfileSnapshot next, uint64_t activation, std::string* error);

  // Cancels every scheduled snapshot due at or after `not_before` (on every worker) and makes
  // current() the last one that will still be installed. Returns how many were cancelled.
  unsigned CancelFrom(uint64_t not_before);

  // Collects what the workers handed back; the listener sees each one.
  void Collect();
  // Called with (worker, handoff) for every handoff that comes back, by whichever call collects
  // it (a trace's lateness is recorded even when an apply's wait collects it).
  void set_listener(std::function<void(size_t, const SnapshotHandoff&)> listener) {
    listener_ = std::move(listener);
  }

  // Snapshots scheduled and not yet installed by every worker.
  size_t pending() const { return pending_.size(); }
  size_t workers() const { return channels_.size(); }

 private:
  struct Pending {
    uint64_t sequence;
    uint64_t activation;
    ProfileSnapshot snapshot;
    size_t acknowledged;  // workers that handed it back
  };
  bool Send(const ProfileSnapshot& next, uint64_t activation, uint64_t sequence,
            std::string* error);

  std::vector<SnapshotChannel*> channels_;
  std::vector<class Pipeline*> pipelines_;
  ProfileSnapshot current_;
  ProfileSnapshot installed_;
  std::deque<Pending> pending_;
  uint64_t next_sequence_ = 1;
  std::function<void(size_t, const SnapshotHandoff&)> listener_;
};

}  // namespace faultline
