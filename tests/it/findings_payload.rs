//! Findings from payload bytes (issue 14, questions 6, 7, 10): `vmotion-encryption`, `nfc-tls`
//! and `host-identity`, each produced on a synthetic capture made to show it and checked absent
//! (or with its other outcome) on one that does not; header-only captures answer `unknown`.

use std::process::Command;

use serde_json::Value;

use crate::util::{
    TempDir, analyze_with, bundled, find_tool, finding as one, run, skip_or_fail, synth_capture,
};

fn of<'a>(report: &'a Value, id: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["id"] == id)
        .collect()
}

fn warnings(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["severity"] == "warning")
        .collect()
}

/// Synthesizes `args` into a fresh directory and analyses it (with its sidecar labels and
/// inventory); returns the generator's account and the report.
fn synth_and_analyze(tag: &str, args: &[&str]) -> (Value, Value, TempDir) {
    let dir = TempDir::new(tag);
    let out = dir.path().join("c.pcap");
    let truth = synth_capture(&out, args);
    let report = analyze_with(&out, &[]);
    (truth, report, dir)
}

#[test]
fn plain_vmotion_is_a_warning_with_its_precopy_iterations() {
    for (scenario, iterations) in [("vmotion:hot", "3"), ("xvmotion:hot", "4")] {
        let (truth, r, _d) = synth_and_analyze(
            "payload-plain",
            &[
                "--scenario",
                scenario,
                "--memory-mb",
                "2",
                "--disk-mb",
                "2",
                "--vmotion-payload",
                "plain",
                "--precopy-iterations",
                iterations,
            ],
        );
        let n: u64 = iterations.parse().expect("number");
        assert_eq!(truth["payload_truth"]["vmotion_payload"], "plain");
        assert_eq!(truth["payload_truth"]["precopy_iterations"], n);
        let f = one(&r, "vmotion-encryption", "m1");
        assert_eq!(f["severity"], "warning", "{scenario}: {f}");
        let e = &f["evidence"];
        assert_eq!(e["outcome"], "plain");
        assert_eq!(e["streams_plain"], 2);
        assert_eq!(e["precopy_iterations"], n, "{scenario}");
        for s in e["streams"].as_array().expect("streams") {
            assert_eq!(s["outcome"], "plain");
            assert_eq!(s["from_stream_start"], true);
            // Huppert's count: the passes plus the last (switchover) iteration.
            assert_eq!(s["iterations"], n + 1);
            assert_eq!(s["last_iteration_marker"], true);
            assert_eq!(s["last_bundle_read"], true);
            assert_eq!(s["read_stopped"], Value::Null);
            assert!(s["from"].as_str().expect("from").starts_with("esx01/vmk1"));
        }
        assert!(
            f["message"]
                .as_str()
                .expect("message")
                .contains(&format!("{n} pre-copy"))
        );
        assert!(
            f["reference"]
                .as_str()
                .expect("reference")
                .contains("Huppert")
        );
    }
}

#[test]
fn opaque_vmotion_is_not_plain_and_no_warning() {
    let (truth, r, _d) = synth_and_analyze(
        "payload-opaque",
        &["--scenario", "vmotion:hot", "--memory-mb", "2"],
    );
    assert!(
        truth.get("payload_truth").is_none(),
        "defaults write no payload truth"
    );
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    let f = one(&r, "vmotion-encryption", "m1");
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["evidence"]["outcome"],
        "not plain (encrypted or unknown format)"
    );
    assert_eq!(f["evidence"]["precopy_iterations"], Value::Null);
    assert_eq!(f["evidence"]["streams_not_plain"], 2);
    // The explicit option writes the same bytes as the default.
    let dir = TempDir::new("payload-opaque-explicit");
    let (a, b) = (dir.path().join("a.pcap"), dir.path().join("b.pcap"));
    synth_capture(&a, &["--scenario", "vmotion:hot", "--memory-mb", "2"]);
    synth_capture(
        &b,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "2",
            "--vmotion-payload",
            "encrypted",
            "--precopy-iterations",
            "4",
        ],
    );
    assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
}

