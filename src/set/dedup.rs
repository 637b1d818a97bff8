//! Duplicate removal across vantage points: a frame whose [`Identity`] was already seen within a
//! time window is a copy (the same frame captured at the sender and at the receiver, or by a
//! mirror session too) and is counted once.
//!
//! Unlike `editcap -D`, which removes byte-identical frames within a window of frames, the match
//! is on the fields that survive the path between vantage points, so copies whose headers differ
//! (TTL, checksum, VLAN tag, encapsulation, capture length) are found too.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::identity::Identity;

/// Default window within which two frames of the same identity are one frame seen twice.
pub const DEFAULT_WINDOW_NS: i64 = 5_000_000;

/// Frames of a single input looked up before concluding it holds no copies (a capture set's
/// inputs are looked up to the end).
pub const PROBE_FRAMES: u64 = 200_000;

/// Frames and wire bytes removed as copies of frames another input (or the same one) kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Frames removed.
    pub frames: u64,
    /// Their original lengths.
    pub wire_bytes: u64,
}

/// What is kept of a frame seen: 32 bytes with its key, so that a window of frames stays in cache.
#[derive(Clone, Copy)]
struct Seen {
    ts: i64,
    head: u64,
    input: u32,
    head_len: u8,
}

impl Seen {
    fn of(id: &Identity, ts: i64, input: u32) -> Seen {
        Seen {
            ts,
            head: u64::from_le_bytes(id.head),
            input,
            head_len: id.head_len,
        }
    }

    /// Whether the payload bytes both copies captured agree.
    fn same_payload(&self, other: &Seen) -> bool {
        let n = u32::from(self.head_len.min(other.head_len)) * 8;
        let mask = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
        self.head & mask == other.head & mask
    }
}

/// The frames of the last one or two windows, in two generations: a frame is looked up in
/// both and added to the current one; when the current generation is a window old, it becomes
/// the previous one and the previous one is dropped whole. Every frame stays findable for at
/// least one window after it was seen, and nothing is removed one entry at a time.
pub struct Dedup {
    window_ns: i64,
    current: FxHashMap<u64, Seen>,
    previous: FxHashMap<u64, Seen>,
    current_since: i64,
    /// Stop looking after this many frames if none was a copy (`None`: look to the end).
    probe: Option<u64>,
    /// Frames looked up.
    checked: u64,
    /// Whether frames are still looked up (kept up to date by `is_copy`).
    looking: bool,
    /// `(kept input, removed input)` → what was removed.
    pub pairs: BTreeMap<(u32, u32), Removed>,
}

impl Dedup {
    /// A window of `window_ns` nanoseconds (0 removes nothing).
    pub fn new(window_ns: i64) -> Dedup {
        Dedup {
            window_ns,
            current: FxHashMap::default(),
            previous: FxHashMap::default(),
            current_since: i64::MIN,
            probe: None,
            checked: 0,
            looking: window_ns > 0,
            pairs: BTreeMap::new(),
        }
    }

    /// Stops looking after `frames` frames of which none was a copy: one capture from one place
    /// holds none, and looking costs a table lookup per frame.
    pub fn probe(mut self, frames: u64) -> Dedup {
        self.probe = Some(frames);
        self
    }

    /// Whether frames are still looked up.
    pub fn looking(&self) -> bool {
        self.window_ns > 0
            && self
                .probe
                .is_none_or(|n| self.checked < n || !self.pairs.is_empty())
    }

    /// Frames looked up.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Whether it stopped looking before the end (none of the first frames was a copy).
    pub fn stopped_early(&self) -> bool {
        self.window_ns > 0 && !self.looking()
    }

    /// The window in nanoseconds.
    pub fn window_ns(&self) -> i64 {
        self.window_ns
    }

