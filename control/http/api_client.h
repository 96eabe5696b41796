// The client of the HTTP API (control/http/api_server.h): sends control request objects to
// POST /v1/request of a box (`faultline --box URL`, the fleet) and reads its clock (GET /v1/time).
// A response is the socket's response object, so callers treat both alike.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace httplib {
class Client;
}

namespace faultline {

struct ApiClientOptions {
  std::string box;                            // http://HOST:PORT or https://HOST:PORT
  std::string token;                          // "" = none; else sent as Authorization: Bearer TOKEN
  std::string ca_file;                        // https: trust this CA (PEM) instead of the system's
  std::chrono::milliseconds timeout{10'000};  // connect, read and write, each
};

class ApiClient {
 public:
  // nullptr with *error if `box` is not an http(s) URL.
  static std::unique_ptr<ApiClient> Create(const ApiClientOptions& options, std::string* error);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // POST /v1/request: the box's response object ({"ok": ...}; error responses too, whatever
  // their HTTP status), or nullopt with *error when there is none (no box, timeout, not JSON).
  // *connected: whether the box answered at all.
  std::optional<nlohmann::json> Request(const nlohmann::json& request, std::string* error,
                                        bool* connected = nullptr);
  // Any route: `method` "GET" or "POST", `body` "" for none. *status: the HTTP status.
  std::optional<std::string> Call(const std::string& method, const std::string& path,
                                  const std::string& body, int* status, std::string* error);
  // GET /v1/time: the box's wall clock (Unix ns).
  std::optional<int64_t> TimeNs(std::string* error);

  const std::string& box() const { return options_.box; }

 private:
  explicit ApiClient(const ApiClientOptions& options);
  ApiClientOptions options_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace faultline
