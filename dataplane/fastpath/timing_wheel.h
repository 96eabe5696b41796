// Hierarchical timing wheel that releases nodes (packets) at their departure time.
//
// This is the one scheduling mechanism of the dataplane: every impairment reduces to giving a
// packet a departure time, and the wheel hands packets back when that time has come.
//
// Properties (each one is tested in tests/timing_wheel_test.cc):
//  - O(1) insert; expiry is O(1) per node plus O(levels) per cascade (a node is cascaded at
//    most kLevels times in its life). Empty stretches of time are skipped with per-level
//    occupancy bitmaps, so an idle wheel costs nothing to advance.
//  - Never early: a node is released once the caller's limit tick reaches its departure tick.
//  - FIFO among nodes of equal tick, and more strongly: if node x was inserted before node y
//    and tick(x) <= tick(y), x is released before y. That is what lets a flow keep its order
//    when its departure times are non-decreasing.
//  - Nodes beyond the span of the wheel (2^(kBits*kLevels) ticks) wait on an overflow list and
//    are placed into the wheel when time reaches their top-level block; nothing is lost.
//  - Bounded: the wheel holds at most `capacity` nodes (inside, on the overflow list, or
//    released and not yet popped). Insert beyond that returns false and leaves the node with
//    the caller, who must drop and count it; below it, Insert always succeeds.
//
// Placement rule: a node with tick t goes to the level of the highest bit in which t differs
// from the current tick (t XOR current). All nodes of level L then share the current tick's
// digits above L and have a level-L digit greater than the current one, so (1) the lowest
// non-empty level holds the earliest nodes, (2) inside a level the lowest set bitmap bit is the
// next slot, and (3) a slot is cascaded exactly when time enters its block, before any node of
// that block could have been inserted directly below it. (3) is what keeps the order guarantee.
//
// Memory layout, which is what makes it fast on packets: a slot is a chain of fixed-size
// blocks of (tick, node pointer) entries, walked sequentially. Cascading and releasing read
// and write only these packed arrays, never the nodes: with nodes linked through the mbufs
// themselves, every release was a cache miss on a cold mbuf. Released nodes go to a ready ring
// of pointers, and the wheel prefetches the nodes a window ahead of the caller's PopReady so
// the transmit side finds them in cache.
//
// No allocation after construction: all blocks come from one pool sized from the capacity.
// Every chain is full blocks except its tail, so the pool needs ceil(capacity / B) blocks plus
// one partial block per list (kLevels * kSlots slots and the overflow list), plus two while a
// list is being drained into others (the drained list's partly consumed head block, and the
// overflow list refilled while its old chain is drained).
//
// Traits tell the wheel how to read a node's time (once, at insertion) and, optionally, how to
// prefetch it (Traits::Prefetch; the default prefetches the node's first cache line), so the
// same code runs on rte_mbufs in the dataplane and on plain structs in the unit tests, with no
// virtual call.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

namespace faultline {

template <typename Node, typename Traits, unsigned kBitsPerLevel = 8, unsigned kLevels = 5,
          unsigned kBlockEntries = 16, unsigned kPrefetchAhead = 32>
class TimingWheel {
 public:
  static constexpr unsigned kSlots = 1u << kBitsPerLevel;
  static constexpr unsigned kWordsPerLevel = (kSlots + 63) / 64;
  static constexpr unsigned kSpanBits = kBitsPerLevel * kLevels;
  static_assert(kBitsPerLevel >= 1 && kBitsPerLevel <= 12, "slots per level must be sane");
  static_assert(kSpanBits < 64, "the wheel's span must fit in a tick");
  static_assert(kBlockEntries >= 4 && std::has_single_bit(kBlockEntries),
                "blocks are a power of two of entries, whole cache lines for 64-bit pointers");

