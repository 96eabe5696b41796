// The per-client connection cap of the HTTP API (`run --api-max-per-client N`, as nginx's
// limit_conn): one client address holds at most N connections at once, serving or waiting, N
// below the number of serving threads, so a slow or hostile client can never take them all and
// delay the others. A connection counts from its acceptance until its job ends, unless its
// client already closed it (ConnectionDeadline::Holding: a client that opens one connection
// after the other is not refused because the server has not yet seen the end of the last one).
//
// A connection beyond the cap is refused on the accept thread (the task queue's enqueue),
// without taking a serving thread: a small fixed answer (429) written with one non-blocking
// send, then shut down. Addresses are compared without the port (IPv4 and IPv6; an IPv4 client
// of a dual-stack listener is its ::ffff: form).
#pragma once

#include <string>

namespace faultline {

// The address of the peer of connected socket `fd`, without its port ("" if it has none).
std::string PeerAddress(int fd);

// Refuses connected socket `fd` at once: sends `answer` (may be empty: nothing is sent) without
// blocking, reads what already arrived (so the close does not reset the connection before the
// client read the answer) and shuts it down. The caller closes it.
void RefuseConnection(int fd, const std::string& answer);

}  // namespace faultline
