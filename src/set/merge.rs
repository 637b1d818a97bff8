//! Several captures read as one stream in timestamp order, as they are read: one frame held per
//! input and a reorder queue as deep as the largest clock correction, so memory grows with the
//! number of inputs and the correction, never with the inputs' sizes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::capture::{CaptureError, CaptureReader, Frame};
use crate::vocab::wire::LinkType;

/// A frame copied out of its reader.
#[derive(Debug, Clone)]
pub struct OwnedFrame {
    /// Index of the input it came from.
    pub input: u32,
    /// Interface id within that input.
    pub interface: u32,
    /// Timestamp as the input's clock read it.
    pub raw_ts: Option<i64>,
    /// Timestamp on the reference clock (the raw one less its clock's offset).
    pub ts: Option<i64>,
    /// Link type.
    pub link_type: LinkType,
    /// Original length on the wire.
    pub orig_len: u32,
    /// Offset of its record in the input.
    pub offset: u64,
    /// Captured bytes.
    pub data: Vec<u8>,
}

impl OwnedFrame {
    /// A borrowed view, as the pipeline takes frames.
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            ts_ns: self.ts,
            interface: self.interface,
            link_type: self.link_type,
            data: &self.data,
            orig_len: self.orig_len,
            offset: self.offset,
        }
    }
}

/// Maps a frame read from a reader (its input, interface and raw time) to its time on the
/// reference clock.
pub type Correct<'a> = dyn FnMut(&CaptureReader, u32, u32, Option<i64>) -> Option<i64> + 'a;

/// Ordering key of a queued frame: time (frames without one first), then arrival.
type Key = (i64, u64);

/// The merged stream.
pub struct Merger {
    readers: Vec<CaptureReader>,
    /// The next frame of each input, read ahead.
    heads: Vec<Option<OwnedFrame>>,
    /// Inputs by their head's raw time.
    by_head: BinaryHeap<Reverse<(i64, u32)>>,
    /// Frames taken from the inputs, by corrected time.
    queue: BinaryHeap<Reverse<(Key, usize)>>,
    slots: Vec<Option<OwnedFrame>>,
    free_slots: Vec<usize>,
    spare: Vec<Vec<u8>>,
    arrivals: u64,
    /// The largest clock offset: how far behind the inputs' heads a frame may still belong.
    max_offset: i64,
    /// Fatal errors, per input.
    pub errors: Vec<(u32, CaptureError)>,
    primed: bool,
}

impl Merger {
    /// Merges `readers` (input `i` is `readers[i]`).
    pub fn new(readers: Vec<CaptureReader>) -> Merger {
        let n = readers.len();
        Merger {
            readers,
            heads: vec![None; n],
            by_head: BinaryHeap::new(),
            queue: BinaryHeap::new(),
            slots: Vec::new(),
            free_slots: Vec::new(),
            spare: Vec::new(),
            arrivals: 0,
            max_offset: 0,
            errors: Vec::new(),
            primed: false,
        }
    }

    /// The readers, for their names and statistics.
    pub fn readers(&self) -> &[CaptureReader] {
        &self.readers
    }

    /// Bytes consumed over all inputs.
    pub fn position(&self) -> u64 {
        self.readers.iter().map(CaptureReader::position).sum()
    }

    /// Sets the largest clock offset that [`Merger::next`] callers will apply.
    pub fn set_max_offset(&mut self, ns: i64) {
        self.max_offset = ns.max(0);
    }

    /// Reads input `i`'s next frame into its head.
    fn advance(&mut self, i: u32) {
        let Some(r) = self.readers.get_mut(i as usize) else {
            return;
        };
        let next = match r.next_frame() {
            Ok(Some(f)) => {
                let mut data = self.spare.pop().unwrap_or_default();
                data.clear();
                data.extend_from_slice(f.data);
                Some(OwnedFrame {
                    input: i,
                    interface: f.interface,
                    raw_ts: f.ts_ns,
                    ts: f.ts_ns,
                    link_type: f.link_type,
                    orig_len: f.orig_len,
                    offset: f.offset,
                    data,
                })
            }
            Ok(None) => None,
            Err(e) => {
                self.errors.push((i, e));
                None
            }
        };
        if let Some(f) = &next {
            self.by_head
                .push(Reverse((f.raw_ts.unwrap_or(i64::MIN), i)));
        }
        if let Some(h) = self.heads.get_mut(i as usize) {
            *h = next;
        }
    }

    fn prime(&mut self) {
        if !self.primed {
            self.primed = true;
            for i in 0..self.readers.len() {
                self.advance(i as u32);
            }
        }
    }

    /// The next frame in the inputs' own (raw) time order, bypassing the queue.
    pub fn next_raw(&mut self) -> Option<OwnedFrame> {
        self.prime();
        let Reverse((_, i)) = self.by_head.pop()?;
        let f = self.heads.get_mut(i as usize)?.take();
        self.advance(i);
        f
    }

    /// Queues a frame whose `ts` is already corrected (frames read ahead with
    /// [`Merger::next_raw`]).
    pub fn push(&mut self, f: OwnedFrame) {
        let key = (f.ts.unwrap_or(i64::MIN), self.arrivals);
        self.arrivals += 1;
        let slot = match self.free_slots.pop() {
            Some(s) => {
                self.slots[s] = Some(f);
                s
            }
            None => {
                self.slots.push(Some(f));
                self.slots.len() - 1
            }
        };
        self.queue.push(Reverse((key, slot)));
    }

    /// The next frame on the reference clock: `correct` maps a raw frame's (input, interface,
    /// raw time) to its corrected time.
    pub fn next(&mut self, correct: &mut Correct<'_>) -> Option<OwnedFrame> {
        self.prime();
        loop {
            let frontier = self.by_head.peek().map(|Reverse((t, _))| *t);
            let ready = match (self.queue.peek(), frontier) {
                (Some(Reverse(((t, _), _))), Some(h)) => t.saturating_add(self.max_offset) <= h,
                (Some(_), None) => true,
                (None, None) => return None,
                (None, Some(_)) => false,
            };
            if ready {
                let Reverse((_, slot)) = self.queue.pop()?;
                self.free_slots.push(slot);
                return self.slots.get_mut(slot)?.take();
            }
            let Reverse((_, i)) = self.by_head.pop()?;
            let Some(mut f) = self.heads.get_mut(i as usize).and_then(Option::take) else {
                continue;
            };
            if let Some(r) = self.readers.get(i as usize) {
                f.ts = correct(r, f.input, f.interface, f.raw_ts);
            }
            self.advance(i);
            self.push(f);
        }
    }

    /// Gives a frame's buffer back for reuse.
    pub fn recycle(&mut self, f: OwnedFrame) {
        if self.spare.len() < 1024 {
            self.spare.push(f.data);
        }
    }

    /// Ends reading: the readers, for their statistics.
    pub fn into_readers(self) -> Vec<CaptureReader> {
        self.readers
    }
}
