// The whole-request deadline of the HTTP API's connections: cpp-httplib's read timeout is per
// read, so a client trickling a byte every few seconds would hold a serving thread for ever.
//
// cpp-httplib (0.11, a compiled library) hands no accepted socket to its user: the accept loop
// passes each connection to the task queue as an opaque job. So the queue's enqueue (on the
// accept thread, right after accept) finds the new connection itself: the one TCP socket of this
// process whose local address is the API's and whose inode is not yet tracked. It keeps a dup of it
// (the socket lives, and its inode stays unique, until the job is done), and a watchdog thread
// shuts down (shutdown(2), SHUT_RDWR: the serving thread's next read ends) a connection whose
// current request began more than `deadline` ago, counting it.
//
// A request begins at the first byte the kernel received for it (TCP_INFO's bytes_received
// moving, seen at the watchdog's ticks of kTick) after a serving thread took the connection or
// after the previous answer on it; time spent waiting in the queue does not count.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace faultline {

class ConnectionDeadline {
 public:
  static constexpr std::chrono::milliseconds kTick{100};

  // Tracks connections accepted on local TCP `host`:`port` (host as the listener was given it: a
  // numeric address is matched too, so listeners of this process on the same port number but
  // different addresses do not mix); counts those cut in *cut.
  ConnectionDeadline(const std::string& host, int port, std::chrono::milliseconds deadline,
                     std::atomic<uint64_t>* cut);
  ~ConnectionDeadline();
  ConnectionDeadline(const ConnectionDeadline&) = delete;
  ConnectionDeadline& operator=(const ConnectionDeadline&) = delete;

  // On the accept thread, after accept: finds and tracks the new connection; its id, or -1 if
  // none was found (then it is served without a deadline; cannot happen short of EMFILE). *socket
  // (if given): the accepted descriptor itself (the one cpp-httplib holds), or -1.
  int64_t Accepted(int* socket = nullptr);
  // The client address of connection `id` (PeerAddress; "" if unknown).
  std::string Peer(int64_t id);
  // How many connections of client address `peer` other than `except` are tracked and still
  // established: those whose client closed them (or that were cut) end at once and hold nothing.
  size_t Holding(const std::string& peer, int64_t except);
  // On the serving thread: the job of connection `id` starts / ended (it closed its socket).
  void Started(int64_t id);
  void Finished(int64_t id);
  // On the serving thread, after an answer was written: the next request's clock starts anew.
  void Answered();

 private:
  struct Connection {
    int fd = -1;  // our dup of the connection's socket
    uint64_t inode = 0;
    std::string peer;  // the client's address
    bool serving = false;
    uint64_t baseline = 0;  // bytes received before the current request
    std::chrono::steady_clock::time_point first_byte{};  // {} = no byte of the request yet
    bool cut = false;
  };
  void Watch();
  void Check(Connection& connection, std::chrono::steady_clock::time_point now);

  std::string host_;
  int port_;
  std::chrono::milliseconds deadline_;
  std::atomic<uint64_t>* cut_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stop_ = false;
  int64_t next_id_ = 0;
  std::map<int64_t, Connection> connections_;
  std::thread watchdog_;
};

}  // namespace faultline
