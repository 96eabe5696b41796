// The connection limits of `faultline run --api` (control/http) against a live run on net_null
// ports: clients that trickle a request a byte a second are cut at the whole-request deadline
// (5 s from the first byte) and counted, while a well-behaved client is still answered and the
// dataplane forwards without loss; connections beyond threads + queue get 503; one client address
// holds at most the per-client cap (2), one more is refused at once with 429, so a hostile client
// cannot delay another one. The tests of the other limits connect from addresses of their own
// (127.0.0.3 and up, one connection each) so that the cap does not stand in their way.
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
  // The response to `request` over HTTP from 127.0.0.1, by a client with a generous timeout; an
  // empty object (and a test failure) if none.
  static nlohmann::json Ask(const nlohmann::json& request) {
    ApiClientOptions options;
    options.box = api_url_;
    options.timeout = std::chrono::seconds(30);
    std::string error;
    auto client = ApiClient::Create(options, &error);
    EXPECT_NE(client, nullptr) << error;
    if (!client) return nlohmann::json::object();
    auto response = client->Request(request, &error);
    EXPECT_TRUE(response.has_value()) << error;
    return response.value_or(nlohmann::json::object());
  }
  // The "api" counters (served over HTTP only).
  static nlohmann::json ApiCounters() { return Ask({{"command", "stats"}})["stats"]["api"]; }
  // A TCP connection to the API from `source` that has sent `head` (maybe only the start of a
  // request).
  static UniqueFd Connect(const std::string& head, const std::string& source) {
    UniqueFd fd = testing::ConnectLoopback(port_, source);
    EXPECT_EQ(send(fd.get(), head.data(), head.size(), MSG_NOSIGNAL), ssize_t(head.size()));
    return fd;
  }

  static inline TempDir* dir_ = nullptr;
  static inline Subprocess* run_ = nullptr;
  static inline std::string socket_, api_url_;
  static inline int port_ = 0;
};

// The i-th address of the clients of a test of another limit than the per-client cap.
std::string OwnAddress(size_t i) { return "127.0.0." + std::to_string(3 + i); }

