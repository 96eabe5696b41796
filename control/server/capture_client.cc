#include "control/server/capture_client.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "control/base/base64.h"
#include "control/server/control_client.h"
#include "dataplane/reporting/pcapng_writer.h"

namespace faultline {

namespace {

std::atomic<bool> g_capture_interrupted{false};

// How long an empty capture-read waits before the next one.
constexpr std::chrono::milliseconds kEmptyReadPause{20};

// Writes the frames of one capture-read response; false with *status on a bad frame or file.
bool WriteFrames(const nlohmann::json& response, PcapngWriter* writer, int* status) {
  for (const nlohmann::json& frame : response.value("frames", nlohmann::json::array())) {
    const std::optional<std::string> data = Base64Decode(frame.value("data", ""));
    if (!data) {
      std::fprintf(stderr, "faultline capture: the dataplane sent a frame that is not base64\n");
      *status = 1;
      return false;
    }
    if (!writer->Write(frame.value("time_ns", uint64_t{0}), frame.value("length", 0u), *data,
                       CaptureComment(frame))) {
      std::fprintf(stderr, "faultline capture: writing the capture file failed\n");
      *status = 1;
      return false;
    }
  }
  return true;
}

}  // namespace

std::string CaptureComment(const nlohmann::json& frame) {
  std::string comment = frame.value("what", "");
  if (frame.contains("cause")) {
    comment += ':';
    comment += frame.value("cause", "");
  }
  const std::string rule = frame.value("rule", "");
  if (!rule.empty()) comment += " rule=" + rule;
  return comment + " dir=" + frame.value("direction", "");
}

int RunCapture(const CaptureOptions& options, const std::string& socket_path) {
  std::string error;
  std::unique_ptr<PcapngWriter> writer = PcapngWriter::Open(options.out, 65535, &error);
  if (writer == nullptr) {
    std::fprintf(stderr, "faultline capture: %s\n", error.c_str());
    return 1;
  }
  nlohmann::json start = {{"command", "capture-start"}, {"what", options.what}};
  if (!options.rule.empty()) start["rule"] = options.rule;
  if (options.count != 0) start["count"] = options.count;
  if (options.duration_ns != 0) start["duration_ns"] = options.duration_ns;
  int status = 0;
  const std::optional<nlohmann::json> started = AskControl("capture", start, socket_path, &status);
  if (!started) {
    writer.reset();
    std::remove(options.out.c_str());  // nothing was captured: no empty file left behind
    return status;
  }
  const uint64_t id = started->value("id", uint64_t{0});
  std::signal(SIGINT, [](int) { g_capture_interrupted.store(true); });
  std::signal(SIGTERM, [](int) { g_capture_interrupted.store(true); });
  nlohmann::json last = *started;
  while (!g_capture_interrupted.load()) {
    const std::optional<nlohmann::json> read =
        AskControl("capture", {{"command", "capture-read"}, {"id", id}}, socket_path, &status);
    if (!read || !WriteFrames(*read, writer.get(), &status)) break;
    last = *read;
    if (read->value("done", false)) break;
    if (read->value("frames", nlohmann::json::array()).empty()) {
      std::this_thread::sleep_for(kEmptyReadPause);
    }
  }
  // Ends the capture whatever happened here (a finished one is already over: no error).
  int stop_status = 0;
  if (!last.value("done", false)) {
    if (auto stopped =
            AskControl("capture", {{"command", "capture-stop"}}, socket_path, &stop_status)) {
      last["lost"] = stopped->value("lost", last.value("lost", uint64_t{0}));
    }
  }
  if (!writer->Close(&error)) {
    std::fprintf(stderr, "faultline capture: %s\n", error.c_str());
    return 1;
  }
  const uint64_t lost = last.value("lost", uint64_t{0});
  std::printf("faultline capture: %lu frame(s) in %s, %lu lost (capture_lost)\n", writer->frames(),
              options.out.c_str(), lost);
  if (lost != 0) {
    std::fprintf(stderr,
                 "faultline capture: %lu matching frame(s) found the capture ring full and are "
                 "not in the file (capture_lost); a --rule or a narrower --what takes fewer\n",
                 lost);
  }
  return status;
}

}  // namespace faultline
