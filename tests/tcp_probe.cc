// A small network probe for the end-to-end tests, run inside a host's namespace with
// `ip netns exec`. Every result is one line on stdout.
//
//   tcp_probe connect ADDR PORT TIMEOUT_MS  one TCP connect: "connected MS" (exit 0) or
//                                           "ERRNO_NAME MS" (exit 1); ETIMEDOUT: no answer
//                                           within TIMEOUT_MS
//   tcp_probe hold ADDR PORT TIMEOUT_MS     connect as above, then keep the connection: every
//                                           line read from stdin is sent and must come back
//                                           (the server echoes): "echo LINE", or "lost LINE"
//                                           after TIMEOUT_MS; exits at end of stdin
//   tcp_probe serve PORT                    echo server on every address: "listening", then
//                                           echoes whatever any connection sends, until killed
//   tcp_probe udp-listen PORT               "listening", then "datagram TEXT" for each one
//   tcp_probe udp-send ADDR PORT COUNT      COUNT datagrams "probe N", 10 ms apart
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

long ElapsedMs(Clock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

sockaddr_in Address(const char* address, const char* port) {
  sockaddr_in result{};
  result.sin_family = AF_INET;
  result.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
  if (inet_pton(AF_INET, address, &result.sin_addr) != 1) {
    Say(std::string("bad address ") + address);
    std::exit(2);
  }
  return result;
}

std::string ErrnoName(int error) {
  const char* name = strerrorname_np(error);
  return name ? name : std::to_string(error);
}

// A non-blocking connect bounded by `timeout_ms`: the socket (connected) or -1 after printing
// the error.
int Connect(const sockaddr_in& address, int timeout_ms) {
  const auto start = Clock::now();
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int error = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    error = errno;
    if (error == EINPROGRESS) {
      pollfd descriptor{fd, POLLOUT, 0};
      const int ready = poll(&descriptor, 1, timeout_ms);
      socklen_t length = sizeof(error);
      if (ready == 0) {
        error = ETIMEDOUT;
      } else {
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      }
    }
  }
  if (error != 0) {
    Say(ErrnoName(error) + " " + std::to_string(ElapsedMs(start)));
    close(fd);
    return -1;
  }
  Say("connected " + std::to_string(ElapsedMs(start)));
  return fd;
}

// Sends each stdin line and waits for its echo.
int Hold(int fd, int timeout_ms) {
  std::string line, pending;
  while (std::getline(std::cin, line)) {
    const std::string message = line + "\n";
    if (send(fd, message.data(), message.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(message.size())) {
      Say("lost " + line + " (send: " + ErrnoName(errno) + ")");
      continue;
    }
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    bool echoed = false;
    while (!echoed && Clock::now() < deadline) {
      pollfd descriptor{fd, POLLIN, 0};
      if (poll(&descriptor, 1, 10) <= 0) continue;
      char buffer[4096];
      const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
      if (got <= 0) break;
      pending.append(buffer, static_cast<size_t>(got));
      const size_t newline = pending.find('\n');
      if (newline != std::string::npos) {
        echoed = pending.substr(0, newline) == line;
        pending.erase(0, newline + 1);
      }
    }
    Say((echoed ? "echo " : "lost ") + line);
  }
  close(fd);
  return 0;
}

int Serve(const char* port) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const sockaddr_in address = Address("0.0.0.0", port);
  if (bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      listen(listener, 64) != 0) {
    Say("cannot listen: " + ErrnoName(errno));
    return 1;
  }
  Say("listening");
  std::vector<pollfd> descriptors = {{listener, POLLIN, 0}};
  for (;;) {
    if (poll(descriptors.data(), descriptors.size(), -1) < 0) continue;
    for (size_t i = descriptors.size(); i-- > 1;) {
      if (!descriptors[i].revents) continue;
      char buffer[4096];
      const ssize_t got = recv(descriptors[i].fd, buffer, sizeof(buffer), 0);
      if (got <= 0 ||
          send(descriptors[i].fd, buffer, static_cast<size_t>(got), MSG_NOSIGNAL) != got) {
        close(descriptors[i].fd);
        descriptors.erase(descriptors.begin() + static_cast<long>(i));
      }
    }
    if (descriptors[0].revents & POLLIN) {
      const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) descriptors.push_back({fd, POLLIN, 0});
    }
  }
}

int UdpListen(const char* port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = Address("0.0.0.0", port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    Say("cannot bind: " + ErrnoName(errno));
    return 1;
  }
  Say("listening");
  for (;;) {
    char buffer[2048];
    const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
    if (got > 0) Say("datagram " + std::string(buffer, static_cast<size_t>(got)));
  }
}

int UdpSend(const char* address_text, const char* port, int count) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const sockaddr_in address = Address(address_text, port);
  for (int i = 0; i < count; ++i) {
    const std::string text = "probe " + std::to_string(i);
    sendto(fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&address),
           sizeof(address));
    usleep(10'000);
  }
  Say("sent " + std::to_string(count));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if ((mode == "connect" || mode == "hold") && argc == 5) {
    const int timeout_ms = std::atoi(argv[4]);
    const int fd = Connect(Address(argv[2], argv[3]), timeout_ms);
    if (fd < 0) return 1;
    if (mode == "hold") return Hold(fd, timeout_ms);
    close(fd);
    return 0;
  }
  if (mode == "serve" && argc == 3) return Serve(argv[2]);
  if (mode == "udp-listen" && argc == 3) return UdpListen(argv[2]);
  if (mode == "udp-send" && argc == 5) return UdpSend(argv[2], argv[3], std::atoi(argv[4]));
  std::fprintf(stderr,
               "usage: tcp_probe connect|hold ADDR PORT TIMEOUT_MS | serve PORT | udp-listen PORT "
               "| udp-send ADDR PORT COUNT\n");
  return 2;
}
