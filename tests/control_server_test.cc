// The control socket in-process: socket set-up (mode, directories, stale and live sockets),
// framing and bad requests, several clients at once, slow clients, idle timeouts; and what heal,
// apply and ping do to the published profile (control/server/control_commands.h).
#include "control/server/control_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "control/profile/profile_parser.h"
#include "control/server/control_commands.h"
#include "dataplane/pipeline/pipeline.h"
#include "tests/raw_socket_client.h"

namespace faultline {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

std::string TempDirectory() {
  const char* base = std::getenv("TMPDIR");
  return std::string(base ? base : "/tmp") + "/faultline-control-" + std::to_string(getpid());
}

using testing::RawClient;

nlohmann::json Echo(const nlohmann::json& request) { return {{"ok", true}, {"echo", request}}; }

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = TempDirectory();
    std::filesystem::remove_all(directory_);
    options_.socket_path = directory_ + "/run/control.sock";
    // Deadlines no test thread misses however busy the machine is; the tests of the deadlines
    // themselves set short ones.
    options_.idle_timeout = milliseconds(10'000);
    options_.request_timeout = milliseconds(10'000);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(directory_);
  }

  void StartServer(ControlHandler handler = Echo) {
    std::string error;
    ListenFailure failure;
    server_ = ControlServer::Listen(options_, &error, &failure);
    ASSERT_NE(server_, nullptr) << error;
    EXPECT_EQ(failure, ListenFailure::kNone);
    server_->Start(std::move(handler));
  }

  std::string directory_;
  ControlServerOptions options_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, SocketIsPrivateAndItsDirectoriesAreMade) {
  StartServer();
  struct stat socket_stat, directory_stat;
  ASSERT_EQ(stat(options_.socket_path.c_str(), &socket_stat), 0);
  EXPECT_TRUE(S_ISSOCK(socket_stat.st_mode));
  EXPECT_EQ(socket_stat.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((directory_ + "/run").c_str(), &directory_stat), 0);
  EXPECT_EQ(directory_stat.st_mode & 0777, 0755u);
  server_->Stop();
  EXPECT_FALSE(std::filesystem::exists(options_.socket_path)) << "removed at stop";
}

TEST_F(ControlServerTest, StaleSocketIsReplacedAndALiveOneRefused) {
  // A socket file nobody listens on, as a killed run leaves behind.
  std::filesystem::create_directories(directory_ + "/run");
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", options_.socket_path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    close(fd);
  }
  StartServer();
  RawClient client(options_.socket_path);
  ASSERT_TRUE(client.connected());

  std::string error;
  ListenFailure failure;
  EXPECT_EQ(ControlServer::Listen(options_, &error, &failure), nullptr);
  EXPECT_EQ(failure, ListenFailure::kUsage);
  EXPECT_NE(error.find("another faultline run is listening on " + options_.socket_path),
            std::string::npos)
      << error;
  EXPECT_TRUE(client.Send("{\"command\":\"ping\"}\n"));
  EXPECT_TRUE(client.Receive().has_value()) << "the refused second server left the first alone";

  ControlServerOptions not_a_socket = options_;
  not_a_socket.socket_path = directory_ + "/plain-file";
  std::ofstream(not_a_socket.socket_path) << "x";
  EXPECT_EQ(ControlServer::Listen(not_a_socket, &error, &failure), nullptr);
  EXPECT_EQ(failure, ListenFailure::kUsage);
  EXPECT_NE(error.find("is not a socket"), std::string::npos) << error;
}

TEST_F(ControlServerTest, BadRequestsGetErrorsAndTheConnectionStaysUsable) {
  StartServer();
  RawClient client(options_.socket_path);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send("{\"command\": \n[1, 2]\n\n\"text\"\n{\"command\":\"ping\"}\r\n"));
  const auto malformed = client.Receive();
  ASSERT_TRUE(malformed);
  EXPECT_EQ((*malformed)["ok"], false);
  EXPECT_EQ((*malformed)["code"], "bad-request");
  EXPECT_NE((*malformed)["error"].get<std::string>().find("malformed JSON"), std::string::npos);
  for (int i = 0; i < 2; ++i) {  // an array, a string: not objects; the blank line is skipped
    const auto not_object = client.Receive();
    ASSERT_TRUE(not_object);
    EXPECT_NE((*not_object)["error"].get<std::string>().find("a request is a JSON object"),
              std::string::npos);
  }
  const auto answer = client.Receive();
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["echo"]["command"], "ping");
}

TEST_F(ControlServerTest, HandlerExceptionsAndInvalidUtf8BecomeErrorResponses) {
  StartServer([](const nlohmann::json& request) -> nlohmann::json {
    if (request.contains("throw")) throw std::runtime_error("boom");
    return {{"ok", false}, {"error", std::string("bad \xff byte")}};
  });
  RawClient client(options_.socket_path);
  ASSERT_TRUE(client.Send("{\"throw\":1}\n{\"x\":1}\n"));
  const auto thrown = client.Receive();
  ASSERT_TRUE(thrown);
  EXPECT_EQ((*thrown)["error"], "boom");
  const auto replaced = client.Receive();
  ASSERT_TRUE(replaced) << "a response with invalid UTF-8 is still sent";
  EXPECT_EQ((*replaced)["ok"], false);
}

