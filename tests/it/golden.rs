//! Golden outputs: the reports, summaries and live lines of the bundled captures, and the bundled
//! captures themselves as `synth` writes them, compared byte for byte with the files committed
//! under `tests/golden/` (and `captures/`).
//!
//! They guard every change that must not change behaviour. When a change is meant to change an
//! output, refresh the files and review the diff:
//!
//! ```text
//! VMKFLOW_BLESS=1 cargo test --release --test tests golden
//! git diff tests/golden
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::util::TempDir;

/// The crate's folder: every case runs there, with paths relative to it, so that the names the
/// outputs print are the same on every machine.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    root().join("tests").join("golden")
}

fn blessing() -> bool {
    std::env::var_os("VMKFLOW_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Runs `vmkflow ARGS` in the crate's folder, with `stdin` as standard input when given.
fn vmkflow_in_root(args: &[&str], stdin: Option<&Path>) -> (i32, Vec<u8>, Vec<u8>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vmkflow"));
    cmd.current_dir(root()).args(args);
    match stdin {
        Some(p) => cmd.stdin(std::fs::File::open(root().join(p)).expect("stdin file")),
        None => cmd.stdin(Stdio::null()),
    };
    let out = cmd.output().expect("cannot run vmkflow");
    (out.status.code().unwrap_or(-1), out.stdout, out.stderr)
}

/// Compares `actual` with the golden file `name`, or writes it when blessing. Returns a
/// description of the difference, if any.
fn check(name: &str, actual: &[u8]) -> Option<String> {
    let path = golden_dir().join(name);
    if blessing() {
        std::fs::create_dir_all(golden_dir()).expect("cannot create tests/golden");
        std::fs::write(&path, actual).expect("cannot write golden file");
        return None;
    }
    let expected = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => return Some(format!("{}: {e} (bless to create it)", path.display())),
    };
    if expected == actual {
        return None;
    }
    let exp = String::from_utf8_lossy(&expected);
    let act = String::from_utf8_lossy(actual);
    let line = exp
        .lines()
        .zip(act.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| exp.lines().count().min(act.lines().count()));
    Some(format!(
        "{name} differs from {} at line {}:\n  golden: {}\n  now:    {}",
        path.display(),
        line + 1,
        exp.lines().nth(line).unwrap_or("<end>"),
        act.lines().nth(line).unwrap_or("<end>"),
    ))
}

/// One analysis whose outputs are golden.
struct Case {
    /// Golden file stem.
    name: &'static str,
    /// Arguments after `vmkflow`.
    args: &'static [&'static str],
    /// Standard input, relative to the crate.
    stdin: Option<&'static str>,
}

const CASES: &[Case] = &[
    Case {
        name: "all-vmware",
        args: &["analyze", "captures/all-vmware.pcapng"],
        stdin: None,
    },
    Case {
        name: "all-article",
        args: &["analyze", "captures/all-article.pcap"],
        stdin: None,
    },
    Case {
        name: "vmotion-hot-erspan3",
        args: &["analyze", "captures/vmotion-hot-erspan3.pcap"],
        stdin: None,
    },
    Case {
        name: "xvmotion-hot-ipv6-vlan",
        args: &["analyze", "captures/xvmotion-hot-ipv6-vlan.pcap"],
        stdin: None,
    },
    Case {
        name: "namespace-tcp",
        args: &["analyze", "captures/namespace-tcp.pcap"],
        stdin: None,
    },
    // No sidecars: an inferred inventory and detected sessions.
    Case {
        name: "all-vmware-inferred",
        args: &["analyze", "captures/all-vmware.pcapng", "--no-sidecars"],
        stdin: None,
    },
    Case {
        name: "all-article-inferred",
        args: &["analyze", "captures/all-article.pcap", "--no-sidecars"],
        stdin: None,
    },
    // One labelled scenario over the whole capture, with a port override and a top-N flow list.
    Case {
        name: "erspan3-scenario",
        args: &[
            "analyze",
            "captures/vmotion-hot-erspan3.pcap",
            "--no-sidecars",
            "--inventory",
            "captures/vmotion-hot-erspan3.pcap.inventory.json",
            "--scenario",
            "vmotion:hot",
            "--port",
            "9000/tcp=vmotion",
            "--top",
            "5",
        ],
        stdin: None,
    },
    // The same capture read from standard input (the live path).
    Case {
        name: "all-vmware-stdin",
        args: &[
            "analyze",
            "-",
            "--inventory",
            "captures/all-vmware.pcapng.inventory.json",
            "--migrations",
            "captures/all-vmware.pcapng.migrations.json",
        ],
        stdin: Some("captures/all-vmware.pcapng"),
    },
];

