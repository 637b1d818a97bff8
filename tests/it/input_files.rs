//! The files a user writes or exports beside a capture (inventory JSON, a PowerCLI CSV export,
//! migration labels), made hostile by each test: what cannot be read right is an error (exit 2)
//! naming the file and the line; what can be read but is odd is a warning naming them, on
//! standard error and in the report (issue 13, finding 8).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{Run, TempDir, bundled, run, synth_pcap};

/// `vmkflow analyze CAPTURE ARGS --json - -q`.
fn analyze(capture: &Path, args: &[&str]) -> Run {
    let mut all = vec!["analyze", capture.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "-", "-q"]);
    run(&all)
}

/// A small capture in `dir`, for the inventory checks that need no traffic.
fn small_capture(dir: &TempDir) -> PathBuf {
    dir.write("sample.pcap", &synth_pcap(&[100, 200]).0)
}

/// Asserts a run failed with exit 2 (an invalid file) and a message naming `file` and `line`.
fn assert_rejected(r: &Run, file: &Path, line: usize) {
    let file = file.to_str().expect("UTF-8 path");
    assert_eq!(r.code, 2, "exit status: stderr: {}", r.stderr);
    let want = format!("{file}: line {line}: ");
    assert!(
        r.stderr.contains(&want),
        "names the file and line `{want}`: {}",
        r.stderr
    );
}

