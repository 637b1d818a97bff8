//! Flows, traffic classes, networks and the inventory, on synthetic captures whose contents the
//! generator accounts for byte by byte.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::util::{TempDir, analyze_with as analyze, powercli_csv, run, synth_capture as synth};

/// The class the catalogue gives a generated service port.
fn class_of(proto: &str, port: u64) -> &'static str {
    match (proto, port) {
        ("tcp", 8000) => "vmotion",
        ("tcp", 902) => "nfc",
        ("udp", 902) => "heartbeat",
        ("tcp", 443) => "vsphere_api",
        (_, 2049) => "nfs",
        (_, 53) => "dns",
        ("udp", 123) => "ntp",
        other => panic!("generator used an unexpected port {other:?}"),
    }
}

/// Services of each `host-vmk` endpoint name in an inventory file.
fn services(inventory: &Path) -> BTreeMap<String, Vec<String>> {
    let inv: Value =
        serde_json::from_slice(&std::fs::read(inventory).expect("inventory")).expect("JSON");
    let mut out = BTreeMap::new();
    for h in inv["hosts"].as_array().expect("hosts") {
        for v in h["vmknics"].as_array().expect("vmknics") {
            let name = format!(
                "{}-{}",
                h["name"].as_str().unwrap_or(""),
                v["name"].as_str().unwrap_or("")
            );
            let s = v["services"]
                .as_array()
                .expect("services")
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect();
            out.insert(name, s);
        }
    }
    out
}

/// The network an endpoint named in the generator's account is on, for a class; `None` when the
/// endpoint is no vmk. An independent statement of the attribution rule docs/report.md documents.
fn network_of(svc: &BTreeMap<String, Vec<String>>, endpoint: &str, class: &str) -> Option<String> {
    let s = svc.get(endpoint)?;
    let has = |x: &str| s.iter().any(|v| v == x);
    let n = match class {
        "vmotion" if has("vmotion") => "vmotion",
        "vmotion" if has("provisioning") => "provisioning",
        "nfc" if has("provisioning") => "provisioning",
        "nfs" => "storage",
        _ if has("management") => "management",
        _ if s.is_empty() => "storage",
        _ => s[0].as_str(),
    };
    Some(n.to_string())
}

/// Expected payload bytes by class and by network from the generator's account.
fn expected(
    summary: &Value,
    svc: &BTreeMap<String, Vec<String>>,
) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut by_class = BTreeMap::new();
    let mut by_net = BTreeMap::new();
    for p in summary["payload"].as_array().expect("payload") {
        let bytes = p["bytes"].as_u64().expect("bytes");
        if bytes == 0 {
            continue;
        }
        let class = class_of(
            p["proto"].as_str().expect("proto"),
            p["port"].as_u64().expect("port"),
        );
        *by_class.entry(class.to_string()).or_default() += bytes;
        let ends = [
            p["src"].as_str().expect("src"),
            p["dst"].as_str().expect("dst"),
        ];
        let mut nets: Vec<String> = ends
            .iter()
            .filter_map(|e| network_of(svc, e, class))
            .collect();
        nets.dedup();
        assert!(!nets.is_empty(), "{p}: neither end is a vmk");
        for n in nets {
            *by_net.entry(n).or_default() += bytes;
        }
    }
    (by_class, by_net)
}

fn payload_map(section: &Value) -> BTreeMap<String, u64> {
    section
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["payload_bytes"].as_u64().expect("payload_bytes"),
            )
        })
        .filter(|(_, b)| *b > 0)
        .collect()
}

#[test]
fn payload_by_class_and_network_equals_the_generated_sizes() {
    let dir = TempDir::new("flows-sizes");
    let variants: [(&str, &[&str]); 8] = [
        ("ipv4.pcap", &[]),
        ("ipv6.pcap", &["--ipv6"]),
        ("vlan.pcapng", &["--vlan", "--format", "pcapng"]),
        ("erspan2.pcap", &["--encap", "erspan2"]),
        (
            "erspan3.pcap",
            &["--encap", "erspan3", "--vlan", "--format", "pcap-ns"],
        ),
        ("header-only.pcap", &["--snaplen", "96"]),
        (
            "v6-vlan-header.pcapng",
            &["--ipv6", "--vlan", "--snaplen", "128", "--format", "pcapng"],
        ),
        ("article.pcap", &["--model", "article", "--encap", "gre"]),
    ];
    for (name, extra) in variants {
        let out = dir.path().join(name);
        let mut args = vec!["--scenario", "all", "--memory-mb", "2", "--disk-mb", "3"];
        args.extend_from_slice(extra);
        let summary = synth(&out, &args);
        let svc = services(&dir.path().join(format!("{name}.inventory.json")));
        let (want_class, want_net) = expected(&summary, &svc);
        let r = analyze(&out, &[]);
        assert_eq!(r["inventory"]["source"]["kind"], "file", "{name}");
        assert_eq!(
            payload_map(&r["classes"]),
            want_class,
            "{name}: bytes by class"
        );
        assert_eq!(
            payload_map(&r["networks"]),
            want_net,
            "{name}: bytes by network"
        );
        let total: u64 = want_class.values().sum();
        assert_eq!(
            r["capture"]["decode"]["tcp_payload_bytes"]
                .as_u64()
                .unwrap_or(0)
                + r["capture"]["decode"]["udp_payload_bytes"]
                    .as_u64()
                    .unwrap_or(0),
            total,
            "{name}: total payload"
        );
        // Every flow has both ends located: a vmk with host and name, or the vCenter/array.
        for f in r["flows"].as_array().expect("flows") {
            for side in ["client", "server"] {
                let e = &f[side];
                assert_eq!(e["host"].is_string(), e["vmk"].is_string(), "{name}: {e}");
            }
        }
    }
}

