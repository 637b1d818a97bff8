//! TCP sequence tracking per direction: which payload bytes repeat sequence space already seen
//! (retransmitted), which arrive for the first time below the highest sequence seen (out of
//! order), and which sequence ranges were never seen at all (not captured), with 32-bit
//! wrap-around.

pub use crate::decode::views::tcp::flags::{ACK, FIN, RST, SYN};

/// Most holes (sequence ranges skipped and not yet seen) remembered per direction. Beyond it the
/// lowest hole is given up as not captured: a late copy of its bytes then counts as a
/// retransmission, never as new data, so no figure can grow past what was sent.
pub const MAX_HOLES: usize = 32;

/// What one segment's payload bytes were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SegmentBytes {
    /// Bytes whose sequence range had been seen before.
    pub retransmitted: u64,
    /// Bytes seen for the first time, below the highest sequence already seen.
    pub out_of_order: u64,
    /// Bytes of sequence space this segment skipped (a hole opened: not captured, so far).
    pub skipped: u64,
}

/// The sequence space one direction of a TCP flow has covered.
///
/// Positions are sequence numbers unwrapped to 64 bits around the highest one seen, so a flow may
/// carry more than 4 GiB. Memory is fixed: at most [`MAX_HOLES`] holes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeqTracker {
    /// One past the highest sequence number seen (unwrapped), once a segment was seen.
    high: Option<u64>,
    /// Ranges `[start, end)` below `high` never seen, ascending and disjoint.
    holes: Vec<(u64, u64)>,
    /// Bytes of holes given up when there were too many.
    given_up: u64,
}

/// Unwrapped positions start here, so sequence numbers before the first one seen stay positive.
const ORIGIN: u64 = 1 << 40;

impl SeqTracker {
    /// The unwrapped position of `seq`, taken as the nearest to `high`.
    fn unwrap(high: u64, seq: u32) -> u64 {
        let delta = seq.wrapping_sub(high as u32) as i32;
        high.wrapping_add_signed(i64::from(delta))
    }

    /// Records a segment of `len` payload bytes at `seq` (SYN and FIN occupy one sequence number
    /// each) and says what its bytes were.
    pub fn track(&mut self, seq: u32, len: u32, flags: u8) -> SegmentBytes {
        let syn = u64::from(flags & SYN != 0);
        let fin = u64::from(flags & FIN != 0);
        let high = match self.high {
            Some(h) => h,
            None => {
                let start = ORIGIN + u64::from(seq) + syn;
                self.high = Some(start + u64::from(len) + fin);
                return SegmentBytes::default();
            }
        };
        let start = Self::unwrap(high, seq) + syn;
        let end = start + u64::from(len);
        let mut out = SegmentBytes::default();
        if len > 0 && start < high {
            // The part below `high`: bytes in holes are new, the rest was seen before.
            let below_end = end.min(high);
            let fresh = self.fill(start, below_end);
            out.out_of_order = fresh;
            out.retransmitted = (below_end - start) - fresh;
        }
        let top = end + fin;
        if top > high {
            let new_from = start.max(high);
            if new_from > high {
                self.add_hole(high, new_from);
                out.skipped = new_from - high;
            }
            self.high = Some(top);
        }
        out
    }

    /// Removes `[start, end)` from the holes; returns how many bytes it filled.
    fn fill(&mut self, start: u64, end: u64) -> u64 {
        let mut filled = 0;
        let mut kept = Vec::with_capacity(self.holes.len() + 1);
        for &(a, b) in &self.holes {
            if b <= start || a >= end {
                kept.push((a, b));
                continue;
            }
            filled += b.min(end) - a.max(start);
            if a < start {
                kept.push((a, start));
            }
            if b > end {
                kept.push((end, b));
            }
        }
        self.holes = kept;
        filled
    }

    fn add_hole(&mut self, start: u64, end: u64) {
        self.holes.push((start, end));
        if self.holes.len() > MAX_HOLES {
            let (a, b) = self.holes.remove(0);
            self.given_up += b - a;
        }
    }

