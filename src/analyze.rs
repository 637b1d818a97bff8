//! The pipeline driver: reads every frame of a capture, decodes it, feeds the stages, and builds
//! the report.
//!
//! In: an open [`CaptureReader`] and [`AnalyzeOptions`]. Out: an [`Outcome`]: the report, plus the
//! fatal error that stopped reading early, if any (the report then covers what was read).

use std::sync::Arc;

use crate::capture::{CaptureError, CaptureReader, CaptureStats, Frame};
use crate::classify::inventory::VmkInventory;
use crate::classify::{self, Classifier, ClassifyConfig, infer};
use crate::decode::{self, DecodeStats};
use crate::flow::{FlowConfig, FlowTable, NO_TAG, PacketRef};
use crate::labels::{Migration, Scenario, Timestamp};
use crate::migration::{self, timeline::Timeline};
use crate::report::flows;
use crate::report::migrations::MigrationReport;
use crate::report::{
    CaptureSection, ErrorSection, InputSection, InterfaceSection, LinkTypeCount, MigrationLabels,
    Report, SCHEMA_VERSION,
};
use crate::verify::{self, ClaimSet, RowVerdict};
use crate::vocab::Mac;
use crate::vocab::time;
use crate::vocab::vantage::Coverage;
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
    /// per interface id: (packets, wire bytes)
    per_interface: Vec<(u64, u64)>,
    decode: DecodeStats,
}

