#!/usr/bin/env python3
"""Writes fuzz/seeds/: the starting inputs of the AFL++ targets (see docs/fuzzing.md).

capture/   the first blocks (records) of each bundled capture, cut at a block boundary, plus a
           gzip of one; the pcapng conformance corpus is added by fuzz/run.sh when it is there
frame/     one frame of each kind found in the bundled captures, after a link-type byte
labels/    the bundled captures' migration labels
inventory/ the bundled captures' inventories
powercli/  PowerCLI CSV exports of those inventories, with and without optional columns

Deterministic: the same captures give the same seeds. Usage: python3 fuzz/make-seeds.py
"""
import gzip
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CAPTURES = os.path.join(HERE, "..", "captures")
SEEDS = os.path.join(HERE, "seeds")
# vmkflow::fuzzing::LINK_TYPES: the frame target's first byte is an index into it.
LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276]
# Records kept of each bundled capture: enough for a few flows, small enough to fuzz fast.
KEEP = 24


def pcap_records(data):
    """(header bytes, [(record bytes, link type, frame)]) of a classic pcap."""
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        rec = data[off:off + 16 + incl]
        out.append((rec, link, rec[16:]))
        off += 16 + incl
    return data[:24], out


def pcapng_blocks(data):
    """[(block bytes, link type or None, frame or None)] of a pcapng (one byte order)."""
    end = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
    links, out, off = [], [], 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(end + "II", data[off:off + 8])
        block = data[off:off + blen]
        if btype == 1:
            links.append(struct.unpack(end + "H", block[8:10])[0])
        if btype == 6:
            iface, _, _, caplen = struct.unpack(end + "IIII", block[8:24])
            out.append((block, links[iface], block[28:28 + caplen]))
        else:
            out.append((block, None, None))
        off += blen
    return out


WRITTEN = set()


def write(folder, name, data):
    """Writes a seed, unless the folder has one with the same bytes."""
    if (folder, data) in WRITTEN:
        return
    WRITTEN.add((folder, data))
    os.makedirs(os.path.join(SEEDS, folder), exist_ok=True)
    with open(os.path.join(SEEDS, folder, name), "wb") as f:
        f.write(data)


def frame_kind(link, frame):
    """What makes frames different for the decoder: link type, EtherTypes, IP protocol."""
    kind, off = [link], 12
    while off + 2 <= len(frame) and len(kind) < 4:
        et = frame[off:off + 2]
        kind.append(et)
        if et in (b"\x81\x00", b"\x88\xa8"):
            off += 4
            continue
        if et == b"\x08\x00" and off + 12 < len(frame):
            kind.append(frame[off + 11])
        if et == b"\x86\xdd" and off + 8 < len(frame):
            kind.append(frame[off + 8])
        break
    return tuple(kind)


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    frames = {}
    for name in sorted(os.listdir(CAPTURES)):
        path = os.path.join(CAPTURES, name)
        base, ext = os.path.splitext(name)
        if ext not in (".pcap", ".pcapng"):
            continue
        data = open(path, "rb").read()
        if ext == ".pcap":
            header, recs = pcap_records(data)
            seed = header + b"".join(r for r, _, _ in recs[:KEEP])
        else:
            blocks = pcapng_blocks(data)
            # Every block before the first packet (section header, interfaces), then packets.
            first = next(i for i, (_, link, _) in enumerate(blocks) if link is not None)
            recs = blocks[first:]
            seed = b"".join(b for b, _, _ in blocks[:first]) + b"".join(
                b for b, _, _ in recs[:KEEP]
            )
        write("capture", name, seed)
        if name == "all-vmware.pcapng":
            write("capture", name + ".gz", gzip.compress(seed, mtime=0))
        for _, link, frame in recs:
            if link is None or link not in LINK_TYPES:
                continue
            k = frame_kind(link, frame)
            if k not in frames:
                frames[k] = bytes([LINK_TYPES.index(link)]) + frame
    for i, k in enumerate(sorted(frames, key=repr)):
        write("frame", "frame-%02d" % i, frames[k])

    for name in sorted(os.listdir(CAPTURES)):
        path = os.path.join(CAPTURES, name)
        if name.endswith(".migrations.json"):
            write("labels", name, open(path, "rb").read())
        if name.endswith(".inventory.json"):
            raw = open(path, "rb").read()
            write("inventory", name, raw)
            inv = json.loads(raw)
            base = name[: -len(".inventory.json")]
            write("powercli", base + ".csv", powercli(inv, True).encode())
            write("powercli", base + "-old.csv", powercli(inv, False).encode())


FLAGS = [
    ("ManagementTrafficEnabled", "management"),
    ("VMotionEnabled", "vmotion"),
    ("FaultToleranceLoggingEnabled", "ft"),
    ("VsanTrafficEnabled", "vsan"),
    ("VSphereProvisioningEnabled", "provisioning"),
    ("VSphereReplicationEnabled", "vsphere_replication"),
    ("VSphereReplicationNFCEnabled", "vsphere_replication_nfc"),
    ("VSphereBackupNFCEnabled", "backup_nfc"),
]


def powercli(inv, full):
    """A PowerCLI `Get-VMHostNetworkAdapter -VMKernel | Export-Csv` of an inventory; the full
    form has the #TYPE line and every service column, the old one neither."""
    flags = FLAGS if full else [f for f in FLAGS if f[1] in ("management", "vmotion", "ft", "vsan")]
    lines = []
    if full:
        lines.append(
            "#TYPE VMware.VimAutomation.ViCore.Impl.V1.Host.Networking.Nic.HostVMKernelVirtualNicImpl"
        )
    cols = ["VMHost", "Name", "IP", "SubnetMask", "Mac", "PortGroupName"] + [c for c, _ in flags]
    lines.append(",".join('"%s"' % c for c in cols))
    for h in inv["hosts"]:
        for v in h["vmknics"]:
            ip = v["ip"][0] if isinstance(v["ip"], list) else v["ip"]
            addr, _, prefix = ip.partition("/")
            if ":" in addr:
                mask = ""
            else:
                bits = (0xFFFFFFFF << (32 - int(prefix or 32))) & 0xFFFFFFFF
                mask = ".".join(str(bits >> s & 0xFF) for s in (24, 16, 8, 0))
            row = [h["name"], v["name"], addr, mask, v.get("mac") or "", "pg, \"%s\"" % v["name"]]
            row += ["True" if s in v.get("services", []) else "False" for _, s in flags]
            lines.append(",".join('"%s"' % x.replace('"', '""') for x in row))
    return "\r\n".join(lines) + "\r\n" if full else "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
