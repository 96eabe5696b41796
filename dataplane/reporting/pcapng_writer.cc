#include "dataplane/reporting/pcapng_writer.h"

#include <cerrno>
#include <cstring>

namespace faultline {

namespace {
constexpr uint32_t kSectionHeader = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescription = 1;
constexpr uint32_t kEnhancedPacket = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kLinkTypeEthernet = 1;
constexpr uint16_t kOptionEnd = 0, kOptionComment = 1, kOptionTsResol = 9;

uint32_t Padded(size_t n) { return static_cast<uint32_t>((n + 3) & ~size_t{3}); }
}  // namespace

std::unique_ptr<PcapngWriter> PcapngWriter::Open(const std::string& path, uint32_t snaplen,
                                                 std::string* error) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<PcapngWriter> writer(new PcapngWriter(file, path));
  // Section header: no options, section length unknown (-1).
  writer->Put32(kSectionHeader);
  writer->Put32(28);
  writer->Put32(kByteOrderMagic);
  writer->Put32(1);  // major 1, minor 0 (little-endian u16 pair)
  writer->Put32(0xffffffff);
  writer->Put32(0xffffffff);
  writer->Put32(28);
  // Interface description: Ethernet, snaplen, if_tsresol = 9 (10^-9 s), end of options.
  writer->Put32(kInterfaceDescription);
  writer->Put32(32);
  writer->Put32(kLinkTypeEthernet);  // link type, then 16 reserved bits
  writer->Put32(snaplen);
  writer->Put32(kOptionTsResol | uint32_t{1} << 16);
  writer->Put32(9);  // the value byte, then 3 bytes of padding
  writer->Put32(kOptionEnd);
  writer->Put32(32);
  return writer;
}

PcapngWriter::~PcapngWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void PcapngWriter::Put32(uint32_t value) {
  const uint8_t bytes[4] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8),
                            static_cast<uint8_t>(value >> 16), static_cast<uint8_t>(value >> 24)};
  std::fwrite(bytes, 1, 4, file_);
}

void PcapngWriter::PutPadded(std::string_view bytes) {
  static constexpr char kZeros[4] = {};
  std::fwrite(bytes.data(), 1, bytes.size(), file_);
  std::fwrite(kZeros, 1, Padded(bytes.size()) - bytes.size(), file_);
}

bool PcapngWriter::Write(uint64_t time_ns, uint32_t original_length, std::string_view data,
                         std::string_view comment) {
  if (comment.size() > 0xffff) comment = comment.substr(0, 0xffff);
  const uint32_t options = comment.empty() ? 0 : 4 + Padded(comment.size()) + 4;
  const uint32_t total = 28 + Padded(data.size()) + options + 4;
  Put32(kEnhancedPacket);
  Put32(total);
  Put32(0);  // interface 0
  Put32(static_cast<uint32_t>(time_ns >> 32));
  Put32(static_cast<uint32_t>(time_ns));
  Put32(static_cast<uint32_t>(data.size()));
  Put32(original_length);
  PutPadded(data);
  if (!comment.empty()) {
    Put32(kOptionComment | static_cast<uint32_t>(comment.size()) << 16);
    PutPadded(comment);
    Put32(kOptionEnd);
  }
  Put32(total);
  ++frames_;
  return std::ferror(file_) == 0;
}

bool PcapngWriter::Close(std::string* error) {
  const bool failed = std::ferror(file_) != 0;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!failed && closed) return true;
  *error = "cannot write " + path_ + ": " + std::strerror(errno ? errno : EIO);
  return false;
}

}  // namespace faultline
