//! The pcapng conformance corpus (hadrielk/pcapng-test-generator): every packet's interface, link
//! type, lengths and timestamp must equal Wireshark's reading in `testNNN.expected.csv`.

use std::path::{Path, PathBuf};

use vmkflow::capture::{CaptureReader, Source};
use vmkflow::vocab::wire::LinkType;

use crate::util::{analyze_json, corpus_dir, skip_or_fail};

/// One packet as the expected CSV or the reader sees it.
#[derive(Debug, PartialEq, Eq)]
struct Packet {
    /// Section-local interface index (Wireshark's `frame.interface_id`).
    interface: u32,
    /// Wireshark encapsulation: 1 for Ethernet, 15 for the other declared link type.
    is_ethernet: bool,
    ts_ns: Option<i64>,
    orig_len: u32,
    cap_len: u32,
}

/// `1340954905.298858000` → nanoseconds; empty → `None`.
fn parse_epoch(s: &str) -> Option<i64> {
    if s.is_empty() {
        return None;
    }
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 9, "more than ns precision in {s:?}");
    let frac_ns: i64 = format!("{frac:0<9}").parse().expect("fraction digits");
    let secs: i64 = secs.parse().expect("seconds digits");
    Some(secs * 1_000_000_000 + frac_ns)
}

fn expected(csv: &Path) -> Vec<Packet> {
    let text = std::fs::read_to_string(csv).expect("expected CSV");
    let mut out = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 6, "{}: bad row {line:?}", csv.display());
        if f[1].is_empty() {
            continue; // a custom block, not a packet
        }
        let encap: u32 = f[2].parse().expect("encap");
        assert!(encap == 1 || encap == 15, "unexpected encap {encap}");
        out.push(Packet {
            interface: f[1].parse().expect("interface id"),
            is_ethernet: encap == 1,
            ts_ns: parse_epoch(f[3]),
            orig_len: f[4].parse().expect("frame.len"),
            cap_len: f[5].parse().expect("frame.cap_len"),
        });
    }
    out
}

fn read_packets(path: &Path) -> Vec<Packet> {
    let arg = path.to_str().expect("UTF-8 path");
    let mut reader = CaptureReader::open(&Source::from_arg(arg))
        .unwrap_or_else(|e| panic!("{arg}: cannot open: {e}"));
    let mut out = Vec::new();
    loop {
        let (global, link_type, ts_ns, orig_len, cap_len) = match reader.next_frame() {
            Ok(Some(f)) => (f.interface, f.link_type, f.ts_ns, f.orig_len, f.data.len()),
            Ok(None) => break,
            Err(e) => panic!("{arg}: {e}"),
        };
        let iface = reader
            .stats()
            .interfaces
            .iter()
            .find(|i| i.id == global)
            .unwrap_or_else(|| panic!("{arg}: frame names undeclared interface {global}"));
        assert_eq!(
            iface.link_type, link_type,
            "{arg}: frame link type vs its interface"
        );
        out.push(Packet {
            interface: iface.index_in_section,
            is_ethernet: link_type == LinkType::Ethernet,
            ts_ns,
            orig_len,
            cap_len: cap_len as u32,
        });
    }
    assert!(!reader.stats().truncated, "{arg}: reported as truncated");
    out
}

fn conformance_files() -> Option<Vec<PathBuf>> {
    let root = match corpus_dir() {
        Ok(d) => d.join("pcapng-conformance"),
        Err(tried) => {
            skip_or_fail(&format!("corpus not found at {tried}"));
            return None;
        }
    };
    let mut files = Vec::new();
    for endian in ["output_le", "output_be"] {
        for level in ["basic", "advanced", "difficult"] {
            let dir = root.join(endian).join(level);
            let entries =
                std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            for e in entries {
                let p = e.expect("dir entry").path();
                if p.extension().is_some_and(|x| x == "pcapng") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    Some(files)
}

#[test]
fn pcapng_conformance_per_packet() {
    let Some(files) = conformance_files() else {
        return;
    };
    assert!(files.len() >= 40, "only {} conformance files", files.len());
    let mut failures = Vec::new();
    for pcapng in &files {
        let csv = pcapng.with_extension("expected.csv");
        let want = expected(&csv);
        let got = read_packets(pcapng);
        if got != want {
            failures.push(format!(
                "{}:\n  expected {want:?}\n  got      {got:?}",
                pcapng.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn pcapng_conformance_cli_packet_counts() {
    let Some(files) = conformance_files() else {
        return;
    };
    for pcapng in &files {
        let want = expected(&pcapng.with_extension("expected.csv"));
        let report = analyze_json(pcapng);
        let c = &report["capture"];
        assert_eq!(c["format"], "pcapng", "{}", pcapng.display());
        assert_eq!(c["packets"], want.len() as u64, "{}", pcapng.display());
        let wire: u64 = want.iter().map(|p| p.orig_len as u64).sum();
        let captured: u64 = want.iter().map(|p| p.cap_len as u64).sum();
        assert_eq!(c["wire_bytes"], wire, "{}", pcapng.display());
        assert_eq!(c["captured_bytes"], captured, "{}", pcapng.display());
        let no_ts = want.iter().filter(|p| p.ts_ns.is_none()).count() as u64;
        assert_eq!(
            c["packets_without_timestamp"],
            no_ts,
            "{}",
            pcapng.display()
        );
        assert_eq!(c["truncated"], false, "{}", pcapng.display());
    }
}

#[test]
fn epoch_parsing() {
    assert_eq!(parse_epoch(""), None);
    assert_eq!(parse_epoch("0.000000000"), Some(0));
    assert_eq!(
        parse_epoch("1340954.905298858"),
        Some(1_340_954_905_298_858)
    );
    assert_eq!(parse_epoch("1.5"), Some(1_500_000_000));
}
