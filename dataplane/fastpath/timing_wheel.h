// Hierarchical timing wheel that releases intrusively linked nodes at their departure time.
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
//
// Placement rule: a node with tick t goes to the level of the highest bit in which t differs
// from the current tick (t XOR current). All nodes of level L then share the current tick's
// digits above L and have a level-L digit greater than the current one, so (1) the lowest
// non-empty level holds the earliest nodes, (2) inside a level the lowest set bitmap bit is the
// next slot, and (3) a slot is cascaded exactly when time enters its block, before any node of
// that block could have been inserted directly below it. (3) is what keeps the order guarantee.
//
// The wheel does not own nodes and never allocates. Traits tell it how to read a node's time
// and link field, so the same code runs on rte_mbufs in the dataplane and on plain structs in
// the unit tests, with no virtual call.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace faultline {

// A FIFO of intrusively linked nodes: O(1) append, pop and splice.
template <typename Node, typename Traits>
struct IntrusiveFifo {
  Node* head = nullptr;
  Node* tail = nullptr;

  bool Empty() const { return head == nullptr; }
  void Append(Node* node) {
    Traits::SetNext(node, nullptr);
    if (tail) {
      Traits::SetNext(tail, node);
    } else {
      head = node;
    }
    tail = node;
  }
  // Moves all of `other` to the end of this list and leaves `other` empty.
  void Splice(IntrusiveFifo& other) {
    if (other.head == nullptr) return;
    if (tail) {
      Traits::SetNext(tail, other.head);
    } else {
      head = other.head;
    }
    tail = other.tail;
    other.head = other.tail = nullptr;
  }
  Node* Pop() {
    Node* node = head;
    if (node) {
      head = Traits::Next(node);
      if (head == nullptr) tail = nullptr;
    }
    return node;
  }
  // Detaches the whole list; the caller walks it with Traits::Next.
  Node* TakeAll() {
    Node* list = head;
    head = tail = nullptr;
    return list;
  }
};

template <typename Node, typename Traits, unsigned kBitsPerLevel = 8, unsigned kLevels = 5>
class TimingWheel {
 public:
  static constexpr unsigned kSlots = 1u << kBitsPerLevel;
  static constexpr unsigned kWordsPerLevel = (kSlots + 63) / 64;
  static constexpr unsigned kSpanBits = kBitsPerLevel * kLevels;
  static_assert(kBitsPerLevel >= 1 && kBitsPerLevel <= 12, "slots per level must be sane");
  static_assert(kSpanBits < 64, "the wheel's span must fit in a tick");

  // tick_shift: a departure time t (in clock units) falls into tick t >> tick_shift.
  // start_time: the clock's current time; nodes due at or before it are released at once.
  TimingWheel(unsigned tick_shift, uint64_t start_time)
      : tick_shift_(tick_shift), current_tick_(LastWholeTick(start_time, tick_shift)) {}

  TimingWheel(const TimingWheel&) = delete;
  TimingWheel& operator=(const TimingWheel&) = delete;

  unsigned tick_shift() const { return tick_shift_; }
  uint64_t current_tick() const { return current_tick_; }
  // Nodes inside the wheel, on the overflow list, or released and not yet popped.
  uint64_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint64_t overflow_size() const { return overflow_size_; }

  void Insert(Node* node) {
    ++size_;
    Place(node, Traits::Time(node) >> tick_shift_);
  }

  // Releases every node whose departure time is <= now (never early). At most one tick late
  // on its own; the caller's polling period adds to that.
  void Advance(uint64_t now) { AdvanceToTick(LastWholeTick(now, tick_shift_)); }

  // Releases everything, in order, whatever its time (end of an offline replay).
  void AdvanceAll() { AdvanceToTick(UINT64_MAX); }

  // Released nodes, oldest first.
  Node* PeekReady() const { return ready_.head; }
  Node* PopReady() {
    Node* node = ready_.Pop();
    if (node) --size_;
    return node;
  }
  bool HasReady() const { return !ready_.Empty(); }

