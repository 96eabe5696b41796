// Where the tests that run faultline as a process find it (meson passes FAULTLINE_BIN).
#pragma once

#include <cstdlib>
#include <string>

namespace faultline::testing {

inline std::string FaultlineBinary() {
  const char* path = std::getenv("FAULTLINE_BIN");
  return path ? path : "build/faultline";
}

}  // namespace faultline::testing
