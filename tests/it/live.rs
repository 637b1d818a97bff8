//! Live analysis: a capture dribbled through a real pipe, SIGINT during an endless stream,
//! NDJSON interval lines that add up to the report, and `--follow` on a growing file.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{TempDir, bundled, read_report, synth_pcap, vmkflow};

/// The bundled capture of all six kinds of migration.
const ALL_VMWARE: &str = "all-vmware.pcapng";

/// A report without its `input` section (the name differs between stdin and a file).
fn without_input(v: Value) -> Value {
    crate::util::without_input_names(v)
}

/// Writes `data` in chunks of 100..3000 bytes with short sleeps, as a slow pipe would.
fn dribble(w: &mut impl Write, data: &[u8]) {
    let mut pos = 0;
    let mut step = 100usize;
    while pos < data.len() {
        let n = step.min(data.len() - pos);
        w.write_all(&data[pos..pos + n]).expect("pipe write");
        w.flush().expect("pipe flush");
        pos += n;
        step = (step * 7 + 311) % 2900 + 100;
        std::thread::sleep(Duration::from_micros(300));
    }
}

/// Waits for `child` with a safety timeout; kills it and panics past the timeout.
fn wait_exit(child: &mut Child, limit: Duration) -> i32 {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st.code().unwrap_or(-1);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("vmkflow did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `vmkflow analyze - -q --interval SECONDS --json REPORT --live-out LINES`, reading a piped
/// standard input.
fn spawn_live(interval: &str, report: &Path, lines: &Path) -> Child {
    vmkflow()
        .args(["analyze", "-", "-q", "--interval", interval, "--json"])
        .arg(report)
        .arg("--live-out")
        .arg(lines)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn")
}

fn ndjson(p: &Path) -> Vec<Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn slow_pipe_gives_the_file_report() {
    let dir = TempDir::new("live-pipe");
    let data = std::fs::read(bundled(ALL_VMWARE)).expect("bundled capture");
    let file_json = dir.path().join("file.json");
    let pipe_json = dir.path().join("pipe.json");
    let st = vmkflow()
        .args([
            "analyze",
            bundled(ALL_VMWARE).to_str().unwrap(),
            "--no-sidecars",
            "-q",
            "--json",
        ])
        .arg(&file_json)
        .status()
        .expect("run");
    assert!(st.success());
    let mut child = vmkflow()
        .args(["analyze", "-", "-q", "--json"])
        .arg(&pipe_json)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || dribble(&mut stdin, &data));
    writer.join().expect("writer");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(120)), 0);
    let a = without_input(read_report(&file_json));
    let b = without_input(read_report(&pipe_json));
    assert!(b["capture"]["packets"].as_u64().unwrap_or(0) > 1000);
    assert_eq!(a, b, "the pipe's report differs from the file's");
}

#[test]
fn interval_lines_add_up_to_the_report() {
    let dir = TempDir::new("live-sums");
    let data = std::fs::read(bundled(ALL_VMWARE)).expect("bundled capture");
    let report = dir.path().join("r.json");
    let lines = dir.path().join("lines.ndjson");
    let mut child = spawn_live("0.25", &report, &lines);
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(&data).expect("write");
    drop(stdin);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(120)), 0);
    let r = read_report(&report);
    let lines = ndjson(&lines);
    assert!(lines.iter().all(|l| l["live_schema_version"] == 1));
    let intervals: Vec<&Value> = lines.iter().filter(|l| l["type"] == "interval").collect();
    assert!(intervals.len() > 5, "{} interval lines", intervals.len());
    let packets: u64 = intervals
        .iter()
        .map(|l| l["packets"].as_u64().unwrap())
        .sum();
    assert_eq!(packets, r["capture"]["packets"].as_u64().unwrap());
    let mut by_class: BTreeMap<String, u64> = BTreeMap::new();
    for l in &intervals {
        for (k, v) in l["payload_bytes_by_class"].as_object().unwrap() {
            *by_class.entry(k.clone()).or_default() += v.as_u64().unwrap();
        }
    }
    let report_classes: BTreeMap<String, u64> = r["classes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v["payload_bytes"].as_u64().unwrap()))
        .filter(|(_, v)| *v > 0)
        .collect();
    assert_eq!(by_class, report_classes);
    let last = lines.last().expect("lines");
    assert_eq!(last["type"], "final");
    assert_eq!(last["packets"], r["capture"]["packets"]);
    let events: Vec<&str> = lines
        .iter()
        .filter(|l| l["type"] == "event")
        .filter_map(|l| l["event"].as_str())
        .collect();
    assert!(events.contains(&"migration_started"), "{events:?}");
    assert!(events.contains(&"migration_ended"), "{events:?}");
    assert!(events.contains(&"switchover"), "{events:?}");
}