    /// Bytes of sequence space skipped and never seen (capture loss, as tshark's "previous
    /// segment not captured").
    pub fn not_captured(&self) -> u64 {
        self.given_up + self.holes.iter().map(|(a, b)| b - a).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &mut SeqTracker, seq: u32, len: u32, flags: u8) -> (u64, u64) {
        let b = s.track(seq, len, flags);
        (b.retransmitted, b.out_of_order)
    }

    #[test]
    fn in_order_then_retransmission() {
        let mut s = SeqTracker::default();
        assert_eq!(t(&mut s, 100, 0, SYN), (0, 0));
        assert_eq!(t(&mut s, 101, 1000, ACK), (0, 0));
        assert_eq!(t(&mut s, 1101, 1000, ACK), (0, 0));
        assert_eq!(t(&mut s, 101, 1000, ACK), (1000, 0), "full repeat");
        assert_eq!(t(&mut s, 1601, 1000, ACK), (500, 0), "half overlap");
        assert_eq!(t(&mut s, 2601, 0, ACK | FIN), (0, 0));
        assert_eq!(s.not_captured(), 0);
    }

    #[test]
    fn reordered_bytes_are_not_retransmissions() {
        let mut s = SeqTracker::default();
        t(&mut s, 0, 100, ACK);
        // 100..200 skipped, 200..300 arrives first: a hole of 100.
        assert_eq!(t(&mut s, 200, 100, ACK), (0, 0));
        assert_eq!(s.not_captured(), 100);
        // The skipped segment arrives late: first sight, out of order.
        assert_eq!(t(&mut s, 100, 100, ACK), (0, 100));
        assert_eq!(s.not_captured(), 0);
        // Now it is a real retransmission.
        assert_eq!(t(&mut s, 100, 100, ACK), (100, 0));
        // A segment spanning a partly filled hole: 400..500 missing, then 350..450 half new.
        t(&mut s, 500, 100, ACK);
        assert_eq!(s.not_captured(), 200);
        assert_eq!(t(&mut s, 250, 200, ACK), (50, 150));
        assert_eq!(s.not_captured(), 50);
    }

    #[test]
    fn loss_is_not_captured() {
        let mut s = SeqTracker::default();
        t(&mut s, 1, 1000, ACK);
        t(&mut s, 3001, 1000, ACK);
        t(&mut s, 5001, 1000, ACK);
        // 1001..3001 and 4001..5001 were never seen.
        assert_eq!(s.not_captured(), 3000);
    }

    #[test]
    fn wraps_around() {
        let mut s = SeqTracker::default();
        assert_eq!(t(&mut s, u32::MAX - 499, 1000, ACK), (0, 0));
        assert_eq!(t(&mut s, 500, 1000, ACK), (0, 0));
        assert_eq!(t(&mut s, u32::MAX - 499, 1000, ACK), (1000, 0));
        assert_eq!(s.not_captured(), 0);
        // More than 4 GiB in one direction: 5 × 1 GiB segments, in order.
        let mut s = SeqTracker::default();
        let mut seq = 7u32;
        for _ in 0..5 {
            assert_eq!(t(&mut s, seq, 1 << 30, ACK), (0, 0));
            seq = seq.wrapping_add(1 << 30);
        }
        assert_eq!(s.not_captured(), 0);
    }

    #[test]
    fn holes_are_bounded() {
        let mut s = SeqTracker::default();
        for i in 0..(MAX_HOLES as u32 + 10) {
            t(&mut s, i * 200, 100, ACK);
        }
        assert!(s.holes.len() <= MAX_HOLES);
        assert_eq!(s.not_captured(), 100 * (MAX_HOLES as u64 + 9));
        // A late copy of a given-up hole is not new data.
        assert_eq!(t(&mut s, 100, 100, ACK), (100, 0));
    }
}
