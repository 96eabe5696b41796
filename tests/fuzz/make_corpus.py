#!/usr/bin/env python3
"""Writes the handmade seeds of tests/fuzz/corpus (frames, pcaps, control requests) and copies
the shipped profiles and traces. The fuzzers add nothing here: scripts/fuzz.sh keeps what they
find in its own output directory, and an input that found a fault is added by hand next to these
(it is not overwritten)."""
import json
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


MAC_A = bytes.fromhex("aabbccddee01")
MAC_B = bytes.fromhex("aabbccddee02")


def ether(ether_type, payload, dst=MAC_B, src=MAC_A, tags=()):
    header = dst + src
    for tpid, vid in tags:
        header += struct.pack("!HH", tpid, vid)
    return header + struct.pack("!H", ether_type) + payload


def ipv4(proto, payload, src="10.0.1.5", dst="10.0.2.13", tos=0, flags_frag=0x4000, options=b""):
    ihl = 5 + len(options) // 4
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, 20 + len(options) + len(payload), 1,
                         flags_frag, 64, proto, 0, bytes(map(int, src.split("."))),
                         bytes(map(int, dst.split(".")))) + options
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + payload


def ipv6(next_header, payload, src="fd00:1::5", dst="fd00:2::13"):
    import ipaddress
    return struct.pack("!IHBB", 0x60000000 | (1 << 20), len(payload), next_header, 64) + \
        ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + payload


def tcp(src_port, dst_port, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", src_port, dst_port, 1000, 0, 5 << 4, flags, 65535, 0, 0) + payload


def udp(src_port, dst_port, payload=b""):
    return struct.pack("!HHHH", src_port, dst_port, 8 + len(payload), 0) + payload


def frames():
    seeds = {
        "tcp-syn-etcd": ether(0x0800, ipv4(6, tcp(40000, 2379, 0x02), dst="10.0.2.13")),
        "tcp-ack-data": ether(0x0800, ipv4(6, tcp(40000, 80, 0x10, b"hello" * 10))),
        "udp-dns": ether(0x0800, ipv4(17, udp(53, 33000, b"\x12\x34" * 8))),
        "icmp-echo": ether(0x0800, ipv4(1, b"\x08\x00\xf7\xff\x00\x01\x00\x01")),
        "ecn-ect0": ether(0x0800, ipv4(17, udp(1, 2, b"x" * 20), tos=0x02)),
        "ipv4-options": ether(0x0800, ipv4(6, tcp(1, 2, 0x02), options=b"\x01\x01\x01\x00")),
        "ipv4-fragment-first": ether(0x0800, ipv4(17, udp(5, 6, b"y" * 40), flags_frag=0x2000)),
        "ipv4-fragment-later": ether(0x0800, ipv4(17, b"z" * 40, flags_frag=0x0005)),
        "vlan-af11": ether(0x0800, ipv4(17, udp(7, 8), tos=0x28), tags=[(0x8100, 15)]),
        "qinq": ether(0x0800, ipv4(6, tcp(9, 10, 0x02)), tags=[(0x88A8, 100), (0x8100, 12)]),
        "ipv6-tcp": ether(0x86DD, ipv6(6, tcp(40000, 2380, 0x02))),
        "ipv6-icmpv6": ether(0x86DD, ipv6(58, b"\x80\x00\x00\x00\x00\x01\x00\x01")),
        "ipv6-hop-by-hop-fragment": ether(0x86DD, ipv6(0, b"\x2c\x00" + b"\x01\x04\x00\x00\x00\x00" +
                                                   b"\x11\x00\x00\x01\x00\x00\x00\x07" + udp(1, 2))),
        "ipv6-ecn-udp": ether(0x86DD, ipv6(17, udp(3, 4, b"q" * 16))),
        "arp": ether(0x0806, bytes.fromhex("0001080006040001") + MAC_A + b"\x0a\x00\x01\x05" +
                     b"\0" * 6 + b"\x0a\x00\x02\x0d"),
        "mac-only": ether(0x88B5, b"\x00" * 46, dst=bytes.fromhex("02000000020d")),
        "sctp": ether(0x0800, ipv4(132, struct.pack("!HHII", 500, 600, 0, 0) + b"\0" * 16)),
        "runt": b"\xaa\xbb\xcc",
    }
    for name, frame in seeds.items():
        write("frame", name, b"\0" + frame)  # one segment
        write("frame", name + "-split", bytes([20]) + frame)  # split after 20 bytes (of the frame)


def pcaps():
    frame = ether(0x0800, ipv4(17, udp(1, 2, b"p" * 30)))
    def capture(magic, endian, frames_, snaplen=262144, link=1):
        header = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, link)
        for seconds, fraction, data in frames_:
            header += struct.pack(endian + "IIII", seconds, fraction, len(data), len(data)) + data
        return header
    records = [(1700000000, 5, frame), (1700000000, 900, frame[:30]), (1700000001, 0, frame)]
    write("pcap", "usec-le", capture(0xA1B2C3D4, "<", records))
    write("pcap", "nsec-le", capture(0xA1B23C4D, "<", records))
    write("pcap", "usec-be", capture(0xA1B2C3D4, ">", records))
    write("pcap", "nsec-late-seconds", capture(0xA1B23C4D, "<", [(0xFFFFFFF0, 999999999, frame)]))
    write("pcap", "raw-ip-link", capture(0xA1B2C3D4, "<", [(1, 0, frame[14:])], link=101))
    write("pcap", "truncated-record", capture(0xA1B23C4D, "<", records)[:-10])
    write("pcap", "empty", capture(0xA1B2C3D4, "<", []))


