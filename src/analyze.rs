//! The pipeline driver: reads every frame of a capture, decodes it, feeds the stages, and builds
//! the report.
//!
//! In: an open [`CaptureReader`] and [`AnalyzeOptions`]. Out: an [`Outcome`]: the report, plus the
//! fatal error that stopped reading early, if any (the report then covers what was read).

use crate::capture::{CaptureError, CaptureReader, CaptureStats, Frame, time};
use crate::decode::{self, DecodeStats, linktype};
use crate::report::{
    CaptureSection, ErrorSection, InputSection, InterfaceSection, LinkTypeCount, Report,
    SCHEMA_VERSION,
};

/// Settings of one analysis run.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {}

/// The result of a run.
pub struct Outcome {
    /// The report of everything read.
    pub report: Report,
    /// The fatal error that ended reading, if one did.
    pub error: Option<CaptureError>,
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
    link_types: Vec<(u32, u64)>,
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
        match self.link_types.iter_mut().find(|(lt, _)| *lt == f.link_type) {
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
                    link_type_name: linktype::name(i.link_type),
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
                    link_type: lt,
                    name: linktype::name(lt),
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

/// Reads the whole capture and builds the report. `progress` is called now and then with the
/// number of bytes consumed.
pub fn run(
    mut reader: CaptureReader,
    _opts: &AnalyzeOptions,
    progress: &mut dyn FnMut(u64),
) -> Outcome {
    let mut totals = CaptureTotals::default();
    let mut error = None;
    let mut since_progress = 0u32;
    loop {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                totals.add(&frame);
                let d = decode::decode(frame.link_type, frame.data);
                totals
                    .decode
                    .add(&d, frame.data.len() as u32, frame.orig_len);
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
    let capture = totals.section(stats, error.as_ref());
    Outcome {
        report: Report {
            schema_version: SCHEMA_VERSION,
            generator: format!("vmkflow {}", env!("CARGO_PKG_VERSION")),
            input: InputSection { name },
            capture,
        },
        error,
    }
}
