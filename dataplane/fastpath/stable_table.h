// A table indexed by ids that stay valid for a worker's life, grown by the control thread while
// the worker runs: a fixed array of chunk pointers; chunks are allocated once and never move, so
// the worker and statistics readers use an element while the control thread adds others. The
// worker never allocates: the control thread reserves every slot a snapshot uses before handing
// the snapshot over (the snapshot ring's release/acquire orders the two).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>

namespace faultline {

template <typename T, size_t kChunkBits, size_t kChunks>
class StableTable {
 public:
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;
  static constexpr size_t kCapacity = kChunks * kChunkSize;

  StableTable() = default;
  StableTable(const StableTable&) = delete;
  StableTable& operator=(const StableTable&) = delete;
  ~StableTable() {
    for (std::atomic<T*>& chunk : chunks_) delete[] chunk.load(std::memory_order_relaxed);
  }

  // Control thread (the only writer of chunk pointers): the slot, allocating its chunk (value-
  // initialised elements) if it has none yet. `slot` < kCapacity.
  T* Reserve(size_t slot) {
    std::atomic<T*>& chunk = chunks_[slot >> kChunkBits];
    T* elements = chunk.load(std::memory_order_acquire);
    if (elements == nullptr) {
      elements = new T[kChunkSize]();
      chunk.store(elements, std::memory_order_release);
    }
    return &elements[slot & (kChunkSize - 1)];
  }

  // Any thread: the slot, or null if it was never reserved.
  T* Find(size_t slot) const {
    if (slot >= kCapacity) return nullptr;
    T* elements = chunks_[slot >> kChunkBits].load(std::memory_order_acquire);
    return elements == nullptr ? nullptr : &elements[slot & (kChunkSize - 1)];
  }

  // Any thread: `visit` on every element of every chunk allocated so far (reserved slots and their
  // neighbours in the chunk, which are value-initialised).
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (const std::atomic<T*>& chunk : chunks_) {
      T* elements = chunk.load(std::memory_order_acquire);
      if (elements == nullptr) continue;
      for (size_t i = 0; i < kChunkSize; ++i) visit(elements[i]);
    }
  }

  // Any thread: `visit(slot, element)` on every element of every chunk allocated so far.
  template <typename Visit>
  void ForEachSlot(Visit&& visit) const {
    for (size_t chunk = 0; chunk < kChunks; ++chunk) {
      T* elements = chunks_[chunk].load(std::memory_order_acquire);
      if (elements == nullptr) continue;
      for (size_t i = 0; i < kChunkSize; ++i) visit((chunk << kChunkBits) + i, elements[i]);
    }
  }

  // The worker, for a slot of a snapshot it was handed (so reserved): one dependent load.
  T& operator[](size_t slot) const {
    return chunks_[slot >> kChunkBits].load(std::memory_order_relaxed)[slot & (kChunkSize - 1)];
  }

 private:
  std::array<std::atomic<T*>, kChunks> chunks_{};
};

}  // namespace faultline