def control():
    profile = open(os.path.join(ROOT, "profiles", "split-brain.yaml")).read()
    trace = ("version: 1\nevents:\n  - {at: 0s, partition: {from: 10.0.0.1, to: 10.0.0.3}}\n"
             "  - {at: 10ms, heal: all}\n  - {at: 20ms, link: {side: a, state: flapping, for: 5ms,"
             " down: 1ms, up: 1ms}}\n")
    requests = {
        "ping": [{"command": "ping"}],
        "stats": [{"command": "stats"}, {"command": "stats", "format": "text"},
                  {"command": "stats", "format": "prometheus"}],
        "heal": [{"command": "heal", "what": "impairments"}, {"command": "heal", "what": "all"},
                 {"command": "heal"}],
        "apply": [{"command": "apply", "profile": profile, "name": "split-brain.yaml"},
                  {"command": "ping"}],
        "apply-small": [{"command": "apply", "profile": "version: 1\nimpairments: {x: {delay: "
                         "{base: 5ms}}}\nrules:\n  - {name: r1, match: {}, impairment: x}\n"}],
        "trace": [{"command": "trace-start", "trace": trace, "at": "+1ms", "speed": 2},
                  {"command": "trace-status"}, {"command": "trace-stop"}],
        "trace-rfc3339": [{"command": "trace-start", "trace": trace,
                           "at": "2030-01-01T00:00:00Z"}],
        "bad": [{"command": "nope"}, {"command": "heal", "what": 5}, {"command": "apply"}],
    }
    for name, lines in requests.items():
        write("control", name, "\n".join(json.dumps(line) for line in lines) + "\n")
    write("control", "not-json", "{\"command\": \"ping\"\n[1, 2]\n\n\"text\"\n")


def configuration():
    profiles = os.path.join(ROOT, "profiles")
    for name in sorted(os.listdir(profiles)):
        if not name.endswith(".yaml"):
            continue
        target = "trace" if name.endswith(".trace.yaml") else "profile"
        if name.startswith("topology-"):
            continue
        shutil.copy(os.path.join(profiles, name), os.path.join(CORPUS, target, name))
    write("trace", "every-kind.yaml", """version: 1
repeat: 2
duration: 10s
events:
  - {at: 0s, set-impairment: {rule: r1, impairment: flaky}}
  - {at: 1s, partition: {isolate: n3, mode: icmp-unreachable, name: iso}}
  - {at: 2s, heal: {partition: iso}}
  - {at: 3s, stall: {group: rack-a, for: 500ms, limit: 100pkt}}
  - {at: 4s, link: {side: b, state: down, for: 1s}}
  - {at: 6s, link: {side: a, state: flapping, for: 2s, down: 100ms, up: 300ms}}
  - {at: 9s, partition: {shape: majorities-ring, nodes: [10.0.3.1, 10.0.3.2, 10.0.3.3]}}
  - {at: 9500ms, heal: all}
""")


if __name__ == "__main__":
    for target in ("frame", "profile", "trace", "pcap", "control"):
        os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    frames()
    pcaps()
    control()
    configuration()
    sys.exit(0)
