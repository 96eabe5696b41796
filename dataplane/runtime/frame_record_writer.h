// `--record FILE`: the thread that writes the per-frame records (reporting/frame_record_file.h).
// Each worker (or the replay) gets a FrameRecorder on its own SP/SC rte_ring; this thread, never
// a worker, drains the rings, turns clock units into ns and writes the file.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/frame_recorder.h"
#include "dataplane/pipeline/compiled_profile.h"
#include "dataplane/reporting/frame_record_file.h"

namespace faultline {

// The header of a recording that starts now with `profile` (null: no rules).
RecordFileHeader RecordHeaderNow(const CompiledProfile* profile, bool virtual_clock);

class FrameRecordWriter {
 public:
  // How records' clock units become ns: start_ns + (units - start_units) in ns; virtual: units
  // are ns already.
  struct Clock {
    TimeBase base;
    uint64_t start_units = 0;
    bool virtual_time = false;
  };
  // Records each ring holds (a power of two): 2 MiB per worker, 64Ki records of slack for the
  // writer.
  static constexpr unsigned kRingRecords = 1 << 16;

  // Creates the file (header written) and `recorders` rings; lossless: recorders wait for room
  // (replay). Null and *error on failure. Needs EAL.
  static std::unique_ptr<FrameRecordWriter> Open(const std::string& path,
                                                 const RecordFileHeader& header, Clock clock,
                                                 unsigned recorders, bool lossless,
                                                 std::string* error);
  ~FrameRecordWriter();

  FrameRecorder* recorder(unsigned i) { return recorders_[i].get(); }
  // Starts the writer thread.
  void Start();
  // Once no recorder adds any more: drains the rings, closes the file. "" or the error.
  std::string Finish();
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }

 private:
  FrameRecordWriter() = default;
  // Moves what the rings hold into the file; returns how many records.
  uint64_t DrainOnce();
  void Loop();

  std::string path_;
  std::FILE* file_ = nullptr;
  Clock clock_;
  uint64_t start_ns_ = 0;
  std::vector<rte_ring*> rings_;
  std::vector<std::unique_ptr<FrameRecorder>> recorders_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> written_{0};
  bool failed_ = false;
  std::vector<FrameRecord> buffer_;
};

}  // namespace faultline
