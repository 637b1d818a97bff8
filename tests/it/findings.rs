//! Findings (issue 14): the `switchover`, `vmotion-streams` and `vmotion-vmk-unused` findings on
//! the bundled captures and on synthetic ones.

use serde_json::Value;

use crate::util::{TempDir, analyze_with, bundled, synth_capture};

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

fn of<'a>(report: &'a Value, id: &str, migration: &str) -> Vec<&'a Value> {
    findings(report)
        .iter()
        .filter(|f| f["id"] == id && f["migration"] == migration)
        .collect()
}

#[test]
fn bundled_captures_have_no_warning_and_the_expected_streams() {
    // (capture, migration, vMotion streams, bytes)
    let expected = [
        ("vmotion-hot-erspan3.pcap", "m1", 2, 1_529_600),
        ("xvmotion-hot-ipv6-vlan.pcap", "m1", 2, 2_578_176),
        ("all-vmware.pcapng", "m1", 2, 1_529_600),
        ("all-vmware.pcapng", "m5", 2, 2_578_176),
        // The article model sends one stream.
        ("all-article.pcap", "m1", 1, 5_120),
        ("all-article.pcap", "m5", 1, 1_048_576),
    ];
    for (capture, m, streams, bytes) in expected {
        let r = analyze_with(&bundled(capture), &[]);
        let warnings: Vec<&Value> = findings(&r)
            .iter()
            .filter(|f| f["severity"] == "warning")
            .collect();
        assert!(warnings.is_empty(), "{capture}: {warnings:?}");
        let s = of(&r, "vmotion-streams", m);
        assert_eq!(s.len(), 1, "{capture} {m}: {:?}", findings(&r));
        assert_eq!(s[0]["evidence"]["streams"], streams, "{capture} {m}");
        assert_eq!(s[0]["evidence"]["bytes"], bytes, "{capture} {m}");
        assert_eq!(
            s[0]["reference"],
            "VMware KB 2007467: Multiple-NIC vMotion in vSphere"
        );
        let sw = of(&r, "switchover", m);
        assert_eq!(sw.len(), 1, "{capture} {m}");
        assert_eq!(sw[0]["severity"], "info");
        assert_eq!(sw[0]["evidence"]["rarp_seen"], true);
        let d = sw[0]["evidence"]["duration_s"].as_f64().expect("duration");
        assert!(d > 0.0 && d < 0.01, "{capture} {m}: {d}");
    }
    // Only hot migrations with vMotion get these findings: all-vmware has six migrations, two
    // of them hot vMotion/xvMotion (the payload findings: tests/it/findings_payload.rs).
    let r = analyze_with(&bundled("all-vmware.pcapng"), &[]);
    let streams = findings(&r)
        .iter()
        .filter(|f| f["id"] == "switchover" || f["id"] == "vmotion-streams")
        .count();
    assert_eq!(streams, 4, "{:?}", findings(&r));
}

#[test]
fn namespace_capture_has_no_findings() {
    let r = analyze_with(&bundled("namespace-tcp.pcap"), &[]);
    assert_eq!(findings(&r), &Vec::<Value>::new());
}

#[test]
fn synthetic_streams_per_vmk_and_host_pair() {
    let dir = TempDir::new("findings-streams");
    let out = dir.path().join("v.pcap");
    synth_capture(
        &out,
        &[
            "--scenario",
            "vmotion:hot",
            "--streams",
            "4",
            "--memory-mb",
            "1",
            "--snaplen",
            "96",
        ],
    );
    let r = analyze_with(&out, &[]);
    let s = of(&r, "vmotion-streams", "m1");
    assert_eq!(s.len(), 1, "{:?}", findings(&r));
    let e = &s[0]["evidence"];
    assert_eq!(e["streams"], 4);
    let by_vmk = e["by_vmk"].as_object().expect("by_vmk");
    assert_eq!(by_vmk.len(), 2, "{by_vmk:?}");
    for t in by_vmk.values() {
        assert_eq!(t["streams"], 4);
        assert_eq!(t["bytes"], e["bytes"]);
    }
    let pairs = e["by_host_pair"].as_object().expect("by_host_pair");
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    let bytes = e["bytes"].as_u64().expect("bytes");
    assert_eq!(e["bytes_per_stream"].as_u64(), Some(bytes / 4));
    assert!(bytes >= 1 << 20, "{bytes}");
}

#[test]
fn a_vmotion_vmk_that_carried_nothing_is_a_warning() {
    let dir = TempDir::new("findings-unused");
    let mut inv: Value = serde_json::from_slice(
        &std::fs::read(bundled("vmotion-hot-erspan3.pcap.inventory.json")).expect("inventory"),
    )
    .expect("json");
    // esx01's vmk3 (a storage vmk) gets the vMotion service too: no vMotion stream used it.
    let vmk3 = inv["hosts"][0]["vmknics"]
        .as_array_mut()
        .expect("vmknics")
        .iter_mut()
        .find(|v| v["name"] == "vmk3")
        .expect("vmk3");
    vmk3["services"] = serde_json::json!(["vmotion"]);
    let path = dir.write("inv.json", &serde_json::to_vec(&inv).expect("json"));
    let r = analyze_with(
        &bundled("vmotion-hot-erspan3.pcap"),
        &["--inventory", path.to_str().expect("UTF-8")],
    );
    let w = of(&r, "vmotion-vmk-unused", "m1");
    assert_eq!(w.len(), 1, "{:?}", findings(&r));
    assert_eq!(w[0]["severity"], "warning");
    assert_eq!(w[0]["evidence"]["vmk"], "esx01/vmk3");
    assert_eq!(w[0]["evidence"]["streams"], 2);
    // Warnings come first.
    assert_eq!(findings(&r)[0]["id"], "vmotion-vmk-unused");
}
