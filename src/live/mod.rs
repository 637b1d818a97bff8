//! Live analysis of a capture stream: a pipe, a FIFO, standard input, or a file still being
//! written (`--follow`).
//!
//! In: a [`Source`] (or a followed file), the [`AnalyzeOptions`] of a normal run, and
//! [`LiveOptions`] (interval, stop flag). Out: NDJSON lines ([`line`](mod@line)) written as packets arrive,
//! and at the end (stream end, `--follow-idle`, or the stop flag set by SIGINT/SIGTERM/SIGHUP) the same
//! [`Outcome`] as [`crate::analyze::run`] for everything read so far.
//!
//! A reader thread owns the [`CaptureReader`] and sends owned frames over a bounded channel, so
//! the main thread can notice the stop flag and write interval lines while the pipe stalls, and
//! can finish without waiting for a read that may never return. Memory stays bounded: the channel
//! holds at most [`CHANNEL_FRAMES`] frames and every map added here has a cap.

pub mod events;
pub mod follow;
mod intervals;
pub mod line;
pub mod view;

use std::fs::File;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::analyze::{AnalyzeOptions, Labels, Outcome, Pipeline};
use crate::capture::{CaptureError, CaptureReader, CaptureStats, Frame, Source};
use crate::vocab::kind::PowerState;
use crate::vocab::time;
use crate::vocab::wire::LinkType;
use events::Events;
use intervals::{Attribution, Intervals, LivePacket};
use line::{FinalLine, LIVE_SCHEMA_VERSION};

/// Most frames in flight between the reader thread and the pipeline.
pub const CHANNEL_FRAMES: usize = 4096;

/// How often the main thread looks at the stop flag and the wall clock while the stream stalls.
const TICK: Duration = Duration::from_millis(100);

/// Longest the reader thread holds back changed statistics (interfaces, sections, skipped
/// blocks) from the analysing thread while frames still come; the last are sent with the end.
const STATS_EVERY: Duration = Duration::from_millis(100);

/// Settings of a live run.
pub struct LiveOptions {
    /// Write an interval line every this much capture time, and of wall time when the stream
    /// stalls; `None` writes no interval lines.
    pub interval: Option<Duration>,
    /// Bulk flows listed per interval line.
    pub top: usize,
    /// Follow the source file as it grows (`--follow`), ending after this idle time if given.
    pub follow: Option<Option<Duration>>,
    /// Set by the signal handlers: stop reading and finish.
    pub stop: Arc<AtomicBool>,
}

/// Why a live run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The stream ended (possibly inside a record: then the report says truncated).
    End,
    /// `--follow-idle` elapsed without growth.
    Idle,
    /// SIGINT, SIGTERM or SIGHUP.
    Signal,
    /// A fatal capture error.
    Error,
}

impl StopReason {
    fn name(self) -> &'static str {
        match self {
            StopReason::End => "end",
            StopReason::Idle => "idle",
            StopReason::Signal => "signal",
            StopReason::Error => "error",
        }
    }
}

/// What the live view shows.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Packets so far.
    pub packets: u64,
    /// Wire bytes so far.
    pub wire_bytes: u64,
    /// Migrations in progress.
    pub active: Vec<String>,
}

/// A frame owned by the channel.
struct OwnedFrame {
    ts_ns: Option<i64>,
    interface: u32,
    link_type: LinkType,
    data: Vec<u8>,
    orig_len: u32,
    offset: u64,
    /// Reader position after the frame.
    position: u64,
}

enum Msg {
    Opened(CaptureStats),
    OpenFailed(CaptureError),
    Stats(CaptureStats),
    Frame(OwnedFrame),
    End(CaptureStats, Option<CaptureError>),
}

/// Wall-clock time now, RFC 3339.
pub(crate) fn wall_now() -> String {
    let ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    time::rfc3339(ns)
}

/// How many non-packet records the statistics have counted: sections, interfaces (kept or not),
/// skipped blocks and records on undeclared interfaces. It only grows, and each change is one
/// record read.
fn records_counted(s: &CaptureStats) -> u64 {
    let k = &s.skipped_blocks;
    let skipped = k.name_resolution
        + k.interface_statistics
        + k.custom
        + k.decryption_secrets
        + k.systemd_journal
        + k.process_information
        + k.unknown;
    s.interfaces.len() as u64
        + s.interfaces_not_listed
        + s.interfaces_not_kept
        + u64::from(s.sections)
        + skipped
        + s.records_with_unknown_interface
}

