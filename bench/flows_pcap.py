#!/usr/bin/env python3
"""Writes pcaps of 64-byte IPv4 frames, one per flow and round, for net_pcap's infinite_rx.

  bench/flows_pcap.py OUT.pcap [FLOWS, default 1024]
      FLOWS UDP flows: flow f is 10.0.(f / 256).(f % 256):(1024 + f) -> 10.1.0.1:5000, the same
      frames as bench/pipeline_bench.cc builds (bench/mpps.sh).

  bench/flows_pcap.py --workload-w A.pcap B.pcap [--flows 1024] [--rounds 1] [--gap-us 1]
                      [--queues 1]
      Workload W of profiles/workload-w.yaml, both directions: A.pcap holds what side a's
      clients send, B.pcap the servers' replies (the same flows reversed), one frame per flow
      and round on each side, stamped --gap-us apart (for faultline replay; a live run with
      infinite_rx ignores the stamps). Flow f is spread over the profile's group pairs by
      f % 20: web-a<->web-b 8 in 20, web-a<->batch-b 5, batch-a<->web-b 5, batch-a<->batch-b 2
      (10%, whose a->b half, 5% of all frames, the profile's partition cuts); it is UDP or TCP
      (ACK segments) by turns in blocks of 20, so every pair is half UDP, half TCP. Frames of a round are in a shuffled order (seeded: the files
      are the same every time), so the pairs interleave as on a real link. With --queues Q > 1
      (one pcap per rx queue of a net_pcap port, bench/scaleout.sh), each side is split into Q
      files A.q0.pcap .. A.q<Q-1>.pcap (the name with .q<i> before .pcap): flow f and its
      replies go to queue f % Q on both sides, as a symmetric RSS hash keeps a flow on one
      queue index, hence one worker.
"""
import argparse
import random
import struct
import sys

UDP, TCP = 17, 6
MAC_A = bytes([0x02, 0, 0, 0, 0, 0xAA])  # hosts behind side a
MAC_B = bytes([0x02, 0, 0, 0, 0, 0xBB])  # hosts behind side b
# Group pair of flow f by f % 20 (see the docstring): (client /16 on side a, server /16 on b).
PAIRS = [(1, 3)] * 8 + [(1, 4)] * 5 + [(2, 3)] * 5 + [(2, 4)] * 2


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4_frame(src_mac, dst_mac, src_ip, dst_ip, proto, src_port, dst_port, length=64,
               l4_checksum=True) -> bytes:
    ethernet = dst_mac + src_mac + struct.pack("!H", 0x0800)
    ip_length = length - len(ethernet)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_length, 0, 0, 64, proto, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    l4_length = ip_length - 20
    if proto == UDP:
        header = struct.pack("!HHHH", src_port, dst_port, l4_length, 0)
    else:  # an ACK segment of an established connection, 20-byte header
        header = struct.pack("!HHIIBBHHH", src_port, dst_port, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
    segment = header + bytes(l4_length - len(header))
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, proto, l4_length)
    sum_at = 6 if proto == UDP else 16
    l4_sum = (checksum(pseudo + segment) or (0xFFFF if proto == UDP else 0)) if l4_checksum else 0
    segment = segment[:sum_at] + struct.pack("!H", l4_sum) + segment[sum_at + 2:]
    return ethernet + ip + segment


def frame(flow: int, length: int = 64) -> bytes:
    return ipv4_frame(bytes([0x02, 0, 0, 0, 0, 0xAA]), bytes([0x02, 0, 0, 0, 0, 0xBB]),
                      bytes([10, 0, flow >> 8 & 0xFF, flow & 0xFF]), bytes([10, 1, 0, 1]), UDP,
                      1024 + flow, 5000, length, l4_checksum=False)


def workload_w_frames(flow: int):
    """(side a frame, side b frame) of flow f of workload W."""
    client_net, server_net = PAIRS[flow % len(PAIRS)]
    proto = UDP if flow // len(PAIRS) % 2 == 0 else TCP
    client = bytes([10, client_net, flow >> 8 & 0xFF, flow & 0xFF])
    server = bytes([10, server_net, 0, 1 + flow % 16])
    client_port, server_port = 1024 + flow, 5000 + flow % 4
    return (ipv4_frame(MAC_A, MAC_B, client, server, proto, client_port, server_port),
            ipv4_frame(MAC_B, MAC_A, server, client, proto, server_port, client_port))


def write_pcap(path: str, stamped_frames) -> None:
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet, us
        for micros, data in stamped_frames:
            out.write(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(data),
                                  len(data)) + data)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--workload-w":
        parser = argparse.ArgumentParser(usage=__doc__)
        parser.add_argument("--workload-w", nargs=2, metavar=("A_PCAP", "B_PCAP"), required=True)
        parser.add_argument("--flows", type=int, default=1024)
        parser.add_argument("--rounds", type=int, default=1)
        parser.add_argument("--gap-us", type=int, default=1)
        parser.add_argument("--queues", type=int, default=1)
        args = parser.parse_args()
        if not 1 <= args.flows <= 65536 - 1024 or args.rounds < 1 or args.gap_us < 1:
            sys.exit("--flows must be 1..64512, --rounds and --gap-us at least 1")
        if not 1 <= args.queues <= args.flows:
            sys.exit("--queues must be 1..FLOWS")
        pairs = [workload_w_frames(flow) for flow in range(args.flows)]
        order = list(range(args.flows))
        random.Random(14).shuffle(order)
        sequence = [order[i % args.flows] for i in range(args.flows * args.rounds)]
        for side in (0, 1):
            for queue in range(args.queues):
                path = args.workload_w[side]
                if args.queues > 1:
                    stem = path[:-5] if path.endswith(".pcap") else path
                    path = f"{stem}.q{queue}.pcap"
                flows = [flow for flow in sequence if flow % args.queues == queue]
                write_pcap(path, ((i * args.gap_us, pairs[flow][side])
                                  for i, flow in enumerate(flows)))
        return
    # An option here is a mistake (or --help), never an output name: a pcap once got written
    # to a file called --help.
    if len(sys.argv) not in (2, 3) or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr if sys.argv[1:2] != ["--help"] else sys.stdout)
        sys.exit(0 if sys.argv[1:] == ["--help"] else 2)
    flows = int(sys.argv[2]) if len(sys.argv) == 3 else 1024
    if not 1 <= flows <= 65536 - 1024:
        sys.exit("FLOWS must be 1..64512")
    write_pcap(sys.argv[1], ((flow, frame(flow)) for flow in range(flows)))


if __name__ == "__main__":
    main()
