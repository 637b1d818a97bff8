//! Capture sets: several inputs read as one account. Real traffic between two network
//! namespaces captured at both ends of the veth pair (every frame twice, from two places), and
//! synthetic sets split per host and vmk the way pktcap-uw captures them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::netns::{
    Tcpdump, dropped_by_kernel, namespaces_or_skip, run_traffic, tcp_flows, u64s, wait_for_marker,
};
use crate::util::{TempDir, run, skip_or_fail};

#[test]
fn both_ends_of_a_real_transfer_count_once() {
    let Some(ns) = namespaces_or_skip() else {
        return;
    };
    let dir = TempDir::new("sets-netns");
    let a_file = dir.path().join("end-a.pcap");
    let b_file = dir.path().join("end-b.pcap");
    let dumps = [
        Tcpdump::start(&ns.a, "vethA", None, a_file.clone()),
        Tcpdump::start(&ns.b, "vethB", None, b_file.clone()),
    ];
    let targets = ["192.0.2.2=1048576", "192.0.2.2=204800"];
    let client = run_traffic(&ns, &targets, 3).client;
    wait_for_marker(&a_file);
    wait_for_marker(&b_file);
    let stderrs: Vec<String> = dumps.into_iter().map(Tcpdump::stop).collect();
    if stderrs.iter().any(|e| dropped_by_kernel(e) > 0) {
        skip_or_fail("the kernel dropped packets; the two captures are not complete");
        return;
    }
    let sent = u64s(&client["sent"]);
    let replies = u64s(&client["received"]);
    let mut want: Vec<(u64, u64)> = sent.iter().copied().zip(replies.iter().copied()).collect();
    want.sort();

    let r = run(&[
        "analyze",
        a_file.to_str().expect("path"),
        b_file.to_str().expect("path"),
        "--json",
        "-",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let both = r.json();
    let c = &both["capture"];
    let inputs = c["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 2);
    let pa = inputs[0]["packets"].as_u64().expect("packets");
    let pb = inputs[1]["packets"].as_u64().expect("packets");
    assert_eq!(c["packets"], pa + pb);
    // Every TCP and UDP frame both ends saw is counted once (ARP and ICMPv6 neighbour
    // discovery are not matched: hosts repeat them identically).
    let tcp_udp = |r: &Value| {
        let d = &r["capture"]["decode"];
        d["tcp"].as_u64().expect("tcp") + d["udp"].as_u64().expect("udp")
    };
    let one = crate::util::analyze_json(&a_file);
    let other = crate::util::analyze_json(&b_file);
    assert_eq!(
        c["duplicates"]["frames"].as_u64(),
        Some(tcp_udp(&one).min(tcp_udp(&other))),
        "{}",
        c["duplicates"]
    );
    // The bytes, counted once, are what the applications sent (or, when the kernel resent
    // a segment, what one end's capture counts).
    let clean = one["flows"].as_array().expect("flows").iter().all(|f| {
        ["client_to_server", "server_to_client"]
            .iter()
            .all(|d| f[d]["retransmitted_bytes"] == 0 && f[d]["not_captured_bytes"] == 0)
    });
    if clean {
        assert_eq!(tcp_flows(&one), want, "flows of one input");
    } else {
        eprintln!("note: retransmissions or losses in the capture; comparing with one input");
    }
    assert_eq!(
        tcp_flows(&both),
        tcp_flows(&one),
        "flows of two inputs vs one"
    );
    for (class, t) in one["classes"].as_object().expect("classes") {
        assert_eq!(
            both["classes"][class]["payload_bytes"], t["payload_bytes"],
            "{class} payload, two inputs vs one"
        );
    }
    // Two clocks, one machine: the offset is near 0 (the frames' time on the veth pair).
    let clocks = c["clocks"].as_array().expect("clocks");
    assert_eq!(clocks.len(), 2, "{clocks:?}");
    assert_eq!(clocks[1]["source"], "estimated", "{clocks:?}");
    let off = clocks[1]["offset_ms"].as_f64().expect("offset");
    assert!(
        off.abs() < 1.0,
        "offset {off} ms between two ends of one veth"
    );
    // The traffic says where each input was taken: both addresses are in every frame, so it
    // cannot name one; the vantage stays unknown rather than guessed.
    assert_eq!(inputs[0]["vantage"]["source"], "unknown");
}

/// The synth options of every set below: all six migrations, small, pcapng.
const SIX: &[&str] = &[
    "--scenario",
    "all",
    "--format",
    "pcapng",
    "--memory-mb",
    "16",
    "--disk-mb",
    "32",
];

/// `vmkflow synth` with [`SIX`] and `extra`, writing `out`.
fn synth(out: &Path, extra: &[&str]) {
    let mut args = SIX.to_vec();
    args.extend_from_slice(extra);
    crate::util::synth_capture(out, &args);
}

/// `vmkflow analyze INPUTS… EXTRA… --json - -q`, asserting success.
fn analyze(inputs: &[PathBuf], extra: &[&str]) -> Value {
    let mut args = vec!["analyze".to_string()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--json", "-", "-q"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(&args);
    assert_eq!(r.code, 0, "analyze {args:?}: {}", r.stderr);
    r.json()
}

/// `--inventory DIR/inventory.json --migrations DIR/migrations.json`, for inputs given one by
/// one from a synth set.
fn sidecars(dir: &Path) -> Vec<String> {
    vec![
        "--inventory".into(),
        dir.join("inventory.json").display().to_string(),
        "--migrations".into(),
        dir.join("migrations.json").display().to_string(),
    ]
}

/// Per migration: id, payload bytes by network and by class.
fn migration_bytes(r: &Value) -> Vec<(String, Value, Value)> {
    r["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap_or("").to_string(),
                m["payload_bytes_by_network"].clone(),
                m["payload_bytes_by_class"].clone(),
            )
        })
        .collect()
}

/// Per migration: (claim set, row, verdict) of every row.
fn verdicts(r: &Value) -> Vec<Vec<(String, u64, String)>> {
    r["migrations"]
        .as_array()
        .expect("migrations")
        .iter()
        .map(|m| {
            m["verdicts"]
                .as_array()
                .expect("verdicts")
                .iter()
                .map(|v| {
                    (
                        v["claim_set"].as_str().unwrap_or("").to_string(),
                        v["row"].as_u64().unwrap_or(0),
                        v["verdict"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .collect()
}

/// Payload bytes by network and by class over the whole capture.
fn totals(r: &Value) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    for section in ["networks", "classes"] {
        for (k, t) in r[section].as_object().expect("section") {
            out.push((
                section.to_string(),
                k.clone(),
                t["payload_bytes"].as_u64().expect("payload"),
            ));
        }
    }
    out
}

/// The offset the report gives esx02's clock, and how it was set.
fn esx02_clock(r: &Value) -> (f64, String) {
    let c = r["capture"]["clocks"]
        .as_array()
        .expect("clocks")
        .iter()
        .find(|c| c["clock"] == "esx02")
        .unwrap_or_else(|| panic!("no esx02 clock: {}", r["capture"]["clocks"]));
    (
        c["offset_ms"].as_f64().expect("offset"),
        c["source"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn a_set_split_per_vmk_with_a_skewed_clock_reads_like_one_file() {
    let dir = TempDir::new("sets-split");
    let one = dir.path().join("one.pcapng");
    let set = dir.path().join("set");
    synth(&one, &[]);
    synth(&set, &["--split", "vmk", "--clock-skew", "2"]);
    let single = analyze(&[one], &[]);
    let both = analyze(std::slice::from_ref(&set), &[]);
    let c = &both["capture"];
    let inputs = c["inputs"].as_array().expect("inputs");
    assert_eq!(inputs.len(), 8, "one input per host and vmk");
    for i in inputs {
        let name = i["name"].as_str().expect("name");
        let v = &i["vantage"];
        assert_eq!(v["source"], "interface_name", "{name}: {v}");
        assert!(
            name.ends_with(&format!(
                "{}-{}.pcapng",
                v["host"].as_str().unwrap_or("?"),
                v["vmk"].as_str().unwrap_or("?")
            )),
            "{name}: {v}"
        );
    }
    assert!(c["duplicates"]["frames"].as_u64() > Some(1000));
    let (offset, source) = esx02_clock(&both);
    assert_eq!(source, "estimated");
    assert!(
        (offset - 2.0).abs() < 0.1,
        "esx02 offset {offset} ms, skew 2 ms"
    );
    assert_eq!(totals(&both), totals(&single), "networks and classes");
    assert_eq!(
        migration_bytes(&both),
        migration_bytes(&single),
        "per migration"
    );
    assert_eq!(verdicts(&both), verdicts(&single), "verdicts");
    assert!(both["warnings"].as_array().is_some_and(|w| {
        w.iter()
            .all(|w| !w.as_str().unwrap_or("").contains("clock"))
    }));
}

/// Whether `got` is within `share` of `want`, per migration and per network and class.
fn close_per_migration(got: &Value, want: &Value, share: f64) {
    for ((id, gn, gc), (_, wn, wc)) in migration_bytes(got).iter().zip(migration_bytes(want)) {
        for (g, w) in [(gn, &wn), (gc, &wc)] {
            let total: u64 = w
                .as_object()
                .expect("bytes")
                .values()
                .filter_map(Value::as_u64)
                .sum();
            let keys: std::collections::BTreeSet<&String> = g
                .as_object()
                .expect("bytes")
                .keys()
                .chain(w.as_object().expect("bytes").keys())
                .collect();
            for k in keys {
                let (a, b) = (g[k].as_u64().unwrap_or(0), w[k].as_u64().unwrap_or(0));
                assert!(
                    a.abs_diff(b) as f64 <= share * total as f64,
                    "{id} {k}: {a} vs {b} of {total}"
                );
            }
        }
    }
}

#[test]
fn one_direction_sets_give_the_full_captures_verdicts() {
    let dir = TempDir::new("sets-direction");
    let one = dir.path().join("one.pcapng");
    synth(&one, &[]);
    let single = analyze(&[one], &[]);
    for direction in ["tx", "rx"] {
        let set = dir.path().join(direction);
        synth(
            &set,
            &[
                "--split",
                "vmk",
                "--direction",
                direction,
                "--clock-skew",
                "2",
            ],
        );
        let r = analyze(std::slice::from_ref(&set), &["--clock-offset", "esx02=+2"]);
        assert_eq!(verdicts(&r), verdicts(&single), "{direction}: verdicts");
        close_per_migration(&r, &single, 0.005);
        let acked: u64 = r["migrations"]
            .as_array()
            .expect("migrations")
            .iter()
            .filter_map(|m| m["acknowledged_data_bytes"].as_u64())
            .sum();
        assert!(
            acked > 1_000_000,
            "{direction}: {acked} bytes from acknowledgements"
        );
        assert_eq!(esx02_clock(&r), (2.0, "option".to_string()), "{direction}");
        for i in r["capture"]["inputs"].as_array().expect("inputs") {
            if i["packets"].as_u64() > Some(0) {
                assert_eq!(i["vantage"]["direction"], direction, "{}", i["name"]);
            }
        }
        // Without the offset, nothing tells the clocks apart (no frame is in two files): the
        // report says so instead of guessing.
        let unaligned = analyze(&[set], &[]);
        assert_eq!(esx02_clock(&unaligned).1, "unknown");
        assert!(
            unaligned["warnings"]
                .as_array()
                .expect("warnings")
                .iter()
                .any(|w| w.as_str().unwrap_or("").contains("--clock-offset esx02")),
            "{}",
            unaligned["warnings"]
        );
    }
}

#[test]
fn a_merged_file_and_its_two_inputs_count_every_byte_once() {
    let Some(mergecap) = crate::util::find_tool("mergecap") else {
        skip_or_fail("mergecap not found");
        return;
    };
    let dir = TempDir::new("sets-merged");
    let one = dir.path().join("one.pcapng");
    let set = dir.path().join("hosts");
    synth(&one, &[]);
    synth(&set, &["--split", "host", "--clock-skew", "2"]);
    let single = analyze(&[one], &[]);
    let hosts = [set.join("esx01.pcapng"), set.join("esx02.pcapng")];
    let merged = dir.path().join("merged.pcapng");
    let status = Command::new(mergecap)
        .arg("-w")
        .arg(&merged)
        .args(&hosts)
        .status()
        .expect("mergecap");
    assert!(status.success());
    let side = sidecars(&set);
    let side: Vec<&str> = side.iter().map(String::as_str).collect();
    let from_merged = analyze(&[merged], &side);
    let from_two = analyze(&hosts, &side);
    for r in [&from_merged, &from_two] {
        assert_eq!(totals(r), totals(&single), "networks and classes");
        assert!(r["capture"]["duplicates"]["frames"].as_u64() > Some(1000));
    }
    assert_eq!(
        from_merged["capture"]["duplicates"]["frames"], from_two["capture"]["duplicates"]["frames"],
        "the same copies found in one file as in two"
    );
}

#[test]
fn a_set_of_vmk0_only_leaves_the_other_networks_unobservable() {
    let dir = TempDir::new("sets-vmk0");
    let set = dir.path().join("set");
    synth(&set, &["--split", "vmk"]);
    let side = sidecars(&set);
    let side: Vec<&str> = side.iter().map(String::as_str).collect();
    let r = analyze(
        &[set.join("esx01-vmk0.pcapng"), set.join("esx02-vmk0.pcapng")],
        &side,
    );
    let mut unobservable_rows = 0;
    for m in r["migrations"].as_array().expect("migrations") {
        assert!(m["coverage"].is_array(), "{}: coverage listed", m["id"]);
        for row in m["verdicts"].as_array().expect("verdicts") {
            assert_ne!(row["verdict"], "contradicted", "{}: {row}", m["id"]);
            let claims = row["claims"].as_array().expect("claims");
            let needs_unseen = claims.iter().any(|c| {
                matches!(
                    c["claim"]["network"].as_str(),
                    Some("vmotion" | "provisioning")
                ) && c["verdict"] != "not_applicable"
            });
            if needs_unseen {
                assert_eq!(row["verdict"], "inconclusive", "{}: {row}", m["id"]);
                assert!(
                    claims.iter().any(|c| c["verdict"] == "unobservable"),
                    "{}: {row}",
                    m["id"]
                );
                unobservable_rows += 1;
            }
        }
    }
    assert!(unobservable_rows >= 6, "{unobservable_rows} rows");
}

#[test]
fn a_mirror_session_beside_the_host_captures_counts_once() {
    let dir = TempDir::new("sets-mirror");
    let one = dir.path().join("one.pcapng");
    let set = dir.path().join("set");
    synth(&one, &[]);
    synth(
        &set,
        &[
            "--split",
            "vmk",
            "--clock-skew",
            "2",
            "--also-mirror",
            "erspan3",
        ],
    );
    let single = analyze(&[one], &[]);
    let r = analyze(&[set], &[]);
    assert_eq!(totals(&r), totals(&single), "networks and classes");
    assert_eq!(
        migration_bytes(&r),
        migration_bytes(&single),
        "per migration"
    );
    let pairs = r["capture"]["duplicates"]["pairs"]
        .as_array()
        .expect("pairs");
    assert!(
        pairs.iter().any(|p| p["removed"]
            .as_str()
            .unwrap_or("")
            .ends_with("mirror-erspan3.pcapng")),
        "{pairs:?}"
    );
}

#[test]
fn set_options_are_checked() {
    let dir = TempDir::new("sets-options");
    let set = dir.path().join("set");
    synth(&set, &["--split", "host"]);
    let a = set.join("esx01.pcapng");
    let a = a.to_str().expect("path");
    for (args, says) in [
        (
            vec!["--vantage", "nosuch.pcap=esx01/vmk1"],
            "no input is named",
        ),
        (vec!["--vantage", "esx01.pcapng=esx01"], "HOST/VMK"),
        (vec!["--vantage", "esx01.pcapng=esx01/vmk1:up"], "direction"),
        (vec!["--clock-offset", "esx02"], "HOST=±MS"),
        (vec!["--clock-offset", "esx02=soon"], "HOST=±MS"),
        (vec!["--dedup-window", "-1"], "--dedup-window"),
    ] {
        let mut all = vec!["analyze", a];
        all.extend_from_slice(&args);
        let r = run(&all);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    let r = run(&["analyze", empty.to_str().expect("path")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("holds no pcap"), "{}", r.stderr);
    // --vantage names where a capture was taken, whatever its names say.
    let r = analyze(
        &[set.join("esx01.pcapng")],
        &["--vantage", "esx01.pcapng=esx02/vmk1:rx"],
    );
    let v = &r["capture"]["inputs"][0]["vantage"];
    assert_eq!(
        (&v["host"], &v["vmk"], &v["direction"], &v["source"]),
        (
            &Value::from("esx02"),
            &Value::from("vmk1"),
            &Value::from("rx"),
            &Value::from("option")
        )
    );
}
