// `faultline demo`: the product in one command, on a test bed it builds itself.
#pragma once

#include <cstdint>

namespace faultline {

struct DemoOptions {
  uint64_t delay_ns = 10'000'000;  // one-way delay the second run adds
  int tcp_seconds = 3;
};

int RunDemo(const DemoOptions& options);

}  // namespace faultline