#[test]
fn header_only_captures_answer_unknown() {
    let common = [
        "--scenario",
        "all",
        "--memory-mb",
        "2",
        "--disk-mb",
        "2",
        "--vmotion-payload",
        "plain",
        "--nfc-tls",
        "no",
    ];
    // No payload byte captured (Ethernet, IPv4 and TCP headers only).
    let mut args = common.to_vec();
    args.extend(["--snaplen", "54"]);
    let (_t, r, _d) = synth_and_analyze("payload-header-only", &args);
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    for m in ["m1", "m5"] {
        let f = one(&r, "vmotion-encryption", m);
        assert_eq!(f["evidence"]["outcome"], "unknown", "{m}");
        for s in f["evidence"]["streams"].as_array().expect("streams") {
            assert_eq!(s["outcome"], "unknown (header-only)");
        }
    }
    for m in ["m2", "m6"] {
        let f = one(&r, "nfc-tls", m);
        assert_eq!(f["severity"], "info");
        assert_eq!(
            f["evidence"]["flows"][0]["outcome"], "unknown (header-only)",
            "{m}"
        );
    }
    // 42 payload bytes per segment: the stream's magic shows, its iterations do not.
    let mut args = common.to_vec();
    args.extend(["--snaplen", "96"]);
    let (_t, r, _d) = synth_and_analyze("payload-snap96", &args);
    let f = one(&r, "vmotion-encryption", "m1");
    assert_eq!(f["evidence"]["outcome"], "plain");
    assert_eq!(f["evidence"]["precopy_iterations"], Value::Null);
    let s = &f["evidence"]["streams"][0];
    assert_eq!(s["read_stopped"]["at_byte"], 42);
    assert!(
        f["message"]
            .as_str()
            .expect("message")
            .contains("pre-copy iterations unknown")
    );
}

#[test]
fn nfc_inside_tls_or_not() {
    let base = ["--scenario", "xvmotion:cold", "--disk-mb", "2"];
    let mut yes = base.to_vec();
    yes.extend(["--nfc-tls", "yes"]);
    let (truth, r, _d) = synth_and_analyze("payload-nfc-yes", &yes);
    assert_eq!(truth["payload_truth"]["nfc_tls"], true);
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    let f = one(&r, "nfc-tls", "m1");
    assert_eq!(f["severity"], "info");
    assert_eq!(f["evidence"]["outcome"], "tls");
    let flow = &f["evidence"]["flows"][0];
    assert_eq!(flow["outcome"], "tls");
    assert_eq!(flow["client_hello"], true);
    assert_eq!(flow["banner_ssl_required"], true);
    assert_eq!(flow["banner_nfcssl_supported"], true);
    assert_eq!(flow["bulk_direction"], "client to server");
    assert!(flow["bulk_application_data_bytes"].as_u64().expect("bytes") > 2 << 20);
    assert!(
        flow["authd_banner"]
            .as_str()
            .expect("banner")
            .starts_with("220 VMware Authentication Daemon Version 1.10")
    );

    let mut no = base.to_vec();
    no.extend(["--nfc-tls", "no"]);
    let (_t, r, _d) = synth_and_analyze("payload-nfc-no", &no);
    let f = one(&r, "nfc-tls", "m1");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["evidence"]["outcome"], "plain");
    let flow = &f["evidence"]["flows"][0];
    assert_eq!(flow["banner_ssl_required"], false);
    assert_eq!(flow["bulk_tls_records"], 0);
    assert_eq!(flow["bulk_not_tls_at_byte"], 0);

    // Without the option NFC carries no banner: nothing can be said.
    let (_t, r, _d) = synth_and_analyze("payload-nfc-none", &base);
    let f = one(&r, "nfc-tls", "m1");
    assert_eq!(f["severity"], "info");
    assert_eq!(
        f["evidence"]["flows"][0]["outcome"],
        "unknown (no authd banner seen)"
    );
}

