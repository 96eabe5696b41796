// The HTTP API of `faultline run --api` (control/http) against a live run on net_null ports: the
// same responses as the control socket, the token, the body limit, TLS, the metrics listener,
// the OpenAPI description, and `faultline --box` against the socket's output.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "control/base/unique_fd.h"
#include "control/http/api_client.h"
#include "control/http/api_routes.h"
#include "control/server/control_server.h"
#include "tests/api_run.h"

namespace faultline {
namespace {

using testing::NullPortsEal;
using testing::PrintedUrl;
using testing::RunFaultline;
using testing::StartRun;
using testing::TempDir;

constexpr char kToken[] = "4f7d0c2e-test-token";
constexpr char kProfile[] = R"(groups:
  left: [10.0.0.1]
impairments:
  slow:
    delay: {base: 1ms}
rules:
  - name: from-left
    match: {src: left}
    impairment: slow
)";

// One run for the suite: --api with a token, --metrics on a listener of its own.
class HttpApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("http-api");
    token_file_ = dir_->Write("token", std::string(kToken) + "\n", 0600);
    socket_ = dir_->Path("control.sock");
    run_ = new Subprocess;
    ASSERT_TRUE(StartRun(*run_,
                         {"--control", socket_, "--api", "127.0.0.1:0", "--api-token-file",
                          token_file_, "--metrics", "127.0.0.1:0"},
                         NullPortsEal("http-api")));
    api_url_ = PrintedUrl(*run_, "HTTP API");
    metrics_url_ = PrintedUrl(*run_, "metrics");
    ASSERT_FALSE(api_url_.empty()) << run_->output();
  }
  static void TearDownTestSuite() { testing::StopRun(run_, dir_); }

  static std::unique_ptr<ApiClient> Client(const std::string& token = kToken) {
    ApiClientOptions options;
    options.box = api_url_;
    options.token = token;
    std::string error;
    auto client = ApiClient::Create(options, &error);
    EXPECT_NE(client, nullptr) << error;
    return client;
  }
  static nlohmann::json OverSocket(const nlohmann::json& request) {
    return testing::OverSocket(socket_, request);
  }
  static nlohmann::json OverHttp(const nlohmann::json& request, const std::string& token = kToken) {
    std::string error;
    auto response = Client(token)->Request(request, &error);
    EXPECT_TRUE(response.has_value()) << error;
    return response.value_or(nlohmann::json::object());
  }
  static nlohmann::json Stats() { return OverSocket({{"command", "stats"}})["stats"]; }

  static inline TempDir* dir_ = nullptr;
  static inline Subprocess* run_ = nullptr;
  static inline std::string token_file_, socket_, api_url_, metrics_url_;
};

// The keys of an object, recursively, for responses whose counters move between two requests.
std::set<std::string> Keys(const nlohmann::json& value, const std::string& prefix = "") {
  std::set<std::string> keys;
  if (!value.is_object()) return keys;
  for (const auto& [key, child] : value.items()) {
    keys.insert(prefix + key);
    for (const std::string& inner : Keys(child, prefix + key + ".")) keys.insert(inner);
  }
  return keys;
}

