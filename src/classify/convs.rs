//! The classifier's conversations while flows end: their keys and sums, found by key.
//!
//! A vector of keys and sums, and an index of positions in it (4 bytes and a control byte per
//! bucket) hashed from the key each entry holds. A hash map of keys and sums (177 bytes a
//! bucket) kept every bucket of its capacity resident (entries land anywhere in it), both tables
//! at once while it grew, and its contents a third time when it was turned into a sorted
//! vector; the vector holds what it has, grows by reallocation, and is sorted in place.
//!
//! The sums are held narrow while they fit ([`Held`]): an entry is 112 bytes instead of 176.

use hashbrown::HashTable;

use super::ConvStats;
use crate::flow::Flow;
use crate::vocab::conv::ConvKey;

/// A conversation's sums as held: each count as `u32` while every one fits (64 bytes), else
/// [`ConvStats`] itself, boxed (a conversation of 4 GiB or more in a direction, or of more than
/// 4 billion flows). Every figure stays exact.
#[derive(Debug)]
enum Held {
    /// Flows, then each per-direction count of [`ConvStats`] in its order, both directions.
    Narrow {
        counts: [u32; 15],
        web: bool,
        authd: bool,
    },
    Wide(Box<ConvStats>),
}

impl Default for Held {
    fn default() -> Self {
        Held::Narrow {
            counts: [0; 15],
            web: false,
            authd: false,
        }
    }
}

/// The per-direction counts of `s`, in the order [`Held::Narrow`] holds them after the flows.
fn pairs(s: &ConvStats) -> [[u64; 2]; 7] {
    [
        s.packets,
        s.wire_bytes,
        s.payload_bytes,
        s.retransmitted_bytes,
        s.out_of_order_bytes,
        s.not_captured_bytes,
        s.acknowledged_bytes,
    ]
}

impl Held {
    /// The sums.
    fn get(&self) -> ConvStats {
        match self {
            Held::Wide(s) => **s,
            Held::Narrow { counts, web, authd } => {
                let c = |i: usize| u64::from(counts[i]);
                let pair = |k: usize| [c(1 + 2 * k), c(2 + 2 * k)];
                ConvStats {
                    flows: c(0),
                    packets: pair(0),
                    wire_bytes: pair(1),
                    payload_bytes: pair(2),
                    retransmitted_bytes: pair(3),
                    out_of_order_bytes: pair(4),
                    not_captured_bytes: pair(5),
                    acknowledged_bytes: pair(6),
                    web: *web,
                    authd: *authd,
                }
            }
        }
    }

    /// `s` held narrow when every count fits a `u32`.
    fn of(s: ConvStats) -> Held {
        let mut counts = [0u32; 15];
        let all = std::iter::once(s.flows).chain(pairs(&s).into_iter().flatten());
        for (slot, v) in counts.iter_mut().zip(all) {
            match u32::try_from(v) {
                Ok(v) => *slot = v,
                Err(_) => return Held::Wide(Box::new(s)),
            }
        }
        Held::Narrow {
            counts,
            web: s.web,
            authd: s.authd,
        }
    }

    /// Changes the sums with `f`.
    fn update(&mut self, f: impl FnOnce(&mut ConvStats)) {
        let mut s = self.get();
        f(&mut s);
        *self = Held::of(s);
    }
}

/// The hash of entry `at` (0 past the end, which the index never holds).
fn entry_hash(entries: &[(ConvKey, Held)], at: u32) -> u64 {
    entries.get(at as usize).map_or(0, |e| e.0.table_hash())
}

/// Whether entry `at` is `key`'s.
fn is_key(entries: &[(ConvKey, Held)], at: u32, key: &ConvKey) -> bool {
    entries.get(at as usize).is_some_and(|e| e.0 == *key)
}

/// Conversations by key, with their sums.
#[derive(Default)]
pub struct Convs {
    index: HashTable<u32>,
    entries: Vec<(ConvKey, Held)>,
}

impl Convs {
    /// Conversations held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The position of `key`'s entry, if it has one.
    fn find(&self, hash: u64, key: &ConvKey) -> Option<usize> {
        let entries = &self.entries;
        self.index
            .find(hash, |&i| is_key(entries, i, key))
            .map(|&i| i as usize)
    }

    /// Adds an ended flow to `key`'s sums.
    pub fn add(&mut self, key: ConvKey, f: &Flow) {
        self.entry(key).update(|s| s.add(f));
    }

