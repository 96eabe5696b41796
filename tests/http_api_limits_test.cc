// The connection limits of `faultline run --api` (control/http) against a live run on net_null
// ports: clients that trickle a request a byte a second are cut at the whole-request deadline
// (5 s from the first byte) and counted, while a well-behaved client is still answered and the
// dataplane forwards without loss; connections beyond threads + queue get 503.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/base/unique_fd.h"
#include "control/http/api_client.h"
#include "control/http/api_server.h"
#include "tests/api_run.h"

namespace faultline {
namespace {

using testing::NullPortsEal;
using testing::PrintedUrl;
using testing::StartRun;
using testing::TempDir;
using Clock = std::chrono::steady_clock;

// The defaults of `run --api` (ApiServerOptions): serving threads, waiting slots, the deadline.
const ApiServerOptions kDefaults;

class HttpApiLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("http-api-limits");
    socket_ = dir_->Path("control.sock");
    run_ = new Subprocess;
    ASSERT_TRUE(StartRun(*run_, {"--control", socket_, "--api", "127.0.0.1:0"},
                         NullPortsEal("http-api-limits")));
    api_url_ = PrintedUrl(*run_, "HTTP API");
    ASSERT_FALSE(api_url_.empty()) << run_->output();
    port_ = std::stoi(api_url_.substr(api_url_.rfind(':') + 1));
  }
  static void TearDownTestSuite() { testing::StopRun(run_, dir_); }

  static nlohmann::json OverSocket(const nlohmann::json& request) {
    return testing::OverSocket(socket_, request);
  }
  // The "api" counters (served over HTTP only), by a client with a generous timeout.
  static nlohmann::json ApiCounters() {
    ApiClientOptions options;
    options.box = api_url_;
    options.timeout = std::chrono::seconds(30);
    std::string error;
    auto client = ApiClient::Create(options, &error);
    EXPECT_NE(client, nullptr) << error;
    if (!client) return {};
    auto response = client->Request({{"command", "stats"}}, &error);
    EXPECT_TRUE(response.has_value()) << error;
    return response ? (*response)["stats"]["api"] : nlohmann::json{};
  }
  // A TCP connection to the API that has sent `head` (maybe only the start of a request).
  static UniqueFd Connect(const std::string& head) {
    UniqueFd fd = testing::ConnectLoopback(port_);
    EXPECT_EQ(send(fd.get(), head.data(), head.size(), MSG_NOSIGNAL), ssize_t(head.size()));
    return fd;
  }

  static inline TempDir* dir_ = nullptr;
  static inline Subprocess* run_ = nullptr;
  static inline std::string socket_, api_url_;
  static inline int port_ = 0;
};

