//! Integration tests of `vmkflow synth`: runs the real binary, checks its captures with tshark
//! (when installed) and with `vmkflow analyze`, and checks the label files.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;
use vmkflow::capture::{CaptureReader, Source};
use vmkflow::classify::inventory::{Host, Inventory, Service, Vmknic};
use vmkflow::labels::{Migration, Migrations, Timestamp};
use vmkflow::vocab::kind::{MigrationKind, PowerState};

use crate::util::{TempDir, analyze_json, run, skip_or_fail, synth_capture as synth};

/// Ports the generator uses as service ports.
const SERVICE_PORTS: [u16; 6] = [8000, 902, 2049, 443, 53, 123];
/// Small sizes keep the whole file fast in debug builds.
const SMALL: [&str; 4] = ["--memory-mb", "1", "--disk-mb", "2"];

fn have_tshark() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip_or_fail("tshark checks: tshark is not on PATH");
    }
    ok
}

fn tshark(args: &[&str]) -> String {
    let o = Command::new("tshark").args(args).output().unwrap();
    assert!(
        o.status.success(),
        "tshark {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// What tshark counts in a capture.
#[derive(Debug, Default)]
struct TsharkCounts {
    packets: u64,
    wire_bytes: u64,
    tcp_payload: u64,
    by_port: BTreeMap<(String, u16), u64>,
}

fn service_port(a: &str, b: &str) -> u16 {
    let (a, b) = (a.parse::<u16>().unwrap(), b.parse::<u16>().unwrap());
    if SERVICE_PORTS.contains(&a) { a } else { b }
}

fn tshark_counts(f: &str) -> TsharkCounts {
    let out = tshark(&[
        "-r",
        f,
        "-T",
        "fields",
        "-e",
        "frame.len",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
        "-e",
        "tcp.len",
        "-e",
        "udp.srcport",
        "-e",
        "udp.dstport",
        "-e",
        "udp.length",
    ]);
    let mut c = TsharkCounts::default();
    for line in out.lines() {
        let v: Vec<&str> = line.split('\t').collect();
        c.packets += 1;
        c.wire_bytes += v[0].parse::<u64>().unwrap();
        if !v[3].is_empty() {
            let len: u64 = v[3].parse().unwrap();
            c.tcp_payload += len;
            *c.by_port
                .entry(("tcp".into(), service_port(v[1], v[2])))
                .or_default() += len;
        }
        if v.len() > 6 && !v[6].is_empty() {
            let len = v[6].parse::<u64>().unwrap() - 8;
            *c.by_port
                .entry(("udp".into(), service_port(v[4], v[5])))
                .or_default() += len;
        }
    }
    c
}

fn summary_by_port(s: &Value) -> BTreeMap<(String, u16), u64> {
    let mut m = BTreeMap::new();
    for p in s["payload"].as_array().unwrap() {
        let key = (
            p["proto"].as_str().unwrap().to_string(),
            p["port"].as_u64().unwrap() as u16,
        );
        *m.entry(key).or_default() += p["bytes"].as_u64().unwrap();
    }
    m.retain(|_, v| *v > 0);
    m
}

/// tshark finds no malformed packet, no warning, and the payload per port the generator
/// reported; `vmkflow analyze` agrees with tshark.
fn check(path: &Path, s: &Value) {
    let f = path.to_str().unwrap();
    let bad = tshark(&[
        "-r",
        f,
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-Y",
        "_ws.malformed || _ws.expert.severity >= warning",
    ]);
    assert!(
        bad.trim().is_empty(),
        "{f}: tshark warnings:\n{}",
        &bad[..bad.len().min(2000)]
    );
    let t = tshark_counts(f);
    assert_eq!(t.packets, s["packets"].as_u64().unwrap(), "{f}: packets");
    assert_eq!(
        t.wire_bytes,
        s["wire_bytes"].as_u64().unwrap(),
        "{f}: wire bytes"
    );
    let mut tports = t.by_port.clone();
    tports.retain(|_, v| *v > 0);
    assert_eq!(tports, summary_by_port(s), "{f}: payload bytes per port");

    // Exit status 0 and a report valid against the schema.
    let r = analyze_json(path);
    let c = &r["capture"];
    assert_eq!(
        c["packets"].as_u64(),
        Some(t.packets),
        "{f}: analyze packets"
    );
    assert_eq!(
        c["wire_bytes"].as_u64(),
        Some(t.wire_bytes),
        "{f}: analyze wire bytes"
    );
    assert_eq!(
        c["decode"]["tcp_payload_bytes"].as_u64(),
        Some(t.tcp_payload),
        "{f}: analyze TCP payload"
    );
}

/// Generates and checks the cases on a few threads.
fn check_cases(name: &str, cases: Vec<(String, Vec<String>)>) {
    let tshark = have_tshark();
    let dir = TempDir::new(&format!("synth-{name}"));
    let chunks: Vec<Vec<(String, Vec<String>)>> = {
        let mut v = vec![Vec::new(), Vec::new(), Vec::new()];
        for (i, c) in cases.into_iter().enumerate() {
            v[i % 3].push(c);
        }
        v
    };
    std::thread::scope(|scope| {
        for chunk in &chunks {
            let dir = &dir;
            scope.spawn(move || {
                for (file, args) in chunk {
                    let out = dir.path().join(file);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let s = synth(&out, &args);
                    if tshark {
                        check(&out, &s);
                    }
                }
            });
        }
    });
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn every_scenario_model_and_format_is_well_formed() {
    let mut cases = Vec::new();
    let formats = ["pcap", "pcap-ns", "pcapng"];
    for model in ["vmware", "article"] {
        for format in formats {
            let mut a = args(&["--scenario", "all", "--model", model, "--format", format]);
            a.extend(args(&SMALL));
            a.extend(args(&["--noise", "1"]));
            cases.push((format!("all-{model}.{format}"), a));
        }
        let kinds = ["vmotion", "storage-vmotion", "xvmotion"];
        for (i, kind) in kinds.iter().enumerate() {
            for (j, state) in ["hot", "cold"].iter().enumerate() {
                let format = formats[(i * 2 + j) % 3];
                let mut a = args(&["--scenario", &format!("{kind}:{state}"), "--model", model]);
                a.extend(args(&[
                    "--format",
                    format,
                    "--memory-mb",
                    "1",
                    "--disk-mb",
                    "1",
                ]));
                cases.push((format!("{kind}-{state}-{model}.{format}"), a));
            }
        }
    }
    check_cases("matrix", cases);
}

#[test]
fn variants_are_well_formed() {
    let variants: [&[&str]; 10] = [
        &["--ipv6"],
        &["--vlan", "--noise", "2"],
        &["--encap", "erspan2", "--vlan"],
        &["--encap", "erspan3"],
        &["--encap", "gre", "--ipv6"],
        &["--snaplen", "96", "--noise", "2"],
        // 54 bytes of mirror headers, 18 of Ethernet+802.1Q, 40 of IPv6: 96 would cut the TCP header.
        &[
            "--snaplen",
            "128",
            "--format",
            "pcapng",
            "--ipv6",
            "--vlan",
            "--encap",
            "erspan3",
        ],
        &["--vsphere", "8.0", "--nfc-asymmetric", "--streams", "4"],
        &[
            "--no-provisioning",
            "--model",
            "article",
            "--link-gbps",
            "25",
        ],
        &[
            "--model", "article", "--ipv6", "--format", "pcap-ns", "--noise", "1",
        ],
    ];
    let cases = variants
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut a = args(&["--scenario", "all"]);
            a.extend(args(&SMALL));
            a.extend(args(v));
            (format!("variant{i}.pcap"), a)
        })
        .collect();
    check_cases("variants", cases);
}

fn port_bytes(s: &Value, scenario: &str, port: u16) -> u64 {
    s["payload"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["scenario"] == scenario && p["port"] == port)
        .map(|p| p["bytes"].as_u64().unwrap())
        .sum()
}

#[test]
fn traffic_matches_the_model() {
    let dir = TempDir::new("synth-model");
    const MIB: u64 = 1 << 20;
    let (mem, disk) = (2 * MIB, 3 * MIB);
    let sizes = ["--memory-mb", "2", "--disk-mb", "3", "--scenario", "all"];
    let mut a = sizes.to_vec();
    a.extend_from_slice(&["--model", "vmware"]);
    let v = synth(&dir.path().join("v.pcap"), &a);
    let precopy = mem + mem / 4 + mem / 16 + mem / 64;
    let vmotion = 1024 + 512 + 256 + precopy + mem / 256 + (128 << 10);
    assert_eq!(port_bytes(&v, "vmotion:hot", 8000), vmotion);
    assert_eq!(port_bytes(&v, "vmotion:hot", 902), 0);
    assert_eq!(port_bytes(&v, "vmotion:cold", 902), 512 + 256 + 128 + MIB);
    assert_eq!(port_bytes(&v, "storage-vmotion:hot", 902), 0);
    assert_eq!(port_bytes(&v, "storage-vmotion:hot", 8000), 0);
    let chunks = disk.div_ceil(256 << 10);
    assert_eq!(
        port_bytes(&v, "storage-vmotion:hot", 2049),
        2 * disk + chunks * 360
    );
    assert_eq!(port_bytes(&v, "storage-vmotion:cold", 902), 0);
    assert_eq!(
        port_bytes(&v, "storage-vmotion:cold", 2049),
        2 * disk + chunks * 360
    );
    assert_eq!(port_bytes(&v, "xvmotion:hot", 8000), vmotion + disk);
    assert_eq!(
        port_bytes(&v, "xvmotion:cold", 902),
        512 + 256 + 128 + disk + MIB
    );

    let mut a = sizes.to_vec();
    a.extend_from_slice(&["--model", "vmware", "--vsphere", "8.0"]);
    let u = synth(&dir.path().join("u.pcap"), &a);
    assert_eq!(port_bytes(&u, "xvmotion:cold", 902), 512 + 256 + 128);
    assert_eq!(port_bytes(&u, "xvmotion:cold", 8000), disk + MIB);
    let udt_src: Vec<&str> = u["payload"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["scenario"] == "xvmotion:cold" && p["port"] == 8000 && p["bytes"] != 0)
        .map(|p| p["src"].as_str().unwrap())
        .collect();
    assert_eq!(
        udt_src,
        ["esx01-vmk2"],
        "UDT data leaves the provisioning vmk"
    );

    let mut a = sizes.to_vec();
    a.extend_from_slice(&["--model", "article", "--no-provisioning"]);
    let ar = synth(&dir.path().join("a.pcap"), &a);
    assert_eq!(port_bytes(&ar, "vmotion:hot", 8000), 4096 + 1024);
    assert_eq!(
        port_bytes(&ar, "storage-vmotion:hot", 902),
        512 + 256 + 128 + disk
    );
    assert_eq!(port_bytes(&ar, "xvmotion:hot", 8000), mem);
    assert_eq!(port_bytes(&ar, "xvmotion:hot", 902), 512 + 256 + 128 + disk);
    let nfc_src: Vec<&str> = ar["payload"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["port"] == 902 && p["bytes"] != 0 && p["scenario"] != "noise")
        .map(|p| p["src"].as_str().unwrap())
        .collect();
    assert!(nfc_src.iter().all(|s| s.ends_with("-vmk0")), "{nfc_src:?}");
}

/// Every scenario with small migrations (1 MiB of memory and disk), then `more`.
fn small_all(more: &[&'static str]) -> Vec<&'static str> {
    let mut a = vec!["--scenario", "all", "--memory-mb", "1", "--disk-mb", "1"];
    a.extend_from_slice(more);
    a
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let dir = TempDir::new("synth-seed");
    let base = small_all(&["--noise", "2"]);
    let files = |name: &str| {
        let p = dir.path().join(name);
        [
            std::fs::read(&p).unwrap(),
            std::fs::read(format!("{}.inventory.json", p.display())).unwrap(),
            std::fs::read(format!("{}.migrations.json", p.display())).unwrap(),
        ]
    };
    let mut a = base.to_vec();
    a.extend_from_slice(&["--seed", "7", "--format", "pcapng"]);
    synth(&dir.path().join("a"), &a);
    synth(&dir.path().join("b"), &a);
    assert!(files("a") == files("b"), "same seed, different bytes");
    let mut c = base.to_vec();
    c.extend_from_slice(&["--seed", "8", "--format", "pcapng"]);
    synth(&dir.path().join("c"), &c);
    assert!(
        files("a")[0] != files("c")[0],
        "different seeds, same capture"
    );
}

#[test]
fn labels_enclose_each_migration_and_the_capture_is_ordered() {
    let dir = TempDir::new("synth-windows");
    let out = dir.path().join("w.pcapng");
    let s = synth(&out, &small_all(&["--format", "pcapng"]));
    let m = Migrations::load(Path::new(s["migrations_file"].as_str().unwrap())).unwrap();
    assert_eq!(m.migrations.len(), 6);
    let inv = Inventory::load(Path::new(s["inventory"].as_str().unwrap())).unwrap();
    assert_eq!(inv.hosts.len(), 2);
    assert_eq!(inv.hosts[0].vmknics[2].services, [Service::Provisioning]);
    let mut r = CaptureReader::open(&Source::from_arg(out.to_str().unwrap())).unwrap();
    let mut last = i64::MIN;
    let mut per = vec![0u64; 6];
    let mut firsts = vec![None; 6];
    while let Some(f) = r.next_frame().unwrap() {
        let ts = f.ts_ns.unwrap();
        assert!(ts >= last, "capture out of order");
        last = ts;
        // Without noise every packet belongs to exactly one migration.
        let i = m
            .migrations
            .iter()
            .position(|mg| mg.start.0 <= ts && ts <= mg.end.0)
            .unwrap_or_else(|| panic!("packet at {ts} outside every migration"));
        per[i] += 1;
        firsts[i].get_or_insert(ts);
    }
    assert!(per.iter().all(|&n| n > 0), "{per:?}");
    for (mg, first) in m.migrations.iter().zip(&firsts) {
        assert_eq!(
            first.map(|t| t / 1000 * 1000),
            Some(mg.start.0),
            "{}",
            mg.id
        );
    }
}

#[test]
fn labels_round_trip() {
    let dir = TempDir::new("synth-labels");
    let inv = Inventory {
        hosts: vec![Host {
            name: "esx01".into(),
            vmknics: vec![Vmknic {
                name: "vmk1".into(),
                ip: vec!["10.0.20.11/24".into(), "fd00:20::11/64".into()],
                vlan: Some(20),
                mac: Some("00:50:56:61:00:01".into()),
                speed_mbps: None,
                services: vec![Service::Vmotion, Service::VsphereReplicationNfc],
                unknown_services: Vec::new(),
                mtu: None,
            }],
        }],
    };
    let p = dir.path().join("i.json");
    inv.save(&p).unwrap();
    assert_eq!(Inventory::load(&p).unwrap(), inv);

    let m = Migrations {
        migrations: vec![Migration {
            id: "m1".into(),
            vm: Some("web01".into()),
            kind: MigrationKind::Xvmotion,
            state: PowerState::Hot,
            start: Timestamp(1_772_445_600_000_000_001),
            end: Timestamp(1_772_445_601_500_000_000),
            source_host: Some("esx01".into()),
            dest_host: Some("esx02".into()),
            memory_mb: Some(4096),
            disk_mb: Some(40960),
            vsphere_version: Some("8.0".into()),
        }],
    };
    let p = dir.path().join("m.json");
    m.save(&p).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(
        text.contains("\"2026-03-02T10:00:00.000000001Z\""),
        "{text}"
    );
    assert_eq!(Migrations::load(&p).unwrap(), m);

    let p = dir.path().join("epoch.json");
    std::fs::write(
        &p,
        r#"{"migrations":[{"id":"m1","kind":"vmotion","state":"cold","start":1772445600.25,"end":1772445601}]}"#,
    )
    .unwrap();
    let e = Migrations::load(&p).unwrap();
    assert_eq!(e.migrations[0].start.0, 1_772_445_600_250_000_000);
    assert_eq!(e.migrations[0].end.0, 1_772_445_601_000_000_000);
    assert_eq!(e.migrations[0].vm, None);

    std::fs::write(&p, r#"{"migrations":[{"id":"m1"}]}"#).unwrap();
    let err = Migrations::load(&p).unwrap_err().to_string();
    assert!(err.contains("epoch.json") && err.contains("kind"), "{err}");
}

#[test]
fn bad_options_are_refused_with_a_reason() {
    let dir = TempDir::new("synth-bad");
    let out = dir.path().join("x.pcap");
    let out = out.to_str().unwrap();
    for (args, needle) in [
        (vec!["--scenario", "teleport:hot"], "teleport"),
        (vec!["--scenario", "vmotion:warm"], "warm"),
        (
            vec!["--scenario", "vmotion:hot", "--streams", "0"],
            "--streams",
        ),
        (
            vec!["--scenario", "vmotion:hot", "--snaplen", "10"],
            "--snaplen",
        ),
        (
            vec!["--scenario", "vmotion:hot", "--vsphere", "eight"],
            "--vsphere",
        ),
        (
            vec!["--scenario", "vmotion:hot", "--link-gbps", "0"],
            "--link-gbps",
        ),
    ] {
        let mut a = vec!["synth", "--out", out];
        a.extend(args);
        let r = run(&a);
        assert_eq!(r.code, 2, "{a:?}");
        assert!(r.stderr.contains(needle), "{a:?}: {}", r.stderr);
    }
    let r = run(&[
        "synth",
        "--scenario",
        "all",
        "--out",
        "/nonexistent-dir/x.pcap",
    ]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("/nonexistent-dir/x.pcap"));
}

#[test]
fn prints_a_one_line_summary() {
    let dir = TempDir::new("synth-line");
    let out = dir.path().join("one.pcap");
    let r = run(&[
        "synth",
        "--scenario",
        "vmotion:cold",
        "--out",
        out.to_str().unwrap(),
        "--disk-mb",
        "1",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = String::from_utf8(r.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.contains("one.pcap.inventory.json") && text.contains("packets"),
        "{text}"
    );
}

#[test]
fn size_option_reaches_the_target_and_noise_keeps_time_order() {
    let dir = TempDir::new("synth-size");
    let out = dir.path().join("s.pcapng");
    let target = 4_000_000u64;
    let s = synth(
        &out,
        &[
            "--scenario",
            "xvmotion:hot",
            "--size",
            &target.to_string(),
            "--format",
            "pcapng",
            "--noise",
            "3",
        ],
    );
    let len = std::fs::metadata(&out).unwrap().len();
    assert_eq!(len, s["file_bytes"].as_u64().unwrap());
    assert!(
        len.abs_diff(target) < target / 50,
        "{len} bytes for a target of {target}"
    );
    let mut r = CaptureReader::open(&Source::from_arg(out.to_str().unwrap())).unwrap();
    let mut last = i64::MIN;
    while let Some(f) = r.next_frame().unwrap() {
        let ts = f.ts_ns.unwrap();
        assert!(ts >= last, "capture out of order at {ts}");
        last = ts;
    }
}

/// `--summary-json FILE` writes the same account as `--summary-json -` prints.
#[test]
fn summary_json_to_a_file_equals_standard_output() {
    let dir = TempDir::new("synth-summary");
    let out = dir.path().join("c.pcap");
    let args = ["--scenario", "vmotion:cold", "--disk-mb", "1"];
    let printed = synth(&out, &args);
    let file = dir.path().join("summary.json");
    let mut a = vec!["synth", "-q", "--out", out.to_str().unwrap()];
    a.extend_from_slice(&["--summary-json", file.to_str().unwrap()]);
    a.extend_from_slice(&args);
    let r = run(&a);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "-q with a summary file prints nothing");
    let written: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(written, printed);
}

// Capture sets: `--split`, `--direction`, `--clock-skew`, `--also-mirror`.

/// One hot vMotion of a 1 MiB VM, then `more`.
fn hot_1mib(more: &[&'static str]) -> Vec<&'static str> {
    let mut a = vec!["--scenario", "vmotion:hot", "--memory-mb", "1"];
    a.extend_from_slice(more);
    a
}

/// Small migrations, header-only records (frames stay distinct: IP ids and sequence numbers).
fn set_base() -> Vec<&'static str> {
    small_all(&["--noise", "2", "--snaplen", "96"])
}

/// One record: its timestamp, interface and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    ts_ns: i64,
    interface: u32,
    data: Vec<u8>,
}

/// Every record of a capture, checked to be in non-decreasing time order.
fn records(path: &Path) -> Vec<Record> {
    let mut r = CaptureReader::open(&Source::Path(path.to_path_buf())).unwrap();
    let mut v: Vec<Record> = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let ts_ns = f.ts_ns.unwrap();
        if let Some(last) = v.last() {
            assert!(last.ts_ns <= ts_ns, "{}: time goes back", path.display());
        }
        v.push(Record {
            ts_ns,
            interface: f.interface,
            data: f.data.to_vec(),
        });
    }
    v
}

/// The interface names a capture declares.
fn interface_names(path: &Path) -> Vec<String> {
    let mut r = CaptureReader::open(&Source::Path(path.to_path_buf())).unwrap();
    while r.next_frame().unwrap().is_some() {}
    let names = r.stats().interfaces.iter();
    names.map(|i| i.name.clone().unwrap_or_default()).collect()
}

/// Host vmk addresses of a capture set's `inventory.json`: address -> `esx01-vmk1`.
fn vmk_addresses(inventory: &Path) -> BTreeMap<std::net::IpAddr, String> {
    let inv = Inventory::load(inventory).unwrap();
    let mut m = BTreeMap::new();
    for h in &inv.hosts {
        for v in &h.vmknics {
            for ip in &v.ip {
                let addr = ip.split('/').next().unwrap().parse().unwrap();
                m.insert(addr, format!("{}-{}", h.name, v.name));
            }
        }
    }
    m
}

/// The sending and receiving vmk of a frame (`None` for an end that is no host vmk, or a frame
/// without IP).
fn vmk_ends(
    vmks: &BTreeMap<std::net::IpAddr, String>,
    data: &[u8],
) -> (Option<String>, Option<String>) {
    let d = vmkflow::decode::decode(vmkflow::vocab::wire::LinkType::Ethernet, data);
    match d.ip {
        Some(ip) => (vmks.get(&ip.src).cloned(), vmks.get(&ip.dst).cloned()),
        None => (None, None),
    }
}

/// The capture files of a set directory, by name (labels left out).
fn set_files(dir: &Path) -> BTreeMap<String, Vec<Record>> {
    let mut m = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if !name.ends_with(".json") {
            m.insert(name, records(&p));
        }
    }
    m
}

/// How often each frame (its bytes) occurs.
fn multiset<'a>(frames: impl Iterator<Item = &'a [u8]>) -> BTreeMap<Vec<u8>, usize> {
    let mut m = BTreeMap::new();
    for f in frames {
        *m.entry(f.to_vec()).or_default() += 1;
    }
    m
}

/// Runs synth for one file and for a set with the same options; returns (single file's records,
/// set directory's files, vmk addresses).
fn single_and_set(
    dir: &TempDir,
    common: &[&str],
    set_args: &[&str],
) -> (Vec<Record>, BTreeMap<String, Vec<Record>>) {
    let single = dir.path().join("one.pcap");
    synth(&single, common);
    let set = dir.path().join("set");
    let mut a = common.to_vec();
    a.extend_from_slice(set_args);
    synth(&set, &a);
    (records(&single), set_files(&set))
}

#[test]
fn split_vmk_both_holds_host_to_host_frames_twice_and_the_others_once() {
    let dir = TempDir::new("synth-set-both");
    let (single, files) = single_and_set(
        &dir,
        &set_base(),
        &["--split", "vmk", "--direction", "both"],
    );
    let set = dir.path().join("set");
    let mut names: Vec<String> = std::fs::read_dir(&set)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let mut want: Vec<String> = ["esx01", "esx02"]
        .iter()
        .flat_map(|h| (0..4).map(move |v| format!("{h}-vmk{v}.pcap")))
        .collect();
    want.extend(["inventory.json".into(), "migrations.json".into()]);
    want.sort();
    assert_eq!(names, want);

    let vmks = vmk_addresses(&set.join("inventory.json"));
    let (mut twice, mut once, mut none) = (0, 0, 0);
    let mut expected = BTreeMap::new();
    for r in &single {
        let (s, d) = vmk_ends(&vmks, &r.data);
        let n = usize::from(s.is_some()) + usize::from(d.is_some());
        match n {
            2 => twice += 1,
            1 => once += 1,
            _ => none += 1,
        }
        if n > 0 {
            *expected.entry(r.data.clone()).or_default() += n;
        }
    }
    assert!(
        twice > 1000 && once > 100 && none > 0,
        "{twice} {once} {none}"
    );
    let all = files.values().flatten().map(|r| r.data.as_slice());
    assert_eq!(multiset(all), expected, "each frame once per vmk end");
    let total: usize = files.values().map(Vec::len).sum();
    assert_eq!(total, 2 * twice + once);
    // Each file holds only frames its vmk sent or received.
    for (name, recs) in &files {
        let vmk = name.trim_end_matches(".pcap");
        for r in recs {
            let (s, d) = vmk_ends(&vmks, &r.data);
            assert!(
                s.as_deref() == Some(vmk) || d.as_deref() == Some(vmk),
                "{name}: a frame of {s:?} -> {d:?}"
            );
        }
    }
    // Storage vMotion is esx01's alone: esx02's storage vmk sees only the noise's NFS.
    assert!(files["esx01-vmk3.pcap"].len() > files["esx02-vmk3.pcap"].len());
}

#[test]
fn split_tx_holds_what_each_vmk_sent_once_and_nothing_vcenter_sent() {
    let dir = TempDir::new("synth-set-tx");
    let (single, files) =
        single_and_set(&dir, &set_base(), &["--split", "vmk", "--direction", "tx"]);
    let vmks = vmk_addresses(&dir.path().join("set/inventory.json"));
    let vcenter: std::net::IpAddr = "10.0.10.5".parse().unwrap();
    let mut expected = BTreeMap::new();
    let mut from_vcenter = 0;
    for r in &single {
        let (s, d) = vmk_ends(&vmks, &r.data);
        let ip = vmkflow::decode::decode(vmkflow::vocab::wire::LinkType::Ethernet, &r.data).ip;
        if ip.is_some_and(|ip| ip.src == vcenter) && d.is_some() {
            from_vcenter += 1;
        }
        if s.is_some() {
            *expected.entry(r.data.clone()).or_default() += 1;
        }
    }
    assert!(from_vcenter > 10, "vCenter sends to the hosts");
    let all = files.values().flatten().map(|r| r.data.as_slice());
    let got = multiset(all);
    assert_eq!(got, expected, "frames sent by a vmk, once each");
    for (name, recs) in &files {
        let vmk = name.trim_end_matches(".pcap");
        for r in recs {
            assert_eq!(vmk_ends(&vmks, &r.data).0.as_deref(), Some(vmk), "{name}");
        }
    }
}

#[test]
fn clock_skew_shifts_the_second_hosts_files_and_receivers_see_frames_20us_later() {
    let dir = TempDir::new("synth-set-skew");
    let common = hot_1mib(&["--format", "pcap-ns"]);
    let single = dir.path().join("one.pcap");
    synth(&single, &common);
    let single = records(&single);
    let files_with = |name: &str, skew: &[&str]| {
        let mut a = common.to_vec();
        a.extend_from_slice(&["--split", "vmk"]);
        a.extend_from_slice(skew);
        let d = dir.path().join(name);
        synth(&d, &a);
        set_files(&d)
    };
    let plain = files_with("plain", &[]);
    let ahead = files_with("ahead", &["--clock-skew", "2"]);
    let behind = files_with("behind", &["--clock-skew", "-0.5"]);
    for (name, recs) in &plain {
        let shift = if name.starts_with("esx02") { 1 } else { 0 };
        let moved = |other: &BTreeMap<String, Vec<Record>>, ns: i64| -> Vec<Record> {
            let mut v = recs.clone();
            for r in &mut v {
                r.ts_ns += shift * ns;
            }
            assert_eq!(other[name], v, "{name}");
            v
        };
        moved(&ahead, 2_000_000);
        moved(&behind, -500_000);
    }
    // The first vMotion SYN: sent by esx01 vmk1 at true time, received by esx02 vmk1 20 µs later
    // on esx02's clock.
    let syn = &ahead["esx01-vmk1.pcap"][0];
    let rx = ahead["esx02-vmk1.pcap"]
        .iter()
        .find(|r| r.data == syn.data)
        .unwrap();
    let truth = single.iter().find(|r| r.data == syn.data).unwrap();
    assert_eq!(syn.ts_ns, truth.ts_ns);
    assert_eq!(rx.ts_ns, truth.ts_ns + 20_000 + 2_000_000);
}

#[test]
fn also_mirror_writes_each_vmk_frame_once_encapsulated() {
    let dir = TempDir::new("synth-set-mirror");
    let common = hot_1mib(&["--vlan", "--noise", "2"]);
    let set_args = [
        "--split",
        "host",
        "--direction",
        "tx",
        "--also-mirror",
        "erspan3",
    ];
    let (single, files) = single_and_set(&dir, &common, &set_args);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["esx01.pcap", "esx02.pcap", "mirror-erspan3.pcap"]
    );
    let vmks = vmk_addresses(&dir.path().join("set/inventory.json"));
    let mirror = &files["mirror-erspan3.pcap"];
    let mut expected = BTreeMap::new();
    let mut at = BTreeMap::new();
    for r in &single {
        if vmk_ends(&vmks, &r.data) != (None, None) {
            *expected.entry(r.data.clone()).or_default() += 1;
            at.insert(r.data.clone(), r.ts_ns);
        }
    }
    assert!(
        expected.len() < single.len(),
        "the RARP frames are on no vmk"
    );
    // Outer Ethernet, IPv4, GRE with sequence number, ERSPAN III: 54 bytes.
    let inner = mirror.iter().map(|r| &r.data[54..]);
    assert_eq!(multiset(inner), expected);
    for r in mirror {
        let d = vmkflow::decode::decode(vmkflow::vocab::wire::LinkType::Ethernet, &r.data);
        let t = d.tunnel.expect("a tunnel");
        assert_eq!(t.kind, vmkflow::decode::TunnelKind::Erspan3);
        assert!(d.vlan().is_some(), "--vlan: the inner frame keeps its tag");
        assert_eq!(r.ts_ns, at[&r.data[54..]] + 50_000, "collector's clock");
    }
}

#[test]
fn capture_sets_are_deterministic_and_name_their_interfaces() {
    let dir = TempDir::new("synth-set-det");
    let mut a = set_base();
    a.extend_from_slice(&[
        "--split",
        "host",
        "--format",
        "pcapng",
        "--direction",
        "rx",
        "--clock-skew",
        "1.25",
        "--also-mirror",
        "gre",
        "--seed",
        "5",
    ]);
    let bytes = |name: &str| {
        let d = dir.path().join(name);
        synth(&d, &a);
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                let n = p.file_name().unwrap().to_str().unwrap().to_string();
                (n, std::fs::read(&p).unwrap())
            })
            .collect();
        v.sort();
        v
    };
    let (x, y) = (bytes("x"), bytes("y"));
    assert_eq!(x.len(), 5, "two hosts, the mirror, two label files");
    assert!(x == y, "same options, different bytes");
    let names = interface_names(&dir.path().join("x/esx02.pcapng"));
    let want: Vec<String> = (0..4).map(|v| format!("esx02-vmk{v}")).collect();
    assert_eq!(names, want);
    let one = dir.path().join("one");
    let mut b = a.clone();
    let host = b.iter().position(|s| *s == "host").unwrap();
    b[host] = "vmk";
    synth(&one, &b);
    assert_eq!(
        interface_names(&one.join("esx01-vmk2.pcapng")),
        ["esx01-vmk2"]
    );
    assert_eq!(
        interface_names(&one.join("mirror-gre.pcapng")),
        ["mirror-collector"]
    );
}

