//! Report stage: the serialize-only types of the JSON report and the human summary.
//!
//! In: what the pipeline stages computed. Out: `schema_version` 1 JSON (deterministic: sorted maps,
//! no wall-clock time, no random ids) and a short text summary.

pub mod events;
pub mod flows;
pub mod html;
pub mod migrations;
pub mod parquet;
pub mod summary;

use serde::Serialize;

use crate::capture::{Format, Interface, SkippedBlocks, TruncatedAt};
use crate::decode::DecodeStats;
use crate::vocab::vantage::Vantage;

/// The report's schema version; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The program that wrote the report.
    pub generator: String,
    /// The input as named on the command line.
    pub input: InputSection,
    /// What the capture file holds.
    pub capture: CaptureSection,
    /// Inventory, interfaces, networks, classes and flows.
    #[serde(flatten)]
    pub traffic: flows::FlowSections,
    /// Where the migration windows came from.
    pub migration_labels: MigrationLabels,
    /// Labelled migrations, or detected sessions when there are no labels.
    pub migrations: Vec<migrations::MigrationReport>,
    /// Per claim set and row, the verdict over all labelled migrations.
    pub verification: Vec<crate::verify::ClaimSetVerification>,
    /// Findings (issue 14): per migration, what its traffic answers, warnings first.
    pub findings: Vec<crate::verify::findings::Finding>,
    /// What the user should know to read the report right (label hosts not in the inventory,
    /// …), also printed on standard error.
    pub warnings: Vec<String>,
    /// With `--events`: the files read, and how the migrations they record match the capture's
    /// traffic. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<events::EventsCheck>,
    /// Per migration (in `migrations` order, the first
    /// [`crate::migration::series::MAX_TIMELINES`]), its bytes over time for the HTML report;
    /// empty unless [`crate::analyze::AnalyzeOptions::timelines`] asked for them. Not in the JSON.
    #[serde(skip)]
    pub timelines: Vec<crate::migration::series::MigrationSeries>,
    /// What the Parquet tables need beyond the JSON (per-second series, migration windows);
    /// `None` unless [`crate::analyze::AnalyzeOptions::parquet`] asked for it. Not in the JSON.
    #[serde(skip)]
    pub parquet: Option<parquet::Extras>,
}

/// Where the migration windows came from.
#[derive(Debug, Clone, Serialize)]
pub struct MigrationLabels {
    /// `none`, `file`, or `scenario KIND:STATE`.
    pub source: String,
    /// The labels file.
    pub path: Option<String>,
}

/// Where the capture came from.
#[derive(Debug, Clone, Serialize)]
pub struct InputSection {
    /// Path as given, or `<stdin>`.
    pub name: String,
}

/// Packets, bytes, time span and decode counters of the capture.
#[derive(Debug, Clone, Serialize)]
pub struct CaptureSection {
    /// `pcap` or `pcapng`.
    pub format: Format,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
    /// Timestamp precision of the file (`microsecond`, `nanosecond`, `per-interface`).
    pub ts_precision: &'static str,
    /// Sections (pcapng), 1 for pcap.
    pub sections: u32,
    /// Link types with their packet counts, by link type.
    pub link_types: Vec<LinkTypeCount>,
    /// Interfaces with their packet counts.
    pub interfaces: Vec<InterfaceSection>,
    /// Packet records read.
    pub packets: u64,
    /// Sum of original (on-the-wire) frame lengths.
    pub wire_bytes: u64,
    /// Sum of captured lengths.
    pub captured_bytes: u64,
    /// Earliest packet timestamp, RFC 3339 UTC with nanoseconds.
    pub first_ts: Option<String>,
    /// Latest packet timestamp.
    pub last_ts: Option<String>,
    /// `last_ts - first_ts` in seconds.
    pub duration_s: f64,
    /// Packets without a timestamp (pcapng Simple Packet Blocks).
    pub packets_without_timestamp: u64,
    /// Packets whose timestamp is earlier than the packet before them.
    pub out_of_order_timestamps: u64,
    /// Layer counters.
    pub decode: DecodeStats,
    /// pcapng blocks that carry no packet, by kind.
    pub skipped_blocks: SkippedBlocks,
    /// Packet records naming an interface the section did not declare (not decoded).
    pub records_with_unknown_interface: u64,
    /// Interfaces declared beyond the 65 536 kept per section (their packets are records on an
    /// unknown interface).
    pub interfaces_not_kept: u64,
    /// Interfaces kept but not listed in `interfaces` (beyond the first 4 096).
    pub interfaces_not_listed: u64,
    /// Bytes of the (decompressed) input consumed.
    pub bytes_read: u64,
    /// True when the capture ends inside a record.
    pub truncated: bool,
    /// Where the capture was cut, when it was.
    pub truncated_at: Option<TruncatedAt>,
    /// A fatal error that stopped reading early, when one did.
    pub error: Option<ErrorSection>,
    /// Each input of the capture set (one for a single capture), in the order given.
    pub inputs: Vec<InputReport>,
    /// Frames seen at two vantage points (or twice in one file) and counted once.
    pub duplicates: DuplicatesSection,
    /// Each clock of a capture set and its offset from the reference (the first input's); empty
    /// for a single input.
    pub clocks: Vec<ClockSection>,
}

