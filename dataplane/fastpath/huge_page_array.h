// A zeroed array for a large per-lcore table (the flow table), on transparent huge pages where
// the kernel grants them (madvise mode, Debian's default): the fast path touches such a table at
// random, and with 4 KiB pages nearly every touch of an 8 MiB table also misses the TLB.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <type_traits>

namespace faultline {

template <typename T>
class HugePageArray {
  static_assert(std::is_trivially_default_constructible_v<T> &&
                std::is_trivially_destructible_v<T>);

 public:
  HugePageArray() = default;
  // `count` zeroed elements (mmap's pages are zero). Throws std::bad_alloc.
  explicit HugePageArray(size_t count) : bytes_(RoundUp(count * sizeof(T))) {
    if (count == 0) return;
    void* memory =
        mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::bad_alloc();
    madvise(memory, bytes_, MADV_HUGEPAGE);  // a hint: without it the table still works
    data_ = static_cast<T*>(memory);
  }
  ~HugePageArray() {
    if (data_ != nullptr) munmap(data_, bytes_);
  }
  HugePageArray(const HugePageArray&) = delete;
  HugePageArray& operator=(const HugePageArray&) = delete;

  T* get() const { return data_; }
  T& operator[](size_t i) const { return data_[i]; }

 private:
  static constexpr size_t kHugePage = size_t{2} << 20;
  static size_t RoundUp(size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }

  size_t bytes_ = 0;
  T* data_ = nullptr;
};

}  // namespace faultline
