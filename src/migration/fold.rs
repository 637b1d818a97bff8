//! A bound on the conversations held one by one: when more are open than the bound, the smallest
//! whose flows have all ended are folded into aggregates that keep every total exact.
//!
//! In: each new conversation (to learn which addresses may be vmks), and the timeline and
//! classifier holding the conversations. Out: the same totals, networks, classes, per-vmk and
//! per-migration bytes as without the bound, with the counts of what was folded.
//!
//! An aggregate keeps what locating a conversation needs: protocol, class, VLAN, what its
//! payload showed (HTTP or TLS, the authd banner), and each end's address when that address is
//! a vmk of the given inventory or could be inferred one (it carried vSphere traffic); any other
//! end becomes a folded peer that is a VM or not by its MAC. The largest conversations are kept
//! one by one: a folded conversation had at most [`Folder::largest_folded_bytes`] payload bytes.

use std::net::IpAddr;

use rustc_hash::FxHashSet;

use super::timeline::{SeriesKind, Timeline};
use crate::classify::Classifier;
use crate::classify::inventory::VmkInventory;
use crate::flow::FlowTable;
use crate::vocab::conv::{ConvKey, Peer, Shown};
use crate::vocab::ports::TrafficClass;

/// Addresses remembered as possible vmks for inference (ends of vSphere traffic); beyond them,
/// an address is never inferred a vmk.
pub const MAX_VMK_CANDIDATES: usize = 262_144;

/// Decides what to fold, and counts it.
pub struct Folder {
    max: usize,
    /// Fold when this many conversations are held (at least `max`; raised when too few could
    /// be folded, so that folding stays rare).
    trigger: usize,
    candidates: FxHashSet<IpAddr>,
    /// Addresses folded into peers, as a filter of [`FOLDED_FILTER_BITS`] bits (two per address):
    /// an address not in it was never folded; one in it may have been.
    folded_addrs: Vec<u64>,
    /// Conversations folded (one that came back and was folded again counts twice).
    pub folded: u64,
    /// Most payload bytes of a conversation when it was folded.
    pub largest_folded_bytes: u64,
    /// Ends of vSphere conversations whose address came beyond [`MAX_VMK_CANDIDATES`]: such
    /// addresses are never inferred vmks.
    pub candidates_not_kept: u64,
    /// Addresses that first carried vSphere traffic after folding had begun and may have been
    /// folded before: that traffic counts as that of an address that is no vmk.
    pub late_candidates: u64,
}

impl Folder {
    /// A folder holding at most `max` conversations one by one.
    pub fn new(max: usize) -> Folder {
        let max = max.max(2);
        Folder {
            max,
            trigger: max,
            candidates: FxHashSet::default(),
            folded_addrs: Vec::new(),
            folded: 0,
            largest_folded_bytes: 0,
            candidates_not_kept: 0,
            late_candidates: 0,
        }
    }

    /// Learns from a new conversation which of its ends may be vmks (when they are inferred:
    /// `inferring`).
    pub fn observe(&mut self, key: &ConvKey, inferring: bool) {
        if !inferring || !vsphere_class(key.class) {
            return;
        }
        for ip in [key.client, key.server].iter().filter_map(|p| p.ip()) {
            if self.candidates.contains(&ip) {
                continue;
            }
            if self.candidates.len() >= MAX_VMK_CANDIDATES {
                self.candidates_not_kept += 1;
                continue;
            }
            self.candidates.insert(ip);
            if self.folded > 0 && self.maybe_folded(ip) {
                self.late_candidates += 1;
            }
        }
    }

    /// What the report should say of the folding.
    pub fn warnings(&self, max: usize) -> Vec<String> {
        let mut w = Vec::new();
        if self.folded > 0 {
            w.push(format!(
                "more than {max} conversations were open: {} of the smallest (at most {} payload \
                 bytes each) were folded into aggregates, which keep every total; raise \
                 --max-conversations to keep them one by one",
                self.folded, self.largest_folded_bytes
            ));
        }
        if self.candidates_not_kept > 0 {
            w.push(format!(
                "vSphere traffic reached {} more ends of conversations beyond the \
                 {MAX_VMK_CANDIDATES} addresses that inference remembers: those addresses are \
                 not inferred vmks; give an inventory",
                self.candidates_not_kept
            ));
        }
        if self.late_candidates > 0 {
            w.push(format!(
                "{} addresses first carried vSphere traffic after conversations were folded, \
                 and traffic of theirs may have been folded before, as that of addresses that \
                 are no vmk: their vmks' totals may be short; give an inventory, or raise \
                 --max-conversations",
                self.late_candidates
            ));
        }
        w
    }

    /// The filter's two bits for an address.
    fn bits(ip: IpAddr) -> [usize; 2] {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(ip);
        let h = h ^ (h >> 29);
        [
            h as usize % FOLDED_FILTER_BITS,
            (h >> 32) as usize % FOLDED_FILTER_BITS,
        ]
    }

