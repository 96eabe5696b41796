#include "control/server/control_server.h"

#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace faultline {

namespace {

using Clock = std::chrono::steady_clock;

// Responses waiting past this stop the server answering (and reading) more of that client's
// requests until it reads them.
constexpr size_t kMaxPendingOutput = 64 * 1024;
// Bytes read from one client per poll round, and requests answered, so a client that sends a
// flood of requests (each may cost milliseconds: stats, apply) cannot starve the others.
constexpr size_t kReadPerRound = 256 * 1024;
constexpr int kRequestsPerRound = 8;
// Connections the kernel queues before the server accepts them.
constexpr int kListenBacklog = 16;
// poll() wakes at least this often even with no deadline near (a missed wake-up costs this much).
constexpr auto kMaxPollWait = std::chrono::milliseconds(1000);
// recv() takes at most this much at a time.
constexpr size_t kReadChunkBytes = 64 * 1024;
// getgrnam_r's buffer: enough for a group with hundreds of members.
constexpr size_t kGroupBufferBytes = 16384;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool MakeAddress(const std::string& path, sockaddr_un* address, std::string* error) {
  *address = {};
  address->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address->sun_path)) {
    *error = "control socket path '" + path + "' must be 1 to " +
             std::to_string(sizeof(address->sun_path) - 1) + " bytes long";
    return false;
  }
  std::memcpy(address->sun_path, path.c_str(), path.size() + 1);
  return true;
}

// Creates the missing directories above `path`, each with mode 0755.
bool MakeParentDirectories(const std::string& path, std::string* error) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return true;
  std::filesystem::path partial;
  for (const std::filesystem::path& part : parent) {
    partial /= part;
    if (mkdir(partial.c_str(), 0755) == 0) {
      chmod(partial.c_str(), 0755);  // whatever the umask
    } else if (errno != EEXIST) {
      *error = Errno("cannot create directory " + partial.string());
      return false;
    }
  }
  return true;
}

std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A socket file already at `path`: refused if it is not a socket or someone listens on it,
// removed if it was left by a run that was killed. *failure says which kind of error.
bool ReplaceStaleSocket(const std::string& path, const sockaddr_un& address, std::string* error,
                        ListenFailure* failure) {
  struct stat existing;
  if (lstat(path.c_str(), &existing) != 0) return true;
  if (!S_ISSOCK(existing.st_mode)) {
    *error = path + " exists and is not a socket; choose another path with --control";
    return false;
  }
  bool live = false;
  int connect_errno = 0;
  {
    const UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    live = probe.valid() &&
           connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
    connect_errno = errno;
  }
  if (live) {
    *error = "another faultline run is listening on " + path +
             "; stop it or give this one another --control path";
    return false;
  }
  if (connect_errno != ECONNREFUSED) {
    errno = connect_errno;
    *failure = ListenFailure::kSystem;
    *error = Errno("cannot check the existing socket " + path);
    return false;
  }
  unlink(path.c_str());  // stale: left by a run that was killed
  return true;
}

// Makes the socket file at `path` 0660 and owned by `group_name`; on failure removes it.
bool GiveToGroup(const std::string& path, const std::string& group_name, std::string* error,
                 ListenFailure* failure) {
  group buffer_group{};
  group* found = nullptr;
  std::vector<char> buffer(kGroupBufferBytes);
  if (getgrnam_r(group_name.c_str(), &buffer_group, buffer.data(), buffer.size(), &found) != 0 ||
      found == nullptr) {
    unlink(path.c_str());
    *failure = ListenFailure::kUsage;
    *error = "--control-group: no group named '" + group_name + "'";
    return false;
  }
  if (chown(path.c_str(), static_cast<uid_t>(-1), found->gr_gid) != 0 ||
      chmod(path.c_str(), 0660) != 0) {
    *error = Errno("cannot give the control socket to group " + group_name);
    unlink(path.c_str());
    return false;
  }
  return true;
}

}  // namespace

nlohmann::json ControlError(const std::string& code, const std::string& message) {
  return {{"ok", false}, {"code", code}, {"error", message}};
}

struct ControlServer::Client {
  UniqueFd fd;
  std::string in;   // received and not yet answered: complete lines, then maybe a partial one
  std::string out;  // answers not yet sent
  bool end_of_input = false;  // the client shut down its sending side
  bool closing = false;       // close once `out` is sent (oversized request, end of input)
  // When the deadline that applies began: the partial request's first byte, the oldest unread
  // answer, the end of the last exchange (or the connection).
  Clock::time_point partial_since, output_since, idle_since;

