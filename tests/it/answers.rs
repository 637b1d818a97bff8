//! No silent wrong answers: the inputs a new user really produces (inventories and labels that
//! name hosts differently, …) give the right answer, or say plainly why there is none.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{TempDir, bundled, powercli_csv, run};

/// `vmkflow analyze CAPTURE ARGS --json - -q`, asserting success: the report and what was said
/// on standard error.
fn analyze(capture: &Path, args: &[&str]) -> (Value, String) {
    let mut all = vec!["analyze", capture.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "-", "-q"]);
    let r = run(&all);
    assert_eq!(r.code, 0, "analyze {args:?}: {}", r.stderr);
    (r.json(), r.stderr)
}

/// (claim set, row) → verdict.
fn verdicts(report: &Value) -> BTreeMap<(String, u64), String> {
    let mut out = BTreeMap::new();
    for set in report["verification"].as_array().expect("verification") {
        for row in set["rows"].as_array().expect("rows") {
            out.insert(
                (
                    set["claim_set"].as_str().expect("name").to_string(),
                    row["row"].as_u64().expect("row"),
                ),
                row["verdict"].as_str().expect("verdict").to_string(),
            );
        }
    }
    out
}

fn bundled_inventory() -> Value {
    let text = std::fs::read(bundled("all-vmware.pcapng.inventory.json")).expect("inventory");
    serde_json::from_slice(&text).expect("inventory JSON")
}

/// Labels name `esx01`/`esx02`; a PowerCLI export names `esx01.lab.local`: the hosts match by
/// short name and the verdicts are those of the inventory with the same names. They were all
/// inconclusive, with `0 B data` and no warning.
#[test]
fn label_hosts_match_fully_qualified_inventory_hosts() {
    let capture = bundled("all-vmware.pcapng");
    let labels = bundled("all-vmware.pcapng.migrations.json");
    let labels = labels.to_str().expect("path");
    let (want, _) = analyze(&capture, &[]);
    let dir = TempDir::new("answers-fqdn");
    let csv = dir.write(
        "vmks.csv",
        powercli_csv(&bundled_inventory(), ".lab.local", true).as_bytes(),
    );
    let (got, stderr) = analyze(
        &capture,
        &[
            "--inventory",
            csv.to_str().expect("path"),
            "--migrations",
            labels,
        ],
    );
    assert_eq!(verdicts(&got), verdicts(&want));
    for (g, w) in got["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .zip(want["migrations"].as_array().expect("migrations"))
    {
        assert_eq!(g["data_bytes"], w["data_bytes"], "{}", g["id"]);
        assert_eq!(g["scope"], "hosts");
        assert_eq!(g["host_matches"][0]["matched_by"], "short_name");
        assert_eq!(g["host_matches"][0]["inventory_host"], "esx01.lab.local");
    }
    assert_eq!(got["warnings"], Value::Array(Vec::new()));
    assert!(!stderr.contains("warning"), "{stderr}");
}

/// An inventory saved with `--write-inventory` names hosts `host-ADDRESS`: labels naming
/// `esx01` match none of them, which vmkflow says; each window's traffic counts as its
/// migration's (the windows do not overlap), so the verdicts are not all inconclusive.
#[test]
fn labels_against_an_inferred_inventory_use_the_window() {
    let capture = bundled("all-vmware.pcapng");
    let labels = bundled("all-vmware.pcapng.migrations.json");
    let dir = TempDir::new("answers-inferred");
    let inv = dir.path().join("inferred.json");
    let (_, _) = analyze(
        &capture,
        &[
            "--no-sidecars",
            "--write-inventory",
            inv.to_str().expect("path"),
        ],
    );
    let (got, stderr) = analyze(
        &capture,
        &[
            "--inventory",
            inv.to_str().expect("path"),
            "--migrations",
            labels.to_str().expect("path"),
        ],
    );
    let m1 = &got["migrations"][0];
    assert_eq!(m1["scope"], "window");
    assert_eq!(m1["host_matches"][0]["inventory_host"], Value::Null);
    assert!(
        m1["data_bytes"].as_u64().expect("bytes") > 1_000_000,
        "{m1}"
    );
    let warning = got["warnings"][0].as_str().expect("a warning");
    assert!(
        warning.contains("`esx01`") && warning.contains("host-10.0.10.11"),
        "names the label's host and those that exist: {warning}"
    );
    assert!(stderr.contains("warning: migration m1"), "{stderr}");
    let v = verdicts(&got);
    assert!(
        v.values().any(|x| x == "confirmed" || x == "contradicted"),
        "{v:?}"
    );
}

/// A label naming a host in no inventory at all: said, with the hosts that exist; its other
/// host still scopes the bytes.
#[test]
fn a_label_host_in_no_inventory_is_named() {
    let capture = bundled("all-vmware.pcapng");
    let dir = TempDir::new("answers-unknown-host");
    let text = std::fs::read_to_string(bundled("all-vmware.pcapng.migrations.json"))
        .expect("labels")
        .replacen(
            "\"source_host\": \"esx01\"",
            "\"source_host\": \"esx09\"",
            1,
        );
    let labels = dir.write("labels.json", text.as_bytes());
    let (got, stderr) = analyze(&capture, &["--migrations", labels.to_str().expect("path")]);
    let m1 = &got["migrations"][0];
    assert_eq!(m1["scope"], "hosts");
    assert_eq!(m1["host_matches"][1]["inventory_host"], "esx02");
    let w = got["warnings"][0].as_str().expect("a warning");
    assert!(w.contains("`esx09`") && w.contains("esx01, esx02"), "{w}");
    assert!(stderr.contains("esx09"), "{stderr}");
}

/// Two labelled windows that overlap, whose hosts are in no inventory: the traffic could be
/// either's, so their claims are inconclusive, saying why.
#[test]
fn overlapping_windows_without_hosts_are_inconclusive() {
    let capture = bundled("all-vmware.pcapng");
    let dir = TempDir::new("answers-overlap");
    let labels = r#"{"migrations": [
        {"id": "a", "kind": "vmotion", "state": "hot", "source_host": "x1", "dest_host": "x2",
         "start": "2026-03-02T10:00:00Z", "end": "2026-03-02T10:00:02Z"},
        {"id": "b", "kind": "vmotion", "state": "cold", "source_host": "x3", "dest_host": "x4",
         "start": "2026-03-02T10:00:01Z", "end": "2026-03-02T10:00:03Z"}]}"#;
    let labels = dir.write("labels.json", labels.as_bytes());
    let (got, _) = analyze(&capture, &["--migrations", labels.to_str().expect("path")]);
    for m in got["migrations"].as_array().expect("migrations") {
        for v in m["verdicts"].as_array().expect("verdicts") {
            assert_eq!(v["verdict"], "inconclusive", "{}", m["id"]);
            let why = v["inconclusive_because"].as_str().expect("a reason");
            assert!(why.contains("overlaps"), "{why}");
        }
    }
}

