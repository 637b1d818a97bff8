#!/usr/bin/env python3
"""Writes a pcap with FLOWS concurrent TCP flows (distinct client addresses, one vMotion server),
ROUNDS data segments each, interleaved round by round so every flow is live at once: the input for
the peak-memory check with many flows (scripts/compare.sh --flows).

usage: scripts/manyflows.py OUT [FLOWS=100000] [ROUNDS=10] [PAYLOAD=1000]
"""
import struct
import sys


def main():
    out = sys.argv[1]
    flows = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    payload = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    server = bytes([10, 0, 20, 12])
    body = bytes(payload)
    ts = 1_700_000_000 * 1_000_000
    with open(out, "wb", buffering=1 << 20) as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for r in range(rounds):
            for i in range(flows):
                client = bytes([10, 1 + (i >> 16), (i >> 8) & 255, i & 255])
                sport = 40000 + (i % 20000)
                ip_len = 20 + 20 + payload
                ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, r & 0xFFFF, 0, 64, 6, 0, client, server)
                tcp = struct.pack("!HHIIBBHHH", sport, 8000, 1 + r * payload, 1, 0x50, 0x18, 65535, 0, 0)
                eth = b"\x00\x50\x56\x00\x00\x02\x00\x50\x56\x00\x00\x01\x08\x00"
                frame = eth + ip + tcp + body
                ts += 1
                f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
                f.write(frame)


if __name__ == "__main__":
    main()
