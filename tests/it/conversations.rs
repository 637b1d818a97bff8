//! Issue 13, finding 3: the conversation table is bounded. Beyond `--max-conversations` the
//! smallest conversations fold into aggregates, and every total of the report stays what it is
//! without the bound; memory stays flat however many distinct conversations come.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use crate::util::{End, PcapWriter, TempDir, analyze_with, read_report, vmkflow, wait_peak_rss};

const VMWARE: [u8; 3] = [0x00, 0x50, 0x56];

fn mac(oui: [u8; 3], n: u32) -> [u8; 6] {
    let b = n.to_be_bytes();
    [oui[0], oui[1], oui[2], b[1], b[2], b[3]]
}

const ACK: u8 = 0x10;
const SYN: u8 = 0x02;
const PSH_ACK: u8 = 0x18;

/// Two hosts' vMotion vmks with a vMotion connection and a heartbeat to vCenter, then `scans`
/// small conversations from other addresses (VMs with VMware MACs and machines without) to the
/// first host and to vCenter, then more vMotion data.
fn vsphere_with_scans(scans: u32) -> Vec<u8> {
    let a: End = (mac(VMWARE, 0x61_0001), [10, 0, 20, 11], 40_000);
    let b: End = (mac(VMWARE, 0x62_0001), [10, 0, 20, 12], 8000);
    let hb: End = (mac(VMWARE, 0x61_0000), [10, 0, 10, 11], 902);
    let vc: End = ([0x02, 0x11, 0x22, 0x33, 0x44, 0x55], [10, 0, 10, 5], 902);
    let mut p = PcapWriter::new(100);
    p.frame(a, b, Some((SYN, 0)), &[]);
    p.frame(b, a, Some((SYN | ACK, 0)), &[]);
    p.frame(a, b, Some((ACK, 1)), &[]);
    let mut seq = 1u32;
    let mut data = |p: &mut PcapWriter, rounds: u32| {
        for _ in 0..rounds {
            p.frame(a, b, Some((PSH_ACK, seq)), &[0x5a; 1_400]);
            seq += 1_400;
            p.frame(b, a, Some((ACK, 1)), &[]);
        }
    };
    data(&mut p, 20);
    p.frame(hb, vc, None, &[0x5a; 64]);
    for i in 0..scans {
        let oui = if i % 2 == 0 {
            VMWARE
        } else {
            [0x02, 0x00, 0x5e]
        };
        let src = (
            mac(oui, i),
            (0xac10_0000 + i).to_be_bytes(),
            (1024 + i % 50_000) as u16,
        );
        let payload = [0x5a; 16];
        if i % 3 == 0 {
            p.frame(
                src,
                (vc.0, vc.1, 53),
                None,
                &payload[..10 + (i % 7) as usize],
            );
        } else {
            p.frame(
                src,
                (a.0, a.1, 22),
                Some((PSH_ACK, i)),
                &payload[..10 + (i % 5) as usize],
            );
        }
    }
    data(&mut p, 20);
    p.frame(hb, vc, None, &[0x5a; 64]);
    p.out
}

/// The report less what folding itself changes: the counts of conversations and the warning
/// that says conversations were folded.
fn totals_of(mut report: Value) -> Value {
    if let Some(s) = report["flow_summary"].as_object_mut() {
        for k in [
            "conversations",
            "conversations_folded",
            "largest_folded_conversation_bytes",
        ] {
            s.remove(k);
        }
    }
    if let Some(w) = report["warnings"].as_array_mut() {
        w.retain(|w| !w.as_str().unwrap_or("").contains("conversations were open"));
    }
    report["input"] = Value::Null;
    report
}

