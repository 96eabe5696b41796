#include "control/server/capture_session.h"

#include <algorithm>
#include <vector>

#include "control/base/base64.h"
#include "control/base/units.h"
#include "control/server/control_server.h"
#include "dataplane/fastpath/frame_recorder.h"
#include "dataplane/pipeline/snapshot_channel.h"

namespace faultline {

namespace {

constexpr const char* kWhatChoices = "dropped, duplicated, corrupted, delayed or all";

// The CaptureWhat bits of "dropped", ..., "all"; 0 if unknown.
uint8_t WhatBits(const std::string& what) {
  if (what == "all") return kCaptureAll;
  for (uint8_t bit = 1; bit < kCaptureAll; bit <<= 1) {
    if (what == CaptureWhatName(bit)) return bit;
  }
  return 0;
}

bool NonNegativeInteger(const nlohmann::json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

// A non-negative integer field, or *problem.
bool CountField(const nlohmann::json& request, const char* key, uint64_t* out,
                std::string* problem) {
  const auto found = request.find(key);
  if (found == request.end()) return true;
  if (!NonNegativeInteger(*found)) {
    *problem = std::string("\"") + key + "\" must be a non-negative integer";
    return false;
  }
  *out = found->get<uint64_t>();
  return true;
}

}  // namespace

CaptureSession::CaptureSession(LiveDataplane* dataplane)
    : dataplane_(dataplane),
      wall0_ns_(static_cast<uint64_t>(WallClockNs())),
      clock0_(dataplane->now ? dataplane->now() : 0) {}

void CaptureSession::Publish(const CaptureFilter& filter) {
  for (CaptureTap* tap : dataplane_->captures) tap->Publish(filter);
}

uint64_t CaptureSession::Lost() const {
  uint64_t lost = 0;
  for (const CaptureTap* tap : dataplane_->captures) lost += tap->lost();
  return lost;
}

nlohmann::json CaptureSession::Start(const nlohmann::json& request) {
  if (dataplane_->captures.empty()) {
    return ControlError("failed", "this dataplane has no capture rings");
  }
  const auto now = std::chrono::steady_clock::now();
  if (id_ != 0 && now - last_read_ < kAbandonedAfter) {
    return ControlError("busy", "a capture is running already (id " + std::to_string(id_) +
                                    "): one at a time; wait for it, or end it with "
                                    "{\"command\":\"capture-stop\"}");
  }
  const auto what = request.find("what");
  const std::string what_text = what == request.end() ? "all" : what->is_string() ? *what : "";
  const uint8_t bits = WhatBits(what_text);
  if (bits == 0) {
    return ControlError("bad-request", "capture \"what\" must be " + std::string(kWhatChoices));
  }
  std::string problem;
  uint64_t count = 0, duration_ns = 0;
  if (!CountField(request, "count", &count, &problem) ||
      !CountField(request, "duration_ns", &duration_ns, &problem)) {
    return ControlError("bad-request", problem);
  }
  const ProfileSnapshot& installed = dataplane_->publisher->installed();
  std::map<uint16_t, std::string> names;
  uint32_t rule_id = 0;
  std::string rule, known;
  if (installed != nullptr) {
    for (size_t i = 0; i < installed->rule_count(); ++i) {
      const uint32_t id = installed->rule_counter_id[i];
      names[static_cast<uint16_t>(id)] = installed->rule_names[i];
      known += (known.empty() ? "" : ", ") + installed->rule_names[i];
    }
  }
  if (const auto found = request.find("rule"); found != request.end()) {
    if (!found->is_string()) return ControlError("bad-request", "\"rule\" must be a string");
    rule = *found;
    for (const auto& [id, name] : names) {
      if (name == rule) rule_id = id + 1;
    }
    if (rule_id == 0) {
      return ControlError("bad-request", "no rule \"" + rule + "\" in the profile in force (" +
                                             (known.empty() ? "it has no rules" : known) + ")");
    }
  }
  if (id_ != 0) End();  // abandoned: nobody read it for kAbandonedAfter
  for (CaptureTap* tap : dataplane_->captures) tap->Discard();
  id_ = next_id_++;
  what_ = what_text;
  rule_ = rule;
  rule_names_ = std::move(names);
  count_ = count;
  delivered_ = 0;
  lost_at_start_ = Lost();
  has_deadline_ = duration_ns != 0;
  deadline_ = now + std::chrono::nanoseconds(duration_ns);
  last_read_ = now;
  Publish({.what = bits, .rule_id = rule_id, .session = id_});
  nlohmann::json response = Summary(false);
  response["ok"] = true;
  response["snaplen"] = kCaptureSnap;
  return response;
}

bool CaptureSession::Done() const {
  return (count_ != 0 && delivered_ >= count_) ||
         (has_deadline_ && std::chrono::steady_clock::now() >= deadline_);
}

nlohmann::json CaptureSession::Summary(bool done) const {
  nlohmann::json summary = {{"id", id_},
                            {"what", what_},
                            {"captured", delivered_},
                            {"lost", Lost() - lost_at_start_},
                            {"done", done}};
  if (!rule_.empty()) summary["rule"] = rule_;
  return summary;
}

nlohmann::json CaptureSession::FrameJson(const CaptureSlot& slot) const {
  const auto name = rule_names_.find(slot.rule);
  std::string rule;
  if (slot.rule != kNoRule) rule = '#' + std::to_string(slot.rule);
  if (name != rule_names_.end()) rule = name->second;
  const uint64_t since = slot.time >= clock0_ ? dataplane_->time_base.ToNs(slot.time - clock0_) : 0;
  nlohmann::json frame = {{"time_ns", wall0_ns_ + since},
                          {"length", slot.length},
                          {"what", CaptureWhatName(slot.what)},
                          {"direction", slot.direction == 0 ? "a-to-b" : "b-to-a"},
                          {"rule", rule},
                          {"data", Base64Encode(std::string_view(
                                       reinterpret_cast<const char*>(slot.data), slot.captured))}};
  if (slot.what == kCaptureDropped) {
    frame["cause"] = DropCauseName(static_cast<DropCause>(slot.cause));
  }
  return frame;
}

nlohmann::json CaptureSession::Read(const nlohmann::json& request) {
  const auto id = request.find("id");
  if (id == request.end() || !NonNegativeInteger(*id)) {
    return ControlError("bad-request", "capture-read needs \"id\", the id capture-start gave");
  }
  if (id_ == 0 || id->get<uint64_t>() != id_) {
    return ControlError("bad-request", "no capture with id " + id->dump() +
                                           " is running (it ended, or was never started)");
  }
  last_read_ = std::chrono::steady_clock::now();
  nlohmann::json frames = nlohmann::json::array();
  std::vector<CaptureSlot> slots(kReadFrames);
  for (CaptureTap* tap : dataplane_->captures) {
    unsigned room = kReadFrames - static_cast<unsigned>(frames.size());
    if (count_ != 0) room = static_cast<unsigned>(std::min<uint64_t>(room, count_ - delivered_));
    const unsigned taken = tap->Drain(slots.data(), room);
    for (unsigned i = 0; i < taken; ++i) frames.push_back(FrameJson(slots[i]));
    delivered_ += taken;
  }
  const bool done = Done();
  nlohmann::json response = Summary(done);
  response["ok"] = true;
  response["frames"] = std::move(frames);
  if (done) End();
  return response;
}

nlohmann::json CaptureSession::Stop() {
  nlohmann::json response = Summary(true);
  response["ok"] = true;
  response["was_running"] = id_ != 0;
  if (id_ != 0) End();
  return response;
}

void CaptureSession::End() {
  Publish({});  // off from each worker's next burst; what it still copies is discarded at start
  id_ = 0;
}

}  // namespace faultline
