//! TCP sequence tracking per direction: which payload bytes repeat sequence space already seen
//! (retransmitted), which arrive for the first time below the highest sequence seen (out of
//! order), and which sequence ranges were never seen at all (not captured), with 32-bit
//! wrap-around; and acknowledgement tracking: how far one direction's acknowledgement numbers
//! moved the peer's sequence space, for a peer whose own segments were not captured.

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
    /// One past the highest sequence number seen (unwrapped), once a segment was seen; 0 before
    /// (positions start at [`ORIGIN`], so 0 is never one).
    high: u64,
    /// The holes, allocated with the first one: a direction without loss or reordering (most
    /// of them) pays one pointer.
    holes: Option<Box<Holes>>,
}

/// The holes of a direction's sequence space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Holes {
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
            0 => {
                let start = ORIGIN + u64::from(seq) + syn;
                self.high = start + u64::from(len) + fin;
                return SegmentBytes::default();
            }
            h => h,
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
            self.high = top;
        }
        out
    }

    /// Removes `[start, end)` from the holes; returns how many bytes it filled.
    fn fill(&mut self, start: u64, end: u64) -> u64 {
        let Some(h) = self.holes.as_deref_mut() else {
            return 0;
        };
        let mut filled = 0;
        let mut kept = Vec::with_capacity(h.holes.len() + 1);
        for &(a, b) in &h.holes {
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
        h.holes = kept;
        filled
    }

    fn add_hole(&mut self, start: u64, end: u64) {
        let h = self.holes.get_or_insert_with(Box::default);
        h.holes.push((start, end));
        if h.holes.len() > MAX_HOLES {
            let (a, b) = h.holes.remove(0);
            h.given_up += b - a;
        }
    }

    /// Bytes of sequence space skipped and never seen (capture loss, as tshark's "previous
    /// segment not captured").
    pub fn not_captured(&self) -> u64 {
        self.holes.as_deref().map_or(0, |h| {
            h.given_up + h.holes.iter().map(|(a, b)| b - a).sum::<u64>()
        })
    }
}

/// What one segment's acknowledgement number said about the peer's sequence space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AckAdvance {
    /// Bytes of the peer's data newly acknowledged (a held-back byte of data included).
    pub bytes: u64,
    /// Whether the peer's FIN was recognised in the acknowledgements, now.
    pub peer_fin: bool,
}

/// The acknowledgement numbers one direction of a TCP flow sent, as a count of the peer's bytes
/// they acknowledged: what the peer sent when its own segments were not captured (a capture of
/// one vmk's transmitted frames holds a receiver's ACKs and none of the data).
///
/// - The first acknowledgement number seen is the baseline: the SYN-ACK's is the client's ISN + 1
///   and the client's first ACK the server's ISN + 1, so the peer's SYN is never counted. A SYN
///   from this direction starts a new connection (ports reused) and a new baseline.
/// - Each later number that moves forward (`wrapping_sub` as `i32` > 0, so across the 2³² wrap)
///   adds its advance; duplicate and older numbers add nothing.
/// - The peer's FIN occupies one sequence number that is acknowledged too, but it is not data.
///   Not seeing the peer's segments, the tracker takes an advance of exactly 1 as that FIN when
///   it comes with or after this direction's own FIN, or with its RST; and an advance of exactly
///   1 coming before is held back: it is data when another advance follows, else the FIN (the
///   flow's last advance, whether or not this direction ever closed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AckTracker {
    /// The highest acknowledgement number seen, once one was.
    high: Option<u32>,
    /// An advance of exactly 1 not counted yet: a byte of data or the peer's FIN.
    held: bool,
    /// This direction sent a FIN.
    own_fin: bool,
    /// The peer's FIN was recognised.
    peer_fin: bool,
}

impl AckTracker {
    /// The highest acknowledgement number seen, once one was.
    pub fn high(&self) -> Option<u32> {
        self.high
    }

    /// Records a segment this direction sent with acknowledgement number `ack` (read only when
    /// the ACK flag is set) and `flags`; says how many of the peer's bytes it acknowledged.
    pub fn track(&mut self, ack: u32, flags: u8) -> AckAdvance {
        let fin = flags & FIN != 0;
        let rst = flags & RST != 0;
        if flags & SYN != 0 {
            // A (new) connection: a SYN-ACK's number is the baseline, a SYN has none.
            *self = AckTracker {
                high: (flags & ACK != 0).then_some(ack),
                ..AckTracker::default()
            };
            return AckAdvance::default();
        }
        let mut out = AckAdvance::default();
        let high = match (self.high, flags & ACK != 0) {
            (Some(h), true) => Some(h),
            (None, true) => {
                self.high = Some(ack);
                None
            }
            (_, false) => None,
        };
        if let Some(high) = high {
            let delta = ack.wrapping_sub(high) as i32;
            if delta > 0 {
                self.high = Some(ack);
                let held = u64::from(std::mem::take(&mut self.held));
                if delta == 1 && !self.peer_fin {
                    if self.own_fin || fin || rst {
                        // The peer's FIN, acknowledged with or after ours (or with our RST).
                        self.peer_fin = true;
                        out.peer_fin = true;
                    } else {
                        self.held = true;
                    }
                    out.bytes = held;
                } else {
                    out.bytes = held + u64::from(delta.unsigned_abs());
                }
            }
        }
        if (fin || rst) && self.held {
            // The last advance before we closed was the peer's FIN.
            self.held = false;
            self.peer_fin = true;
            out.peer_fin = true;
        }
        self.own_fin |= fin;
        out
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
        assert!(s.holes.as_ref().map_or(0, |h| h.holes.len()) <= MAX_HOLES);
        assert_eq!(s.not_captured(), 100 * (MAX_HOLES as u64 + 9));
        // A late copy of a given-up hole is not new data.
        assert_eq!(t(&mut s, 100, 100, ACK), (100, 0));
    }

