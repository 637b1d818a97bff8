#!/usr/bin/env bash
# Makes captures/namespace-tcp.pcap: real TCP and UDP between two network namespaces joined by a
# veth pair (192.0.2.1 and fd00::1 in A, 192.0.2.2 and fd00::2 in B), captured on A's veth with
# tcpdump, headers only (-s 96), so the file stays small.
#
# Traffic (captures/namespace-traffic.py): 3 UDP datagrams of 100, 101, 102 bytes to 192.0.2.2,
# then TCP connections sending 200000 bytes (IPv4), 50000 bytes (IPv6) and 17 bytes (IPv4), each
# answered with a quarter of what was received (50000, 12500, 4 bytes); last, a 22-byte UDP end
# marker. TCP payload in both directions: 312521 bytes; UDP payload: 303 + 22 bytes.
#
# Needs root, iproute2, tcpdump and python3. Usage: sudo captures/make-namespace-capture.sh [OUT]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/namespace-tcp.pcap}
a=vmkA$$
b=vmkB$$
port=5001
tcpdump_pid=
server_pid=

cleanup() {
    [[ -n $tcpdump_pid ]] && kill "$tcpdump_pid" 2>/dev/null || true
    [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    rm -rf "$work"
}
work=$(mktemp -d)
trap cleanup EXIT

ip netns add "$a"
ip netns add "$b"
ip -n "$a" link add vethA type veth peer name vethB netns "$b"
ip -n "$a" addr add 192.0.2.1/24 dev vethA
ip -n "$a" addr add fd00::1/64 dev vethA nodad
ip -n "$b" addr add 192.0.2.2/24 dev vethB
ip -n "$b" addr add fd00::2/64 dev vethB nodad
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set vethA up
ip -n "$b" link set vethB up

# Capture into the work directory, then move: tcpdump runs as root (-Z root) and writes there.
ip netns exec "$a" tcpdump -i vethA -n -U --immediate-mode -Z root -s 96 -w "$work/capture.pcap" \
    2>"$work/tcpdump.err" &
tcpdump_pid=$!
until grep -q "listening on" "$work/tcpdump.err"; do
    kill -0 "$tcpdump_pid" || { cat "$work/tcpdump.err" >&2; exit 1; }
    sleep 0.1
done

mkfifo "$work/server.out"
ip netns exec "$b" python3 "$here/namespace-traffic.py" server "$port" 3 >"$work/server.out" &
server_pid=$!
exec 3<"$work/server.out"
read -r ready <&3
[[ $ready == ready ]] || { echo "server did not start: $ready" >&2; exit 1; }

client=$(ip netns exec "$a" python3 "$here/namespace-traffic.py" client "$port" 192.0.2.2 3 \
    192.0.2.2=200000 fd00::2=50000 192.0.2.2=17)
server=$(cat <&3)
wait "$server_pid"
server_pid=
echo "client: $client"
echo "server: $server"

# The end marker datagram is the last packet: once it is in the file, everything is.
until grep -aq vmkflow-end-of-traffic "$work/capture.pcap"; do sleep 0.1; done
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
cat "$work/tcpdump.err" >&2
grep -q "^0 packets dropped by kernel" "$work/tcpdump.err" || { echo "kernel dropped packets" >&2; exit 1; }

mv "$work/capture.pcap" "$out"
chmod 644 "$out"
ls -l "$out"