  // Earliest tick that holds a node still waiting (UINT64_MAX if none); lets an idle caller
  // sleep exactly until there is work.
  uint64_t NextEventTick() const {
    unsigned level;
    uint64_t tick;
    if (NextSlotEvent(&level, &tick)) return tick;
    if (overflow_size_ != 0) return TopBlockStart(overflow_min_tick_);
    return UINT64_MAX;
  }

  // Detaches every node (wheel, overflow and ready) into one list, in no particular order, so
  // the owner can free them at shutdown. The wheel is empty afterwards.
  template <typename Fn>
  void ForEachAndClear(Fn&& fn) {
    for (unsigned level = 0; level < kLevels; ++level) {
      for (unsigned slot = 0; slot < kSlots; ++slot) Drain(slots_[level][slot], fn);
      occupied_[level] = {};
    }
    Drain(overflow_, fn);
    Drain(ready_, fn);
    occupied_levels_ = 0;
    overflow_size_ = 0;
    size_ = 0;
  }

 private:
  using Fifo = IntrusiveFifo<Node, Traits>;

  // The last tick all of whose times are <= now: only whole past ticks release, so no node
  // leaves early. (Saturates at 0 for the first tick after time zero.)
  static uint64_t LastWholeTick(uint64_t now, unsigned shift) {
    const uint64_t mask = (uint64_t{1} << shift) - 1;
    const uint64_t ticks_done = (now >> shift) + ((now & mask) == mask ? 1 : 0);
    return ticks_done == 0 ? 0 : ticks_done - 1;
  }

  static uint64_t TopBlockStart(uint64_t tick) { return tick >> kSpanBits << kSpanBits; }

  void Place(Node* node, uint64_t tick) {
    if (tick <= current_tick_) {
      ready_.Append(node);
      return;
    }
    const unsigned highest_diff_bit = 63 - std::countl_zero(tick ^ current_tick_);
    const unsigned level = highest_diff_bit / kBitsPerLevel;
    if (level >= kLevels) {
      if (overflow_size_ == 0 || tick < overflow_min_tick_) overflow_min_tick_ = tick;
      ++overflow_size_;
      overflow_.Append(node);
      return;
    }
    const unsigned slot = (tick >> (level * kBitsPerLevel)) & (kSlots - 1);
    slots_[level][slot].Append(node);
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
          ready_.Splice(slots_[0][slot]);
        } else {
          Replace(slots_[level][slot]);
        }
      } else if (overflow_size_ != 0) {
        const uint64_t block_start = TopBlockStart(overflow_min_tick_);
        if (block_start > limit) break;
        current_tick_ = block_start;
        overflow_size_ = 0;
        Replace(overflow_);
      } else {
        break;
      }
    }
    if (limit > current_tick_) current_tick_ = limit;
  }

  // Re-places every node of `list` relative to the (advanced) current tick, keeping their order.
  void Replace(Fifo& list) {
    Node* node = list.TakeAll();
    while (node) {
      Node* next = Traits::Next(node);
      Place(node, Traits::Time(node) >> tick_shift_);
      node = next;
    }
  }

  template <typename Fn>
  static void Drain(Fifo& list, Fn& fn) {
    Node* node = list.TakeAll();
    while (node) {
      Node* next = Traits::Next(node);
      fn(node);
      node = next;
    }
  }

  const unsigned tick_shift_;
  uint64_t current_tick_;  // every node with tick <= current_tick_ is on ready_
  uint64_t size_ = 0;
  uint32_t occupied_levels_ = 0;
  uint64_t overflow_size_ = 0;
  uint64_t overflow_min_tick_ = 0;
  std::array<std::array<uint64_t, kWordsPerLevel>, kLevels> occupied_{};
  std::array<std::array<Fifo, kSlots>, kLevels> slots_{};
  Fifo overflow_;
  Fifo ready_;
};

}  // namespace faultline