    /// Feeds `(ack, flags)` segments; returns the bytes each credited and the FIN flags.
    fn acks(segs: &[(u32, u8)]) -> (Vec<u64>, Vec<bool>) {
        let mut a = AckTracker::default();
        segs.iter()
            .map(|&(ack, flags)| {
                let r = a.track(ack, flags);
                (r.bytes, r.peer_fin)
            })
            .unzip()
    }

    #[test]
    fn acks_count_from_the_syn_ack_without_the_syn() {
        // The server's SYN-ACK acknowledges the client's SYN (ISN 999): the baseline.
        let (b, _) = acks(&[(1000, SYN | ACK), (2448, ACK), (5344, ACK), (5344, ACK)]);
        assert_eq!(b, vec![0, 1448, 2896, 0]);
        // The client's first ACK is the baseline when it is the receiver; its SYN has none.
        let (b, _) = acks(&[(0, SYN), (77, ACK), (1077, ACK)]);
        assert_eq!(b, vec![0, 0, 1000]);
        // Without a handshake, the first acknowledgement number seen is the baseline.
        let (b, _) = acks(&[(50_000, ACK), (60_000, ACK)]);
        assert_eq!(b, vec![0, 10_000]);
        // A segment without the ACK flag says nothing.
        let (b, _) = acks(&[(10, ACK), (9_999, 0), (20, ACK)]);
        assert_eq!(b, vec![0, 0, 10]);
    }

    #[test]
    fn acks_wrap_around() {
        let start = u32::MAX - 999;
        let (b, _) = acks(&[
            (start, SYN | ACK),
            (start.wrapping_add(600), ACK),
            (start.wrapping_add(1600), ACK),
            (start.wrapping_add(3600), ACK),
        ]);
        assert_eq!(b, vec![0, 600, 1000, 2000]);
        // More than 4 GiB: the count is 64-bit.
        let mut a = AckTracker::default();
        a.track(7, SYN | ACK);
        let mut total = 0;
        let mut ack = 7u32;
        for _ in 0..10 {
            ack = ack.wrapping_add(1 << 30);
            total += a.track(ack, ACK).bytes;
        }
        assert_eq!(total, 10 << 30);
    }

    #[test]
    fn duplicate_and_old_acks_count_nothing() {
        let (b, _) = acks(&[
            (1, SYN | ACK),
            (1001, ACK),
            (1001, ACK),
            (501, ACK),
            (1001, ACK),
            (3001, ACK),
        ]);
        assert_eq!(b, vec![0, 1000, 0, 0, 0, 2000]);
        // An old number across the wrap is old too.
        let (b, _) = acks(&[(5, ACK), (u32::MAX - 5, ACK), (10, ACK)]);
        assert_eq!(b, vec![0, 0, 5]);
    }

    #[test]
    fn the_peers_fin_is_not_data() {
        // The peer closes first: we acknowledge its FIN alone, then close.
        let (b, f) = acks(&[(1, SYN | ACK), (1001, ACK), (1002, ACK), (1002, FIN | ACK)]);
        assert_eq!(b, vec![0, 1000, 0, 0]);
        assert_eq!(f, vec![false, false, false, true]);
        // We acknowledge its FIN with our own.
        let (b, f) = acks(&[(1, SYN | ACK), (1001, ACK), (1002, FIN | ACK)]);
        assert_eq!(b, vec![0, 1000, 0]);
        assert_eq!(f, vec![false, false, true]);
        // We close first; its FIN comes later.
        let (b, f) = acks(&[(1, SYN | ACK), (1001, ACK), (1001, FIN | ACK), (1002, ACK)]);
        assert_eq!(b, vec![0, 1000, 0, 0]);
        assert_eq!(f, vec![false, false, false, true]);
        // We reset after acknowledging it.
        let (b, f) = acks(&[(1, SYN | ACK), (1001, ACK), (1002, ACK), (1002, RST | ACK)]);
        assert_eq!(b, vec![0, 1000, 0, 0]);
        assert_eq!(f, vec![false, false, false, true]);
        // A single byte of data is data once more follows.
        let (b, f) = acks(&[
            (1, SYN | ACK),
            (2, ACK),
            (3, ACK),
            (103, ACK),
            (104, FIN | ACK),
        ]);
        assert_eq!(b, vec![0, 0, 1, 101, 0]);
        assert_eq!(f, vec![false, false, false, false, true]);
        // A held byte followed by nothing stays uncounted (the flow's last advance: its FIN).
        let mut a = AckTracker::default();
        a.track(1, SYN | ACK);
        assert_eq!(a.track(1001, ACK).bytes, 1000);
        assert_eq!(a.track(1002, ACK).bytes, 0);
        assert!(a.held);
        // After the peer's FIN, nothing more is its FIN.
        let (b, _) = acks(&[(1, ACK), (1, FIN | ACK), (2, ACK), (3, ACK)]);
        assert_eq!(b, vec![0, 0, 0, 1]);
    }

    #[test]
    fn a_new_syn_starts_a_new_baseline() {
        let (b, _) = acks(&[
            (1, SYN | ACK),
            (1001, ACK),
            (1002, FIN | ACK),
            // Ports reused: a new connection 2³¹ - 1 further on counts from its own SYN.
            (1002 + (1 << 31) - 1, SYN | ACK),
            (1002 + (1 << 31) + 99, ACK),
        ]);
        assert_eq!(b, vec![0, 1000, 0, 0, 100]);
    }
}
