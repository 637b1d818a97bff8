//! The pipeline driver: reads every frame of a capture, decodes it, feeds the stages, and builds
//! the report.
//!
//! In: an open [`CaptureReader`] and [`AnalyzeOptions`]. Out: an [`Outcome`]: the report, plus the
//! fatal error that stopped reading early, if any (the report then covers what was read).

use std::sync::Arc;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use crate::capture::Source;
use crate::capture::{CaptureError, CaptureReader, CaptureStats, Format, Frame};
use crate::classify::inventory::VmkInventory;
use crate::classify::vantage::{self as vantage_of, PointFacts};
use crate::classify::{self, Classifier, ClassifyConfig, infer};
use crate::decode::{self, DecodeStats, Decoded, Transport};
use crate::flow::{FlowConfig, FlowTable, NO_TAG, PacketRef};
use crate::labels::{Migration, Scenario, Timestamp};
use crate::migration::{self, fold::Folder, timeline::Timeline};
use crate::report::flows;
use crate::report::migrations::MigrationReport;
use crate::report::{
    CaptureSection, ClockSection, DuplicatePair, DuplicatesSection, ErrorSection, InputReport,
    InputSection, InterfaceSection, LinkTypeCount, MigrationLabels, Report, SCHEMA_VERSION,
};
use crate::set::clock::{Offset, Samples};
use crate::set::dedup::Dedup;
use crate::set::identity::{Identity, identity};
use crate::set::local::{LocalTracker, vmk_in_name};
use crate::set::merge::Merger;
use crate::set::{self, SetOptions};
use crate::verify::{self, ClaimSet, RowVerdict};
use crate::vocab::Mac;
use crate::vocab::ports::TrafficClass;
use crate::vocab::time;
use crate::vocab::vantage::{Coverage, Vantage};
use crate::vocab::wire::LinkType;

/// Settings of one analysis run.
#[derive(Clone, Default)]
pub struct AnalyzeOptions {
    /// Flow table limits.
    pub flow: FlowConfig,
    /// Port catalogue and report limits.
    pub classify: ClassifyConfig,
    /// The inventory; `None` infers one from the traffic.
    pub inventory: Option<VmkInventory>,
    /// Where migration windows come from.
    pub labels: Labels,
    /// Claim sets to verify.
    pub claim_sets: Vec<ClaimSet>,
    /// Thresholds and references of the findings.
    pub findings: verify::findings::FindingsConfig,
    /// How several inputs are read as one: duplicates window, clock offsets, vantages.
    pub set: SetOptions,
    /// What reading the inventory and label files found that the report's reader must know
    /// (each naming its file and line); the report's first warnings.
    pub warnings: Vec<String>,
    /// Fold each migration's bytes into timelines for the HTML report (`--html`); they ride on
    /// the report without entering the JSON.
    pub timelines: bool,
    /// Threads reading one capture ([`crate::parallel`]); 0 and 1 mean the calling thread only.
    /// The report is the same for every count.
    pub threads: usize,
    /// Bytes read at a time (0: [`crate::capture::input::READ_CHUNK`]); with several threads,
    /// the frames of one such read travel between threads as one batch.
    pub read_buffer: usize,
    /// Compute what the Parquet tables need beyond the JSON (`--parquet`): it rides on the
    /// report as [`Report::parquet`].
    pub parquet: bool,
}

/// Where migration windows come from.
#[derive(Debug, Clone, Default)]
pub enum Labels {
    /// None: sessions are detected, without verdicts.
    #[default]
    None,
    /// A migrations file.
    File {
        /// Its path, for the report.
        path: String,
        /// Its migrations.
        migrations: Vec<Migration>,
    },
    /// `--scenario KIND:STATE`: one migration spanning the whole capture.
    Scenario(Scenario),
    /// `--events FILE…`: the migrations vCenter's events and tasks and the hosts' logs record;
    /// those that overlap the capture are its labels.
    Events {
        /// The files, as given, joined with `, `.
        path: String,
        /// What they give.
        derived: Arc<crate::events::Derived>,
    },
}

impl Labels {
    /// The report's `migration_labels` value.
    pub fn describe(&self) -> MigrationLabels {
        match self {
            Labels::None => MigrationLabels {
                source: "none".into(),
                path: None,
            },
            Labels::File { path, .. } => MigrationLabels {
                source: "file".into(),
                path: Some(path.clone()),
            },
            Labels::Scenario(sc) => MigrationLabels {
                source: format!("scenario {sc}"),
                path: None,
            },
            Labels::Events { path, .. } => MigrationLabels {
                source: "events".into(),
                path: Some(path.clone()),
            },
        }
    }
}

/// The result of a run.
pub struct Outcome {
    /// The report of everything read.
    pub report: Report,
    /// The fatal error that ended reading, if one did.
    pub error: Option<CaptureError>,
    /// The inventory the report used (given or inferred), for `--write-inventory`.
    pub inventory: Arc<VmkInventory>,
}