#[test]
fn heartbeats_name_hosts_and_their_builds() {
    let args = [
        "--scenario",
        "vmotion:hot",
        "--memory-mb",
        "1",
        "--noise",
        "2",
        "--esxi-build",
        "21495797",
    ];
    let dir = TempDir::new("payload-hb");
    let out = dir.path().join("hb.pcap");
    let truth = synth_capture(&out, &args);
    let senders = truth["payload_truth"]["heartbeat_senders"].clone();
    assert_eq!(senders, serde_json::json!(["10.0.10.11", "10.0.10.12"]));
    let r = analyze_with(&out, &[]);
    let f = of(&r, "host-identity");
    assert_eq!(f.len(), 2, "{:?}", r["findings"]);
    for (f, (addr, host)) in f
        .iter()
        .zip([("10.0.10.11", "esx01"), ("10.0.10.12", "esx02")])
    {
        assert_eq!(f["severity"], "info");
        assert_eq!(f["migration"], Value::Null);
        let e = &f["evidence"];
        assert_eq!(e["sender"], addr);
        assert_eq!(e["address"], addr);
        assert_eq!(e["build"], 21_495_797);
        assert_eq!(e["release"], "ESXi 8.0 Update 1");
        assert_eq!(e["host"], host, "the given inventory's name");
        assert!(e["heartbeats"].as_u64().expect("count") >= 1);
        assert!(
            f["reference"]
                .as_str()
                .expect("reference")
                .contains("KB 2143832")
        );
    }
    // Without an inventory the hosts are named after their heartbeats.
    let r = analyze_with(&out, &["--no-sidecars"]);
    let f = of(&r, "host-identity");
    assert_eq!(f[0]["evidence"]["host"], "esxi-10.0.10.11");
    assert_eq!(f[1]["evidence"]["host"], "esxi-10.0.10.12");
    // A build the table does not know: no release, still the number.
    let out2 = dir.path().join("hb2.pcap");
    let mut other = args.to_vec();
    other[7] = "1234567";
    synth_capture(&out2, &other);
    let r = analyze_with(&out2, &[]);
    let f = of(&r, "host-identity");
    assert_eq!(f[0]["evidence"]["release"], Value::Null);
    assert_eq!(f[0]["evidence"]["build"], 1_234_567);
}

#[test]
fn random_heartbeats_give_no_identity_and_names_stay() {
    let dir = TempDir::new("payload-hb-random");
    let out = dir.path().join("n.pcap");
    synth_capture(
        &out,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "1",
            "--noise",
            "2",
        ],
    );
    let r = analyze_with(&out, &["--no-sidecars"]);
    assert!(of(&r, "host-identity").is_empty(), "{:?}", r["findings"]);
    let s = serde_json::to_string(&r).expect("json");
    assert!(!s.contains("esxi-10."), "no host named after a heartbeat");
    assert!(s.contains("host-10.0.10.11"));
    // The option needs noise, and IPv4.
    let bad = run(&[
        "synth",
        "-q",
        "--scenario",
        "vmotion:hot",
        "--esxi-build",
        "1",
        "--out",
        dir.path().join("x.pcap").to_str().expect("path"),
    ]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("--esxi-build"), "{}", bad.stderr);
}

#[test]
fn bundled_captures_get_payload_findings_without_warnings() {
    for capture in [
        "all-vmware.pcapng",
        "all-article.pcap",
        "vmotion-hot-erspan3.pcap",
        "xvmotion-hot-ipv6-vlan.pcap",
    ] {
        let r = analyze_with(&bundled(capture), &[]);
        assert!(warnings(&r).is_empty(), "{capture}: {:?}", warnings(&r));
        for f in of(&r, "vmotion-encryption") {
            assert_ne!(f["evidence"]["outcome"], "plain", "{capture}");
        }
        for f in of(&r, "nfc-tls") {
            assert_eq!(f["evidence"]["outcome"], "unknown", "{capture}");
        }
        assert!(of(&r, "host-identity").is_empty(), "{capture}");
    }
}

#[test]
fn tshark_reads_the_same_heartbeat() {
    let Some(tshark) = find_tool("tshark") else {
        skip_or_fail("tshark is not installed");
        return;
    };
    let protocols = Command::new(&tshark).args(["-G", "protocols"]).output();
    let has_hb = protocols.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("vmware_hb"));
    if !has_hb {
        // Wireshark's vmware_hb dissector came with 4.2; an older tshark cannot cross-check.
        eprintln!("skipping: this tshark has no vmware_hb dissector (Wireshark 4.2 or later)");
        return;
    }
    let dir = TempDir::new("payload-hb-tshark");
    let out = dir.path().join("hb.pcap");
    synth_capture(
        &out,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "1",
            "--noise",
            "2",
            "--esxi-build",
            "21495797",
        ],
    );
    let o = Command::new(&tshark)
        .args([
            "-r",
            out.to_str().expect("path"),
            "-Y",
            "vmware_hb",
            "-T",
            "fields",
        ])
        .args([
            "-e",
            "ip.src",
            "-e",
            "vmware_hb.build_number",
            "-e",
            "vmware_hb.esxi_ip4_address",
        ])
        .output()
        .expect("tshark runs");
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        !lines.is_empty(),
        "tshark decoded no heartbeat: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        assert_eq!(f.get(1), Some(&"21495797"), "{l}");
        assert_eq!(f.first(), f.get(2), "sender is the stated address: {l}");
    }
}
