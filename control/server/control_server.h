// The control socket of `faultline run`: a Unix stream socket served by one thread with poll().
//
// Framing: one JSON object per line, "\n"-terminated, in both directions; every request gets
// exactly one response line, in order. The server only moves lines and parses JSON; what a
// request does is the handler's business (control/server/control_commands.h). It never blocks on a
// client: sockets are non-blocking and responses wait in a per-client buffer. Every client has a
// deadline, so none can hold a connection slot by being slow: a request must arrive whole within
// `request_timeout` of its first byte, and its response must be read within `request_timeout`;
// a client with no request under way is closed after `idle_timeout`. When all `max_clients`
// slots are taken, a new client takes the slot of the one that has made no progress the longest
// (it is told so); a client that does its requests at socket speed is never in that position.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "control/base/unique_fd.h"

namespace faultline {

inline constexpr const char* kDefaultControlSocket = "/run/faultline/control.sock";

struct ControlServerOptions {
  std::string socket_path = kDefaultControlSocket;
  // No request under way (nothing half sent, no response unread) for this long: closed.
  std::chrono::milliseconds idle_timeout{10'000};
  // A request not whole this long after its first byte, or a response not read this long after
  // it was ready: closed.
  std::chrono::milliseconds request_timeout{5'000};
  size_t max_request_bytes = size_t{1} << 20;  // per line; longer: error response and close
  // More at once: a newcomer replaces the client that has made no progress the longest.
  size_t max_clients = 64;
  // Empty: the socket is 0600 (root only). A group name: 0660 and owned by that group, so its
  // members may drive the dataplane without root.
  std::string group;
};

// Turns one request object into one response object ({"ok": true, ...} or {"ok": false,
// "error": "..."}). Runs on the server thread, one request at a time. Exceptions become error
// responses.
using ControlHandler = std::function<nlohmann::json(const nlohmann::json& request)>;

// An error response: {"ok": false, "code": CODE, "error": MESSAGE}. Codes: "bad-request"
// (malformed, unknown command or key), "invalid-profile", "unsupported" (valid, but not a change
// a running dataplane can make), "busy", "failed" (a runtime failure).
nlohmann::json ControlError(const std::string& code, const std::string& message);

// The response line (without its newline) to one request line (without its newline; a final
// '\r' is ignored): the handler's answer to a JSON object, or an error for malformed JSON, a
// value that is not an object, or a handler's exception. "" for a blank line (no request).
std::string AnswerRequestLine(const ControlHandler& handler, std::string_view line);

// Why the socket could not be set up.
enum class ListenFailure {
  kNone,
  kUsage,   // another process listens there, the path is too long or not a socket (exit 2)
  kSystem,  // cannot create the directory or the socket (exit 1)
};

class ControlServer {
 public:
  // Creates the socket (mode 0600; missing parent directories are created 0755). A socket file
  // nobody listens on (left by a killed run) is replaced; a live one is refused. Call before
  // other threads exist: the socket's mode is set through the process umask.
  static std::unique_ptr<ControlServer> Listen(const ControlServerOptions& options,
                                               std::string* error, ListenFailure* failure);
  ~ControlServer();  // Stop(), waiting as long as a request takes
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Serves on its own thread (SIGINT and SIGTERM blocked there) until Stop.
  void Start(ControlHandler handler);
  // Stops the thread, closes every connection, removes the socket file. Idempotent. A request
  // being handled is waited for up to `timeout`; if it takes longer, returns false with the
  // socket file removed but the thread still running (it may still use whatever the handler
  // uses): the caller must not free that, and may call Stop again to wait for it.
  bool Stop(std::chrono::milliseconds timeout = std::chrono::milliseconds::max());

  const std::string& path() const { return options_.socket_path; }

 private:
  struct Client;
  explicit ControlServer(const ControlServerOptions& options) : options_(options) {}
  void Serve();
  void Accept(std::vector<std::unique_ptr<Client>>& clients);
  // When `client` is closed unless it makes progress: its partial request or unread answers
  // (request_timeout), or its idleness (idle_timeout). Never while whole requests of it wait.
  std::chrono::steady_clock::time_point Deadline(const Client& client) const;
  // Reads what is available (a round's share); false: close the client.
  bool ReadRequests(Client& client);
  // Answers the client's complete requests, a round's share, and its last one at end of input.
  void AnswerRequests(Client& client);
  void Answer(Client& client, const std::string& line);
  void Reply(Client& client, const nlohmann::json& response);
  // Queues one answer line; the output deadline counts from the first unsent byte.
  void Send(Client& client, const std::string& response);
  // Sends what the client's buffer holds; false: the connection is broken.
  bool Flush(Client& client);
  void RemoveSocketFile();

  ControlServerOptions options_;
  ControlHandler handler_;
  UniqueFd listen_fd_;
  UniqueFd wake_fd_;         // eventfd: Stop wakes poll()
  dev_t socket_device_ = 0;  // the socket file this server made (Stop removes only that one)
  ino_t socket_inode_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex finished_mutex_;
  std::condition_variable finished_changed_;
  bool finished_ = false;  // Serve has returned (guarded by finished_mutex_)
};

// The client side: sends `request` to the server at `socket_path` and returns its response, or
// nullopt with *error (nobody listening, timeout, malformed response). *connected tells whether
// the connection was made (no: there is no daemon).
std::optional<nlohmann::json> ControlRequest(const std::string& socket_path,
                                             const nlohmann::json& request,
                                             std::chrono::milliseconds timeout, std::string* error,
                                             bool* connected);

}  // namespace faultline