  // tick_shift: a departure time t (in clock units) falls into tick t >> tick_shift.
  // start_time: the clock's current time; nodes due at or before it are released at once.
  // capacity: the most nodes the wheel holds at once; all memory is allocated here.
  TimingWheel(unsigned tick_shift, uint64_t start_time, uint64_t capacity)
      : tick_shift_(tick_shift),
        current_tick_(LastWholeTick(start_time, tick_shift)),
        capacity_(capacity),
        block_count_(BlockCount(capacity)),
        ready_mask_(std::bit_ceil(capacity == 0 ? uint64_t{1} : capacity) - 1),
        blocks_(new Block[block_count_]),
        block_next_(new uint32_t[block_count_]),
        ready_(new Node*[ready_mask_ + 1]) {}

  TimingWheel(const TimingWheel&) = delete;
  TimingWheel& operator=(const TimingWheel&) = delete;

  unsigned tick_shift() const { return tick_shift_; }
  uint64_t current_tick() const { return current_tick_; }
  uint64_t capacity() const { return capacity_; }
  // Nodes inside the wheel, on the overflow list, or released and not yet popped.
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint64_t overflow_size() const { return overflow_size_; }

  // Takes `node` unless the wheel already holds `capacity` nodes; then it returns false and the
  // node stays the caller's (to drop and count: the wheel never loses one silently).
  bool Insert(Node* node) {
    if (size_ >= capacity_) return false;
    ++size_;
    const uint64_t tick = Traits::Time(node) >> tick_shift_;
    if (tick <= current_tick_) {
      // Due already (pass-through, or a late packet): the caller has just touched it, so it
      // needs no prefetch when nothing before it on the ready ring waits for one.
      if (ready_prefetched_ == ready_tail_) ++ready_prefetched_;
      ready_[ready_tail_++ & ready_mask_] = node;
    } else {
      Place(Entry{tick, node}, /*cold=*/false);
    }
    return true;
  }

  // Releases every node whose departure time is <= now (never early). At most one tick late
  // on its own; the caller's polling period adds to that.
  void Advance(uint64_t now) { AdvanceToTick(LastWholeTick(now, tick_shift_)); }

  // Releases everything, in order, whatever its time (end of an offline replay).
  void AdvanceAll() { AdvanceToTick(UINT64_MAX); }

  // Released nodes, oldest first. The nodes up to kPrefetchAhead behind the head have been
  // prefetched.
  Node* PeekReady() const { return HasReady() ? ready_[ready_head_ & ready_mask_] : nullptr; }
  Node* PopReady() {
    if (!HasReady()) return nullptr;
    Node* node = ready_[ready_head_++ & ready_mask_];
    --size_;
    if (ready_head_ == ready_tail_) {
      // Empty: start again at the front, so a ring drained every burst (pass-through) stays
      // in a few warm cache lines instead of sweeping its whole capacity.
      ready_head_ = ready_tail_ = ready_prefetched_ = 0;
    } else {
      PrefetchReady();
    }
    return node;
  }
  bool HasReady() const { return ready_head_ != ready_tail_; }

  // Earliest tick that holds a node still waiting (UINT64_MAX if none); lets an idle caller
  // sleep exactly until there is work.
  uint64_t NextEventTick() const {
    unsigned level;
    uint64_t tick;
    if (NextSlotEvent(&level, &tick)) return tick;
    if (overflow_size_ != 0) return TopBlockStart(overflow_min_tick_);
    return UINT64_MAX;
  }

  // Hands every node (wheel, overflow and ready) to `fn`, in no particular order, so the owner
  // can free them at shutdown. The wheel is empty afterwards.
  template <typename Fn>
  void ForEachAndClear(Fn&& fn) {
    for (unsigned level = 0; level < kLevels; ++level) {
      for (unsigned slot = 0; slot < kSlots; ++slot) {
        Drain(slots_[level][slot], [&fn](const Entry& entry) { fn(entry.node); });
      }
      occupied_[level] = {};
    }
    Drain(overflow_, [&fn](const Entry& entry) { fn(entry.node); });
    while (HasReady()) fn(ready_[ready_head_++ & ready_mask_]);
    occupied_levels_ = 0;
    overflow_size_ = 0;
    size_ = 0;
    ready_head_ = ready_tail_ = ready_prefetched_ = 0;
    free_block_ = kNoBlock;
    fresh_block_ = 0;
  }

