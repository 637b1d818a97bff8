#!/bin/sh
# Regenerates the bundled sample captures and their label files (synthetic: they show that
# vmkflow works, not what vSphere does). Deterministic: the same binary and seed give the same
# bytes.
#
# Usage: captures/regenerate.sh [PATH-TO-vmkflow]
#   Without an argument it builds and runs `cargo run --release --`.
#   Run from anywhere; the files are written next to this script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ge 1 ]; then
    bin=$1
    run() { "$bin" "$@"; }
else
    run() { (cd "$here/.." && cargo run --quiet --release -- "$@"); }
fi

common="--seed 1 --memory-mb 1 --disk-mb 1"

# All six migrations, documented behaviour, pcapng with one interface per vmk, header-only.
run synth --scenario all --model vmware --format pcapng --snaplen 96 --noise 1 $common \
    --out "$here/all-vmware.pcapng"
# All six migrations, the blog's table taken literally, classic pcap, header-only. No noise:
# other VMs' storage I/O would outweigh the model's few KiB of vMotion "ownership".
run synth --scenario all --model article --format pcap --snaplen 96 $common \
    --out "$here/all-article.pcap"
# Hot xvMotion over IPv6 with 802.1Q tags (memory and disks over vMotion TCP 8000).
run synth --scenario xvmotion:hot --model vmware --ipv6 --vlan --snaplen 96 --noise 1 $common \
    --out "$here/xvmotion-hot-ipv6-vlan.pcap"
# Hot vMotion as a vDS port-mirror session delivers it: ERSPAN type III to 10.0.99.2.
# 128 bytes keep the inner TCP header behind 54 bytes of mirror headers.
run synth --scenario vmotion:hot --model vmware --encap erspan3 --snaplen 128 --noise 1 $common \
    --out "$here/vmotion-hot-erspan3.pcap"
