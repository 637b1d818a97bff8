#!/usr/bin/env bash
# The run shown in docs/fleet.md: a tree of captures from three clusters, `vmkflow analyze
# --parquet` over it one process per capture, and DuckDB's answers (python3 with duckdb).
#
#   scripts/fleet-demo.sh [OUT]      (default /tmp/vmkflow-fleet; VMKFLOW=path/to/vmkflow)
#
# The captures are the bundled ones and `vmkflow synth` outputs, each host pair renamed in its
# sidecar inventory and labels (esx01 -> <prefix>-esx01) so that every capture is of other hosts.
# Synthetic captures show that the tool and the queries work, not what vSphere does.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
vmkflow=$(realpath "${VMKFLOW:-${CARGO_TARGET_DIR:-target}/release/vmkflow}")
out=${1:-/tmp/vmkflow-fleet}
rm -rf "$out"
mkdir -p "$out"/captures/{prod,dev,lab}

# add CLUSTER PREFIX CAPTURE: copies CAPTURE into the cluster's folder as PREFIX-NAME, with its
# sidecars' hosts renamed, and maps the hosts to the cluster in clusters.csv.
echo "host,cluster" >"$out/clusters.csv"
add() {
    local cluster=$1 prefix=$2 src=$3
    local dst="$out/captures/$cluster/$prefix-$(basename "$src")"
    cp "$src" "$dst"
    for s in inventory migrations; do
        sed "s/\"esx0\([12]\)\"/\"$prefix-esx0\1\"/g" "$src.$s.json" >"$dst.$s.json"
    done
    printf '%s-esx01,%s\n%s-esx02,%s\n' "$prefix" "$cluster" "$prefix" "$cluster" >>"$out/clusters.csv"
}
synth() { # synth NAME ARGS…: a synthetic capture in a scratch folder
    local name=$1
    shift
    mkdir -p "$out/synth"
    "$vmkflow" synth -q --out "$out/synth/$name" "$@"
}
synth six-article.pcap --scenario all --model article --no-provisioning --memory-mb 8 --disk-mb 16
synth six-vmware.pcap --scenario all --memory-mb 8 --disk-mb 16 --seed 2
synth cold-noprov.pcap --scenario xvmotion:cold --no-provisioning --disk-mb 32 --seed 3

add prod p1 captures/all-vmware.pcapng
add prod p2 captures/vmotion-hot-erspan3.pcap
add prod p3 "$out/synth/six-vmware.pcap"
add dev d1 captures/all-article.pcap
add dev d2 "$out/synth/six-article.pcap"
add lab l1 captures/xvmotion-hot-ipv6-vlan.pcap
add lab l2 "$out/synth/cold-noprov.pcap"
rm -rf "$out/synth"

# One vmkflow per capture, four at a time; each writes its own partition of every table.
cd "$out"
start=$(date +%s.%N)
find captures -name '*.pcap' -o -name '*.pcapng' | sort |
    xargs -P 4 -I{} "$vmkflow" analyze {} --parquet fleet -q
end=$(date +%s.%N)
echo "analysed $(find captures -name '*.pcap*' ! -name '*.json' | wc -l) captures in" \
    "$(echo "$end - $start" | bc) s"
find fleet -name '*.parquet' | sort | head -n 7
echo "... $(find fleet -name '*.parquet' | wc -l) files, $(du -sh fleet | cut -f1)"