fn open(
    source: &Source,
    live: &LiveOptions,
    idled: &Arc<AtomicBool>,
) -> Result<CaptureReader, CaptureError> {
    match (&live.follow, source) {
        (Some(idle), Source::Path(p)) => {
            let name = source.display_name();
            let file = File::open(p).map_err(|e| CaptureError::Open {
                file: name.clone(),
                source: e,
            })?;
            let f = follow::Follow::new(file, live.stop.clone(), *idle, idled.clone());
            CaptureReader::from_read(&name, Box::new(f))
        }
        _ => CaptureReader::open(source),
    }
}

/// The reader thread: opens the source, sends frames until the end or until nobody listens.
fn read_loop(source: Source, reader: Result<CaptureReader, CaptureError>, tx: SyncSender<Msg>) {
    let _ = source;
    let mut reader = match reader {
        Ok(r) => r,
        Err(e) => {
            let _ = tx.send(Msg::OpenFailed(e));
            return;
        }
    };
    if tx.send(Msg::Opened(reader.partial_stats())).is_err() {
        return;
    }
    let mut counted = records_counted(reader.stats());
    let mut frames_since = 0u64;
    let mut last_stats = Instant::now();
    loop {
        let msg = match reader.next_frame() {
            Ok(Some(f)) => {
                let owned = OwnedFrame {
                    ts_ns: f.ts_ns,
                    interface: f.interface,
                    link_type: f.link_type,
                    data: f.data.to_vec(),
                    orig_len: f.orig_len,
                    offset: f.offset,
                    position: 0,
                };
                let position = reader.position();
                frames_since += 1;
                let now = records_counted(reader.stats());
                let since = (now - counted) + frames_since;
                // A copy of the statistics costs one step per listed interface: it waits until
                // at least as many records were read since the last copy, so streaming costs
                // the same per record as reading a file, however many sections, interfaces or
                // skipped blocks come between packets. After STATS_EVERY of wall time a change
                // is sent anyway, so a stream that stalls still shows what it declared.
                let listed = reader.stats().interfaces.len() as u64;
                if now != counted && (since >= listed || last_stats.elapsed() >= STATS_EVERY) {
                    counted = now;
                    frames_since = 0;
                    last_stats = Instant::now();
                    if tx.send(Msg::Stats(reader.partial_stats())).is_err() {
                        return;
                    }
                }
                Msg::Frame(OwnedFrame { position, ..owned })
            }
            Ok(None) => Msg::End(reader.partial_stats(), None),
            Err(e) => Msg::End(reader.partial_stats(), Some(e)),
        };
        let last = matches!(msg, Msg::End(..));
        if tx.send(msg).is_err() || last {
            return;
        }
    }
}

/// The result of a live run.
pub struct LiveOutcome {
    /// The report of everything read, as a normal run builds it.
    pub outcome: Outcome,
    /// Why reading stopped.
    pub reason: StopReason,
    /// The error that stopped the NDJSON lines (a full disk), if one did; a closed pipe is not
    /// one (its reader has gone).
    pub lines_error: Option<io::Error>,
}

/// Writes NDJSON lines; a failed write (a closed pipe, a full disk) stops the lines, not the
/// analysis.
struct Lines<'w> {
    out: Option<&'w mut dyn Write>,
    error: Option<io::Error>,
}

impl Lines<'_> {
    fn write(&mut self, v: &impl serde::Serialize) {
        if let Some(w) = self.out.as_mut() {
            let r = serde_json::to_writer(&mut **w, v)
                .map_err(io::Error::other)
                .and_then(|_| w.write_all(b"\n"))
                .and_then(|_| w.flush());
            if let Err(e) = r {
                self.out = None;
                if e.kind() != io::ErrorKind::BrokenPipe {
                    self.error = Some(e);
                }
            }
        }
    }
}

