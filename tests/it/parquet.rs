//! `analyze --parquet DIR`: the Parquet tables of several captures written into one directory,
//! read back by DuckDB (python `duckdb`, installed by `.ci/run`), add up to each capture's JSON
//! report; the files are the same bytes on every run; a run replaces its own partition only; a
//! directory that cannot be written is an error naming it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::util::{TempDir, bundled, find_tool, read_report, run, skip_or_fail, synth_capture};

/// Run by python3 with DIR as its argument: per capture partition, what the tables add up to,
/// as one JSON document on standard output.
const QUERIES: &str = r#"
import json, sys, duckdb
d = sys.argv[1]
db = duckdb.connect()
def table(name):
    return f"read_parquet('{d}/{name}/*/*.parquet', hive_partitioning = true)"
out = {}
def at(*keys):
    o = out
    for k in keys:
        o = o.setdefault(k, {})
    return o
fields = ["packets", "wire_bytes", "payload_bytes", "retransmitted_bytes", "flows"]
sums = """sum(c2s_packets + s2c_packets), sum(c2s_wire_bytes + s2c_wire_bytes),
          sum(c2s_payload_bytes + s2c_payload_bytes),
          sum(c2s_retransmitted_bytes + s2c_retransmitted_bytes), count(*)"""
for row in db.sql(f"""SELECT capture, class, {sums} FROM {table('flows')}
                      GROUP BY ALL ORDER BY ALL""").fetchall():
    at(row[0], "flows_by_class")[row[1]] = dict(zip(fields, [int(x) for x in row[2:]]))
for row in db.sql(f"""SELECT capture, network, {sums}
                      FROM (SELECT *, unnest(networks) AS network FROM {table('flows')})
                      GROUP BY ALL ORDER BY ALL""").fetchall():
    at(row[0], "flows_by_network")[row[1]] = dict(zip(fields, [int(x) for x in row[2:]]))
for c, n, k, b in db.sql(f"""SELECT capture, network, class, sum(payload_bytes)
                             FROM {table('series')} GROUP BY ALL ORDER BY ALL""").fetchall():
    at(c, "series", n)[k] = int(b)
for c, rows in db.sql(f"""SELECT capture, count(*) FILTER (WHERE second IS NULL)
                          FROM {table('series')} GROUP BY ALL""").fetchall():
    at(c)["series_rows_without_second"] = int(rows)
for c, m, p, dt, bn, bc in db.sql(f"""SELECT capture, migration, payload_bytes, data_bytes,
                                  payload_bytes_by_network, payload_bytes_by_class
                                  FROM {table('migrations')} ORDER BY ALL""").fetchall():
    at(c, "migrations")[m] = {"payload_bytes": p, "data_bytes": dt,
                              "payload_bytes_by_network": dict(bn),
                              "payload_bytes_by_class": dict(bc)}
for c, m, s, r, v in db.sql(f"""SELECT DISTINCT capture, migration, claim_set, claim_row, row_verdict
                               FROM {table('verdicts')} ORDER BY ALL""").fetchall():
    at(c, "verdicts").setdefault(m, []).append([s, r, v])
for c, listed, not_listed in db.sql(f"""SELECT capture, flows_listed, flows_not_listed
                                        FROM {table('captures')}""").fetchall():
    at(c)["flows"] = [listed, not_listed]
json.dump(out, sys.stdout)
"#;

/// python3 when it can import duckdb.
fn python_with_duckdb() -> Option<PathBuf> {
    let py = find_tool("python3")?;
    let ok = Command::new(&py)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// `vmkflow analyze INPUT --parquet DIR --json JSON -q EXTRA…`, asserting success; the report.
fn analyze(input: &Path, dir: &Path, json_out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "analyze",
        input.to_str().expect("UTF-8 path"),
        "--parquet",
        dir.to_str().expect("UTF-8 path"),
        "--json",
        json_out.to_str().expect("UTF-8 path"),
        "-q",
    ];
    args.extend_from_slice(extra);
    let r = run(&args);
    assert_eq!(r.code, 0, "analyze {args:?}: {}", r.stderr);
    read_report(json_out)
}

/// The partition's file of `table`.
fn part(dir: &Path, table: &str, id: &str) -> PathBuf {
    dir.join(table)
        .join(format!("capture={id}"))
        .join("part-0.parquet")
}