 private:
  struct Entry {
    uint64_t tick;
    Node* node;
  };
  // Whole cache lines of entries (16 bytes each with 64-bit pointers).
  struct alignas(64) Block {
    Entry entries[kBlockEntries];
  };
  // A chain of blocks, full except the tail which holds tail_fill entries.
  struct BlockList {
    uint32_t head = kNoBlock;
    uint32_t tail = kNoBlock;
    uint32_t tail_fill = 0;
    // Some entry came down from a higher level or the overflow list: its node was inserted
    // more than a level-0 span ago and is cold. Nodes inserted into level 0 directly (short
    // delays, pass-through) were touched by the caller moments ago and need no prefetch.
    bool cold = false;
  };
  static constexpr uint32_t kNoBlock = UINT32_MAX;
  // Partial blocks the chains may hold besides the full ones (see the header comment).
  static constexpr uint64_t kSpareBlocks = uint64_t{kLevels} * kSlots + 3;

  static uint64_t BlockCount(uint64_t capacity) {
    const uint64_t count = (capacity + kBlockEntries - 1) / kBlockEntries + kSpareBlocks;
    if (count >= kNoBlock) throw std::length_error("timing wheel capacity too large");
    return count;
  }

  // The last tick all of whose times are <= now: only whole past ticks release, so no node
  // leaves early. (Saturates at 0 for the first tick after time zero.)
  static uint64_t LastWholeTick(uint64_t now, unsigned shift) {
    const uint64_t mask = (uint64_t{1} << shift) - 1;
    const uint64_t ticks_done = (now >> shift) + ((now & mask) == mask ? 1 : 0);
    return ticks_done == 0 ? 0 : ticks_done - 1;
  }

  static uint64_t TopBlockStart(uint64_t tick) { return tick >> kSpanBits << kSpanBits; }

  static void Prefetch(Node* node) {
    if constexpr (requires { Traits::Prefetch(node); }) {
      Traits::Prefetch(node);
    } else {
      __builtin_prefetch(node);
    }
  }

  // Keeps the nodes up to kPrefetchAhead past the ready head prefetched.
  void PrefetchReady() {
    if (ready_prefetched_ >= ready_tail_) return;
    uint64_t next = std::max(ready_prefetched_, ready_head_);
    const uint64_t end =
        ready_tail_ - ready_head_ > kPrefetchAhead ? ready_head_ + kPrefetchAhead : ready_tail_;
    Node* const* const ring = ready_.get();
    for (; next < end; ++next) Prefetch(ring[next & ready_mask_]);
    ready_prefetched_ = std::max(next, ready_prefetched_);
  }

  // Cannot fail: Insert keeps size_ <= capacity_, and the pool has a block for every
  // kBlockEntries entries plus every partial block (see kSpareBlocks).
  uint32_t AllocateBlock() {
    if (free_block_ != kNoBlock) {
      const uint32_t block = free_block_;
      free_block_ = block_next_[block];
      return block;
    }
    // Unreachable unless the sizing argument above is wrong: stop rather than corrupt memory.
    if (fresh_block_ >= block_count_) __builtin_trap();
    return fresh_block_++;
  }
  void FreeBlock(uint32_t block) {
    block_next_[block] = free_block_;
    free_block_ = block;
  }

  void Append(BlockList& list, const Entry& entry) {
    if (list.tail == kNoBlock || list.tail_fill == kBlockEntries) {
      const uint32_t block = AllocateBlock();
      block_next_[block] = kNoBlock;
      if (list.tail == kNoBlock) {
        list.head = block;
      } else {
        block_next_[list.tail] = block;
      }
      list.tail = block;
      list.tail_fill = 0;
    }
    blocks_[list.tail].entries[list.tail_fill++] = entry;
  }

