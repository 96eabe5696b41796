// Reading and writing capture files with libpcap, at nanosecond precision.
//
// Frames come out of a reader as Ethernet frames whatever the capture's link type: raw IP
// (LINKTYPE_RAW, IPV4, IPV6) and Linux cooked captures (SLL, SLL2) get a synthesised Ethernet
// header in place of their own (docs/formats.md, "Capture files"), so the pipeline, which
// parses Ethernet, sees their addresses and ports. Other link types are refused at Open.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

namespace faultline {

struct PcapFrame {
  uint64_t timestamp_ns = 0;
  uint32_t length = 0;           // bytes captured (what is forwarded)
  uint32_t original_length = 0;  // bytes on the wire when captured
  const uint8_t* data = nullptr;
};

// The latest time a pcap record can hold: its seconds are an unsigned 32-bit field.
inline constexpr uint64_t kPcapMaxTimestampNs = uint64_t{UINT32_MAX} * 1'000'000'000 + 999'999'999;

// "ethernet", "raw IP", ... for the link types a reader accepts; "" for the others.
const char* LinkTypeName(int link_type);

class PcapReader {
 public:
  // Why Next returned false.
  enum class End {
    kNone,       // it has not
    kEndOfFile,  // every record was read
    kTruncated,  // the file ends inside a record (a capture cut short): the records before it
                 // were read
    kDamaged,    // a record header no reader can take (its length beyond any snapshot length)
  };

  PcapReader() = default;
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  // Opens a capture of a supported link type; false with *error ("PATH: ...") otherwise, also
  // for a file cut inside its 24-byte header.
  bool Open(const std::string& path, std::string* error);
  // Reads the next frame (as Ethernet); false at the end of the file or where it cannot go on
  // (end() and error() say which).
  bool Next(PcapFrame* frame);
  End end() const { return end_; }
  // What stopped the reader early ("PATH: ..."), for kTruncated and kDamaged.
  const std::string& error() const { return error_; }
  // The capture's own link type (DLT_*); frames are Ethernet whatever it is.
  int link_type() const { return link_type_; }
  const std::string& path() const { return path_; }
  // Records read so far.
  uint64_t records() const { return records_; }

 private:
  pcap_t* handle_ = nullptr;
  int link_type_ = DLT_EN10MB;
  std::string path_;
  std::string error_;
  End end_ = End::kNone;
  uint64_t records_ = 0;
  std::vector<uint8_t> converted_;  // the current frame with its synthesised Ethernet header
};

class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Writes a nanosecond pcap of `link_type`.
  bool Open(const std::string& path, int link_type, std::string* error);
  bool is_open() const { return dumper_ != nullptr; }
  // Writes one record. A time past kPcapMaxTimestampNs cannot be stored: it is written as that
  // time and counted (clamped()).
  void Write(uint64_t timestamp_ns, const uint8_t* data, uint32_t length, uint32_t original_length);
  // Flushes and closes; false if anything could not be written.
  bool Close(std::string* error);
  uint64_t clamped() const { return clamped_; }

 private:
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  std::string path_;
  uint64_t clamped_ = 0;
};

}  // namespace faultline
