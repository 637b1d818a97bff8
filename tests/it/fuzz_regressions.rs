//! The fuzz targets (`vmkflow::fuzzing`, fuzzed by AFL++ in `fuzz/`, see docs/fuzzing.md) on
//! every input that ever failed, on the fuzzer's seeds, and on a deterministic structured
//! mutation smoke set.
//!
//! - `fuzz/regressions/TARGET/*`: each input that made a target fail once; each must now end with
//!   a report (valid against the schema) or a clean rejection, without a panic.
//! - `fuzz/regressions/open/TARGET/*`: inputs of findings not fixed yet, the same check, ignored
//!   (`cargo test --release --test tests fuzz -- --ignored`); a fix moves them up a folder.
//! - the smoke set: seeded mutations of the seeds that a byte-level fuzzer rarely makes (a
//!   length field set to a boundary value, a cut at every block boundary, blocks duplicated,
//!   swapped and spliced from another capture, interface and section floods, gzip; in labels and
//!   inventories, values replaced by extreme ones, keys dropped, entries repeated a thousand
//!   times; in CSV exports, lines repeated, quotes and columns broken). `VMKFLOW_FUZZ_CASES=N`
//!   runs N cases per target instead of the default (a long run).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use serde_json::Value;
use vmkflow::fuzzing::{self, TARGETS};

use crate::util::assert_report_schema;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of a folder, by name; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The message of a panic.
fn message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs `target` on `data`: `Err` with the reason when it panicked or ended without a report or a
/// message; a report is checked against the schema.
fn check(target: &str, data: &[u8]) -> Result<(), String> {
    let ending = catch_unwind(AssertUnwindSafe(|| fuzzing::run(target, data)))
        .map_err(|p| format!("panicked: {}", message(&*p)))?
        .ok_or_else(|| format!("no target {target}"))?;
    match ending {
        Ok(bytes) if bytes.is_empty() => Err("ended with nothing".into()),
        Ok(bytes) => {
            if target != "frame" {
                // The report's JSON, then the summary.
                let report = serde_json::Deserializer::from_slice(&bytes)
                    .into_iter::<Value>()
                    .next()
                    .ok_or("no report")?
                    .map_err(|e| format!("the report is not JSON: {e}"))?;
                catch_unwind(|| assert_report_schema(&report))
                    .map_err(|p| format!("the report breaks the schema: {}", message(&*p)))?;
            }
            Ok(())
        }
        Err(msg) if msg.trim().is_empty() => Err("rejected without a message".into()),
        Err(_) => Ok(()),
    }
}