TEST_F(ControlServerTest, OversizedRequestIsRefusedAndClosedWhileOthersAreServed) {
  StartServer();
  RawClient big(options_.socket_path);
  // More than 1 MiB without a newline.
  ASSERT_TRUE(big.Send(std::string(options_.max_request_bytes + 10, 'x')));
  const auto refused = big.Receive();
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["ok"], false);
  EXPECT_NE((*refused)["error"].get<std::string>().find("request longer than 1048576 bytes"),
            std::string::npos);
  EXPECT_TRUE(big.ClosedWithin(milliseconds(10000)));

  // An oversized line that does end in a newline is refused the same way.
  RawClient big_line(options_.socket_path);
  big_line.Send(std::string(options_.max_request_bytes + 1, ' ') + "\n");
  const auto also_refused = big_line.Receive();
  ASSERT_TRUE(also_refused);
  EXPECT_EQ((*also_refused)["ok"], false);
  EXPECT_TRUE(big_line.ClosedWithin(milliseconds(10000)));

  RawClient next(options_.socket_path);
  ASSERT_TRUE(next.Send("{\"command\":\"ping\"}\n"));
  EXPECT_TRUE(next.Receive());
}

TEST_F(ControlServerTest, TwoClientsAtOnceEachGetTheirOwnAnswersInOrder) {
  StartServer();
  RawClient first(options_.socket_path), second(options_.socket_path);
  ASSERT_TRUE(first.connected() && second.connected());
  // Interleaved, and the first's request arrives in two pieces.
  ASSERT_TRUE(first.Send("{\"n\":"));
  ASSERT_TRUE(second.Send("{\"n\":2}\n"));
  ASSERT_TRUE(first.Send("1}\n{\"n\":3}\n"));
  const auto two = second.Receive();
  ASSERT_TRUE(two);
  EXPECT_EQ((*two)["echo"]["n"], 2);
  const auto one = first.Receive(), three = first.Receive();
  ASSERT_TRUE(one && three);
  EXPECT_EQ((*one)["echo"]["n"], 1);
  EXPECT_EQ((*three)["echo"]["n"], 3);
}

