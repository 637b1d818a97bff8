#!/usr/bin/env bash
# Multi-core scaling of `vmkflow analyze --threads N` on one capture, against `cat` of the same
# file (the I/O limit) and tcpdump when installed, page cache warm, one run after another.
#
# usage: scripts/scaling.sh [--size BYTES] [--runs N] [--out DIR] [--threads "1 2 4 ..."]
#   --size     full-size-frame capture size (default 2000000000); the header-only (snaplen 96)
#              capture is half of it (about 20 million packets at the default)
#   --runs     timed runs per row (default 5; the median is printed, and the best)
#   --out      where the captures go (default /tmp/vmkflow-scaling)
#   --threads  thread counts (default: 1 2 and powers of two up to nproc, and nproc)
#   --buffers  --read-buffer sizes tried at every core (default "131072 262144 1048576 4194304")
#
# Also: the same thread counts pinned to two cores (taskset -c 0,1), the machine this project
# is developed on; and a check that every thread count wrote the same report bytes.
set -euo pipefail

SIZE=2000000000
RUNS=5
OUT=/tmp/vmkflow-scaling
THREADS=""
BUFFERS="131072 262144 1048576 4194304"
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --threads) THREADS="$2"; shift 2 ;;
        --buffers) BUFFERS="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VMK=${VMK:-$ROOT/target/release/vmkflow}
[ -x "$VMK" ] || { echo "build first: cargo build --release" >&2; exit 1; }
N=$(nproc)
if [ -z "$THREADS" ]; then
    THREADS="1 2"
    t=4
    while [ "$t" -lt "$N" ]; do THREADS="$THREADS $t"; t=$((t * 2)); done
    [ "$N" -gt 2 ] && THREADS="$THREADS $N"
fi
mkdir -p "$OUT"

echo "== machine"
echo "nproc: $N"
echo "cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
echo "vmkflow: $("$VMK" --version 2>/dev/null || echo '?')"

FULL="$OUT/full.pcap"
HDR="$OUT/header-only.pcap"
[ -f "$FULL" ] || "$VMK" synth --scenario all --size "$SIZE" --out "$FULL" -q
[ -f "$HDR" ] || "$VMK" synth --scenario all --size $((SIZE / 2)) --snaplen 96 --out "$HDR" -q

# seconds of one run of a command
once() {
    local t0 t1
    t0=$(date +%s.%N); bash -c "$1" >/dev/null 2>&1; t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
}
# "median best" of RUNS runs, after one warm-up
timed() {
    bash -c "$1" >/dev/null 2>&1 || true
    local i
    for i in $(seq "$RUNS"); do once "$1"; done | sort -n |
        awk '{a[NR]=$1} END {m = (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2); print m, a[1]}'
}
packets() {
    "$VMK" analyze "$1" -q --json - | python3 -c 'import json,sys; print(json.load(sys.stdin)["capture"]["packets"])'
}

table() { # table FILE
    local f="$1" b p c
    b=$(stat -c %s "$f"); p=$(packets "$f")
    cat "$f" > /dev/null; cat "$f" > /dev/null
    read -r c cbest < <(timed "cat '$f'")
    echo
    echo "== $f: $b bytes, $p packets; $RUNS runs, median (best)"
    echo "| run | median s | best s | GB/s | Mpps | of cat's speed |"
    echo "|---|---|---|---|---|---|"
    row() { # row LABEL MEDIAN BEST
        awk -v l="$1" -v m="$2" -v best="$3" -v b="$b" -v p="$p" -v c="$c" 'BEGIN {
            printf "| %s | %.3f | %.3f | %.2f | %.1f | %.2f |\n", l, m, best, b / m / 1e9, p / m / 1e6, c / m }'
    }
    row "cat > /dev/null" "$c" "$cbest"
    if command -v tcpdump >/dev/null; then
        read -r m best < <(timed "tcpdump -r '$f' -w /dev/null")
        row "tcpdump -r -w /dev/null" "$m" "$best"
    fi
    local t m best
    for t in $THREADS; do
        read -r m best < <(timed "'$VMK' analyze '$f' -q --json '$OUT/r-$t.json' --threads $t")
        row "vmkflow --threads $t" "$m" "$best"
    done
    for buf in $BUFFERS; do
        read -r m best < <(timed "'$VMK' analyze '$f' -q --json /dev/null --threads $N --read-buffer $buf")
        row "vmkflow --threads $N --read-buffer $buf" "$m" "$best"
    done
    if command -v taskset >/dev/null && [ "$N" -gt 2 ]; then
        for t in 1 2 3; do
            read -r m best < <(timed "taskset -c 0,1 '$VMK' analyze '$f' -q --json /dev/null --threads $t")
            row "taskset -c 0,1 vmkflow --threads $t" "$m" "$best"
        done
    fi
    for t in $THREADS; do
        cmp -s "$OUT/r-1.json" "$OUT/r-$t.json" || { echo "REPORT DIFFERS: --threads $t"; exit 1; }
    done
    echo "reports of --threads $THREADS: identical bytes"
}
table "$FULL"
table "$HDR"
