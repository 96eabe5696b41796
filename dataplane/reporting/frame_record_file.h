// The `--record` file (docs/formats.md "Frame record file"): a header that makes the file stand
// alone (magic, version, record size, start time, clock, the rules' names), then one 32-byte
// FrameRecord per frame fate, little-endian, times in ns. Written by runtime/frame_record_writer,
// read here (`faultline record export`).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/fastpath/frame_recorder.h"

namespace faultline {

inline constexpr char kRecordMagic[8] = {'F', 'L', 'R', 'E', 'C', 'O', 'R', 'D'};
inline constexpr uint32_t kRecordVersion = 1;

struct RecordFileHeader {
  uint64_t start_ns = 0;       // unix ns when recording started (virtual: the first frame's)
  bool virtual_clock = false;  // times are the input captures' (replay), not this machine's
  std::vector<std::pair<uint16_t, std::string>> rules;  // rule counter id, name
};

// The header's bytes (fixed part, then each rule as u16 id, u16 length, name).
std::string EncodeRecordHeader(const RecordFileHeader& header);

// Reads a record file: the header at Open, then records one by one. Errors name the byte offset.
class RecordFileReader {
 public:
  ~RecordFileReader();
  bool Open(const std::string& path, std::string* error);
  const RecordFileHeader& header() const { return header_; }
  // False at the end (*error empty) or on a damaged file (*error says where).
  bool Next(FrameRecord* record, std::string* error);
  // The rule's name for a record's rule field ("" for kNoRule, "#id" if the header lacks it).
  std::string RuleName(uint16_t rule) const;

 private:
  bool ReadExact(void* data, size_t size, const char* what, std::string* error);
  std::string path_;
  std::FILE* file_ = nullptr;
  uint64_t offset_ = 0;
  RecordFileHeader header_;
};

struct RecordExportOptions {
  std::optional<std::string> rule;   // only this rule's records
  std::optional<std::string> cause;  // only drops of this cause ("none": only transmitted)
};

// Writes `in` as CSV to `out` (a header row, one row per record); returns "" or the error.
std::string ExportRecordCsv(const std::string& in, std::FILE* out,
                            const RecordExportOptions& options);

}  // namespace faultline