/// Checks every file of `fuzz/<sub>/TARGET/`; panics naming each file that fails.
fn check_folder(sub: &str) -> usize {
    let mut failures = Vec::new();
    let mut n = 0;
    for t in TARGETS {
        for f in files(&fuzz_dir().join(sub).join(t)) {
            n += 1;
            let data = std::fs::read(&f).expect("read input");
            if let Err(e) = check(t, &data) {
                failures.push(format!("{t} {}: {e}", f.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    n
}

#[test]
fn fuzz_regressions_end_with_a_report_or_a_clean_error() {
    assert!(
        check_folder("regressions") > 0,
        "no regression inputs found"
    );
}

/// The inputs of findings not fixed yet, when there are any (none now).
#[test]
#[ignore = "open findings of the fuzzer: docs/fuzzing.md"]
fn fuzz_open_findings_end_with_a_report_or_a_clean_error() {
    if fuzz_dir().join("regressions/open").is_dir() {
        check_folder("regressions/open");
    }
}

#[test]
fn fuzz_seeds_are_accepted() {
    for t in TARGETS {
        let seeds = files(&fuzz_dir().join("seeds").join(t));
        assert!(!seeds.is_empty(), "no seeds for {t}");
        for f in seeds {
            let data = std::fs::read(&f).expect("read seed");
            check(t, &data).unwrap_or_else(|e| panic!("{t} {}: {e}", f.display()));
            if t != "frame" {
                let ending = fuzzing::run(t, &data).expect("target");
                assert!(ending.is_ok(), "seed {} rejected: {ending:?}", f.display());
            }
        }
    }
}

/// The number of smoke cases per target: `VMKFLOW_FUZZ_CASES`, else `default`.
fn cases(default: usize) -> usize {
    std::env::var("VMKFLOW_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// SplitMix64: a small deterministic generator, so that a failing case is found again by its
/// number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// Runs `cases` mutated inputs through `target`; a failing one is written to the temporary
/// directory (to copy into `fuzz/regressions/TARGET/`) and named in the panic.
fn smoke(
    target: &str,
    cases: usize,
    seed: u64,
    mut mutate: impl FnMut(&mut Rng, usize) -> Vec<u8>,
) {
    let mut failures = Vec::new();
    for case in 0..cases {
        let mut rng = Rng(seed ^ (case as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        let data = mutate(&mut rng, case);
        if let Err(e) = check(target, &data) {
            let path = std::env::temp_dir().join(format!("vmkflow-fuzz-smoke-{target}-{case}"));
            let _ = std::fs::write(&path, &data);
            failures.push(format!("case {case}: {e}; input in {}", path.display()));
            if failures.len() >= 5 {
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: copy each input into fuzz/regressions/{target}/:\n{}",
        failures.join("\n")
    );
}

// ---- captures -------------------------------------------------------------------------------

/// A capture cut into its blocks: the pcap file header and records, or the pcapng blocks (each
/// with the byte order of its section). Gzip and unreadable files are one block.
struct Blocks {
    blocks: Vec<Vec<u8>>,
    /// Whether each block's numbers are big-endian.
    big: Vec<bool>,
    pcapng: bool,
}

fn u32_at(b: &[u8], at: usize, big: bool) -> Option<u32> {
    let a: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if big {
        u32::from_be_bytes(a)
    } else {
        u32::from_le_bytes(a)
    })
}

fn put_u32(v: u32, big: bool) -> [u8; 4] {
    if big {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    }
}

fn blocks(data: &[u8]) -> Blocks {
    let whole = |data: &[u8]| Blocks {
        blocks: vec![data.to_vec()],
        big: vec![false],
        pcapng: false,
    };
    let magic = u32_at(data, 0, false).unwrap_or(0);
    let mut out = Blocks {
        blocks: Vec::new(),
        big: Vec::new(),
        pcapng: false,
    };
    match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d | 0xd4c3_b2a1 | 0x4d3c_b2a1 => {
            let big = matches!(magic, 0xd4c3_b2a1 | 0x4d3c_b2a1);
            if data.len() < 24 {
                return whole(data);
            }
            out.blocks.push(data[..24].to_vec());
            out.big.push(big);
            let mut off = 24;
            while off < data.len() {
                let len = u32_at(data, off + 8, big).map_or(usize::MAX, |l| l as usize);
                let end = off.saturating_add(16).saturating_add(len).min(data.len());
                out.blocks.push(data[off..end].to_vec());
                out.big.push(big);
                off = end;
            }
        }
        0x0a0d_0d0a => {
            out.pcapng = true;
            let mut off = 0;
            let mut big = false;
            while off < data.len() {
                if u32_at(data, off, false) == Some(0x0a0d_0d0a) {
                    // The byte-order mark 0x1A2B3C4D, read little-endian.
                    big = u32_at(data, off + 8, false) == Some(0x4d3c_2b1a);
                }
                let len = u32_at(data, off + 4, big).map_or(usize::MAX, |l| l as usize);
                let end = if len < 12 {
                    data.len()
                } else {
                    off.saturating_add(len).min(data.len())
                };
                out.blocks.push(data[off..end].to_vec());
                out.big.push(big);
                off = end;
            }
        }
        _ => return whole(data),
    }
    out
}

/// A pcapng interface description block with a long `if_description`.
fn idb(big: bool, link: u16, description: &[u8]) -> Vec<u8> {
    let mut body = if big {
        link.to_be_bytes()
    } else {
        link.to_le_bytes()
    }
    .to_vec();
    body.extend([0, 0, 0, 0, 0, 0]);
    let code: u16 = 3;
    body.extend(if big {
        code.to_be_bytes()
    } else {
        code.to_le_bytes()
    });
    let dl = description.len() as u16;
    body.extend(if big {
        dl.to_be_bytes()
    } else {
        dl.to_le_bytes()
    });
    body.extend_from_slice(description);
    while body.len() % 4 != 0 {
        body.push(0);
    }
    body.extend([0, 0, 0, 0]);
    let len = 12 + body.len() as u32;
    let mut b = put_u32(1, big).to_vec();
    b.extend(put_u32(len, big));
    b.extend(body);
    b.extend(put_u32(len, big));
    b
}

/// Values a length or count field is most often wrong with.
const LENGTHS: [u32; 14] = [
    0,
    1,
    3,
    4,
    11,
    12,
    13,
    16,
    28,
    0xFFFF,
    0x1_0000,
    0x7FFF_FFFF,
    0xFFFF_FFF0,
    0xFFFF_FFFF,
];

fn mutate_capture(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let seed = rng.pick(seeds);
    let mut c = blocks(seed);
    for _ in 0..1 + rng.below(3) {
        let i = rng.below(c.blocks.len());
        match rng.below(11) {
            // A length field at a block boundary (pcapng: the block total length at the front
            // or at the end; pcap: the captured or original length), or a field in the block.
            0 | 1 => {
                let big = c.big[i];
                let b = &mut c.blocks[i];
                if b.len() >= 8 {
                    let v = *rng.pick(&LENGTHS);
                    let v = match rng.below(3) {
                        0 => v,
                        1 => (b.len() as u32).wrapping_add(4),
                        _ => (b.len() as u32).wrapping_sub(1 + rng.below(8) as u32),
                    };
                    let at = match (c.pcapng, rng.below(3)) {
                        (true, 0) => 4,
                        (true, 1) => b.len() - 4,
                        (false, 0) if i > 0 => 8,
                        (false, 1) if i > 0 => 12,
                        _ => 4 * rng.below(b.len() / 4),
                    };
                    let at = at.min(b.len() - 4);
                    b[at..at + 4].copy_from_slice(&put_u32(v, big));
                }
            }
            // Bit flips and byte overwrites.
            2 | 3 => {
                let b = &mut c.blocks[i];
                if !b.is_empty() {
                    for _ in 0..1 + rng.below(4) {
                        let at = rng.below(b.len());
                        if rng.below(2) == 0 {
                            b[at] ^= 1 << rng.below(8);
                        } else {
                            b[at] = *rng.pick(&[0, 1, 0x7f, 0x80, 0xff, b'\n', 0x81, 0x86]);
                        }
                    }
                }
            }
            // A cut at a block boundary, or a few bytes either side of it.
            4 => {
                let keep = rng.below(c.blocks.len() + 1);
                c.blocks.truncate(keep);
                c.big.truncate(keep);
                if let Some(last) = c.blocks.last_mut() {
                    let cut = rng.below(5);
                    last.truncate(last.len().saturating_sub(cut));
                }
            }
            // A block duplicated, many times, or moved.
            5 => {
                let times = *rng.pick(&[1, 2, 50]);
                let (b, big) = (c.blocks[i].clone(), c.big[i]);
                let at = rng.below(c.blocks.len() + 1);
                for _ in 0..times {
                    c.blocks.insert(at, b.clone());
                    c.big.insert(at, big);
                }
            }
            6 => {
                let j = rng.below(c.blocks.len());
                c.blocks.swap(i, j);
                c.big.swap(i, j);
            }
            // A block spliced in from another capture (of another format or byte order).
            7 => {
                let other = blocks(rng.pick::<Vec<u8>>(seeds));
                let j = rng.below(other.blocks.len());
                let at = rng.below(c.blocks.len() + 1);
                c.blocks.insert(at, other.blocks[j].clone());
                c.big.insert(at, other.big[j]);
            }
            // An interface flood: many interfaces with long descriptions before the packets.
            8 if c.pcapng => {
                let count = *rng.pick(&[100, 2_000, 70_000]);
                let big = c.big[0];
                let desc: Vec<u8> = (0..rng.below(200)).map(|k| b'a' + (k % 26) as u8).collect();
                let one = idb(big, *rng.pick(&[1, 113, 276, 0xFFFF]), &desc);
                let at = 1.min(c.blocks.len());
                c.blocks.insert(at, one.repeat(count));
                c.big.insert(at, big);
            }
            // A section flood: the section header repeated before every block.
            9 if c.pcapng => {
                let shb = c.blocks[0].clone();
                let big = c.big[0];
                let mut k = 1;
                while k < c.blocks.len() && k < 400 {
                    c.blocks.insert(k, shb.clone());
                    c.big.insert(k, big);
                    k += 2;
                }
            }
            // Gzip of the whole, maybe cut.
            _ => {
                let whole = c.blocks.concat();
                let mut enc =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                std::io::Write::write_all(&mut enc, &whole).expect("gzip");
                let mut gz = enc.finish().expect("gzip");
                if rng.below(2) == 0 {
                    gz.truncate(rng.below(gz.len() + 1));
                }
                return gz;
            }
        }
        if c.blocks.is_empty() {
            break;
        }
    }
    c.blocks.concat()
}

/// The capture seeds: fuzz/seeds/capture and the regression inputs.
fn capture_seeds() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = files(&fuzz_dir().join("seeds/capture"))
        .into_iter()
        .chain(files(&fuzz_dir().join("regressions/capture")))
        .map(|f| std::fs::read(f).expect("seed"))
        .collect();
    v.retain(|s| !s.starts_with(&[0x1f, 0x8b]));
    assert!(!v.is_empty());
    v
}

#[test]
fn fuzz_smoke_capture_cut_at_every_block_boundary() {
    for seed in capture_seeds() {
        let c = blocks(&seed);
        let mut prefix = Vec::new();
        for b in &c.blocks {
            for cut in [0, 1, b.len() / 2, b.len().saturating_sub(1)] {
                let mut data = prefix.clone();
                data.extend_from_slice(&b[..cut.min(b.len())]);
                check("capture", &data).unwrap_or_else(|e| panic!("cut at {}: {e}", data.len()));
            }
            prefix.extend_from_slice(b);
        }
    }
}

#[test]
fn fuzz_smoke_capture_structured_mutations() {
    let seeds = capture_seeds();
    smoke("capture", cases(600), 0x5EED_CAFE, |rng, _| {
        mutate_capture(rng, &seeds)
    });
}

#[test]
fn fuzz_smoke_frames() {
    let seeds: Vec<Vec<u8>> = files(&fuzz_dir().join("seeds/frame"))
        .into_iter()
        .map(|f| std::fs::read(f).expect("seed"))
        .collect();
    smoke("frame", cases(5_000), 0xF4A3E, |rng, case| {
        let mut f = rng.pick(&seeds).clone();
        // Every link type with every frame; then flips and cuts.
        f[0] = (case % 12) as u8;
        for _ in 0..rng.below(4) {
            let at = 1 + rng.below(f.len() - 1);
            f[at] = rng.next() as u8;
        }
        let keep = 1 + rng.below(f.len());
        f.truncate(keep);
        f
    });
}

// ---- labels and inventories -----------------------------------------------------------------

/// JSON values a field is most often wrong with: mostly of the type the field has (an extreme
/// number for a number, an odd time, address or name for a string), now and then of any type.
fn extreme(rng: &mut Rng, like: &Value) -> Value {
    const NUMBERS: [&str; 11] = [
        "0",
        "-1",
        "1",
        "4094",
        "4095",
        "65536",
        "1e308",
        "-1e308",
        "18446744073709551615",
        "-9223372036854775808",
        "9223372036.854775807",
    ];
    const STRINGS: [&str; 22] = [
        "\"\"",
        "\"9999-12-31T23:59:59.999999999Z\"",
        "\"0000-01-01T00:00:00Z\"",
        "\"2026-03-02T10:00:00.5+14:00\"",
        "\"2026-03-02T10:00:00.0000000001Z\"",
        "\"2026-02-30T10:00:00Z\"",
        "\"10.0.20.11/33\"",
        "\"10.0.20.11/0\"",
        "\"fd00::1/128\"",
        "\"::ffff:10.0.20.11/120\"",
        "\"00:50:56:61:00\"",
        "\"ff:ff:ff:ff:ff:ff\"",
        "\"esx01\"",
        "\"ESX01.LAB.LOCAL\"",
        "\"10.0.10.12\"",
        "\"vmk0\"",
        "\"vmotion\"",
        "\"storage-vmotion\"",
        "\"cold\"",
        "\"8.0\"",
        "\"\\u0000\"",
        "\"\u{202e}é\"",
    ];
    const ANY: [&str; 5] = ["null", "true", "[]", "{}", "\"x\""];
    let text = match (rng.below(5), like) {
        (0, _) => *rng.pick(&ANY),
        (_, Value::Number(_)) => *rng.pick(&NUMBERS),
        (_, Value::String(_)) => *rng.pick(&STRINGS),
        _ if rng.below(2) == 0 => *rng.pick(&NUMBERS),
        _ => *rng.pick(&STRINGS),
    };
    serde_json::from_str(text).expect("extreme value")
}

/// Mutates one node of a JSON document: a value replaced, a key dropped, an array entry
/// repeated (up to a thousand times) or dropped, or a value nested deeply.
fn mutate_json(rng: &mut Rng, v: &mut Value) {
    // A whole object or array replaced now and then; mostly something inside it changes.
    let here = rng.below(40) == 0;
    match v {
        Value::Object(m) if !m.is_empty() && !here => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = rng.pick(&keys).clone();
            if rng.below(12) == 0 {
                m.remove(&k);
            } else if let Some(child) = m.get_mut(&k) {
                mutate_json(rng, child);
            }
        }
        Value::Array(a) if !a.is_empty() && !here => {
            let i = rng.below(a.len());
            match rng.below(6) {
                // The same entry again (a label's copies get ids of their own).
                0 | 1 => {
                    let times = *rng.pick(&[1, 10, 1_000]);
                    let e = a[i].clone();
                    let fresh_ids = rng.below(2) == 0;
                    for n in 0..times {
                        let mut e = e.clone();
                        if let Some(Value::String(id)) = e.get_mut("id").filter(|_| fresh_ids) {
                            id.push_str(&format!("-{n}"));
                        }
                        a.push(e);
                    }
                }
                2 => {
                    a.remove(i);
                }
                _ => mutate_json(rng, &mut a[i]),
            }
        }
        _ => {
            let mut new = extreme(rng, v);
            if rng.below(20) == 0 {
                for _ in 0..rng.below(200) {
                    new = Value::Array(vec![new]);
                }
            }
            *v = new;
        }
    }
}

fn json_seeds(target: &str) -> Vec<Value> {
    files(&fuzz_dir().join("seeds").join(target))
        .into_iter()
        .map(|f| serde_json::from_slice(&std::fs::read(f).expect("seed")).expect("JSON seed"))
        .collect()
}

fn smoke_json(target: &str, n: usize, seed: u64) {
    let seeds = json_seeds(target);
    smoke(target, cases(n), seed, |rng, _| {
        let mut v = rng.pick(&seeds).clone();
        for _ in 0..1 + rng.below(3) {
            mutate_json(rng, &mut v);
        }
        let mut text = serde_json::to_vec(&v).expect("JSON");
        // Now and then a cut or a stray byte, which the JSON reader must name.
        match rng.below(20) {
            0 => text.truncate(rng.below(text.len() + 1)),
            1 => {
                let at = rng.below(text.len());
                text[at] = *rng.pick(&[b'"', b',', b'}', 0xff, 0]);
            }
            _ => {}
        }
        text
    });
}

#[test]
fn fuzz_smoke_labels() {
    smoke_json("labels", 300, 0x1ABE15);
}

#[test]
fn fuzz_smoke_inventory() {
    smoke_json("inventory", 300, 0x1A7E);
}

/// The events target: the seeds (events and tasks exports, log lines) with lines repeated,
/// dropped, cut, swapped between files, and fields replaced by odd values.
#[test]
fn fuzz_smoke_events() {
    let seeds: Vec<String> = files(&fuzz_dir().join("seeds/events"))
        .into_iter()
        .map(|f| std::fs::read_to_string(f).expect("seed"))
        .collect();
    smoke("events", cases(300), 0xE7E27, |rng, _| {
        let text = rng.pick(&seeds).clone();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for _ in 0..1 + rng.below(3) {
            if lines.is_empty() {
                break;
            }
            let i = rng.below(lines.len());
            match rng.below(6) {
                0 => {
                    let l = lines[i].clone();
                    for _ in 0..*rng.pick(&[1, 500]) {
                        lines.insert(i, l.clone());
                    }
                }
                1 => {
                    lines.remove(i);
                }
                2 => {
                    let at = rng.below(lines[i].len() + 1);
                    if lines[i].is_char_boundary(at) {
                        lines[i].truncate(at);
                    }
                }
                3 => {
                    let other = rng.pick(&seeds).clone();
                    let donor: Vec<&str> = other.lines().collect();
                    if !donor.is_empty() {
                        lines[i] = donor[rng.below(donor.len())].to_string();
                    }
                }
                4 => {
                    let odd = *rng.pick(&[
                        "",
                        "\"\"",
                        "\"VMware.Vim.VmEventArgument\"",
                        "\"13/45/2026 99:99:99 PM\"",
                        "\"/Date(-99999999999999999)/\"",
                        "\"9999-12-31T23:59:59Z\"",
                        "\"0000-01-01T00:00:00\"",
                        "\"NaN\"",
                        "\"-1\"",
                        "\"1e308\"",
                        "ts = 99999999999999999999999",
                        "<>",
                    ]);
                    let mut f: Vec<String> = lines[i].split(',').map(str::to_string).collect();
                    let j = rng.below(f.len());
                    f[j] = odd.to_string();
                    lines[i] = f.join(",");
                }
                _ => lines.insert(i, String::new()),
            }
        }
        lines.join("\n").into_bytes()
    });
}

#[test]
fn fuzz_smoke_powercli() {
    let seeds: Vec<String> = files(&fuzz_dir().join("seeds/powercli"))
        .into_iter()
        .map(|f| std::fs::read_to_string(f).expect("seed"))
        .collect();
    smoke("powercli", cases(300), 0xC5F, |rng, _| {
        let text = rng.pick(&seeds);
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for _ in 0..1 + rng.below(3) {
            let i = rng.below(lines.len());
            match rng.below(7) {
                // A line repeated (the same vmk twice, or a thousand times).
                0 => {
                    let times = *rng.pick(&[1, 1_000]);
                    let l = lines[i].clone();
                    for _ in 0..times {
                        lines.insert(i, l.clone());
                    }
                }
                1 => {
                    lines.remove(i);
                }
                // An unbalanced quote, or a field's quotes dropped.
                2 => {
                    let at = rng.below(lines[i].len() + 1);
                    if lines[i].is_char_boundary(at) {
                        lines[i].insert(at, '"');
                    }
                }
                3 => lines[i] = lines[i].replace('"', ""),
                // A column dropped or added in one line.
                4 => {
                    let mut f: Vec<&str> = lines[i].split(',').collect();
                    if rng.below(2) == 0 && !f.is_empty() {
                        f.remove(rng.below(f.len()));
                    } else {
                        f.push("\"extra\"");
                    }
                    lines[i] = f.join(",");
                }
                // A field replaced by an extreme value.
                5 => {
                    let mut f: Vec<String> = lines[i].split(',').map(str::to_string).collect();
                    let j = rng.below(f.len());
                    f[j] = rng
                        .pick(&[
                            "",
                            "\"\"",
                            "\"255.255.255.255\"",
                            "\"0.0.0.0\"",
                            "\"255.0.255.0\"",
                            "\"fd00::1\"",
                            "\"10.0.0.256\"",
                            "\"TRUE\"",
                            "\"yes\"",
                            "\"00:50:56\"",
                            "\"\u{feff}VMHost\"",
                        ])
                        .to_string();
                    lines[i] = f.join(",");
                }
                _ => lines.insert(i, String::new()),
            }
            if lines.is_empty() {
                break;
            }
        }
        let sep = if rng.below(2) == 0 { "\n" } else { "\r\n" };
        lines.join(sep).into_bytes()
    });
}

/// Finding 6 of the fuzzer (docs/fuzzing.md): a PowerCLI export without a service column makes
/// that service *unknown*, but the inventory `--write-inventory` wrote of it said *false*, so the
/// written file, reused, decided claims the export left inconclusive.
#[test]
fn fuzz_finding_6_written_inventory_keeps_unknown_services() {
    use vmkflow::classify::inventory::{Inventory, VmkInventory};
    let csv = fuzz_dir().join("regressions/powercli/write-inventory-loses-unknown-services.csv");
    let inv = VmkInventory::load(&csv).expect("the export reads");
    assert!(inv.vmks.iter().all(|v| !v.unknown_services.is_empty()));
    let dir = crate::util::TempDir::new("fuzz-finding-6");
    let written = dir.path().join("written.inventory.json");
    Inventory::from(&inv).save(&written).expect("written");
    let again = VmkInventory::load(&written).expect("read back");
    assert_eq!(inv.vmks, again.vmks, "unknown services became false");
}
