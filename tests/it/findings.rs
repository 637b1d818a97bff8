//! Findings (issue 14): the `switchover`, `vmotion-streams`, `vmotion-vmk-unused`,
//! `vmotion-vmk-skew`, `vmotion-throughput`, `cold-data-transport` and `provisioning-vmk-unused`
//! findings on the bundled captures and on synthetic ones; `--findings-only` and
//! `--findings-config`.

use serde_json::Value;

use crate::util::{
    TempDir, analyze_with, bundled, finding as one, findings_of as of, run, synth_capture,
};

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
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
    // all-vmware has six migrations: the two hot ones with vMotion get switchover, streams and
    // throughput; the two cold ones with NFC data their transport; all four with vMotion or NFC
    // streams their segment sizes and health, and what their payload shows (vMotion encryption,
    // NFC over TLS); Storage vMotion (NFS on one host) nothing.
    let r = analyze_with(&bundled("all-vmware.pcapng"), &[]);
    let ids: Vec<String> = findings(&r)
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["migration"].as_str().unwrap_or("-"),
                f["id"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "m1 switchover",
            "m1 vmotion-streams",
            "m1 vmotion-throughput",
            "m1 segment-size",
            "m1 stream-health",
            "m1 vmotion-encryption",
            "m2 cold-data-transport",
            "m2 segment-size",
            "m2 stream-health",
            "m2 nfc-tls",
            "m5 switchover",
            "m5 vmotion-streams",
            "m5 vmotion-throughput",
            "m5 segment-size",
            "m5 stream-health",
            "m5 vmotion-encryption",
            "m6 cold-data-transport",
            "m6 segment-size",
            "m6 stream-health",
            "m6 nfc-tls",
        ]
    );
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

/// Payload bytes the generator sent for migration `m` on `port`, both ways.
fn truth(summary: &Value, m: &str, port: u64) -> u64 {
    summary["payload"]
        .as_array()
        .expect("payload")
        .iter()
        .filter(|p| p["migration"] == m && p["port"] == port)
        .map(|p| p["bytes"].as_u64().expect("bytes"))
        .sum()
}

