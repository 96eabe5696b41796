// A minimal pcapng writer (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html):
// one section header, one Ethernet interface with nanosecond timestamps (if_tsresol 9), and one
// enhanced packet block per frame with its cause in opt_comment. libpcap reads pcapng but
// writes only classic pcap, which has no per-frame comment (docs/formats.md, "Capture file").
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace faultline {

class PcapngWriter {
 public:
  // Creates `path` and writes the section header and the interface description (`snaplen`: the
  // most bytes a frame keeps). Null with *error when the file cannot be written.
  static std::unique_ptr<PcapngWriter> Open(const std::string& path, uint32_t snaplen,
                                            std::string* error);
  ~PcapngWriter();

  // One frame: Unix time in ns, its length on the wire, the bytes kept, the comment ("" none).
  bool Write(uint64_t time_ns, uint32_t original_length, std::string_view data,
             std::string_view comment);
  // Flushes and closes; false with *error if anything failed to reach the file.
  bool Close(std::string* error);
  uint64_t frames() const { return frames_; }

 private:
  explicit PcapngWriter(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  void Put32(uint32_t value);
  void PutPadded(std::string_view bytes);

  std::FILE* file_;
  std::string path_;
  uint64_t frames_ = 0;
};

}  // namespace faultline
