// The HTTP/JSON API of `faultline run --api ADDR:PORT` and its Prometheus endpoint (`--metrics`),
// on cpp-httplib: every route hands its control request to the same ControlHandler as the control
// socket (control/server/control_commands.h), so validation and atomicity are the socket's. It
// runs on its own threads, never a worker's.
//
// Limits: a request body longer than max_body_bytes is refused (413) from its Content-Length
// before any of it is read, and the connection closed; bodies without a length (chunked) get 411.
// `threads` connections are served at once, `max_waiting` more wait for a thread; beyond that a
// connection gets 503 from a thread of its own that reads nothing but the request head. Each read
// and write has its timeout; a keep-alive connection idle for keep_alive_timeout is closed. A
// request not whole within request_timeout of its first byte has its connection shut down and
// counted as a slow client (control/http/connection_deadline.h), so a client trickling bytes
// holds a serving thread for that long at most. One client address holds at most
// max_per_client connections at once; one more is refused on the accept thread with 429
// (control/http/client_cap.h), so a client cannot take all the serving threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "control/http/connection_deadline.h"
#include "control/server/control_server.h"
#include "control/server/run_with_control.h"

namespace httplib {
class Server;
}

namespace faultline {

struct ApiServerOptions {
  std::string address;        // HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080; port 0: any free one
  bool api = true;            // serves /v1/... (false: a metrics-only listener)
  bool metrics = true;        // serves /metrics
  bool metrics_open = false;  // /metrics without the token (the --metrics listener)
  std::string token_file;     // "" = no authentication
  std::string cert_file, key_file;  // both or neither: TLS
  size_t max_body_bytes = size_t{4} << 20;
  size_t threads = 4;
  size_t max_waiting = 16;
  std::chrono::seconds read_timeout{5}, write_timeout{5}, keep_alive_timeout{2};
  std::chrono::milliseconds request_timeout{5000};  // whole request, from its first byte
  size_t max_per_client = 2;  // connections one client address holds at once, 1..threads-1
};

// What the API refused, for the statistics ("api" section of stats over HTTP, and /metrics).
struct ApiCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> unauthorized{0};
  std::atomic<uint64_t> too_large{0};
  std::atomic<uint64_t> too_many_connections{0};
  std::atomic<uint64_t> slow_clients{0};         // connections cut at request_timeout
  std::atomic<uint64_t> too_many_per_client{0};  // refused: the address held max_per_client
  nlohmann::json ToJson() const;
  std::string ToPrometheus() const;
};

class ApiServer : public ControlFrontend {
 public:
  // Binds the address (and reads the token file, the certificate and key); nullptr with *error.
  static std::unique_ptr<ApiServer> Listen(const ApiServerOptions& options, std::string* error);
  ~ApiServer() override;
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  void Start(ControlHandler handler) override;
  bool Stop(std::chrono::milliseconds timeout) override;

  int port() const { return port_; }
  std::string url() const;  // http(s)://HOST:PORT
  const ApiCounters& counters() const { return counters_; }

 private:
  explicit ApiServer(const ApiServerOptions& options);
  void Register();
  // Refuses, before the body is read, what must not reach a route (busy, unknown path or
  // method, body size): true with the answer.
  bool Refuse(const std::string& method, const std::string& path, const std::string& content_length,
              bool chunked, int* status, nlohmann::json* body);
  // Whether the request carries the token (or needs none); counts those that do not.
  bool Authorized(const std::string& path, const std::string& authorization);
  nlohmann::json Answer(const std::string& path, const std::string& body,
                        const std::string& format);

  ApiServerOptions options_;
  std::string token_;
  std::unique_ptr<httplib::Server> http_;
  std::unique_ptr<ConnectionDeadline> deadline_;  // from Start to Stop
  ControlHandler handler_;
  ApiCounters counters_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
  std::mutex finished_mutex_;
  std::condition_variable finished_changed_;
  bool finished_ = false;
};

// Splits "HOST:PORT" ("[V6]:PORT" too); false with *error if it is not one.
bool SplitHostPort(const std::string& address, std::string* host, int* port, std::string* error);

}  // namespace faultline