/// The report's warnings, after checking that each was said on standard error too.
fn warnings(r: &Run) -> Vec<String> {
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let report = r.json();
    let w: Vec<String> = report["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("text").to_string())
        .collect();
    for one in &w {
        assert!(
            r.stderr.contains(&format!("vmkflow: warning: {one}")),
            "said on standard error: {one}\n{}",
            r.stderr
        );
    }
    w
}

const CSV_HEADER: &str = "\"VMHost\",\"Name\",\"IP\",\"SubnetMask\",\"VMotionEnabled\"\n";

/// A PowerCLI export of two hosts (rows on lines 2 and 3) with `row` as line 4 and a last row
/// after it.
fn export(row: &str) -> String {
    format!(
        "{CSV_HEADER}\"esx01\",\"vmk0\",\"10.0.10.11\",\"255.255.255.0\",\"False\"\n\
         \"esx02\",\"vmk0\",\"10.0.10.12\",\"255.255.255.0\",\"False\"\n\
         {row}\n\
         \"esx02\",\"vmk1\",\"10.0.20.12\",\"255.255.255.0\",\"True\"\n"
    )
}

/// A quote that opens a field and never closes, or closes where it should not (swallowing the
/// commas and line breaks after it), was read as a vmk without address (or in the wrong columns).
/// Now it is an error naming the line where the quote opens.
#[test]
fn an_unbalanced_quote_in_a_powercli_export_names_its_line() {
    let dir = TempDir::new("inputs-quote");
    let capture = small_capture(&dir);
    for (case, row) in [
        // The closing quote of the name is missing: the IP's opening quote closes it.
        (
            "closing quote missing",
            "\"esx01\",\"vmk1,\"10.0.20.11\",\"255.255.255.0\",\"True\"",
        ),
        // Opened and never closed: the rest of the file is inside the field.
        (
            "runs to the end",
            "esx01,\"vmk1,10.0.20.11,255.255.255.0,True",
        ),
        // A stray quote that swallows the line break and closes inside the next row, leaving
        // the merged row with too many fields.
        (
            "swallows a line",
            "esx01,\"vmk1,10.0.20.11,255.255.255.0,True\nesx03\",vmk1,10.0.20.13,255.255.255.0,True",
        ),
    ] {
        let text = match case {
            "runs to the end" => format!(
                "{CSV_HEADER}esx02,vmk0,10.0.10.12,255.255.255.0,False\nesx02,vmk1,10.0.20.12,255.255.255.0,True\n{row}\nesx03,vmk0,10.0.10.13,255.255.255.0,False\n"
            ),
            _ => export(row),
        };
        let csv = dir.write("vmks.csv", text.as_bytes());
        let r = analyze(&capture, &["--inventory", csv.to_str().expect("path")]);
        assert_rejected(&r, &csv, 4);
        assert!(
            r.stderr.contains("unbalanced quote"),
            "{case}: {}",
            r.stderr
        );
    }
}

/// Quoted fields with commas, doubled quotes and line breaks inside are RFC 4180 CSV, as
/// `Export-Csv` writes it: read, with the lines of later rows still counted right.
#[test]
fn quoted_fields_with_commas_quotes_and_line_breaks_are_read() {
    let dir = TempDir::new("inputs-quoted");
    let capture = small_capture(&dir);
    let text = "\"VMHost\",\"Name\",\"PortGroupName\",\"IP\",\"SubnetMask\",\"VMotionEnabled\"\r\n\
                \"esx01\",\"vmk1\",\"vMotion, \"\"fast\"\"\nsecond line\",\"10.0.20.11\",\"255.255.255.0\",\"True\"\r\n\
                \"esx02\",\"vmk1\",\"vMotion\",\"10.0.20.12\",\"255.255.255.0\",\"True\"\r\n\
                \"esx02\",\"vmk2\",\"NFS\",\"10.0.20.300\",\"255.255.255.0\",\"False\"\r\n";
    let csv = dir.write("vmks.csv", text.as_bytes());
    let good = dir.write(
        "good.csv",
        text.lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
            .as_bytes(),
    );
    let r = analyze(&capture, &["--inventory", good.to_str().expect("path")]);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    assert_eq!(r.json()["inventory"]["vmknics"], 2);
    // The bad address is on line 5: the quoted line break on line 2 is counted.
    let r = analyze(&capture, &["--inventory", csv.to_str().expect("path")]);
    assert_rejected(&r, &csv, 5);
    assert!(r.stderr.contains("10.0.20.300"), "{}", r.stderr);
}

/// A vmk row whose IP is empty was a vmk without address; inventory JSON requires `ip`, and so
/// does the export now.
#[test]
fn a_powercli_row_without_address_is_rejected() {
    let dir = TempDir::new("inputs-no-ip");
    let capture = small_capture(&dir);
    let csv = dir.write(
        "vmks.csv",
        export("\"esx01\",\"vmk1\",\"\",\"\",\"True\"").as_bytes(),
    );
    let r = analyze(&capture, &["--inventory", csv.to_str().expect("path")]);
    assert_rejected(&r, &csv, 4);
    assert!(r.stderr.contains("esx01 vmk1 has no IP"), "{}", r.stderr);
    // A short row is no vmk with empty cells either.
    let csv = dir.write("short.csv", export("\"esx01\",\"vmk1\"").as_bytes());
    let r = analyze(&capture, &["--inventory", csv.to_str().expect("path")]);
    assert_rejected(&r, &csv, 4);
    assert!(
        r.stderr.contains("2 fields where the header has 5"),
        "{}",
        r.stderr
    );
}

/// A host's vmknics as (vmk, ip, vlan).
type Vmknics<'a> = &'a [(&'a str, &'a str, Option<u16>)];

/// Hosts as (name, vmknics).
type Hosts<'a> = &'a [(&'a str, Vmknics<'a>)];

/// Inventory JSON as `synth` and `--write-inventory` write it (pretty, one host per entry).
fn inventory_json(hosts: Hosts<'_>) -> String {
    let hosts: Vec<Value> = hosts
        .iter()
        .map(|(name, vmks)| {
            let vmknics: Vec<Value> = vmks
                .iter()
                .map(|(vmk, ip, vlan)| {
                    let mut v = serde_json::json!({"name": vmk, "ip": ip, "services": []});
                    if let Some(vlan) = vlan {
                        v["vlan"] = (*vlan).into();
                    }
                    v
                })
                .collect();
            serde_json::json!({"name": name, "vmknics": vmknics})
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "hosts": hosts })).expect("JSON")
}