#[test]
fn inferred_inventory_written_and_reused() {
    let dir = TempDir::new("flows-infer");
    let out = dir.path().join("c.pcap");
    synth(
        &out,
        &["--scenario", "all", "--memory-mb", "2", "--disk-mb", "3"],
    );
    let with_file = analyze(&out, &[]);
    let saved = dir.path().join("saved.json");
    let inferred = analyze(
        &out,
        &[
            "--no-sidecars",
            "--write-inventory",
            saved.to_str().expect("p"),
        ],
    );
    assert_eq!(inferred["inventory"]["source"]["kind"], "inferred");
    // Inferred: the vMotion vmks carry vMotion, the NFC vmks provisioning, the NFS client storage.
    let nets = payload_map(&inferred["networks"]);
    let by_file = payload_map(&with_file["networks"]);
    for n in ["vmotion", "provisioning", "storage"] {
        assert_eq!(nets.get(n), by_file.get(n), "inferred {n}");
    }
    let vmks: Vec<(String, Vec<Value>)> = inferred["interfaces"]
        .as_array()
        .expect("interfaces")
        .iter()
        .map(|i| {
            (
                i["addresses"][0].as_str().unwrap_or("").to_string(),
                i["services"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        vmks.contains(&("10.0.20.11/32".into(), vec![Value::from("vmotion")])),
        "{vmks:?}"
    );
    assert!(vmks.contains(&("10.0.40.11/32".into(), vec![])), "{vmks:?}");
    assert!(
        !vmks.iter().any(|(a, _)| a.starts_with("10.0.40.100")),
        "the array is no vmk"
    );
    // The saved inventory reads back and gives the same attribution.
    let again = analyze(
        &out,
        &["--no-sidecars", "--inventory", saved.to_str().expect("p")],
    );
    assert_eq!(again["inventory"]["source"]["kind"], "file");
    assert_eq!(payload_map(&again["networks"]), nets);
}

#[test]
fn powercli_csv_inventory_gives_the_same_attribution() {
    let dir = TempDir::new("flows-csv");
    let out = dir.path().join("c.pcap");
    synth(
        &out,
        &["--scenario", "all", "--memory-mb", "2", "--disk-mb", "3"],
    );
    let by_file = analyze(&out, &[]);
    let inv: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("c.pcap.inventory.json")).expect("inventory"),
    )
    .expect("JSON");
    let csv = powercli_csv(&inv, "", true);
    let csv_path = dir.write("vmks.csv", csv.as_bytes());
    let by_csv = analyze(&out, &["--inventory", csv_path.to_str().expect("p")]);
    assert_eq!(by_csv["inventory"]["source"]["kind"], "power_cli_csv");
    assert_eq!(
        by_csv["inventory"]["vmknics"],
        by_file["inventory"]["vmknics"]
    );
    assert_eq!(
        payload_map(&by_csv["networks"]),
        payload_map(&by_file["networks"])
    );
}

#[test]
fn port_overrides_and_top_n() {
    let dir = TempDir::new("flows-ports");
    let out = dir.path().join("c.pcap");
    synth(
        &out,
        &[
            "--scenario",
            "xvmotion:hot",
            "--memory-mb",
            "2",
            "--disk-mb",
            "3",
            "--streams",
            "3",
        ],
    );
    let plain = analyze(&out, &[]);
    let vmotion = plain["classes"]["vmotion"]["payload_bytes"]
        .as_u64()
        .expect("vmotion");
    assert!(vmotion > 5 << 20);
    let moved = analyze(&out, &["--port", "8000/tcp=replication"]);
    assert!(moved["classes"].get("vmotion").is_none());
    assert_eq!(moved["classes"]["replication"]["payload_bytes"], vmotion);
    // --top 2: the two largest flows are listed; every flow still counts in the totals.
    let top = analyze(&out, &["--top", "2"]);
    let flows = top["flows"].as_array().expect("flows");
    assert_eq!(flows.len(), 2);
    let all = plain["flow_summary"]["flows"].as_u64().expect("flows");
    assert_eq!(top["flow_summary"]["not_listed"], all - 2);
    let mut sizes: Vec<u64> = plain["flows"]
        .as_array()
        .expect("flows")
        .iter()
        .map(crate::util::flow_payload)
        .collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let listed: Vec<u64> = flows.iter().map(crate::util::flow_payload).collect();
    assert_eq!(listed, sizes[..2].to_vec());
    assert_eq!(top["classes"], plain["classes"]);
    let bad = run(&[
        "analyze",
        out.to_str().expect("p"),
        "--port",
        "8000/tcp=warp",
    ]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("unknown traffic class"),
        "{}",
        bad.stderr
    );
}