// Whether the server ended the connection (end of stream or reset), without waiting.
bool Closed(int fd) {
  pollfd descriptor{fd, POLLIN, 0};
  if (poll(&descriptor, 1, 0) <= 0) return false;
  char buffer[256];
  const ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

TEST_F(HttpApiLimitsTest, TricklingClientsAreCutAtTheDeadlineWhileOthersAreServed) {
  const nlohmann::json before = OverSocket({{"command", "stats"}})["stats"];
  const uint64_t slow_before = ApiCounters()["slow_clients"].get<uint64_t>();
  // A request head that a byte a second never completes within the test.
  const std::string head = "GET /v1/show HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n";
  const size_t slow_count = kDefaults.threads + 1;
  std::vector<UniqueFd> slow;
  std::vector<Clock::time_point> first_byte;
  std::vector<Clock::duration> cut_after(slow_count, Clock::duration::zero());
  for (size_t i = 0; i < slow_count; ++i) {
    first_byte.push_back(Clock::now());
    slow.push_back(Connect(head.substr(0, 1)));
  }
  usleep(300'000);  // the serving threads took the first ones; the last one waits
  const Clock::time_point asked = Clock::now();
  auto answered = std::async(std::launch::async, [] {
    ApiClientOptions options;
    options.box = api_url_;
    options.timeout = std::chrono::seconds(30);
    std::string error;
    auto client = ApiClient::Create(options, &error);
    auto response = client ? client->Request({{"command", "show"}}, &error) : std::nullopt;
    EXPECT_TRUE(response.has_value()) << error;
    return std::make_pair(response.value_or(nlohmann::json{}), Clock::now());
  });
  size_t sent = 1, open = slow_count;
  for (Clock::time_point next = Clock::now() + std::chrono::seconds(1);
       open > 0 && Clock::now() - asked < std::chrono::seconds(14);) {
    for (size_t i = 0; i < slow_count; ++i) {
      if (cut_after[i] == Clock::duration::zero() && Closed(slow[i].get())) {
        cut_after[i] = Clock::now() - first_byte[i];
        --open;
      }
    }
    if (Clock::now() >= next && sent < head.size()) {
      for (size_t i = 0; i < slow_count; ++i) {
        if (cut_after[i] == Clock::duration::zero()) {
          send(slow[i].get(), head.data() + sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
      }
      ++sent;
      next += std::chrono::seconds(1);
    }
    usleep(20'000);
  }
  const auto [show, at] = answered.get();
  std::printf("well-behaved client answered %.0f ms after asking, behind %zu trickling clients\n",
              std::chrono::duration<double, std::milli>(at - asked).count(), slow_count);
  EXPECT_EQ(show, OverSocket({{"command", "show"}}));
  for (size_t i = 0; i < slow_count; ++i) {
    ASSERT_NE(cut_after[i], Clock::duration::zero()) << "trickling client " << i << " not cut";
    // The watchdog can be late (a loaded machine), never early: the clock starts at the first
    // byte the server saw, after the client sent it.
    EXPECT_GE(cut_after[i], kDefaults.request_timeout) << "client " << i;
    std::printf("trickling client %zu cut %.2f s after its first byte\n", i,
                std::chrono::duration<double>(cut_after[i]).count());
  }
  EXPECT_EQ(ApiCounters()["slow_clients"].get<uint64_t>(), slow_before + slow_count);
  // The dataplane kept forwarding (its counters move on) and lost nothing.
  const nlohmann::json after = OverSocket({{"command", "stats"}})["stats"];
  EXPECT_GT(after["ports"][0]["rx"].get<uint64_t>(), before["ports"][0]["rx"].get<uint64_t>());
  for (const auto& [cause, count] : after["dropped"].items()) {
    EXPECT_EQ(count, before["dropped"][cause]) << cause;
  }
}

TEST_F(HttpApiLimitsTest, ConnectionsBeyondThreadsAndQueueGet503) {
  const uint64_t refused_before = ApiCounters()["too_many_connections"].get<uint64_t>();
  // Held by the start of a request: the first ones occupy the serving threads (until the
  // deadline, 5 s), the others fill the waiting slots (never read while they wait).
  std::vector<UniqueFd> held;
  for (size_t i = 0; i < kDefaults.threads + kDefaults.max_waiting; ++i) {
    held.push_back(Connect("GET /v1/show HTTP/1.1\r\n"));
  }
  UniqueFd extra = Connect("GET /v1/show HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string answer;
  char buffer[4096];
  for (ssize_t got = 1; got > 0;) {
    pollfd descriptor{extra.get(), POLLIN, 0};
    // Generous: under load the one thread that answers 503s may still be busy with others.
    if (poll(&descriptor, 1, 30'000) <= 0) break;
    got = recv(extra.get(), buffer, sizeof(buffer), 0);
    if (got > 0) answer.append(buffer, size_t(got));
  }
  held.clear();  // the serving threads see the ends of their streams and go on
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
  EXPECT_NE(answer.find("too-many-connections"), std::string::npos) << answer;
  EXPECT_EQ(ApiCounters()["too_many_connections"].get<uint64_t>(), refused_before + 1);
}

}  // namespace
}  // namespace faultline
