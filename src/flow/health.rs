//! TCP health of the streams worth it (vMotion and NFC): segment sizes, round-trip times,
//! zero windows, stalls and resets, per direction.
//!
//! Held behind an `Option<Box<Health>>` in [`super::Flow`], so other flows pay one pointer; the
//! flow table feeds it every TCP segment of such a flow ([`Health::segment`]).
//!
//! Definitions (what the findings report; `dir` is the direction that *sent* the data):
//! - **MSS**: the maximum segment size option of the direction's SYN (or SYN-ACK), when its
//!   options were captured. **Largest segment**: the largest TCP payload (from the IP length, so
//!   a header-only capture still has it). A capture host's TSO/LRO makes captured segments
//!   larger than the MSS (`segments_over_peer_mss`): that is the capture, not the wire.
//! - **Round-trip time from data/ACK pairs**, as Wireshark's `tcp.analysis.ack_rtt`: every
//!   segment with payload, SYN or FIN joins a list of unacknowledged segments of its direction
//!   (at most [`MAX_UNACKED`]; beyond it new segments are not listed, as Wireshark's own bound);
//!   an ACK of the other direction whose number equals a listed segment's end yields one sample,
//!   its time less that segment's (the earliest listed, if a retransmission repeats it); the
//!   segments it covers leave the list, one it covers in part is shortened.
//!   Samples are summed up as count, minimum, maximum, mean and a median read from a histogram
//!   of [`RTT_BUCKETS`] log buckets, four per doubling from 1 µs (so within ±9 %).
//! - **Handshake**: SYN → SYN-ACK and SYN-ACK → the client's ACK, as seen at the capture point;
//!   their sum is Wireshark's `tcp.analysis.initial_rtt`.
//! - **Zero window**, as Wireshark's `tcp.analysis.zero_window`: a segment advertising window 0
//!   without SYN, FIN or RST. A zero-window period lasts from the first such segment until a
//!   segment of the same direction advertises a window again (or the flow's last packet).
//! - **Stall** of a sending direction: a time of at least `stall_min_ns` during which the sender
//!   was blocked (it had data, SYN or FIN not yet acknowledged, or the receiver advertised a zero
//!   window) and made no progress (no new data from it, no acknowledgement of more of it). It
//!   starts at the first packet that shows the sender blocked and ends with progress, when the
//!   block goes (the window opens with nothing outstanding) or at the flow's last packet. An idle
//!   application (everything acknowledged, window open) is not a stall. Known only when the
//!   receiver's acknowledgements were captured (a capture of one direction has none).
//! - **Resets**: RST segments per direction, and whether one came before any FIN of either side
//!   (an abortive close).

use super::tcp::{ACK, FIN, RST, SYN};
use crate::decode::views::TcpFields;
use crate::vocab::ports::TrafficClass;

/// Whether a TCP flow of `class` keeps health figures: vMotion and NFC streams.
pub fn worth_it(class: TrafficClass) -> bool {
    matches!(class, TrafficClass::Vmotion | TrafficClass::Nfc)
}

/// Most unacknowledged segments listed per direction for round-trip samples.
pub const MAX_UNACKED: usize = 256;
/// Stall intervals kept per direction (all are counted).
pub const MAX_STALLS: usize = 16;
/// Buckets of the round-trip histogram.
pub const RTT_BUCKETS: usize = 96;

/// Round-trip samples of one direction's data.
#[derive(Debug, Clone, Default)]
pub struct RttStats {
    /// Samples.
    pub count: u64,
    /// Smallest, ns.
    pub min_ns: i64,
    /// Largest, ns.
    pub max_ns: i64,
    /// Sum, ns (saturating).
    pub sum_ns: i64,
    /// The histogram, allocated with the first sample: a stream without samples (no
    /// acknowledgement of its data captured) pays one pointer instead of 384 bytes.
    hist: Option<Box<[u32; RTT_BUCKETS]>>,
}

/// The bucket of `ns`: 0 below 1 µs, then four per doubling.
fn bucket(ns: i64) -> usize {
    if ns < 1000 {
        return 0;
    }
    let k = (4.0 * (ns as f64 / 1000.0).log2()).floor() as usize + 1;
    k.min(RTT_BUCKETS - 1)
}

