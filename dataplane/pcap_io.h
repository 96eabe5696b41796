// Reading and writing capture files with libpcap, at nanosecond precision.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <string>

namespace faultline {

struct PcapFrame {
  uint64_t timestamp_ns = 0;
  uint32_t length = 0;           // bytes captured (what is forwarded)
  uint32_t original_length = 0;  // bytes on the wire when captured
  const uint8_t* data = nullptr;
};

class PcapReader {
 public:
  PcapReader() = default;
  ~PcapReader();
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;

  bool Open(const std::string& path, std::string* error);
  // Reads the next frame; false at the end of the file or on error (see error()).
  bool Next(PcapFrame* frame);
  int link_type() const;
  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  pcap_t* handle_ = nullptr;
  std::string path_;
  std::string error_;
};

class PcapWriter {
 public:
  PcapWriter() = default;
  ~PcapWriter();
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Writes a nanosecond pcap of `link_type`.
  bool Open(const std::string& path, int link_type, std::string* error);
  void Write(uint64_t timestamp_ns, const uint8_t* data, uint32_t length, uint32_t original_length);
  // Flushes and closes; false if anything could not be written.
  bool Close(std::string* error);

 private:
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  std::string path_;
};

}  // namespace faultline