  // Detaches `list` (it is empty afterwards, so `fn` may append to it again), hands every
  // entry to `fn` in order, and frees each block once it is consumed.
  template <typename Fn>
  void Drain(BlockList& list, Fn&& fn) {
    const BlockList taken = list;
    list = BlockList{};
    uint32_t block = taken.head;
    while (block != kNoBlock) {
      const uint32_t next = block_next_[block];
      const unsigned count = block == taken.tail ? taken.tail_fill : kBlockEntries;
      const Entry* entries = blocks_[block].entries;
      if (next != kNoBlock) {
        for (size_t line = 0; line < sizeof(Block); line += 64) {
          __builtin_prefetch(reinterpret_cast<const char*>(&blocks_[next]) + line);
        }
      }
      for (unsigned i = 0; i < count; ++i) fn(entries[i]);
      FreeBlock(block);
      block = next;
    }
  }

  void Place(const Entry& entry, bool cold) {
    const uint64_t tick = entry.tick;
    if (tick <= current_tick_) {
      ready_[ready_tail_++ & ready_mask_] = entry.node;
      return;
    }
    const unsigned highest_diff_bit = 63 - std::countl_zero(tick ^ current_tick_);
    const unsigned level = highest_diff_bit / kBitsPerLevel;
    if (level >= kLevels) {
      if (overflow_size_ == 0 || tick < overflow_min_tick_) overflow_min_tick_ = tick;
      ++overflow_size_;
      Append(overflow_, entry);
      return;
    }
    const unsigned slot = (tick >> (level * kBitsPerLevel)) & (kSlots - 1);
    Append(slots_[level][slot], entry);
    slots_[level][slot].cold |= cold;
    occupied_[level][slot / 64] |= uint64_t{1} << (slot % 64);
    occupied_levels_ |= 1u << level;
  }

  // Finds the next non-empty slot: the lowest occupied slot of the lowest non-empty level.
  bool NextSlotEvent(unsigned* level_out, uint64_t* tick_out) const {
    if (occupied_levels_ == 0) return false;
    const unsigned level = std::countr_zero(occupied_levels_);
    unsigned slot = 0;
    for (unsigned word = 0; word < kWordsPerLevel; ++word) {
      if (occupied_[level][word] != 0) {
        slot = word * 64 + std::countr_zero(occupied_[level][word]);
        break;
      }
    }
    const unsigned block_bits = (level + 1) * kBitsPerLevel;
    const uint64_t block = current_tick_ >> block_bits << block_bits;
    *level_out = level;
    *tick_out = block | (uint64_t{slot} << (level * kBitsPerLevel));
    return true;
  }

  void AdvanceToTick(uint64_t limit) {
    for (;;) {
      unsigned level;
      uint64_t event_tick;
      if (NextSlotEvent(&level, &event_tick)) {
        if (event_tick > limit) break;
        current_tick_ = event_tick;
        const unsigned slot = (event_tick >> (level * kBitsPerLevel)) & (kSlots - 1);
        occupied_[level][slot / 64] &= ~(uint64_t{1} << (slot % 64));
        if (occupied_[level] == std::array<uint64_t, kWordsPerLevel>{}) {
          occupied_levels_ &= ~(1u << level);
        }
        if (level == 0) {
          const uint64_t ready_before = ready_tail_;
          const bool cold = slots_[0][slot].cold;
          Drain(slots_[0][slot],
                [this](const Entry& entry) { ready_[ready_tail_++ & ready_mask_] = entry.node; });
          if (!cold && ready_prefetched_ == ready_before) ready_prefetched_ = ready_tail_;
          if (cold && event_tick <= prefetched_tick_) {
            upcoming_prefetched_ -= std::min(upcoming_prefetched_, ready_tail_ - ready_before);
          }
        } else {
          // Re-placed relative to the advanced current tick, in order; each lands on a lower
          // level or the ready ring, never back in this slot.
          Drain(slots_[level][slot], [this](const Entry& entry) { Place(entry, true); });
        }
      } else if (overflow_size_ != 0) {
        const uint64_t block_start = TopBlockStart(overflow_min_tick_);
        if (block_start > limit) break;
        current_tick_ = block_start;
        overflow_size_ = 0;
        Drain(overflow_, [this](const Entry& entry) { Place(entry, true); });
      } else {
        break;
      }
    }
    if (limit > current_tick_) current_tick_ = limit;
    PrefetchReady();
    PrefetchUpcoming();
  }