/// Running totals of one input, on its own clock.
#[derive(Default, Clone)]
struct InputTotals {
    packets: u64,
    wire_bytes: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// per interface id: (packets, wire bytes)
    per_interface: Vec<(u64, u64)>,
    /// per interface id: the addresses its traffic showed
    local: Vec<LocalTracker>,
}

/// How one input of a run ended: its name, what its reader learnt, and the error that stopped
/// it, if one did.
pub struct InputEnd {
    /// The name, as given.
    pub name: String,
    /// The reader's statistics.
    pub stats: CaptureStats,
    /// The fatal error that ended it.
    pub error: Option<ErrorSection>,
}

impl InputEnd {
    /// The end of input `name`.
    pub fn new(name: String, stats: CaptureStats, error: Option<&CaptureError>) -> InputEnd {
        InputEnd {
            name,
            stats,
            error: error.map(|e| ErrorSection {
                offset: e.offset(),
                message: e.to_string(),
            }),
        }
    }
}

/// Running totals of the capture section.
#[derive(Default)]
struct CaptureTotals {
    packets: u64,
    wire_bytes: u64,
    captured_bytes: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    prev_ts: Option<i64>,
    no_ts: u64,
    out_of_order: u64,
    /// (link type, packets)
    link_types: Vec<(LinkType, u64)>,
    /// Per capture point (input, interface), in order of first packet.
    points: Vec<Point>,
    point_of: FxHashMap<(u32, u32), usize>,
    /// The point of the packet before (most packets share it).
    last_point: Option<((u32, u32), usize)>,
    decode: DecodeStats,
}

/// Running totals of one interface of one input, on the input's own clock.
#[derive(Default, Clone)]
struct Point {
    input: u32,
    interface: u32,
    packets: u64,
    wire_bytes: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    local: LocalTracker,
}

fn widen(first: &mut Option<i64>, last: &mut Option<i64>, ts: i64) {
    *first = Some(first.map_or(ts, |v| v.min(ts)));
    *last = Some(last.map_or(ts, |v| v.max(ts)));
}

impl CaptureTotals {
    /// The totals of each input, from its points.
    fn inputs(&self) -> Vec<InputTotals> {
        let n = self
            .points
            .iter()
            .map(|p| p.input as usize + 1)
            .max()
            .unwrap_or(0);
        let mut out = vec![InputTotals::default(); n];
        for p in &self.points {
            let Some(it) = out.get_mut(p.input as usize) else {
                continue;
            };
            it.packets += p.packets;
            it.wire_bytes += p.wire_bytes;
            if let (Some(a), Some(b)) = (p.first_ts, p.last_ts) {
                widen(&mut it.first_ts, &mut it.last_ts, a);
                widen(&mut it.first_ts, &mut it.last_ts, b);
            }
            let i = p.interface as usize;
            if it.per_interface.len() <= i {
                it.per_interface.resize(i + 1, (0, 0));
                it.local.resize(i + 1, LocalTracker::default());
            }
            if let (Some(c), Some(l)) = (it.per_interface.get_mut(i), it.local.get_mut(i)) {
                *c = (p.packets, p.wire_bytes);
                *l = p.local.clone();
            }
        }
        out
    }

    /// Counts a frame of `input`; `raw_ts` is its time on the input's clock, `f.ts_ns` on the
    /// reference clock.
    fn add(&mut self, input: u32, f: &Frame<'_>, raw_ts: Option<i64>, d: &Decoded) {
        self.packets += 1;
        self.wire_bytes += f.orig_len as u64;
        self.captured_bytes += f.data.len() as u64;
        match f.ts_ns {
            Some(ts) => {
                widen(&mut self.first_ts, &mut self.last_ts, ts);
                if self.prev_ts.is_some_and(|p| ts < p) {
                    self.out_of_order += 1;
                }
                self.prev_ts = Some(ts);
            }
            None => self.no_ts += 1,
        }
        match self
            .link_types
            .iter_mut()
            .find(|(lt, _)| *lt == f.link_type)
        {
            Some(e) => e.1 += 1,
            None => self.link_types.push((f.link_type, 1)),
        }
        let key = (input, f.interface);
        let idx = match self.last_point {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.points.len();
                let i = *self.point_of.entry(key).or_insert(next);
                if i == next {
                    self.points.push(Point {
                        input,
                        interface: f.interface,
                        ..Point::default()
                    });
                }
                self.last_point = Some((key, i));
                i
            }
        };
        if let Some(p) = self.points.get_mut(idx) {
            p.packets += 1;
            p.wire_bytes += f.orig_len as u64;
            if let Some(ts) = raw_ts {
                widen(&mut p.first_ts, &mut p.last_ts, ts);
            }
            p.local.add(d);
        }
    }
}

/// The vantage of every interface of every input, decided with the inventory: `[input][iface]`.
fn vantages(
    ends: &[InputEnd],
    inputs: &[InputTotals],
    args: &SetOptions,
    inv: &VmkInventory,
) -> Vec<Vec<Vantage>> {
    ends.iter()
        .enumerate()
        .map(|(n, end)| {
            let file_name = std::path::Path::new(&end.name)
                .file_name()
                .and_then(|f| f.to_str());
            end.stats
                .interfaces
                .iter()
                .map(|iface| {
                    let tracker = inputs.get(n).and_then(|t| t.local.get(iface.id as usize));
                    let facts = PointFacts {
                        arg: args.vantages.get(n).and_then(Option::as_ref),
                        interface_names: [iface.name.as_deref(), iface.description.as_deref()],
                        file_name,
                        tracker,
                    };
                    vantage_of::resolve(&facts, inv)
                })
                .collect()
        })
        .collect()
}

