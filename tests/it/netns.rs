//! Real traffic: two network namespaces joined by a veth pair, tcpdump capturing known-size TCP
//! and UDP exchanges (Ethernet on the veth, Linux cooked v2 on `any`, full and header-only; and
//! the receiver's transmitted frames only, `-Q out`), and vmkflow's totals checked against tshark
//! and against what the applications sent.
//!
//! Needs root, `ip`, `tcpdump`, `tshark` and `python3`; skips, saying why, without them (under
//! `CI=true` a missing prerequisite fails the test).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use serde_json::Value;

use crate::util::{TempDir, analyze_json, bundled, find_tool, is_root, skip_or_fail};

pub const PORT: &str = "5001";
const CLIENT_V4: &str = "192.0.2.1";
const CLIENT_V6: &str = "fd00::1";

/// Totals of a capture as tshark reads it.
#[derive(Debug, Default)]
pub struct TsharkTotals {
    pub packets: u64,
    pub wire_bytes: u64,
    pub tcp_payload: u64,
    pub udp_payload: u64,
    pub ipv4: u64,
    pub ipv6: u64,
    /// TCP segments tshark flags as retransmissions.
    pub retransmissions: u64,
    /// tcp.stream → its payload per direction.
    pub streams: BTreeMap<u64, Stream>,
}

/// One TCP connection as tshark reads it.
#[derive(Debug, Default)]
pub struct Stream {
    /// Payload bytes in segments from the client, retransmissions included.
    pub client_payload: u64,
    /// Payload bytes in segments from the server, retransmissions included.
    pub server_payload: u64,
    /// Highest relative sequence number + length of a segment with payload from the client:
    /// bytes sent + 1 (the SYN).
    pub client_end: u64,
    /// The same for the server.
    pub server_end: u64,
}

fn first(field: &str) -> &str {
    field.split(',').next().unwrap_or("")
}

fn num(field: &str) -> u64 {
    let f = first(field);
    if f.is_empty() {
        0
    } else {
        f.parse()
            .unwrap_or_else(|e| panic!("tshark field {field:?}: {e}"))
    }
}

/// Reads `capture` with tshark and sums what the tests compare.
pub fn tshark_totals(tshark: &Path, capture: &Path) -> TsharkTotals {
    let out = Command::new(tshark)
        .arg("-r")
        .arg(capture)
        .args(["-n", "-T", "fields", "-E", "separator=/t"])
        .args(["-o", "tcp.relative_sequence_numbers:TRUE"])
        .args(["-e", "frame.len", "-e", "tcp.stream", "-e", "tcp.len"])
        .args(["-e", "ip.src", "-e", "ipv6.src", "-e", "udp.length"])
        .args(["-e", "tcp.seq", "-e", "tcp.analysis.retransmission"])
        .output()
        .expect("run tshark");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("tshark output is UTF-8");
    let mut t = TsharkTotals::default();
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        t.packets += 1;
        t.wire_bytes += num(get(0));
        let tcp_len = num(get(2));
        t.tcp_payload += tcp_len;
        let udp_len = num(get(5));
        t.udp_payload += udp_len.saturating_sub(8);
        let (v4, v6) = (first(get(3)), first(get(4)));
        if !v4.is_empty() {
            t.ipv4 += 1;
        }
        if !v6.is_empty() {
            t.ipv6 += 1;
        }
        if !first(get(7)).is_empty() {
            t.retransmissions += 1;
        }
        if !first(get(1)).is_empty() {
            let e = t.streams.entry(num(get(1))).or_default();
            // Only segments with payload: a FIN takes a sequence number too.
            let end = if tcp_len > 0 {
                num(get(6)) + tcp_len
            } else {
                0
            };
            if v4 == CLIENT_V4 || v6 == CLIENT_V6 {
                e.client_payload += tcp_len;
                e.client_end = e.client_end.max(end);
            } else {
                e.server_payload += tcp_len;
                e.server_end = e.server_end.max(end);
            }
        }
    }
    t
}