#[test]
fn interval_with_json_to_stdout_needs_live_out() {
    let out = vmkflow()
        .args(["analyze", "-", "--interval", "1", "--json", "-"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--live-out"));
}

#[test]
fn sigint_during_an_endless_stream_writes_the_report() {
    signal_during_an_endless_stream_writes_the_report("INT");
}

/// A closed SSH session sends SIGHUP to the pipeline it ran: the report is still written.
#[test]
fn sighup_during_an_endless_stream_writes_the_report() {
    signal_during_an_endless_stream_writes_the_report("HUP");
}

fn signal_during_an_endless_stream_writes_the_report(signal: &str) {
    let dir = TempDir::new(&format!("live-sig{signal}"));
    let payloads: Vec<usize> = (0..200).map(|i| (i * 37) % 1400).collect();
    let (bytes, _) = synth_pcap(&payloads);
    let report = dir.path().join("r.json");
    let lines = dir.path().join("lines.ndjson");
    let mut child = spawn_live("0.2", &report, &lines);
    let mut stdin = child.stdin.take().expect("piped");
    dribble(&mut stdin, &bytes);
    // The writer pauses with the pipe open: wait until the tool has counted every packet.
    let t = Instant::now();
    loop {
        let seen = ndjson(&lines)
            .iter()
            .filter_map(|l| l["total_packets"].as_u64())
            .max()
            .unwrap_or(0);
        if seen == payloads.len() as u64 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "tool never caught up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(st.success());
    assert_eq!(wait_exit(&mut child, Duration::from_secs(60)), 0);
    drop(stdin);
    let r = read_report(&report);
    for k in [
        "schema_version",
        "input",
        "capture",
        "networks",
        "classes",
        "flows",
        "migrations",
    ] {
        assert!(r.get(k).is_some(), "report lacks {k}");
    }
    assert_eq!(r["capture"]["packets"], payloads.len() as u64);
    assert_eq!(r["capture"]["truncated"], false);
    let last = ndjson(&lines).pop().expect("lines");
    assert_eq!(last["type"], "final");
    assert_eq!(last["reason"], "signal");
}

#[test]
fn follow_reads_a_growing_file() {
    let dir = TempDir::new("live-follow");
    let payloads: Vec<usize> = (0..120).map(|i| (i * 53) % 1460).collect();
    let (bytes, offsets) = synth_pcap(&payloads);
    let path = dir.path().join("grow.pcap");
    let header = offsets[0];
    std::fs::write(&path, &bytes[..header]).expect("write header");
    let report = dir.path().join("r.json");
    let mut child = vmkflow()
        .args(["analyze", "-q", "--follow-idle", "1.5", "--json"])
        .arg(&report)
        .arg("--follow")
        .arg(&path)
        .spawn()
        .expect("spawn");
    let p2 = path.clone();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&p2)
            .expect("open");
        // Split records across writes so the file often ends inside a record.
        for chunk in bytes[header..].chunks(997) {
            f.write_all(chunk).expect("append");
            f.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(40));
        }
    });
    writer.join().expect("writer");
    assert_eq!(wait_exit(&mut child, Duration::from_secs(60)), 0);
    let r = read_report(&report);
    assert_eq!(r["capture"]["packets"], payloads.len() as u64);
    assert_eq!(r["capture"]["truncated"], false);
}

/// Interval lines that cannot be written (a full disk) are an error, said and exit 5, after the
/// final report was written all the same; to a file and to standard output alike.
#[test]
fn live_lines_to_a_full_disk_are_an_error_after_the_report() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        crate::util::skip_or_fail("/dev/full not found");
        return;
    }
    let dir = TempDir::new("live-full");
    let capture = bundled("all-article.pcap");
    for to_file in [true, false] {
        let report = dir.path().join(format!("report-{to_file}.json"));
        let mut cmd = vmkflow();
        cmd.args(["analyze", "-", "--interval", "1", "-q", "--json"])
            .arg(&report)
            .stdin(std::fs::File::open(&capture).expect("capture"))
            .stderr(Stdio::piped());
        if to_file {
            cmd.arg("--live-out").arg(full).stdout(Stdio::null());
        } else {
            cmd.stdout(std::fs::File::create(full).expect("/dev/full"));
        }
        let out = cmd.output().expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "to file {to_file}: {stderr}");
        let said = if to_file {
            "the live lines to /dev/full"
        } else {
            "the live lines to standard output"
        };
        assert!(stderr.contains(said), "{stderr}");
        assert!(stderr.contains("No space left"), "{stderr}");
        let r = read_report(&report);
        assert!(
            r["capture"]["packets"].as_u64() > Some(1000),
            "the report is complete"
        );
    }
}
