//! Inputs that are not clean captures: empty, garbage, missing, truncated, corrupt lengths, and
//! the exit statuses and messages they must produce.

use crate::util::{TempDir, run, synth_pcap, synth_pcapng};

/// `(code, stderr)` of `vmkflow analyze PATH --quiet`.
fn analyze_quiet(path: &std::path::Path) -> crate::util::Run {
    run(&["analyze", path.to_str().expect("UTF-8 path"), "--quiet"])
}

#[test]
fn empty_file_is_not_a_capture() {
    let dir = TempDir::new("empty");
    let p = dir.write("nothing.pcap", b"");
    let r = analyze_quiet(&p);
    assert_eq!(r.code, 4, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("nothing.pcap"), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("empty"), "stderr: {}", r.stderr);
}

#[test]
fn garbage_names_offset_and_first_bytes() {
    let dir = TempDir::new("garbage");
    let p = dir.write("notes.txt", b"Hello, this is not a capture\n");
    let r = analyze_quiet(&p);
    assert_eq!(r.code, 4, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("notes.txt"), "stderr: {}", r.stderr);
    assert!(r.stderr.contains("offset 0"), "stderr: {}", r.stderr);
    // "Hell" in hex.
    assert!(r.stderr.contains("48 65 6c 6c"), "stderr: {}", r.stderr);
}

#[test]
fn missing_file_is_an_io_error() {
    let dir = TempDir::new("missing");
    let p = dir.path().join("does-not-exist.pcap");
    let r = analyze_quiet(&p);
    assert_eq!(r.code, 3, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("does-not-exist.pcap"),
        "stderr: {}",
        r.stderr
    );
}

#[test]
fn truncated_mid_record_reports_complete_records() {
    let dir = TempDir::new("trunc");
    let (bytes, offsets) = synth_pcap(&[100, 200, 300, 400]);
    // Cut inside the data of the third record, then inside its 16-byte record header.
    for cut in [offsets[2] + 16 + 30, offsets[2] + 7] {
        let p = dir.write("cut.pcap", &bytes[..cut]);
        let r = analyze_to(&p, std::path::Path::new("-"));
        assert_eq!(r.code, 0, "cut at {cut}: stderr: {}", r.stderr);
        assert!(r.stderr.contains("warning"), "stderr: {}", r.stderr);
        assert!(r.stderr.contains("truncated"), "stderr: {}", r.stderr);
        assert!(r.stderr.contains("cut.pcap"), "stderr: {}", r.stderr);
        let j = r.json();
        let c = &j["capture"];
        assert_eq!(c["truncated"], true);
        assert_eq!(
            c["truncated_at"]["offset"], offsets[2] as u64,
            "cut at {cut}"
        );
        assert_eq!(c["truncated_at"]["available"], (cut - offsets[2]) as u64);
        assert_eq!(c["packets"], 2);
        assert_eq!(c["decode"]["tcp_payload_bytes"], 300);
        assert!(c["error"].is_null());
    }
}

#[test]
fn truncated_pcapng_mid_block() {
    let dir = TempDir::new("trunc-ng");
    let (bytes, offsets) = synth_pcapng(&[10, 20, 30]);
    let p = dir.write("cut.pcapng", &bytes[..offsets[1] + 40]);
    let r = analyze_to(&p, std::path::Path::new("-"));
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("warning"), "stderr: {}", r.stderr);
    let c = &r.json()["capture"];
    assert_eq!(c["truncated"], true);
    assert_eq!(c["truncated_at"]["offset"], offsets[1] as u64);
    assert_eq!(c["packets"], 1);
}

#[test]
fn cut_inside_file_header() {
    let dir = TempDir::new("trunc-hdr");
    // pcap: the 24-byte file header cut after 10 bytes; pcapng: the 28-byte Section Header Block
    // cut after 20.
    let cases = [
        ("header.pcap", synth_pcap(&[100]).0, 10u64, "pcap", 24u64),
        ("header.pcapng", synth_pcapng(&[10]).0, 20, "pcapng", 28),
    ];
    for (name, bytes, cut, format, needed) in cases {
        let p = dir.write(name, &bytes[..cut as usize]);
        let r = analyze_to(&p, std::path::Path::new("-"));
        assert_eq!(r.code, 0, "{name}: stderr: {}", r.stderr);
        assert!(r.stderr.contains("warning"), "{name}: stderr: {}", r.stderr);
        assert!(r.stderr.contains(name), "{name}: stderr: {}", r.stderr);
        let c = &r.json()["capture"];
        assert_eq!(c["format"], format);
        assert_eq!(c["truncated"], true);
        assert_eq!(c["truncated_at"]["offset"], 0);
        assert_eq!(c["truncated_at"]["needed"], needed);
        assert_eq!(c["truncated_at"]["available"], cut);
        assert_eq!(c["packets"], 0);
    }
}

