#include "dataplane/runtime/progress_line.h"

#include <unistd.h>

namespace faultline {

ProgressLine::ProgressLine(FILE* stream, uint64_t total_bytes)
    : stream_(stream),
      total_bytes_(total_bytes),
      enabled_(isatty(fileno(stream)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_(start_ - kPeriod) {}  // the first look draws

std::string ProgressLine::Text(uint64_t frames, uint64_t bytes, uint64_t total_bytes,
                               double seconds) {
  char text[160];
  const double rate = seconds > 0 ? static_cast<double>(frames) / seconds : 0;
  if (total_bytes != 0) {
    std::snprintf(text, sizeof(text),
                  "faultline replay: %lu frames, %.1f%% of input, %.0f frames/s", frames,
                  100.0 * static_cast<double>(bytes) / static_cast<double>(total_bytes), rate);
  } else {
    std::snprintf(text, sizeof(text), "faultline replay: %lu frames, %.0f frames/s", frames, rate);
  }
  return text;
}

void ProgressLine::Draw(uint64_t frames, uint64_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < kPeriod) return;
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  // \r and "erase to the end of the line": the new text overwrites the old in place.
  std::fprintf(stream_, "\r%s\033[K", Text(frames, bytes, total_bytes_, seconds).c_str());
  std::fflush(stream_);
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (!drawn_) return;
  std::fprintf(stream_, "\r\033[K");
  std::fflush(stream_);
  drawn_ = false;
}

}  // namespace faultline