    /// Whether the frame `id` seen at `ts` by `input` is a copy of one already kept; a copy is
    /// counted under its pair of inputs.
    pub fn is_copy(&mut self, id: &Identity, ts: Option<i64>, input: u32, wire_len: u32) -> bool {
        let Some(ts) = ts else { return false };
        if !self.looking {
            return false;
        }
        self.checked += 1;
        if self
            .probe
            .is_some_and(|n| self.checked >= n && self.pairs.is_empty())
        {
            // This frame is the last looked up, unless it is a copy.
            self.looking = false;
        }
        if ts.saturating_sub(self.current_since) >= self.window_ns {
            std::mem::swap(&mut self.current, &mut self.previous);
            self.current.clear();
            if ts.saturating_sub(self.current_since) >= 2 * self.window_ns {
                self.previous.clear();
            }
            self.current_since = ts;
        }
        let seen = Seen::of(id, ts, input);
        let earlier = self
            .current
            .get(&id.key)
            .or_else(|| self.previous.get(&id.key))
            .filter(|s| (ts - s.ts).abs() <= self.window_ns && s.same_payload(&seen));
        if let Some(s) = earlier {
            self.looking = self.window_ns > 0;
            let r = self.pairs.entry((s.input, input)).or_default();
            r.frames += 1;
            r.wire_bytes += u64::from(wire_len);
            return true;
        }
        self.current.insert(id.key, seen);
        false
    }

    /// Frames removed in all.
    pub fn total(&self) -> Removed {
        self.pairs
            .values()
            .fold(Removed::default(), |a, r| Removed {
                frames: a.frames + r.frames,
                wire_bytes: a.wire_bytes + r.wire_bytes,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(key: u64, head: &[u8]) -> Identity {
        let mut h = [0u8; 8];
        h[..head.len()].copy_from_slice(head);
        Identity {
            key,
            head: h,
            head_len: head.len() as u8,
        }
    }

    #[test]
    fn copies_within_the_window_are_removed_once() {
        let mut d = Dedup::new(1_000);
        assert!(!d.is_copy(&id(1, b"abcd"), Some(100), 0, 60));
        assert!(
            d.is_copy(&id(1, b"ab"), Some(600), 1, 60),
            "shorter capture of the same bytes"
        );
        assert!(d.is_copy(&id(1, b"abcd"), Some(700), 2, 60));
        assert!(
            !d.is_copy(&id(1, b"abXd"), Some(800), 1, 60),
            "other payload"
        );
        assert!(
            !d.is_copy(&id(2, b"abcd"), Some(800), 1, 60),
            "other header"
        );
        assert!(
            !d.is_copy(&id(1, b"abcd"), None, 1, 60),
            "no time, no window"
        );
        assert_eq!(
            d.pairs[&(0, 1)],
            Removed {
                frames: 1,
                wire_bytes: 60
            }
        );
        assert_eq!(d.pairs[&(0, 2)].frames, 1);
        assert_eq!(d.total().frames, 2);
    }

    #[test]
    fn a_probe_stops_looking_only_when_it_found_no_copy() {
        let mut d = Dedup::new(1_000).probe(3);
        for t in 0..3 {
            assert!(!d.is_copy(&id(t as u64, b""), Some(t), 0, 60));
        }
        assert!(d.stopped_early());
        assert!(
            !d.is_copy(&id(2, b""), Some(3), 1, 60),
            "no longer looked up"
        );
        assert_eq!(d.checked(), 3);
        let mut e = Dedup::new(1_000).probe(2);
        assert!(!e.is_copy(&id(1, b""), Some(0), 0, 60));
        assert!(e.is_copy(&id(1, b""), Some(1), 1, 60));
        assert!(!e.is_copy(&id(5, b""), Some(2), 0, 60));
        assert!(
            e.is_copy(&id(5, b""), Some(3), 1, 60),
            "copies found: keeps looking"
        );
        assert!(!e.stopped_early());
    }

    #[test]
    fn the_window_expires() {
        let mut d = Dedup::new(1_000);
        assert!(!d.is_copy(&id(1, b""), Some(0), 0, 60));
        assert!(!d.is_copy(&id(9, b""), Some(5_000), 0, 60));
        assert!(
            !d.is_copy(&id(1, b""), Some(5_001), 1, 60),
            "older than the window"
        );
        assert!(d.current.len() + d.previous.len() <= 2);
        // Found for a whole window after it was seen, across a change of generation.
        let mut g = Dedup::new(1_000);
        assert!(!g.is_copy(&id(7, b""), Some(10_999), 0, 60));
        assert!(!g.is_copy(&id(8, b""), Some(11_500), 0, 60));
        assert!(g.is_copy(&id(7, b""), Some(11_999), 1, 60));
        let mut off = Dedup::new(0);
        assert!(!off.is_copy(&id(1, b""), Some(0), 0, 60));
        assert!(!off.is_copy(&id(1, b""), Some(0), 1, 60));
    }
}