/// The line (1-based) of the `n`th occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str, n: usize) -> usize {
    let at = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle} #{n} in {text}"))
        .0;
    text[..at].matches('\n').count() + 1
}

/// The line of the entry (in pretty JSON, an object whose `{` stands alone on its line) that holds
/// the `n`th occurrence of `needle`.
fn entry_line(text: &str, needle: &str, n: usize) -> usize {
    let at = line_of(text, needle, n);
    let lines: Vec<&str> = text.lines().collect();
    (1..=at)
        .rev()
        .find(|&l| lines[l - 1].trim() == "{")
        .unwrap_or_else(|| panic!("no entry holds {needle} #{n}"))
}

/// A host listed twice (its vmks split between two entries, or the same entry pasted twice) was
/// accepted; now it is an error naming the line of the second entry and that of the first.
#[test]
fn a_host_listed_twice_is_rejected_with_both_lines() {
    let dir = TempDir::new("inputs-dup-host");
    let capture = small_capture(&dir);
    let text = inventory_json(&[
        ("esx01", &[("vmk0", "10.0.10.11/24", Some(10))]),
        ("esx02", &[("vmk0", "10.0.10.12/24", Some(10))]),
        ("ESX01", &[("vmk1", "10.0.20.11/24", Some(20))]),
    ]);
    let inv = dir.write("inv.json", text.as_bytes());
    let r = analyze(&capture, &["--inventory", inv.to_str().expect("path")]);
    let first = entry_line(&text, "\"esx01\"", 0);
    let second = entry_line(&text, "\"ESX01\"", 0);
    assert_rejected(&r, &inv, second);
    assert!(
        r.stderr.contains(&format!(
            "host `ESX01` is listed twice (first on line {first})"
        )),
        "{}",
        r.stderr
    );
}

/// A wrong value in inventory JSON was named by host and vmknic only; in a file of thousands of
/// hosts the line says where to look.
#[test]
fn a_wrong_inventory_entry_names_its_line() {
    let dir = TempDir::new("inputs-inv-line");
    let capture = small_capture(&dir);
    let text = inventory_json(&[
        ("esx01", &[("vmk0", "10.0.10.11/24", None)]),
        (
            "esx02",
            &[
                ("vmk0", "10.0.10.12/24", None),
                ("vmk1", "10.0.20.300/24", None),
            ],
        ),
    ]);
    let inv = dir.write("inv.json", text.as_bytes());
    let r = analyze(&capture, &["--inventory", inv.to_str().expect("path")]);
    assert_rejected(&r, &inv, entry_line(&text, "\"vmk1\"", 0));
    assert!(
        r.stderr.contains("host esx02 vmk1: `10.0.20.300/24`"),
        "{}",
        r.stderr
    );
}

