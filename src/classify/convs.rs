//! The classifier's conversations while flows end: their keys and sums, found by key.
//!
//! A vector of keys and sums, and an index of positions in it (4 bytes and a control byte per
//! bucket) hashed from the key each entry holds. A hash map of keys and sums (177 bytes a
//! bucket) kept every bucket of its capacity resident (entries land anywhere in it), both tables
//! at once while it grew, and its contents a third time when it was turned into a sorted
//! vector; the vector holds what it has, grows by reallocation, and is sorted in place.

use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use super::ConvStats;
use crate::vocab::conv::ConvKey;

fn key_hash(key: &ConvKey) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(key)
}

/// The hash of entry `at` (0 past the end, which the index never holds).
fn entry_hash(entries: &[(ConvKey, ConvStats)], at: u32) -> u64 {
    entries.get(at as usize).map_or(0, |e| key_hash(&e.0))
}

/// Conversations by key, with their sums.
#[derive(Default)]
pub struct Convs {
    index: HashTable<u32>,
    entries: Vec<(ConvKey, ConvStats)>,
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
            .find(hash, |&i| {
                entries.get(i as usize).is_some_and(|e| e.0 == *key)
            })
            .map(|&i| i as usize)
    }

    /// The sums of `key`, created empty when it has none.
    pub fn entry(&mut self, key: ConvKey) -> &mut ConvStats {
        let hash = key_hash(&key);
        let at = match self.find(hash, &key) {
            Some(at) => at,
            None => {
                let at = self.entries.len();
                self.entries.push((key, ConvStats::default()));
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
            .find_entry(key_hash(key), |&i| {
                entries.get(i as usize).is_some_and(|e| e.0 == *key)
            })
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
        Some(self.entries.swap_remove(at as usize).1)
    }

    /// The entries, sorted by key (the index is dropped first).
    pub fn into_sorted(self) -> Vec<(ConvKey, ConvStats)> {
        drop(self.index);
        let mut entries = self.entries;
        // Keys are distinct: an unstable sort orders them as a stable one, without its buffer
        // of half the entries.
        entries.sort_unstable_by_key(|e| e.0);
        entries
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
    fn entries_are_found_after_removals_move_others() {
        let mut c = Convs::default();
        let mut model = std::collections::BTreeMap::new();
        for n in 0..2_000u32 {
            c.entry(key(n % 700)).flows += u64::from(n);
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