/// `vmkflow analyze P --json JSON --quiet` (`-` for the report on standard output).
fn analyze_to(p: &std::path::Path, json: &std::path::Path) -> crate::util::Run {
    run(&[
        "analyze",
        p.to_str().expect("UTF-8"),
        "--json",
        json.to_str().expect("UTF-8"),
        "--quiet",
    ])
}

#[test]
fn corrupt_pcap_caplen_is_fatal_with_partial_report() {
    let dir = TempDir::new("corrupt");
    let (mut bytes, offsets) = synth_pcap(&[100, 200, 300]);
    let rec = offsets[1];
    // The caplen field of the second record header.
    let field = rec + 8;
    bytes[field..field + 4].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let p = dir.write("bad-caplen.pcap", &bytes);
    let json = dir.path().join("report.json");
    let r = analyze_to(&p, &json);
    assert_eq!(r.code, 4, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("bad-caplen.pcap"), "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains(&format!("offset {field}")),
        "stderr should name offset {field}: {}",
        r.stderr
    );
    let j: serde_json::Value = crate::util::read_report(&json);
    let c = &j["capture"];
    assert_eq!(c["error"]["offset"], field as u64);
    assert!(
        c["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(c["packets"], 1);
}

#[test]
fn corrupt_pcapng_block_length_is_fatal_with_partial_report() {
    let dir = TempDir::new("corrupt-ng");
    let (mut bytes, offsets) = synth_pcapng(&[10, 20, 30]);
    // The block total length field of the third EPB.
    let field = offsets[2] + 4;
    bytes[field..field + 4].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    let p = dir.write("bad-block.pcapng", &bytes);
    let json = dir.path().join("report.json");
    let r = analyze_to(&p, &json);
    assert_eq!(r.code, 4, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("bad-block.pcapng"),
        "stderr: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("offset {field}")),
        "stderr should name offset {field}: {}",
        r.stderr
    );
    let j: serde_json::Value = crate::util::read_report(&json);
    assert_eq!(j["capture"]["error"]["offset"], field as u64);
    assert_eq!(j["capture"]["packets"], 2);
}

/// `vmkflow analyze SAMPLE --quiet ARGS…` on a small valid capture in `dir`.
fn analyze_with(dir: &TempDir, args: &[&str]) -> crate::util::Run {
    let p = dir.write("sample.pcap", &synth_pcap(&[100, 200]).0);
    let mut all = vec!["analyze", p.to_str().expect("UTF-8"), "--quiet"];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn missing_label_files_cannot_be_read() {
    let dir = TempDir::new("missing-labels");
    for flag in ["--inventory", "--migrations", "--claims"] {
        let name = format!("no-such{flag}.json");
        let p = dir.path().join(&name);
        let r = analyze_with(&dir, &[flag, p.to_str().expect("UTF-8")]);
        assert_eq!(r.code, 3, "{flag}: stderr: {}", r.stderr);
        assert!(r.stderr.contains(&name), "{flag}: stderr: {}", r.stderr);
    }
    // A directory opens but cannot be read.
    let d = dir.path().to_str().expect("UTF-8");
    for flag in ["--inventory", "--migrations", "--claims"] {
        let r = analyze_with(&dir, &[flag, d]);
        assert_eq!(r.code, 3, "{flag} DIR: stderr: {}", r.stderr);
        assert!(r.stderr.contains(d), "{flag} DIR: stderr: {}", r.stderr);
    }
    // The PowerCLI form of the inventory too.
    let p = dir.path().join("no-such-vmks.csv");
    let r = analyze_with(&dir, &["--inventory", p.to_str().expect("UTF-8")]);
    assert_eq!(r.code, 3, "stderr: {}", r.stderr);
    assert!(
        r.stderr.contains("no-such-vmks.csv"),
        "stderr: {}",
        r.stderr
    );
}

#[test]
fn invalid_label_files_are_usage_errors() {
    let dir = TempDir::new("invalid-labels");
    let inv = dir.write(
        "bad.inventory.json",
        br#"{"hosts":[{"name":"esx01","vmknics":[{"name":"vmk0","ip":"10.0.10.300/24"}]}]}"#,
    );
    let csv = dir.write("bad-vmks.csv", b"VMHost,Name,IP\nesx01,vmk0,1.2.3.999\n");
    let mig = dir.write("bad.migrations.json", br#"{"migrations":[{"id":"m1"}]}"#);
    let claims = dir.write("bad-claims.json", b"{\"name\":");
    for (flag, p, needle) in [
        ("--inventory", &inv, "10.0.10.300/24"),
        ("--inventory", &csv, "line 2"),
        ("--migrations", &mig, "kind"),
        ("--claims", &claims, "line 1"),
    ] {
        let r = analyze_with(&dir, &[flag, p.to_str().expect("UTF-8")]);
        let name = p.file_name().and_then(|n| n.to_str()).expect("name");
        assert_eq!(r.code, 2, "{flag} {name}: stderr: {}", r.stderr);
        assert!(r.stderr.contains(name), "{flag}: stderr: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{flag}: stderr: {}", r.stderr);
    }
}

/// An input that is no capture at all, or whose file header is bad, still gets its report
/// (exit 4): no traffic, `capture.error` with the offset and why, from a file and from standard
/// input alike.
#[test]
fn unreadable_inputs_still_write_a_report() {
    let dir = TempDir::new("unreadable");
    // A pcapng Section Header Block whose byte-order magic is neither order.
    let mut bad_bom = Vec::new();
    bad_bom.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
    bad_bom.extend_from_slice(&28u32.to_le_bytes());
    bad_bom.extend_from_slice(&0x1234_5678u32.to_le_bytes());
    bad_bom.extend_from_slice(&[0u8; 16]);
    for (name, bytes, says, offset) in [
        ("empty.pcap", Vec::new(), "empty", 0),
        (
            "text.pcap",
            b"hello, not a capture".to_vec(),
            "not a pcap or pcapng",
            0,
        ),
        ("bad-bom.pcapng", bad_bom, "byte-order", 8),
    ] {
        let p = dir.write(name, &bytes);
        let json = dir.path().join(format!("{name}.json"));
        let r = analyze_to(&p, &json);
        assert_eq!(r.code, 4, "{name}: {}", r.stderr);
        let report = crate::util::read_report(&json);
        let c = &report["capture"];
        assert_eq!(c["format"], "unknown", "{name}");
        assert_eq!(c["packets"], 0, "{name}");
        assert_eq!(c["error"]["offset"], offset, "{name}: {}", c["error"]);
        let message = c["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.contains(name) && message.to_lowercase().contains(says),
            "{name}: {message}"
        );
        assert_eq!(c["inputs"][0]["error"], c["error"], "{name}");
        let piped = crate::util::run_with_stdin(&["analyze", "-", "--json", "-", "-q"], &bytes);
        assert_eq!(piped.code, 4, "{name} on standard input: {}", piped.stderr);
        assert_eq!(piped.json()["capture"]["format"], "unknown", "{name}");
    }
}

/// A gzip capture cut short (still being compressed, a partial download) reads like a plain
/// capture cut short: exit 0, `truncated: true`, the records before the cut; whether the cut
/// falls inside a record, between two, or in the gzip trailer after the last one.
#[test]
fn a_cut_gzip_stream_is_a_truncated_capture() {
    use std::io::Write;
    let dir = TempDir::new("gzcut");
    let sizes: Vec<usize> = (0..200).map(|i| 100 + (i * 37) % 1400).collect();
    let (bytes, _) = synth_pcap(&sizes);
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&bytes).expect("gzip");
    let gz = enc.finish().expect("gzip");
    let whole = crate::util::analyze_json(&dir.write("whole.pcap.gz", &gz));
    assert_eq!(whole["capture"]["truncated"], false);
    assert_eq!(whole["capture"]["packets"], sizes.len());
    for cut in [gz.len() / 4, gz.len() / 2, gz.len() - 30, gz.len() - 3] {
        let p = dir.write(&format!("cut-{cut}.pcap.gz"), &gz[..cut]);
        let json = dir.path().join(format!("cut-{cut}.json"));
        let r = analyze_to(&p, &json);
        assert_eq!(r.code, 0, "cut at {cut} of {}: {}", gz.len(), r.stderr);
        assert!(r.stderr.contains("truncated"), "cut at {cut}: {}", r.stderr);
        let c = crate::util::read_report(&json)["capture"].clone();
        assert_eq!(c["truncated"], true, "cut at {cut}");
        assert!(
            c["truncated_at"]["offset"].as_u64() > Some(0),
            "cut at {cut}"
        );
        assert!(
            c["packets"].as_u64() <= Some(sizes.len() as u64),
            "cut at {cut}: {}",
            c["packets"]
        );
        assert!(c["error"].is_null(), "cut at {cut}: {}", c["error"]);
    }
}

/// RFC 3339 allows years up to 9999: a label window "to the end of time" is accepted, taken as
/// the last instant 64-bit nanoseconds hold, and covers the whole capture.
#[test]
fn a_window_to_year_9999_is_accepted() {
    let dir = TempDir::new("year9999");
    let labels = dir.write(
        "labels.json",
        br#"{"migrations":[{"id":"all","kind":"vmotion","state":"hot","start":"1970-01-01T00:00:00Z","end":"9999-12-31T23:59:59.999999999Z"}]}"#,
    );
    let capture = crate::util::bundled("namespace-tcp.pcap");
    let report =
        crate::util::analyze_with(&capture, &["--migrations", labels.to_str().expect("path")]);
    let m = &report["migrations"][0];
    assert_eq!(m["end"], "2262-04-11T23:47:16.854775807Z");
    let flows: u64 = report["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(crate::util::flow_payload)
        .sum();
    assert_eq!(m["payload_bytes"], flows, "the window holds every byte");
}

/// The fuzzer's finding 3: a label window ending beyond 2262 (taken as the last instant) made
/// the RARP search overflow, and the switchover lost its RARP. It finds the same RARP as a window
/// ending within the capture.
#[test]
fn a_window_to_the_year_8126_still_finds_the_rarp() {
    let dir = TempDir::new("year8126");
    let rarp_of = |end: &str| {
        let labels = dir.write(
            "labels.json",
            format!(
                r#"{{"migrations":[{{"id":"m1","kind":"vmotion","state":"hot","start":"2026-03-02T10:00:00.010Z","end":"{end}","source_host":"esx01","dest_host":"esx02"}}]}}"#
            )
            .as_bytes(),
        );
        let capture = crate::util::bundled("all-vmware.pcapng");
        let report =
            crate::util::analyze_with(&capture, &["--migrations", labels.to_str().expect("path")]);
        report["migrations"][0]["switchover"]["rarp"].clone()
    };
    let within = rarp_of("2026-03-02T10:00:20Z");
    assert_eq!(within["ts"], "2026-03-02T10:00:08.546353241Z");
    assert_eq!(rarp_of("8126-01-01T00:00:00Z"), within);
}

/// A pcapng declaring 100 000 interfaces (a hostile file can declare millions): 65 536 are kept
/// per section to decode packets and 4 096 listed in the report; the rest are counted, and a
/// packet on an interface not kept is a record on an unknown interface.
#[test]
fn interfaces_beyond_the_bounds_are_counted_not_kept() {
    const DECLARED: u32 = 100_000;
    let block = |kind: u32, body: &[u8]| {
        let len = 12 + body.len() as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&kind.to_le_bytes());
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    };
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut bytes = block(0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    let idb = block(1, &idb);
    for _ in 0..DECLARED {
        bytes.extend_from_slice(&idb);
    }
    for iface in [0u32, DECLARED - 1] {
        let mut epb = Vec::new();
        for v in [iface, 0, 1_000_000, 60, 60] {
            epb.extend_from_slice(&v.to_le_bytes());
        }
        epb.extend_from_slice(&[0u8; 60]);
        bytes.extend_from_slice(&block(6, &epb));
    }
    let dir = TempDir::new("interfaces");
    let p = dir.write("many-interfaces.pcapng", &bytes);
    let json = dir.path().join("report.json");
    let r = analyze_to(&p, &json);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = crate::util::read_report(&json);
    let c = &report["capture"];
    assert_eq!(c["interfaces"].as_array().map(Vec::len), Some(4_096));
    assert_eq!(c["interfaces_not_listed"], 65_536 - 4_096);
    assert_eq!(c["interfaces_not_kept"], DECLARED - 65_536);
    assert_eq!(c["packets"], 1);
    assert_eq!(c["records_with_unknown_interface"], 1);
    let size = std::fs::metadata(&json).expect("report").len();
    assert!(size < 4_000_000, "report of {size} bytes");
    assert!(
        report["warnings"].as_array().is_some_and(|w| w
            .iter()
            .any(|w| w.as_str().unwrap_or("").contains("34464 interfaces"))),
        "{}",
        report["warnings"]
    );
}
