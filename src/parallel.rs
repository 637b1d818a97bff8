//! One capture on several threads, with the report one thread computes.
//!
//! The stages stay in capture order; only the work between them moves:
//!
//! - **Reader** (one thread): frames the records (pcap or pcapng). Its window hands each full
//!   read buffer on whole ([`CaptureReader::hand_off_buffers`]) instead of moving bytes within
//!   it, so a batch is one buffer as read plus where each frame lies in it: no packet is copied.
//! - **Decoders** (`threads - 2`; with two threads, accounting decodes, or the reader when it is
//!   ahead of accounting: which stage is the slower depends on the frames' sizes): decode every
//!   frame of a batch (Ethernet, VLAN, tunnels, IP, ports). Decoding needs nothing but the frame,
//!   so batches are decoded side by side; batch `k` goes to decoder `k % decoders` and comes back
//!   from it, which keeps their order without a reordering buffer.
//! - **Accounting** (the calling thread): flows, TCP state, classification, timelines and the
//!   report, fed every frame in capture order exactly as [`crate::analyze::run`] feeds them, so
//!   every figure equals the one-thread run's (`tests/it/threads.rs` compares the bytes).
//!
//! The reader sends at most one batch per thread and two more (12 at most) before one comes back, and
//! buffers that come back are read into again, so memory stays a few read buffers per thread
//! however long the capture.
//! Accounting is the stage that does not divide: it bounds the speed-up (docs/performance.md).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread;

use crate::analyze::{AnalyzeOptions, Outcome, Pipeline};
use crate::capture::{CaptureError, CaptureReader, Frame};
use crate::decode::{self, Decoded};
use crate::vocab::wire::LinkType;

/// With two threads, the batches waiting for accounting from which on the reader decodes too.
const AHEAD: usize = 2;

/// Batches in flight per decoder (and between the reader and accounting with two threads).
const DEPTH: usize = 4;

/// Most batches sent and not yet back, for `threads` threads: one per thread and two more, at
/// most 12 whatever the core count. A batch of header-only frames holds about 1.5 MiB with the
/// default buffer (the buffer, where each frame lies, and each frame decoded): 18 MiB at most.
/// Accounting, one thread, is the limit long before the decoders are (docs/performance.md).
fn most_in_flight(threads: usize) -> usize {
    (threads + 2).clamp(4, 12)
}

/// Where one frame lies in its batch, with its record's fields.
#[derive(Debug, Clone, Copy)]
struct Rec {
    ts_ns: Option<i64>,
    interface: u32,
    link_type: LinkType,
    orig_len: u32,
    offset: u64,
    /// Where the data lies in the batch's buffer.
    start: usize,
    len: usize,
}

impl Rec {
    /// The frame's bytes in `buf`, its batch's buffer.
    fn data<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start..self.start + self.len).unwrap_or(&[])
    }
}

/// Frames of one read buffer, in capture order, decoded once a decoder has seen them.
#[derive(Default)]
struct Batch {
    /// The buffer the frames were read into.
    buf: Vec<u8>,
    recs: Vec<Rec>,
    decoded: Vec<Decoded>,
    /// Bytes consumed by the reader when the batch closed (for progress).
    position: u64,
}

impl Batch {
    fn frame(&self, i: usize) -> Frame<'_> {
        let r = &self.recs[i];
        Frame {
            ts_ns: r.ts_ns,
            interface: r.interface,
            link_type: r.link_type,
            data: r.data(&self.buf),
            orig_len: r.orig_len,
            offset: r.offset,
        }
    }

    fn decode(&mut self) {
        // Decoded in place: a `Decoded` is large enough that pushing one costs a copy.
        self.decoded.resize(self.recs.len(), Decoded::default());
        for (r, d) in self.recs.iter().zip(self.decoded.iter_mut()) {
            decode::decode_into(r.link_type, r.data(&self.buf), d);
        }
    }

    /// Empties the batch for reuse, giving its buffer back.
    fn clear(&mut self) -> Vec<u8> {
        self.recs.clear();
        self.decoded.clear();
        std::mem::take(&mut self.buf)
    }
}

