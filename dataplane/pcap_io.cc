#include "dataplane/pcap_io.h"

namespace faultline {

namespace {
constexpr int kSnapLength = 262144;

// libpcap's message, naming `path` once: some of its messages start with the path already
// ("x.pcap: No such file or directory"), others do not ("unknown file format").
std::string PcapError(const std::string& path, const std::string& message) {
  if (message.rfind(path + ":", 0) == 0) return message;
  return path + ": " + message;
}
}  // namespace

PcapReader::~PcapReader() {
  if (handle_) pcap_close(handle_);
}

bool PcapReader::Open(const std::string& path, std::string* error) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  path_ = path;
  handle_ =
      pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle_ == nullptr) {
    *error = PcapError(path, errbuf);
    return false;
  }
  return true;
}

bool PcapReader::Next(PcapFrame* frame) {
  pcap_pkthdr* header;
  const u_char* data;
  const int rc = pcap_next_ex(handle_, &header, &data);
  if (rc == 1) {
    frame->timestamp_ns =
        uint64_t(header->ts.tv_sec) * 1'000'000'000 + uint64_t(header->ts.tv_usec);
    frame->length = header->caplen;
    frame->original_length = header->len;
    frame->data = data;
    return true;
  }
  if (rc == PCAP_ERROR) error_ = PcapError(path_, pcap_geterr(handle_));
  return false;
}

int PcapReader::link_type() const { return pcap_datalink(handle_); }

PcapWriter::~PcapWriter() {
  std::string ignored;
  Close(&ignored);
}

bool PcapWriter::Open(const std::string& path, int link_type, std::string* error) {
  path_ = path;
  dead_ = pcap_open_dead_with_tstamp_precision(link_type, kSnapLength, PCAP_TSTAMP_PRECISION_NANO);
  if (dead_ == nullptr) {
    *error = path + ": cannot create a pcap handle";
    return false;
  }
  dumper_ = pcap_dump_open(dead_, path.c_str());
  if (dumper_ == nullptr) {
    *error = PcapError(path, pcap_geterr(dead_));
    return false;
  }
  return true;
}

void PcapWriter::Write(uint64_t timestamp_ns, const uint8_t* data, uint32_t length,
                       uint32_t original_length) {
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<time_t>(timestamp_ns / 1'000'000'000);
  // With nanosecond precision libpcap stores tv_usec as nanoseconds.
  header.ts.tv_usec = static_cast<suseconds_t>(timestamp_ns % 1'000'000'000);
  header.caplen = length;
  header.len = original_length;
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, data);
}

bool PcapWriter::Close(std::string* error) {
  bool ok = true;
  if (dumper_) {
    if (pcap_dump_flush(dumper_) != 0) {
      *error = path_ + ": write failed";
      ok = false;
    }
    pcap_dump_close(dumper_);
    dumper_ = nullptr;
  }
  if (dead_) {
    pcap_close(dead_);
    dead_ = nullptr;
  }
  return ok;
}

}  // namespace faultline
