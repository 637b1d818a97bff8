//! `--threads N`: the report is the same bytes for every thread count, and for every size of
//! the read buffers that travel between the threads (the hidden `--read-buffer`, small enough
//! here that a bundled capture spans hundreds of batches, and a 100-byte one that makes the
//! window grow for nearly every record).

use std::path::Path;

use crate::util::{
    TempDir, bundled, corpus_dir, run, run_with_stdin, skip_or_fail, synth_capture,
    without_input_names,
};

/// Thread counts and read-buffer sizes compared with one thread and the default buffer.
const VARIANTS: [(&str, &str); 5] = [
    ("2", "0"),
    ("3", "4096"),
    ("5", "100"),
    ("4", "1500"),
    ("0", "65536"),
];

/// Runs `analyze PATH EXTRA --json - -q` with one thread and with every [`VARIANTS`] entry, and
/// asserts the same exit status, standard output (the report) and standard error. Returns the
/// one-thread run's exit status.
pub fn assert_same_for_thread_counts(path: &Path, extra: &[&str]) -> i32 {
    let p = path.to_str().expect("UTF-8 path");
    let args = |threads: &str, buffer: &str| -> Vec<String> {
        let mut a: Vec<String> = vec!["analyze".into(), p.into()];
        a.extend(extra.iter().map(|s| s.to_string()));
        a.extend(
            [
                "--threads",
                threads,
                "--read-buffer",
                buffer,
                "--json",
                "-",
                "-q",
            ]
            .map(String::from),
        );
        a
    };
    let strs = |a: &[String]| a.iter().map(String::as_str).collect::<Vec<_>>().join(" ");
    let one = args("1", "0");
    let want = run(&one.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        !want.stdout.is_empty(),
        "{}: no report: {}",
        strs(&one),
        want.stderr
    );
    for (threads, buffer) in VARIANTS {
        let a = args(threads, buffer);
        let got = run(&a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(got.code, want.code, "{}: exit status", strs(&a));
        assert_eq!(got.stderr, want.stderr, "{}: standard error", strs(&a));
        assert!(
            got.stdout == want.stdout,
            "{}: the report differs from one thread's",
            strs(&a)
        );
    }
    want.code
}

#[test]
fn bundled_captures_give_the_same_report_on_every_thread_count() {
    for name in [
        "all-article.pcap",
        "all-vmware.pcapng",
        "vmotion-hot-erspan3.pcap",
        "xvmotion-hot-ipv6-vlan.pcap",
        "namespace-tcp.pcap",
    ] {
        let code = assert_same_for_thread_counts(&bundled(name), &[]);
        assert_eq!(code, 0, "{name}");
    }
}

#[test]
fn a_capture_of_many_read_buffers_gives_the_same_report_and_html() {
    // 24 MB: two dozen batches at the default 1 MiB buffer, with every traffic class.
    let dir = TempDir::new("threads-synth");
    let cap = dir.path().join("all.pcap");
    synth_capture(&cap, &["--scenario", "all", "--size", "24000000"]);
    assert_eq!(assert_same_for_thread_counts(&cap, &[]), 0);
    // The picture's timelines and the Parquet tables are fed by the same stages.
    let analyze = |threads: &str, out: &str, extra: &[&str]| {
        let mut args = vec!["analyze", cap.to_str().expect("path"), "--threads", threads];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[out, "-q"]);
        let r = run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    let page = |threads: &str| {
        let html = dir.path().join(format!("t{threads}.html"));
        analyze(threads, html.to_str().expect("path"), &["--html"]);
        std::fs::read(&html).expect("page")
    };
    assert!(page("1") == page("3"), "the HTML page differs");
    let tables = |threads: &str| {
        let out = dir.path().join(format!("parquet-{threads}"));
        let to = out.to_str().expect("path");
        analyze(threads, to, &["--capture-id", "same", "--parquet"]);
        let mut files = Vec::new();
        for table in std::fs::read_dir(&out).expect("parquet dir") {
            let part = table
                .expect("entry")
                .path()
                .join("capture=same/part-0.parquet");
            let rel = part.strip_prefix(&out).expect("under").to_path_buf();
            files.push((rel, std::fs::read(&part).expect("table")));
        }
        files.sort();
        files
    };
    let one = tables("1");
    assert!(one.len() >= 5, "{} tables", one.len());
    assert!(one == tables("3"), "the Parquet tables differ");
}

#[test]
fn conformance_corpus_gives_the_same_report_on_every_thread_count() {
    let root = match corpus_dir() {
        Ok(d) => d.join("pcapng-conformance"),
        Err(tried) => {
            skip_or_fail(&format!("corpus not found at {tried}"));
            return;
        }
    };
    let mut files = Vec::new();
    for endian in ["output_le", "output_be"] {
        for level in ["basic", "advanced", "difficult"] {
            let dir = root.join(endian).join(level);
            for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
                let p = e.expect("dir entry").path();
                if p.extension().is_some_and(|x| x == "pcapng") {
                    files.push(p);
                }
            }
        }
    }
    files.sort();
    assert!(files.len() >= 40, "only {} conformance files", files.len());
    for f in &files {
        assert_same_for_thread_counts(f, &[]);
    }
}