/// The middle of bucket `k` (geometric), ns.
fn bucket_mid(k: usize) -> f64 {
    if k == 0 {
        return 500.0;
    }
    1000.0 * 2f64.powf((k as f64 - 0.5) / 4.0)
}

impl RttStats {
    /// Adds a sample (negative ones, from a capture whose clock stepped back, are 0).
    pub fn add(&mut self, ns: i64) {
        let ns = ns.max(0);
        if self.count == 0 {
            self.min_ns = ns;
            self.max_ns = ns;
        } else {
            self.min_ns = self.min_ns.min(ns);
            self.max_ns = self.max_ns.max(ns);
        }
        self.count += 1;
        self.sum_ns = self.sum_ns.saturating_add(ns);
        let hist = self.hist.get_or_insert_with(|| Box::new([0; RTT_BUCKETS]));
        if let Some(h) = hist.get_mut(bucket(ns)) {
            *h = h.saturating_add(1);
        }
    }

    /// Mean, ns.
    pub fn mean_ns(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64)
    }

    /// Median from the histogram (the middle of its bucket, within the minimum and maximum), ns.
    pub fn median_ns(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let half = self.count.div_ceil(2);
        let mut seen = 0u64;
        for (k, n) in self.hist.iter().flat_map(|h| h.iter()).enumerate() {
            seen += u64::from(*n);
            if seen >= half {
                return Some(bucket_mid(k).clamp(self.min_ns as f64, self.max_ns as f64));
            }
        }
        Some(self.max_ns as f64)
    }

    /// Merges another direction's or flow's samples.
    pub fn merge(&mut self, o: &RttStats) {
        if o.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = o.clone();
            return;
        }
        self.count += o.count;
        self.min_ns = self.min_ns.min(o.min_ns);
        self.max_ns = self.max_ns.max(o.max_ns);
        self.sum_ns = self.sum_ns.saturating_add(o.sum_ns);
        if let Some(oh) = &o.hist {
            let hist = self.hist.get_or_insert_with(|| Box::new([0; RTT_BUCKETS]));
            for (a, b) in hist.iter_mut().zip(oh.iter()) {
                *a = a.saturating_add(*b);
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Unacked {
    seq: u32,
    next: u32,
    ts: i64,
}

/// Whether `a` is after `b` in sequence space.
fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// Health figures of one direction of a stream.
#[derive(Debug, Clone, Default)]
pub struct DirHealth {
    /// MSS option of this direction's SYN, when captured.
    pub mss: Option<u16>,
    /// Largest TCP payload sent, bytes.
    pub max_segment: u32,
    /// Segments larger than the MSS the other direction advertised (TSO/LRO at the capture host,
    /// or a path that ignores the MSS).
    pub segments_over_peer_mss: u64,
    /// Zero windows and stalls, allocated with the first of them.
    blocked: Option<Box<Blocked>>,
    zero_since: Option<i64>,
    /// RST segments sent.
    pub resets: u64,
    /// Whether a RST came before any FIN of either direction.
    pub reset_before_fin: bool,
    /// Round-trip samples of this direction's data (acknowledged by the other).
    pub rtt: RttStats,
    /// Listed in order sent; grown by half its length at a time (not doubled), to
    /// [`MAX_UNACKED`] at most.
    unacked: Vec<Unacked>,
    /// One past the highest sequence number sent.
    high: Option<u32>,
    /// The highest acknowledgement of this direction's data by the other direction.
    acked: Option<u32>,
    /// Since when the sender has been blocked without progress.
    blocked_since: Option<i64>,
    /// Whether the other direction's acknowledgements were seen (stalls are known).
    pub acks_seen: bool,
}

/// A direction's zero windows and stalls: most streams have neither, so [`DirHealth`] holds
/// them behind a box allocated with the first (8 bytes instead of 64).
#[derive(Debug, Clone, Default)]
struct Blocked {
    zero_windows: u64,
    zero_window_periods: u64,
    zero_window_ns: i64,
    stalls: u64,
    stall_ns: i64,
    stall_list: Vec<(i64, i64)>,
}

impl DirHealth {
    /// Segments advertising a zero window (without SYN, FIN, RST).
    pub fn zero_windows(&self) -> u64 {
        self.blocked.as_ref().map_or(0, |b| b.zero_windows)
    }

    /// Zero-window periods (this direction advertised window 0 until it opened again).
    pub fn zero_window_periods(&self) -> u64 {
        self.blocked.as_ref().map_or(0, |b| b.zero_window_periods)
    }

    /// Time in zero-window periods, ns.
    pub fn zero_window_ns(&self) -> i64 {
        self.blocked.as_ref().map_or(0, |b| b.zero_window_ns)
    }

    /// Stalls of this direction as a sender.
    pub fn stalls(&self) -> u64 {
        self.blocked.as_ref().map_or(0, |b| b.stalls)
    }

    /// Time stalled, ns.
    pub fn stall_ns(&self) -> i64 {
        self.blocked.as_ref().map_or(0, |b| b.stall_ns)
    }

    /// The first [`MAX_STALLS`] stalls, `(start, end)` ns.
    pub fn stall_list(&self) -> &[(i64, i64)] {
        self.blocked.as_ref().map_or(&[], |b| &b.stall_list)
    }

    fn blocked_mut(&mut self) -> &mut Blocked {
        self.blocked.get_or_insert_with(Box::default)
    }

    /// A zero-window period from `from` ends at `to`.
    fn zero_window_ended(&mut self, from: i64, to: i64) {
        let b = self.blocked_mut();
        b.zero_window_periods += 1;
        b.zero_window_ns = b.zero_window_ns.saturating_add(to.saturating_sub(from));
    }

    /// Progress at `ts`: a stall ends.
    fn progress(&mut self, ts: i64, min_ns: i64) {
        if let Some(s) = self.blocked_since.take() {
            if ts.saturating_sub(s) >= min_ns {
                self.stall(s, ts);
            }
        }
    }

    fn stall(&mut self, from: i64, to: i64) {
        let b = self.blocked_mut();
        b.stalls += 1;
        b.stall_ns = b.stall_ns.saturating_add(to.saturating_sub(from));
        if b.stall_list.len() < MAX_STALLS {
            b.stall_list.push((from, to));
        }
    }

    fn outstanding(&self) -> bool {
        match (self.high, self.acked) {
            (Some(h), Some(a)) => after(h, a),
            _ => false,
        }
    }

    /// Whether this direction is currently in a zero-window period.
    pub fn in_zero_window(&self) -> bool {
        self.zero_since.is_some()
    }
}

/// The client's handshake, as seen at the capture point.
#[derive(Debug, Clone, Copy, Default)]
pub struct Handshake {
    /// The client's SYN, `(direction, time)`.
    syn: Option<(usize, i64)>,
    /// SYN-ACK time.
    synack: Option<i64>,
    /// SYN → SYN-ACK, ns.
    pub syn_to_synack_ns: Option<i64>,
    /// SYN-ACK → the client's ACK, ns.
    pub synack_to_ack_ns: Option<i64>,
}

/// Health figures of a stream: `dir` as the flow's (`[lo → hi, hi → lo]`).
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Per direction.
    pub dir: [DirHealth; 2],
    /// The handshake.
    pub handshake: Handshake,
    /// Whether any FIN was seen.
    fin_seen: bool,
    /// The shortest stall counted, ns.
    stall_min_ns: i64,
    /// Last packet time.
    last_ts: Option<i64>,
}

impl Health {
    /// Empty state counting stalls of at least `stall_min_ns`.
    pub fn new(stall_min_ns: i64) -> Health {
        Health {
            stall_min_ns: stall_min_ns.max(1),
            ..Health::default()
        }
    }

    /// One TCP segment of direction `di` with `len` payload bytes (when known).
    pub fn segment(&mut self, di: usize, ts: Option<i64>, f: &TcpFields, len: Option<u32>) {
        let (di, oi) = if di == 0 { (0, 1) } else { (1, 0) };
        let flags = f.flags.unwrap_or(0);
        let min = self.stall_min_ns;
        if let Some(t) = ts {
            self.last_ts = Some(self.last_ts.map_or(t, |l| l.max(t)));
        }
        // Segment size.
        if flags & SYN != 0 {
            if let Some(m) = f.mss {
                self.dir[di].mss = Some(m);
            }
        }
        if let Some(l) = len {
            let peer_mss = self.dir[oi].mss;
            let d = &mut self.dir[di];
            d.max_segment = d.max_segment.max(l);
            if peer_mss.is_some_and(|m| l > u32::from(m)) {
                d.segments_over_peer_mss += 1;
            }
        }
        // Resets.
        if flags & RST != 0 {
            let d = &mut self.dir[di];
            d.resets += 1;
            if !self.fin_seen {
                d.reset_before_fin = true;
            }
        }
        self.fin_seen |= flags & FIN != 0;
        // Handshake.
        if let Some(t) = ts {
            let h = &mut self.handshake;
            if flags & SYN != 0 && flags & ACK == 0 && h.syn.is_none() {
                h.syn = Some((di, t));
            } else if flags & SYN != 0 && flags & ACK != 0 {
                if let (Some((sd, st)), None) = (h.syn, h.synack) {
                    if sd == oi {
                        h.synack = Some(t);
                        h.syn_to_synack_ns = Some(t.saturating_sub(st));
                    }
                }
            } else if flags & ACK != 0 && h.synack_to_ack_ns.is_none() {
                if let (Some((sd, _)), Some(sa)) = (h.syn, h.synack) {
                    if sd == di {
                        h.synack_to_ack_ns = Some(t.saturating_sub(sa));
                    }
                }
            }
        }
        // Acknowledgements of the other direction's data: round-trip samples and progress.
        if let (Some(ack), true) = (f.ack, flags & ACK != 0) {
            let o = &mut self.dir[oi];
            o.acks_seen = true;
            let mut sample = None;
            o.unacked.retain_mut(|u| {
                if ack == u.next {
                    if sample.is_none() {
                        sample = Some(u.ts);
                    }
                    false
                } else if after(ack, u.seq) && after(u.next, ack) {
                    u.seq = ack;
                    true
                } else {
                    after(u.next, ack)
                }
            });
            if let (Some(s), Some(t)) = (sample, ts) {
                o.rtt.add(t.saturating_sub(s));
            }
            let advanced = o.acked.is_none_or(|a| after(ack, a));
            if advanced {
                o.acked = Some(ack);
                if let Some(t) = ts {
                    o.progress(t, min);
                }
            }
        }
        // This direction's data.
        if let Some(seq) = f.seq {
            let syn = u32::from(flags & SYN != 0);
            let fin = u32::from(flags & FIN != 0);
            let seglen = len.unwrap_or(0);
            let next = seq.wrapping_add(seglen).wrapping_add(syn).wrapping_add(fin);
            let d = &mut self.dir[di];
            if let Some(t) = ts {
                if (seglen > 0 || syn + fin > 0) && d.unacked.len() < MAX_UNACKED {
                    let n = d.unacked.len();
                    if n == d.unacked.capacity() {
                        d.unacked.reserve_exact((n / 2).clamp(4, MAX_UNACKED - n));
                    }
                    d.unacked.push(Unacked { seq, next, ts: t });
                }
            }
            let new_data = d.high.is_none_or(|h| after(next, h));
            if new_data {
                d.high = Some(next);
                if let (true, Some(t)) = (seglen > 0, ts) {
                    d.progress(t, min);
                }
            }
        }
        // Zero windows of this direction (they block the other direction's sending).
        if let (Some(w), Some(t)) = (f.window, ts) {
            let d = &mut self.dir[di];
            if w == 0 && flags & (SYN | FIN | RST) == 0 {
                d.blocked_mut().zero_windows += 1;
                if d.zero_since.is_none() {
                    d.zero_since = Some(t);
                }
            } else if w > 0 {
                if let Some(s) = d.zero_since.take() {
                    d.zero_window_ended(s, t);
                }
            }
        }
        // Whether each direction is now blocked: a stall starts, or ends without progress (the
        // window opened with nothing outstanding).
        let Some(t) = ts else { return };
        for k in 0..2 {
            let peer_zero = self.dir[1 - k].zero_since.is_some();
            let d = &mut self.dir[k];
            let blocked = d.outstanding() || (peer_zero && d.high.is_some());
            match (d.blocked_since, blocked) {
                (None, true) => d.blocked_since = Some(t),
                (Some(_), false) => d.progress(t, min),
                _ => {}
            }
        }
    }

    /// Closes what is still open at the flow's end: a zero-window period and a stall last to
    /// the flow's last packet.
    pub fn finish(&mut self) {
        let Some(end) = self.last_ts else { return };
        let min = self.stall_min_ns;
        for d in &mut self.dir {
            if let Some(s) = d.zero_since.take() {
                d.zero_window_ended(s, end);
            }
            d.progress(end, min);
            d.unacked = Vec::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn f(seq: u32, ack: u32, flags: u8, window: u16, mss: Option<u16>) -> TcpFields {
        TcpFields {
            src_port: 1,
            dst_port: 8000,
            seq: Some(seq),
            ack: Some(ack),
            header_len: Some(20),
            flags: Some(flags),
            window: Some(window),
            mss,
        }
    }

    /// A handshake at 0 / 1 / 2 ms: client ISN 100, server ISN 500.
    fn handshake(h: &mut Health) {
        h.segment(0, Some(0), &f(100, 0, SYN, 1000, Some(8960)), Some(0));
        h.segment(
            1,
            Some(MS),
            &f(500, 101, SYN | ACK, 1000, Some(1460)),
            Some(0),
        );
        h.segment(0, Some(2 * MS), &f(101, 501, ACK, 1000, None), Some(0));
    }

    #[test]
    fn mss_handshake_and_ack_rtt_as_wireshark() {
        let mut h = Health::new(1000 * MS);
        handshake(&mut h);
        assert_eq!(h.dir[0].mss, Some(8960));
        assert_eq!(h.dir[1].mss, Some(1460));
        assert_eq!(h.handshake.syn_to_synack_ns, Some(MS));
        assert_eq!(h.handshake.synack_to_ack_ns, Some(MS));
        // The SYN-ACK acknowledged the SYN: one sample of 1 ms for the client; the ACK the
        // SYN-ACK: one of 1 ms for the server.
        assert_eq!((h.dir[0].rtt.count, h.dir[1].rtt.count), (1, 1));
        // Two segments at 10 and 11 ms, one ACK of both at 15 ms: one sample, from the second
        // (the ACK number is its end), 4 ms. A segment larger than the peer's MSS is counted.
        h.segment(0, Some(10 * MS), &f(101, 501, ACK, 1000, None), Some(1000));
        h.segment(0, Some(11 * MS), &f(1101, 501, ACK, 1000, None), Some(2000));
        h.segment(1, Some(15 * MS), &f(501, 3101, ACK, 1000, None), Some(0));
        let r = &h.dir[0].rtt;
        assert_eq!(r.count, 2);
        assert_eq!((r.min_ns, r.max_ns), (MS, 4 * MS));
        assert_eq!(h.dir[0].max_segment, 2000);
        assert_eq!(h.dir[0].segments_over_peer_mss, 1);
        // A retransmission of a segment: the ACK's sample is from the first transmission.
        h.segment(0, Some(20 * MS), &f(3101, 501, ACK, 1000, None), Some(100));
        h.segment(0, Some(30 * MS), &f(3101, 501, ACK, 1000, None), Some(100));
        h.segment(1, Some(31 * MS), &f(501, 3201, ACK, 1000, None), Some(0));
        assert_eq!(h.dir[0].rtt.count, 3);
        assert_eq!(h.dir[0].rtt.max_ns, 11 * MS);
        // A partial ACK shortens the segment; the next full one samples it.
        h.segment(0, Some(40 * MS), &f(3201, 501, ACK, 1000, None), Some(100));
        h.segment(1, Some(41 * MS), &f(501, 3251, ACK, 1000, None), Some(0));
        assert_eq!(h.dir[0].rtt.count, 3);
        h.segment(1, Some(42 * MS), &f(501, 3301, ACK, 1000, None), Some(0));
        assert_eq!(h.dir[0].rtt.count, 4);
        assert_eq!(h.dir[0].rtt.max_ns, 11 * MS);
        let med = h.dir[0].rtt.median_ns().expect("median");
        assert!(med >= MS as f64 && med <= 11.0 * MS as f64, "{med}");
        h.finish();
        assert_eq!(h.dir[0].stalls(), 0);
    }

    #[test]
    fn zero_window_periods_and_stalls() {
        let mut h = Health::new(500 * MS);
        handshake(&mut h);
        // Data, then the receiver acknowledges it with window 0 and keeps it closed for 2 s
        // (one more zero-window ACK), opens it, and data resumes.
        h.segment(0, Some(10 * MS), &f(101, 501, ACK, 1000, None), Some(1000));
        h.segment(1, Some(11 * MS), &f(501, 1101, ACK, 0, None), Some(0));
        h.segment(1, Some(1011 * MS), &f(501, 1101, ACK, 0, None), Some(0));
        h.segment(1, Some(2011 * MS), &f(501, 1101, ACK, 1000, None), Some(0));
        h.segment(
            0,
            Some(2012 * MS),
            &f(1101, 501, ACK, 1000, None),
            Some(1000),
        );
        h.segment(1, Some(2013 * MS), &f(501, 2101, ACK, 1000, None), Some(0));
        assert_eq!(h.dir[1].zero_windows(), 2);
        assert_eq!(h.dir[1].zero_window_periods(), 1);
        assert_eq!(h.dir[1].zero_window_ns(), 2000 * MS);
        assert_eq!(h.dir[0].stalls(), 1);
        assert_eq!(h.dir[0].stall_list(), &[(11 * MS, 2011 * MS)]);
        // An idle pause with everything acknowledged is no stall.
        h.segment(
            0,
            Some(5000 * MS),
            &f(2101, 501, ACK, 1000, None),
            Some(1000),
        );
        h.segment(1, Some(5001 * MS), &f(501, 3101, ACK, 1000, None), Some(0));
        assert_eq!(h.dir[0].stalls(), 1);
        // Data not acknowledged for 1 s, then acknowledged: a stall.
        h.segment(
            0,
            Some(6000 * MS),
            &f(3101, 501, ACK, 1000, None),
            Some(1000),
        );
        h.segment(1, Some(7000 * MS), &f(501, 4101, ACK, 1000, None), Some(0));
        assert_eq!(h.dir[0].stalls(), 2);
        assert_eq!(h.dir[0].stall_ns(), 2000 * MS + 1000 * MS);
        // A RST before any FIN; a zero-window RST is not a zero window.
        h.segment(0, Some(7001 * MS), &f(4101, 0, RST, 0, None), Some(0));
        assert_eq!(h.dir[0].resets, 1);
        assert!(h.dir[0].reset_before_fin);
        assert_eq!(h.dir[0].zero_windows(), 0);
        h.finish();
        assert_eq!(h.dir[1].stalls(), 0);
    }

    #[test]
    fn wrapping_sequence_numbers_and_a_full_list() {
        let mut h = Health::new(MS);
        let isn = u32::MAX - 10;
        h.segment(0, Some(0), &f(isn, 0, SYN, 1000, None), Some(0));
        h.segment(
            1,
            Some(MS),
            &f(7, isn.wrapping_add(1), SYN | ACK, 1000, None),
            Some(0),
        );
        for i in 0..(MAX_UNACKED as u32 + 10) {
            let seq = isn.wrapping_add(1 + i * 10);
            h.segment(0, Some(2 * MS), &f(seq, 8, ACK, 1000, None), Some(10));
        }
        assert!(h.dir[0].unacked.len() <= MAX_UNACKED);
        // An ACK of everything removes every listed segment; no sample (its number ends an
        // unlisted segment).
        let end = isn.wrapping_add(1 + (MAX_UNACKED as u32 + 10) * 10);
        h.segment(1, Some(3 * MS), &f(8, end, ACK, 1000, None), Some(0));
        assert!(h.dir[0].unacked.is_empty());
        assert_eq!(h.dir[0].rtt.count, 1); // the SYN's
    }

    #[test]
    fn memory_stays_small() {
        // Flows that keep no health pay one pointer; those that do, one box of this size plus
        // at most MAX_UNACKED listed segments (16 bytes each) per direction while data is in
        // flight, and MAX_STALLS intervals.
        assert_eq!(std::mem::size_of::<Option<Box<Health>>>(), 8);
        let size = std::mem::size_of::<Health>();
        assert!(size <= 408, "{size}");
        // The histogram comes with the first sample.
        let mut r = RttStats::default();
        assert!(r.hist.is_none());
        r.add(MS);
        assert!(r.hist.is_some());
    }

    #[test]
    fn histogram_median() {
        let mut r = RttStats::default();
        for v in [MS, MS, MS, 100 * MS, 200 * MS] {
            r.add(v);
        }
        let m = r.median_ns().expect("m");
        assert!((m - MS as f64).abs() < 0.1 * MS as f64, "{m}");
        assert_eq!(r.mean_ns(), Some(60.6 * MS as f64));
        let mut o = RttStats::default();
        o.add(0);
        r.merge(&o);
        assert_eq!((r.count, r.min_ns), (6, 0));
    }
}
