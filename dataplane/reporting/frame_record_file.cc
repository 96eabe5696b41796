#include "dataplane/reporting/frame_record_file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace faultline {

namespace {

// Fixed part: magic[8], version u32, record size u32, header bytes u32, clock u32 (0 unix,
// 1 virtual), start ns u64, rule count u32, reserved u32.
constexpr size_t kFixedHeader = 40;

template <typename T>
void Put(std::string* out, T value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(value));  // little-endian host
}

template <typename T>
T Get(const char* data) {
  T value;
  std::memcpy(&value, data, sizeof(value));
  return value;
}

const char* FateName(uint8_t fate) {
  return fate == kFateTransmitted ? "transmitted" : fate == kFateDropped ? "dropped" : "?";
}

const char* CopyName(uint8_t copy) {
  switch (copy) {
    case kCopyOriginal:
      return "original";
    case kCopyDuplicate:
      return "duplicate";
    case kCopyAnswer:
      return "answer";
  }
  return "?";
}

}  // namespace

std::string EncodeRecordHeader(const RecordFileHeader& header) {
  std::string names;
  for (const auto& [id, name] : header.rules) {
    const uint16_t length = static_cast<uint16_t>(std::min<size_t>(name.size(), 0xffff));
    Put<uint16_t>(&names, id);
    Put<uint16_t>(&names, length);
    names.append(name.data(), length);
  }
  std::string out;
  out.append(kRecordMagic, sizeof(kRecordMagic));
  Put<uint32_t>(&out, kRecordVersion);
  Put<uint32_t>(&out, sizeof(FrameRecord));
  Put<uint32_t>(&out, static_cast<uint32_t>(kFixedHeader + names.size()));
  Put<uint32_t>(&out, header.virtual_clock ? 1 : 0);
  Put<uint64_t>(&out, header.start_ns);
  Put<uint32_t>(&out, static_cast<uint32_t>(header.rules.size()));
  Put<uint32_t>(&out, 0);
  out.append(names);
  return out;
}

RecordFileReader::~RecordFileReader() {
  if (file_ != nullptr) std::fclose(file_);
}

bool RecordFileReader::ReadExact(void* data, size_t size, const char* what, std::string* error) {
  const size_t got = std::fread(data, 1, size, file_);
  if (got == size) {
    offset_ += size;
    return true;
  }
  *error = path_ + ": truncated at byte " + std::to_string(offset_ + got) + " (" + what +
           " needs " + std::to_string(size) + " bytes from byte " + std::to_string(offset_) + ")";
  return false;
}

bool RecordFileReader::Open(const std::string& path, std::string* error) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  char fixed[kFixedHeader];
  if (!ReadExact(fixed, kFixedHeader, "the header", error)) return false;
  if (std::memcmp(fixed, kRecordMagic, sizeof(kRecordMagic)) != 0) {
    *error = path + ": not a faultline record file (byte 0: no FLRECORD magic)";
    return false;
  }
  const uint32_t version = Get<uint32_t>(fixed + 8);
  const uint32_t record_size = Get<uint32_t>(fixed + 12);
  const uint32_t header_bytes = Get<uint32_t>(fixed + 16);
  if (version != kRecordVersion || record_size != sizeof(FrameRecord)) {
    *error = path + ": byte 8: version " + std::to_string(version) + " with " +
             std::to_string(record_size) + "-byte records; this faultline reads version " +
             std::to_string(kRecordVersion) + " (" + std::to_string(sizeof(FrameRecord)) + ")";
    return false;
  }
  header_.virtual_clock = Get<uint32_t>(fixed + 20) == 1;
  header_.start_ns = Get<uint64_t>(fixed + 24);
  const uint32_t rules = Get<uint32_t>(fixed + 32);
  for (uint32_t i = 0; i < rules; ++i) {
    char entry[4];
    if (!ReadExact(entry, sizeof(entry), "a rule name", error)) return false;
    std::string name(Get<uint16_t>(entry + 2), '\0');
    if (!ReadExact(name.data(), name.size(), "a rule name", error)) return false;
    header_.rules.emplace_back(Get<uint16_t>(entry), std::move(name));
  }
  if (offset_ != header_bytes) {
    *error = path + ": byte 16: the header says " + std::to_string(header_bytes) +
             " bytes and its rule names end at byte " + std::to_string(offset_);
    return false;
  }
  return true;
}

bool RecordFileReader::Next(FrameRecord* record, std::string* error) {
  error->clear();
  const size_t got = std::fread(record, 1, sizeof(FrameRecord), file_);
  if (got == 0 && std::feof(file_)) return false;
  if (got != sizeof(FrameRecord)) {
    *error = path_ + ": truncated record at byte " + std::to_string(offset_) + " (" +
             std::to_string(got) + " of " + std::to_string(sizeof(FrameRecord)) + " bytes)";
    return false;
  }
  offset_ += got;
  return true;
}

std::string RecordFileReader::RuleName(uint16_t rule) const {
  if (rule == kNoRule) return "";
  for (const auto& [id, name] : header_.rules) {
    if (id == rule) return name;
  }
  std::string unknown = std::to_string(rule);
  unknown.insert(unknown.begin(), '#');  // (not "#" + ...: a GCC 12 -Wrestrict false positive)
  return unknown;
}

std::string ExportRecordCsv(const std::string& in, std::FILE* out,
                            const RecordExportOptions& options) {
  RecordFileReader reader;
  std::string error;
  if (!reader.Open(in, &error)) return error;
  std::fprintf(out,
               "arrival_ns,departure_ns,residence_ns,fate,cause,rule,direction,flow_hash,length,"
               "copy,out_port\n");
  FrameRecord record;
  while (reader.Next(&record, &error)) {
    const std::string rule = reader.RuleName(record.rule);
    const char* cause =
        record.fate == kFateDropped ? DropCauseName(static_cast<DropCause>(record.cause)) : "none";
    if (options.rule && rule != *options.rule) continue;
    if (options.cause && *options.cause != cause) continue;
    const bool sent = record.fate == kFateTransmitted;
    std::fprintf(out, "%lu,%s,%s,%s,%s,%s,%s,%08x,%u,%s,%u\n", record.arrival,
                 sent ? std::to_string(record.departure).c_str() : "",
                 sent ? std::to_string(record.departure - record.arrival).c_str() : "",
                 FateName(record.fate), cause, rule.c_str(),
                 record.direction == 0 ? "a-to-b" : "b-to-a", record.flow_hash, record.length,
                 CopyName(record.copy), record.out_port);
  }
  return error;
}

}  // namespace faultline