  bool HasPartial() const { return !in.empty() && in.back() != '\n'; }
  bool HasCompleteLine() const { return in.find('\n') != std::string::npos; }
};

std::unique_ptr<ControlServer> ControlServer::Listen(const ControlServerOptions& options,
                                                     std::string* error, ListenFailure* failure) {
  *failure = ListenFailure::kUsage;
  const std::string& path = options.socket_path;
  sockaddr_un address;
  if (!MakeAddress(path, &address, error)) return nullptr;
  if (!ReplaceStaleSocket(path, address, error, failure)) return nullptr;
  *failure = ListenFailure::kSystem;
  if (!MakeParentDirectories(path, error)) return nullptr;

  std::unique_ptr<ControlServer> server(new ControlServer(options));
  server->listen_fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!server->listen_fd_.valid()) {
    *error = Errno("socket");
    return nullptr;
  }
  // The socket file is created by bind with the umask's mode: make it 0600 from the start.
  const mode_t previous_umask = umask(0177);
  const int bound =
      bind(server->listen_fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
  umask(previous_umask);
  struct stat made;
  if (bound != 0 || lstat(path.c_str(), &made) != 0) {
    *error = Errno("cannot create the control socket " + path);
    return nullptr;
  }
  if (!options.group.empty() && !GiveToGroup(path, options.group, error, failure)) {
    return nullptr;
  }
  server->socket_device_ = made.st_dev;
  server->socket_inode_ = made.st_ino;
  if (listen(server->listen_fd_.get(), kListenBacklog) != 0) {
    *error = Errno("listen on " + path);
    return nullptr;
  }
  server->wake_fd_.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!server->wake_fd_.valid()) {
    *error = Errno("eventfd");
    return nullptr;
  }
  *failure = ListenFailure::kNone;
  return server;
}

ControlServer::~ControlServer() { Stop(); }