TEST_F(HttpApiTest, EveryRequestAnswersAsOverTheSocket) {
  const std::string profile = dir_->Write("left.yaml", kProfile);
  const nlohmann::json apply = {
      {"command", "apply"}, {"profile", kProfile}, {"name", profile}, {"directory", "/"}};
  // Requests that change state: the same answer from each way in, applied twice.
  for (const nlohmann::json& request :
       {apply, nlohmann::json{{"command", "heal"}, {"what", "partitions"}}}) {
    EXPECT_EQ(OverHttp(request), OverSocket(request)) << request;
  }
  for (const nlohmann::json& request :
       {nlohmann::json{{"command", "ping"}}, nlohmann::json{{"command", "show"}},
        nlohmann::json{{"command", "trace-status"}}, nlohmann::json{{"command", "nonsense"}},
        nlohmann::json{{"command", "apply"}, {"profile", "rules: [oops"}, {"name", "x.yaml"}},
        nlohmann::json{{"command", "heal"}, {"what", "everything"}},
        nlohmann::json{{"command", "trace-stop"}}}) {
    nlohmann::json http = OverHttp(request), socket = OverSocket(request);
    if (request["command"] == "show") http["show"].erase("trace"), socket["show"].erase("trace");
    EXPECT_EQ(http, socket) << request;
  }
  // Statistics move between two requests: the same document, less the API's own section.
  nlohmann::json http = OverHttp({{"command", "stats"}});
  ASSERT_TRUE(http["stats"].contains("api"));
  http["stats"].erase("api");
  EXPECT_EQ(Keys(http), Keys(OverSocket({{"command", "stats"}})));
  // The named routes and the status codes.
  int status = 0;
  std::string error;
  auto body =
      Client()->Call("POST", "/v1/apply", R"({"profile": "rules: [oops"})", &status, &error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(status, 400) << *body;
  EXPECT_EQ(nlohmann::json::parse(*body)["code"], "invalid-profile");
  body = Client()->Call("GET", "/v1/show", "", &status, &error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(status, 200);
  EXPECT_EQ(nlohmann::json::parse(*body)["show"]["yaml"],
            OverSocket({{"command", "show"}})["show"]["yaml"]);
  body = Client()->Call("POST", "/v1/heal", R"({"what": "all"})", &status, &error);
  EXPECT_EQ(status, 200) << body.value_or(error);
  body = Client()->Call("GET", "/v1/no-such-route", "", &status, &error);
  EXPECT_EQ(status, 404);
  body = Client()->Call("POST", "/v1/show", "", &status, &error);
  EXPECT_EQ(status, 405);
  EXPECT_EQ(nlohmann::json::parse(body.value_or("{}")).value("code", ""), "method-not-allowed");
}

TEST_F(HttpApiTest, WrongOrMissingTokenGets401AndChangesNothing) {
  const nlohmann::json before = OverSocket({{"command", "show"}});
  const uint64_t refused = OverHttp({{"command", "stats"}})["stats"]["api"]["unauthorized"];
  const nlohmann::json heal = {{"command", "heal"}, {"what", "all"}};
  for (const std::string& token :
       {std::string(""), std::string("wrong"), std::string(kToken) + "x"}) {
    int status = 0;
    std::string error;
    const auto body = Client(token)->Call("POST", "/v1/request", heal.dump(), &status, &error);
    ASSERT_TRUE(body) << error;
    EXPECT_EQ(status, 401) << *body;
    EXPECT_EQ(nlohmann::json::parse(*body).value("code", ""), "unauthorized");
  }
  EXPECT_EQ(OverSocket({{"command", "show"}}), before);
  EXPECT_EQ(OverHttp({{"command", "stats"}})["stats"]["api"]["unauthorized"].get<uint64_t>(),
            refused + 3);
}

// Sends a request head announcing a 100 MB body and then body bytes while it can, and reads the
// answer: it comes before the body was read, and the connection ends without taking it all.
TEST_F(HttpApiTest, HundredMegabyteBodyIsRefusedWithoutTheDataplaneNoticing) {
  const nlohmann::json before = Stats();
  UniqueFd fd = testing::ConnectLoopback(std::stoi(api_url_.substr(api_url_.rfind(':') + 1)));
  ASSERT_TRUE(fd.valid());
  constexpr size_t kBody = 100'000'000;
  const std::string head = "POST /v1/request HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                           std::string(kToken) + "\r\nContent-Type: application/json\r\n" +
                           "Content-Length: " + std::to_string(kBody) + "\r\n\r\n";
  ASSERT_EQ(send(fd.get(), head.data(), head.size(), MSG_NOSIGNAL), ssize_t(head.size()));
  const std::string chunk(64 * 1024, ' ');
  size_t sent = 0;
  std::string answer;
  // Until the whole answer arrived: its head and its JSON body may come in separate segments.
  for (int round = 0; round < 3000 && !answer.ends_with("}\n"); ++round) {
    pollfd descriptor{fd.get(), POLLIN | POLLOUT, 0};
    if (poll(&descriptor, 1, 10) <= 0) continue;
    if (descriptor.revents & POLLIN) {
      char buffer[4096];
      const ssize_t got = recv(fd.get(), buffer, sizeof(buffer), 0);
      if (got <= 0) break;
      answer.append(buffer, size_t(got));
    } else if ((descriptor.revents & POLLOUT) && sent < kBody) {
      const ssize_t put = send(fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (put < 0) break;
      sent += size_t(put);
    }
  }
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
  EXPECT_NE(answer.find("too-large"), std::string::npos) << answer;
  EXPECT_LT(sent, kBody / 4) << "the server read most of the body";
  // The dataplane kept forwarding (its counters move on; a bound only a stalled machine
  // reaches) and lost nothing.
  nlohmann::json after = Stats();
  for (int wait = 0; wait < 3000 && after["ports"][0]["rx"] == before["ports"][0]["rx"]; ++wait) {
    usleep(10'000);
    after = Stats();
  }
  EXPECT_GT(after["ports"][0]["rx"].get<uint64_t>(), before["ports"][0]["rx"].get<uint64_t>());
  for (const auto& [cause, count] : after["dropped"].items()) {
    EXPECT_EQ(count, before["dropped"][cause]) << cause;
  }
  EXPECT_EQ(OverHttp({{"command", "stats"}})["stats"]["api"]["too_large"].get<uint64_t>(), 1u);
}

TEST_F(HttpApiTest, MetricsListenerServesPrometheusTextWithoutToken) {
  ApiClientOptions options;
  options.box = metrics_url_;
  std::string error;
  auto metrics = ApiClient::Create(options, &error);
  ASSERT_NE(metrics, nullptr) << error << run_->output();
  int status = 0;
  auto body = metrics->Call("GET", "/metrics", "", &status, &error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(status, 200);
  EXPECT_NE(body->find("faultline_port_rx_frames_total{port=\"0\",side=\"a\"}"), std::string::npos);
  EXPECT_NE(body->find("faultline_api_refused_total{reason=\"unauthorized\"}"), std::string::npos);
  // Only /metrics there: the control requests are on --api, with the token.
  metrics->Call("POST", "/v1/request", R"({"command":"ping"})", &status, &error);
  EXPECT_EQ(status, 404);
  // On the API listener /metrics wants the token.
  Client("")->Call("GET", "/metrics", "", &status, &error);
  EXPECT_EQ(status, 401);
}

// docs/openapi.yaml lists exactly the routes the server registers (kApiRoutes), and every path
// it documents is served (never 404 or 405).
TEST_F(HttpApiTest, OpenApiDocumentMatchesTheRoutes) {
  std::ifstream file(std::string(FAULTLINE_SOURCE_ROOT) + "/docs/openapi.yaml");
  ASSERT_TRUE(file) << "docs/openapi.yaml";
  std::set<std::pair<std::string, std::string>> documented, served;
  const std::regex path_line(R"(^  (/[^:]*):\s*$)"),
      method_line(R"(^    (get|post|put|delete|patch):\s*$)");
  std::string line, path;
  bool in_paths = false;
  while (std::getline(file, line)) {
    std::smatch match;
    if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = line.starts_with("paths:");
    if (!in_paths) continue;
    if (std::regex_match(line, match, path_line)) path = match[1];
    if (std::regex_match(line, match, method_line)) {
      std::string method = match[1];
      for (char& c : method) c = char(std::toupper(c));
      documented.insert({method, path});
    }
  }
  for (const ApiRoute& route : kApiRoutes) {
    served.insert({std::string(route.method), std::string(route.path)});
  }
  EXPECT_EQ(documented, served);
  for (const auto& [method, route] : documented) {
    int status = 0;
    std::string error;
    const std::string body = route == "/v1/request" ? R"({"command":"ping"})" : "{}";
    const auto answer = Client()->Call(method, route, method == "GET" ? "" : body, &status, &error);
    ASSERT_TRUE(answer) << error;
    EXPECT_NE(status, 404) << method << " " << route;
    EXPECT_NE(status, 405) << method << " " << route;
  }
}

// `faultline --box URL` prints and returns what the socket's commands do (the target's name
// aside) for show, stats, apply, heal and an invalid profile.
TEST_F(HttpApiTest, BoxGivesTheSocketsOutputAndExitStatus) {
  const std::string good = dir_->Write("good.yaml", kProfile);
  const std::string bad =
      dir_->Write("bad.yaml", "rules:\n  - name: x\n    match: {src: nowhere}\n");
  const std::vector<std::string> box = {"--box", api_url_, "--token-file", token_file_};
  const std::vector<std::vector<std::string>> commands = {
      {"apply", good},           {"show"},           {"heal", "--all"},  {"apply", bad},
      {"heal", "--impairments"}, {"show", "--json"}, {"trace", "status"}};
  for (const std::vector<std::string>& command : commands) {
    std::vector<std::string> remote = box, local = command;
    remote.insert(remote.end(), command.begin(), command.end());
    local.insert(local.end(), {"--control", socket_});
    const CommandResult over_socket = RunFaultline(local);
    const CommandResult over_http = RunFaultline(remote);
    EXPECT_EQ(over_http.status, over_socket.status) << command[0] << ": " << over_http.output;
    std::string expected = over_socket.output;
    for (size_t at; (at = expected.find(socket_)) != std::string::npos;) {
      expected.replace(at, socket_.size(), api_url_);
    }
    EXPECT_EQ(over_http.output, expected) << command[0];
  }
  // stats: the same document's shape and status; the environment instead of the options.
  setenv("FAULTLINE_BOX", api_url_.c_str(), 1);
  setenv("FAULTLINE_TOKEN_FILE", token_file_.c_str(), 1);
  const CommandResult remote = RunFaultline({"stats", "--json"});
  unsetenv("FAULTLINE_BOX");
  unsetenv("FAULTLINE_TOKEN_FILE");
  const CommandResult local = RunFaultline({"stats", "--json", "--control", socket_});
  ASSERT_EQ(remote.status, 0) << remote.output;
  ASSERT_EQ(local.status, 0) << local.output;
  nlohmann::json remote_stats = nlohmann::json::parse(remote.output);
  remote_stats.erase("api");
  EXPECT_EQ(Keys(remote_stats), Keys(nlohmann::json::parse(local.output)));
  // A wrong token: refused, exit status 2, nothing changed.
  const std::string wrong = dir_->Write("wrong-token", "nope\n", 0600);
  const CommandResult refused = RunFaultline({"--box", api_url_, "--token-file", wrong, "heal"});
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_NE(refused.output.find("missing or wrong token"), std::string::npos) << refused.output;
}

// TLS with a certificate the test makes (openssl req -x509), and a token file refused for its mode.
TEST(HttpApiTlsTest, ServesHttpsWithATestCertificate) {
  TempDir dir("http-api-tls");
  const std::string key = dir.Path("key.pem"), cert = dir.Path("cert.pem");
  Subprocess openssl;
  std::string error;
  ASSERT_TRUE(openssl.Start(
      {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
       "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
      &error))
      << error;
  ASSERT_EQ(openssl.Wait(std::chrono::seconds(60)), 0) << openssl.output();
  const std::string loose = dir.Write("loose-token", "t\n", 0644);
  const std::vector<std::string> eal = NullPortsEal("http-api-tls");
  std::vector<std::string> refused = {"run", "--api",     "127.0.0.1:0",      "--api-token-file",
                                      loose, "--control", dir.Path("c.sock"), "--"};
  refused.insert(refused.end(), eal.begin(), eal.end());
  const CommandResult loose_run = RunFaultline(refused);
  EXPECT_EQ(loose_run.status, 2) << loose_run.output;
  EXPECT_NE(loose_run.output.find("mode 0600"), std::string::npos) << loose_run.output;

  const std::string token = dir.Write("token", "tls-token\n", 0600);
  Subprocess run;
  ASSERT_TRUE(StartRun(run,
                       {"--control", dir.Path("c.sock"), "--api", "127.0.0.1:0", "--api-token-file",
                        token, "--api-cert", cert, "--api-key", key},
                       eal));
  const std::string url = PrintedUrl(run, "HTTP API");
  ASSERT_TRUE(url.starts_with("https://127.0.0.1:")) << run.output();
  ApiClientOptions options{url, "tls-token", cert};
  auto client = ApiClient::Create(options, &error);
  ASSERT_NE(client, nullptr) << error;
  const auto pong = client->Request({{"command", "ping"}}, &error);
  ASSERT_TRUE(pong) << error;
  EXPECT_EQ(pong->value("ok", false), true) << *pong;
  // Without the CA the certificate is not trusted; over plain HTTP there is no answer either.
  options.ca_file = "";
  EXPECT_FALSE(ApiClient::Create(options, &error)->Request({{"command", "ping"}}, &error));
  options.box = "http" + url.substr(5);
  EXPECT_FALSE(ApiClient::Create(options, &error)->Request({{"command", "ping"}}, &error));
  // The CLI over https gives the socket's output.
  const CommandResult local = RunFaultline({"show", "--control", dir.Path("c.sock")});
  const CommandResult remote =
      RunFaultline({"--box", url, "--token-file", token, "--ca-file", cert, "show"});
  EXPECT_EQ(remote.status, 0) << remote.output;
  EXPECT_EQ(remote.output.substr(remote.output.find('\n')),
            local.output.substr(local.output.find('\n')));
  EXPECT_EQ(run.Stop(SIGTERM, std::chrono::seconds(20)), 0) << run.output();
}

}  // namespace
}  // namespace faultline