/// A PowerCLI export with the documented columns but no `VSphereProvisioningEnabled`: whether
/// vmk2 has the provisioning service is unknown, not false. vmkflow says which column is missing,
/// and the rows whose verdict depends on it (2 and 6, which flipped to contradicted) are
/// inconclusive with that reason; none is contradicted that the full export confirms.
#[test]
fn a_missing_service_column_is_unknown_not_false() {
    let capture = bundled("all-vmware.pcapng");
    let dir = TempDir::new("answers-no-provisioning");
    let csv = dir.write(
        "vmks.csv",
        powercli_csv(&bundled_inventory(), "", false).as_bytes(),
    );
    let (want, _) = analyze(&capture, &[]);
    let (got, stderr) = analyze(&capture, &["--inventory", csv.to_str().expect("path")]);
    assert!(
        stderr.contains("VSphereProvisioningEnabled"),
        "names the missing column: {stderr}"
    );
    let w = got["warnings"][0].as_str().expect("a warning");
    assert!(w.contains("provisioning") && w.contains("vmks.csv"), "{w}");
    let (want, got) = (verdicts(&want), verdicts(&got));
    for (key, verdict) in &got {
        if verdict == "contradicted" {
            assert_eq!(
                want[key], "contradicted",
                "{key:?} contradicted only for want of a column"
            );
        }
    }
    for set in ["article", "vmware-docs"] {
        for row in [2, 6] {
            assert_eq!(
                got[&(set.to_string(), row)],
                "inconclusive",
                "{set} row {row}"
            );
        }
    }
    // The reason is in the claim's evidence.
    let m2 = &got_report_migration(&capture, &csv, "m2");
    let texts: Vec<&str> = m2["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .flat_map(|v| v["claims"].as_array().expect("claims"))
        .filter(|c| c["verdict"] == "inconclusive")
        .filter_map(|c| c["evidence"].as_str())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("cannot say") && t.contains("provisioning")),
        "{texts:?}"
    );
}

