// The control plane's end of live capture (`faultline capture`, docs/formats.md "Control
// socket"): capture-start sets every worker's capture filter (dataplane/fastpath/frame_capture.h),
// capture-read drains the workers' rings into one response (the next frames, base64, with their
// cause), capture-stop switches capture off. One capture at a time; each request gets exactly
// one response, so the same requests work over the HTTP API (POST /v1/request). Used under the
// control commands' mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/fastpath/frame_capture.h"
#include "dataplane/runtime/live_run.h"

namespace faultline {

class CaptureSession {
 public:
  explicit CaptureSession(LiveDataplane* dataplane);

  // {"command":"capture-start","what":"dropped|duplicated|corrupted|delayed|all",
  //  "rule":NAME?, "count":N?, "duration_ns":D?} -> {"ok":true,"id":N,...}
  nlohmann::json Start(const nlohmann::json& request);
  // {"command":"capture-read","id":N} -> {"ok":true,"id":N,"frames":[...],"done":bool,...}
  nlohmann::json Read(const nlohmann::json& request);
  // {"command":"capture-stop"} -> what the capture took; ends it (no error if none runs).
  nlohmann::json Stop();

  // Frames one capture-read returns at most (about 50 KB of JSON at the snap length).
  static constexpr unsigned kReadFrames = 64;
  // A capture nobody read for this long is abandoned: a new capture-start may replace it.
  static constexpr std::chrono::seconds kAbandonedAfter{10};

 private:
  void Publish(const CaptureFilter& filter);
  void End();
  bool Done() const;
  nlohmann::json Summary(bool done) const;
  // The frame in `slot` as the response lists it.
  nlohmann::json FrameJson(const CaptureSlot& slot) const;
  uint64_t Lost() const;

  LiveDataplane* dataplane_;
  uint64_t wall0_ns_ = 0, clock0_ = 0;  // Unix time of the workers' clock at clock0_
  uint32_t next_id_ = 1;
  uint32_t id_ = 0;  // the running capture, 0: none
  std::string what_, rule_;
  uint64_t count_ = 0, delivered_ = 0, lost_at_start_ = 0;
  std::chrono::steady_clock::time_point deadline_, last_read_;
  bool has_deadline_ = false;
  std::map<uint16_t, std::string> rule_names_;  // counter id -> name (the profile at start)
};

}  // namespace faultline
