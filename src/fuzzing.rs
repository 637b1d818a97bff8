//! The fuzz targets: what `fuzz/` (AFL++ through cargo-afl) runs on every input it makes, and
//! what `tests/it/fuzz_regressions.rs` runs on every input that ever failed and on a structured
//! mutation smoke set. Not a stable interface; see `docs/fuzzing.md`.
//!
//! Each target takes the raw input bytes and returns what it produced: `Ok` with the bytes of a
//! report (or of a decoded frame), `Err` with the message of a clean rejection (a file vmkflow
//! refuses, with the reason it prints). A target panics when an oracle fails, which is what the
//! fuzzer counts as a crash:
//!
//! - nothing panics or aborts, and every input ends (the fuzzer's time limit catches the rest);
//! - the same capture analysed twice gives the same report and summary, byte for byte;
//! - an inventory written as `--write-inventory` writes it and read back is the same inventory.
//!
//! Targets read files through the same loaders as the command line (label and inventory files
//! are written to a private temporary directory first), so they follow whatever those accept.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::analyze::{self, AnalyzeOptions, Labels, Outcome};
use crate::capture::{CaptureReader, Source};
use crate::classify::inventory::{Inventory, VmkInventory};
use crate::decode;
use crate::labels::{Migrations, Scenario};
use crate::report::summary;
use crate::set::identity::identity;
use crate::synth::{self, Format, SynthConfig};
use crate::verify::ClaimSet;
use crate::vocab::kind::{MigrationKind, PowerState};
use crate::vocab::wire::LinkType;

/// The targets, by the names the harness, the seed folders and the regression folders use.
pub const TARGETS: [&str; 6] = [
    "capture",
    "frame",
    "labels",
    "inventory",
    "powercli",
    "events",
];

/// What a target produced: a report's (or a decoded frame's) bytes, or a clean rejection.
pub type Ending = Result<Vec<u8>, String>;

/// Runs target `name` on `data`; `None` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> Option<Ending> {
    Some(match name {
        "capture" => capture(data),
        "frame" => frame(data),
        "labels" => labels(data),
        "inventory" => inventory(data, "fuzz.inventory.json"),
        "powercli" => inventory(data, "fuzz.csv"),
        "events" => events(data),
        _ => return None,
    })
}

/// The link types the decoder reads; the frame target's first byte picks one (or, past them, a
/// link type it does not read).
pub const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

/// The bundled capture's inventory and labels: the analysis settings of the `capture` target
/// (by input length) and of the label and inventory targets.
const INVENTORY: &str = include_str!("../captures/all-vmware.pcapng.inventory.json");
const MIGRATIONS: &str = include_str!("../captures/all-vmware.pcapng.migrations.json");

/// Target `capture`: the bytes as a capture file (pcap, pcapng, or either gzipped) through the
/// reader, the decoder and the whole analysis, twice, with the same report both times.
///
/// The settings depend on the input's length modulo 4 (so that a bit flip keeps them and a cut
/// or an insertion explores the others): 0, what `analyze FILE` does without sidecars
/// (inferred inventory, sessions detected); 1, `--scenario vmotion:hot:memory=1` with the
/// bundled inventory; 2, the bundled inventory and labels; 3, a capture set of two files with
/// these bytes (merge, clock calibration, every frame a copy).
pub fn capture(data: &[u8]) -> Ending {
    let opts = capture_options(data.len());
    let set = data.len() % 4 == 3;
    let first = analyze_capture(data, &opts, set)?;
    let again = analyze_capture(data, &opts, set)?;
    assert!(
        first == again,
        "the same capture gave two different reports ({} and {} bytes)",
        first.len(),
        again.len()
    );
    Ok(first)
}

/// Target `frame`: the decoder alone. The first byte picks the link type, the rest is the frame.
pub fn frame(data: &[u8]) -> Ending {
    let Some((&pick, frame)) = data.split_first() else {
        return Err("no link type byte".into());
    };
    let link = LINK_TYPES
        .get(usize::from(pick))
        .copied()
        .unwrap_or(u32::from(pick) << 8 | u32::from(pick));
    let link = LinkType::from(link);
    let d = decode::decode(link, frame);
    assert!(
        usize::from(d.vlan_count) <= frame.len(),
        "{} VLAN tags in a frame of {} bytes",
        d.vlan_count,
        frame.len()
    );
    assert!(
        d.l4_payload_len() <= 65_535,
        "a payload of {} bytes from 16-bit length fields",
        d.l4_payload_len()
    );
    let id = identity(&d, frame);
    let mut stats = decode::DecodeStats::default();
    let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
    stats.add(&d, len, len.saturating_add(4));
    Ok(format!("{d:?}\n{id:?}").into_bytes())
}

