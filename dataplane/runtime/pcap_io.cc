#include "dataplane/runtime/pcap_io.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace faultline {

namespace {

constexpr int kSnapLength = 262144;

// libpcap's message, naming `path` once: some of its messages start with the path already
// ("x.pcap: No such file or directory"), others do not ("unknown file format").
std::string PcapError(const std::string& path, const std::string& message) {
  if (message.rfind(path + ":", 0) == 0) return message;
  return path + ": " + message;
}

constexpr size_t kEthernetHeader = 14;
constexpr uint16_t kIpv4 = 0x0800, kIpv6 = 0x86dd;

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// What replaces a capture's link-layer header: its length, and the Ethernet source MAC and
// ethertype it stands for.
struct LinkHeader {
  size_t length = 0;
  const uint8_t* source = nullptr;  // 6 bytes, or null: 00:00:00:00:00:00
  uint16_t ethertype = 0;
};

// The ethertype of a raw IP packet, from its version (0 if it is neither IPv4 nor IPv6).
uint16_t RawIpEthertype(const uint8_t* data, uint32_t length) {
  if (length == 0) return 0;
  switch (data[0] >> 4) {
    case 4:
      return kIpv4;
    case 6:
      return kIpv6;
    default:
      return 0;
  }
}

// The link header of a record of `link_type` (not Ethernet); fields a cut record lacks stay 0.
LinkHeader ReadLinkHeader(int link_type, const uint8_t* data, uint32_t length) {
  LinkHeader header;
  switch (link_type) {
    case DLT_RAW:
    case 101:  // LINKTYPE_RAW, should libpcap ever hand it over unmapped
      header.ethertype = RawIpEthertype(data, length);
      break;
    case DLT_IPV4:
      header.ethertype = kIpv4;
      break;
    case DLT_IPV6:
      header.ethertype = kIpv6;
      break;
    case DLT_LINUX_SLL:
      // packet type(2) ARPHRD type(2) address length(2) address(8) protocol(2)
      header.length = 16;
      if (length >= 16) {
        if (Load16(data + 4) == 6) header.source = data + 6;
        header.ethertype = Load16(data + 14);
      }
      break;
    case DLT_LINUX_SLL2:
      // protocol(2) reserved(2) interface index(4) ARPHRD type(2) packet type(1)
      // address length(1) address(8)
      header.length = 20;
      if (length >= 20) {
        if (data[11] == 6) header.source = data + 12;
        header.ethertype = Load16(data);
      }
      break;
  }
  header.length = std::min<size_t>(header.length, length);
  return header;
}

}  // namespace

const char* LinkTypeName(int link_type) {
  switch (link_type) {
    case DLT_EN10MB:
      return "Ethernet";
    case DLT_RAW:
    case 101:
      return "raw IP";
    case DLT_IPV4:
      return "raw IPv4";
    case DLT_IPV6:
      return "raw IPv6";
    case DLT_LINUX_SLL:
      return "Linux cooked (SLL)";
    case DLT_LINUX_SLL2:
      return "Linux cooked v2 (SLL2)";
    default:
      return "";
  }
}

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
  link_type_ = pcap_datalink(handle_);
  if (*LinkTypeName(link_type_) == '\0') {
    const char* name = pcap_datalink_val_to_name(link_type_);
    *error = path + ": link type " + std::to_string(link_type_) +
             (name ? std::string(" (") + name + ")" : "") +
             " is not supported; supported: Ethernet (1), raw IP (101, 228, 229), Linux cooked "
             "SLL (113) and SLL2 (276)";
    return false;
  }
  return true;
}

bool PcapReader::Next(PcapFrame* frame) {
  if (end_ != End::kNone) return false;
  pcap_pkthdr* header;
  const u_char* data;
  const int rc = pcap_next_ex(handle_, &header, &data);
  if (rc != 1) {
    if (rc == PCAP_ERROR) {
      // libpcap reports a record cut by the end of the file and a malformed record header the
      // same way; the stream says which.
      FILE* file = pcap_file(handle_);
      end_ = file != nullptr && std::feof(file) ? End::kTruncated : End::kDamaged;
      error_ = path_ + ": " + (end_ == End::kTruncated ? "truncated: " : "damaged: ") +
               pcap_geterr(handle_) + " (record " + std::to_string(records_ + 1) + ")";
    } else {
      end_ = End::kEndOfFile;
    }
    return false;
  }
  ++records_;
  // The seconds field is unsigned 32-bit in the file, but libpcap hands it over through a signed
  // 32-bit one: times from 2038 on (2^31 s) would come out negative. Nanoseconds likewise.
  const uint32_t seconds = static_cast<uint32_t>(header->ts.tv_sec);
  const uint32_t fraction = static_cast<uint32_t>(header->ts.tv_usec);
  frame->timestamp_ns = uint64_t{seconds} * 1'000'000'000 + fraction;
  frame->length = header->caplen;
  frame->original_length = header->len;
  frame->data = data;
  if (link_type_ == DLT_EN10MB) return true;
  // Another link type: its header (if any) becomes an Ethernet header.
  const LinkHeader link = ReadLinkHeader(link_type_, data, header->caplen);
  const uint32_t payload = header->caplen - static_cast<uint32_t>(link.length);
  converted_.resize(kEthernetHeader + payload);
  uint8_t* ethernet = converted_.data();
  std::memset(ethernet, 0, 12);  // destination and (unless the header had one) source MAC
  if (link.source != nullptr) std::memcpy(ethernet + 6, link.source, 6);
  ethernet[12] = static_cast<uint8_t>(link.ethertype >> 8);
  ethernet[13] = static_cast<uint8_t>(link.ethertype);
  std::memcpy(ethernet + kEthernetHeader, data + link.length, payload);
  frame->data = ethernet;
  frame->length = static_cast<uint32_t>(converted_.size());
  const uint32_t wire_link = std::min<uint32_t>(header->len, static_cast<uint32_t>(link.length));
  frame->original_length = header->len - wire_link + kEthernetHeader;
  return true;
}

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
  if (timestamp_ns > kPcapMaxTimestampNs) {
    timestamp_ns = kPcapMaxTimestampNs;
    ++clamped_;
  }
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
