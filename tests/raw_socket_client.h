// A raw client of the control socket for tests: any bytes out (garbage, half requests, floods),
// response lines in, and whether the server closed the connection.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace faultline::testing {

class RawClient {
 public:
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;

  explicit RawClient(const std::string& path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~RawClient() { close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return connected_; }
  int fd() const { return fd_; }

  // Sends what it can within `timeout`; returns the bytes sent (all of them unless the server
  // stopped reading or closed).
  size_t SendSome(const std::string& bytes, milliseconds timeout = milliseconds(2000)) {
    const auto deadline = Clock::now() + timeout;
    size_t sent = 0;
    while (sent < bytes.size() && Clock::now() < deadline) {
      pollfd descriptor{fd_, POLLOUT, 0};
      if (poll(&descriptor, 1, 10) < 0) break;
      if (descriptor.revents & (POLLERR | POLLHUP)) break;
      if (!(descriptor.revents & POLLOUT)) continue;
      const ssize_t n =
          send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
      if (n > 0) sent += static_cast<size_t>(n);
    }
    return sent;
  }
  // Whether all of `bytes` went out within `timeout` (a bound only a stalled server or machine
  // reaches: it returns as soon as they are out).
  bool Send(const std::string& bytes, milliseconds timeout = milliseconds(10000)) {
    return SendSome(bytes, timeout) == bytes.size();
  }

  // The next response line, parsed (a discarded value if it is not JSON); nullopt at end of
  // stream or timeout (as for Send, a bound only a stall reaches).
  std::optional<nlohmann::json> Receive(milliseconds timeout = milliseconds(10000)) {
    const auto deadline = Clock::now() + timeout;
    while (buffer_.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      pollfd descriptor{fd_, POLLIN, 0};
      if (left <= 0 || poll(&descriptor, 1, static_cast<int>(left)) <= 0) return std::nullopt;
      char chunk[4096];
      const ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) {
        closed_ = true;
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
    const size_t newline = buffer_.find('\n');
    const std::string line = buffer_.substr(0, newline);
    buffer_.erase(0, newline + 1);
    return nlohmann::json::parse(line, nullptr, false);
  }

  // Whether the server closes the connection within `timeout` (what it sends is dropped).
  bool ClosedWithin(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_ && Clock::now() < deadline) {
      pollfd descriptor{fd_, POLLIN, 0};
      if (poll(&descriptor, 1, 10) <= 0) continue;
      char chunk[65536];
      if (recv(fd_, chunk, sizeof(chunk), 0) <= 0) closed_ = true;
    }
    return closed_;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

}  // namespace faultline::testing
