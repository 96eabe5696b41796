#include "dataplane/models/rate_limiter.h"

#include <algorithm>

namespace faultline {

RateLink::RateLink(const CompiledRate& rate)
    : rate_(rate), ring_(new Entry[std::max<uint32_t>(rate.ring_capacity, 1)]) {}

RateLink::Verdict RateLink::Enqueue(uint32_t bytes, uint64_t now, uint64_t* finish) {
  const uint32_t capacity = std::max<uint32_t>(rate_.ring_capacity, 1);
  while (count_ && ring_[head_].finish <= now) {
    bytes_ -= ring_[head_].bytes;
    head_ = head_ + 1 == capacity ? 0 : head_ + 1;
    --count_;
  }
  const SizeLimit& limit = rate_.limit;
  if (count_ == capacity || (limit.packets && count_ >= limit.packets) ||
      (limit.bytes && bytes_ + bytes > limit.bytes)) {
    return Verdict::kDropped;
  }
  const SizeLimit& ecn = rate_.ecn_threshold;
  const bool above_threshold =
      (ecn.packets && count_ >= ecn.packets) || (ecn.bytes && bytes_ >= ecn.bytes);
  const int64_t wire_bytes = std::max<int64_t>(int64_t{bytes} + rate_.overhead_bytes, 1);
  const unsigned __int128 now_fp = static_cast<unsigned __int128>(now) << CompiledRate::kFracBits;
  const unsigned __int128 start_fp = std::max(now_fp, link_free_fp_);
  link_free_fp_ = start_fp + static_cast<unsigned __int128>(wire_bytes) * rate_.units_per_byte_fp;
  // Rounded up: the frame has not left before its last bit has.
  const unsigned __int128 one = static_cast<unsigned __int128>(1) << CompiledRate::kFracBits;
  *finish = static_cast<uint64_t>((link_free_fp_ + one - 1) >> CompiledRate::kFracBits);
  uint32_t tail = head_ + count_;
  if (tail >= capacity) tail -= capacity;
  ring_[tail] = Entry{*finish, bytes};
  ++count_;
  bytes_ += bytes;
  return above_threshold ? Verdict::kMarked : Verdict::kSent;
}

}  // namespace faultline