/// The capture section of a run over `ends` (one per input).
fn capture_section(
    totals: CaptureTotals,
    inputs: &[InputTotals],
    ends: &[InputEnd],
    vantages: &[Vec<Vantage>],
    dedup: &Dedup,
    clocks: Vec<ClockSection>,
) -> CaptureSection {
    let CaptureTotals { mut link_types, .. } = totals;
    link_types.sort();
    let duration_s = match (totals.first_ts, totals.last_ts) {
        // Exact across the whole 64-bit range (a pcapng's offsets can reach both ends).
        (Some(a), Some(b)) => (i128::from(b) - i128::from(a)) as f64 / 1e9,
        _ => 0.0,
    };
    let single = ends.len() == 1;
    let mut interfaces = Vec::new();
    let mut input_reports = Vec::new();
    let removed_from = |n: usize| {
        dedup
            .pairs
            .iter()
            .filter(|((_, r), _)| *r as usize == n)
            .map(|(_, c)| c.frames)
            .sum()
    };
    for (n, end) in ends.iter().enumerate() {
        let it = inputs.get(n).cloned().unwrap_or_default();
        let mut ids = Vec::new();
        for (k, i) in end.stats.interfaces.iter().enumerate() {
            let (packets, wire_bytes) = it
                .per_interface
                .get(i.id as usize)
                .copied()
                .unwrap_or((0, 0));
            let mut interface = i.clone();
            if !single {
                interface.id = interfaces.len() as u32;
            }
            ids.push(interface.id);
            interfaces.push(InterfaceSection {
                interface,
                link_type_name: i.link_type.name(),
                packets,
                wire_bytes,
                input: n as u32,
                vantage: vantages
                    .get(n)
                    .and_then(|v| v.get(k))
                    .cloned()
                    .unwrap_or_else(Vantage::unknown),
            });
        }
        let own = vantages.get(n).map(Vec::as_slice).unwrap_or(&[]);
        let vantage = match own.split_first() {
            Some((first, rest)) if rest.iter().all(|v| v == first) => Some(first.clone()),
            _ => None,
        };
        input_reports.push(InputReport {
            name: end.name.clone(),
            format: end.stats.format,
            gzip: end.stats.gzip,
            interfaces: ids,
            packets: it.packets,
            wire_bytes: it.wire_bytes,
            duplicates_removed: removed_from(n),
            first_ts: it.first_ts.map(time::rfc3339),
            last_ts: it.last_ts.map(time::rfc3339),
            vantage,
            truncated_at: end.stats.truncated_at,
            error: end.error.clone(),
        });
    }
    let first = ends.first();
    let all_same = |f: &dyn Fn(&InputEnd) -> bool| ends.iter().all(f);
    let format = match first {
        Some(e) if all_same(&|x| x.stats.format == e.stats.format) => e.stats.format,
        Some(_) => Format::Mixed,
        None => Format::Pcap,
    };
    let ts_precision = match first {
        Some(e) if all_same(&|x| x.stats.ts_precision == e.stats.ts_precision) => {
            e.stats.ts_precision
        }
        Some(_) => "mixed",
        None => "",
    };
    let mut skipped = crate::capture::SkippedBlocks::default();
    for e in ends {
        skipped.add(&e.stats.skipped_blocks);
    }
    let name_of = |n: u32| {
        ends.get(n as usize)
            .map_or_else(String::new, |e| e.name.clone())
    };
    let total = dedup.total();
    CaptureSection {
        format,
        gzip: ends.iter().any(|e| e.stats.gzip),
        ts_precision,
        sections: ends.iter().map(|e| e.stats.sections).sum(),
        link_types: link_types
            .iter()
            .map(|&(lt, packets)| LinkTypeCount {
                link_type: lt.into(),
                name: lt.name(),
                packets,
            })
            .collect(),
        interfaces,
        packets: totals.packets,
        wire_bytes: totals.wire_bytes,
        captured_bytes: totals.captured_bytes,
        first_ts: totals.first_ts.map(time::rfc3339),
        last_ts: totals.last_ts.map(time::rfc3339),
        duration_s,
        packets_without_timestamp: totals.no_ts,
        out_of_order_timestamps: totals.out_of_order,
        decode: totals.decode,
        skipped_blocks: skipped,
        records_with_unknown_interface: ends
            .iter()
            .map(|e| e.stats.records_with_unknown_interface)
            .sum(),
        interfaces_not_kept: ends.iter().map(|e| e.stats.interfaces_not_kept).sum(),
        interfaces_not_listed: ends.iter().map(|e| e.stats.interfaces_not_listed).sum(),
        bytes_read: ends.iter().map(|e| e.stats.bytes_read).sum(),
        truncated: ends.iter().any(|e| e.stats.truncated),
        truncated_at: ends.iter().find_map(|e| e.stats.truncated_at),
        error: ends.iter().find_map(|e| e.error.clone()),
        inputs: input_reports,
        duplicates: DuplicatesSection {
            window_ms: dedup.window_ns() as f64 / 1e6,
            checked_frames: dedup.checked(),
            stopped_looking: dedup.stopped_early(),
            frames: total.frames,
            wire_bytes: total.wire_bytes,
            pairs: dedup
                .pairs
                .iter()
                .map(|(&(k, r), c)| DuplicatePair {
                    kept: name_of(k),
                    removed: name_of(r),
                    frames: c.frames,
                    wire_bytes: c.wire_bytes,
                })
                .collect(),
        },
        clocks,
    }
}

