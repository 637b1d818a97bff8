#!/usr/bin/env python3
"""Known-size TCP and UDP traffic between two network namespaces, for vmkflow's tests.

  server PORT CONNECTIONS
      Listens on PORT (TCP, IPv4 and IPv6) and binds UDP PORT; prints "ready", then, for each of
      CONNECTIONS connections in turn, reads until end of stream and answers with a quarter of
      the bytes received; then reads UDP datagrams until the end marker. Prints one JSON line:
      {"received": [...], "replied": [...], "udp_received": [...]}.

  client PORT UDP_HOST UDP_COUNT HOST=SIZE...
      Sends UDP_COUNT datagrams (100, 101, ... bytes) to UDP_HOST, then one TCP connection per
      HOST=SIZE that sends SIZE bytes, half-closes and reads the answer to the end; last, the
      end marker datagram to UDP_HOST. Prints one JSON line: {"sent": [...], "received": [...],
      "udp_sent": [...]} (udp_sent includes the marker).

The end marker is the last packet of the exchange: once a capture file holds its bytes, tcpdump
has written everything before it.
"""
import json
import socket
import sys

MARKER = b"vmkflow-end-of-traffic"


def server(port, connections):
    tcp = socket.create_server(("", port), family=socket.AF_INET6, dualstack_ipv6=True)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    print("ready", flush=True)
    received, replied = [], []
    for _ in range(connections):
        conn, _ = tcp.accept()
        n = 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            n += len(chunk)
        answer = n // 4
        conn.sendall(b"r" * answer)
        conn.close()
        received.append(n)
        replied.append(answer)
    udp.settimeout(30)
    udp_received = []
    while True:
        datagram = udp.recv(65536)
        udp_received.append(len(datagram))
        if datagram == MARKER:
            break
    print(json.dumps({"received": received, "replied": replied, "udp_received": udp_received}),
          flush=True)


def client(port, udp_host, udp_count, targets):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp_sent = []
    for i in range(udp_count):
        udp_sent.append(udp.sendto(b"u" * (100 + i), (udp_host, port)))
    sent, received = [], []
    for target in targets:
        host, size = target.rsplit("=", 1)
        size = int(size)
        with socket.create_connection((host, port)) as s:
            s.sendall(b"s" * size)
            s.shutdown(socket.SHUT_WR)
            n = 0
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                n += len(chunk)
        sent.append(size)
        received.append(n)
    udp_sent.append(udp.sendto(MARKER, (udp_host, port)))
    print(json.dumps({"sent": sent, "received": received, "udp_sent": udp_sent}), flush=True)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "server":
        server(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) >= 5 and sys.argv[1] == "client":
        client(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
