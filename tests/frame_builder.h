// Hand-built Ethernet frames for the parser, pipeline and replay tests: headers are appended one
// after another to a byte vector, with any field value (valid or not).
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <vector>

namespace faultline::testing {

using Bytes = std::vector<uint8_t>;

inline constexpr uint8_t kDstMac[6] = {0x02, 0, 0, 0, 0, 0xbb};
inline constexpr uint8_t kSrcMac[6] = {0x02, 0, 0, 0, 0, 0xaa};

inline void Put16(Bytes* bytes, uint16_t value) {
  bytes->push_back(static_cast<uint8_t>(value >> 8));
  bytes->push_back(static_cast<uint8_t>(value));
}
inline void PutZeros(Bytes* bytes, size_t n) { bytes->insert(bytes->end(), n, 0); }

// MACs kSrcMac -> kDstMac (swapped with `reverse`), a VLAN tag (VID 100) per TPID, the ethertype.
inline Bytes Ethernet(uint16_t ether_type, std::vector<uint16_t> vlan_tpids = {},
                      bool reverse = false) {
  Bytes bytes(reverse ? kSrcMac : kDstMac, (reverse ? kSrcMac : kDstMac) + 6);
  bytes.insert(bytes.end(), reverse ? kDstMac : kSrcMac, (reverse ? kDstMac : kSrcMac) + 6);
  for (uint16_t tpid : vlan_tpids) {
    Put16(&bytes, tpid);
    Put16(&bytes, 100);  // VLAN id
  }
  Put16(&bytes, ether_type);
  return bytes;
}

struct Ipv4Options {
  uint8_t proto = 17;
  uint8_t tos = 0;
  uint16_t fragment = 0;  // flags and offset word (0x2000 = more fragments)
  uint8_t ihl = 5;
  const char* src = "10.0.1.5";
  const char* dst = "10.0.2.7";
  uint16_t id = 1;
  uint8_t version = 4;
};

// IPv4 header (total length 100, not checked by the parser), NOP options up to `ihl`.
inline void AppendIpv4(Bytes* bytes, const Ipv4Options& options) {
  bytes->push_back(static_cast<uint8_t>(options.version << 4 | options.ihl));
  bytes->push_back(options.tos);
  Put16(bytes, 100);
  Put16(bytes, options.id);
  Put16(bytes, options.fragment);
  bytes->push_back(64);
  bytes->push_back(options.proto);
  Put16(bytes, 0);
  uint8_t address[4];
  inet_pton(AF_INET, options.src, address);
  bytes->insert(bytes->end(), address, address + 4);
  inet_pton(AF_INET, options.dst, address);
  bytes->insert(bytes->end(), address, address + 4);
  for (int i = 5; i < options.ihl; ++i) bytes->insert(bytes->end(), {1, 1, 1, 1});
}

inline void AppendIpv6(Bytes* bytes, uint8_t next_header, uint8_t traffic_class = 0,
                       const char* src = "fd00:1::5", const char* dst = "fd00:2::7") {
  bytes->push_back(static_cast<uint8_t>(0x60 | traffic_class >> 4));
  bytes->push_back(static_cast<uint8_t>(traffic_class << 4));
  Put16(bytes, 0);  // flow label, low bits
  Put16(bytes, 100);
  bytes->push_back(next_header);
  bytes->push_back(64);
  uint8_t address[16];
  inet_pton(AF_INET6, src, address);
  bytes->insert(bytes->end(), address, address + 16);
  inet_pton(AF_INET6, dst, address);
  bytes->insert(bytes->end(), address, address + 16);
}

// An IPv6 fragment header; `offset` in 8-byte units.
inline void AppendIpv6Fragment(Bytes* bytes, uint8_t next_header, uint16_t offset, bool more,
                               uint32_t id) {
  bytes->push_back(next_header);
  bytes->push_back(0);
  Put16(bytes, static_cast<uint16_t>(offset << 3 | (more ? 1 : 0)));
  Put16(bytes, static_cast<uint16_t>(id >> 16));
  Put16(bytes, static_cast<uint16_t>(id));
}

// An 8-byte IPv6 extension header (hop-by-hop, routing, destination options) naming `next`.
inline void AppendIpv6Extension(Bytes* bytes, uint8_t next_header) {
  bytes->insert(bytes->end(), {next_header, 0, 1, 4, 0, 0, 0, 0});  // PadN
}

// UDP, or the first `header` bytes of TCP or SCTP: ports first in all three.
inline void AppendPorts(Bytes* bytes, uint16_t src_port, uint16_t dst_port, size_t header = 8) {
  Put16(bytes, src_port);
  Put16(bytes, dst_port);
  PutZeros(bytes, header - 4);
}

}  // namespace faultline::testing
