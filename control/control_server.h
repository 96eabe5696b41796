// The control socket of `faultline run`: a Unix stream socket served by one thread with poll().
//
// Framing: one JSON object per line, "\n"-terminated, in both directions; every request gets
// exactly one response line, in order. The server only moves lines and parses JSON; what a
// request does is the handler's business (control/control_commands.h). It never blocks on a
// client: sockets are non-blocking, responses wait in a per-client buffer, and a client that
// sends nothing, or does not read its responses, for `idle_timeout` is disconnected.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace faultline {

inline constexpr const char* kDefaultControlSocket = "/run/faultline/control.sock";

struct ControlServerOptions {
  std::string socket_path = kDefaultControlSocket;
  std::chrono::milliseconds idle_timeout{10'000};
  size_t max_request_bytes = size_t{1} << 20;  // per line; longer: error response and close
  size_t max_clients = 64;                     // more: error response and close
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
  ~ControlServer();  // Stop()
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Serves on its own thread (SIGINT and SIGTERM blocked there) until Stop.
  void Start(ControlHandler handler);
  // Stops the thread, closes every connection, removes the socket file. Idempotent.
  void Stop();

  const std::string& path() const { return options_.socket_path; }

 private:
  struct Client;
  explicit ControlServer(const ControlServerOptions& options) : options_(options) {}
  void Serve();
  void Accept(std::vector<std::unique_ptr<Client>>& clients);
  // Reads what is available and answers every complete line; false: close the client.
  bool ReadRequests(Client& client);
  void Answer(Client& client, const std::string& line);
  // Sends what the client's buffer holds; false: the connection is broken.
  bool Flush(Client& client);

  ControlServerOptions options_;
  ControlHandler handler_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;         // eventfd: Stop wakes poll()
  dev_t socket_device_ = 0;  // the socket file this server made (Stop removes only that one)
  ino_t socket_inode_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// The client side: sends `request` to the server at `socket_path` and returns its response, or
// nullopt with *error (nobody listening, timeout, malformed response). *connected tells whether
// the connection was made (no: there is no daemon).
std::optional<nlohmann::json> ControlRequest(const std::string& socket_path,
                                             const nlohmann::json& request,
                                             std::chrono::milliseconds timeout, std::string* error,
                                             bool* connected);

}  // namespace faultline