/// The thread count `--threads 0` means: the cores available to the process.
pub fn available_threads() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Reads the whole capture on `threads` threads (1 runs [`crate::analyze::run`]) and builds
/// the report, the same bytes for every thread count.
pub fn run(
    reader: CaptureReader,
    opts: &AnalyzeOptions,
    threads: usize,
    progress: &mut dyn FnMut(u64),
) -> Outcome {
    if threads <= 1 {
        return crate::analyze::run(reader, opts, progress);
    }
    let decoders = threads - 2;
    // Batches sent by the reader and not yet taken by accounting.
    let in_flight = AtomicUsize::new(0);
    thread::scope(|s| {
        // Batches go out to be decoded and come back, in order, to accounting; emptied
        // batches go back to the reader.
        // Unbounded, but never holding more than `most_in_flight` batches.
        let (back_tx, back_rx) = channel::<Batch>();
        let mut to_decoders = Vec::new();
        let mut from_decoders = Vec::new();
        for _ in 0..decoders {
            let (in_tx, in_rx) = sync_channel::<Batch>(DEPTH);
            let (out_tx, out_rx) = sync_channel::<Batch>(DEPTH);
            s.spawn(move || decode_batches(in_rx, out_tx));
            to_decoders.push(in_tx);
            from_decoders.push(out_rx);
        }
        let (direct_tx, direct_rx) = sync_channel::<Batch>(DEPTH);
        let reader_thread = {
            let outs = if decoders == 0 {
                vec![direct_tx]
            } else {
                drop(direct_tx);
                to_decoders
            };
            let in_flight = &in_flight;
            let most = most_in_flight(threads);
            s.spawn(move || read_batches(reader, outs, decoders == 0, in_flight, most, back_rx))
        };
        let sources = if decoders == 0 {
            vec![direct_rx]
        } else {
            from_decoders
        };
        let mut pipeline = Pipeline::new(opts);
        let mut since_progress = 0usize;
        'batches: for k in 0.. {
            let Ok(mut batch) = sources[k % sources.len()].recv() else {
                break 'batches;
            };
            in_flight.fetch_sub(1, Ordering::Relaxed);
            if batch.decoded.len() != batch.recs.len() {
                // Two threads, and the reader was not ahead: decoded here.
                let mut d = Decoded::default();
                for i in 0..batch.recs.len() {
                    let f = batch.frame(i);
                    decode::decode_into(f.link_type, f.data, &mut d);
                    pipeline.packet_decoded(0, &f, f.ts_ns, &d);
                }
            } else {
                for (i, d) in batch.decoded.iter().enumerate() {
                    let f = batch.frame(i);
                    pipeline.packet_decoded(0, &f, f.ts_ns, d);
                }
            }
            since_progress += batch.recs.len();
            if since_progress >= 65_536 {
                since_progress = 0;
                progress(batch.position);
            }
            let buf = batch.clear();
            batch.buf = buf;
            // The reader may have ended: then nobody takes it back, and it is dropped.
            let _ = back_tx.send(batch);
        }
        drop(back_tx);
        let (reader, error) = match reader_thread.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        pipeline.finish_reader(&reader, error, progress)
    })
}

/// Decodes batches until the reader is done.
fn decode_batches(input: Receiver<Batch>, output: SyncSender<Batch>) {
    for mut batch in input {
        batch.decode();
        if output.send(batch).is_err() {
            return;
        }
    }
}

/// The reader thread: frames records into batches of one read buffer each, sent round robin to
/// `outs`. With `balance` (two threads, no decoders) it also decodes a batch when accounting
/// has [`AHEAD`] or more waiting: the reader then has time to spare, and accounting does not.
/// It waits for a batch to come back before sending more than `most` batches.
/// Returns the reader, for its statistics, and the
/// error that ended reading, if one did.
fn read_batches(
    mut reader: CaptureReader,
    outs: Vec<SyncSender<Batch>>,
    balance: bool,
    in_flight: &AtomicUsize,
    most: usize,
    back: Receiver<Batch>,
) -> (CaptureReader, Option<CaptureError>) {
    reader.hand_off_buffers();
    let mut spare_batches: Vec<Batch> = Vec::new();
    let mut batch = Batch::default();
    let mut sent = 0usize;
    let mut returned = 0usize;
    let mut error = None;
    // Sends the batch (its frames lie in `buf`); false when accounting has stopped listening.
    let send = |mut b: Batch, buf: Vec<u8>, position: u64, sent: &mut usize| -> bool {
        b.buf = buf;
        b.position = position;
        if balance && in_flight.load(Ordering::Relaxed) >= AHEAD {
            b.decode();
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let ok = outs[*sent % outs.len()].send(b).is_ok();
        *sent += 1;
        ok
    };
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => Some(Rec {
                ts_ns: f.ts_ns,
                interface: f.interface,
                link_type: f.link_type,
                orig_len: f.orig_len,
                offset: f.offset,
                start: 0,
                len: 0,
            }),
            Ok(None) => None,
            Err(e) => {
                error = Some(e);
                None
            }
        };
        // Reading moved to another buffer: the batch so far lies in the first one given up.
        if reader.has_retired() {
            let mut retired = reader.take_retired().into_iter();
            if let Some(full) = retired.next() {
                // Buffers and batches accounting is done with; all of them in flight, wait.
                let mut waiting = sent - returned >= most;
                loop {
                    let got = if waiting {
                        back.recv().ok()
                    } else {
                        back.try_recv().ok()
                    };
                    let Some(mut b) = got else {
                        break;
                    };
                    reader.recycle(b.clear());
                    spare_batches.push(b);
                    returned += 1;
                    waiting = false;
                }
                let next = spare_batches.pop().unwrap_or_default();
                let done = std::mem::replace(&mut batch, next);
                if !send(done, full, reader.position(), &mut sent) {
                    break;
                }
            }
            for b in retired {
                reader.recycle(b);
            }
        }
        let Some(mut rec) = frame else {
            break;
        };
        // The frame lies in the window's current buffer, where the reader consumed it.
        let range = reader.held_range().unwrap_or(0..0);
        (rec.start, rec.len) = (range.start, range.len());
        batch.recs.push(rec);
    }
    let position = reader.position();
    if !batch.recs.is_empty() {
        let last = reader.take_buffer();
        send(batch, last, position, &mut sent);
    }
    (reader, error)
}