/// Two namespaces joined by a veth pair; deleted on drop.
pub struct Namespaces {
    pub a: String,
    pub b: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Namespaces {
    pub fn create() -> Result<Namespaces, String> {
        // Tests run in parallel in one process: each pair gets its own names.
        static PAIRS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = PAIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pid = std::process::id();
        let a = format!("vmkA{pid}-{n}");
        let b = format!("vmkB{pid}-{n}");
        ip(&["netns", "add", &a])?;
        let ns = Namespaces { a, b };
        ip(&["netns", "add", &ns.b])?;
        let (a, b) = (ns.a.as_str(), ns.b.as_str());
        ip(&[
            "-n", a, "link", "add", "vethA", "type", "veth", "peer", "name", "vethB", "netns", b,
        ])?;
        for (n, dev, v4, v6) in [
            (a, "vethA", "192.0.2.1/24", "fd00::1/64"),
            (b, "vethB", "192.0.2.2/24", "fd00::2/64"),
        ] {
            ip(&["-n", n, "addr", "add", v4, "dev", dev])?;
            ip(&["-n", n, "addr", "add", v6, "dev", dev, "nodad"])?;
            ip(&["-n", n, "link", "set", "lo", "up"])?;
            ip(&["-n", n, "link", "set", dev, "up"])?;
        }
        Ok(ns)
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.a]);
        let _ = ip(&["netns", "del", &self.b]);
    }
}

/// A tcpdump running in a namespace, started and listening.
pub struct Tcpdump {
    child: Child,
    stderr: Option<JoinHandle<String>>,
}

impl Tcpdump {
    pub fn start(ns: &str, iface: &str, snaplen: Option<u32>, file: PathBuf) -> Tcpdump {
        Tcpdump::start_with(ns, iface, snaplen, &[], file)
    }

