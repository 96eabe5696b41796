// The control socket in-process: socket set-up (mode, directories, stale and live sockets),
// framing and bad requests, several clients at once, slow clients, idle timeouts; and what heal,
// apply and ping do to the published profile (control/control_commands.h).
#include "control/control_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "control/control_commands.h"
#include "control/profile_parser.h"
#include "dataplane/pipeline.h"
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
    options_.idle_timeout = milliseconds(400);
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
  EXPECT_TRUE(big.ClosedWithin(milliseconds(1000)));

  // An oversized line that does end in a newline is refused the same way.
  RawClient big_line(options_.socket_path);
  big_line.Send(std::string(options_.max_request_bytes + 1, ' ') + "\n");
  const auto also_refused = big_line.Receive();
  ASSERT_TRUE(also_refused);
  EXPECT_EQ((*also_refused)["ok"], false);
  EXPECT_TRUE(big_line.ClosedWithin(milliseconds(1000)));

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

TEST_F(ControlServerTest, SilentAndNonReadingClientsDoNotBlockOthersAndAreDisconnected) {
  StartServer();
  RawClient silent(options_.socket_path);
  ASSERT_TRUE(silent.Send("{\"half\":"));  // never finishes its request
  // Never reads: floods requests until the socket buffers are full.
  RawClient deaf(options_.socket_path);
  const int small = 4096;
  setsockopt(deaf.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  std::string flood;
  for (int i = 0; i < 2000; ++i)
    flood += "{\"command\":\"ping\",\"padding\":\"" + std::string(200, 'p') + "\"}\n";
  int floods = 0;
  while (floods < 20 && deaf.Send(flood, milliseconds(50))) ++floods;
  EXPECT_LT(floods, 20) << "the server should have stopped reading from a client that never reads";
  // Meanwhile another client is answered at once.
  const auto start = Clock::now();
  RawClient prompt(options_.socket_path);
  ASSERT_TRUE(prompt.Send("{\"command\":\"ping\"}\n"));
  ASSERT_TRUE(prompt.Receive(milliseconds(200)));
  EXPECT_LT(Clock::now() - start, milliseconds(200));

  // Both stalled clients are dropped after the idle timeout (400 ms here, 10 s by default). The
  // deaf one still does not read: its writes fail once the server has closed its end.
  usleep(1'500'000);
  EXPECT_EQ(send(deaf.fd(), "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT), -1);
  EXPECT_TRUE(errno == EPIPE || errno == ECONNRESET) << std::strerror(errno);
  EXPECT_TRUE(silent.ClosedWithin(milliseconds(100)));
  // A client that keeps talking is not idle.
  RawClient busy(options_.socket_path);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(busy.Send("{\"command\":\"ping\"}\n"));
    ASSERT_TRUE(busy.Receive()) << "dropped while active";
    usleep(150'000);
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

}  // namespace
}  // namespace faultline
