// Header fields in network byte order, read and written byte by byte: frames carry no alignment
// promise, and this is what every header parser, builder and table in the dataplane shares.
#pragma once

#include <cstdint>

namespace faultline {

inline uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

inline uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// A MAC address as a 48-bit number, first octet most significant.
inline uint64_t Load48(const uint8_t* p) { return uint64_t{Load16(p)} << 32 | Load32(p + 2); }

inline void Store16(uint8_t* p, uint16_t value) {
  p[0] = static_cast<uint8_t>(value >> 8);
  p[1] = static_cast<uint8_t>(value);
}

inline void Store32(uint8_t* p, uint32_t value) {
  Store16(p, static_cast<uint16_t>(value >> 16));
  Store16(p + 2, static_cast<uint16_t>(value));
}

}  // namespace faultline