/// What one frame was, as live views that follow packets need it.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    /// Source MAC of the (inner) frame.
    pub src_mac: Option<Mac>,
    /// Destination MAC of the (inner) frame.
    pub dst_mac: Option<Mac>,
    /// What it contributed to its flow (`None` for a frame without ports).
    pub flow: Option<PacketRef>,
    /// For a RARP frame with a timestamp: its time and sender MAC (a VM announced after a
    /// vMotion).
    pub rarp: Option<(i64, Mac)>,
}

/// The stages between the reader and the report, fed one frame at a time.
pub struct Pipeline<'o> {
    opts: &'o AnalyzeOptions,
    totals: CaptureTotals,
    table: FlowTable,
    classifier: Classifier,
    timeline: Timeline,
    /// What the inputs could see (everything, unless their vantages say otherwise).
    coverage: Coverage,
    /// Whether the caller set `coverage` (else it comes from the inputs' vantages).
    coverage_given: bool,
    /// Frames already seen, to count a frame seen at two places once.
    dedup: Dedup,
    /// The bound on conversations held one by one.
    folder: Folder,
    /// What the findings need that flows do not keep.
    seen: verify::findings::Observations,
}

impl<'o> Pipeline<'o> {
    /// Empty stages.
    pub fn new(opts: &'o AnalyzeOptions) -> Pipeline<'o> {
        Pipeline {
            opts,
            totals: CaptureTotals::default(),
            table: FlowTable::new(FlowConfig {
                stall_min_ns: verify::findings::health::stall_min_ns(&opts.findings),
                ..opts.flow.clone()
            }),
            classifier: Classifier::new(opts.classify.clone()),
            timeline: Timeline::default(),
            coverage: Coverage::everything(),
            coverage_given: false,
            dedup: Dedup::new(opts.set.dedup_window_ns).probe(set::dedup::PROBE_FRAMES),
            folder: Folder::new(opts.classify.max_conversations),
            seen: verify::findings::Observations::default(),
        }
    }

    /// Looks for copies of frames to the end of the input, however many frames went by without
    /// one (a capture set's inputs are expected to hold copies).
    pub fn look_for_copies_to_the_end(&mut self) {
        self.dedup = Dedup::new(self.opts.set.dedup_window_ns);
    }

    /// Sets what the inputs could see, before [`Pipeline::finish`] (which otherwise takes it
    /// from the inputs' vantages).
    pub fn set_coverage(&mut self, coverage: Coverage) {
        self.coverage = coverage;
        self.coverage_given = true;
    }

    /// Decodes one frame of a single input and feeds every stage. Returns what live views that
    /// follow packets need of it.
    pub fn packet(&mut self, frame: &Frame<'_>) -> Seen {
        let mut d = Decoded::default();
        decode::decode_into(frame.link_type, frame.data, &mut d);
        self.packet_decoded(0, frame, frame.ts_ns, &d)
    }

    /// Feeds one decoded frame of input `input` to every stage; `frame.ts_ns` is its time on
    /// the reference clock, `raw_ts` on its input's. A copy of a frame already seen (at another
    /// vantage point, or twice in one file) is counted in the capture totals and nowhere else.
    pub fn packet_decoded(
        &mut self,
        input: u32,
        frame: &Frame<'_>,
        raw_ts: Option<i64>,
        d: &Decoded,
    ) -> Seen {
        self.totals.add(input, frame, raw_ts, d);
        self.totals
            .decode
            .add(d, frame.data.len() as u32, frame.orig_len);
        if let Some(id) = self
            .dedup
            .looking()
            .then(|| identity(d, frame.data))
            .flatten()
        {
            if self.dedup.is_copy(&id, frame.ts_ns, input, frame.orig_len) {
                return Seen {
                    src_mac: d.src_mac,
                    dst_mac: d.dst_mac,
                    flow: None,
                    rarp: None,
                };
            }
        }
        let (classifier, timeline) = (&mut self.classifier, &mut self.timeline);
        let r = self
            .table
            .add(d, frame.data, frame.ts_ns, frame.orig_len, &mut |f| {
                timeline.flow_ended(f.tag);
                let conv = timeline.aggregate_of(f.tag);
                classifier.flow_ended(f, conv)
            });
        if let Some(r) = &r {
            if r.estimated {
                self.totals.decode.tcp_payload_bytes += r.payload;
                self.totals.decode.tcp_payload_estimated_bytes += r.payload;
            }
            if let Some(mac) = r.first_mac {
                let sender = if r.from_client { r.client } else { r.server };
                self.classifier.saw_mac(sender, mac);
            }
            // The vCenter agent heartbeat (UDP 902, host → vCenter): the host's build.
            if r.class == TrafficClass::Heartbeat && r.from_client && d.payload_at != 0 {
                if let decode::Transport::Udp { payload_len, .. } = d.transport {
                    let p = frame.data.get(d.payload_at..).unwrap_or(&[]);
                    let p = p.get(..p.len().min(payload_len as usize)).unwrap_or(&[]);
                    self.seen.saw_udp_902(r.client, frame.ts_ns, p);
                }
            }
            let mut tag = r.tag;
            if tag == NO_TAG {
                let conv = r.conv();
                let (id, new) = self.timeline.open(conv);
                tag = id;
                self.table.set_tag(&r.key, tag);
                self.timeline.flow_tagged(tag);
                if new {
                    let inferring = self.opts.inventory.is_none();
                    self.folder.observe(&conv, inferring);
                    let given = self.opts.inventory.as_ref();
                    let (tl, cls) = (&mut self.timeline, &mut self.classifier);
                    self.folder.maybe_fold(tl, cls, &mut self.table, given, tag);
                }
            }
            if let (Some(ts), true) = (frame.ts_ns, r.payload > 0) {
                self.timeline.add(tag, ts, r.from_client, r.payload);
            }
            if let (Some(ts), true) = (frame.ts_ns, r.acked > 0) {
                self.timeline
                    .add_acknowledged(tag, ts, !r.from_client, r.acked);
            }
            if let (Some(ts), true) = (frame.ts_ns, r.new_flow && r.class.is_data()) {
                self.timeline.flow_start(ts, tag);
            }
            if let (Some(ts), true) = (frame.ts_ns, r.not_captured_delta != 0) {
                self.timeline.not_captured(tag, ts, r.not_captured_delta);
            }
        }
        if let (Transport::Icmp { too_big: Some(t) }, Some(ip)) = (d.transport, &d.ip) {
            self.seen.too_big(ip.src, t, frame.ts_ns);
        }
        let rarp = match (d.arp, frame.ts_ns) {
            (Some(a), Some(ts)) if a.rarp => a.sender_mac.map(|mac| (ts, mac)),
            _ => None,
        };
        if let Some((ts, mac)) = rarp {
            self.timeline.rarp(ts, mac, d.vlan());
        }
        Seen {
            src_mac: d.src_mac,
            dst_mac: d.dst_mac,
            flow: r,
            rarp,
        }
    }

    /// The migration labels of the run: the labels file's, or one migration over the whole
    /// capture for `--scenario`; `None` without labels.
    fn labels(&self) -> Option<Vec<Migration>> {
        match &self.opts.labels {
            Labels::None => None,
            Labels::File { migrations, .. } => Some(migrations.clone()),
            Labels::Events { derived, .. } => {
                Some(match self.totals.first_ts.zip(self.totals.last_ts) {
                    Some((a, b)) => derived
                        .migrations
                        .iter()
                        .filter(|m| m.start.0 <= b && a <= m.end.0)
                        .cloned()
                        .collect(),
                    None => Vec::new(),
                })
            }
            Labels::Scenario(sc) => match (self.totals.first_ts, self.totals.last_ts) {
                (Some(a), Some(b)) => Some(vec![Migration {
                    id: "m1".into(),
                    vm: None,
                    kind: sc.kind_state.kind,
                    state: sc.kind_state.state,
                    start: Timestamp(a),
                    end: Timestamp(b),
                    source_host: None,
                    dest_host: None,
                    memory_mb: sc.memory_mb,
                    disk_mb: sc.disk_mb,
                    vsphere_version: sc.vsphere_version.clone(),
                }]),
                _ => Some(Vec::new()),
            },
        }
    }

    /// Ends every stage once `reader` has ended (with `error`, if reading failed) and builds its
    /// outcome, telling `progress` the final position.
    pub fn finish_reader(
        self,
        reader: &CaptureReader,
        error: Option<CaptureError>,
        progress: &mut dyn FnMut(u64),
    ) -> Outcome {
        progress(reader.position());
        let name = reader.name().to_string();
        let stats = reader.partial_stats();
        let (report, inventory) = self.finish(name, stats, error.as_ref());
        Outcome {
            report,
            error,
            inventory,
        }
    }

    /// Ends every stage and builds the report of a single input.
    pub fn finish(
        self,
        name: String,
        stats: CaptureStats,
        error: Option<&CaptureError>,
    ) -> (Report, Arc<VmkInventory>) {
        self.finish_set(&[InputEnd::new(name, stats, error)], Vec::new())
    }

    /// Ends every stage and builds the report of the inputs `ends` (in input order), with the
    /// clocks of a capture set.
    pub fn finish_set(
        mut self,
        ends: &[InputEnd],
        clocks: Vec<ClockSection>,
    ) -> (Report, Arc<VmkInventory>) {
        let labels = self.labels();
        let (classifier, timeline) = (&mut self.classifier, &mut self.timeline);
        self.table.finish(&mut |f| {
            timeline.flow_ended(f.tag);
            let conv = timeline.aggregate_of(f.tag);
            classifier.flow_ended(f, conv)
        });
        let mut classified = self.classifier.finish();
        let folder = &self.folder;
        let mut inventory = match &self.opts.inventory {
            Some(i) => i.clone(),
            None => {
                let mut inv = infer::infer(&classified.convs, &classified.macs, &|ip| {
                    folder.may_be_vmk(ip)
                });
                verify::findings::payload::name_hosts(&mut inv, &self.seen);
                inv
            }
        };
        if let Some(l) = &labels {
            if let Some((named, note)) =
                migration::hosts::name_from_labels(&inventory, l, &self.timeline)
            {
                inventory = named;
                inventory.notes.push(note);
            }
        }
        let inputs = self.totals.inputs();
        let vantages = vantages(ends, &inputs, &self.opts.set, &inventory);
        if !self.coverage_given {
            self.coverage = Coverage {
                vantages: vantages.iter().flatten().cloned().collect(),
            };
        }
        let inv_owned = Arc::new(inventory);
        let inv = &inv_owned;
        let mut kept = std::mem::take(&mut classified.kept);
        let totals = classify::totals::totals(&classified, inv);
        let traffic = flows::sections(
            &classified,
            totals,
            &mut kept,
            inv,
            flows::TableCounts {
                peak_live_flows: self.table.peak_live as u64,
                packets_without_ports: self.table.packets_without_ports,
                conversations: self.timeline.conversations() as u64,
                conversations_folded: self.folder.folded,
                largest_folded_conversation_bytes: self.folder.largest_folded_bytes,
            },
        );
        let located = migration::locate_all(&self.timeline, &classified, inv);
        let other_inv = labels.as_ref().and_then(|_| inv.with_unknown_services());
        let other = other_inv
            .as_ref()
            .map(|o| migration::locate_all(&self.timeline, &classified, o));
        // What the report needs of the conversations' sums is in `traffic` and the located
        // conversations now: their memory goes before the migrations are analysed.
        drop(classified);
        let sets = &self.opts.claim_sets;
        let analysed = match &labels {
            Some(l) => {
                let cov = &self.coverage;
                migration::labelled(l, &self.timeline, &located, inv, other.as_deref(), cov)
            }
            None => migration::detect::detect(&self.timeline, &located, inv, &self.coverage),
        };
        drop(other);
        let events_check = match &self.opts.labels {
            Labels::Events { derived, .. } => {
                let sessions =
                    migration::detect::detect(&self.timeline, &located, inv, &self.coverage);
                let span = self.totals.first_ts.zip(self.totals.last_ts);
                Some(crate::report::events::check(
                    derived, span, &analysed, &sessions,
                ))
            }
            _ => None,
        };
        let verdicts: Vec<Vec<RowVerdict>> =
            analysed.iter().map(|m| verify::verdicts(sets, m)).collect();
        let labelled: Vec<(&str, &[RowVerdict])> = analysed
            .iter()
            .zip(&verdicts)
            .filter(|(m, _)| m.labelled)
            .map(|(m, v)| (m.id.as_str(), v.as_slice()))
            .collect();
        let verification = verify::verification(sets, &labelled);
        let reference = clocks.first().map(|c| c.clock.clone()).unwrap_or_default();
        let unaligned: Vec<String> = clocks
            .iter()
            .filter(|c| c.source == "unknown")
            .map(|c| {
                format!(
                    "{}'s clock could not be aligned with {reference}'s (no frame of the first \
                     {} read was seen by both): its times are taken as they are; if you know \
                     the offset, give --clock-offset {}=±MS",
                    c.clock,
                    set::CALIBRATION_FRAMES,
                    c.clock
                )
            })
            .collect();
        let span = self.totals.first_ts.zip(self.totals.last_ts);
        let capture = capture_section(self.totals, &inputs, ends, &vantages, &self.dedup, clocks);
        let drops = capture.interfaces.iter().filter_map(|i| {
            let (a, b) = (
                i.interface.dropped_by_interface.unwrap_or(0),
                i.interface.dropped_by_os.unwrap_or(0),
            );
            (a > 0 || b > 0).then(|| {
                format!(
                    "interface {}{}: the capture lost {a} packets at the interface and {b} in the \
                     operating system (pcapng statistics): bytes are missing from this capture",
                    i.interface.id,
                    i.interface
                        .name
                        .as_ref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                )
            })
        });
        let not_kept = (capture.interfaces_not_kept > 0).then(|| {
            format!(
                "{} interfaces were declared beyond the {} kept per pcapng section: their packets \
                 are not analysed (counted in capture.records_with_unknown_interface)",
                capture.interfaces_not_kept,
                crate::capture::MAX_INTERFACES_PER_SECTION
            )
        });
        let from_files = self.opts.warnings.iter().cloned();
        let events_warnings = events_check.iter().flat_map(|c| c.warnings());
        let warnings = from_files
            .chain(events_warnings)
            .chain(drops)
            .chain(not_kept)
            .chain(self.folder.warnings(self.opts.classify.max_conversations))
            .chain(unaligned)
            .chain(inv.notes.iter().cloned())
            .chain(analysed.iter().filter(|m| m.labelled).flat_map(|m| {
                m.notes
                    .iter()
                    .map(move |n| format!("migration {}: {n}", m.id))
            }))
            .collect();
        let findings = verify::findings::findings(
            &self.opts.findings,
            &verify::findings::Inputs {
                migrations: &analysed,
                flows: traffic.flows.kept(),
                inv,
                seen: &self.seen,
            },
        );
        let timelines = match self.opts.timelines {
            true => analysed
                .iter()
                .take(migration::series::MAX_TIMELINES)
                .map(|m| migration::series::series(m, &self.timeline, &located, span))
                .collect(),
            false => Vec::new(),
        };
        let parquet = self
            .opts
            .parquet
            .then(|| crate::report::parquet::extras(&self.timeline, &located, &analysed, span));
        let migrations = analysed
            .iter()
            .zip(verdicts)
            .map(|(m, v)| MigrationReport::new(m, v, verify::consistent_rows(sets, m)))
            .collect();
        let report = Report {
            schema_version: SCHEMA_VERSION,
            generator: format!("vmkflow {}", env!("CARGO_PKG_VERSION")),
            input: InputSection {
                name: ends
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            capture,
            traffic,
            migration_labels: self.opts.labels.describe(),
            migrations,
            verification,
            findings,
            warnings,
            events: events_check,
            timelines,
            parquet,
        };
        (report, inv_owned)
    }
}

/// The report of an input that could not be read as a capture (empty, not a capture, a corrupt
/// file header): no traffic, and `capture.error` saying why.
pub fn unreadable(name: String, error: CaptureError, opts: &AnalyzeOptions) -> Outcome {
    let end = InputEnd::new(name, CaptureStats::unread(), Some(&error));
    let (report, inventory) = Pipeline::new(opts).finish_set(&[end], Vec::new());
    Outcome {
        report,
        error: Some(error),
        inventory,
    }
}

/// Reads the whole capture and builds the report. `progress` is called now and then with the
/// number of bytes consumed.
pub fn run(
    mut reader: CaptureReader,
    opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(u64),
) -> Outcome {
    let mut pipeline = Pipeline::new(opts);
    let mut error = None;
    let mut since_progress = 0u32;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                pipeline.packet(&frame);
                since_progress += 1;
                if since_progress >= 65_536 {
                    since_progress = 0;
                    progress(reader.position());
                }
            }
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    pipeline.finish_reader(&reader, error, progress)
}

/// The clocks of a capture set: one per host named (by `--vantage`, the first interface's name
/// or description, or the file name), else one per input. The first input's is the reference.
struct Clocks {
    names: Vec<String>,
    /// Per input, its clock.
    of_input: Vec<usize>,
}

impl Clocks {
    /// The clock of each of `readers` (each has read its first frame, so its interfaces are
    /// known).
    fn of(readers: &[CaptureReader], set: &SetOptions) -> Clocks {
        let named = |s: &str| vmk_in_name(s).and_then(|(h, _)| h);
        let mut names: Vec<String> = Vec::new();
        let mut of_input = Vec::with_capacity(readers.len());
        for (n, r) in readers.iter().enumerate() {
            let first = r.stats().interfaces.first();
            let host = set
                .vantages
                .get(n)
                .and_then(Option::as_ref)
                .map(|v| v.host.clone())
                .or_else(|| first.and_then(|i| i.name.as_deref()).and_then(named))
                .or_else(|| first.and_then(|i| i.description.as_deref()).and_then(named))
                .or_else(|| {
                    std::path::Path::new(r.name())
                        .file_name()
                        .and_then(|f| f.to_str())
                        .and_then(named)
                });
            let name = host.unwrap_or_else(|| r.name().to_string());
            let c = match names.iter().position(|x| *x == name) {
                Some(c) => c,
                None => {
                    names.push(name);
                    names.len() - 1
                }
            };
            of_input.push(c);
        }
        Clocks { names, of_input }
    }

