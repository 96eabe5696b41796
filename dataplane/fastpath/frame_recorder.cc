#include "dataplane/fastpath/frame_recorder.h"

#include <sched.h>

namespace faultline {

void FrameRecorder::Flush() {
  unsigned done = 0;
  while (done < count_) {
    done += rte_ring_sp_enqueue_burst_elem(ring_, staged_ + done, sizeof(FrameRecord),
                                           count_ - done, nullptr);
    if (done == count_) break;
    if (!lossless_) {
      lost_->Add(count_ - done);
      break;
    }
    sched_yield();  // offline: the writer thread empties the ring
  }
  count_ = 0;
}

}  // namespace faultline
