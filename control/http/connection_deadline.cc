#include "control/http/connection_deadline.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_received (glibc's netinet/tcp.h lacks it)
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "control/http/client_cap.h"

namespace faultline {

namespace {

// The connection the calling serving thread works on (Answered() restarts its clock).
thread_local int64_t t_connection = -1;

// Whether `local` is `host`:`port`; a host that is not a numeric address (a name) or is the
// wildcard matches any address.
bool SameEndpoint(const sockaddr_storage& local, const std::string& host, int port) {
  in_addr v4{};
  in6_addr v6{};
  if (local.ss_family == AF_INET) {
    const auto& address = reinterpret_cast<const sockaddr_in&>(local);
    if (ntohs(address.sin_port) != port) return false;
    return inet_pton(AF_INET, host.c_str(), &v4) != 1 || v4.s_addr == htonl(INADDR_ANY) ||
           v4.s_addr == address.sin_addr.s_addr;
  }
  if (local.ss_family == AF_INET6) {
    const auto& address = reinterpret_cast<const sockaddr_in6&>(local);
    if (ntohs(address.sin6_port) != port) return false;
    return inet_pton(AF_INET6, host.c_str(), &v6) != 1 || IN6_IS_ADDR_UNSPECIFIED(&v6) ||
           IN6_ARE_ADDR_EQUAL(&v6, &address.sin6_addr);
  }
  return false;
}

// A connection accepted on `host`:`port`: a TCP stream socket, not listening, with that local
// address.
bool AcceptedOn(int fd, const std::string& host, int port) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &length) != 0 || value != SOCK_STREAM) {
    return false;
  }
  length = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) != 0 || value != 0) return false;
  sockaddr_storage local{};
  length = sizeof(local);
  return getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 &&
         SameEndpoint(local, host, port);
}

// The connection's TCP_INFO; zeros if it cannot tell.
tcp_info TcpInfo(int fd) {
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return tcp_info{};
  return info;
}

// The bytes the kernel received on the connection so far; 0 if it cannot tell.
uint64_t BytesReceived(int fd) { return TcpInfo(fd).tcpi_bytes_received; }

// tcpi_state of a connection both ends still hold: TCP_ESTABLISHED of <netinet/tcp.h>, which
// cannot be included with <linux/tcp.h>.
constexpr uint8_t kTcpEstablished = 1;

int TcpState(int fd) { return TcpInfo(fd).tcpi_state; }

}  // namespace

ConnectionDeadline::ConnectionDeadline(const std::string& host, int port,
                                       std::chrono::milliseconds deadline,
                                       std::atomic<uint64_t>* cut)
    : host_(host), port_(port), deadline_(deadline), cut_(cut), watchdog_([this] { Watch(); }) {}

ConnectionDeadline::~ConnectionDeadline() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stop_changed_.notify_all();
  watchdog_.join();
  for (auto& [id, connection] : connections_) close(connection.fd);
}

int64_t ConnectionDeadline::Accepted(int* socket) {
  if (socket != nullptr) *socket = -1;
  std::lock_guard lock(mutex_);
  std::vector<std::pair<int, uint64_t>> fresh;  // (fd, inode) of sockets not yet tracked
  DIR* directory = opendir("/proc/self/fd");
  if (directory == nullptr) return -1;
  while (const dirent* entry = readdir(directory)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    struct stat status {};
    if (*end != '\0' || fd == dirfd(directory) || fstat(int(fd), &status) != 0 ||
        !S_ISSOCK(status.st_mode)) {
      continue;
    }
    bool known = false;
    for (const auto& [id, connection] : connections_) known |= connection.inode == status.st_ino;
    if (!known && AcceptedOn(int(fd), host_, port_)) fresh.emplace_back(int(fd), status.st_ino);
  }
  closedir(directory);
  // Exactly one: the connection just accepted. None or several only if an earlier one could not
  // be tracked (dup or opendir failing: out of descriptors); it goes without a deadline.
  if (fresh.size() != 1) return -1;
  const int copy = dup(fresh[0].first);
  if (copy < 0) return -1;
  const int64_t id = next_id_++;
  connections_[id] =
      Connection{.fd = copy, .inode = fresh[0].second, .peer = PeerAddress(fresh[0].first)};
  if (socket != nullptr) *socket = fresh[0].first;
  return id;
}

std::string ConnectionDeadline::Peer(int64_t id) {
  std::lock_guard lock(mutex_);
  const auto found = connections_.find(id);
  return found == connections_.end() ? "" : found->second.peer;
}

size_t ConnectionDeadline::Holding(const std::string& peer, int64_t except) {
  std::lock_guard lock(mutex_);
  size_t holding = 0;
  for (const auto& [id, connection] : connections_) {
    holding += id != except && connection.peer == peer && !connection.cut &&
               TcpState(connection.fd) == kTcpEstablished;
  }
  return holding;
}

void ConnectionDeadline::Started(int64_t id) {
  t_connection = id;
  std::lock_guard lock(mutex_);
  const auto found = connections_.find(id);
  if (found != connections_.end()) found->second.serving = true;
}

void ConnectionDeadline::Answered() {
  std::lock_guard lock(mutex_);
  const auto found = connections_.find(t_connection);
  if (found == connections_.end()) return;
  found->second.baseline = BytesReceived(found->second.fd);
  found->second.first_byte = {};
}

void ConnectionDeadline::Finished(int64_t id) {
  t_connection = -1;
  std::lock_guard lock(mutex_);
  const auto found = connections_.find(id);
  if (found == connections_.end()) return;
  close(found->second.fd);
  connections_.erase(found);
}

void ConnectionDeadline::Check(Connection& connection, std::chrono::steady_clock::time_point now) {
  if (!connection.serving || connection.cut) return;
  if (connection.first_byte == std::chrono::steady_clock::time_point{}) {
    if (BytesReceived(connection.fd) > connection.baseline) connection.first_byte = now;
    return;
  }
  if (now - connection.first_byte > deadline_) {
    // Ends the serving thread's wait on the socket: its read sees the end of the stream.
    shutdown(connection.fd, SHUT_RDWR);
    connection.cut = true;
    cut_->fetch_add(1, std::memory_order_relaxed);
  }
}

void ConnectionDeadline::Watch() {
  std::unique_lock lock(mutex_);
  while (!stop_changed_.wait_for(lock, kTick, [this] { return stop_; })) {
    const auto now = std::chrono::steady_clock::now();
    for (auto& [id, connection] : connections_) Check(connection, now);
  }
}

}  // namespace faultline
