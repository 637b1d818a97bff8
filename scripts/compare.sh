#!/usr/bin/env bash
# Peer comparison: vmkflow against cat (the I/O limit), tcpdump, capinfos and tshark on the same
# generated captures, page cache warm, one run after another (never two at once).
#
# usage: scripts/compare.sh [--size BYTES] [--big BYTES] [--out DIR] [--runs N] [--quick]
#   --size  full-size-frame capture size (default 2000000000); the header-only (snaplen 96)
#           capture is half of it, which gives about ten million packets at the default
#   --big   a second full-size capture for the peak-memory check (default 10000000000;
#           skipped when the output directory's file system lacks room)
#   --out   where captures and results go (default /tmp/vmkflow-compare)
#   --runs  timed runs per tool (default 5)
#   --flows also measure peak memory on a capture of N concurrent TCP flows written by
#           scripts/manyflows.py (10 segments each; default 0: skipped; 100000 writes ~1 GB)
#   --quick 200 MB / 1 GB captures, 3 runs: a smoke test of the script, not a measurement
#
# Uses hyperfine when installed (apt-get install -y hyperfine), else a loop over `date +%s.%N`.
# Times reported are medians. tshark is slow: it runs once on a prefix of each capture made with
# `editcap -r FILE PREFIX 1-N` (the first N packets), and its throughput is that of the prefix (it is not extrapolated).
set -euo pipefail

SIZE=2000000000
BIG=10000000000
OUT=/tmp/vmkflow-compare
RUNS=5
FLOWS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size) SIZE="$2"; shift 2 ;;
        --big) BIG="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --flows) FLOWS="$2"; shift 2 ;;
        --quick) SIZE=200000000; BIG=1000000000; RUNS=3; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
VMK="$ROOT/target/release/vmkflow"
TIME_BIN=/usr/bin/time
for t in tcpdump capinfos tshark editcap; do
    command -v "$t" >/dev/null || { echo "missing $t (apt-get install -y tshark tcpdump)" >&2; exit 1; }
done
[ -x "$TIME_BIN" ] || { echo "missing /usr/bin/time (apt-get install -y time)" >&2; exit 1; }

echo "== build"
(cd "$ROOT" && cargo build --release --quiet)

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
echo "disk ($OUT): $(df -h "$OUT" | awk 'NR==2 {print $1 ", " $2 " total, " $4 " free"}')"
echo "vmkflow: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"

FULL="$OUT/full.pcap"
HDR="$OUT/header-only.pcap"
gen() { # gen FILE SIZE [extra args]
    local f="$1" s="$2"; shift 2
    if [ ! -f "$f" ] || [ "$(cat "$f.size" 2>/dev/null)" != "$s $*" ]; then
        echo "generating $f ($s bytes $*)"
        "$VMK" synth --scenario all --size "$s" --out "$f" -q "$@"
        echo "$s $*" > "$f.size"
    fi
}
gen "$FULL" "$SIZE"
gen "$HDR" $((SIZE / 2)) --snaplen 96

bytes() { stat -c %s "$1"; }
packets() { capinfos -M -c "$1" | awk -F'\t|: *' '/Number of packets/ {print $NF}' | tr -dc 0-9; }

# median seconds of RUNS runs of a shell command
median_time() {
    local cmd="$1" runs="$2"
    if command -v hyperfine >/dev/null; then
        hyperfine --style none --warmup 1 --runs "$runs" --export-json "$OUT/hf.json" "$cmd" >/dev/null 2>&1
        python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["median"])' "$OUT/hf.json"
    else
        local i t0 t1
        bash -c "$cmd" >/dev/null 2>&1
        for i in $(seq "$runs"); do
            t0=$(date +%s.%N); bash -c "$cmd" >/dev/null 2>&1; t1=$(date +%s.%N)
            awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'
        done | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
    fi
}

row() { # row TOOL FILE_BYTES PACKETS SECONDS VMK_SECONDS(or empty) NOTE
    awk -v tool="$1" -v b="$2" -v p="$3" -v s="$4" -v v="$5" -v note="$6" 'BEGIN {
        mbs = b / s / 1e6; mpps = p / s / 1e6
        ratio = (v == "") ? "-" : sprintf("%.1f", s / v * 1.0)
        printf "| %-28s | %8.3f | %9.0f | %8.2f | %6s | %s\n", tool, s, mbs, mpps, ratio, note
    }'
}