/// One address on two vmks that no VLAN tells apart: only one of them can be given its frames.
/// A warning names both with their lines and the one that counts; vmks on different VLANs may
/// share an address (separate networks), and are not warned about.
#[test]
fn an_address_on_two_vmks_is_a_warning() {
    let dir = TempDir::new("inputs-dup-addr");
    let capture = small_capture(&dir);
    let text = inventory_json(&[
        (
            "esx01",
            &[
                ("vmk0", "10.0.10.11/24", Some(10)),
                ("vmk1", "10.0.20.11/24", Some(20)),
            ],
        ),
        (
            "esx02",
            &[
                ("vmk0", "10.0.10.11/24", Some(11)),
                ("vmk1", "10.0.20.11/24", Some(20)),
            ],
        ),
    ]);
    let inv = dir.write("inv.json", text.as_bytes());
    let r = analyze(&capture, &["--inventory", inv.to_str().expect("path")]);
    let w = warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    let (a, b) = (
        entry_line(&text, "\"vmk1\"", 0),
        entry_line(&text, "\"vmk1\"", 1),
    );
    assert_eq!(
        w[0],
        format!(
            "{}: address 10.0.20.11 is on esx01 vmk1 (line {a}) and esx02 vmk1 (line {b}), which \
             no VLAN tells apart: its frames are counted on esx01 vmk1, the first by host and name",
            inv.display()
        )
    );
    // The export has no VLANs: every shared address is said, with its rows.
    let csv = dir.write(
        "vmks.csv",
        export("\"esx03\",\"vmk1\",\"10.0.20.12\",\"255.255.255.0\",\"True\"").as_bytes(),
    );
    let r = analyze(&capture, &["--inventory", csv.to_str().expect("path")]);
    let w = warnings(&r);
    assert!(
        w.iter()
            .any(|w| w.contains("10.0.20.12 is on esx03 vmk1 (line 4) and esx02 vmk1 (line 5)")),
        "{w:?}"
    );
}

/// The bundled capture with labels `text`, and its inventory (given beside it).
fn labelled(dir: &TempDir, text: &str, args: &[&str]) -> (Run, PathBuf) {
    let labels = dir.write("labels.json", text.as_bytes());
    let mut all = vec!["--migrations", labels.to_str().expect("path")];
    all.extend_from_slice(args);
    (analyze(&bundled("all-vmware.pcapng"), &all), labels)
}

fn bundled_labels() -> String {
    std::fs::read_to_string(bundled("all-vmware.pcapng.migrations.json")).expect("labels")
}

