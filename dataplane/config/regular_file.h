// Reading a configuration file (a profile, trace, topology, .dist table) whole, safely for a
// daemon: only a regular file, opened without blocking, up to a size limit. A FIFO named as a
// table would otherwise block the control thread in open() until a writer came, and /dev/zero
// would be read until memory ran out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace faultline {

// The largest configuration file faultline reads (docs/formats.md, "Limits").
inline constexpr size_t kMaxConfigFileBytes = size_t{16} << 20;

// The contents of the regular file at `path`, at most `max_bytes` of it; or nullopt and *error
// "PATH: cannot read: why" (why: the system's reason, "it is a directory", "it is a FIFO, not a
// regular file", or that it is larger than the limit).
std::optional<std::string> ReadRegularFile(const std::string& path, std::string* error,
                                           size_t max_bytes = kMaxConfigFileBytes);

}  // namespace faultline