compare() { # compare LABEL FILE
    local label="$1" f="$2"
    local b p
    b=$(bytes "$f"); p=$(packets "$f")
    echo
    echo "== $label: $f, $b bytes, $p packets, $RUNS runs each, median"
    cat "$f" > /dev/null; cat "$f" > /dev/null
    local tv tc tt tci tsh tv1 tv2
    # --threads: 1, 2, and every core (the default, the row the ratios are against)
    tv1=$(median_time "'$VMK' analyze '$f' -q --json /dev/null --threads 1" "$RUNS")
    tv2=$(median_time "'$VMK' analyze '$f' -q --json /dev/null --threads 2" "$RUNS")
    tv=$(median_time "'$VMK' analyze '$f' -q --json /dev/null --threads $(nproc)" "$RUNS")
    tc=$(median_time "cat '$f' > /dev/null" "$RUNS")
    tt=$(median_time "tcpdump -r '$f' -w /dev/null" "$RUNS")
    tci=$(median_time "capinfos '$f'" "$RUNS")
    # tshark: once, on a prefix of about 1/20 of the packets
    local n=$(( p / 20 > 1000 ? p / 20 : p ))
    local pre="$f.prefix.pcap"
    editcap -r "$f" "$pre" "1-$n" >/dev/null 2>&1
    local pb pp
    pb=$(bytes "$pre"); pp=$(packets "$pre")
    cat "$pre" > /dev/null
    tsh=$(median_time "tshark -r '$pre' -q -z conv,tcp" 1)
    echo "| tool                         | time (s) |  MB/s     | Mpkt/s   | vmkflow faster by | note"
    echo "|------------------------------|----------|-----------|----------|--------|-----"
    row "vmkflow --threads 1" "$b" "$p" "$tv1" "$tv" ""
    row "vmkflow --threads 2" "$b" "$p" "$tv2" "$tv" ""
    row "vmkflow --threads $(nproc) (all)" "$b" "$p" "$tv" "" ""
    row "cat > /dev/null (I/O limit)" "$b" "$p" "$tc" "$tv" ""
    row "tcpdump -r -w /dev/null" "$b" "$p" "$tt" "$tv" ""
    row "capinfos" "$b" "$p" "$tci" "$tv" ""
    # tshark's ratio is per byte: its prefix time scaled to the whole file over vmkflow's time
    local tsh_scaled
    tsh_scaled=$(awk -v t="$tsh" -v pb="$pb" -v b="$b" 'BEGIN {print t * b / pb}')
    row "tshark -q -z conv,tcp" "$pb" "$pp" "$tsh" "" "1 run on a prefix: $pp packets, $pb bytes"
    awk -v ts="$tsh_scaled" -v v="$tv" 'BEGIN {printf "  tshark vs vmkflow, throughput ratio (bytes/s): %.0fx\n", ts / v}'
    rm -f "$pre"
}

compare "full-size frames (1500 MTU)" "$FULL"
compare "header-only frames (snaplen 96)" "$HDR"

echo
echo "== peak memory (max RSS, /usr/bin/time -v) of vmkflow analyze"
mem() {
    local f="$1"
    cat "$f" > /dev/null
    "$TIME_BIN" -v "$VMK" analyze "$f" -q --json "$OUT/report.json" 2> "$OUT/time.txt"
    local kb
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$OUT/time.txt")
    printf "| %s | %s bytes | %s packets | max RSS %.1f MiB |\n" "$(basename "$f")" "$(bytes "$f")" "$(packets "$f")" "$(awk -v k="$kb" 'BEGIN {print k / 1024}')"
}
mem "$FULL"
mem "$HDR"
BIGF="$OUT/big.pcap"
free_kb=$(df -Pk "$OUT" | awk 'NR==2 {print $4}')
if [ -f "$BIGF" ] || [ $((free_kb * 1024)) -gt $((BIG + 2000000000)) ]; then
    gen "$BIGF" "$BIG"
    mem "$BIGF"
else
    echo "skipping the $BIG-byte capture: not enough room in $OUT"
fi
if [ "$FLOWS" -gt 0 ]; then
    FLOWF="$OUT/flows-$FLOWS.pcap"
    [ -f "$FLOWF" ] || python3 "$ROOT/scripts/manyflows.py" "$FLOWF" "$FLOWS" 10 1000
    t0=$(date +%s.%N)
    mem "$FLOWF"
    t1=$(date +%s.%N)
    echo "  ($FLOWS flows: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s)"
fi