/// Target `labels`: the bytes as a migrations file (`--migrations`), read by the command line's
/// loader; when accepted, the labels analysed over a small synthetic capture of all six
/// migrations with the bundled inventory.
pub fn labels(data: &[u8]) -> Ending {
    let scratch = Scratch::new();
    let path = scratch.write("fuzz.migrations.json", data);
    let m = Migrations::load(&path).map_err(|e| scratch.hide(e.to_string()))?;
    let opts = AnalyzeOptions {
        inventory: bundled_inventory(),
        labels: Labels::File {
            path: "fuzz.migrations.json".into(),
            migrations: m.migrations,
        },
        ..base_options()
    };
    Ok(report_bytes(&analyze::run(
        small_capture(),
        &opts,
        &mut |_| {},
    )))
}

/// Target `events`: the bytes as an `--events` file (an events or tasks export, CSV or JSON, or
/// ESXi log lines, recognised by content), read by the command line's reader twice with the
/// same result; when accepted, every migration's window is ordered, and the migrations are
/// analysed over the small synthetic capture with the bundled inventory.
pub fn events(data: &[u8]) -> Ending {
    let scratch = Scratch::new();
    let path = scratch.write("fuzz.events", data);
    let tz = crate::events::Tz::default();
    let read = |p: &std::path::Path| {
        crate::events::read_files(&[p.to_path_buf()], tz).map_err(|e| scratch.hide(e.to_string()))
    };
    let derived = read(&path)?;
    assert!(
        read(&path).as_ref() == Ok(&derived),
        "the same events file read twice gave two results"
    );
    for m in &derived.migrations {
        assert!(m.start <= m.end, "migration {} ends before it starts", m.id);
    }
    let opts = AnalyzeOptions {
        inventory: bundled_inventory(),
        labels: Labels::Events {
            path: "fuzz.events".into(),
            derived: std::sync::Arc::new(derived),
        },
        ..base_options()
    };
    Ok(report_bytes(&analyze::run(
        small_capture(),
        &opts,
        &mut |_| {},
    )))
}

/// Targets `inventory` and `powercli`: the bytes as an inventory file named `name` (JSON, or a
/// PowerCLI CSV export for a `.csv` name), read by the command line's loader; when accepted, the
/// inventory written as `--write-inventory` writes it must read back the same, and it is used to
/// analyse a small synthetic capture with the bundled labels.
pub fn inventory(data: &[u8], name: &str) -> Ending {
    let scratch = Scratch::new();
    let path = scratch.write(name, data);
    let inv = VmkInventory::load(&path).map_err(|e| scratch.hide(e.to_string()))?;
    let written = Inventory::from(&inv);
    let saved = scratch.path("fuzz-written.inventory.json");
    written
        .save(&saved)
        .unwrap_or_else(|e| panic!("an accepted inventory cannot be written: {e}"));
    let again = VmkInventory::load(&saved)
        .unwrap_or_else(|e| panic!("the inventory vmkflow wrote is rejected: {e}"));
    // The file form keeps even the services a PowerCLI export could not say (unknown_services).
    assert_eq!(
        inv.vmks, again.vmks,
        "the inventory vmkflow wrote reads back different"
    );
    let opts = AnalyzeOptions {
        inventory: Some(inv),
        labels: bundled_labels(),
        ..base_options()
    };
    Ok(report_bytes(&analyze::run(
        small_capture(),
        &opts,
        &mut |_| {},
    )))
}

/// What every target's analysis starts from: the command line's defaults (built-in claim sets,
/// no inventory, no labels), with the timelines of `--html` so that the page is rendered too.
fn base_options() -> AnalyzeOptions {
    AnalyzeOptions {
        claim_sets: ClaimSet::builtin(),
        timelines: true,
        ..AnalyzeOptions::default()
    }
}

