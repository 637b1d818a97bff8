#!/usr/bin/env python3
"""Writes to standard output a pcap of N distinct conversations: one UDP packet (4 payload bytes,
to port 53) from each of N client addresses (11.0.0.0 upwards) to one server, 1 µs apart. The
input for the conversation-bound measurement in README.md (Limits).

usage: scripts/conversations.py [N=10000000] | vmkflow analyze - --json report.json --quiet
"""
import struct
import sys


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    out = sys.stdout.buffer
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    eth = b"\x00\x50\x56\x00\x00\x02\x00\x11\x22\x33\x44\x55\x08\x00"
    server = bytes([10, 0, 10, 5])
    udp = struct.pack("!HHHH", 40000, 53, 12, 0) + b"abcd"
    ts0 = 1_700_000_000
    batch = []
    for i in range(n):
        client = bytes([11 + (i >> 24), (i >> 16) & 255, (i >> 8) & 255, i & 255])
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 32, 0, 0, 64, 17, 0, client, server)
        frame = eth + ip + udp
        batch.append(struct.pack("<IIII", ts0 + i // 1_000_000, i % 1_000_000, len(frame), len(frame)))
        batch.append(frame)
        if len(batch) >= 200_000:
            out.write(b"".join(batch))
            batch = []
    out.write(b"".join(batch))


if __name__ == "__main__":
    main()