/// A label host the given inventory does not know was said per migration, without saying where
/// the label is; now a warning names the labels file, the line, the field and the host, once
/// per host name, with the other lines that name it.
#[test]
fn a_label_host_in_no_inventory_names_the_file_and_line() {
    let dir = TempDir::new("inputs-label-host");
    let text = bundled_labels().replace("\"dest_host\": \"esx02\"", "\"dest_host\": \"esx99\"");
    let inventory = bundled("all-vmware.pcapng.inventory.json");
    let (r, labels) = labelled(&dir, &text, &[]);
    let w = warnings(&r);
    let lines: Vec<usize> = (0..4).map(|n| entry_line(&text, "\"esx99\"", n)).collect();
    assert_eq!(lines[0], entry_line(&text, "\"m1\"", 0), "{text}");
    assert_eq!(
        w[0],
        format!(
            "{}: line {}: dest_host `esx99` is not in the inventory {} (2 hosts: esx01, esx02), \
             and named on lines {}, {} and {}",
            labels.display(),
            lines[0],
            inventory.display(),
            lines[1],
            lines[2],
            lines[3]
        )
    );
    // An inventory saved from inference names its hosts by address: the warning says how a label
    // host can match it.
    let saved = dir.path().join("inferred.json");
    let r = analyze(
        &bundled("all-vmware.pcapng"),
        &[
            "--no-sidecars",
            "--write-inventory",
            saved.to_str().expect("path"),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (r, _) = labelled(
        &dir,
        &bundled_labels(),
        &["--inventory", saved.to_str().expect("path")],
    );
    let w = warnings(&r);
    assert!(
        w[0].contains("source_host `esx01` is not in the inventory")
            && w[0].contains("a label host can be given as an address of one of its vmks"),
        "{w:?}"
    );
    // Without an inventory, the one inferred from the traffic is named after the labels: no
    // warning of the file.
    let (r, labels) = labelled(&dir, &bundled_labels(), &["--no-sidecars"]);
    let w = warnings(&r);
    assert!(
        !w.iter().any(|w| w.contains(labels.to_str().expect("path"))),
        "{w:?}"
    );
}

/// The warnings about a label host list the hosts there are: ten of an inventory of thousands,
/// not every one in every warning.
#[test]
fn the_hosts_of_a_large_inventory_are_not_all_listed() {
    let dir = TempDir::new("inputs-many-hosts");
    let names: Vec<String> = (0..2000).map(|i| format!("esx{i:04}")).collect();
    let addrs: Vec<String> = (0..2000)
        .map(|i| format!("10.1.{}.{}/16", i / 250, i % 250 + 1))
        .collect();
    let vmks: Vec<[(&str, &str, Option<u16>); 1]> =
        addrs.iter().map(|a| [("vmk0", a.as_str(), None)]).collect();
    let hosts: Vec<(&str, Vmknics<'_>)> = names
        .iter()
        .zip(&vmks)
        .map(|(n, v)| (n.as_str(), &v[..]))
        .collect();
    let inv = dir.write("inv.json", inventory_json(&hosts).as_bytes());
    let (r, _) = labelled(
        &dir,
        &bundled_labels(),
        &["--inventory", inv.to_str().expect("path")],
    );
    let w = warnings(&r);
    assert!(w.len() > 2, "{w:?}");
    for w in &w {
        assert!(w.len() < 400, "{w}");
    }
    assert!(
        w.iter().any(|w| w.starts_with("migration m1: ")
            && w.contains("(2000 hosts: esx0000, esx0001, ")
            && w.contains("esx0009 and 1990 more)")),
        "{w:?}"
    );
}

/// 1,000 labels of one migration under other ids gave 1,000 more migrations of the same bytes
/// and verdicts, silently; now they are counted once, with a warning naming the file and the
/// lines.
#[test]
fn a_migration_labelled_a_thousand_times_is_counted_once() {
    let dir = TempDir::new("inputs-repeated");
    let mut labels: Value = serde_json::from_str(&bundled_labels()).expect("labels");
    let first = labels["migrations"][0].clone();
    let all = labels["migrations"].as_array_mut().expect("migrations");
    let original = all.len();
    for i in 0..1000 {
        let mut again = first.clone();
        again["id"] = format!("again{i}").into();
        all.push(again);
    }
    let text = serde_json::to_string_pretty(&labels).expect("JSON");
    let (r, path) = labelled(&dir, &text, &[]);
    let w = warnings(&r);
    let report = r.json();
    assert_eq!(
        report["migrations"].as_array().expect("migrations").len(),
        original
    );
    let line = |id: &str| entry_line(&text, &format!("\"{id}\""), 0);
    assert_eq!(
        w[0],
        format!(
            "{}: line {} (again0), line {} (again1), line {} (again2) and 997 more label the same \
             migration as line {} (m1), every field but the id alike: counted once, as m1",
            path.display(),
            line("again0"),
            line("again1"),
            line("again2"),
            line("m1")
        )
    );
}

/// What was already rejected in a labels file (a repeated id, a window that ends before it
/// starts) now also says the line.
#[test]
fn a_wrong_label_names_its_line() {
    let dir = TempDir::new("inputs-label-line");
    let text = bundled_labels().replace("\"id\": \"m3\"", "\"id\": \"m1\"");
    let (r, labels) = labelled(&dir, &text, &[]);
    let (first, second) = (
        entry_line(&text, "\"m1\"", 0),
        entry_line(&text, "\"m1\"", 1),
    );
    assert_rejected(&r, &labels, second);
    assert!(
        r.stderr.contains(&format!(
            "migration id `m1` appears twice (first on line {first})"
        )),
        "{}",
        r.stderr
    );
    let text = bundled_labels().replacen(
        "\"end\": \"2026-03-02T10:00:02.498266000Z\"",
        "\"end\": \"2026-03-02T10:00:01Z\"",
        1,
    );
    assert_ne!(text, bundled_labels());
    let (r, labels) = labelled(&dir, &text, &[]);
    assert_rejected(&r, &labels, entry_line(&text, "\"m2\"", 0));
    assert!(r.stderr.contains("migration m2: start"), "{}", r.stderr);
}
