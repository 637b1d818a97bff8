//! Several captures read as one stream in timestamp order, as they are read: each reader holds
//! its next frame in its own read window (nothing is copied), and the merge hands out the input
//! whose held frame is earliest on the reference clock. Memory grows with the number of inputs,
//! never with their sizes.
//!
//! Each input has one clock offset (its host's): a constant shift keeps every input in order, so
//! the inputs' heads alone decide the order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::capture::{CaptureError, CaptureReader, Frame};

/// The merged stream.
pub struct Merger {
    readers: Vec<CaptureReader>,
    /// Per input, nanoseconds its clock runs ahead of the reference (subtracted from its times).
    offsets: Vec<i64>,
    /// Inputs by the corrected time of their held frame (frames without a time first).
    by_head: BinaryHeap<Reverse<(i64, u32)>>,
    /// The input whose frame was handed out last: it reads its next one before the next pick.
    current: Option<u32>,
    primed: bool,
    /// Fatal errors, per input: such an input ends there, the others go on.
    pub errors: Vec<(u32, CaptureError)>,
}

impl Merger {
    /// Merges `readers` (input `i` is `readers[i]`), each on its own clock as it is.
    pub fn new(readers: Vec<CaptureReader>) -> Merger {
        let n = readers.len();
        Merger {
            readers,
            offsets: vec![0; n],
            by_head: BinaryHeap::with_capacity(n),
            current: None,
            primed: false,
            errors: Vec::new(),
        }
    }

    /// Sets each input's clock offset; before the first frame is read.
    pub fn set_offsets(&mut self, offsets: Vec<i64>) {
        if !self.primed {
            self.offsets = offsets;
            self.offsets.resize(self.readers.len(), 0);
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

    /// Reads every input's first frame (their interfaces are then known).
    pub fn prime(&mut self) {
        if !self.primed {
            self.primed = true;
            for i in 0..self.readers.len() {
                self.advance(i as u32);
            }
        }
    }

    /// Reads input `i`'s next frame; returns its key when it has one.
    fn read(&mut self, i: u32) -> Option<(i64, u32)> {
        let r = self.readers.get_mut(i as usize)?;
        match r.hold_next() {
            Ok(Some(ts)) => {
                let off = self.offsets.get(i as usize).copied().unwrap_or(0);
                Some((ts.map_or(i64::MIN, |t| t.saturating_sub(off)), i))
            }
            Ok(None) => None,
            Err(e) => {
                self.errors.push((i, e));
                None
            }
        }
    }

    fn advance(&mut self, i: u32) {
        if let Some(k) = self.read(i) {
            self.by_head.push(Reverse(k));
        }
    }

    /// The input holding the next frame in time order, `None` when every input has ended. Its
    /// frame is [`Merger::frame`] until the next call.
    pub fn next_input(&mut self) -> Option<u32> {
        self.prime();
        if let Some(k) = self.current.take().and_then(|c| self.read(c)) {
            // A run of frames from one input (a burst on one vmk) needs no reordering: it goes
            // on while its frames come before every other input's.
            if self.by_head.peek().is_none_or(|Reverse(top)| k <= *top) {
                self.current = Some(k.1);
                return Some(k.1);
            }
            self.by_head.push(Reverse(k));
        }
        let Reverse((_, i)) = self.by_head.pop()?;
        self.current = Some(i);
        Some(i)
    }

    /// The frame input `i` holds, its time on the reference clock, and its time as the input's
    /// clock read it.
    pub fn frame(&self, i: u32) -> Option<(Frame<'_>, Option<i64>)> {
        let mut f = self.readers.get(i as usize)?.held()?;
        let raw = f.ts_ns;
        let off = self.offsets.get(i as usize).copied().unwrap_or(0);
        f.ts_ns = raw.map(|t| t.saturating_sub(off));
        Some((f, raw))
    }

    /// Ends reading: the readers, for their statistics.
    pub fn into_readers(self) -> Vec<CaptureReader> {
        self.readers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic pcap with one empty Ethernet frame per timestamp (µs).
    fn pcap(times_us: &[u32]) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65535, 1] {
            if v == 0x0004_0002 {
                b.extend_from_slice(&2u16.to_le_bytes());
                b.extend_from_slice(&4u16.to_le_bytes());
            } else {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        for &t in times_us {
            for v in [0, t, 14, 14] {
                b.extend_from_slice(&v.to_le_bytes());
            }
            b.extend_from_slice(&[0u8; 14]);
        }
        b
    }

    #[test]
    fn inputs_merge_in_corrected_time_order() {
        let a = CaptureReader::from_bytes("a", pcap(&[10, 30, 50])).expect("a");
        let b = CaptureReader::from_bytes("b", pcap(&[2_020, 2_040])).expect("b");
        let mut m = Merger::new(vec![a, b]);
        // b's clock runs 2 ms ahead.
        m.set_offsets(vec![0, 2_000_000]);
        let mut seen = Vec::new();
        while let Some(i) = m.next_input() {
            let (f, raw) = m.frame(i).expect("frame");
            seen.push((i, f.ts_ns, raw));
        }
        let us = |v: i64| Some(v * 1_000);
        assert_eq!(
            seen,
            vec![
                (0, us(10), us(10)),
                (1, us(20), us(2_020)),
                (0, us(30), us(30)),
                (1, us(40), us(2_040)),
                (0, us(50), us(50)),
            ]
        );
    }
}
