//! The command line: gzip and stdin input, `--json -`, unwritable output, broken pipes, the
//! report's fixed fields and determinism.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::util::{
    TempDir, analyze_json, bundled, run, run_with_stdin, skip_or_fail, spawn_piped, synth_pcap,
    synth_pcapng, vmkflow,
};

fn sample(dir: &TempDir) -> PathBuf {
    let (bytes, _) = synth_pcap(&[0, 100, 1460, 17, 0]);
    dir.write("sample.pcap", &bytes)
}

/// The bundled capture of real TCP and UDP between two network namespaces.
const NAMESPACE_TCP: &str = "namespace-tcp.pcap";

#[test]
fn json_to_stdout_has_schema_and_totals() {
    let dir = TempDir::new("json");
    let p = sample(&dir);
    let j = analyze_json(&p);
    assert_eq!(j["schema_version"], 1);
    assert!(
        j["input"]["name"]
            .as_str()
            .is_some_and(|n| n.ends_with("sample.pcap"))
    );
    let c = &j["capture"];
    assert_eq!(c["format"], "pcap");
    assert_eq!(c["gzip"], false);
    assert_eq!(c["sections"], 1);
    assert_eq!(c["packets"], 5);
    assert_eq!(c["wire_bytes"], 5 * 54 + 100 + 1460 + 17);
    assert_eq!(c["captured_bytes"], c["wire_bytes"]);
    assert_eq!(c["first_ts"], "2023-11-14T22:13:20.000000000Z");
    assert_eq!(c["packets_without_timestamp"], 0);
    assert_eq!(c["link_types"][0]["link_type"], 1);
    assert_eq!(c["link_types"][0]["packets"], 5);
    let ifaces = c["interfaces"].as_array().expect("interfaces");
    assert_eq!(ifaces.len(), 1);
    assert_eq!(ifaces[0]["index_in_section"], 0);
    assert_eq!(ifaces[0]["snaplen"], 65535);
    assert_eq!(ifaces[0]["packets"], 5);
    let d = &c["decode"];
    assert_eq!(d["ipv4"], 5);
    assert_eq!(d["tcp"], 5);
    assert_eq!(d["udp"], 0);
    assert_eq!(d["tcp_payload_bytes"], 100 + 1460 + 17);
    assert_eq!(c["truncated"], false);
    assert!(c["error"].is_null());
}

#[test]
fn pcapng_synthetic_totals() {
    let dir = TempDir::new("ng");
    let (bytes, _) = synth_pcapng(&[10, 20, 30]);
    let p = dir.write("sample.pcapng", &bytes);
    let c = analyze_json(&p)["capture"].clone();
    assert_eq!(c["format"], "pcapng");
    assert_eq!(c["packets"], 3);
    assert_eq!(c["decode"]["tcp_payload_bytes"], 60);
    assert_eq!(c["first_ts"], "2023-11-14T22:13:20.000000000Z");
}

#[test]
fn gzip_reads_like_plain() {
    let dir = TempDir::new("gzip");
    let (bytes, _) = synth_pcap(&[0, 100, 1460, 17, 0]);
    let plain = dir.write("sample.pcap", &bytes);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&bytes).expect("gzip");
    let gz = dir.write("sample.pcap.gz", &enc.finish().expect("gzip"));
    let a = analyze_json(&plain);
    let mut b = analyze_json(&gz);
    assert_eq!(b["capture"]["gzip"], true);
    assert!(
        b["input"]["name"]
            .as_str()
            .is_some_and(|n| n.ends_with(".gz"))
    );
    b["capture"]["gzip"] = Value::Bool(false);
    b["capture"]["inputs"][0]["gzip"] = Value::Bool(false);
    let (a, b) = (
        crate::util::without_input_names(a),
        crate::util::without_input_names(b),
    );
    assert_eq!(a["capture"], b["capture"]);
}

#[test]
fn stdin_reads_like_file() {
    let dir = TempDir::new("stdin");
    for (name, bytes) in [
        ("s.pcap", synth_pcap(&[5, 1000, 0]).0),
        ("s.pcapng", synth_pcapng(&[5, 1000, 0]).0),
    ] {
        let p = dir.write(name, &bytes);
        let from_file = analyze_json(&p);
        let r = run_with_stdin(&["analyze", "-", "--json", "-", "--quiet"], &bytes);
        assert_eq!(r.code, 0, "stderr: {}", r.stderr);
        let from_stdin = r.json();
        assert_ne!(from_file["input"]["name"], from_stdin["input"]["name"]);
        let (from_file, from_stdin) = (
            crate::util::without_input_names(from_file),
            crate::util::without_input_names(from_stdin),
        );
        assert_eq!(from_file["capture"], from_stdin["capture"], "{name}");
    }
}