#[test]
fn the_account_of_a_capture_set_is_the_one_files_account() {
    let dir = TempDir::new("synth-set-account");
    let single = dir.path().join("one.pcap");
    let mut one = synth(&single, &set_base());
    let set = dir.path().join("set");
    let mut a = set_base();
    a.extend_from_slice(&["--split", "vmk", "--direction", "tx", "--clock-skew", "3"]);
    let mut split = synth(&set, &a);
    let files = split["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 8);
    for f in &files {
        let p = Path::new(f["path"].as_str().unwrap());
        assert_eq!(
            std::fs::metadata(p).unwrap().len(),
            f["file_bytes"].as_u64().unwrap()
        );
        let skewed = f["host"] == "esx02";
        assert_eq!(f["clock_offset_ns"], if skewed { 3_000_000 } else { 0 });
        assert_eq!(f["direction"], "tx");
        assert_eq!(records(p).len() as u64, f["packets"].as_u64().unwrap());
    }
    assert!(one.get("files").is_none(), "one file lists no set");
    assert_eq!(split["capture"].as_str(), set.to_str());
    for key in [
        "capture",
        "inventory",
        "migrations_file",
        "file_bytes",
        "files",
    ] {
        one.as_object_mut().unwrap().remove(key);
        split.as_object_mut().unwrap().remove(key);
    }
    assert_eq!(split, one, "the ground truth does not depend on --split");
    for (inside, beside) in [
        ("inventory.json", "one.pcap.inventory.json"),
        ("migrations.json", "one.pcap.migrations.json"),
    ] {
        assert_eq!(
            std::fs::read(set.join(inside)).unwrap(),
            std::fs::read(dir.path().join(beside)).unwrap(),
            "{inside}"
        );
    }
}

#[test]
fn capture_set_options_are_refused_with_a_reason() {
    let dir = TempDir::new("synth-set-bad");
    let file = dir.write("taken.pcap", b"not a directory");
    let out = dir.path().join("set");
    let out = out.to_str().unwrap();
    let base = ["synth", "--scenario", "vmotion:hot", "--memory-mb", "1"];
    for (args, needle) in [
        (
            vec!["--out", out, "--direction", "tx"],
            "--direction needs --split",
        ),
        (
            vec!["--out", out, "--clock-skew", "2"],
            "--clock-skew needs --split",
        ),
        (
            vec!["--out", out, "--also-mirror", "gre"],
            "--also-mirror needs --split",
        ),
        (
            vec!["--out", out, "--split", "vmk", "--encap", "erspan3"],
            "--also-mirror",
        ),
        (
            vec!["--out", out, "--split", "vmk", "--clock-skew", "1e12"],
            "--clock-skew",
        ),
        (
            vec!["--out", out, "--split", "vmk", "--mirror-length", "100"],
            "--mirror-length",
        ),
        (
            vec!["--out", file.to_str().unwrap(), "--split", "vmk"],
            "existing file",
        ),
        (vec!["--out", out, "--split", "vlan"], "vlan"),
    ] {
        let mut a = base.to_vec();
        a.extend(args);
        let r = run(&a);
        assert_eq!(r.code, 2, "{a:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{a:?}: {}", r.stderr);
    }
    assert!(!Path::new(out).exists(), "nothing written on a refusal");
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}
