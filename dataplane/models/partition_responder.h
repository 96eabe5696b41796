// The answer a partition gives instead of silence: what the sender of a cut frame would get back
// from a router that knows the destination is unreachable (ICMP / ICMPv6 destination
// unreachable), or from a host whose process died (TCP RST; ICMP port unreachable for UDP).
// The answer comes from the destination's address, so the sender's stack matches it to the
// connection; the appliance itself has no address.
#pragma once

#include <rte_mbuf.h>

#include "dataplane/config/profile_spec.h"
#include "dataplane/fastpath/frame_parser.h"

namespace faultline {

// Builds the answer to `frame` (parsed as `parsed`) for a partition in `mode`, in a new mbuf
// from `pool`, addressed back to the sender. Returns nullptr when there is nothing to answer:
// mode drop, non-IP frames, later fragments, multicast or broadcast destinations, TCP RSTs, ICMP
// errors (never answer an error with an error), protocols the mode has no answer for, or an
// empty pool.
rte_mbuf* BuildPartitionAnswer(PartitionMode mode, const rte_mbuf* frame, const ParsedFrame& parsed,
                               rte_mempool* pool);

}  // namespace faultline