/// With a bound of 64 conversations, 3 000 small ones fold into aggregates: networks, classes,
/// per-vmk, per-migration and verification figures are the same as without the bound, with an
/// inventory and with an inferred one.
#[test]
fn folded_conversations_keep_every_total() {
    let dir = TempDir::new("fold-totals");
    let capture = dir.write("scans.pcap", &vsphere_with_scans(3_000));
    let inventory = dir.write(
        "inventory.json",
        br#"{"hosts": [
            {"name": "esx01", "vmknics": [
                {"name": "vmk0", "ip": "10.0.10.11/24", "services": ["management"]},
                {"name": "vmk1", "ip": "10.0.20.11/24", "services": ["vmotion"]}]},
            {"name": "esx02", "vmknics": [
                {"name": "vmk1", "ip": "10.0.20.12/24", "services": ["vmotion"]}]}]}"#,
    );
    let inv = inventory.to_str().expect("UTF-8");
    for (what, extra) in [
        ("inferred", vec!["--scenario", "vmotion:hot"]),
        (
            "inventory",
            vec!["--scenario", "vmotion:hot", "--inventory", inv],
        ),
    ] {
        let whole = analyze_with(&capture, &extra);
        let mut bounded_args = extra.clone();
        bounded_args.extend(["--max-conversations", "64"]);
        let bounded = analyze_with(&capture, &bounded_args);
        let s = &bounded["flow_summary"];
        assert!(
            s["conversations_folded"].as_u64().unwrap_or(0) > 2_000,
            "{what}: {s}"
        );
        assert!(
            s["conversations"].as_u64().unwrap_or(u64::MAX) <= 64,
            "{what}: {s}"
        );
        assert_eq!(whole["flow_summary"]["conversations_folded"], 0, "{what}");
        assert!(
            bounded["warnings"]
                .to_string()
                .contains("were folded into aggregates"),
            "{what}: {}",
            bounded["warnings"]
        );
        // The scans reached the vm and external networks, and esx01's vmk1 received them.
        let networks = &whole["networks"];
        assert!(
            networks["vm"]["flows"].as_u64().unwrap_or(0) > 0,
            "{what}: {networks}"
        );
        assert!(
            networks["external"]["flows"].as_u64().unwrap_or(0) > 0,
            "{what}: {networks}"
        );
        assert_eq!(totals_of(whole), totals_of(bounded), "{what}");
    }
}

/// One UDP packet from each of `n` distinct clients to one server: `n` distinct conversations.
fn distinct_conversations(n: u32, out: &mut dyn Write) -> std::io::Result<u64> {
    let mut p = PcapWriter::new(100);
    let server: End = ([0x02, 0, 0, 0, 0, 1], [192, 0, 2, 53], 53);
    let mut wire = 0u64;
    out.write_all(&p.out)?;
    for i in 0..n {
        p.out.clear();
        let client = (
            [0x02, 0, 0, 0, 0, 2],
            (0x0b00_0000 + i).to_be_bytes(),
            40_000,
        );
        p.frame(client, server, None, b"abcd");
        wire += (p.out.len() - 16) as u64;
        out.write_all(&p.out)?;
    }
    Ok(wire)
}

/// A million distinct conversations through standard input took 1.1 GB and 7.6 s before the
/// bound; now the run stays under 256 MiB, and the totals count every packet.
#[test]
fn a_million_conversations_from_stdin_stay_under_256_mib() {
    const N: u32 = 1_000_000;
    let dir = TempDir::new("million");
    let json = dir.path().join("report.json");
    let mut child = vmkflow()
        .args(["analyze", "-", "--quiet", "--json"])
        .arg(&json)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn vmkflow");
    let mut stdin = std::io::BufWriter::new(child.stdin.take().expect("stdin"));
    let wire = distinct_conversations(N, &mut stdin).expect("write the capture");
    drop(stdin);
    let (code, peak_kib) = wait_peak_rss(&mut child);
    assert_eq!(code, 0);
    assert!(peak_kib <= 256 * 1024, "peak RSS {peak_kib} KiB");
    let report = read_report(&json);
    let dns = &report["classes"]["dns"];
    assert_eq!(dns["packets"], N);
    assert_eq!(dns["flows"], N);
    assert_eq!(dns["wire_bytes"], wire);
    assert_eq!(dns["payload_bytes"], 4 * N as u64);
    assert_eq!(report["networks"]["external"]["wire_bytes"], wire);
    let s = &report["flow_summary"];
    assert!(
        s["conversations_folded"].as_u64().unwrap_or(0) >= 900_000,
        "{s}"
    );
    assert!(
        s["conversations"].as_u64().unwrap_or(u64::MAX) <= 65_536,
        "{s}"
    );
    let size = std::fs::metadata(&json).expect("report").len();
    assert!(size < 32 << 20, "report of {size} bytes");
}