    /// The `--clock-offset` values, by clock.
    fn fixed(&self, set: &SetOptions) -> BTreeMap<usize, i64> {
        set.clock_offsets
            .iter()
            .filter_map(|(host, ns)| {
                self.names
                    .iter()
                    .position(|n| n.eq_ignore_ascii_case(host))
                    .map(|c| (c, *ns))
            })
            .collect()
    }
}

/// Frames of the beginning of a capture set that are all paired before one in eight is.
const CALIBRATION_EVERY_FRAME: usize = 65_536;

/// Reads the beginning of the inputs in their own clocks' order and pairs the frames two clocks
/// both saw (every frame of the first [`CALIBRATION_EVERY_FRAME`], then one in eight, chosen
/// by identity so that a copy is chosen with its original):
/// until every clock is tied to the reference by [`set::clock::ENOUGH_SAMPLES`] frames, or
/// [`set::CALIBRATION_FRAMES`] frames were read.
fn calibrate(merger: &mut Merger, clocks: &Clocks, set: &SetOptions) -> Vec<Offset> {
    let fixed = clocks.fixed(set);
    let mut first_seen: FxHashMap<u64, (usize, i64, Identity)> = FxHashMap::default();
    let mut samples = Samples::default();
    let mut frames = 0usize;
    while let Some(i) = merger.next_input() {
        let Some((f, raw)) = merger.frame(i) else {
            continue;
        };
        frames += 1;
        if frames % 8_192 == 0 {
            let o = samples.solve(clocks.names.len(), &fixed);
            if o.iter().all(|o| o.settled()) {
                break;
            }
        }
        if frames >= set::CALIBRATION_FRAMES {
            break;
        }
        let c = clocks.of_input.get(i as usize).copied().unwrap_or(0);
        let mut d = Decoded::default();
        decode::decode_into(f.link_type, f.data, &mut d);
        let (Some(id), Some(ts)) = (identity(&d, f.data), raw) else {
            continue;
        };
        // Every frame while they are few (a short capture has few copies to pair), then one in
        // eight.
        if frames > CALIBRATION_EVERY_FRAME && id.key % 8 != 0 {
            continue;
        }
        match first_seen.get(&id.key) {
            Some(&(c0, t0, id0))
                if c0 != c
                    && (ts - t0).abs() <= set::CALIBRATION_WINDOW_NS
                    && id0.same_payload(&id) =>
            {
                let upward = d.ip.as_ref().is_some_and(|ip| ip.src < ip.dst);
                samples.add(c0, t0, c, ts, upward);
            }
            Some(_) => {}
            None => {
                first_seen.insert(id.key, (c, ts, id));
            }
        }
    }
    samples.solve(clocks.names.len(), &fixed)
}

/// Reads several captures as one: merged in time order as they stream, each host's clock put
/// on the reference clock (the first input's), and a frame seen at two places counted once.
///
/// The offsets are estimated first, from the frames two clocks both saw at the beginning of the
/// inputs (at most [`set::CALIBRATION_FRAMES`], fewer once every clock is settled); the inputs
/// are then opened again and read from their start. `--clock-offset` values win over estimates. One input is read as [`run`] reads it. An input that cannot be opened is an error;
/// one that fails while read ends there and is named in the report, the others go on.
pub fn run_set(
    sources: &[Source],
    opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Outcome, CaptureError> {
    let buffer = match opts.read_buffer {
        0 => crate::capture::input::READ_CHUNK,
        n => n,
    };
    let open = || {
        sources
            .iter()
            .map(|s| CaptureReader::open_buffered(s, buffer))
            .collect::<Result<Vec<_>, _>>()
    };
    let mut readers = open()?;
    if readers.len() == 1 {
        if let Some(r) = readers.pop() {
            return Ok(crate::parallel::run(r, opts, opts.threads, progress));
        }
    }
    let set = &opts.set;
    let mut merger = Merger::new(readers);
    merger.prime();
    let clocks = Clocks::of(merger.readers(), set);
    let offsets = calibrate(&mut merger, &clocks, set);
    drop(merger);

    let mut merger = Merger::new(open()?);
    merger.set_offsets(
        clocks
            .of_input
            .iter()
            .map(|&c| offsets.get(c).map_or(0, |o| o.offset_ns))
            .collect(),
    );
    let mut pipeline = Pipeline::new(opts);
    pipeline.look_for_copies_to_the_end();
    let mut since_progress = 0u32;
    let mut d = Decoded::default();
    while let Some(i) = merger.next_input() {
        let Some((f, raw)) = merger.frame(i) else {
            continue;
        };
        decode::decode_into(f.link_type, f.data, &mut d);
        pipeline.packet_decoded(i, &f, raw, &d);
        since_progress += 1;
        if since_progress >= 65_536 {
            since_progress = 0;
            progress(merger.position());
        }
    }
    progress(merger.position());
    let mut errors: BTreeMap<u32, CaptureError> = BTreeMap::new();
    for (i, e) in std::mem::take(&mut merger.errors) {
        errors.entry(i).or_insert(e);
    }
    let ends: Vec<InputEnd> = merger
        .into_readers()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            InputEnd::new(
                r.name().to_string(),
                r.partial_stats(),
                errors.get(&(i as u32)),
            )
        })
        .collect();
    let report_clocks = clocks
        .names
        .iter()
        .zip(&offsets)
        .map(|(name, o)| ClockSection {
            clock: name.clone(),
            offset_ms: o.offset_ns as f64 / 1e6,
            spread_ms: o.spread_ns as f64 / 1e6,
            samples: o.samples,
            source: o.source.name(),
        })
        .collect();
    let (report, inventory) = pipeline.finish_set(&ends, report_clocks);
    Ok(Outcome {
        report,
        error: errors.into_values().next(),
        inventory,
    })
}
