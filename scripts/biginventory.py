#!/usr/bin/env python3
"""Writes an inventory JSON file of HOSTS hosts with VMKS vmknics each, every vmknic with its own
address: the input for the inventory memory check (docs/performance.md, "Inventory files").

usage: scripts/biginventory.py OUT [HOSTS=184000] [VMKS=6] [--pretty]

The default (200 000 hosts, 6 vmknics, compact) writes 70.8 MB; `--pretty` indents as
`vmkflow synth` and `--write-inventory` do (`103000 3 --pretty` writes 70.2 MB).
"""
import json
import sys


def main():
    args = [a for a in sys.argv[1:] if a != "--pretty"]
    pretty = "--pretty" in sys.argv[1:]
    out = args[0]
    hosts = int(args[1]) if len(args) > 1 else 184_000
    vmks = int(args[2]) if len(args) > 2 else 6
    services = [["management"], ["vmotion"], ["provisioning"]]
    doc = {
        "hosts": [
            {
                "name": f"esx{i:06d}",
                "vmknics": [
                    {
                        "name": f"vmk{k}",
                        "ip": f"{10 + k}.{i >> 16}.{(i >> 8) & 255}.{i & 255}/16",
                        "services": services[k] if k < len(services) else [],
                    }
                    for k in range(vmks)
                ],
            }
            for i in range(hosts)
        ]
    }
    with open(out, "w") as f:
        if pretty:
            json.dump(doc, f, indent=2)
        else:
            json.dump(doc, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