/// Reads `source` live until its end or the stop flag, writing lines to `out` when given, and
/// calling `view` now and then. A source that cannot be opened (or a stop before its header was
/// read) is an error.
pub fn run(
    source: &Source,
    opts: &AnalyzeOptions,
    live: &LiveOptions,
    out: Option<&mut dyn Write>,
    view: &mut dyn FnMut(&Progress),
) -> Result<LiveOutcome, CaptureError> {
    let (tx, rx) = mpsc::sync_channel::<Msg>(CHANNEL_FRAMES);
    let idled = Arc::new(AtomicBool::new(false));
    {
        let src = source.clone();
        let live_follow = LiveOptions {
            interval: None,
            top: 0,
            follow: live.follow,
            stop: live.stop.clone(),
        };
        let idled = idled.clone();
        std::thread::Builder::new()
            .name("vmkflow-reader".into())
            .spawn(move || {
                let reader = open(&src, &live_follow, &idled);
                read_loop(src, reader, tx)
            })
            .map_err(|e| CaptureError::Io {
                file: source.display_name(),
                offset: 0,
                source: e,
            })?;
    }
    let stopped_early = || CaptureError::Io {
        file: source.display_name(),
        offset: 0,
        source: io::Error::new(
            io::ErrorKind::Interrupted,
            "stopped before the capture header was read",
        ),
    };
    let mut stats = loop {
        if live.stop.load(Ordering::Relaxed) {
            return Err(stopped_early());
        }
        match rx.recv_timeout(TICK) {
            Ok(Msg::Opened(s)) => break s,
            Ok(Msg::OpenFailed(e)) => return Err(e),
            Ok(_) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Err(stopped_early()),
        }
    };
    drive(source, opts, live, out, view, rx, &mut stats, &idled)
}

