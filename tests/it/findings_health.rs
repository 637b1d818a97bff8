//! Findings `segment-size` and `stream-health` (issue 14, questions 4 and 5): on synthetic
//! captures that have the condition (`synth --mtu`, `--zero-window-stalls`) and on ones that do
//! not, and on real TCP traffic between two network namespaces, where the round-trip samples
//! and zero-window counts are checked against tshark's `tcp.analysis.ack_rtt` and
//! `tcp.analysis.zero_window`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::netns::{Tcpdump, analyze_labelled, namespaces_or_skip};
use crate::util::{
    End, PcapWriter, TempDir, analyze_with, bundled, find_tool, finding as one, synth_capture,
};

fn pair(f: &Value) -> &Value {
    let pairs = f["evidence"]["by_pair"].as_object().expect("by_pair");
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    pairs.values().next().expect("pair")
}

#[test]
fn segment_size_warns_on_a_jumbo_mismatch_and_not_on_matching_mtus() {
    let dir = TempDir::new("health-mtu");
    let bad = dir.path().join("mismatch.pcap");
    let truth = synth_capture(&bad, &["--scenario", "vmotion:hot", "--mtu", "9000:1500"]);
    assert_eq!(truth["health"]["mtu"]["esx01"], 9000);
    assert_eq!(truth["health"]["mtu"]["esx02"], 1500);
    let r = analyze_with(&bad, &[]);
    let f = one(&r, "segment-size", "m1");
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(
        f["message"]
            .as_str()
            .expect("msg")
            .contains("jumbo-frame mismatch")
    );
    assert!(f["reference"].as_str().expect("ref").contains("KB 417889"));
    let p = pair(f);
    assert_eq!(p["client_mss"]["values"], serde_json::json!([8960]));
    assert_eq!(p["server_mss"]["values"], serde_json::json!([1460]));
    assert_eq!(
        (p["client_mtu"].as_u64(), p["server_mtu"].as_u64()),
        (Some(9000), Some(1500))
    );
    // Segments are the smaller MSS.
    assert_eq!(p["client_largest_segment"], 1460);

    // Jumbo frames on both ends: no warning, segments of 8960 bytes.
    let good = dir.path().join("jumbo.pcap");
    synth_capture(&good, &["--scenario", "vmotion:hot", "--mtu", "9000:9000"]);
    let r = analyze_with(&good, &[]);
    let f = one(&r, "segment-size", "m1");
    assert_eq!(f["severity"], "info", "{f}");
    let p = pair(f);
    assert_eq!(p["client_mss"]["values"], serde_json::json!([8960]));
    assert_eq!(p["server_mss"]["values"], serde_json::json!([8960]));
    assert_eq!(p["client_largest_segment"], 8960);

    // An inventory MTU the MSS disagrees with: the jumbo capture read with a 1500 inventory.
    let inv_path = good.with_extension("pcap.inventory.json");
    let text = std::fs::read_to_string(&inv_path).expect("inventory");
    let lowered = dir.path().join("mtu1500.inventory.json");
    std::fs::write(&lowered, text.replace("\"mtu\": 9000", "\"mtu\": 1500")).expect("write");
    let r = analyze_with(&good, &["--inventory", lowered.to_str().expect("path")]);
    let f = one(&r, "segment-size", "m1");
    assert_eq!(f["severity"], "warning", "{f}");
    assert!(
        f["message"].as_str().expect("msg").contains("MTU 1500"),
        "{f}"
    );
}

