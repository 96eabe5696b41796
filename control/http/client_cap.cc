#include "control/http/client_cap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace faultline {

std::string PeerAddress(int fd) {
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  const void* address = nullptr;
  if (peer.ss_family == AF_INET) {
    address = &reinterpret_cast<const sockaddr_in&>(peer).sin_addr;
  } else if (peer.ss_family == AF_INET6) {
    address = &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr;
  }
  if (address == nullptr || inet_ntop(peer.ss_family, address, text, sizeof(text)) == nullptr) {
    return "";
  }
  return text;
}

void RefuseConnection(int fd, const std::string& answer) {
  if (!answer.empty()) send(fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  // Unread bytes at close would make the kernel reset the connection, and a reset can reach the
  // client before it read the answer.
  char buffer[4096];
  for (int i = 0; i < 4 && recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT) > 0; ++i) {
  }
  shutdown(fd, SHUT_RDWR);
}

}  // namespace faultline