#[test]
fn summary_goes_to_stdout_and_json_to_file() {
    let dir = TempDir::new("summary");
    let p = sample(&dir);
    let json = dir.path().join("out.json");
    let r = run(&[
        "analyze",
        p.to_str().expect("UTF-8"),
        "--json",
        json.to_str().expect("UTF-8"),
    ]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(!r.stdout.is_empty(), "no summary on stdout");
    assert!(
        serde_json::from_slice::<Value>(&r.stdout).is_err(),
        "summary is not JSON"
    );
    let j: Value = crate::util::read_report(&json);
    assert_eq!(j["capture"]["packets"], 5);
}

#[test]
fn unwritable_report_path_exits_5() {
    let dir = TempDir::new("unwritable");
    let p = sample(&dir);
    let r = run(&[
        "analyze",
        p.to_str().expect("UTF-8"),
        "--json",
        "/proc/nonexistent/x.json",
        "--quiet",
    ]);
    assert_eq!(r.code, 5, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("/proc/nonexistent/x.json"),
        "stderr: {}",
        r.stderr
    );
}

#[test]
fn usage_error_exits_2() {
    assert_eq!(run(&["analyze"]).code, 2);
    assert_eq!(run(&["analyze", "x.pcap", "--no-such-flag"]).code, 2);
    assert_eq!(run(&["frobnicate"]).code, 2);
}

#[test]
fn broken_pipe_via_head_is_quiet() {
    let Some(sh) = crate::util::find_tool("sh") else {
        skip_or_fail("no sh");
        return;
    };
    let dir = TempDir::new("pipe-head");
    let p = sample(&dir);
    let script = format!(
        "'{}' analyze '{}' --json - | head -c 10 >/dev/null",
        env!("CARGO_BIN_EXE_vmkflow"),
        p.display()
    );
    let out = Command::new(sh)
        .arg("-c")
        .arg(&script)
        .output()
        .expect("sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

/// The reader of stdout is gone before vmkflow writes anything: it must exit quietly.
#[test]
fn broken_pipe_closed_before_write_is_quiet() {
    let dir = TempDir::new("pipe-closed");
    let (bytes, _) = synth_pcap(&[100; 50]);
    for args in [&["analyze", "-", "--json", "-"][..], &["analyze", "-"][..]] {
        let mut child = spawn_piped(args);
        // Close the read end of stdout first, then let vmkflow read its input.
        drop(child.stdout.take());
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&bytes).expect("feed capture");
        drop(stdin);
        let out = child.wait_with_output().expect("wait");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: stderr: {stderr}");
        assert!(
            !stderr.contains("Broken pipe"),
            "{args:?}: stderr: {stderr}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: stderr: {stderr}");
    }
    drop(dir);
}

#[test]
fn same_capture_twice_gives_identical_json() {
    let dir = TempDir::new("determinism");
    let mut inputs = vec![sample(&dir), bundled(NAMESPACE_TCP)];
    if let Ok(c) = crate::util::corpus_dir() {
        inputs.push(c.join("pcapng-conformance/output_le/difficult/test202.pcapng"));
        inputs.push(c.join("pcapng-conformance/output_be/advanced/test102.pcapng"));
    }
    for input in inputs {
        let mut outs = Vec::new();
        for i in 0..2 {
            let json = dir.path().join(format!("r{i}.json"));
            let r = run(&[
                "analyze",
                input.to_str().expect("UTF-8"),
                "--json",
                json.to_str().expect("UTF-8"),
                "--quiet",
            ]);
            assert_eq!(r.code, 0, "{}: {}", input.display(), r.stderr);
            outs.push(std::fs::read(&json).expect("report"));
        }
        assert!(!outs[0].is_empty());
        assert_eq!(outs[0], outs[1], "{}: two runs differ", input.display());
    }
}

/// The bundled namespace capture: header-only TCP between 192.0.2.1 and 192.0.2.2, whose payload
/// the traffic script knows (`captures/namespace-traffic.py`, sizes in the capture script).
#[test]
fn bundled_capture_totals() {
    let p = bundled(NAMESPACE_TCP);
    let c = analyze_json(&p)["capture"].clone();
    assert_eq!(c["format"], "pcap");
    assert_eq!(c["link_types"][0]["link_type"], 1);
    assert_eq!(c["interfaces"][0]["snaplen"], 96);
    assert_eq!(c["decode"]["tcp_payload_bytes"], BUNDLED_APP_BYTES);
    assert_eq!(c["decode"]["udp_payload_bytes"], BUNDLED_UDP_BYTES);
    assert!(
        c["decode"]["ipv6"].as_u64() > Some(0),
        "the IPv6 connection is missing"
    );
    assert_eq!(c["truncated"], false);
    if let Some(tshark) = crate::util::find_tool("tshark") {
        let t = crate::netns::tshark_totals(&tshark, &p);
        assert_eq!(c["packets"], t.packets);
        assert_eq!(c["wire_bytes"], t.wire_bytes);
        assert_eq!(c["decode"]["tcp_payload_bytes"], t.tcp_payload);
    }
}

/// Sum of the application bytes in both directions in `captures/namespace-tcp.pcap`
/// (see `captures/make-namespace-capture.sh`).
const BUNDLED_APP_BYTES: u64 = 200_000 + 50_000 + 17 + 50_000 + 12_500 + 4;

/// The UDP datagrams in the bundled capture: 100, 101 and 102 bytes, and the 22-byte end marker.
const BUNDLED_UDP_BYTES: u64 = 100 + 101 + 102 + 22;

/// `analyze … --json - | head -c 10`: a report larger than the output buffer meets the closed
/// pipe while it is being serialized; that is still a broken pipe, which ends quietly with 0.
#[test]
fn broken_pipe_during_a_large_json_report_is_quiet() {
    use std::io::Read;
    let capture = bundled("all-vmware.pcapng");
    let mut child = vmkflow()
        .args([
            "analyze",
            capture.to_str().expect("path"),
            "--json",
            "-",
            "-q",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut head = [0u8; 10];
    stdout.read_exact(&mut head).expect("the first bytes");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("Broken pipe"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}