#[test]
fn stream_health_warns_on_zero_window_stalls_in_the_transfer_phase() {
    let dir = TempDir::new("health-zw");
    let stalled = dir.path().join("stalled.pcap");
    let truth = synth_capture(
        &stalled,
        &[
            "--scenario",
            "vmotion:hot",
            "--zero-window-stalls",
            "2:1500",
        ],
    );
    let written = truth["health"]["zero_window_stalls"]
        .as_array()
        .expect("truth");
    assert_eq!(written.len(), 2);
    let closed: f64 = written
        .iter()
        .map(|w| w["duration_s"].as_f64().expect("d"))
        .sum();
    let r = analyze_with(&stalled, &[]);
    let f = one(&r, "stream-health", "m1");
    assert_eq!(f["severity"], "warning", "{f}");
    let e = &f["evidence"];
    assert_eq!(e["zero_windows"], 2);
    assert_eq!(e["stalls"], 2);
    assert_eq!(e["stalls_in_transfer_phase"], 2);
    assert!(
        (e["zero_window_s"].as_f64().expect("zw") - closed).abs() < 1e-5,
        "{e}"
    );
    assert!(
        (e["stall_s"].as_f64().expect("stall") - closed).abs() < 1e-5,
        "{e}"
    );
    assert_eq!(e["resets"], 0);
    assert!(e["ack_rtt"]["samples"].as_u64().expect("samples") > 0);
    // The stalled stream is the first; its zero windows came from the server (the receiver).
    let s = &e["by_stream"][0];
    assert_eq!(s["zero_windows"]["advertised_by_server"], 2, "{s}");
    assert_eq!(s["stalls"]["client_to_server"]["stalls"], 2, "{s}");

    // A stall threshold above the stalls' length: none counted, no warning.
    let cfg = dir.path().join("findings.json");
    std::fs::write(&cfg, r#"{"thresholds": {"stall_min_s": 2.0}}"#).expect("cfg");
    let r = analyze_with(
        &stalled,
        &["--findings-config", cfg.to_str().expect("path")],
    );
    let f = one(&r, "stream-health", "m1");
    assert_eq!(f["severity"], "info", "{f}");
    assert_eq!(f["evidence"]["stalls"], 0);
    assert_eq!(f["evidence"]["zero_windows"], 2);

    // The same migration without stalls.
    let healthy = dir.path().join("healthy.pcap");
    let truth = synth_capture(&healthy, &["--scenario", "vmotion:hot"]);
    assert!(truth.get("health").is_none(), "{truth}");
    let r = analyze_with(&healthy, &[]);
    let f = one(&r, "stream-health", "m1");
    assert_eq!(f["severity"], "info", "{f}");
    assert_eq!(f["evidence"]["zero_windows"], 0);
    assert_eq!(f["evidence"]["stalls"], 0);
}

#[test]
fn header_only_captures_keep_what_the_headers_show_and_say_unknown_for_the_rest() {
    let dir = TempDir::new("health-snap");
    // 54 bytes: Ethernet, IPv4 and the fixed TCP header; the SYN's options are cut.
    let cut = dir.path().join("cut.pcap");
    synth_capture(
        &cut,
        &[
            "--scenario",
            "vmotion:hot",
            "--snaplen",
            "54",
            "--mtu",
            "9000:1500",
            "--zero-window-stalls",
            "1:1200",
        ],
    );
    let r = analyze_with(&cut, &[]);
    let f = one(&r, "segment-size", "m1");
    assert_eq!(f["severity"], "info", "{f}");
    let p = pair(f);
    assert!(
        p["client_mss"].is_null() && p["server_mss"].is_null(),
        "{p}"
    );
    assert!(
        f["message"]
            .as_str()
            .expect("msg")
            .contains("MSS unknown / unknown")
    );
    // Segment sizes come from the IP length.
    assert_eq!(p["client_largest_segment"], 1460);
    let h = one(&r, "stream-health", "m1");
    assert_eq!(h["evidence"]["zero_windows"], 1);
    assert_eq!(h["evidence"]["stalls"], 1);
}

#[test]
fn bundled_captures_get_health_findings_and_no_warning() {
    for capture in [
        "all-vmware.pcapng",
        "all-article.pcap",
        "vmotion-hot-erspan3.pcap",
        "xvmotion-hot-ipv6-vlan.pcap",
    ] {
        let r = analyze_with(&bundled(capture), &[]);
        let mut seen = 0;
        for f in r["findings"].as_array().expect("findings") {
            if f["id"] == "segment-size" || f["id"] == "stream-health" {
                seen += 1;
                assert_eq!(f["severity"], "info", "{capture}: {f}");
            }
        }
        assert!(seen >= 2, "{capture}");
    }
}

/// Round-trip samples and zero windows as tshark reads them: per sender of the ACK or of the
/// window, `(samples, min, max)` and the zero-window count.
#[derive(Debug, Default)]
struct TsharkHealth {
    rtt: [(u64, f64, f64); 2],
    rtt_sum: [f64; 2],
    zero_windows: [u64; 2],
}

/// tshark's `tcp.analysis.ack_rtt` and `tcp.analysis.zero_window` of the TCP port 8000 stream:
/// index 0 for segments the client sent, 1 for the server's.
fn tshark_health(tshark: &Path, capture: &Path) -> TsharkHealth {
    let out = Command::new(tshark)
        .arg("-r")
        .arg(capture)
        .args(["-n", "-Y", "tcp.port == 8000", "-T", "fields"])
        .args(["-E", "separator=/t", "-e", "tcp.srcport"])
        .args([
            "-e",
            "tcp.analysis.ack_rtt",
            "-e",
            "tcp.analysis.zero_window",
        ])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut t = TsharkHealth::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let side = usize::from(f.first().copied() == Some("8000"));
        if let Some(rtt) = f.get(1).filter(|v| !v.is_empty()) {
            let v: f64 = rtt.parse().expect("ack_rtt");
            t.rtt_sum[side] += v;
            let r = &mut t.rtt[side];
            *r = if r.0 == 0 {
                (1, v, v)
            } else {
                (r.0 + 1, r.1.min(v), r.2.max(v))
            };
        }
        if f.get(2).is_some_and(|v| !v.is_empty()) {
            t.zero_windows[side] += 1;
        }
    }
    t
}