/// Each case's JSON report and its summary (standard output without `--json`, and what it said
/// on standard error) equal the golden files.
#[test]
fn reports_and_summaries_are_golden() {
    let dir = TempDir::new("golden");
    let mut diffs = Vec::new();
    for case in CASES {
        let json = dir.path().join(format!("{}.json", case.name));
        let mut args: Vec<&str> = case.args.to_vec();
        args.extend(["--json", json.to_str().expect("UTF-8 path"), "-q"]);
        let (code, _, stderr) = vmkflow_in_root(&args, case.stdin.map(Path::new));
        assert_eq!(
            code,
            0,
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&stderr)
        );
        let report = std::fs::read(&json).expect("report written");
        diffs.extend(check(&format!("{}.json", case.name), &report));

        let (code, stdout, stderr) = vmkflow_in_root(case.args, case.stdin.map(Path::new));
        assert_eq!(code, 0, "{}", String::from_utf8_lossy(&stderr));
        let mut text = stdout;
        text.extend_from_slice(b"--- stderr ---\n");
        text.extend_from_slice(&stderr);
        diffs.extend(check(&format!("{}.summary.txt", case.name), &text));
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// The inventory that `--write-inventory` saves for a capture without one.
#[test]
fn written_inventory_is_golden() {
    let dir = TempDir::new("golden-inv");
    let inv = dir.path().join("inventory.json");
    let (code, _, stderr) = vmkflow_in_root(
        &[
            "analyze",
            "captures/all-vmware.pcapng",
            "--no-sidecars",
            "-q",
            "--write-inventory",
            inv.to_str().expect("UTF-8 path"),
        ],
        None,
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&stderr));
    let bytes = std::fs::read(&inv).expect("inventory written");
    if let Some(d) = check("all-vmware-inferred.inventory.json", &bytes) {
        panic!("{d}");
    }
}

/// The live NDJSON lines of the bundled capture read from standard input, one per second of
/// capture time, with the wall-clock field (the only one that differs between runs) removed.
#[test]
fn live_lines_are_golden() {
    let dir = TempDir::new("golden-live");
    let lines = dir.path().join("lines.ndjson");
    let report = dir.path().join("report.json");
    let (code, _, stderr) = vmkflow_in_root(
        &[
            "analyze",
            "-",
            "-q",
            "--interval",
            "1",
            "--inventory",
            "captures/all-vmware.pcapng.inventory.json",
            "--live-out",
            lines.to_str().expect("UTF-8 path"),
            "--json",
            report.to_str().expect("UTF-8 path"),
        ],
        Some(Path::new("captures/all-vmware.pcapng")),
    );
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&stderr));
    let text = std::fs::read_to_string(&lines).expect("lines written");
    let mut out = String::new();
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("NDJSON line");
        if let Some(o) = v.as_object_mut() {
            o.remove("wall_time");
        }
        out.push_str(&serde_json::to_string(&v).expect("JSON"));
        out.push('\n');
    }
    let mut diffs: Vec<String> = check("all-vmware-live.ndjson", out.as_bytes())
        .into_iter()
        .collect();
    let bytes = std::fs::read(&report).expect("report written");
    diffs.extend(check("all-vmware-live.json", &bytes));
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}

/// `captures/regenerate.sh`'s commands write the bundled captures and their label files byte for
/// byte: the generator and its frame writer are golden too.
#[test]
fn synth_rewrites_the_bundled_captures() {
    let dir = TempDir::new("golden-synth");
    let script = std::fs::read_to_string(crate::util::bundled("regenerate.sh")).expect("script");
    let mut cases = 0;
    // Each `run synth ...` command, continued over backslash-newlines.
    let joined = script.replace("\\\n", " ");
    let common: Vec<String> = joined
        .lines()
        .find_map(|l| l.trim().strip_prefix("common=\"")?.strip_suffix('"'))
        .expect("common= line")
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut diffs = Vec::new();
    for line in joined.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("run synth ") else {
            continue;
        };
        let mut args: Vec<String> = vec!["synth".into(), "-q".into()];
        let mut bundled = None;
        let mut words = rest.split_whitespace();
        while let Some(w) = words.next() {
            match w {
                "$common" => args.extend(common.iter().cloned()),
                "--out" => {
                    let target = words.next().expect("--out value");
                    let name = target
                        .trim_matches('"')
                        .strip_prefix("$here/")
                        .expect("--out \"$here/NAME\"")
                        .to_string();
                    args.push("--out".into());
                    args.push(dir.path().join(&name).to_string_lossy().into_owned());
                    bundled = Some(name);
                }
                _ => args.push(w.to_string()),
            }
        }
        let name = bundled.expect("every synth line names --out");
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, stderr) = vmkflow_in_root(&refs, None);
        assert_eq!(code, 0, "{name}: {}", String::from_utf8_lossy(&stderr));
        for file in [
            name.clone(),
            format!("{name}.inventory.json"),
            format!("{name}.migrations.json"),
        ] {
            let now = std::fs::read(dir.path().join(&file)).expect("synth output");
            let bundled = std::fs::read(crate::util::bundled(&file)).expect("bundled");
            if now != bundled {
                diffs.push(format!(
                    "captures/{file}: synth now writes {} bytes that differ from the bundled {}",
                    now.len(),
                    bundled.len()
                ));
            }
        }
        cases += 1;
    }
    assert_eq!(cases, 4, "regenerate.sh has four synth commands");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
