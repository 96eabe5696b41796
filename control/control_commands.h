// What the control socket's requests do to a running dataplane (docs/formats.md, "Control
// socket"): heal, apply, ping. Every change is a new compiled snapshot of the whole profile,
// published to every worker (dataplane/snapshot_channel.h); a request that fails changes nothing.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>

#include "dataplane/snapshot_channel.h"

namespace faultline {

class ControlCommands {
 public:
  // `publisher` holds the running snapshot and outlives this object. `ack_timeout`: how long a
  // change waits for every worker to take it before the answer says it did not.
  explicit ControlCommands(SnapshotPublisher* publisher,
                           std::chrono::milliseconds ack_timeout = std::chrono::seconds(1));

  // One request object in, one response object out (ControlHandler).
  nlohmann::json Handle(const nlohmann::json& request);

 private:
  nlohmann::json Heal(const nlohmann::json& request);
  nlohmann::json Apply(const nlohmann::json& request);
  // Compiles `spec` with the running seed and time base and publishes it.
  nlohmann::json Publish(const ProfileSpec& spec, bool rules_active);
  nlohmann::json State() const;

  SnapshotPublisher* publisher_;
  std::chrono::milliseconds ack_timeout_;
};

}  // namespace faultline