  // Keeps the nodes of the next occupied level-0 slots prefetched, up to kPrefetchAhead nodes
  // past the current tick: released one tick at a time, nodes would otherwise reach the caller cold
  // however far the ready window looks, as only what is due is on the ready ring. Each slot is
  // prefetched once (prefetched_tick_); nodes inserted into it later are still prefetched by the
  // ready window.
  void PrefetchUpcoming() {
    if (prefetched_tick_ <= current_tick_) upcoming_prefetched_ = 0;
    if ((occupied_levels_ & 1u) == 0 || upcoming_prefetched_ >= kPrefetchAhead) return;
    const uint64_t first = std::max(prefetched_tick_, current_tick_) + 1;
    const uint64_t block = current_tick_ >> kBitsPerLevel;
    if ((first >> kBitsPerLevel) != block) return;  // this level-0 block is all prefetched
    uint64_t budget = kPrefetchAhead - upcoming_prefetched_;
    unsigned slot = first & (kSlots - 1);
    while (budget > 0 && slot < kSlots) {
      unsigned word = slot / 64;
      uint64_t bits = occupied_[0][word] & (~uint64_t{0} << (slot % 64));
      while (bits == 0 && ++word < kWordsPerLevel) bits = occupied_[0][word];
      if (bits == 0) break;
      slot = word * 64 + std::countr_zero(bits);
      const BlockList& list = slots_[0][slot];
      for (uint32_t b = list.cold ? list.head : kNoBlock; b != kNoBlock && budget > 0;
           b = block_next_[b]) {
        const unsigned count = b == list.tail ? list.tail_fill : kBlockEntries;
        for (unsigned i = 0; i < count && budget > 0; ++i, --budget) {
          Prefetch(blocks_[b].entries[i].node);
          ++upcoming_prefetched_;
        }
      }
      prefetched_tick_ = (block << kBitsPerLevel) | slot;
      ++slot;
    }
  }

  const unsigned tick_shift_;
  uint64_t current_tick_;  // every node with tick <= current_tick_ is on the ready ring
  const uint64_t capacity_;
  uint64_t size_ = 0;
  uint32_t occupied_levels_ = 0;
  uint64_t overflow_size_ = 0;
  uint64_t overflow_min_tick_ = 0;
  std::array<std::array<uint64_t, kWordsPerLevel>, kLevels> occupied_{};
  std::array<std::array<BlockList, kSlots>, kLevels> slots_{};
  BlockList overflow_;

  // The block pool: blocks_ and their links, a free list (most recently freed first, so reuse
  // finds warm cache lines) and the first never-used block (pages untouched until needed).
  const uint64_t block_count_;
  uint32_t free_block_ = kNoBlock;
  uint32_t fresh_block_ = 0;

  // Released nodes: ready_[head .. tail) (indices grow forever, masked into the ring, which
  // has room for `capacity` nodes).
  const uint64_t ready_mask_;
  uint64_t ready_head_ = 0;
  uint64_t ready_tail_ = 0;
  uint64_t ready_prefetched_ = 0;     // nodes before this index have been prefetched
  uint64_t prefetched_tick_ = 0;      // level-0 slots up to this tick have been prefetched
  uint64_t upcoming_prefetched_ = 0;  // of which nodes not yet released

  std::unique_ptr<Block[]> blocks_;
  std::unique_ptr<uint32_t[]> block_next_;
  std::unique_ptr<Node*[]> ready_;
};

}  // namespace faultline