/// A receiver that reads 64 KiB, stops reading for a while (its window closes), then reads the
/// rest; and a sender of `SIZE` bytes. Both with small socket buffers so the window fills.
const SCRIPT: &str = r#"
import socket, sys, time
role, host, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
if role == "server":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    s.bind((host, 8000)); s.listen(1)
    print("ready", flush=True)
    c, _ = s.accept()
    got = 0
    while got < 65536:
        b = c.recv(65536 - got)
        if not b: break
        got += len(b)
    time.sleep(1.5)
    while True:
        b = c.recv(65536)
        if not b: break
        got += len(b)
    c.close()
    print(got, flush=True)
else:
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    c.connect((host, 8000))
    c.sendall(b"v" * size)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    c.close()
"#;

#[test]
fn ack_rtt_and_zero_windows_agree_with_tshark_on_namespace_traffic() {
    let Some(ns) = namespaces_or_skip() else {
        return;
    };
    let Some(tshark) = find_tool("tshark") else {
        return;
    };
    let dir = TempDir::new("health-netns");
    let script = dir.write("health.py", SCRIPT.as_bytes());
    // 5 ms each way when tc and netem are there (round-trip times well above the clock's grain);
    // without netem the test still compares, at veth speed.
    if find_tool("tc").is_some() {
        for (n, dev) in [(&ns.a, "vethA"), (&ns.b, "vethB")] {
            let _ = Command::new("ip")
                .args(["netns", "exec", n, "tc", "qdisc", "add", "dev", dev])
                .args(["root", "netem", "delay", "5ms"])
                .stderr(Stdio::null())
                .status();
        }
    }
    let cap = dir.path().join("health.pcap");
    let dump = Tcpdump::start(&ns.a, "vethA", None, cap.clone());
    let size = 1_048_576u64;
    let mut server = Command::new("ip")
        .args(["netns", "exec", &ns.b, "python3"])
        .arg(&script)
        .args(["server", "192.0.2.2", &size.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server");
    let mut out = BufReader::new(server.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("ready");
    assert_eq!(line.trim(), "ready");
    let start = crate::netns::epoch_now();
    let client = Command::new("ip")
        .args(["netns", "exec", &ns.a, "python3"])
        .arg(&script)
        .args(["client", "192.0.2.2", &size.to_string()])
        .status()
        .expect("client");
    assert!(client.success());
    line.clear();
    out.read_line(&mut line).expect("got");
    assert_eq!(line.trim(), size.to_string(), "server read");
    assert!(server.wait().expect("server").success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let end = crate::netns::epoch_now();
    dump.stop();

    let t = tshark_health(&tshark, &cap);
    let r = analyze_labelled(&cap, (start - 1.0, end + 1.0), &[]).json();
    let f = one(&r, "stream-health", "run");
    let s = &f["evidence"]["by_stream"][0];
    // The server acknowledges the client's data: tshark's samples on the server's segments are
    // vmkflow's client_to_server ones.
    for (side, key) in [(1, "client_to_server"), (0, "server_to_client")] {
        let (n, min, max) = t.rtt[side];
        let ours = &s["ack_rtt"][key];
        assert_eq!(
            ours["samples"].as_u64().unwrap_or(0),
            n,
            "{key}: {s} vs {t:?}"
        );
        if n > 0 {
            let (omin, omax) = (
                ours["min_s"].as_f64().expect("min"),
                ours["max_s"].as_f64().expect("max"),
            );
            assert!(
                (omin - min).abs() < 2e-6 && (omax - max).abs() < 2e-6,
                "{key}: {s} vs {t:?}"
            );
            let mean = t.rtt_sum[side] / n as f64;
            let omean = ours["mean_s"].as_f64().expect("mean");
            assert!((omean - mean).abs() < 2e-6, "{key}: mean {omean} vs {mean}");
        }
    }
    assert!(t.rtt[1].0 > 10, "{t:?}");
    assert_eq!(
        s["zero_windows"]["advertised_by_client"], t.zero_windows[0],
        "{s} vs {t:?}"
    );
    assert_eq!(
        s["zero_windows"]["advertised_by_server"], t.zero_windows[1],
        "{s} vs {t:?}"
    );
    // The receiver stopped reading with its buffer full: its window closed.
    assert!(t.zero_windows[1] > 0, "{t:?}");
    eprintln!(
        "tshark ack_rtt client data: {:?}, server data: {:?}, zero windows {:?}; vmkflow: {}",
        t.rtt[1], t.rtt[0], t.zero_windows, s
    );
}

const MAC_C: [u8; 6] = [0, 0x50, 0x56, 0, 0, 1];
const MAC_S: [u8; 6] = [0, 0x50, 0x56, 0, 0, 2];
const CLIENT: End = (MAC_C, [10, 0, 0, 1], 50_000);
const SERVER: End = (MAC_S, [10, 0, 0, 2], 8_000);

/// An ICMP "fragmentation needed" (next-hop MTU 1500) from a router at 10.0.0.254 to the client,
/// quoting a packet from the client to the server.
fn icmp_too_big() -> Vec<u8> {
    let mut inner = vec![0x45, 0, 0x23, 0x3c, 0, 1, 0x40, 0, 64, 6, 0, 0];
    inner.extend_from_slice(&CLIENT.1);
    inner.extend_from_slice(&SERVER.1);
    inner.extend_from_slice(&[0xc3, 0x50, 0x1f, 0x40, 0, 0, 0, 0]);
    let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0xdc];
    icmp.extend_from_slice(&inner);
    let len = 20 + icmp.len();
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_C);
    f.extend_from_slice(&[0, 0x50, 0x56, 0, 0, 0xfe, 0x08, 0x00]);
    f.extend_from_slice(&[
        0x45,
        0,
        (len >> 8) as u8,
        len as u8,
        0,
        2,
        0,
        0,
        64,
        1,
        0,
        0,
    ]);
    f.extend_from_slice(&[10, 0, 0, 254]);
    f.extend_from_slice(&CLIENT.1);
    f.extend_from_slice(&icmp);
    f
}

/// A vMotion stream (handshake, 1000 bytes) that ends with a RST from the server (`reset`) or
/// with FINs, and an ICMP too-big message between its ends (`icmp`); analysed as one hot vMotion.
fn crafted(dir: &TempDir, name: &str, reset: bool, icmp: bool) -> Value {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const FIN: u8 = 0x01;
    const RST: u8 = 0x04;
    let mut w = PcapWriter::new(1_000);
    w.frame(CLIENT, SERVER, Some((SYN, 100)), &[]);
    w.frame(SERVER, CLIENT, Some((SYN | ACK, 500)), &[]);
    w.frame(CLIENT, SERVER, Some((ACK, 101)), &[]);
    w.frame(CLIENT, SERVER, Some((ACK, 101)), &[7u8; 1000]);
    if icmp {
        w.raw(&icmp_too_big());
    }
    if reset {
        w.frame(SERVER, CLIENT, Some((RST, 501)), &[]);
    } else {
        w.frame(CLIENT, SERVER, Some((FIN | ACK, 1101)), &[]);
        w.frame(SERVER, CLIENT, Some((FIN | ACK, 501)), &[]);
    }
    let path = dir.write(name, &w.out);
    let labels = dir.write(
        &format!("{name}.labels.json"),
        br#"{"migrations":[{"id":"m","kind":"vmotion","state":"hot","start":1699999999,"end":1700000001}]}"#,
    );
    analyze_with(&path, &["--migrations", labels.to_str().expect("path")])
}

#[test]
fn icmp_too_big_between_the_ends_and_resets_before_any_fin_are_warnings() {
    let dir = TempDir::new("health-crafted");
    // ICMP too-big, FIN close: segment-size warns, stream-health does not.
    let r = crafted(&dir, "icmp.pcap", false, true);
    let f = one(&r, "segment-size", "m");
    assert_eq!(f["severity"], "warning", "{f}");
    let icmp = &f["evidence"]["icmp_too_big"][0];
    assert_eq!(icmp["inner_src"], "10.0.0.1");
    assert_eq!(icmp["inner_dst"], "10.0.0.2");
    assert_eq!(icmp["messages"], 1);
    assert_eq!(icmp["mtus"], serde_json::json!([1500]));
    assert_eq!(icmp["reported_by"], serde_json::json!(["10.0.0.254"]));
    // No SYN option in these segments: unknown, not 0.
    assert!(pair(f)["client_mss"].is_null());
    let h = one(&r, "stream-health", "m");
    assert_eq!(h["severity"], "info", "{h}");
    assert_eq!(h["evidence"]["resets"], 0);

    // A RST before any FIN, no ICMP: stream-health warns, segment-size does not.
    let r = crafted(&dir, "rst.pcap", true, false);
    let h = one(&r, "stream-health", "m");
    assert_eq!(h["severity"], "warning", "{h}");
    assert_eq!(h["evidence"]["resets"], 1);
    let s = &h["evidence"]["by_stream"][0];
    assert_eq!(s["resets"]["by_server"], 1);
    assert_eq!(s["resets"]["before_any_fin"], true);
    assert_eq!(
        h["evidence"]["reset_before_any_fin"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let f = one(&r, "segment-size", "m");
    assert_eq!(f["severity"], "info", "{f}");
    assert_eq!(f["evidence"]["icmp_too_big"], serde_json::json!([]));
}

#[test]
fn a_capture_of_one_direction_says_unknown_rather_than_zero() {
    let dir = TempDir::new("health-tx");
    let set = dir.path().join("set");
    synth_capture(
        &set,
        &[
            "--scenario",
            "vmotion:hot",
            "--split",
            "vmk",
            "--direction",
            "tx",
        ],
    );
    // The source's vMotion vmk as pktcap-uw captures it by default: what it sent, no ACK of
    // the destination, no segment of the destination's.
    let r = analyze_with(&set.join("esx01-vmk1.pcap"), &[]);
    let all = r["findings"].as_array().expect("findings");
    let h = all
        .iter()
        .find(|f| f["id"] == "stream-health")
        .expect("stream-health");
    assert_eq!(h["severity"], "info", "{h}");
    let e = &h["evidence"];
    assert!(e["stalls"].is_null() && e["ack_rtt"].is_null(), "{e}");
    assert_eq!(e["stream_sides_not_captured"], 2);
    let s = &e["by_stream"][0];
    assert!(s["stalls"]["client_to_server"].is_null(), "{s}");
    assert!(s["zero_windows"]["advertised_by_server"].is_null(), "{s}");
    assert_eq!(s["zero_windows"]["advertised_by_client"], 0, "{s}");
    assert!(s["resets"]["by_server"].is_null(), "{s}");
    assert!(s["handshake"]["initial_rtt_s"].is_null(), "{s}");
    assert!(
        h["message"]
            .as_str()
            .expect("msg")
            .contains("stalls unknown")
    );
    let f = all
        .iter()
        .find(|f| f["id"] == "segment-size")
        .expect("segment-size");
    let p = pair(f);
    assert_eq!(p["client_mss"]["values"], serde_json::json!([1460]));
    assert!(p["server_mss"].is_null(), "{p}");
}
