// The per-client connection cap of the HTTP API (`run --api-max-per-client N`, as nginx's
// limit_conn): one client address holds at most N connections at once, serving or waiting, N
// below the number of serving threads, so a slow or hostile client can never take them all and
// delay the others. A connection is counted from its acceptance until its job ends.
//
// A connection beyond the cap is refused on the accept thread, without taking a serving thread:
// a small fixed answer (429) written with one non-blocking send, then shut down. Addresses are
// compared without the port (IPv4 and IPv6; an IPv4 client of a dual-stack listener is its
// ::ffff: form).
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace faultline {

class ClientCap {
 public:
  explicit ClientCap(size_t max_per_client) : max_per_client_(max_per_client) {}

  // Counts a connection of `peer` (PeerAddress) and true, or false if that address holds the
  // cap already. An unknown peer ("") is admitted and not counted.
  bool Admit(const std::string& peer);
  // The connection of `peer` admitted earlier ended.
  void Release(const std::string& peer);

 private:
  size_t max_per_client_;
  std::mutex mutex_;
  std::unordered_map<std::string, size_t> held_;
};

// The address of the peer of connected socket `fd`, without its port ("" if it has none).
std::string PeerAddress(int fd);

// Refuses connected socket `fd` at once: sends `answer` (may be empty: nothing is sent) without
// blocking, reads what already arrived (so the close does not reset the connection before the
// client read the answer) and shuts it down. The caller closes it.
void RefuseConnection(int fd, const std::string& answer);

}  // namespace faultline