#[test]
fn multi_nic_vmotion_balance_and_skew() {
    let dir = TempDir::new("findings-skew");
    let base = [
        "--scenario",
        "vmotion:hot",
        "--memory-mb",
        "8",
        "--vmotion-vmks",
        "2",
    ];
    // Four streams, round-robin over vmk1 and vmk4, equal shares: balanced.
    let even = dir.path().join("even.pcap");
    synth_capture(&even, &[&base[..], &["--streams", "4"]].concat());
    let r = analyze_with(&even, &[]);
    let s = one(&r, "vmotion-streams", "m1");
    assert_eq!(s["evidence"]["by_vmk"]["esx01/vmk1"]["streams"], 2);
    assert_eq!(s["evidence"]["by_vmk"]["esx01/vmk4"]["streams"], 2);
    let skew = of(&r, "vmotion-vmk-skew", "m1");
    assert_eq!(skew.len(), 2, "one per host: {:?}", findings(&r));
    for f in &skew {
        assert_eq!(f["severity"], "info", "{f}");
        let ratio = f["evidence"]["ratio"].as_f64().expect("ratio");
        assert!((1.0..1.01).contains(&ratio), "{ratio}");
    }
    assert!(of(&r, "vmotion-vmk-unused", "m1").is_empty());
    // Two streams weighted 5:1, one per vmknic: five times as much on vmk1.
    let skewed = dir.path().join("skewed.pcap");
    synth_capture(
        &skewed,
        &[&base[..], &["--streams", "2", "--stream-weights", "5,1"]].concat(),
    );
    let r = analyze_with(&skewed, &[]);
    let skew = of(&r, "vmotion-vmk-skew", "m1");
    assert_eq!(skew.len(), 2, "{:?}", findings(&r));
    for f in &skew {
        assert_eq!(f["severity"], "warning", "{f}");
        let ratio = f["evidence"]["ratio"].as_f64().expect("ratio");
        assert!((4.95..5.05).contains(&ratio), "{ratio}");
        assert_eq!(f["evidence"]["max_ratio"], 2.0);
    }
    assert_eq!(findings(&r)[0]["id"], "vmotion-vmk-skew");
    // A higher stated ratio (--findings-config) makes it a figure again.
    let cfg = dir.write("cfg.json", br#"{"thresholds": {"vmk_skew_max_ratio": 6}}"#);
    let r = analyze_with(
        &skewed,
        &["--findings-config", cfg.to_str().expect("UTF-8")],
    );
    assert!(
        of(&r, "vmotion-vmk-skew", "m1")
            .iter()
            .all(|f| f["severity"] == "info")
    );
    // One stream over two vmknics: vmk4 carried nothing on either host.
    let one_stream = dir.path().join("one.pcap");
    synth_capture(&one_stream, &[&base[..], &["--streams", "1"]].concat());
    let r = analyze_with(&one_stream, &[]);
    let unused: Vec<&Value> = of(&r, "vmotion-vmk-unused", "m1")
        .into_iter()
        .map(|f| &f["evidence"]["vmk"])
        .collect();
    assert_eq!(unused, ["esx01/vmk4", "esx02/vmk4"]);
    assert!(of(&r, "vmotion-vmk-skew", "m1").is_empty());
}

#[test]
fn throughput_against_link_speed_documented_figures_and_the_minimum() {
    let dir = TempDir::new("findings-throughput");
    // 40 GbE, two vMotion vmknics, the speed in the inventory: KB 323379's figure is cited.
    let fast = dir.path().join("fast.pcap");
    let summary = synth_capture(
        &fast,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "16",
            "--vmotion-vmks",
            "2",
            "--streams",
            "4",
            "--link-gbps",
            "40",
            "--inventory-speed",
        ],
    );
    let r = analyze_with(&fast, &[]);
    let t = one(&r, "vmotion-throughput", "m1");
    assert_eq!(t["severity"], "info");
    let e = &t["evidence"];
    assert_eq!(e["link_mbps"], 80_000);
    assert_eq!(e["kb323379_gbps"], 28.0);
    assert_eq!(
        e["vmknics"],
        serde_json::json!(["esx01/vmk1", "esx01/vmk4"])
    );
    assert_eq!(e["stream_gbps"].as_array().map(Vec::len), Some(4));
    let bytes = e["bytes"].as_u64().expect("bytes");
    // The transfer phase holds the pre-copy, not the switchover burst nor the setup exchange.
    assert!(
        bytes < truth(&summary, "m1", 8000) && bytes > (16 << 20),
        "{bytes}"
    );
    let gbps = e["gbps"].as_f64().expect("gbps");
    // Over the transfer phase: the pre-copy passes and the pauses between them, timed at 40 Gb/s
    // of wire.
    let secs = e["transfer_s"].as_f64().expect("transfer_s");
    assert!(
        (gbps - bytes as f64 * 8.0 / secs / 1e9).abs() < 1e-9,
        "{gbps}"
    );
    assert!(gbps > 5.0 && gbps < 40.0, "{gbps}");
    let share = e["link_share"].as_f64().expect("share");
    assert!((share - gbps / 80.0).abs() < 1e-9, "{share}");
    // Without the speed in the inventory: no link figures.
    let r = analyze_with(&fast, &["--no-sidecars", "--scenario", "vmotion:hot"]);
    let e = &one(&r, "vmotion-throughput", "m1")["evidence"];
    assert_eq!(e["link_mbps"], Value::Null);
    assert_eq!(e["kb323379_gbps"], Value::Null);
    // A 100 Mb/s link is below the 250 Mb/s a vMotion needs.
    let slow = dir.path().join("slow.pcap");
    synth_capture(
        &slow,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "2",
            "--link-gbps",
            "0.1",
        ],
    );
    let r = analyze_with(&slow, &[]);
    let t = one(&r, "vmotion-throughput", "m1");
    assert_eq!(t["severity"], "warning");
    let gbps = t["evidence"]["gbps"].as_f64().expect("gbps");
    assert!(gbps > 0.08 && gbps < 0.1, "{gbps}");
    assert_eq!(t["evidence"]["min_mbps"], 250.0);
    assert!(
        t["message"]
            .as_str()
            .is_some_and(|m| m.contains("below the 250 Mb/s")),
        "{t}"
    );
}

#[test]
fn a_long_switchover_is_a_warning() {
    let dir = TempDir::new("findings-switchover");
    let out = dir.path().join("long.pcap");
    synth_capture(
        &out,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "2",
            "--rarp-delay-ms",
            "1500",
        ],
    );
    let r = analyze_with(&out, &[]);
    let f = one(&r, "switchover", "m1");
    assert_eq!(f["severity"], "warning");
    let e = &f["evidence"];
    let d = e["duration_s"].as_f64().expect("duration");
    assert!((1.5..1.51).contains(&d), "{d}");
    // The vMotion streams ended right after the final burst; the RARP came 1.5 s later.
    let to_end = e["to_last_vmotion_byte_s"].as_f64().expect("to end");
    assert!(to_end < 0.01, "{to_end}");
    let after = e["rarp_after_last_vmotion_byte_s"].as_f64().expect("after");
    assert!((1.49..1.51).contains(&after), "{after}");
    // A goal of 2 s makes it a figure.
    let cfg = dir.write("cfg.json", br#"{"thresholds": {"switchover_max_s": 2}}"#);
    let r = analyze_with(&out, &["--findings-config", cfg.to_str().expect("UTF-8")]);
    assert_eq!(one(&r, "switchover", "m1")["severity"], "info");
}