// A client that sends half a request and one that never reads its answers (until the socket
// buffers are full) are both connected here, flooded.
struct StalledClients {
  explicit StalledClients(const std::string& path) : silent(path), deaf(path) {
    EXPECT_TRUE(silent.Send("{\"half\":"));  // never finishes its request
    const int small = 4096;
    setsockopt(deaf.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    std::string flood;
    for (int i = 0; i < 2000; ++i)
      flood += "{\"command\":\"ping\",\"padding\":\"" + std::string(200, 'p') + "\"}\n";
    int floods = 0;
    while (floods < 20 && deaf.Send(flood, milliseconds(50))) ++floods;
    EXPECT_LT(floods, 20) << "the server should have stopped reading from a client that never "
                             "reads";
  }
  RawClient silent, deaf;
};

// Stalled clients do not block others. A server they blocked would answer a third client only
// once it dropped them, at their request deadline: with 10 s, an answer within half of that shows
// it was not blocked, however loaded the machine (the time taken is printed).
TEST_F(ControlServerTest, SilentAndNonReadingClientsDoNotBlockOthers) {
  options_.idle_timeout = milliseconds(10'000);
  options_.request_timeout = milliseconds(10'000);
  StartServer();
  StalledClients stalled(options_.socket_path);
  const auto start = Clock::now();
  RawClient prompt(options_.socket_path);
  ASSERT_TRUE(prompt.Send("{\"command\":\"ping\"}\n"));
  ASSERT_TRUE(prompt.Receive(options_.idle_timeout / 2));
  const auto took = Clock::now() - start;
  std::printf("[ measured ] a third client answered in %.3f ms\n",
              std::chrono::duration<double, std::milli>(took).count());
  EXPECT_LT(took, options_.idle_timeout / 2);
  EXPECT_FALSE(stalled.silent.ClosedWithin(milliseconds(0)))
      << "dropped before its request deadline";
}

// Both stalled clients are dropped at their request deadline (400 ms here, 5 s by default): one
// never finished its request, the other never read its responses. A client that keeps talking is
// not dropped as idle (400 ms here, 10 s by default).
TEST_F(ControlServerTest, IdleClientsAreDisconnectedActiveOnesAreNot) {
  options_.idle_timeout = milliseconds(400);
  options_.request_timeout = milliseconds(400);
  StartServer();
  StalledClients stalled(options_.socket_path);
  // Bounds only a stall reaches: each wait ends as soon as the server has closed.
  EXPECT_TRUE(stalled.silent.ClosedWithin(milliseconds(10'000)));
  // The deaf client still does not read: its writes fail once the server has closed its end.
  const auto deadline = Clock::now() + milliseconds(10'000);
  bool refused = false;
  while (!refused && Clock::now() < deadline) {
    refused = send(stalled.deaf.fd(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) == -1 &&
              (errno == EPIPE || errno == ECONNRESET);
    if (!refused) usleep(10'000);
  }
  EXPECT_TRUE(refused) << "the client that never reads was not disconnected";

  // Requests every 50 ms for twice the idle timeout. Being idle is the client's own doing: if the
  // machine held this thread back longer than the timeout between two requests, a disconnect is
  // right, so it fails the test only after gaps shorter than the timeout.
  RawClient busy(options_.socket_path);
  const auto start = Clock::now();
  auto last_request = start;
  Clock::duration longest_gap{};
  while (Clock::now() - start < 2 * options_.idle_timeout) {
    const auto now = Clock::now();
    const Clock::duration gap = now - last_request;
    longest_gap = std::max(longest_gap, gap);
    last_request = now;
    const bool answered = busy.Send("{\"command\":\"ping\"}\n") && busy.Receive().has_value();
    if (!answered) {
      EXPECT_GE(gap, options_.idle_timeout) << "dropped while active";
      break;
    }
    usleep(50'000);
  }
  std::printf("[ measured ] longest gap between the active client's requests %.3f ms\n",
              std::chrono::duration<double, std::milli>(longest_gap).count());
}

// A client that trickles a request (a byte every 50 ms, never a newline) is active all the time
// but never done: it is closed at its request deadline, not kept while bytes come. One that
// finished its requests and sends nothing is closed at the idle deadline.
TEST_F(ControlServerTest, SlowAndIdleClientsAreClosedAtTheirDeadlines) {
  options_.request_timeout = milliseconds(300);
  options_.idle_timeout = milliseconds(600);
  StartServer();
  RawClient trickle(options_.socket_path);
  const auto connecting = Clock::now();
  RawClient idle(options_.socket_path);
  // Closed before its ping only if the machine held this thread back past the idle deadline.
  if (!idle.Send("{\"command\":\"ping\"}\n") || !idle.Receive()) {
    EXPECT_GE(Clock::now() - connecting, options_.idle_timeout) << "closed before its deadline";
  }
  const auto start = Clock::now();
  bool trickle_closed = false;
  // 10 s: beyond any deadline here by far, so only a server that never closes it fails.
  while (!trickle_closed && Clock::now() - start < milliseconds(10'000)) {
    if (trickle.SendSome("x", milliseconds(50)) != 1) break;
    trickle_closed = trickle.ClosedWithin(milliseconds(50));
  }
  const double after_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_TRUE(trickle_closed || send(trickle.fd(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
      << "a client trickling one request for 10 s is still connected";
  EXPECT_TRUE(idle.ClosedWithin(milliseconds(10'000))) << "an idle client is still connected";
  std::printf("[ measured ] trickling client closed after %.0f ms (request deadline 300 ms)\n",
              after_ms);
}

// 64 clients that each send a byte every 100 ms (and never finish a request) take every
// connection slot: a newcomer still gets in (it takes the slot of the client that made no
// progress the longest, which is told so) and is answered.
TEST_F(ControlServerTest, SlowClientsInEverySlotDoNotLockOthersOut) {
  options_.request_timeout = milliseconds(5'000);
  options_.idle_timeout = milliseconds(10'000);
  StartServer();
  std::vector<std::unique_ptr<RawClient>> slow;
  for (size_t i = 0; i < options_.max_clients; ++i) {
    slow.push_back(std::make_unique<RawClient>(options_.socket_path));
    ASSERT_TRUE(slow.back()->connected());
  }
  for (int round = 0; round < 3; ++round) {
    for (auto& client : slow) client->SendSome("{", milliseconds(100));
    usleep(100'000);
  }
  RawClient newcomer(options_.socket_path);
  ASSERT_TRUE(newcomer.connected());
  ASSERT_TRUE(newcomer.Send("{\"command\":\"ping\"}\n"));
  // 10 s: only a server that refuses the newcomer (or a real stall) takes that long.
  const std::optional<nlohmann::json> answer = newcomer.Receive(milliseconds(10'000));
  ASSERT_TRUE(answer.has_value()) << "the newcomer was not answered";
  EXPECT_EQ(answer->value("ok", false), true) << *answer;
  // The client that gave up its slot was told why.
  size_t told = 0;
  for (auto& client : slow) {
    if (std::optional<nlohmann::json> notice = client->Receive(milliseconds(20))) {
      EXPECT_EQ(notice->value("code", ""), "busy") << *notice;
      EXPECT_NE(notice->value("error", "").find("closed to make room"), std::string::npos);
      ++told;
    }
  }
  EXPECT_EQ(told, 1u);
}

// A client that sends thousands of requests at once gets a round's share of answers (8) at a
// time: another client is answered between them, not after all of them. (Before, a 64 KiB chunk
// of requests was answered in one go: 1500 requests of 2 ms each, as stats or an apply may cost,
// held everyone else up for 3 s.) The handler lets the flood's requests through one at a time,
// only as the test allows, so what is checked is the order of answers, not a time: the other
// client is answered within two rounds (16 of the flood's requests) of sending its request.
TEST_F(ControlServerTest, AFloodOfRequestsDoesNotHoldUpOtherClients) {
  options_.request_timeout = milliseconds(60'000);  // the flood reads its answers at the end
  options_.idle_timeout = milliseconds(60'000);
  std::mutex mutex;
  std::condition_variable changed;
  // The flood's requests that entered the handler, that it was allowed to finish, and finished.
  int entered = 0, allowed = 0, handled = 0, handled_before_prompt = -1;
  StartServer([&](const nlohmann::json& request) {
    std::unique_lock lock(mutex);
    if (!request.contains("n")) {
      handled_before_prompt = handled;
    } else {
      ++entered;
      changed.notify_all();
      changed.wait(lock, [&] { return handled < allowed; });
      ++handled;
    }
    changed.notify_all();
    return Echo(request);
  });
  // Waits (for a real stall at most) until `done` holds; false if it never did.
  auto wait_until = [&](auto done) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(60), done);
  };
  RawClient flood(options_.socket_path);
  RawClient prompt(options_.socket_path);
  constexpr int kFlood = 1500;
  std::string requests;
  for (int i = 0; i < kFlood; ++i)
    requests += "{\"command\":\"ping\",\"n\":" + std::to_string(i) + "}\n";
  std::thread sender([&] { flood.SendSome(requests, milliseconds(60'000)); });
  // However the test ends: the handler lets everything through, the server (whose handler uses
  // these locals) stops, and the sender (whose socket is then closed) ends.
  struct Cleanup {
    std::function<void()> run;
    ~Cleanup() { run(); }
  } cleanup{[&] {
    {
      std::lock_guard lock(mutex);
      allowed = kFlood;
      changed.notify_all();
    }
    server_.reset();
    sender.join();
  }};
  ASSERT_TRUE(wait_until([&] { return entered == 1; })) << "the flood was not read";
  // The server holds the flood's first request when the prompt arrives. Both clients were
  // accepted before the flood's first bytes, so the prompt is read in the round after the one
  // under way (which answers 8 of the flood's at most), and the flood, first in the server's
  // list, gets its 8 of that round first.
  ASSERT_TRUE(prompt.Send("{\"command\":\"ping\"}\n"));
  constexpr int kBound = 2 * 8;
  for (int i = 0; i < 4 * kBound; ++i) {
    std::unique_lock lock(mutex);
    if (handled_before_prompt >= 0) break;
    ++allowed;
    changed.notify_all();
    changed.wait_for(lock, std::chrono::seconds(60),
                     [&] { return handled == allowed || handled_before_prompt >= 0; });
  }
  {
    std::lock_guard lock(mutex);
    EXPECT_GE(handled_before_prompt, 0)
        << "the other client was not answered while " << allowed << " of the flood's were";
    std::printf("[ measured ] the other client was answered after %d of the flood's requests\n",
                handled_before_prompt);
    EXPECT_LE(handled_before_prompt, kBound);
    allowed = kFlood;  // the rest of the flood
    changed.notify_all();
  }
  const std::optional<nlohmann::json> answer = prompt.Receive(milliseconds(60'000));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->value("ok", false), true) << *answer;
  // The flood is answered in full and in order.
  for (int i = 0; i < kFlood; ++i) {
    const std::optional<nlohmann::json> echo = flood.Receive(milliseconds(60'000));
    ASSERT_TRUE(echo.has_value()) << "answer " << i;
    ASSERT_EQ((*echo)["echo"]["n"], i);
  }
}

// Commands against a publisher with no workers (nothing to wait for): what the running
// snapshot becomes.
class ControlCommandsTest : public ::testing::Test {
 protected:
  static constexpr const char* kProfile = R"(version: 1
seed: 5
groups:
  a1: [10.77.0.11]
  b1: [10.77.0.21]
impairments:
  slow:
    delay: {base: 1ms}
rules:
  - name: a1-traffic
    match: {src: a1}
    impairment: slow
)";

  void SetUp() override {
    std::string error;
    const auto spec = ParseProfileText(kProfile, "start.yaml", &error);
    ASSERT_TRUE(spec) << error;
    ProfileSpec with_partition = *spec;
    PartitionSpec cut;
    cut.name = "a1 -> b1";
    cut.cuts.push_back({with_partition.groups[0].members, with_partition.groups[1].members});
    with_partition.partitions.push_back(cut);
    publisher_ = std::make_unique<SnapshotPublisher>(
        std::vector<SnapshotChannel*>{}, std::vector<Pipeline*>{},
        CompileProfile(with_partition, TimeBase::ForHz(1'000'000'000), 77,
                       CompileOptions{.identities = &identities_}));
    dataplane_.publisher = publisher_.get();
    dataplane_.identities = &identities_;
    dataplane_.time_base = TimeBase::ForHz(1'000'000'000);
    dataplane_.now = [] {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    };
    dataplane_.stats = [] {
      StatsReport report;
      report.ports.resize(2);
      report.ports[0].rx = 5;
      return report;
    };
    commands_ = std::make_unique<ControlCommands>(&dataplane_);
  }

  nlohmann::json Apply(const std::string& text) {
    return commands_->Handle({{"command", "apply"}, {"profile", text}, {"name", "new.yaml"}});
  }
  const CompiledProfile& running() const { return *publisher_->current(); }

  RuleIdentities identities_;
  std::unique_ptr<SnapshotPublisher> publisher_;
  LiveDataplane dataplane_;
  std::unique_ptr<ControlCommands> commands_;
};

TEST_F(ControlCommandsTest, PingReportsTheRunningState) {
  const nlohmann::json state = commands_->Handle({{"command", "ping"}});
  EXPECT_EQ(state["ok"], true);
  EXPECT_EQ(state["rules"], 1);
  EXPECT_EQ(state["groups"], 2);
  EXPECT_EQ(state["partitions"], 1);
  EXPECT_EQ(state["impairments"], "active");
}

TEST_F(ControlCommandsTest, HealPartitionsImpairmentsAndAll) {
  // A copy of the spec, not the snapshot: each compiled group table takes 64 MiB of the test's
  // EAL memory, and a change needs the running one and the new one at once.
  const ProfileSpec before = publisher_->current()->spec;
  nlohmann::json response = commands_->Handle({{"command", "heal"}});  // partitions by default
  EXPECT_EQ(response["ok"], true) << response;
  EXPECT_TRUE(running().spec.partitions.empty());
  EXPECT_TRUE(running().rules_active);
  EXPECT_EQ(running().seed, 77u) << "compiled with the running seed";
  EXPECT_EQ(running().time_base.hz, 1'000'000'000u) << "and time base";
  EXPECT_EQ(running().spec.groups, before.groups);

  response = commands_->Handle({{"command", "heal"}, {"what", "impairments"}});
  EXPECT_EQ(response["impairments"], "healed");
  EXPECT_FALSE(running().rules_active);
  EXPECT_EQ(running().rule_count(), 1u) << "the rules stay";
  EXPECT_EQ(running().spec.rules, before.rules);

  response = commands_->Handle({{"command", "heal"}, {"what", "partitions"}});
  EXPECT_FALSE(running().rules_active) << "healing partitions leaves impairments healed";

  // An apply brings the rules back.
  response = Apply(kProfile);
  EXPECT_EQ(response["ok"], true) << response;
  EXPECT_TRUE(running().rules_active);
  EXPECT_EQ(running().spec.seed, before.seed);

  commands_.reset();
  publisher_.reset();
  SetUp();
  response = commands_->Handle({{"command", "heal"}, {"what", "all"}});
  EXPECT_EQ(response["partitions"], 0);
  EXPECT_EQ(response["impairments"], "healed");
}

TEST_F(ControlCommandsTest, BadRequestsChangeNothing) {
  const ProfileSnapshot before = publisher_->current();
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"what", "all"}}, "missing \"command\""},
      {{{"command", 3}}, "\"command\" must be a string"},
      {{{"command", "reboot"}}, "unknown command \"reboot\""},
      {{{"command", "heal"}, {"what", "everything"}}, "expected partitions, impairments or all"},
      {{{"command", "heal"}, {"wat", "all"}}, "unknown key \"wat\" in heal"},
      {{{"command", "apply"}}, "missing \"profile\""},
      {{{"command", "apply"}, {"profile", 1}}, "\"profile\" must be a string"},
      {{{"command", "ping"}, {"x", 1}}, "unknown key \"x\" in ping"},
  };
  for (const auto& [request, message] : cases) {
    const nlohmann::json response = commands_->Handle(request);
    EXPECT_EQ(response["ok"], false) << request;
    EXPECT_EQ(response["code"], "bad-request") << request;
    EXPECT_NE(response["error"].get<std::string>().find(message), std::string::npos)
        << request << " -> " << response;
  }
  EXPECT_EQ(publisher_->current(), before);
}

TEST_F(ControlCommandsTest, InvalidProfileIsRefusedWithItsLine) {
  const ProfileSnapshot before = publisher_->current();
  const nlohmann::json response = Apply("version: 1\nimpairments:\n  x:\n    delay: {base: 10}\n");
  EXPECT_EQ(response["ok"], false);
  EXPECT_EQ(response["code"], "invalid-profile");
  EXPECT_EQ(response["error"].get<std::string>().rfind("new.yaml:4:", 0), 0u) << response;
  EXPECT_EQ(publisher_->current(), before);
}

TEST_F(ControlCommandsTest, RulesAndImpairmentsChangeLiveAndKeepTheirIdsByName) {
  const std::string base = kProfile;
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  const uint32_t counter_id = running().rule_counter_id[0];
  const uint32_t state_id = running().rule_state_id[0];
  // Other effects: the same counters (the rule's name), new model state.
  nlohmann::json response = Apply(replaced("base: 1ms", "base: 2ms"));
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(running().rule_counter_id[0], counter_id);
  EXPECT_NE(running().rule_state_id[0], state_id);
  // Back to the first effects: the first state again.
  response = Apply(base);
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(running().rule_state_id[0], state_id);
  // Another name: other counters. A second rule: two rules.
  response = Apply(replaced("name: a1-traffic", "name: renamed"));
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_NE(running().rule_counter_id[0], counter_id);
  response = Apply(replaced("  slow:", "  fast:\n    delay: {base: 1us}\n  slow:"));
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(running().impairments.size(), 2u);
  EXPECT_EQ(running().rule_counter_id[0], counter_id) << "a1-traffic again";
}

TEST_F(ControlCommandsTest, StatsComeAsJsonTextOrPrometheus) {
  nlohmann::json response = commands_->Handle({{"command", "stats"}});
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(response["stats"]["ports"][0]["rx"], 5);
  EXPECT_TRUE(response["stats"].contains("trace"));
  EXPECT_TRUE(response["stats"]["trace"].is_null()) << "no trace yet";
  response = commands_->Handle({{"command", "stats"}, {"format", "text"}});
  EXPECT_NE(response["text"].get<std::string>().find("port 0 (side a): rx 5"), std::string::npos)
      << response;
  response = commands_->Handle({{"command", "stats"}, {"format", "prometheus"}});
  EXPECT_NE(response["prometheus"].get<std::string>().find(
                "faultline_port_rx_frames_total{port=\"0\",side=\"a\"} 5\n"),
            std::string::npos)
      << response;
  response = commands_->Handle({{"command", "stats"}, {"format", "xml"}});
  EXPECT_EQ(response["code"], "bad-request");
}

TEST_F(ControlCommandsTest, TraceStartValidatesTheWholeTraceAndItsTimes) {
  const ProfileSnapshot before = publisher_->current();
  auto start = [&](const std::string& text, nlohmann::json extra = nlohmann::json::object()) {
    nlohmann::json request = {{"command", "trace-start"}, {"trace", text}, {"name", "t.yaml"}};
    request.update(extra);
    return commands_->Handle(request);
  };
  nlohmann::json response =
      start("version: 1\nevents:\n  - at: 1s\n    partition: {isolate: nobody}\n");
  EXPECT_EQ(response["code"], "invalid-trace") << response;
  EXPECT_EQ(response["error"].get<std::string>().rfind("t.yaml:4:", 0), 0u) << response;
  const std::string good = "version: 1\nevents:\n  - at: 1h\n    partition: {isolate: a1}\n";
  response = start(good, {{"speed", 0}});
  EXPECT_EQ(response["code"], "bad-request") << response;
  response = start(good, {{"at", "2001-01-01T00:00:00Z"}});
  EXPECT_NE(response["error"].get<std::string>().find("has passed"), std::string::npos) << response;
  response = start(good, {{"at", "+1x"}});
  EXPECT_EQ(response["code"], "bad-request") << response;
  EXPECT_EQ(publisher_->current(), before) << "nothing changed";
  EXPECT_EQ(commands_->Handle({{"command", "trace-stop"}})["code"], "bad-request");

  response = start(good, {{"at", "+10s"}});
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(response["trace"]["state"], "running");
  response = start(good);
  EXPECT_EQ(response["code"], "busy") << "one trace at a time";
  EXPECT_EQ(Apply(kProfile)["code"], "busy") << "an apply would be undone by the next step";
  response = commands_->Handle({{"command", "trace-status"}});
  EXPECT_EQ(response["trace"]["next"]["description"], "partition isolate a1") << response;
  // Heal is the way out: it stops the trace.
  response = commands_->Handle({{"command", "heal"}});
  EXPECT_EQ(response["ok"], true) << response;
  EXPECT_EQ(response["trace_stopped"], true);
  EXPECT_EQ(commands_->Handle({{"command", "trace-status"}})["trace"]["state"], "stopped");
  EXPECT_TRUE(running().spec.partitions.empty());
}

// `show`: the profile in force as a profile file that reads back to it (with the running seed,
// not the file's), where it came from, and what changed it since.
TEST_F(ControlCommandsTest, ShowTellsWhatIsInForceAndWhereItCameFrom) {
  commands_->SetSource("/etc/faultline/start.yaml", "faultline run --profile");
  nlohmann::json response = commands_->Handle({{"command", "show"}});
  ASSERT_EQ(response["ok"], true) << response;
  nlohmann::json show = response["show"];
  EXPECT_EQ(show["source"], "/etc/faultline/start.yaml");
  EXPECT_EQ(show["loaded_by"], "faultline run --profile");
  EXPECT_TRUE(show["changed_since"].empty()) << show;
  EXPECT_EQ(show["seed"], 77);
  EXPECT_EQ(show["impairments"], "active");
  EXPECT_EQ(show["links"], (nlohmann::json{{"a", "up"}, {"b", "up"}}));
  EXPECT_TRUE(show["trace"].is_null());
  // Every rule's impairment parameters, and the partition (made in code here) by its groups.
  EXPECT_EQ(show["profile"]["impairments"]["slow"]["delay"]["base"], "1ms") << show["profile"];
  EXPECT_EQ(show["profile"]["partitions"][0],
            (nlohmann::json{{"from", "a1"}, {"name", "a1 -> b1"}, {"to", "b1"}}));
  std::string error;
  const std::optional<ProfileSpec> shown = ParseProfileText(show["yaml"], "shown.yaml", &error);
  ASSERT_TRUE(shown) << error << "\n" << show["yaml"].get<std::string>();
  ProfileSpec expected = running().spec;
  expected.seed = 77;
  expected.partitions[0].form = shown->partitions[0].form;  // written as {from: a1, to: b1}
  EXPECT_TRUE(*shown == expected) << show["yaml"].get<std::string>();

  ASSERT_EQ(commands_->Handle({{"command", "heal"}})["ok"], true);
  show = commands_->Handle({{"command", "show"}})["show"];
  EXPECT_EQ(show["changed_since"], (nlohmann::json{"heal partitions"}));
  EXPECT_TRUE(show["profile"]["partitions"].empty());

  response = commands_->Handle(
      {{"command", "apply"}, {"profile", kProfile}, {"name", "new.yaml"}, {"directory", "/srv"}});
  ASSERT_EQ(response["ok"], true) << response;
  show = commands_->Handle({{"command", "show"}})["show"];
  EXPECT_EQ(show["source"], "/srv/new.yaml");
  EXPECT_EQ(show["loaded_by"], "faultline apply");
  EXPECT_TRUE(show["changed_since"].empty());
  EXPECT_EQ(commands_->Handle({{"command", "show"}, {"json", true}})["code"], "bad-request");
}

// `trace-stop` ends the faults the trace made: the profile the trace started from is back (a
// link the trace took down is up again). With `keep`, what its last step left stays.
TEST_F(ControlCommandsTest, TraceStopPutsTheBaseBackUnlessKept) {
  const ProfileSpec base = running().spec;
  // (Link steps keep the group tables, 64 MiB each, which this test's EAL memory has little room
  // for; live_control_test puts a trace's partition back on a running worker.)
  const std::string trace = R"(version: 1
events:
  - at: 0s
    link: {side: b, state: down}
  - at: 100s
    heal: all
)";
  auto start = [&] {
    return commands_->Handle({{"command", "trace-start"}, {"trace", trace}, {"at", "+0s"}});
  };
  for (const bool keep : {false, true}) {
    SCOPED_TRACE(keep ? "keep" : "restore");
    ASSERT_EQ(start()["ok"], true);
    // The first steps are due at once; with no workers they are in force when handed over.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!running().spec.link_down[1] && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(running().spec.link_down[1]);
    const nlohmann::json response = commands_->Handle({{"command", "trace-stop"}, {"keep", keep}});
    ASSERT_EQ(response["ok"], true) << response;
    EXPECT_EQ(response["restored"], !keep);
    EXPECT_EQ(response["trace"]["state"], "stopped");
    EXPECT_EQ(response["partition_names"], (nlohmann::json{"a1 -> b1"}));
    if (keep) {
      EXPECT_EQ(response["links"]["b"], "down") << response;
      EXPECT_TRUE(running().spec.link_down[1]);
    } else {
      EXPECT_EQ(response["links"]["b"], "up") << response;
      EXPECT_TRUE(running().spec == base);
    }
  }
  const nlohmann::json none = commands_->Handle({{"command", "trace-stop"}});
  EXPECT_EQ(none["code"], "bad-request");
  EXPECT_EQ(none["state"]["links"]["b"], "down") << "what is in force is said";
  EXPECT_EQ(commands_->Handle({{"command", "trace-stop"}, {"keep", 1}})["code"], "bad-request");
}

// A request line of up to 1 MiB nested as deep as it can be: parsed and destroyed without
// recursion, answered with an error.
TEST_F(ControlCommandsTest, DeeplyNestedRequestsAreAnsweredWithAnError) {
  const ControlHandler handler = [&](const nlohmann::json& request) {
    return commands_->Handle(request);
  };
  for (const std::string& line : {std::string(500'000, '[') + std::string(500'000, ']'),
                                  "{\"command\": \"ping\", \"x\": " + std::string(300'000, '[') +
                                      std::string(300'000, ']') + "}",
                                  std::string(1 << 20, '{')}) {
    const nlohmann::json response = nlohmann::json::parse(AnswerRequestLine(handler, line));
    EXPECT_EQ(response["ok"], false) << response;
    EXPECT_EQ(response["code"], "bad-request") << response;
  }
}

// `at` and `speed` keep the trace's times inside the clock's arithmetic: "+106000d" overflowed
// the start's wall-clock time (signed), a tiny speed stretched times past 64 bits of clock units.
TEST_F(ControlCommandsTest, TraceStartTimesAreBounded) {
  const ProfileSnapshot before = publisher_->current();
  auto start = [&](nlohmann::json extra) {
    nlohmann::json request = {{"command", "trace-start"},
                              {"trace", "version: 1\nevents:\n  - {at: 10s, heal: all}\n"},
                              {"name", "t.yaml"}};
    request.update(extra);
    return commands_->Handle(request);
  };
  for (const char* far : {"+31536000000000001ns", "+106000d", "+213503d"}) {
    const nlohmann::json response = start({{"at", far}});
    EXPECT_EQ(response["code"], "bad-request") << response;
    EXPECT_EQ(response["error"], "\"at\": " + std::string(far) + " is more than 365d ahead");
  }
  nlohmann::json response = start({{"at", "9999-12-31T23:59:59Z"}});
  EXPECT_EQ(response["code"], "bad-request") << response;
  response = start({{"at", "2200-01-01T00:00:00Z"}});
  EXPECT_NE(response["error"].get<std::string>().find("is more than 365d ahead"), std::string::npos)
      << response;
  // 10s at speed 1e-8 is 1e9 s, more than 3650d; at 1e-7, 1e8 s is less.
  response = start({{"speed", 1e-8}});
  const std::string slow = response["error"];
  EXPECT_EQ(slow.rfind("at speed 1e-08 a round of the trace lasts ", 0), 0u) << response;
  EXPECT_TRUE(slow.ends_with(", more than 3650d (the longest a trace may last)")) << response;
  EXPECT_EQ(publisher_->current(), before) << "nothing changed";
  response = start({{"at", "+365d"}, {"speed", 1e-7}});
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(commands_->Handle({{"command", "trace-stop"}})["ok"], true);
}

TEST_F(ControlCommandsTest, GroupsAndMatchFieldsChangeLive) {
  std::string text = kProfile;
  text.replace(text.find("10.77.0.11"), 10, "10.77.0.12");
  text.replace(text.find("{src: a1}"), 9, "{dst: b1}");
  text.replace(text.find("seed: 5"), 7, "seed: 6");
  const nlohmann::json response = Apply(text);
  ASSERT_EQ(response["ok"], true) << response;
  EXPECT_EQ(running().spec.groups[0].members.prefixes[0].address[3], 12);
  EXPECT_FALSE(running().spec.rules[0].match.dst.empty());
  EXPECT_TRUE(running().spec.partitions.empty()) << "the applied profile has none";
  EXPECT_EQ(running().seed, 77u) << "the running seed stays";
}

// The same commands with one worker's channel, and no worker polling it until the test does.
class LateWorkerTest : public ControlCommandsTest {
 protected:
  static constexpr milliseconds kAckTimeout{30};

  void SetUp() override {
    ControlCommandsTest::SetUp();
    if (HasFatalFailure()) return;
    commands_.reset();
    ProfileSnapshot start = publisher_->current();
    publisher_ = std::make_unique<SnapshotPublisher>(std::vector<SnapshotChannel*>{&channel_},
                                                     std::vector<Pipeline*>{}, start);
    dataplane_.publisher = publisher_.get();
    commands_ = std::make_unique<ControlCommands>(&dataplane_, kAckTimeout);
    worker_runs_ = std::move(start);
  }
  void TearDown() override {  // before the channel they point to
    commands_.reset();
    publisher_.reset();
  }
  // What the worker does between two bursts: installs the change on its way, if any.
  bool WorkerPolls() {
    return channel_.Receive([this](ProfileSnapshot next) {
      std::swap(worker_runs_, next);
      return next;
    });
  }

  SnapshotChannel channel_;
  ProfileSnapshot worker_runs_;
};

TEST_F(LateWorkerTest, TheAnswerNamesTheWorkerAndTheChangeAppliesWhenItNextPolls) {
  const Clock::time_point sent = Clock::now();
  const nlohmann::json answer = commands_->Handle({{"command", "heal"}, {"what", "impairments"}});
  EXPECT_GE(Clock::now() - sent, kAckTimeout) << "the commands waited the whole timeout";
  EXPECT_EQ(answer["ok"], false) << answer;
  EXPECT_EQ(answer["code"], "failed") << "a runtime failure, not bad input";
  EXPECT_NE(answer.value("error", "")
                .find("worker(s) 0 did not take the change within 30 ms; "
                      "it stays queued"),
            std::string::npos)
      << answer;
  EXPECT_TRUE(worker_runs_->rules_active);
  EXPECT_EQ(commands_->Handle({{"command", "show"}})["show"]["impairments"], "active")
      << "show tells what the workers run";

  ASSERT_TRUE(WorkerPolls()) << "the change stayed queued";
  EXPECT_FALSE(worker_runs_->rules_active);
  EXPECT_EQ(commands_->Handle({{"command", "show"}})["show"]["impairments"], "healed");
}

}  // namespace
}  // namespace faultline
