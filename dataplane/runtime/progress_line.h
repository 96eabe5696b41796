// The progress line of a long `faultline replay` on a terminal: frames, % of the input read (by
// bytes) and rate, rewritten in place at most four times a second, and erased at the end.
// Nothing at all when the stream is not a terminal (a pipe, a file, a CI log).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace faultline {

class ProgressLine {
 public:
  static constexpr std::chrono::milliseconds kPeriod{250};

  // `total_bytes`: the inputs' size (0: unknown, no percentage). Shown only if `stream` is a
  // terminal.
  ProgressLine(FILE* stream, uint64_t total_bytes);
  ~ProgressLine() { Finish(); }

  bool enabled() const { return enabled_; }
  // Cheap: looks at the clock every 1024 calls.
  void Update(uint64_t frames, uint64_t bytes) {
    if (!enabled_ || (++calls_ & 1023) != 0) return;
    Draw(frames, bytes);
  }
  // Erases the line (once).
  void Finish();

  // The text of the line (no carriage return), for tests.
  static std::string Text(uint64_t frames, uint64_t bytes, uint64_t total_bytes, double seconds);

 private:
  void Draw(uint64_t frames, uint64_t bytes);

  FILE* stream_;
  uint64_t total_bytes_;
  bool enabled_;
  bool drawn_ = false;
  uint64_t calls_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace faultline