#[test]
fn cold_data_by_nfc_or_udt_and_an_unused_provisioning_vmk() {
    let dir = TempDir::new("findings-cold");
    let base = ["--scenario", "xvmotion:cold", "--disk-mb", "4"];
    // vSphere 7: NFC carries the disks between the provisioning vmks.
    let nfc = dir.path().join("nfc.pcap");
    let truth7 = synth_capture(&nfc, &base);
    let r = analyze_with(&nfc, &[]);
    let f = one(&r, "cold-data-transport", "m1");
    assert_eq!(f["evidence"]["transport"], "nfc");
    assert_eq!(f["evidence"]["nfc_bytes"], truth(&truth7, "m1", 902));
    assert_eq!(f["evidence"]["udt_bytes"], 0);
    let pair = &f["evidence"]["by_vmk_pair"]["esx01/vmk2 -> esx02/vmk2"];
    assert_eq!(
        pair["services"],
        serde_json::json!([["provisioning"], ["provisioning"]])
    );
    assert!(of(&r, "provisioning-vmk-unused", "m1").is_empty());
    // vSphere 8: UDT moves them over TCP 8000; NFC keeps the control.
    let udt = dir.path().join("udt.pcap");
    let truth8 = synth_capture(&udt, &[&base[..], &["--vsphere", "8.0"]].concat());
    let r = analyze_with(&udt, &[]);
    let f = one(&r, "cold-data-transport", "m1");
    assert_eq!(f["evidence"]["transport"], "udt");
    assert_eq!(f["evidence"]["udt_bytes"], truth(&truth8, "m1", 8000));
    assert_eq!(f["evidence"]["nfc_bytes"], truth(&truth8, "m1", 902));
    assert!(truth(&truth8, "m1", 902) < 4096);
    // The same capture labelled vSphere 7 says UDT came before its time.
    let labels = dir.write(
        "m.json",
        std::fs::read_to_string(udt.with_extension("pcap.migrations.json"))
            .expect("labels")
            .replace("\"8.0\"", "\"7.0\"")
            .as_bytes(),
    );
    let r = analyze_with(&udt, &["--migrations", labels.to_str().expect("UTF-8")]);
    let m = one(&r, "cold-data-transport", "m1")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(m.contains("before UDT"), "{m}");
    // KB 340170's routed case: the source sends from vmk0; its provisioning vmk2 is unused.
    let routed = dir.path().join("routed.pcap");
    synth_capture(&routed, &[&base[..], &["--nfc-asymmetric"]].concat());
    let r = analyze_with(&routed, &[]);
    let w = one(&r, "provisioning-vmk-unused", "m1");
    assert_eq!(w["severity"], "warning");
    assert_eq!(w["evidence"]["vmk"], "esx01/vmk2");
    assert_eq!(
        w["evidence"]["carried_by"]["esx01/vmk0"],
        truth(&truth7, "m1", 902)
    );
    // An inferred inventory says nothing of services: no warning.
    let r = analyze_with(&routed, &["--no-sidecars", "--scenario", "xvmotion:cold"]);
    assert!(
        of(&r, "provisioning-vmk-unused", "m1").is_empty(),
        "{:?}",
        findings(&r)
    );
    assert_eq!(
        one(&r, "cold-data-transport", "m1")["evidence"]["transport"],
        "nfc"
    );
}

#[test]
fn findings_only_and_a_bad_findings_config() {
    let dir = TempDir::new("findings-cli");
    let capture = bundled("all-vmware.pcapng");
    let c = capture.to_str().expect("UTF-8");
    let r = run(&["analyze", c, "--findings-only"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let stdout = String::from_utf8(r.stdout).expect("UTF-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "Findings:");
    let report = analyze_with(&capture, &[]);
    assert_eq!(lines.len(), 1 + findings(&report).len(), "{stdout}");
    assert!(
        lines[1..].iter().all(|l| l.starts_with("  info ")),
        "{stdout}"
    );
    // No finding: the block says so.
    let ns = bundled("namespace-tcp.pcap");
    let r = run(&["analyze", ns.to_str().expect("UTF-8"), "--findings-only"]);
    assert_eq!(r.stdout, b"Findings: none\n");
    // A misspelt threshold is refused, naming the file and the known names.
    let bad = dir.write("bad.json", br#"{"thresholds": {"switchover_s": 2}}"#);
    let r = run(&[
        "analyze",
        c,
        "--findings-config",
        bad.to_str().expect("UTF-8"),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("bad.json: unknown threshold \"switchover_s\"")
            && r.stderr.contains("switchover_max_s"),
        "{}",
        r.stderr
    );
    let r = run(&["analyze", c, "--findings-config", "/nonexistent/f.json"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("/nonexistent/f.json"), "{}", r.stderr);
}
