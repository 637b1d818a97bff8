//! Duplicate removal across vantage points: a frame whose [`Identity`] was already seen within a
//! time window is a copy (the same frame captured at the sender and at the receiver, or by a
//! mirror session too) and is counted once.
//!
//! Unlike `editcap -D`, which removes byte-identical frames within a window of frames, the match
//! is on the fields that survive the path between vantage points, so copies whose headers differ
//! (TTL, checksum, VLAN tag, encapsulation, capture length) are found too.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;

use super::identity::Identity;

/// Default window within which two frames of the same identity are one frame seen twice.
pub const DEFAULT_WINDOW_NS: i64 = 50_000_000;

/// Frames and wire bytes removed as copies of frames another input (or the same one) kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    /// Frames removed.
    pub frames: u64,
    /// Their original lengths.
    pub wire_bytes: u64,
}

#[derive(Clone, Copy)]
struct Seen {
    ts: i64,
    input: u32,
    id: Identity,
}

/// The window of recent identities.
pub struct Dedup {
    window_ns: i64,
    recent: FxHashMap<u64, Seen>,
    order: VecDeque<(i64, u64)>,
    /// `(kept input, removed input)` → what was removed.
    pub pairs: BTreeMap<(u32, u32), Removed>,
}

impl Dedup {
    /// A window of `window_ns` nanoseconds (0 removes nothing).
    pub fn new(window_ns: i64) -> Dedup {
        Dedup {
            window_ns,
            recent: FxHashMap::default(),
            order: VecDeque::new(),
            pairs: BTreeMap::new(),
        }
    }

    /// The window in nanoseconds.
    pub fn window_ns(&self) -> i64 {
        self.window_ns
    }

    /// Whether the frame `id` seen at `ts` by `input` is a copy of one already kept; a copy is
    /// counted under its pair of inputs.
    pub fn is_copy(&mut self, id: &Identity, ts: Option<i64>, input: u32, wire_len: u32) -> bool {
        let Some(ts) = ts else { return false };
        if self.window_ns <= 0 {
            return false;
        }
        while let Some(&(t, key)) = self.order.front() {
            if t >= ts - self.window_ns {
                break;
            }
            self.order.pop_front();
            if self.recent.get(&key).is_some_and(|s| s.ts == t) {
                self.recent.remove(&key);
            }
        }
        if let Some(s) = self.recent.get(&id.key) {
            if (ts - s.ts).abs() <= self.window_ns && s.id.same_payload(id) {
                let r = self.pairs.entry((s.input, input)).or_default();
                r.frames += 1;
                r.wire_bytes += u64::from(wire_len);
                return true;
            }
        }
        self.recent.insert(id.key, Seen { ts, input, id: *id });
        self.order.push_back((ts, id.key));
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
    fn the_window_expires() {
        let mut d = Dedup::new(1_000);
        assert!(!d.is_copy(&id(1, b""), Some(0), 0, 60));
        assert!(!d.is_copy(&id(9, b""), Some(5_000), 0, 60));
        assert!(
            !d.is_copy(&id(1, b""), Some(5_001), 1, 60),
            "older than the window"
        );
        assert!(d.recent.len() <= 2);
        let mut off = Dedup::new(0);
        assert!(!off.is_copy(&id(1, b""), Some(0), 0, 60));
        assert!(!off.is_copy(&id(1, b""), Some(0), 1, 60));
    }
}
