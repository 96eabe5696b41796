#include "control/http/api_server.h"

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <deque>
#include <functional>
#include <vector>

#include "control/base/units.h"
#include "control/http/api_routes.h"
#include "control/http/api_token.h"
#include "control/http/client_cap.h"

namespace faultline {

namespace {

// Set on the thread that answers connections beyond the limit: they get 503 and nothing else.
thread_local bool t_over_limit = false;

// What the accept thread refuses at once: a connection beyond the per-client cap.
struct PerClientRefusal {
  size_t cap;
  std::atomic<uint64_t>* refused;
  std::string answer;  // written raw; "" with TLS (cannot be written in clear text)
};

// httplib's task queue with a bound: `threads` serve connections, `max_waiting` wait; a
// connection beyond that is handed to one extra thread that answers it 503 (cpp-httplib's own
// ThreadPool queues without limit). A connection beyond the per-client cap is refused here, on
// the accept thread, and its job (not started) dropped.
class BoundedTaskQueue : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t threads, size_t max_waiting, std::atomic<uint64_t>* refused,
                   ConnectionDeadline* deadline, PerClientRefusal per_client)
      : max_waiting_(max_waiting),
        refused_(refused),
        deadline_(deadline),
        per_client_(std::move(per_client)) {
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Work(jobs_, false); });
    }
    threads_.emplace_back([this] { Work(refusals_, true); });
  }
  void enqueue(std::function<void()> job) override {
    if (deadline_ != nullptr) {
      // Called on the accept thread right after accept: the new connection is found now.
      int socket = -1;
      const int64_t id = deadline_->Accepted(&socket);
      const std::string peer = deadline_->Peer(id);
      if (!peer.empty() && deadline_->Holding(peer, id) >= per_client_.cap) {
        per_client_.refused->fetch_add(1, std::memory_order_relaxed);
        RefuseConnection(socket, per_client_.answer);
        // cpp-httplib passes the socket to the job and never touches it after enqueue: the job
        // (which would serve and close it) is dropped, so it is closed here.
        close(socket);
        deadline_->Finished(id);
        return;
      }
      job = [deadline = deadline_, id, job = std::move(job)] {
        deadline->Started(id);
        job();
        deadline->Finished(id);
      };
    }
    {
      std::lock_guard lock(mutex_);
      if (jobs_.size() < max_waiting_) {
        jobs_.push_back(std::move(job));
      } else {
        refused_->fetch_add(1, std::memory_order_relaxed);
        refusals_.push_back(std::move(job));  // each closes its connection after the 503
      }
    }
    changed_.notify_all();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mutex_);
      shutdown_ = true;
    }
    changed_.notify_all();
    for (std::thread& thread : threads_) thread.join();
  }

 private:
  void Work(std::deque<std::function<void()>>& queue, bool over_limit) {
    t_over_limit = over_limit;
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return shutdown_ || !queue.empty(); });
        if (queue.empty()) return;  // shut down and nothing left
        job = std::move(queue.front());
        queue.pop_front();
      }
      job();
    }
  }

  size_t max_waiting_;
  std::atomic<uint64_t>* refused_;
  ConnectionDeadline* deadline_;
  PerClientRefusal per_client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_, refusals_;
  bool shutdown_ = false;
  std::vector<std::thread> threads_;
};

// cpp-httplib's server with its listening socket in reach: it listens with a backlog of 5, so a
// burst of more connections (a test suite's clients, a fleet) would wait a SYN retransmission
// (1 s) each; Listen raises the backlog (listen(2) again on a listening socket sets it).
template <class Base>
class WideBacklog : public Base {
 public:
  using Base::Base;
  void RaiseBacklog() { listen(Base::svr_sock_, SOMAXCONN); }
};

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Send(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(Dump(body) + "\n", "application/json");
}