/// A totals object of the report with the fields the flows table reproduces.
fn flow_fields(t: &Value) -> Value {
    json!({
        "packets": t["packets"],
        "wire_bytes": t["wire_bytes"],
        "payload_bytes": t["payload_bytes"],
        "retransmitted_bytes": t["retransmitted_bytes"],
        "flows": t["flows"],
    })
}

#[test]
fn duckdb_over_the_parquet_of_several_captures_reproduces_each_report() {
    let Some(python) = python_with_duckdb() else {
        skip_or_fail("python3 with duckdb is not installed (pip install duckdb)");
        return;
    };
    let tmp = TempDir::new("parquet-duckdb");
    let dir = tmp.path().join("dataset");
    // The bundled captures and a synthetic capture of all six migrations (the blog's model), each
    // with the inventory and labels beside it.
    let synth_dir = tmp.path().join("synth");
    std::fs::create_dir_all(&synth_dir).expect("synth dir");
    synth_capture(
        &synth_dir.join("six.pcap"),
        &[
            "--scenario",
            "all",
            "--model",
            "article",
            "--memory-mb",
            "4",
            "--disk-mb",
            "4",
        ],
    );
    let mut inputs: Vec<(PathBuf, Vec<String>)> = [
        "all-article.pcap",
        "all-vmware.pcapng",
        "vmotion-hot-erspan3.pcap",
        "xvmotion-hot-ipv6-vlan.pcap",
    ]
    .iter()
    .map(|c| (bundled(c), Vec::new()))
    .collect();
    inputs.push((synth_dir.join("six.pcap"), Vec::new()));
    let mut reports = BTreeMap::new();
    for (i, (input, extra)) in inputs.iter().enumerate() {
        let id = format!("c{i}");
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        let mut args = vec!["--capture-id", id.as_str()];
        args.extend(extra);
        let report = analyze(input, &dir, &tmp.path().join(format!("{id}.json")), &args);
        assert_eq!(
            report["flow_summary"]["not_listed"],
            0,
            "{}: every flow must be listed for the flows table to add up",
            input.display()
        );
        assert!(
            !report["migrations"]
                .as_array()
                .expect("migrations")
                .is_empty(),
            "{}: no migration to compare",
            input.display()
        );
        reports.insert(id, report);
    }
    let out = Command::new(&python)
        .arg("-c")
        .arg(QUERIES)
        .arg(&dir)
        .output()
        .expect("cannot run python3");
    assert!(
        out.status.success(),
        "the DuckDB queries failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).expect("the queries print JSON");
    assert_eq!(
        got.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        Some(reports.keys().cloned().collect()),
        "one partition per capture"
    );
    for (id, r) in &reports {
        let g = &got[id];
        // Networks and classes: bytes per second add up to the report's matrix and networks.
        assert_eq!(
            g["series"], r["payload_bytes_by_network_and_class"],
            "{id}: series by network and class"
        );
        assert_eq!(
            g["series_rows_without_second"], 0,
            "{id}: every byte of a capture with timestamps lies in a second"
        );
        for (net, t) in r["networks"].as_object().expect("networks") {
            let series_sum: u64 = g["series"][net]
                .as_object()
                .map_or(0, |c| c.values().filter_map(Value::as_u64).sum());
            assert_eq!(
                Some(series_sum),
                t["payload_bytes"].as_u64(),
                "{id}: {net} bytes"
            );
            assert_eq!(
                g["flows_by_network"][net],
                flow_fields(t),
                "{id}: flows on {net}"
            );
        }
        for (class, t) in r["classes"].as_object().expect("classes") {
            assert_eq!(
                g["flows_by_class"][class],
                flow_fields(t),
                "{id}: flows of {class}"
            );
        }
        assert_eq!(
            g["flows_by_network"].as_object().map(|o| o.len()),
            r["networks"].as_object().map(|o| o.len()),
            "{id}: networks"
        );
        assert_eq!(
            g["flows_by_class"].as_object().map(|o| o.len()),
            r["classes"].as_object().map(|o| o.len()),
            "{id}: classes"
        );
        assert_eq!(
            g["flows"],
            json!([r["flow_summary"]["listed"], r["flow_summary"]["not_listed"]])
        );
        // Per migration: its bytes and its verdicts.
        let ms = r["migrations"].as_array().expect("migrations");
        assert_eq!(
            g["migrations"].as_object().map(|o| o.len()),
            Some(ms.len()),
            "{id}: migrations"
        );
        for m in ms {
            let mid = m["id"].as_str().expect("id");
            let gm = &g["migrations"][mid];
            for f in [
                "payload_bytes",
                "data_bytes",
                "payload_bytes_by_network",
                "payload_bytes_by_class",
            ] {
                assert_eq!(gm[f], m[f], "{id}: migration {mid}: {f}");
            }
            let mut want: Vec<Value> = m["verdicts"]
                .as_array()
                .expect("verdicts")
                .iter()
                .map(|v| json!([v["claim_set"], v["row"], v["verdict"]]))
                .collect();
            want.sort_by_key(|v| v.to_string());
            let have = g["verdicts"][mid].as_array().cloned().unwrap_or_default();
            assert_eq!(have, want, "{id}: migration {mid}: verdicts");
        }
    }
}

#[test]
fn the_same_capture_gives_the_same_bytes_and_a_rerun_replaces_its_partition_only() {
    let tmp = TempDir::new("parquet-bytes");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let capture = bundled("all-article.pcap");
    let other = bundled("vmotion-hot-erspan3.pcap");
    let json_out = tmp.path().join("r.json");
    analyze(&capture, &a, &json_out, &[]);
    analyze(&other, &a, &json_out, &[]);
    analyze(&capture, &b, &json_out, &[]);
    let id = vmkflow::report::parquet::capture_id([capture.to_str().expect("UTF-8")]);
    let other_id = vmkflow::report::parquet::capture_id([other.to_str().expect("UTF-8")]);
    assert_ne!(id, other_id);
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    for table in vmkflow::report::parquet::TABLES {
        let first = read(part(&a, table, &id));
        assert_eq!(&first[..4], b"PAR1", "{table} is a Parquet file");
        assert_eq!(
            first,
            read(part(&b, table, &id)),
            "{table}: same capture, same bytes"
        );
        assert!(
            part(&a, table, &other_id).is_file(),
            "{table}: the other capture's partition"
        );
    }
    // A rerun of the other capture under the first one's id replaces that partition; the other
    // capture's own partition is left as it was.
    let before = read(part(&a, "flows", &other_id));
    analyze(&other, &a, &json_out, &["--capture-id", &id]);
    assert_eq!(
        read(part(&a, "flows", &id)),
        before,
        "the partition was replaced"
    );
    assert_eq!(read(part(&a, "flows", &other_id)), before);
    let files = std::fs::read_dir(a.join("flows").join(format!("capture={id}")))
        .expect("partition")
        .count();
    assert_eq!(files, 1, "one file per partition, no temporary left");
}

#[test]
fn standard_input_and_a_capture_set_directory_name_their_partitions() {
    let tmp = TempDir::new("parquet-stdin");
    let dir = tmp.path().join("d");
    let bytes = std::fs::read(bundled("all-article.pcap")).expect("bundled capture");
    let r = crate::util::run_with_stdin(
        &[
            "analyze",
            "-",
            "--parquet",
            dir.to_str().expect("UTF-8"),
            "-q",
        ],
        &bytes,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for table in vmkflow::report::parquet::TABLES {
        assert!(part(&dir, table, "stdin").is_file(), "{table}");
    }
    // A directory of per-vmk captures is one capture set, its partition named by the directory
    // as given (not by its eight files).
    let set = tmp.path().join("set");
    synth_capture(
        &set,
        &[
            "--scenario",
            "vmotion:hot",
            "--memory-mb",
            "2",
            "--split",
            "vmk",
        ],
    );
    let r = run(&[
        "analyze",
        set.to_str().expect("UTF-8"),
        "--parquet",
        dir.to_str().expect("UTF-8"),
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = vmkflow::report::parquet::capture_id([set.to_str().expect("UTF-8")]);
    assert!(id.ends_with("_set"), "{id}");
    let partitions: Vec<String> = std::fs::read_dir(dir.join("flows"))
        .expect("flows")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(partitions.len(), 2, "{partitions:?}");
    assert!(
        partitions.contains(&format!("capture={id}")),
        "{partitions:?}"
    );
}

#[test]
fn a_directory_that_cannot_be_written_is_an_error_naming_it() {
    let tmp = TempDir::new("parquet-bad-dir");
    let file = tmp.write("not-a-dir", b"x");
    let capture = bundled("all-article.pcap");
    let c = capture.to_str().expect("UTF-8");
    // DIR is a file: refused before the capture is read.
    let r = run(&[
        "analyze",
        c,
        "--parquet",
        file.to_str().expect("UTF-8"),
        "-q",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains(&file.display().to_string()) && r.stderr.contains("not a directory"),
        "{}",
        r.stderr
    );
    // DIR lies under a file: the table's directory cannot be made.
    let under = file.join("d");
    let r = run(&[
        "analyze",
        c,
        "--parquet",
        under.to_str().expect("UTF-8"),
        "-q",
    ]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains(&under.display().to_string()),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    // --capture-id needs --parquet.
    let r = run(&["analyze", c, "--capture-id", "x", "-q"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// A frame of a pcap: time in µs, the bytes captured, the original length.
type PcapFrame<'a> = (u64, &'a [u8], u32);

/// The frames of a little-endian microsecond pcap, with its link type.
fn pcap_frames(bytes: &[u8]) -> (u32, Vec<PcapFrame<'_>>) {
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    assert_eq!(u32_at(0), 0xa1b2_c3d4, "a little-endian microsecond pcap");
    let mut frames = Vec::new();
    let mut off = 24;
    while off + 16 <= bytes.len() {
        let ts = u64::from(u32_at(off)) * 1_000_000 + u64::from(u32_at(off + 4));
        let (incl, orig) = (u32_at(off + 8) as usize, u32_at(off + 12));
        frames.push((ts, &bytes[off + 16..off + 16 + incl], orig));
        off += 16 + incl;
    }
    (u32_at(20), frames)
}

/// A pcapng of `frames` whose first `without_ts` are Simple Packet Blocks (no timestamp), the
/// rest Enhanced Packet Blocks.
fn pcapng_with_simple_blocks(
    link: u32,
    frames: &[(u64, &[u8], u32)],
    without_ts: usize,
) -> Vec<u8> {
    fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
        let pad = (4 - body.len() % 4) % 4;
        let len = (12 + body.len() + pad) as u32;
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        out.extend(std::iter::repeat_n(0u8, pad));
        out.extend_from_slice(&len.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = (link as u16).to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    block(&mut out, 1, &idb);
    for (i, (ts, frame, orig)) in frames.iter().enumerate() {
        let mut body = Vec::new();
        if i < without_ts {
            body.extend_from_slice(&orig.to_le_bytes());
            body.extend_from_slice(frame);
            block(&mut out, 3, &body);
        } else {
            body.extend_from_slice(&0u32.to_le_bytes());
            body.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
            body.extend_from_slice(&(*ts as u32).to_le_bytes());
            body.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            body.extend_from_slice(&orig.to_le_bytes());
            body.extend_from_slice(frame);
            block(&mut out, 6, &body);
        }
    }
    out
}

/// The rows of a Parquet file as (column, value) lists, read with the parquet crate.
fn parquet_rows(path: &Path) -> Vec<Vec<(String, parquet::record::Field)>> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = parquet::file::serialized_reader::SerializedFileReader::try_from(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    reader
        .into_iter()
        .map(|row| {
            row.expect("a row")
                .get_column_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .collect()
}

#[test]
fn bytes_without_a_timestamp_are_series_rows_without_a_second_and_still_add_up() {
    use parquet::record::Field;
    let tmp = TempDir::new("parquet-no-ts");
    let bytes = std::fs::read(bundled("all-article.pcap")).expect("bundled capture");
    let (link, frames) = pcap_frames(&bytes);
    let capture = tmp.write("spb.pcapng", &pcapng_with_simple_blocks(link, &frames, 100));
    let dir = tmp.path().join("d");
    let r = analyze(
        &capture,
        &dir,
        &tmp.path().join("r.json"),
        &["--capture-id", "x"],
    );
    assert_eq!(r["capture"]["packets_without_timestamp"], 100);
    let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut without_second = 0u64;
    for row in parquet_rows(&part(&dir, "series", "x")) {
        let get = |name: &str| row.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let (Some(Field::Str(net)), Some(Field::Str(class)), Some(Field::Long(b))) =
            (get("network"), get("class"), get("payload_bytes"))
        else {
            panic!("a series row: {row:?}");
        };
        if get("second") == Some(Field::Null) {
            without_second += b as u64;
        }
        *sums.entry((net, class)).or_default() += b as u64;
    }
    assert!(
        without_second > 0,
        "no row holds the bytes without a timestamp"
    );
    let mut want = BTreeMap::new();
    for (net, classes) in r["payload_bytes_by_network_and_class"]
        .as_object()
        .expect("matrix")
    {
        for (class, b) in classes.as_object().expect("classes") {
            want.insert((net.clone(), class.clone()), b.as_u64().expect("bytes"));
        }
    }
    assert_eq!(sums, want);
}
