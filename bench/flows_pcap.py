#!/usr/bin/env python3
"""Writes a pcap of FLOWS 64-byte IPv4/UDP frames, one per flow, for net_pcap's infinite_rx.

Flow f is 10.0.(f / 256).(f % 256):(1024 + f) -> 10.1.0.1:5000, the same frames as
bench/pipeline_bench.cc builds. Usage: bench/flows_pcap.py OUT.pcap [FLOWS, default 1024]
"""
import struct
import sys


def ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def frame(flow: int, length: int = 64) -> bytes:
    ethernet = bytes([0x02, 0, 0, 0, 0, 0xBB, 0x02, 0, 0, 0, 0, 0xAA]) + struct.pack("!H", 0x0800)
    ip_length = length - len(ethernet)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_length, 0, 0, 64, 17, 0,
                     bytes([10, 0, flow >> 8 & 0xFF, flow & 0xFF]), bytes([10, 1, 0, 1]))
    ip = ip[:10] + struct.pack("!H", ipv4_checksum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", 1024 + flow, 5000, ip_length - 20, 0)
    data = ethernet + ip + udp
    return data + bytes(length - len(data))


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    flows = int(sys.argv[2]) if len(sys.argv) == 3 else 1024
    if not 1 <= flows <= 65536 - 1024:
        sys.exit("FLOWS must be 1..64512")
    with open(sys.argv[1], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet, us
        for flow in range(flows):
            data = frame(flow)
            out.write(struct.pack("<IIII", 0, flow, len(data), len(data)) + data)


if __name__ == "__main__":
    main()