// The whole answer to a connection beyond the per-client cap, written raw by the accept thread.
std::string TooManyPerClient(size_t cap) {
  const std::string body =
      Dump(ControlError("too-many-per-client",
                        "this address holds " + std::to_string(cap) +
                            " connections already (the per-client cap, --api-max-per-client); "
                            "close one and try again")) +
      "\n";
  return "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

nlohmann::json ApiCounters::ToJson() const {
  return {
      {"requests", requests.load()},         {"unauthorized", unauthorized.load()},
      {"too_large", too_large.load()},       {"too_many_connections", too_many_connections.load()},
      {"slow_clients", slow_clients.load()}, {"too_many_per_client", too_many_per_client.load()}};
}

std::string ApiCounters::ToPrometheus() const {
  std::string text =
      "# HELP faultline_api_requests_total HTTP API requests received.\n"
      "# TYPE faultline_api_requests_total counter\n"
      "faultline_api_requests_total " +
      std::to_string(requests.load()) +
      "\n# HELP faultline_api_refused_total HTTP API requests refused, by reason.\n"
      "# TYPE faultline_api_refused_total counter\n";
  const std::pair<const char*, uint64_t> refused[] = {
      {"unauthorized", unauthorized.load()},
      {"too_large", too_large.load()},
      {"too_many_connections", too_many_connections.load()},
      {"slow_clients", slow_clients.load()},
      {"too_many_per_client", too_many_per_client.load()}};
  for (const auto& [reason, count] : refused) {
    text += std::string("faultline_api_refused_total{reason=\"") + reason + "\"} " +
            std::to_string(count) + "\n";
  }
  return text;
}

bool SplitHostPort(const std::string& address, std::string* host, int* port, std::string* error) {
  const size_t colon = address.rfind(':');
  std::string name = colon == std::string::npos ? "" : address.substr(0, colon);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  const std::string digits = colon == std::string::npos ? "" : address.substr(colon + 1);
  const bool numeric = !digits.empty() && digits.size() <= 5 &&
                       digits.find_first_not_of("0123456789") == std::string::npos;
  if (name.empty() || !numeric || std::stoi(digits) > 65535) {
    *error = "'" + address + "' is not an address: give HOST:PORT, e.g. 127.0.0.1:8080";
    return false;
  }
  *host = name;
  *port = std::stoi(digits);
  return true;
}

std::unique_ptr<ApiServer> ApiServer::Listen(const ApiServerOptions& options, std::string* error) {
  std::unique_ptr<ApiServer> server(new ApiServer(options));
  int port = 0;
  if (!SplitHostPort(options.address, &server->host_, &port, error)) return nullptr;
  if (!options.token_file.empty()) {
    const auto token = ReadTokenFile(options.token_file, true, error);
    if (!token) return nullptr;
    server->token_ = *token;
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    *error = "--api-cert and --api-key go together (a certificate and its private key, PEM)";
    return nullptr;
  }
  if (options.max_per_client < 1 || options.max_per_client >= options.threads) {
    *error = "--api-max-per-client " + std::to_string(options.max_per_client) + ": give 1 to " +
             std::to_string(options.threads - 1) + " (below the " +
             std::to_string(options.threads) +
             " serving threads, so one client address never holds them all)";
    return nullptr;
  }
  std::function<void()> raise_backlog;
  if (!options.cert_file.empty()) {
    auto tls = std::make_unique<WideBacklog<httplib::SSLServer>>(options.cert_file.c_str(),
                                                                 options.key_file.c_str());
    raise_backlog = [tls = tls.get()] { tls->RaiseBacklog(); };
    if (!tls->is_valid()) {
      *error = "cannot load the certificate " + options.cert_file + " and key " + options.key_file +
               " (PEM files, the key matching the certificate)";
      return nullptr;
    }
    server->http_ = std::move(tls);
  } else {
    auto plain = std::make_unique<WideBacklog<httplib::Server>>();
    raise_backlog = [plain = plain.get()] { plain->RaiseBacklog(); };
    server->http_ = std::move(plain);
  }
  httplib::Server& http = *server->http_;
  ApiServer* self = server.get();
  http.new_task_queue = [self] {
    const bool tls = !self->options_.cert_file.empty();
    return new BoundedTaskQueue(
        self->options_.threads, self->options_.max_waiting, &self->counters_.too_many_connections,
        self->deadline_.get(),
        {self->options_.max_per_client, &self->counters_.too_many_per_client,
         tls ? "" : TooManyPerClient(self->options_.max_per_client)});
  };
  // After each answer (on the serving thread): the connection's next request gets a new clock.
  http.set_logger([self](const httplib::Request&, const httplib::Response&) {
    if (self->deadline_) self->deadline_->Answered();
  });
  http.set_read_timeout(options.read_timeout.count(), 0);
  http.set_write_timeout(options.write_timeout.count(), 0);
  http.set_keep_alive_timeout(options.keep_alive_timeout.count());
  http.set_payload_max_length(options.max_body_bytes);
  server->port_ = port == 0 ? http.bind_to_any_port(server->host_) : port;
  if (port != 0 && !http.bind_to_port(server->host_, port)) server->port_ = -1;
  if (server->port_ > 0) raise_backlog();
  if (server->port_ <= 0) {
    *error = "cannot listen on " + options.address + " (in use, or not an address of this host)";
    return nullptr;
  }
  server->Register();
  return server;
}

ApiServer::ApiServer(const ApiServerOptions& options) : options_(options) {}

ApiServer::~ApiServer() { Stop(std::chrono::milliseconds::max()); }

std::string ApiServer::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return std::string(options_.cert_file.empty() ? "http" : "https") + "://" +
         (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

bool ApiServer::Authorized(const std::string& path, const std::string& authorization) {
  const bool open = path == kMetricsPath && options_.metrics_open;
  const std::string_view bearer = "Bearer ";
  if (token_.empty() || open ||
      (authorization.starts_with(bearer) &&
       TokensEqual(std::string_view(authorization).substr(bearer.size()), token_))) {
    return true;
  }
  counters_.unauthorized.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool ApiServer::Refuse(const std::string& method, const std::string& path,
                       const std::string& content_length, bool chunked, int* status,
                       nlohmann::json* body) {
  counters_.requests.fetch_add(1, std::memory_order_relaxed);
  const auto refuse = [&](const char* code, const std::string& message) {
    *body = ControlError(code, message);
    *status = ApiStatus(*body);
    return true;
  };
  if (t_over_limit) {
    return refuse("too-many-connections",
                  "all " + std::to_string(options_.threads + options_.max_waiting) +
                      " connections are taken; try again");
  }
  const ApiRoute* route = FindApiRoute(path);
  const bool metrics = route != nullptr && route->path == kMetricsPath;
  if (route == nullptr || (metrics ? !options_.metrics : !options_.api)) {
    return refuse("not-found", "no route " + path + " (docs/openapi.yaml lists them)");
  }
  if (route->method != method) {
    return refuse("method-not-allowed",
                  path + " takes " + std::string(route->method) + ", not " + method);
  }
  if (chunked) {
    return refuse("length-required", "a request body needs a Content-Length (no chunked bodies)");
  }
  if (!content_length.empty() &&
      (content_length.size() > 18 || std::stoull(content_length) > options_.max_body_bytes)) {
    counters_.too_large.fetch_add(1, std::memory_order_relaxed);
    return refuse("too-large", "request body of " + content_length + " bytes; the limit is " +
                                   std::to_string(options_.max_body_bytes));
  }
  return false;
}

void ApiServer::Register() {
  http_->set_pre_routing_handler(
      [this](const httplib::Request& request, httplib::Response& response) {
        int status = 0;
        nlohmann::json body;
        const std::string length = request.get_header_value("Content-Length");
        const bool chunked =
            request.get_header_value("Transfer-Encoding").find("chunked") != std::string::npos;
        if (length.find_first_not_of("0123456789") != std::string::npos) {
          Send(response, 400, ControlError("bad-request", "Content-Length is not a number"));
          response.set_header("Connection", "close");
          return httplib::Server::HandlerResponse::Handled;
        }
        if (!Refuse(request.method, request.path, length, chunked, &status, &body)) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        Send(response, status, body);
        // The body (if any) was not read: the connection cannot carry another request.
        response.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      });
  for (const ApiRoute& route : kApiRoutes) {
    const std::string path(route.path);
    httplib::Server::Handler handle = [this, path](const httplib::Request& request,
                                                   httplib::Response& response) {
      // After the body (at most max_body_bytes) was read, so the client reads the answer.
      if (!Authorized(path, request.get_header_value("Authorization"))) {
        Send(response, 401,
             ControlError("unauthorized", "missing or wrong token (Authorization: Bearer TOKEN)"));
        return;
      }
      const nlohmann::json answer = Answer(path, request.body, request.get_param_value("format"));
      if (path == kMetricsPath && answer.value("ok", false)) {
        response.set_content(answer.value("prometheus", "") + counters_.ToPrometheus(),
                             "text/plain; version=0.0.4");
        return;
      }
      Send(response, ApiStatus(answer), answer);
    };
    if (route.method == "GET") {
      http_->Get(path, handle);
    } else {
      http_->Post(path, handle);
    }
  }
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
        Send(response, 500, ControlError("failed", "internal error answering the request"));
      });
}

nlohmann::json ApiServer::Answer(const std::string& path, const std::string& body,
                                 const std::string& format) {
  if (path == kTimePath) return {{"ok", true}, {"unix_ns", WallClockNs()}};
  if (path == kMetricsPath) return handler_({{"command", "stats"}, {"format", "prometheus"}});
  const ApiRoute& route = *FindApiRoute(path);
  nlohmann::json request = nlohmann::json::object();
  if (!body.empty() || route.path == kRequestPath) {
    request = nlohmann::json::parse(body, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      return ControlError("bad-request",
                          "the body is not a JSON object, e.g. {\"command\":\"ping\"}");
    }
  }
  if (route.path != kRequestPath) {
    if (request.contains("command")) {
      return ControlError("bad-request", path + " names its command; leave out \"command\"");
    }
    request["command"] = route.command;
    if (path == "/v1/stats/reset") request["reset"] = true;
    if (path == "/v1/stats") request["format"] = format.empty() ? "json" : format;
  }
  nlohmann::json response;
  try {
    response = handler_(request);
  } catch (const std::exception& e) {
    return ControlError("failed", e.what());
  }
  if (response.contains("stats") && response["stats"].is_object()) {
    response["stats"]["api"] = counters_.ToJson();
  }
  return response;
}

void ApiServer::Start(ControlHandler handler) {
  handler_ = std::move(handler);
  // A client that hangs up while TLS writes to it must not end the process (SSL_write does not
  // pass MSG_NOSIGNAL).
  signal(SIGPIPE, SIG_IGN);
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);  // the server's threads inherit the mask
  deadline_ = std::make_unique<ConnectionDeadline>(host_, port_, options_.request_timeout,
                                                   &counters_.slow_clients);
  thread_ = std::thread([this] {
    http_->listen_after_bind();
    std::lock_guard lock(finished_mutex_);
    finished_ = true;
    finished_changed_.notify_all();
  });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

bool ApiServer::Stop(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return true;
  const auto deadline = timeout == std::chrono::milliseconds::max()
                            ? std::chrono::steady_clock::time_point::max()
                            : std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(finished_mutex_);
  // Again until it ends: a stop() before the listening thread got going is not seen by it.
  while (!finished_) {
    http_->stop();
    if (std::chrono::steady_clock::now() >= deadline) return false;
    finished_changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
  lock.unlock();
  thread_.join();
  deadline_.reset();  // after the serving threads (joined by the task queue's shutdown)
  return true;
}

}  // namespace faultline