impl CaptureTotals {
    fn add(&mut self, f: &Frame<'_>) {
        self.packets += 1;
        self.wire_bytes += f.orig_len as u64;
        self.captured_bytes += f.data.len() as u64;
        match f.ts_ns {
            Some(ts) => {
                self.first_ts = Some(self.first_ts.map_or(ts, |v| v.min(ts)));
                self.last_ts = Some(self.last_ts.map_or(ts, |v| v.max(ts)));
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
        let i = f.interface as usize;
        if self.per_interface.len() <= i {
            self.per_interface.resize(i + 1, (0, 0));
        }
        self.per_interface[i].0 += 1;
        self.per_interface[i].1 += f.orig_len as u64;
    }

    fn section(mut self, stats: CaptureStats, error: Option<&CaptureError>) -> CaptureSection {
        self.link_types.sort();
        let duration_s = match (self.first_ts, self.last_ts) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => 0.0,
        };
        let interfaces = stats
            .interfaces
            .iter()
            .map(|i| {
                let (packets, wire_bytes) = self
                    .per_interface
                    .get(i.id as usize)
                    .copied()
                    .unwrap_or((0, 0));
                InterfaceSection {
                    interface: i.clone(),
                    link_type_name: i.link_type.name(),
                    packets,
                    wire_bytes,
                }
            })
            .collect();
        CaptureSection {
            format: stats.format,
            gzip: stats.gzip,
            ts_precision: stats.ts_precision,
            sections: stats.sections,
            link_types: self
                .link_types
                .iter()
                .map(|&(lt, packets)| LinkTypeCount {
                    link_type: lt.into(),
                    name: lt.name(),
                    packets,
                })
                .collect(),
            interfaces,
            packets: self.packets,
            wire_bytes: self.wire_bytes,
            captured_bytes: self.captured_bytes,
            first_ts: self.first_ts.map(time::rfc3339),
            last_ts: self.last_ts.map(time::rfc3339),
            duration_s,
            packets_without_timestamp: self.no_ts,
            out_of_order_timestamps: self.out_of_order,
            decode: self.decode,
            skipped_blocks: stats.skipped_blocks,
            records_with_unknown_interface: stats.records_with_unknown_interface,
            bytes_read: stats.bytes_read,
            truncated: stats.truncated,
            truncated_at: stats.truncated_at,
            error: error.map(|e| ErrorSection {
                offset: e.offset(),
                message: e.to_string(),
            }),
        }
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
}

impl<'o> Pipeline<'o> {
    /// Empty stages.
    pub fn new(opts: &'o AnalyzeOptions) -> Pipeline<'o> {
        Pipeline {
            opts,
            totals: CaptureTotals::default(),
            table: FlowTable::new(opts.flow.clone()),
            classifier: Classifier::new(opts.classify.clone()),
            timeline: Timeline::default(),
            coverage: Coverage::everything(),
        }
    }

    /// Sets what the inputs could see, before [`Pipeline::finish`].
    pub fn set_coverage(&mut self, coverage: Coverage) {
        self.coverage = coverage;
    }

    /// Decodes one frame and feeds every stage. Returns what live views that follow packets need
    /// of it.
    pub fn packet(&mut self, frame: &Frame<'_>) -> Seen {
        self.totals.add(frame);
        let d = decode::decode(frame.link_type, frame.data);
        self.totals
            .decode
            .add(&d, frame.data.len() as u32, frame.orig_len);
        let classifier = &mut self.classifier;
        let r = self
            .table
            .add(&d, frame.data, frame.ts_ns, frame.orig_len, &mut |f| {
                classifier.flow_ended(f)
            });
        if let Some(r) = &r {
            if r.estimated {
                self.totals.decode.tcp_payload_bytes += r.payload;
                self.totals.decode.tcp_payload_estimated_bytes += r.payload;
            }
            let mut tag = r.tag;
            if tag == NO_TAG {
                tag = self.timeline.id_for(r.conv());
                self.table.set_tag(&r.key, tag);
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

    /// Ends every stage and builds the report.
    pub fn finish(
        mut self,
        name: String,
        stats: CaptureStats,
        error: Option<&CaptureError>,
    ) -> (Report, Arc<VmkInventory>) {
        let labels = self.labels();
        let classifier = &mut self.classifier;
        self.table.finish(&mut |f| classifier.flow_ended(f));
        let mut classified = self.classifier.finish();
        let mut inventory = match &self.opts.inventory {
            Some(i) => i.clone(),
            None => infer::infer(&classified.convs, &classified.macs),
        };
        if let Some(l) = &labels {
            if let Some((named, note)) =
                migration::hosts::name_from_labels(&inventory, l, &self.timeline)
            {
                inventory = named;
                inventory.notes.push(note);
            }
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
            self.table.peak_live as u64,
            self.table.packets_without_ports,
        );
        let located = migration::locate_all(&self.timeline, &classified, inv);
        let sets = &self.opts.claim_sets;
        let analysed = match &labels {
            Some(l) => {
                let other_inv = inv.with_unknown_services();
                let other = other_inv
                    .as_ref()
                    .map(|o| migration::locate_all(&self.timeline, &classified, o));
                migration::labelled(l, &self.timeline, &located, inv, other.as_deref())
            }
            None => migration::detect::detect(&self.timeline, &located),
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
        let capture = self.totals.section(stats, error);
        let drops = capture.interfaces.iter().filter_map(|i| {
            let (a, b) = (
                i.interface.dropped_by_interface.unwrap_or(0),
                i.interface.dropped_by_os.unwrap_or(0),
            );
            (a + b > 0).then(|| {
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
        let warnings = drops
            .chain(inv.notes.iter().cloned())
            .chain(analysed.iter().filter(|m| m.labelled).flat_map(|m| {
                m.notes
                    .iter()
                    .map(move |n| format!("migration {}: {n}", m.id))
            }))
            .collect();
        let migrations = analysed
            .iter()
            .zip(verdicts)
            .map(|(m, v)| MigrationReport::new(m, v, verify::consistent_rows(sets, m)))
            .collect();
        let report = Report {
            schema_version: SCHEMA_VERSION,
            generator: format!("vmkflow {}", env!("CARGO_PKG_VERSION")),
            input: InputSection { name },
            capture,
            traffic,
            migration_labels: self.opts.labels.describe(),
            migrations,
            verification,
            warnings,
        };
        (report, inv_owned)
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
    progress(reader.position());
    let name = reader.name().to_string();
    let stats = reader.partial_stats();
    let (report, inventory) = pipeline.finish(name, stats, error.as_ref());
    Outcome {
        report,
        error,
        inventory,
    }
}