// Whether the server ended the connection (end of stream or reset), without waiting.
bool Closed(int fd) {
  pollfd descriptor{fd, POLLIN, 0};
  if (poll(&descriptor, 1, 0) <= 0) return false;
  char buffer[256];
  const ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
  return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// What the server sent on `fd` until it closed it (or 30 s passed without a byte).
std::string ReadUntilClosed(int fd) {
  std::string answer;
  char buffer[4096];
  for (ssize_t got = 1; got > 0;) {
    pollfd descriptor{fd, POLLIN, 0};
    if (poll(&descriptor, 1, 30'000) <= 0) break;
    got = recv(fd, buffer, sizeof(buffer), 0);
    if (got > 0) answer.append(buffer, size_t(got));
  }
  return answer;
}

// What arrived on `fd` so far, without waiting; *closed: the server ended the connection.
std::string Arrived(int fd, bool* closed) {
  std::string arrived;
  char buffer[4096];
  *closed = false;
  for (;;) {
    const ssize_t got = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (got > 0) {
      arrived.append(buffer, size_t(got));
      continue;
    }
    *closed = got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    return arrived;
  }
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
    slow.push_back(Connect(head.substr(0, 1), OwnAddress(i)));
  }
  usleep(300'000);  // the serving threads took the first ones; the last one waits
  const Clock::time_point asked = Clock::now();
  auto answered = std::async(std::launch::async, [] {
    const nlohmann::json show = Ask({{"command", "show"}});
    return std::make_pair(show, Clock::now());
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
  // threads + waiting slots + 1 connections, each with a whole request head announcing a body
  // that never comes: those a serving thread takes wait for the body (until the deadline, 5 s),
  // the waiting ones are never read, and one beyond gets 503 at once from its head. A serving
  // thread can still be finishing an earlier client's connection when they arrive (a loaded
  // machine), so which ones and how many are refused is not fixed: at least one, at most those
  // beyond the waiting slots, and every 503 is counted.
  const std::string head =
      "POST /v1/request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 2\r\n\r\n";
  std::vector<UniqueFd> connections;
  for (size_t i = 0; i < kDefaults.threads + kDefaults.max_waiting + 1; ++i) {
    connections.push_back(Connect(head, OwnAddress(i)));
  }
  std::vector<std::string> answers(connections.size());
  const auto refusals = [&answers] {
    size_t count = 0;
    for (const std::string& answer : answers) count += answer.starts_with("HTTP/1.1 503");
    return count;
  };
  // Generous: under load the one thread that answers 503s may get the CPU late.
  for (int wait = 0; wait < 600 && refusals() == 0; ++wait) {
    usleep(50'000);
    for (size_t i = 0; i < connections.size(); ++i) {
      bool closed = false;
      answers[i] += Arrived(connections[i].get(), &closed);
    }
  }
  connections.clear();  // the serving threads see the ends of their streams and go on
  const size_t refused = refusals();
  for (const std::string& answer : answers) {
    if (answer.empty()) continue;
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 503")) << answer;
    EXPECT_NE(answer.find("too-many-connections"), std::string::npos) << answer;
  }
  const uint64_t counted = ApiCounters()["too_many_connections"].get<uint64_t>() - refused_before;
  std::printf("%zu of %zu connections answered 503, %lu counted\n", refused, answers.size(),
              static_cast<unsigned long>(counted));
  EXPECT_GE(refused, 1u);
  EXPECT_GE(counted, refused);  // a 503 still on its way when the connection was closed: counted
  EXPECT_LE(counted, answers.size() - kDefaults.max_waiting);
}

TEST_F(HttpApiLimitsTest, OneAddressHoldsAtMostTheCapWhileOthersAreServed) {
  const nlohmann::json counters_before = ApiCounters();
  // A hostile client: 6 connections (more than the 4 serving threads) from one address, each
  // sending the first byte of a request head and no more: each would hold a serving thread until
  // a timeout (the 5 s read timeout) closes it.
  const std::string hostile_address = "127.0.0.2";
  const std::string head = "GET /v1/show HTTP/1.1\r\nHost: x\r\n";
  const size_t hostile_count = kDefaults.threads + 2;
  std::vector<UniqueFd> hostile;
  const Clock::time_point first_hostile = Clock::now();
  for (size_t i = 0; i < hostile_count; ++i) {
    hostile.push_back(Connect(head.substr(0, 1), hostile_address));
  }
  // A well-behaved client from 127.0.0.1, connecting after all of them (one accept thread takes
  // connections in order: the hostile ones were admitted or refused before it).
  const Clock::time_point asked = Clock::now();
  const nlohmann::json show = Ask({{"command", "show"}});
  const double latency_ms = std::chrono::duration<double, std::milli>(Clock::now() - asked).count();
  // Right after the answer, each hostile connection is one of: refused (its 429 and end of
  // stream arrived, written when it was accepted), still open (within the cap), or cut by a
  // timeout (closed without an answer: the well-behaved client was answered only after the
  // hostile connections let go of the serving threads, which the cap must prevent).
  size_t open = 0, refused = 0, cut = 0;
  for (const UniqueFd& fd : hostile) {
    bool closed = false;
    const std::string arrived = Arrived(fd.get(), &closed);
    if (arrived.empty()) {
      ++(closed ? cut : open);
      continue;
    }
    ++refused;
    EXPECT_TRUE(arrived.starts_with("HTTP/1.1 429 Too Many Requests")) << arrived;
    EXPECT_NE(arrived.find("too-many-per-client"), std::string::npos) << arrived;
  }
  const nlohmann::json counters = ApiCounters();
  std::printf(
      "well-behaved client answered %.0f ms after asking, while one address held %zu "
      "connections (%zu refused with 429, %zu cut)\n",
      latency_ms, open, refused, cut);
  EXPECT_EQ(show, OverSocket({{"command", "show"}}));
  // A cut is a failure only if it came before any hostile connection's own timeout could cut it
  // (a busy machine may hold this thread back that long).
  if (Clock::now() - first_hostile < kDefaults.request_timeout) {
    EXPECT_EQ(cut, 0u) << "the well-behaved client was answered after hostile connections were cut";
    EXPECT_EQ(open, kDefaults.max_per_client);
  }
  EXPECT_EQ(refused, hostile_count - kDefaults.max_per_client);
  EXPECT_EQ(counters["too_many_per_client"].get<uint64_t>(),
            counters_before["too_many_per_client"].get<uint64_t>() + refused);

  // A connection its client closed no longer counts, even before the server's thread saw the
  // end: once the hostile client closed its connections, its address is served again, and
  // connections opened one after the other (as a CLI or a test suite does) are never refused.
  hostile.clear();
  for (int i = 0; i < 5; ++i) {
    UniqueFd fd =
        Connect("GET /v1/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", hostile_address);
    const std::string answer = ReadUntilClosed(fd.get());
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << i << ": " << answer;
  }
}

TEST(HttpApiLimitsOptionsTest, MaxPerClientOutsideOneToThreadsMinusOneExits2) {
  TempDir dir("http-api-limits-options");
  const std::vector<std::string> eal = NullPortsEal("http-api-limits-options");
  for (const std::string& value :
       std::vector<std::string>{"0", std::to_string(kDefaults.threads), "two"}) {
    std::vector<std::string> argv = {
        "run", "--api", "127.0.0.1:0", "--control", dir.Path("c.sock"), "--api-max-per-client",
        value, "--"};
    argv.insert(argv.end(), eal.begin(), eal.end());
    const CommandResult result = testing::RunFaultline(argv);
    EXPECT_EQ(result.status, 2) << value << ": " << result.output;
    EXPECT_NE(result.output.find("--api-max-per-client"), std::string::npos) << result.output;
    EXPECT_EQ(result.output.find("faultline: forwarding"), std::string::npos) << result.output;
  }
}

}  // namespace
}  // namespace faultline