#[allow(clippy::too_many_arguments)]
fn drive(
    source: &Source,
    opts: &AnalyzeOptions,
    live: &LiveOptions,
    out: Option<&mut dyn Write>,
    view: &mut dyn FnMut(&Progress),
    rx: Receiver<Msg>,
    stats: &mut CaptureStats,
    idled: &Arc<AtomicBool>,
) -> Result<LiveOutcome, CaptureError> {
    let mut lines = Lines { out, error: None };
    let interval_ns = live
        .interval
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX).max(1));
    let mut pipeline = Pipeline::new(opts);
    let mut intervals = Intervals::new(
        interval_ns,
        live.top,
        Attribution::new(opts.inventory.clone()),
    );
    let mut events = match &opts.labels {
        Labels::None => Events::detect(),
        Labels::File { migrations, .. } => Events::labelled(migrations),
        Labels::Events { derived, .. } => Events::labelled(&derived.migrations),
        Labels::Scenario(sc) => Events::scenario(
            sc.kind_state.to_string(),
            sc.kind_state.state == PowerState::Hot,
        ),
    };
    let mut evs = Vec::new();
    let mut progress = Progress::default();
    let mut last_line = Instant::now();
    let mut last_view = Instant::now();
    let mut last_ts: Option<i64> = None;
    let mut error = None;
    let reason = loop {
        if live.stop.load(Ordering::Relaxed) {
            break StopReason::Signal;
        }
        match rx.recv_timeout(TICK) {
            Ok(Msg::Frame(f)) => {
                let frame = Frame {
                    ts_ns: f.ts_ns,
                    interface: f.interface,
                    link_type: f.link_type,
                    data: &f.data,
                    orig_len: f.orig_len,
                    offset: f.offset,
                };
                stats.bytes_read = f.position;
                if let Some(ts) = f.ts_ns {
                    last_ts = Some(last_ts.map_or(ts, |l| l.max(ts)));
                    events.time(ts, &mut evs);
                }
                for e in evs.drain(..) {
                    lines.write(&e);
                }
                if let Some(l) = intervals.before_packet(f.ts_ns, &events.active()) {
                    lines.write(&l);
                    last_line = Instant::now();
                }
                let seen = pipeline.packet(&frame);
                let lp = LivePacket {
                    ts: f.ts_ns,
                    wire_len: f.orig_len,
                    flow: seen.flow.as_ref(),
                    src_mac: seen.src_mac,
                    dst_mac: seen.dst_mac,
                };
                if let (Some(ts), Some(r), Some(conv)) = (f.ts_ns, lp.flow, lp.conv()) {
                    let has_vmk = intervals.attribution.has_vmk(&conv);
                    events.data(ts, r.class, r.payload + r.acked, has_vmk, &mut evs);
                }
                intervals.packet(&lp);
                if let Some((ts, mac)) = seen.rarp {
                    events.rarp(ts, mac, &mut evs);
                }
                for e in evs.drain(..) {
                    lines.write(&e);
                }
                progress.packets += 1;
                progress.wire_bytes += u64::from(f.orig_len);
            }
            Ok(Msg::Stats(s)) | Ok(Msg::Opened(s)) => *stats = s,
            Ok(Msg::End(s, e)) => {
                *stats = s;
                error = e;
                break if error.is_some() {
                    StopReason::Error
                } else if idled.load(Ordering::Relaxed) {
                    StopReason::Idle
                } else {
                    StopReason::End
                };
            }
            Ok(Msg::OpenFailed(e)) => {
                error = Some(e);
                break StopReason::Error;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break StopReason::End,
        }
        if let Some(iv) = live.interval {
            if last_line.elapsed() >= iv {
                let l = intervals.line("wall_clock", None, &events.active());
                lines.write(&l);
                last_line = Instant::now();
            }
        }
        if last_view.elapsed() >= Duration::from_millis(200) {
            progress.active = events.active();
            view(&progress);
            last_view = Instant::now();
        }
    };
    events.finish(last_ts, &mut evs);
    for e in evs.drain(..) {
        lines.write(&e);
    }
    if live.interval.is_some() {
        let l = intervals.line("end", None, &events.active());
        lines.write(&l);
    }
    progress.active = Vec::new();
    view(&progress);
    let name = source.display_name();
    let snapshot = stats.clone();
    let (report, inventory) = pipeline.finish(name, snapshot, error.as_ref());
    lines.write(&FinalLine {
        live_schema_version: LIVE_SCHEMA_VERSION,
        kind: "final",
        reason: reason.name(),
        wall_time: wall_now(),
        packets: report.capture.packets,
        payload_bytes: intervals.total_payload,
        truncated: report.capture.truncated,
    });
    Ok(LiveOutcome {
        outcome: Outcome {
            report,
            error,
            inventory,
        },
        reason,
        lines_error: lines.error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + body.len() as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    /// Interfaces copied from the reader thread to the analysing thread while `bytes` stream,
    /// and the packets that came through.
    fn copies(bytes: Vec<u8>) -> (u64, u64) {
        let reader = CaptureReader::from_bytes("hostile.pcapng", bytes);
        let (tx, rx) = mpsc::sync_channel(CHANNEL_FRAMES);
        let t = std::thread::spawn(move || read_loop(Source::Stdin, reader, tx));
        let (mut copied, mut packets) = (0, 0);
        for m in rx {
            match m {
                Msg::Stats(s) | Msg::Opened(s) | Msg::End(s, _) => {
                    copied += s.interfaces.len() as u64
                }
                Msg::Frame(_) => packets += 1,
                Msg::OpenFailed(e) => panic!("{e}"),
            }
        }
        t.join().expect("reader thread");
        (copied, packets)
    }

    /// Issue 13, finding 1: a pcapng of 20 000 sections, one interface and one packet each, or of
    /// 100 000 interfaces with a custom block before each of 2 000 packets, made the reader
    /// thread copy its whole interface list (up to 4 096) for every packet: 80 million copies
    /// for 60 000 records. Now a copy waits for as many records as it copies.
    #[test]
    fn streaming_copies_statistics_in_proportion_to_the_records() {
        let shb = block(
            0x0a0d_0d0a,
            &[
                &0x1a2b_3c4du32.to_le_bytes()[..],
                &1u16.to_le_bytes(),
                &0u16.to_le_bytes(),
                &(-1i64).to_le_bytes(),
            ]
            .concat(),
        );
        let idb = block(1, &[1, 0, 0, 0, 0, 0, 0, 0]);
        let epb = |ts: u32| {
            let mut body = Vec::new();
            for v in [0, 0, ts, 60, 60] {
                body.extend_from_slice(&v.to_le_bytes());
            }
            body.extend_from_slice(&[0; 60]);
            block(6, &body)
        };
        let mut sections = Vec::new();
        for s in 0..20_000 {
            sections.extend([shb.clone(), idb.clone(), epb(s)].concat());
        }
        let mut custom = shb.clone();
        for _ in 0..100_000 {
            custom.extend_from_slice(&idb);
        }
        let cb = block(0xbad, &[0x39, 0x30, 0, 0, b'x', b'x', b'x', b'x']);
        for k in 0..2_000 {
            custom.extend([cb.clone(), epb(k)].concat());
        }
        for (what, bytes, records, packets) in [
            ("sections", sections, 60_000u64, 20_000u64),
            ("custom blocks", custom, 104_001, 2_000),
        ] {
            let began = Instant::now();
            let (copied, seen) = copies(bytes);
            assert_eq!(seen, packets, "{what}");
            // The first and final statistics, and one send per STATS_EVERY of wall time (4 096
            // interfaces each), come on top of one copied interface per record.
            let sends = 2 + began.elapsed().as_millis() / STATS_EVERY.as_millis();
            assert!(
                copied <= records + 4_096 * sends as u64,
                "{what}: {copied} interfaces copied for {records} records"
            );
        }
    }
}