fn capture_options(len: usize) -> AnalyzeOptions {
    match len % 4 {
        1 => AnalyzeOptions {
            inventory: bundled_inventory(),
            labels: "vmotion:hot:memory=1"
                .parse::<Scenario>()
                .map_or(Labels::None, Labels::Scenario),
            ..base_options()
        },
        2 => AnalyzeOptions {
            inventory: bundled_inventory(),
            labels: bundled_labels(),
            ..base_options()
        },
        _ => base_options(),
    }
}

/// The bundled capture's inventory (`None`, inferring one, should it ever stop parsing).
fn bundled_inventory() -> Option<VmkInventory> {
    let inv: Inventory = serde_json::from_str(INVENTORY).ok()?;
    let vmks = inv.vmks().ok()?;
    Some(VmkInventory::new(
        vmks,
        crate::classify::inventory::InventorySource::File("bundled.inventory.json".into()),
    ))
}

/// The bundled capture's labels.
fn bundled_labels() -> Labels {
    match serde_json::from_str::<Migrations>(MIGRATIONS) {
        Ok(m) => Labels::File {
            path: "bundled.migrations.json".into(),
            migrations: m.migrations,
        },
        Err(_) => Labels::None,
    }
}

/// One analysis of `data`, as `analyze FILE --json` would write it: a capture that is no capture
/// is a report with `capture.error`; the bytes are the JSON report and the summary.
fn analyze_capture(data: &[u8], opts: &AnalyzeOptions, set: bool) -> Ending {
    const NAME: &str = "fuzz.pcap";
    if set {
        let scratch = Scratch::new();
        let sources = [
            Source::Path(scratch.write("esx01-vmk1.pcap", data)),
            Source::Path(scratch.write("esx02-vmk1.pcap", data)),
        ];
        // The report names the files: without their fresh directory, two runs compare equal.
        return match analyze::run_set(&sources, opts, &mut |_| {}) {
            Ok(outcome) => Ok(scratch
                .hide(String::from_utf8_lossy(&report_bytes(&outcome)).into_owned())
                .into_bytes()),
            Err(e) => Err(scratch.hide(e.to_string())),
        };
    }
    let outcome = match CaptureReader::from_bytes(NAME, data.to_vec()) {
        Ok(reader) => analyze::run(reader, opts, &mut |_| {}),
        Err(e) if e.is_content() => analyze::unreadable(NAME.into(), e, opts),
        Err(e) => return Err(e.to_string()),
    };
    Ok(report_bytes(&outcome))
}

fn report_bytes(outcome: &Outcome) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(&outcome.report)
        .unwrap_or_else(|e| panic!("the report cannot be written as JSON: {e}"));
    bytes.extend_from_slice(summary::render(&outcome.report).as_bytes());
    bytes.extend_from_slice(crate::report::html::render(&outcome.report).as_bytes());
    bytes
}

/// The capture the label and inventory targets analyse: all six migrations of the vmware model,
/// 1 MiB each, header-only, generated once per process (about 13 000 packets).
fn small_capture() -> CaptureReader {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    let bytes = BYTES.get_or_init(|| {
        let scratch = Scratch::new();
        let out = scratch.path("small.pcapng");
        synth::generate(&SynthConfig {
            out: out.clone(),
            memory_mb: 1,
            disk_mb: 1,
            snaplen: Some(96),
            format: Format::Pcapng,
            seed: 1,
            scenarios: vec![
                (MigrationKind::Vmotion, PowerState::Hot),
                (MigrationKind::StorageVmotion, PowerState::Cold),
                (MigrationKind::Xvmotion, PowerState::Hot),
            ],
            ..SynthConfig::default()
        })
        .unwrap_or_else(|e| panic!("cannot generate the labels' capture: {e}"));
        std::fs::read(&out).unwrap_or_else(|e| panic!("cannot read the labels' capture: {e}"))
    });
    CaptureReader::from_bytes("small.pcapng", bytes.clone())
        .unwrap_or_else(|e| panic!("the labels' capture does not read: {e}"))
}

/// A fresh temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("vmkflow-fuzz-{}-{n:09}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        Scratch(dir)
    }

    /// `text` with this directory's path replaced by `SCRATCH`.
    fn hide(&self, text: String) -> String {
        text.replace(&self.0.display().to_string(), "SCRATCH")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