/// One input of a capture set.
#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    /// Path as given, or `<stdin>`.
    pub name: String,
    /// File format.
    pub format: Format,
    /// Whether it was gzip-compressed.
    pub gzip: bool,
    /// Ids (in `capture.interfaces`) of its interfaces.
    pub interfaces: Vec<u32>,
    /// Frames read.
    pub packets: u64,
    /// Original lengths of the frames read.
    pub wire_bytes: u64,
    /// Frames of this input removed as copies of frames another input (or this one) held.
    pub duplicates_removed: u64,
    /// First timestamp, on the input's own clock.
    pub first_ts: Option<String>,
    /// Last timestamp, on the input's own clock.
    pub last_ts: Option<String>,
    /// Where it was captured, when all its interfaces agree.
    pub vantage: Option<Vantage>,
    /// Where the input ends early, if it does.
    pub truncated_at: Option<TruncatedAt>,
    /// The fatal error that stopped reading this input, if any.
    pub error: Option<ErrorSection>,
}

/// Copies removed.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatesSection {
    /// Two frames of one identity this close in time are one frame seen twice.
    pub window_ms: f64,
    /// Frames looked up.
    pub checked_frames: u64,
    /// Whether looking stopped early: a single input none of whose first frames
    /// ([`crate::set::dedup::PROBE_FRAMES`]) was a copy is taken to hold none.
    pub stopped_looking: bool,
    /// Frames removed.
    pub frames: u64,
    /// Their original lengths.
    pub wire_bytes: u64,
    /// Per pair of inputs: which kept the frame, which held the copy.
    pub pairs: Vec<DuplicatePair>,
}

/// Copies removed between two inputs.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatePair {
    /// The input whose frame was kept (the earlier on the reference clock).
    pub kept: String,
    /// The input whose copy was removed (the same input for a file holding both copies).
    pub removed: String,
    /// Frames removed.
    pub frames: u64,
    /// Their original lengths.
    pub wire_bytes: u64,
}

/// One clock of a capture set.
#[derive(Debug, Clone, Serialize)]
pub struct ClockSection {
    /// The host it belongs to, or the input for an input no host name is known of.
    pub clock: String,
    /// Milliseconds it runs ahead of the reference clock (subtracted from its timestamps).
    pub offset_ms: f64,
    /// Median absolute deviation of the differences behind the estimate, in milliseconds.
    pub spread_ms: f64,
    /// Frames both clocks saw that the estimate rests on.
    pub samples: u64,
    /// `reference`, `option` (--clock-offset), `estimated`, or `unknown` (no common frames:
    /// taken as 0).
    pub source: &'static str,
}

/// One link type and how many packets used it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkTypeCount {
    /// LINKTYPE_ value.
    pub link_type: u32,
    /// Its name (`UNSUPPORTED` when the decoder cannot read it).
    pub name: &'static str,
    /// Packets of this link type.
    pub packets: u64,
}

/// An interface and its packets.
#[derive(Debug, Clone, Serialize)]
pub struct InterfaceSection {
    /// What the capture declared.
    #[serde(flatten)]
    pub interface: Interface,
    /// Name of the link type.
    pub link_type_name: &'static str,
    /// Packets recorded on it.
    pub packets: u64,
    /// Sum of original lengths of its packets.
    pub wire_bytes: u64,
    /// Index of the input (in `capture.inputs`) that declared it.
    pub input: u32,
    /// Where it was captured.
    pub vantage: Vantage,
}

/// A fatal error, recorded in a partial report.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorSection {
    /// Byte offset in the input.
    pub offset: Option<u64>,
    /// The message also printed on stderr.
    pub message: String,
}