fn got_report_migration(capture: &Path, inventory: &Path, id: &str) -> Value {
    let (r, _) = analyze(capture, &["--inventory", inventory.to_str().expect("path")]);
    r["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .find(|m| m["id"] == id)
        .cloned()
        .expect("migration")
}

/// The summary can be read without the JSON: every row says what it claims, every verdict has
/// one reason line, the same as the JSON's `reason`; evidence in human units with its basis;
/// IPv6 endpoints in brackets; arrows the way the data went; a table of vmks.
#[test]
fn the_summary_says_what_each_row_claims_and_why() {
    let capture = bundled("all-vmware.pcapng");
    let (report, _) = analyze(&capture, &[]);
    let r = run(&["analyze", capture.to_str().expect("path")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = String::from_utf8(r.stdout).expect("UTF-8 summary");
    for set in report["verification"].as_array().expect("verification") {
        for row in set["rows"].as_array().expect("rows") {
            let says = row["says"].as_str().expect("says");
            assert!(
                text.contains(says),
                "the summary shows what row {} says",
                row["row"]
            );
            let line = format!(
                "    {}: {}",
                row["verdict"].as_str().expect("verdict"),
                row["reason"].as_str().expect("reason")
            );
            assert!(
                text.contains(&line),
                "the summary gives the JSON's reason: {line}"
            );
        }
    }
    assert!(
        text.contains("at most 102.4 KiB expected (10% of the labelled 1 MiB memory)"),
        "human units and the basis of the threshold"
    );
    assert!(!text.contains("104858"), "no raw byte counts in evidence");
    assert!(text.contains("vmks (payload bytes):"));
    assert!(
        text.lines()
            .any(|l| l.contains("esx01") && l.contains("vmk1") && l.contains("10.0.20.11/24")),
        "a row per vmk"
    );
    // NFS reads: the array sent the bytes, the arrow points to the host.
    assert!(
        text.lines()
            .any(|l| l.contains(" nfs ") && l.contains("<- 10.0.40.100:2049 (NFS server)")),
        "{text}"
    );
    let v6 = run(&[
        "analyze",
        bundled("xvmotion-hot-ipv6-vlan.pcap")
            .to_str()
            .expect("path"),
    ]);
    let v6 = String::from_utf8(v6.stdout).expect("UTF-8");
    assert!(
        v6.contains("[fd00:20::11]:"),
        "bracketed IPv6 endpoints: {v6}"
    );
}

/// Header-only mirror captures: a vDS mirror session's "mirrored packet length", or a snap
/// length, cuts the TCP header of the inner frame after its ports. The payload then comes from
/// the inner IP length less the flow's TCP header length (20 when none was seen), marked as
/// estimated; the bytes per class are within a few bytes per connection of what was sent (a SYN's
/// options are counted as payload, its flags being cut too), and the verdicts are those of the
/// uncut capture. They were `tcp 0 B`, every row inconclusive and nothing said.
#[test]
fn cut_tcp_headers_in_a_tunnel_are_estimated_and_said() {
    let dir = TempDir::new("answers-cut");
    let sizes = ["--scenario", "all", "--memory-mb", "4", "--disk-mb", "4"];
    let full = dir.path().join("full.pcap");
    crate::util::synth_capture(&full, &sizes);
    let (uncut, _) = analyze(&full, &[]);
    for variant in [
        &["--encap", "erspan2", "--snaplen", "96"][..],
        &["--ipv6", "--encap", "erspan3", "--mirror-length", "60"][..],
    ] {
        let out = dir.path().join("cut.pcap");
        let mut args = sizes.to_vec();
        args.extend_from_slice(variant);
        let truth = crate::util::synth_capture(&out, &args);
        let (r, _) = analyze(&out, &[]);
        let d = &r["capture"]["decode"];
        assert!(
            d["tcp_header_cut"].as_u64() > Some(1000),
            "{variant:?}: {d}"
        );
        let estimated = d["tcp_payload_estimated_bytes"]
            .as_u64()
            .expect("estimated");
        assert!(estimated > 30_000_000, "{variant:?}: estimated {estimated}");
        let mut want: BTreeMap<u64, u64> = BTreeMap::new();
        for p in truth["payload"].as_array().expect("payload") {
            if p["proto"] == "tcp" {
                *want.entry(p["port"].as_u64().expect("port")).or_default() +=
                    p["bytes"].as_u64().expect("bytes");
            }
        }
        for (class, port) in [("vmotion", 8000), ("nfc", 902), ("nfs", 2049)] {
            let got = r["classes"][class]["payload_bytes"]
                .as_u64()
                .expect("bytes");
            let flows = r["classes"][class]["flows"].as_u64().expect("flows");
            let sent = want[&port];
            assert!(
                got >= sent && got - sent <= 40 * flows,
                "{variant:?} {class}: {got} estimated, {sent} sent over {flows} flows"
            );
        }
        assert_eq!(verdicts(&r), verdicts(&uncut), "{variant:?}");
        let text = run(&["analyze", out.to_str().expect("path")]);
        let text = String::from_utf8(text.stdout).expect("UTF-8");
        assert!(text.contains("estimated:"), "the summary says so: {text}");
    }
}