/// The offsets of the records of a little-endian pcap (after its 24-byte header).
fn pcap_records(bytes: &[u8]) -> Vec<usize> {
    assert_eq!(
        &bytes[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "a little-endian pcap"
    );
    let mut at = 24;
    let mut out = Vec::new();
    while at + 16 <= bytes.len() {
        out.push(at);
        let incl = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().expect("4 bytes"));
        at += 16 + incl as usize;
    }
    out
}

#[test]
fn cut_corrupt_and_compressed_inputs_end_the_same_on_every_thread_count() {
    let dir = TempDir::new("threads-bad");
    let bytes = std::fs::read(bundled("all-article.pcap")).expect("bundled capture");
    let records = pcap_records(&bytes);
    assert!(records.len() > 100, "{} records", records.len());
    let inv = bundled("all-article.pcap.inventory.json");
    let inv = inv.to_str().expect("path");

    // Cut inside a record in the middle: a warning and a report of what was read.
    let cut = dir.write("cut.pcap", &bytes[..records[records.len() / 2] + 30]);
    assert_eq!(
        assert_same_for_thread_counts(&cut, &["--inventory", inv]),
        0
    );

    // A record length beyond any record, in the middle: a fatal error, after a report of the
    // records before it.
    let mut bad = bytes.clone();
    let at = records[records.len() / 3];
    bad[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let bad = dir.write("corrupt.pcap", &bad);
    let code = assert_same_for_thread_counts(&bad, &["--inventory", inv]);
    assert_ne!(code, 0, "a corrupt record is a fatal error");

    // Compressed: the window reads through the decompressor.
    let gz = dir.path().join("all.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &bytes).expect("gzip");
    std::fs::write(&gz, enc.finish().expect("gzip")).expect("write");
    assert_eq!(assert_same_for_thread_counts(&gz, &["--inventory", inv]), 0);
}

/// Standard input is read on the live path (its own reader thread, one thread of analysis)
/// whatever `--threads` says; what it reports equals the threaded read of the same file.
#[test]
fn standard_input_reports_what_the_threaded_read_of_the_file_does() {
    let path = bundled("all-vmware.pcapng");
    let bytes = std::fs::read(&path).expect("bundled capture");
    let inv = bundled("all-vmware.pcapng.inventory.json");
    let inv = inv.to_str().expect("path");
    let args = |input: &str, threads: &str| -> Vec<String> {
        [
            "analyze",
            input,
            "--no-sidecars",
            "--inventory",
            inv,
            "--threads",
            threads,
            "--json",
            "-",
            "-q",
        ]
        .map(String::from)
        .to_vec()
    };
    let report = |r: crate::util::Run| {
        assert_eq!(r.code, 0, "{}", r.stderr);
        without_input_names(r.json())
    };
    let file_args = args(path.to_str().expect("path"), "3");
    let file = report(run(&file_args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()));
    for threads in ["1", "3"] {
        let a = args("-", threads);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let stdin = report(run_with_stdin(&a, &bytes));
        assert!(
            stdin == file,
            "stdin with --threads {threads} differs from the file read on three threads"
        );
    }
}