    fn note_folded(&mut self, ip: IpAddr) {
        if self.folded_addrs.is_empty() {
            self.folded_addrs = vec![0; FOLDED_FILTER_BITS / 64];
        }
        for b in Self::bits(ip) {
            if let Some(w) = self.folded_addrs.get_mut(b / 64) {
                *w |= 1 << (b % 64);
            }
        }
    }

    fn maybe_folded(&self, ip: IpAddr) -> bool {
        Self::bits(ip).iter().all(|&b| {
            self.folded_addrs
                .get(b / 64)
                .is_some_and(|w| w & (1 << (b % 64)) != 0)
        })
    }

    /// Whether inference may make `ip` a vmk.
    pub fn may_be_vmk(&self, ip: IpAddr) -> bool {
        self.candidates_not_kept == 0 || self.candidates.contains(&ip)
    }

    fn kept_as_address(&self, ip: IpAddr, given: Option<&VmkInventory>) -> bool {
        match given {
            Some(inv) => inv.lookup(ip, None).is_some(),
            None => self.candidates.contains(&ip),
        }
    }

    /// Whether folding would turn an end of `key` into a folded peer: an address that is no
    /// (possible) vmk. A conversation between two (possible) vmks has nothing to fold.
    fn foldable(&self, key: &ConvKey, given: Option<&VmkInventory>) -> bool {
        [key.client, key.server]
            .iter()
            .filter_map(|p| p.ip())
            .any(|ip| !self.kept_as_address(ip, given))
    }

    /// Folds when the timeline holds more conversations than the bound: the smallest (by payload
    /// bytes, then key) until half the bound is left, except data conversations with live flows.
    /// Live flows of a folded conversation are tagged with its aggregate, so that what they carry
    /// from then on, and their sums when they end, go there. `given` is the user's inventory
    /// (without one, vmks are inferred at the end); `newest` is the conversation just opened,
    /// which stays (the packet that opened it is still to be counted under its id).
    pub fn maybe_fold(
        &mut self,
        tl: &mut Timeline,
        cls: &mut Classifier,
        table: &mut FlowTable,
        given: Option<&VmkInventory>,
        newest: u32,
    ) {
        let held = tl.conversations();
        if held <= self.trigger {
            return;
        }
        // Each victim is its payload and id (16 bytes, not 64 with its key): the key is read
        // from the series when payloads tie. A conversation whose ends both stay addresses
        // cannot be folded: it is left out here rather than skipped in the loop.
        let series = &tl.series;
        let mut victims: Vec<(u64, u32)> = series
            .iter()
            .enumerate()
            // A data conversation with live flows stays: what their payload will show (HTTP
            // or TLS, the authd banner) decides whether session detection may use it.
            .filter(|&(id, s)| {
                s.kind == SeriesKind::Conversation
                    && id != newest as usize
                    && (s.live_flows == 0 || !s.key.class.is_data())
                    && self.foldable(&s.key, given)
            })
            .map(|(id, s)| (s.payload, id as u32))
            .collect();
        let key_of = |id: u32| series.get(id as usize).map(|s| s.key);
        victims.sort_unstable_by(|a, b| {
            (a.0.cmp(&b.0))
                .then_with(|| key_of(a.1).cmp(&key_of(b.1)))
                .then(a.1.cmp(&b.1))
        });
        let want = held - self.max / 2;
        let mut moves = Vec::new();
        for (bytes, id) in victims {
            if moves.len() >= want {
                break;
            }
            let Some(key) = key_of(id) else {
                continue;
            };
            let end = |p: Peer| match p.ip() {
                Some(ip) if !self.kept_as_address(ip, given) => Peer::Folded {
                    vmware_mac: cls.vmware_mac(ip),
                },
                _ => p,
            };
            let (client, server) = (end(key.client), end(key.server));
            for (was, now) in [(key.client, client), (key.server, server)] {
                if let (Some(ip), None) = (was.ip(), now.ip()) {
                    self.note_folded(ip);
                }
            }
            let stats = cls.take(&key).unwrap_or_default();
            let agg = ConvKey {
                client,
                server,
                shown: Some(Shown {
                    web: stats.web,
                    authd: stats.authd,
                }),
                ..key
            };
            cls.merge(agg, &stats);
            self.largest_folded_bytes = self.largest_folded_bytes.max(bytes);
            self.folded += 1;
            moves.push((id, agg));
        }
        let into = tl.fold(&moves);
        table.retag(&|tag| into.get(&tag).copied());
        // Conversations that could not be folded (vmks at both ends) stay; fold again once half
        // the bound more have come, so that each new conversation costs a bounded share of the
        // folding.
        self.trigger = self.max.max(tl.conversations() + self.max / 2);
    }
}

/// Bits of the filter of folded addresses (1 MiB).
const FOLDED_FILTER_BITS: usize = 1 << 23;

/// Classes whose ends inference may make vmks (see [`crate::classify::infer`]): the data
/// classes and the heartbeat.
fn vsphere_class(c: TrafficClass) -> bool {
    c.is_data() || c == TrafficClass::Heartbeat
}