    /// Adds another conversation's sums to `key`'s.
    pub fn merge(&mut self, key: ConvKey, o: &ConvStats) {
        self.entry(key).update(|s| s.merge(o));
    }

    /// The sums of `key`, created empty when it has none.
    fn entry(&mut self, key: ConvKey) -> &mut Held {
        let hash = key.table_hash();
        let at = match self.find(hash, &key) {
            Some(at) => at,
            None => {
                let at = self.entries.len();
                self.entries.push((key, Held::default()));
                let entries = &self.entries;
                self.index
                    .insert_unique(hash, at as u32, |&i| entry_hash(entries, i));
                at
            }
        };
        &mut self.entries[at].1
    }

    /// Takes `key`'s sums out; the last entry moves into its place.
    pub fn remove(&mut self, key: &ConvKey) -> Option<ConvStats> {
        let entries = &self.entries;
        let at = self
            .index
            .find_entry(key.table_hash(), |&i| is_key(entries, i, key))
            .ok()?
            .remove()
            .0;
        let last = (self.entries.len() - 1) as u32;
        if at != last {
            let hash = entry_hash(&self.entries, last);
            if let Some(i) = self.index.find_mut(hash, |&i| i == last) {
                *i = at;
            }
        }
        Some(self.entries.swap_remove(at as usize).1.get())
    }

    /// The entries, sorted by key (the index is dropped first).
    pub fn into_sorted(self) -> Vec<(ConvKey, ConvStats)> {
        drop(self.index);
        let mut entries = self.entries;
        // Keys are distinct: an unstable sort orders them as a stable one, without its buffer
        // of half the entries. Sorted last first, the entries are taken from the end and the
        // held ones give their memory back as they go.
        entries.sort_unstable_by_key(|e| std::cmp::Reverse(e.0));
        let mut out = Vec::with_capacity(entries.len());
        while let Some((key, held)) = entries.pop() {
            if entries.len() >= 4096 && entries.len() <= entries.capacity() / 2 {
                entries.shrink_to_fit();
            }
            out.push((key, held.get()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::conv::Peer;
    use crate::vocab::ports::TrafficClass;
    use crate::vocab::wire::IpProtocol;
    use std::net::{IpAddr, Ipv4Addr};

    fn key(n: u32) -> ConvKey {
        ConvKey {
            proto: IpProtocol::Tcp,
            client: Peer::Addr(IpAddr::V4(Ipv4Addr::from(n))),
            server: Peer::Addr(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
            class: TrafficClass::Vmotion,
            vlan: None,
            shown: None,
        }
    }

    #[test]
    fn sums_stay_exact_narrow_or_wide() {
        assert!(std::mem::size_of::<(ConvKey, Held)>() <= 112);
        let mut s = ConvStats {
            flows: 3,
            web: true,
            ..ConvStats::default()
        };
        s.payload_bytes = [u64::from(u32::MAX), 7];
        s.acknowledged_bytes = [1, 2];
        assert!(matches!(Held::of(s), Held::Narrow { .. }));
        assert_eq!(Held::of(s).get(), s);
        let mut h = Held::of(s);
        h.update(|s| s.payload_bytes[0] += 1);
        assert!(matches!(h, Held::Wide(_)));
        s.payload_bytes[0] += 1;
        assert_eq!(h.get(), s);
        let big = ConvStats {
            flows: 1 << 40,
            ..ConvStats::default()
        };
        assert_eq!(Held::of(big).get(), big);
    }

    #[test]
    fn entries_are_found_after_removals_move_others() {
        let mut c = Convs::default();
        let mut model = std::collections::BTreeMap::new();
        for n in 0..2_000u32 {
            c.entry(key(n % 700)).update(|s| s.flows += u64::from(n));
            *model.entry(key(n % 700)).or_insert(0) += u64::from(n);
            if n % 3 == 0 {
                let k = key((n * 7) % 700);
                assert_eq!(c.remove(&k).map(|s| s.flows), model.remove(&k));
            }
        }
        assert_eq!(c.len(), model.len());
        let sorted = c.into_sorted();
        let got: Vec<(ConvKey, u64)> = sorted.iter().map(|e| (e.0, e.1.flows)).collect();
        let want: Vec<(ConvKey, u64)> = model.into_iter().collect();
        assert_eq!(got, want);
    }
}