void ControlServer::Start(ControlHandler handler) {
  handler_ = std::move(handler);
  sigset_t blocked, previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);  // the new thread inherits the mask
  thread_ = std::thread([this] { Serve(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

bool ControlServer::Stop(std::chrono::milliseconds timeout) {
  if (thread_.joinable()) {
    stop_.store(true);
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = write(wake_fd_.get(), &one, sizeof(one));
    std::unique_lock lock(finished_mutex_);
    const auto finished = [this] { return finished_; };
    if (timeout == std::chrono::milliseconds::max()) {
      finished_changed_.wait(lock, finished);
    } else if (!finished_changed_.wait_for(lock, timeout, finished)) {
      lock.unlock();
      RemoveSocketFile();  // nobody new may connect; the thread keeps its descriptors
      return false;
    }
    lock.unlock();
    thread_.join();
  }
  if (listen_fd_.valid()) {
    RemoveSocketFile();
    listen_fd_.reset();
  }
  wake_fd_.reset();
  return true;
}

void ControlServer::RemoveSocketFile() {
  struct stat current;
  // Remove the file only if it is still ours (not replaced by another run meanwhile).
  if (lstat(options_.socket_path.c_str(), &current) == 0 && current.st_dev == socket_device_ &&
      current.st_ino == socket_inode_) {
    unlink(options_.socket_path.c_str());
  }
}

Clock::time_point ControlServer::Deadline(const Client& client) const {
  if (!client.out.empty()) return client.output_since + options_.request_timeout;
  // Whole requests waiting for their turn: the server owes the client, not the reverse.
  if (client.HasCompleteLine() && !client.closing) return Clock::time_point::max();
  if (!client.in.empty()) return client.partial_since + options_.request_timeout;
  return client.idle_since + options_.idle_timeout;
}

void ControlServer::Serve() {
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<pollfd> descriptors;
  while (!stop_.load()) {
    const Clock::time_point now = Clock::now();
    descriptors.clear();
    descriptors.push_back({wake_fd_.get(), POLLIN, 0});
    descriptors.push_back({listen_fd_.get(), POLLIN, 0});
    auto wait = kMaxPollWait;
    for (const auto& client : clients) {
      short events = 0;
      // Reading stops while answers pile up unread, or whole requests wait for their turn.
      const bool waiting = client->HasCompleteLine();
      if (!client->closing && !client->end_of_input && client->out.size() < kMaxPendingOutput &&
          (!waiting || client->in.size() < kReadPerRound)) {
        events |= POLLIN;
      }
      if (!client->out.empty()) events |= POLLOUT;
      descriptors.push_back({client->fd.get(), events, 0});
      if (waiting && client->out.size() < kMaxPendingOutput) {
        wait = std::chrono::milliseconds(0);  // requests to answer in the next round
      }
      const Clock::time_point deadline = Deadline(*client);
      if (deadline == Clock::time_point::max()) continue;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      wait = std::clamp(left + std::chrono::milliseconds(1), std::chrono::milliseconds(0), wait);
    }
    if (poll(descriptors.data(), descriptors.size(), static_cast<int>(wait.count())) < 0 &&
        errno != EINTR) {
      break;
    }
    if (descriptors[1].revents & POLLIN) Accept(clients);
    const Clock::time_point after = Clock::now();
    // descriptors[2 + i] is clients[i] as it was before Accept appended new ones.
    const size_t polled = descriptors.size() - 2;
    for (size_t i = 0; i < clients.size(); ++i) {
      if (clients[i] == nullptr) continue;  // replaced by a newcomer in Accept
      Client& client = *clients[i];
      const short revents = i < polled ? descriptors[2 + i].revents : 0;
      bool keep = true;
      if (revents & (POLLIN | POLLHUP | POLLERR)) keep = ReadRequests(client);
      if (keep) AnswerRequests(client);
      if (keep && !client.out.empty()) keep = Flush(client);
      if (client.closing && client.out.empty()) keep = false;
      if (after > Deadline(client)) keep = false;
      if (!keep) clients[i].reset();  // closes its connection
    }
    std::erase(clients, nullptr);
  }
  clients.clear();  // closes every connection
  std::lock_guard lock(finished_mutex_);
  finished_ = true;
  finished_changed_.notify_all();
}

void ControlServer::Accept(std::vector<std::unique_ptr<Client>>& clients) {
  for (;;) {
    UniqueFd fd(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) return;  // EAGAIN: all taken; anything else: the client is gone
    auto client = std::make_unique<Client>();
    client->fd = std::move(fd);
    client->idle_since = Clock::now();
    size_t open = 0;
    for (const auto& other : clients) open += other != nullptr;
    if (open >= options_.max_clients) {
      // Every slot is taken: the newcomer gets the one of the client nearest its deadline (the
      // one idle, or stuck in a request or an unread answer, the longest), which is told why. A
      // client that sends its requests and reads its answers at socket speed is never that one.
      auto nearest =
          std::min_element(clients.begin(), clients.end(), [this](const auto& a, const auto& b) {
            if (a == nullptr || b == nullptr) return b == nullptr && a != nullptr;
            return Deadline(*a) < Deadline(*b);
          });
      const std::string notice =
          Dump(ControlError("busy", "closed to make room for another client: all " +
                                        std::to_string(options_.max_clients) +
                                        " connections were taken and this one made no progress "
                                        "the longest")) +
          "\n";
      [[maybe_unused]] const ssize_t sent =
          send((*nearest)->fd.get(), notice.data(), notice.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      nearest->reset();  // closes its connection
    }
    clients.push_back(std::move(client));
  }
}

bool ControlServer::ReadRequests(Client& client) {
  char buffer[kReadChunkBytes];
  size_t taken = 0;
  while (!client.closing && taken < kReadPerRound) {
    const ssize_t got = recv(client.fd.get(), buffer, sizeof(buffer), 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    if (got == 0) {
      client.end_of_input = true;
      break;
    }
    if (!client.HasPartial()) client.partial_since = Clock::now();  // a request begins
    taken += static_cast<size_t>(got);
    client.in.append(buffer, static_cast<size_t>(got));
    // A request longer than the limit, whole or not, is refused and the connection closed.
    size_t start = 0;
    for (size_t newline = client.in.find('\n'); !client.closing;
         newline = client.in.find('\n', start)) {
      const size_t end = newline == std::string::npos ? client.in.size() : newline;
      if (end - start > options_.max_request_bytes) {
        Reply(client, ControlError("bad-request", "request longer than " +
                                                      std::to_string(options_.max_request_bytes) +
                                                      " bytes; closing the connection"));
        client.in.clear();
        client.closing = true;
      }
      if (newline == std::string::npos) break;
      start = newline + 1;
    }
    if (client.HasCompleteLine() && client.in.size() >= kReadPerRound) break;
  }
  return true;
}

void ControlServer::AnswerRequests(Client& client) {
  const bool was_idle = client.in.empty() && client.out.empty();
  for (int answered = 0;
       answered < kRequestsPerRound && !client.closing && client.out.size() < kMaxPendingOutput;
       ++answered) {
    const size_t newline = client.in.find('\n');
    if (newline == std::string::npos) break;
    const std::string line = client.in.substr(0, newline);
    client.in.erase(0, newline + 1);
    Answer(client, line);
  }
  if (client.end_of_input && !client.closing && !client.HasCompleteLine()) {
    // The last request may lack its newline; answer it, then close once the answers are out.
    if (!client.in.empty()) Answer(client, client.in);
    client.in.clear();
    client.closing = true;
  }
  // Only blank lines: done with them, idle from now.
  if (!was_idle && client.in.empty() && client.out.empty()) client.idle_since = Clock::now();
}

std::string AnswerRequestLine(const ControlHandler& handler, std::string_view line) {
  const std::string_view text = line.substr(0, line.size() - (line.ends_with('\r') ? 1 : 0));
  if (text.find_first_not_of(" \t") == std::string_view::npos) return "";  // blank: no request
  nlohmann::json response;
  try {
    const nlohmann::json request = nlohmann::json::parse(text);
    if (!request.is_object()) {
      response =
          ControlError("bad-request", "a request is a JSON object, e.g. {\"command\":\"ping\"}");
    } else {
      response = handler(request);
    }
  } catch (const nlohmann::json::parse_error& e) {
    response = ControlError("bad-request", std::string("malformed JSON: ") + e.what());
  } catch (const std::exception& e) {
    response = ControlError("failed", e.what());
  }
  return Dump(response);
}

void ControlServer::Reply(Client& client, const nlohmann::json& response) {
  Send(client, Dump(response));
}

void ControlServer::Answer(Client& client, const std::string& line) {
  const std::string response = AnswerRequestLine(handler_, line);
  if (!response.empty()) Send(client, response);
}

void ControlServer::Send(Client& client, const std::string& response) {
  if (client.out.empty()) client.output_since = Clock::now();
  client.out += response + "\n";
}

bool ControlServer::Flush(Client& client) {
  while (!client.out.empty()) {
    const ssize_t sent =
        send(client.fd.get(), client.out.data(), client.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    client.out.erase(0, static_cast<size_t>(sent));
  }
  // All of it read (a partial send is no progress against the deadline): done, unless more is
  // under way.
  if (client.in.empty()) client.idle_since = Clock::now();
  return true;
}

std::optional<nlohmann::json> ControlRequest(const std::string& socket_path,
                                             const nlohmann::json& request,
                                             std::chrono::milliseconds timeout, std::string* error,
                                             bool* connected) {
  *connected = false;
  sockaddr_un address;
  if (!MakeAddress(socket_path, &address, error)) return std::nullopt;
  const UniqueFd socket_fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int fd = socket_fd.get();
  if (fd < 0) {
    *error = Errno("socket");
    return std::nullopt;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    *error = Errno("no faultline run is listening on " + socket_path + " (connect") + ")";
    return std::nullopt;
  }
  *connected = true;
  const auto deadline = Clock::now() + timeout;
  auto wait_for = [&](short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd descriptor{fd, events, 0};
    return left > 0 && poll(&descriptor, 1, static_cast<int>(left)) > 0;
  };
  const std::string line = Dump(request) + "\n";
  for (size_t sent = 0; sent < line.size();) {
    if (!wait_for(POLLOUT)) {
      *error = "timed out sending the request to " + socket_path;
      return std::nullopt;
    }
    const ssize_t n = send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      *error = Errno("sending to " + socket_path);
      return std::nullopt;
    }
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string response;
  while (response.find('\n') == std::string::npos) {
    if (!wait_for(POLLIN)) {
      *error =
          "no response from " + socket_path + " within " + std::to_string(timeout.count()) + " ms";
      return std::nullopt;
    }
    char buffer[4096];
    const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) {
      *error = socket_path + " closed the connection without a response";
      return std::nullopt;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      *error = Errno("reading from " + socket_path);
      return std::nullopt;
    }
    if (n > 0) response.append(buffer, static_cast<size_t>(n));
  }
  nlohmann::json parsed =
      nlohmann::json::parse(response.substr(0, response.find('\n')), nullptr, false);
  if (!parsed.is_object() || !parsed.contains("ok")) {
    *error = "malformed response from " + socket_path + ": " + response;
    return std::nullopt;
  }
  return parsed;
}

}  // namespace faultline
