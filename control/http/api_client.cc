#include "control/http/api_client.h"

#include <httplib.h>
#include <signal.h>

namespace faultline {

std::unique_ptr<ApiClient> ApiClient::Create(const ApiClientOptions& options, std::string* error) {
  const bool https = options.box.starts_with("https://");
  if (!https && !options.box.starts_with("http://")) {
    *error =
        "'" + options.box + "' is not a box address: give http://HOST:PORT or https://HOST:PORT";
    return nullptr;
  }
  // A box that hangs up while TLS writes to it must not end the caller (SSL_write does not pass
  // MSG_NOSIGNAL): the call fails instead.
  signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<ApiClient> client(new ApiClient(options));
  std::string base = options.box;
  while (base.ends_with('/')) base.pop_back();
  client->http_ = std::make_unique<httplib::Client>(base);
  if (!client->http_->is_valid()) {
    *error =
        "'" + options.box + "' is not a box address: give http://HOST:PORT or https://HOST:PORT";
    return nullptr;
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(options.timeout);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(options.timeout - seconds);
  client->http_->set_connection_timeout(seconds.count(), micros.count());
  client->http_->set_read_timeout(seconds.count(), micros.count());
  client->http_->set_write_timeout(seconds.count(), micros.count());
  if (!options.token.empty()) client->http_->set_bearer_token_auth(options.token);
  if (https && !options.ca_file.empty()) client->http_->set_ca_cert_path(options.ca_file);
  return client;
}

ApiClient::ApiClient(const ApiClientOptions& options) : options_(options) {}

ApiClient::~ApiClient() = default;

std::optional<std::string> ApiClient::Call(const std::string& method, const std::string& path,
                                           const std::string& body, int* status,
                                           std::string* error) {
  httplib::Result result =
      method == "GET" ? http_->Get(path) : http_->Post(path, body, "application/json");
  if (!result) {
    *error = "no answer from " + options_.box + path + ": " + httplib::to_string(result.error());
    const long tls = http_->get_openssl_verify_result();
    if (tls != 0) {
      *error += std::string(" (certificate: ") + X509_verify_cert_error_string(tls) +
                "; --ca-file names the CA that signed it)";
    }
    return std::nullopt;
  }
  *status = result->status;
  return result->body;
}

std::optional<nlohmann::json> ApiClient::Request(const nlohmann::json& request, std::string* error,
                                                 bool* connected) {
  if (connected) *connected = false;
  int status = 0;
  const std::optional<std::string> body =
      Call("POST", "/v1/request",
           request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), &status, error);
  if (!body) return std::nullopt;
  if (connected) *connected = true;
  nlohmann::json response = nlohmann::json::parse(*body, nullptr, false);
  if (!response.is_object() || !response.contains("ok")) {
    *error = "malformed response (HTTP " + std::to_string(status) + ") from " + options_.box +
             ": " + body->substr(0, 200);
    return std::nullopt;
  }
  return response;
}

std::optional<int64_t> ApiClient::TimeNs(std::string* error) {
  int status = 0;
  const std::optional<std::string> body = Call("GET", "/v1/time", "", &status, error);
  if (!body) return std::nullopt;
  const nlohmann::json response = nlohmann::json::parse(*body, nullptr, false);
  if (status != 200 || !response.is_object() || !response.contains("unix_ns") ||
      !response["unix_ns"].is_number_integer()) {
    *error = "GET /v1/time on " + options_.box + " answered HTTP " + std::to_string(status) + ": " +
             body->substr(0, 200);
    return std::nullopt;
  }
  return response["unix_ns"].get<int64_t>();
}

}  // namespace faultline
