#!/usr/bin/env python3
"""Writes to standard output a pcapng that costs a streaming reader per block rather than per
packet (issue 13, finding 1):

  sections  20 000 sections, each with one interface and one packet
  custom    one section, 100 000 interfaces, then 2 000 packets each after a custom block

usage: scripts/blocks.py sections|custom | vmkflow analyze - --json out.json --quiet
"""
import struct
import sys


def block(kind, body):
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


def main():
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idb = block(1, struct.pack("<HHI", 1, 0, 0))
    custom = block(0xBAD, struct.pack("<I", 12345) + b"xxxx")

    def epb(ts):
        return block(6, struct.pack("<IIIII", 0, 0, ts, 60, 60) + bytes(60))

    out = bytearray()
    if sys.argv[1:] == ["sections"]:
        for s in range(20_000):
            out += shb + idb + epb(s)
    elif sys.argv[1:] == ["custom"]:
        out += shb + idb * 100_000
        for k in range(2_000):
            out += custom + epb(k)
    else:
        sys.exit(__doc__)
    sys.stdout.buffer.write(bytes(out))


if __name__ == "__main__":
    main()
