#include "dataplane/runtime/frame_record_writer.h"

#include <rte_errno.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace faultline {

namespace {
constexpr unsigned kDrainBurst = 1024;
std::atomic<unsigned> g_ring_names{0};
}  // namespace

RecordFileHeader RecordHeaderNow(const CompiledProfile* profile, bool virtual_clock) {
  RecordFileHeader header;
  header.virtual_clock = virtual_clock;
  header.start_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  if (profile != nullptr) {
    for (size_t rule = 0; rule < profile->rule_count(); ++rule) {
      header.rules.emplace_back(static_cast<uint16_t>(profile->rule_counter_id[rule]),
                                profile->rule_names[rule]);
    }
  }
  return header;
}

std::unique_ptr<FrameRecordWriter> FrameRecordWriter::Open(const std::string& path,
                                                           const RecordFileHeader& header,
                                                           Clock clock, unsigned recorders,
                                                           bool lossless, std::string* error) {
  std::unique_ptr<FrameRecordWriter> writer(new FrameRecordWriter());
  writer->path_ = path;
  writer->clock_ = clock;
  writer->start_ns_ = header.start_ns;
  writer->buffer_.resize(kDrainBurst);
  for (unsigned i = 0; i < recorders; ++i) {
    const std::string name = "flrec" + std::to_string(g_ring_names.fetch_add(1));
    rte_ring* ring = rte_ring_create_elem(name.c_str(), sizeof(FrameRecord), kRingRecords,
                                          SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (ring == nullptr) {
      *error = std::string("--record: cannot create its ring: ") + rte_strerror(rte_errno);
      return nullptr;
    }
    writer->rings_.push_back(ring);
    writer->recorders_.push_back(std::make_unique<FrameRecorder>(ring, lossless));
  }
  writer->file_ = std::fopen(path.c_str(), "wb");
  if (writer->file_ == nullptr) {
    *error = "--record: cannot create " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::setvbuf(writer->file_, nullptr, _IOFBF, 1 << 20);
  const std::string bytes = EncodeRecordHeader(header);
  if (std::fwrite(bytes.data(), 1, bytes.size(), writer->file_) != bytes.size()) {
    *error = "--record: cannot write " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return writer;
}

FrameRecordWriter::~FrameRecordWriter() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (file_ != nullptr) std::fclose(file_);
  for (rte_ring* ring : rings_) rte_ring_free(ring);
}

void FrameRecordWriter::Start() {
  thread_ = std::thread([this] { Loop(); });
}

uint64_t FrameRecordWriter::DrainOnce() {
  uint64_t total = 0;
  for (rte_ring* ring : rings_) {
    const unsigned n = rte_ring_sc_dequeue_burst_elem(ring, buffer_.data(), sizeof(FrameRecord),
                                                      kDrainBurst, nullptr);
    if (n == 0) continue;
    for (unsigned i = 0; i < n; ++i) {
      FrameRecord& record = buffer_[i];
      if (!clock_.virtual_time) {
        // Signed: a frame dated by a TSC read just before the start point stays right.
        const auto to_ns = [this](uint64_t units) {
          return units >= clock_.start_units
                     ? start_ns_ + clock_.base.ToNs(units - clock_.start_units)
                     : start_ns_ - clock_.base.ToNs(clock_.start_units - units);
        };
        record.arrival = to_ns(record.arrival);
        if (record.departure != 0) record.departure = to_ns(record.departure);
      }
    }
    if (!failed_ && std::fwrite(buffer_.data(), sizeof(FrameRecord), n, file_) != n) {
      failed_ = true;  // keep draining: a worker or the replay may be waiting for room
    }
    total += n;
  }
  written_.fetch_add(total, std::memory_order_relaxed);
  return total;
}

void FrameRecordWriter::Loop() {
  while (!stop_.load(std::memory_order_acquire)) {
    if (DrainOnce() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

std::string FrameRecordWriter::Finish() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
  while (DrainOnce() != 0) {
  }
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (failed_ || !closed) return "--record: cannot write " + path_ + ": " + std::strerror(errno);
  return "";
}

}  // namespace faultline