    /// [`Tcpdump::start`] with further tcpdump options (`-Q out`).
    pub fn start_with(
        ns: &str,
        iface: &str,
        snaplen: Option<u32>,
        extra: &[&str],
        file: PathBuf,
    ) -> Tcpdump {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", ns, "tcpdump", "-i", iface, "-n", "-U"])
            .args(["--immediate-mode", "-B", "16384", "-Z", "root"])
            .args(extra)
            .arg("-w")
            .arg(&file);
        if let Some(s) = snaplen {
            cmd.args(["-s", &s.to_string()]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tcpdump");
        let mut err = BufReader::new(child.stderr.take().expect("stderr"));
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            let n = err.read_line(&mut line).expect("tcpdump stderr");
            seen.push_str(&line);
            if n == 0 {
                let _ = child.wait();
                panic!("tcpdump -i {iface} exited before listening: {seen}");
            }
            if line.contains("listening on") {
                break;
            }
        }
        let stderr = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            seen + &rest
        });
        Tcpdump {
            child,
            stderr: Some(stderr),
        }
    }

    /// Interrupts tcpdump and returns its stderr (with the "dropped by kernel" line).
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Tcpdump {
    fn drop(&mut self) {
        if self.stderr.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Packets tcpdump says the kernel dropped.
pub fn dropped_by_kernel(stderr: &str) -> u64 {
    stderr
        .lines()
        .find(|l| l.contains("dropped by kernel"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The payload of the traffic script's last datagram.
const END_MARKER: &[u8] = b"vmkflow-end-of-traffic";

/// Waits until tcpdump has written the end marker to `file` (it writes each packet at once, -U).
pub fn wait_for_marker(file: &Path) {
    for _ in 0..600 {
        let bytes = std::fs::read(file).unwrap_or_default();
        if bytes.windows(END_MARKER.len()).any(|w| w == END_MARKER) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{}: tcpdump did not write the end marker", file.display());
}

pub fn traffic_script() -> PathBuf {
    bundled("namespace-traffic.py")
}

pub fn missing_prerequisite() -> Option<String> {
    if !is_root() {
        return Some("not root".into());
    }
    for tool in ["ip", "tcpdump", "tshark", "python3", "kill"] {
        if find_tool(tool).is_none() {
            return Some(format!("{tool} not found"));
        }
    }
    None
}

pub fn json_line(bytes: &[u8], who: &str) -> Value {
    let text = String::from_utf8_lossy(bytes);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("{who} printed no result: {text}"));
    serde_json::from_str(line).expect("result JSON")
}

pub fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("number"))
        .collect()
}

/// Seconds since the epoch, with the fraction.
pub fn epoch_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// TCP payload per flow direction in a report: (client → server, server → client), sorted.
pub fn tcp_flows(report: &Value) -> Vec<(u64, u64)> {
    let mut flows: Vec<(u64, u64)> = report["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .filter(|f| f["protocol"] == "tcp")
        .map(|f| {
            (
                f["client_to_server"]["payload_bytes"].as_u64().unwrap_or(0),
                f["server_to_client"]["payload_bytes"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    flows.sort();
    flows
}

/// The run of `analyze` on `file` labelled as one hot vMotion over the applications' window, with the
/// test port in the class catalogue (`--port` for each of `ports`, e.g. `5001/tcp=vmotion`).
pub fn analyze_labelled(file: &Path, traffic: (f64, f64), ports: &[String]) -> crate::util::Run {
    let labels = file.with_extension("labels.json");
    let (start, end) = traffic;
    std::fs::write(
        &labels,
        format!(
            r#"{{"migrations":[{{"id":"run","kind":"vmotion","state":"hot","start":{start},"end":{end}}}]}}"#
        ),
    )
    .expect("labels");
    let mut args = vec![
        "analyze",
        file.to_str().expect("path"),
        "--migrations",
        labels.to_str().expect("path"),
    ];
    for p in ports {
        args.extend_from_slice(&["--port", p]);
    }
    args.extend_from_slice(&["--json", "-", "-q"]);
    let r = crate::util::run(&args);
    assert_eq!(r.code, 0, "{}: {}", file.display(), r.stderr);
    r
}

/// The namespaces of a test; `None` after saying why not (missing root or tools, or no
/// namespaces: a failure under `CI=true`).
pub fn namespaces_or_skip() -> Option<Namespaces> {
    if let Some(why) = missing_prerequisite() {
        skip_or_fail(&why);
        return None;
    }
    match Namespaces::create() {
        Ok(ns) => Some(ns),
        Err(e) => {
            skip_or_fail(&format!("cannot create network namespaces: {e}"));
            None
        }
    }
}

/// One run of the traffic script: what its client and server printed, and the window (seconds
/// since the epoch) the client ran in.
pub struct Traffic {
    pub client: Value,
    pub server: Value,
    pub start: f64,
    pub end: f64,
}

impl Traffic {
    /// Client, server, start and end.
    fn parts(self) -> (Value, Value, f64, f64) {
        (self.client, self.server, self.start, self.end)
    }
}

/// The connections of the real-traffic tests: two IPv4 transfers and a short IPv6 one.
const TARGETS: [&str; 3] = ["192.0.2.2=1048576", "192.0.2.2=204800", "fd00::2=17"];

/// Runs the traffic script's server in `ns.b` and its client in `ns.a`: `datagrams` UDP
/// datagrams to 192.0.2.2, then one TCP connection per `HOST=SIZE` target; asserts both ended
/// well.
pub fn run_traffic(ns: &Namespaces, targets: &[&str], datagrams: usize) -> Traffic {
    let mut server = Command::new("ip")
        .args(["netns", "exec", &ns.b, "python3"])
        .arg(traffic_script())
        .args(["server", PORT, &targets.len().to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let mut server_out = BufReader::new(server.stdout.take().expect("stdout"));
    let mut ready = String::new();
    server_out.read_line(&mut ready).expect("server stdout");
    assert_eq!(ready.trim(), "ready", "server did not start");
    let start = epoch_now();
    let client = Command::new("ip")
        .args(["netns", "exec", &ns.a, "python3"])
        .arg(traffic_script())
        .args(["client", PORT, "192.0.2.2", &datagrams.to_string()])
        .args(targets)
        .output()
        .expect("run client");
    assert!(
        client.status.success(),
        "client: {}",
        String::from_utf8_lossy(&client.stderr)
    );
    let end = epoch_now();
    let mut rest = Vec::new();
    server_out.read_to_end(&mut rest).expect("server stdout");
    assert!(server.wait().expect("server").success(), "server failed");
    Traffic {
        client: json_line(&client.stdout, "client"),
        server: json_line(&rest, "server"),
        start,
        end,
    }
}

#[test]
fn namespace_captures_match_tshark_and_applications() {
    let Some(ns) = namespaces_or_skip() else {
        return;
    };
    let dir = TempDir::new("netns");
    let captures = [
        ("vethA", None, "eth-full.pcap"),
        ("vethA", Some(96), "eth-96.pcap"),
        ("any", None, "any-full.pcap"),
        ("any", Some(96), "any-96.pcap"),
    ];
    let dumps: Vec<Tcpdump> = captures
        .iter()
        .map(|(iface, snap, name)| Tcpdump::start(&ns.a, iface, *snap, dir.path().join(name)))
        .collect();

    let (client, server, window_start, window_end) = run_traffic(&ns, &TARGETS, 5).parts();

    // The end marker was the last packet: once every file holds it, tcpdump wrote the rest.
    for (_, _, name) in &captures {
        wait_for_marker(&dir.path().join(name));
    }
    let stderrs: Vec<String> = dumps.into_iter().map(Tcpdump::stop).collect();

    let sent = u64s(&client["sent"]);
    let replies = u64s(&client["received"]);
    assert_eq!(sent, vec![1_048_576, 204_800, 17]);
    assert_eq!(
        u64s(&server["received"]),
        sent,
        "server got what the client sent"
    );
    assert_eq!(
        u64s(&server["replied"]),
        replies,
        "client got what the server sent"
    );
    let udp_sent = u64s(&client["udp_sent"]);
    assert_eq!(udp_sent.len(), 6, "5 datagrams and the end marker");
    assert_eq!(
        u64s(&server["udp_received"]),
        udp_sent,
        "server got every datagram"
    );
    let app_tcp: u64 = sent.iter().sum::<u64>() + replies.iter().sum::<u64>();
    let app_udp: u64 = udp_sent.iter().sum();
    let expected_streams: Vec<(u64, u64)> =
        sent.iter().copied().zip(replies.iter().copied()).collect();

    let tshark = find_tool("tshark").expect("tshark");
    for ((iface, snap, name), stderr) in captures.iter().zip(&stderrs) {
        let file = dir.path().join(name);
        let what = format!("{name} (tcpdump -i {iface}, snaplen {snap:?})");
        let report = analyze_json(&file);
        // Every thread count reads it the same.
        crate::threads::assert_same_for_thread_counts(&file, &[]);
        let c = &report["capture"];
        let t = tshark_totals(&tshark, &file);
        eprintln!(
            "{what}: {} packets, {} wire bytes, {} TCP payload bytes",
            t.packets, t.wire_bytes, t.tcp_payload
        );
        assert!(t.packets > 40, "{what}: only {} packets", t.packets);
        assert_eq!(c["format"], "pcap", "{what}");
        let link_type = c["interfaces"][0]["link_type"].as_u64().expect("link type");
        if *iface == "any" {
            assert!(
                link_type == 276 || link_type == 113,
                "{what}: link type {link_type}"
            );
            if link_type == 113 {
                eprintln!("note: {what}: tcpdump wrote LINUX_SLL (113), not LINUX_SLL2");
            }
        } else {
            assert_eq!(link_type, 1, "{what}");
        }
        if let Some(s) = snap {
            assert_eq!(c["interfaces"][0]["snaplen"], *s, "{what}");
            assert!(
                c["captured_bytes"].as_u64() < c["wire_bytes"].as_u64(),
                "{what}"
            );
        }
        assert_eq!(c["packets"], t.packets, "{what}: packets vs tshark");
        assert_eq!(
            c["wire_bytes"], t.wire_bytes,
            "{what}: wire bytes vs tshark"
        );
        let d = &c["decode"];
        assert_eq!(
            d["tcp_payload_bytes"], t.tcp_payload,
            "{what}: TCP payload vs tshark"
        );
        assert_eq!(
            d["udp_payload_bytes"], t.udp_payload,
            "{what}: UDP payload vs tshark"
        );
        assert_eq!(d["ipv4"], t.ipv4, "{what}: IPv4 packets vs tshark");
        assert_eq!(d["ipv6"], t.ipv6, "{what}: IPv6 packets vs tshark");
        assert_eq!(c["truncated"], false, "{what}");

        let dropped = dropped_by_kernel(stderr);
        if dropped > 0 {
            eprintln!(
                "note: {what}: kernel dropped {dropped} packets; application totals not checked"
            );
            continue;
        }
        assert_eq!(
            d["udp_payload_bytes"], app_udp,
            "{what}: UDP payload vs applications"
        );
        // What each side sent, from the sequence numbers (immune to retransmissions).
        let sent_per_stream: Vec<(u64, u64)> = t
            .streams
            .values()
            .map(|s| {
                (
                    s.client_end.saturating_sub(1),
                    s.server_end.saturating_sub(1),
                )
            })
            .collect();
        assert_eq!(
            sent_per_stream, expected_streams,
            "{what}: per-connection bytes (tshark)"
        );
        if t.retransmissions == 0 {
            assert_eq!(
                d["tcp_payload_bytes"], app_tcp,
                "{what}: TCP payload vs applications"
            );
            let payload_per_stream: Vec<(u64, u64)> = t
                .streams
                .values()
                .map(|s| (s.client_payload, s.server_payload))
                .collect();
            assert_eq!(
                payload_per_stream, expected_streams,
                "{what}: per-connection payload"
            );
            // The report's flows: one per connection, payload per direction as the applications
            // sent it.
            let flows = tcp_flows(&report);
            let mut want = expected_streams.clone();
            want.sort();
            assert_eq!(flows, want, "{what}: flows vs applications");
            // Labelled with the window the applications ran in, the migration's breakdowns
            // hold exactly the bytes they sent.
            let r = analyze_labelled(
                &file,
                (window_start, window_end),
                &[format!("{PORT}/tcp=vmotion"), format!("{PORT}/udp=nfs")],
            );
            let report = r.json();
            let m = &report["migrations"][0];
            assert_eq!(
                m["payload_bytes"],
                app_tcp + app_udp,
                "{what}: window bytes"
            );
            assert_eq!(
                m["payload_bytes_by_class"]["vmotion"], app_tcp,
                "{what}: vMotion-class bytes"
            );
            assert_eq!(
                m["payload_bytes_by_class"]["nfs"], app_udp,
                "{what}: NFS-class bytes"
            );
            assert_eq!(
                m["payload_bytes_by_network"]["vmotion"], app_tcp,
                "{what}: bytes on the inferred vMotion network"
            );
        } else {
            eprintln!(
                "note: {what}: {} TCP retransmissions; payload counted {} bytes above the applications'",
                t.retransmissions,
                t.tcp_payload.saturating_sub(app_tcp)
            );
            assert!(
                t.tcp_payload > app_tcp,
                "{what}: retransmissions but no extra payload"
            );
        }
    }
    check_sequence_accounting(
        &tshark,
        &dir.path().join("eth-full.pcap"),
        &sent,
        &stderrs[0],
    );
    drop(ns);
}

/// What [`perturb`] did to the client's TCP data segments.
#[derive(Debug, Default)]
struct Perturbed {
    /// Payload bytes of the segments left out.
    dropped: u64,
    /// Segments left out.
    dropped_segments: u64,
    /// Payload bytes of the segments written after the one that followed them.
    late: u64,
    /// Segments written late.
    late_segments: u64,
}

/// TCP payload length, destination port and whether it carries a FIN, of an Ethernet/IPv4
/// frame, when it is one.
fn ipv4_tcp(frame: &[u8]) -> Option<(u64, u16, bool)> {
    if frame.get(12..14)? != [0x08, 0x00] {
        return None;
    }
    let ip = frame.get(14..)?;
    let ihl = usize::from(ip.first()? & 0x0f) * 4;
    if *ip.get(9)? != 6 {
        return None;
    }
    let total = u64::from(u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]));
    let tcp = ip.get(ihl..)?;
    let dport = u16::from_be_bytes([*tcp.get(2)?, *tcp.get(3)?]);
    let doff = u64::from(tcp.get(12)? >> 4) * 4;
    let fin = tcp.get(13)? & 0x01 != 0;
    Some((total.checked_sub(ihl as u64 + doff)?, dport, fin))
}

/// Copies a little-endian Ethernet pcap, leaving out every 10th data segment the client sent to
/// the server port and writing every 10th (offset 4) after the segment that followed it, the
/// timestamps staying where they were: capture loss and reordering made from real traffic. A
/// segment that also carries the FIN is never touched: its lost sequence number would count as
/// one more byte not captured.
fn perturb(input: &Path, output: &Path) -> Perturbed {
    let bytes = std::fs::read(input).expect("capture");
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian pcap"
    );
    let mut records: Vec<(&[u8], &[u8])> = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes")) as usize;
        records.push((&bytes[at..at + 16], &bytes[at + 16..at + 16 + incl]));
        at += 16 + incl;
    }
    let port: u16 = PORT.parse().expect("port");
    let data: Vec<usize> = (0..records.len())
        .filter(|&i| {
            ipv4_tcp(records[i].1).is_some_and(|(len, d, fin)| len > 0 && d == port && !fin)
        })
        .collect();
    let mut p = Perturbed::default();
    let mut order: Vec<usize> = (0..records.len()).collect();
    let mut drop = std::collections::BTreeSet::new();
    for (n, &i) in data.iter().enumerate() {
        let len = ipv4_tcp(records[i].1).map_or(0, |(l, _, _)| l);
        if n % 10 == 9 {
            drop.insert(i);
            p.dropped += len;
            p.dropped_segments += 1;
        } else if n % 10 == 4 {
            if let Some(&next) = data.get(n + 1) {
                // Swap the frames' contents, not their timestamps.
                order.swap(i, next);
                p.late += len;
                p.late_segments += 1;
            }
        }
    }
    let mut out = bytes[..24].to_vec();
    for (slot, &src) in order.iter().enumerate() {
        if drop.contains(&src) {
            continue;
        }
        let (hdr, frame) = (records[slot].0, records[src].1);
        out.extend_from_slice(&hdr[..8]);
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&records[src].0[12..16]);
        out.extend_from_slice(frame);
    }
    std::fs::write(output, out).expect("write perturbed capture");
    p
}

/// Sums tshark's `tcp.len` over the client's segments that it flags with `flag`.
fn tshark_flagged_bytes(tshark: &Path, capture: &Path, flag: &str) -> (u64, u64) {
    let out = Command::new(tshark)
        .arg("-r")
        .arg(capture)
        .args(["-n", "-T", "fields", "-e", "tcp.len"])
        .args(["-Y", &format!("{flag} && ip.src == {CLIENT_V4}")])
        .output()
        .expect("run tshark");
    let text = String::from_utf8_lossy(&out.stdout);
    let lens: Vec<u64> = text.lines().map(num).collect();
    (lens.len() as u64, lens.iter().sum())
}

/// Retransmitted, out-of-order and not-captured bytes on real traffic with frames dropped and
/// reordered by the test: each figure equals what was done to the capture, agrees with tshark's
/// analysis flags, and with the bytes the applications sent.
fn check_sequence_accounting(tshark: &Path, full: &Path, sent: &[u64], tcpdump_stderr: &str) {
    if dropped_by_kernel(tcpdump_stderr) > 0 {
        eprintln!("note: the kernel dropped packets; sequence accounting not checked");
        return;
    }
    let dir = TempDir::new("netns-perturb");
    let out = dir.path().join("perturbed.pcap");
    let p = perturb(full, &out);
    assert!(p.dropped_segments > 0 && p.late_segments > 0, "{p:?}");
    let report = analyze_json(&out);
    let mut payload = 0;
    let (mut retrans, mut ooo, mut lost) = (0, 0, 0);
    for f in report["flows"].as_array().expect("flows") {
        if f["protocol"] != "tcp" || f["client"]["ip"] != CLIENT_V4 {
            continue;
        }
        let d = &f["client_to_server"];
        let n = |k: &str| d[k].as_u64().expect("count");
        payload += n("payload_bytes");
        retrans += n("retransmitted_bytes");
        ooo += n("out_of_order_bytes");
        lost += n("not_captured_bytes");
    }
    let app: u64 = sent.iter().take(2).sum();
    // Every byte the client sent was either captured once (payload less repeats) or never.
    assert_eq!(
        payload - retrans + lost,
        app,
        "unique + not captured = sent ({p:?}; payload {payload}, retransmitted {retrans}, \
         out of order {ooo}, not captured {lost})"
    );
    let (real_retrans, _) = tshark_flagged_bytes(tshark, full, "tcp.analysis.retransmission");
    if real_retrans > 0 {
        eprintln!("note: {real_retrans} real retransmissions; per-figure checks skipped");
        return;
    }
    assert_eq!(lost, p.dropped, "not captured = the bytes left out");
    // A window labelled over the whole capture: the migration's evidence says what is missing.
    let r = analyze_labelled(
        &out,
        (0.0, 4_000_000_000.0),
        &[format!("{PORT}/tcp=vmotion")],
    );
    let report = r.json();
    let m = &report["migrations"][0];
    assert_eq!(
        m["not_captured_data_bytes"], p.dropped,
        "the migration's missing bytes"
    );
    assert_eq!(ooo, p.late, "out of order = the bytes written late");
    assert_eq!(retrans, 0, "nothing was sent twice");
    let (n_ooo, b_ooo) = tshark_flagged_bytes(tshark, &out, "tcp.analysis.out_of_order");
    let (n_re, b_re) = tshark_flagged_bytes(tshark, &out, "tcp.analysis.retransmission");
    let (n_lost, _) = tshark_flagged_bytes(tshark, &out, "tcp.analysis.lost_segment");
    eprintln!(
        "perturbed: tshark out_of_order {n_ooo} ({b_ooo} B), retransmission {n_re} ({b_re} B), \
         lost_segment {n_lost}; vmkflow out_of_order {ooo}, retransmitted {retrans}, not captured {lost}"
    );
    // tshark calls a late first copy out-of-order or, past its time threshold, a
    // retransmission: together they are the late bytes, which vmkflow never counts twice.
    assert_eq!(b_ooo + b_re, p.late, "tshark's late bytes");
    assert_eq!(
        n_lost,
        p.dropped_segments + p.late_segments,
        "tshark's gaps"
    );
}

/// Waits until `file` has stopped growing for half a second (at most 10 s): tcpdump has written
/// what it saw.
fn wait_until_still(file: &Path) {
    let mut last = None;
    let mut still = 0;
    for _ in 0..100 {
        let len = std::fs::metadata(file).map(|m| m.len()).ok();
        if len.is_some() && len == last {
            still += 1;
            if still >= 5 {
                return;
            }
        } else {
            still = 0;
        }
        last = len;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A one-direction capture of real traffic, as pktcap-uw takes one by default: `tcpdump -Q out`
/// on the receiver's veth holds its ACKs, its replies and its FINs, and none of the client's
/// data. The client's bytes come from the server's acknowledgements, marked `acknowledged`, within
/// 0.1 % of what the application sent (they were 0); the server's own replies are captured.
#[test]
fn receiver_only_capture_counts_the_clients_bytes_from_acknowledgements() {
    let Some(ns) = namespaces_or_skip() else {
        return;
    };
    let dir = TempDir::new("netns-acks");
    let file = dir.path().join("receiver-out.pcap");
    let dump = Tcpdump::start_with(&ns.b, "vethB", None, &["-Q", "out"], file.clone());
    let (client, server, window_start, window_end) = run_traffic(&ns, &TARGETS, 1).parts();
    // The client's datagrams (the end marker too) are not in this capture: wait for the file.
    wait_until_still(&file);
    let stderr = dump.stop();
    let sent = u64s(&client["sent"]);
    assert_eq!(sent, vec![1_048_576, 204_800, 17]);
    assert_eq!(u64s(&server["received"]), sent, "server got what was sent");
    let replies = u64s(&server["replied"]);
    if dropped_by_kernel(&stderr) > 0 {
        eprintln!("note: the kernel dropped packets; acknowledged bytes not checked");
        return;
    }

    let within = |got: u64, want: u64| got.abs_diff(want) as f64 <= 0.001 * want as f64;
    let report = analyze_json(&file);
    let mut flows: Vec<(u64, u64)> = Vec::new();
    for f in report["flows"].as_array().expect("flows") {
        if f["protocol"] != "tcp" {
            continue;
        }
        let (c2s, s2c) = (&f["client_to_server"], &f["server_to_client"]);
        assert!(
            f["client"]["ip"] == CLIENT_V4 || f["client"]["ip"] == CLIENT_V6,
            "the SYN-ACK names the client: {f}"
        );
        assert_eq!(c2s["packets"], 0, "none of the client's frames: {f}");
        assert_eq!(c2s["payload_source"], "acknowledged", "{f}");
        assert_eq!(c2s["acknowledged_bytes"], c2s["payload_bytes"], "{f}");
        assert_eq!(s2c["payload_source"], "captured", "{f}");
        // The sender's FIN is seen only as one more acknowledged byte: alone, it closes the
        // flow; acknowledged together with the last data it cannot be told from data (one byte
        // counted too many, the flow left half closed).
        let state = f["tcp"]["state"].as_str().unwrap_or("");
        assert!(
            state == "closed" || state == "half_closed",
            "the acknowledged FIN: {f}"
        );
        flows.push((
            c2s["payload_bytes"].as_u64().expect("bytes"),
            s2c["payload_bytes"].as_u64().expect("bytes"),
        ));
    }
    flows.sort();
    let mut want: Vec<(u64, u64)> = sent.iter().copied().zip(replies.iter().copied()).collect();
    want.sort();
    eprintln!("receiver-only capture: flows {flows:?}, applications {want:?}");
    assert_eq!(flows.len(), want.len(), "{flows:?}");
    for (&(got_c, got_s), &(want_c, want_s)) in flows.iter().zip(&want) {
        if want_c >= 1000 {
            assert!(within(got_c, want_c), "client bytes {got_c}, sent {want_c}");
        } else {
            // A FIN acknowledged together with the last data may count as one byte.
            assert!(
                got_c.abs_diff(want_c) <= 1,
                "client bytes {got_c}, sent {want_c}"
            );
        }
        assert!(got_s >= want_s, "server bytes {got_s}, replied {want_s}");
    }
    let total: u64 = flows.iter().map(|f| f.0).sum();
    let app: u64 = sent.iter().sum();
    assert!(within(total, app), "client bytes {total}, sent {app}");
    let acked: u64 = report["classes"]
        .as_object()
        .expect("classes")
        .values()
        .map(|c| c["acknowledged_bytes"].as_u64().expect("count"))
        .sum();
    assert_eq!(acked, total, "the classes carry the acknowledged bytes");

    // Labelled with the applications' window: the migration's data is the client's bytes from
    // acknowledgements and the server's captured replies, and it says which came from where.
    let r = analyze_labelled(
        &file,
        (window_start, window_end),
        &[format!("{PORT}/tcp=vmotion")],
    );
    let report = r.json();
    let m = &report["migrations"][0];
    let m_acked = m["acknowledged_data_bytes"].as_u64().expect("count");
    assert!(within(m_acked, app), "acknowledged {m_acked}, sent {app}");
    let vmotion = m["payload_bytes_by_class"]["vmotion"]
        .as_u64()
        .expect("vmotion bytes");
    let app_tcp = app + replies.iter().sum::<u64>();
    assert!(
        within(vmotion, app_tcp),
        "vMotion-class {vmotion}, applications {app_tcp}"
    );
    assert!(
        r.stderr.contains("receivers' acknowledgements"),
        "a warning says so: {}",
        r.stderr
    );
    drop(ns);
}
