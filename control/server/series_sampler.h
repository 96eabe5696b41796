// The live time series of `faultline run`: a control-plane thread that takes the statistics
// document every --series-interval (under the control mutex, like any request), hands it to the
// SeriesRecorder (the ring `stats --series` and `stats --window` read, and --series FILE, flushed
// each interval), and every --status-interval logs one status line: forwarded and dropped
// frames per second, the residence p99 of that time, the last event.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "dataplane/reporting/series.h"
#include "dataplane/runtime/live_run.h"

namespace faultline {

class SeriesSampler {
 public:
  // `mutex` serialises the use of `dataplane` with the control requests. Sets dataplane->series
  // and dataplane->wall_ns. Call Open, then Start.
  SeriesSampler(LiveDataplane* dataplane, std::mutex* mutex, const RunOptions& options);
  ~SeriesSampler();  // Stop()

  // Creates the recorder with its header (and --series FILE); false with *error.
  bool Open(std::string* error);
  void Start();
  // The last (partial) interval and, in the file, the whole run's histogram line. Idempotent.
  void Stop();

  // The status line of the time between two documents (for people; also a test's subject).
  static std::string StatusLine(const StatsReport& before, const StatsReport& now,
                                uint64_t elapsed_ns, const std::string& last_event);

 private:
  void Loop();
  void TakeSample(uint64_t t_ns);  // mutex held

  LiveDataplane* dataplane_;
  std::mutex* mutex_;
  const RunOptions& options_;
  std::unique_ptr<SeriesRecorder> recorder_;
  std::ofstream file_;
  uint64_t start_wall_ns_ = 0, start_clock_ = 0;
  uint64_t last_sample_ns_ = 0;
  std::optional<StatsReport> status_from_;  // the document of the last status line
  uint64_t status_from_ns_ = 0;
  std::thread thread_;
  std::condition_variable wake_;
  bool quit_ = false;  // guarded by *mutex_
  bool stopped_ = false;
};

}  // namespace faultline
