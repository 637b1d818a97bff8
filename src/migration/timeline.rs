//! Payload bytes over time per conversation, and RARP sightings: what migration windows and
//! phases are cut from.
//!
//! In: per packet, the conversation id of its flow, its time, direction and payload bytes (and
//! the bytes its acknowledgement number credits to a direction never captured); every RARP
//! frame. Out: sparse per-conversation series of fixed-width bins (only bins with bytes are
//! stored), so memory follows active time × conversations, not packets.

use hashbrown::HashTable;
use rustc_hash::FxHashMap;

use crate::vocab::Mac;
use crate::vocab::conv::ConvKey;

/// Width of a bin.
pub const BIN_NS: i64 = 1_000_000;

/// Most RARP frames remembered; more are counted only.
pub const MAX_RARPS: usize = 100_000;

/// Bytes of one conversation in one bin; index 0 is client → server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bin {
    /// Bin number: time / [`BIN_NS`].
    pub idx: i64,
    /// Payload bytes per direction.
    pub bytes: [u64; 2],
}

/// A conversation's bins with bytes, ascending by index.
///
/// Held narrow while they fit: each bin 12 bytes (its index less the first bin's, and the
/// bytes of each direction, as `u32`), instead of [`Bin`]'s 24, and grown by half its length
/// at a time instead of doubled. The first bin that does not fit (4 GiB or more in one
/// direction of one 1 ms bin, a bin before the first or 49 days after it) turns the series
/// wide ([`Bin`]s) for good: every figure stays exact.
#[derive(Debug, Clone, Default)]
pub struct Bins {
    base: i64,
    narrow: Vec<[u32; 3]>,
    // Boxed: 8 bytes in every series instead of 24, and a wide series is rare.
    #[allow(clippy::box_collection)]
    wide: Option<Box<Vec<Bin>>>,
}

impl Bins {
    fn narrow_bin(base: i64, b: &[u32; 3]) -> Bin {
        Bin {
            idx: base + i64::from(b[0]),
            bytes: [u64::from(b[1]), u64::from(b[2])],
        }
    }

    /// Bins held.
    pub fn len(&self) -> usize {
        self.wide.as_ref().map_or(self.narrow.len(), |w| w.len())
    }

    /// Whether no bin is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bins, ascending.
    pub fn iter(&self) -> impl Iterator<Item = Bin> + '_ {
        self.starting_at(i64::MIN)
    }

    /// The bins from index `first` on, ascending.
    pub fn starting_at(&self, first: i64) -> impl Iterator<Item = Bin> + '_ {
        let base = self.base;
        let (wide, narrow): (&[Bin], &[[u32; 3]]) = match &self.wide {
            Some(w) => (&w[w.partition_point(|b| b.idx < first)..], &[]),
            None => {
                let at = self
                    .narrow
                    .partition_point(|b| base + i64::from(b[0]) < first);
                (&[], &self.narrow[at..])
            }
        };
        wide.iter()
            .copied()
            .chain(narrow.iter().map(move |b| Self::narrow_bin(base, b)))
    }

    /// From ascending bins with distinct indices.
    fn from_sorted(bins: Vec<Bin>) -> Bins {
        let mut out = Bins::default();
        for b in bins {
            out.push(b);
        }
        out
    }

    fn widen(&mut self) -> &mut Vec<Bin> {
        let base = self.base;
        let narrow = std::mem::take(&mut self.narrow);
        self.wide.get_or_insert_with(|| {
            Box::new(narrow.iter().map(|b| Self::narrow_bin(base, b)).collect())
        })
    }

    fn narrow_of(&self, b: &Bin) -> Option<[u32; 3]> {
        let off = u32::try_from(b.idx.checked_sub(self.base)?).ok()?;
        Some([
            off,
            u32::try_from(b.bytes[0]).ok()?,
            u32::try_from(b.bytes[1]).ok()?,
        ])
    }

    /// Appends a bin after the last.
    fn push(&mut self, b: Bin) {
        if self.wide.is_none() && self.narrow.is_empty() {
            self.base = b.idx;
        }
        match (self.wide.is_none(), self.narrow_of(&b)) {
            (true, Some(n)) => {
                let len = self.narrow.len();
                if len == self.narrow.capacity() {
                    self.narrow.reserve_exact((len / 2).max(4));
                }
                self.narrow.push(n);
            }
            _ => self.widen().push(b),
        }
    }

    /// Adds `payload` bytes of direction `d` to bin `idx`.
    fn add(&mut self, idx: i64, d: usize, payload: u64) {
        let last = match &self.wide {
            Some(w) => w.last().map(|b| b.idx),
            None => self.narrow.last().map(|b| self.base + i64::from(b[0])),
        };
        let mut bytes = [0; 2];
        bytes[d] = payload;
        match last {
            Some(l) if l == idx => {
                if self.wide.is_none() {
                    let fits = self.narrow.last_mut().and_then(|b| {
                        let v = b.get_mut(1 + d)?;
                        *v = u32::try_from(u64::from(*v).checked_add(payload)?).ok()?;
                        Some(())
                    });
                    if fits.is_some() {
                        return;
                    }
                }
                if let Some(b) = self.widen().last_mut() {
                    b.bytes[d] += payload;
                }
            }
            Some(l) if l > idx => {
                // Out of order: find or insert its bin.
                let w = self.widen();
                match w.binary_search_by_key(&idx, |b| b.idx) {
                    Ok(i) => w[i].bytes[d] += payload,
                    Err(i) => w.insert(i, Bin { idx, bytes }),
                }
            }
            _ => self.push(Bin { idx, bytes }),
        }
    }
}

/// One conversation's bins, in time order.
#[derive(Debug, Clone)]
pub struct Series {
    /// The conversation.
    pub key: ConvKey,
    /// Bins with bytes, ascending.
    pub bins: Bins,
    /// Capture loss and bytes taken from acknowledgements, allocated with the first of them:
    /// most conversations have neither (8 bytes instead of two vectors' 48).
    rare: Option<Box<Rare>>,
    /// A conversation, an aggregate of folded ones, or a free slot.
    pub kind: SeriesKind,
    /// Payload bytes in `bins`.
    pub payload: u64,
    /// Flows of the conversation live in the flow table.
    pub live_flows: u32,
}

/// What few series hold: see [`Series::not_captured`] and [`Series::acknowledged`].
#[derive(Debug, Clone, Default)]
struct Rare {
    not_captured: Vec<(i64, i64)>,
    acknowledged: Vec<(i64, u64)>,
}

impl Series {
    /// Changes of the sequence space never seen (TCP capture loss), by bin: bytes skipped less
    /// bytes filled in later, in capture order.
    pub fn not_captured(&self) -> &[(i64, i64)] {
        self.rare.as_ref().map_or(&[], |r| &r.not_captured)
    }

    /// Payload bytes taken from acknowledgements (a direction whose own segments were not
    /// captured), by bin, in capture order; also in `bins`. Empty when both directions were
    /// captured.
    pub fn acknowledged(&self) -> &[(i64, u64)] {
        self.rare.as_ref().map_or(&[], |r| &r.acknowledged)
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Appends another series' capture loss and acknowledged bytes (a conversation folded).
    fn absorb_rare(&mut self, other: Option<Box<Rare>>) {
        if let Some(o) = other {
            let r = self.rare_mut();
            r.not_captured.extend(o.not_captured);
            r.acknowledged.extend(o.acknowledged);
        }
    }

    fn new(key: ConvKey, kind: SeriesKind) -> Series {
        Series {
            key,
            bins: Bins::default(),
            rare: None,
            kind,
            payload: 0,
            live_flows: 0,
        }
    }
}

/// What a [`Series`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesKind {
    /// One conversation.
    Conversation,
    /// Conversations folded together when the table was full.
    Aggregate,
    /// Nothing: a conversation folded away; the slot serves the next new one.
    Free,
}

/// A RARP frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rarp {
    /// When.
    pub ts: i64,
    /// Sender MAC (the VM's, after a vMotion).
    pub mac: Mac,
    /// VLAN it was seen on.
    pub vlan: Option<u16>,
}

/// Whether series `id` is that of `key`.
fn is_key(series: &[Series], id: u32, key: &ConvKey) -> bool {
    series.get(id as usize).is_some_and(|s| s.key == *key)
}

/// All series and RARP sightings.
#[derive(Debug, Default)]
pub struct Timeline {
    /// The id of every conversation and aggregate, found by the key its series holds (4 bytes
    /// and a control byte per entry).
    ids: HashTable<u32>,
    /// Series by id.
    pub series: Vec<Series>,
    /// RARP frames, in capture order.
    pub rarps: Vec<Rarp>,
    /// RARP frames beyond [`MAX_RARPS`].
    pub rarps_not_kept: u64,
    /// When data-class flows began, with their conversation id (at most [`MAX_STARTS`]).
    pub starts: Vec<(i64, u32)>,
    /// Free slots of `series`.
    free: Vec<u32>,
    /// Aggregates among `series`.
    aggregates: usize,
}

/// Most flow starts remembered.
pub const MAX_STARTS: usize = 100_000;

impl Timeline {
    /// The id of a conversation, created on first use (in a free slot when there is one).
    pub fn id_for(&mut self, key: ConvKey) -> u32 {
        self.id_of(key, SeriesKind::Conversation).0
    }

    /// [`Timeline::id_for`], and whether the conversation was new.
    pub fn open(&mut self, key: ConvKey) -> (u32, bool) {
        self.id_of(key, SeriesKind::Conversation)
    }

    /// The id of a series, and whether it was created now.
    fn id_of(&mut self, key: ConvKey, kind: SeriesKind) -> (u32, bool) {
        let hash = key.table_hash();
        let series = &self.series;
        if let Some(id) = self.ids.find(hash, |&i| is_key(series, i, &key)) {
            return (*id, false);
        }
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(s) = self.series.get_mut(id as usize) {
                    *s = Series::new(key, kind);
                }
                id
            }
            None => {
                self.series.push(Series::new(key, kind));
                (self.series.len() - 1) as u32
            }
        };
        if kind == SeriesKind::Aggregate {
            self.aggregates += 1;
        }
        let series = &self.series;
        self.ids.insert_unique(hash, id, |&i| {
            series.get(i as usize).map_or(0, |s| s.key.table_hash())
        });
        (id, true)
    }

    /// Conversations held one by one (not counting aggregates).
    pub fn conversations(&self) -> usize {
        self.series.len() - self.free.len() - self.aggregates
    }

    /// A flow of series `id` entered the flow table.
    pub fn flow_tagged(&mut self, id: u32) {
        if let Some(s) = self.series.get_mut(id as usize) {
            s.live_flows += 1;
        }
    }

    /// A flow of series `id` left the flow table.
    pub fn flow_ended(&mut self, id: u32) {
        if let Some(s) = self.series.get_mut(id as usize) {
            s.live_flows = s.live_flows.saturating_sub(1);
        }
    }

    /// The key of the aggregate a flow tagged `id` now counts in, when its conversation was
    /// folded.
    pub fn aggregate_of(&self, id: u32) -> Option<ConvKey> {
        self.series
            .get(id as usize)
            .filter(|s| s.kind == SeriesKind::Aggregate)
            .map(|s| s.key)
    }

    /// Folds conversations into aggregates: each `(id, key)` moves conversation `id`'s bins into
    /// the aggregate `key` (created when new), and its slot is freed. Flow starts follow.
    /// Returns the aggregate of each conversation folded, for the live flows' tags.
    pub fn fold(&mut self, moves: &[(u32, ConvKey)]) -> FxHashMap<u32, u32> {
        let mut into: FxHashMap<u32, u32> = FxHashMap::default();
        let mut staged: FxHashMap<u32, (Series, Vec<Bin>)> = FxHashMap::default();
        for &(id, key) in moves {
            let (agg, _) = self.id_of(key, SeriesKind::Aggregate);
            let Some(s) = self.series.get_mut(id as usize) else {
                continue;
            };
            let old = std::mem::replace(s, Series::new(s.key, SeriesKind::Free));
            if let Ok(e) = self.ids.find_entry(old.key.table_hash(), |&i| i == id) {
                e.remove();
            }
            self.free.push(id);
            into.insert(id, agg);
            let (st, st_bins) = staged
                .entry(agg)
                .or_insert_with(|| (Series::new(key, SeriesKind::Aggregate), Vec::new()));
            st_bins.extend(old.bins.iter());
            st.absorb_rare(old.rare);
            st.payload += old.payload;
            st.live_flows += old.live_flows;
        }
        let mut aggs: Vec<(u32, (Series, Vec<Bin>))> = staged.into_iter().collect();
        aggs.sort_by_key(|(id, _)| *id);
        for (agg, (mut st, mut st_bins)) in aggs {
            let Some(s) = self.series.get_mut(agg as usize) else {
                continue;
            };
            st_bins.extend(s.bins.iter());
            st_bins.sort_by_key(|b| b.idx);
            let mut bins: Vec<Bin> = Vec::with_capacity(st_bins.len());
            for b in st_bins {
                match bins.last_mut() {
                    Some(l) if l.idx == b.idx => {
                        l.bytes[0] += b.bytes[0];
                        l.bytes[1] += b.bytes[1];
                    }
                    _ => bins.push(b),
                }
            }
            s.bins = Bins::from_sorted(bins);
            s.payload += st.payload;
            s.live_flows += st.live_flows;
            s.absorb_rare(st.rare.take());
            if let Some(r) = s.rare.as_deref_mut() {
                r.not_captured.sort_by_key(|e| e.0);
                r.acknowledged.sort_by_key(|e| e.0);
            }
        }
        for (_, id) in &mut self.starts {
            if let Some(agg) = into.get(id) {
                *id = *agg;
            }
        }
        into
    }

    /// Adds payload bytes of one packet.
    pub fn add(&mut self, id: u32, ts: i64, from_client: bool, payload: u64) {
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        let idx = ts.div_euclid(BIN_NS);
        let d = if from_client { 0 } else { 1 };
        s.payload += payload;
        s.bins.add(idx, d, payload);
    }

    /// Adds payload bytes of a direction whose segments were not captured, taken from the
    /// acknowledgements of one packet of the other: to the bins, and to the acknowledged series.
    pub fn add_acknowledged(&mut self, id: u32, ts: i64, from_client: bool, bytes: u64) {
        self.add(id, ts, from_client, bytes);
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        let idx = ts.div_euclid(BIN_NS);
        let acknowledged = &mut s.rare_mut().acknowledged;
        match acknowledged.last_mut() {
            Some(last) if last.0 == idx => last.1 += bytes,
            _ => acknowledged.push((idx, bytes)),
        }
    }

    /// Records the first packet of a data-class flow of conversation `id`.
    pub fn flow_start(&mut self, ts: i64, id: u32) {
        if self.starts.len() < MAX_STARTS {
            self.starts.push((ts, id));
        }
    }

    /// Records a change of conversation `id`'s sequence space never seen.
    pub fn not_captured(&mut self, id: u32, ts: i64, delta: i64) {
        if let Some(s) = self.series.get_mut(id as usize) {
            s.rare_mut()
                .not_captured
                .push((ts.div_euclid(BIN_NS), delta));
        }
    }

    /// Records a RARP frame.
    pub fn rarp(&mut self, ts: i64, mac: Mac, vlan: Option<u16>) {
        if self.rarps.len() < MAX_RARPS {
            self.rarps.push(Rarp { ts, mac, vlan });
        } else {
            self.rarps_not_kept += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::conv::Peer;
    use crate::vocab::ports::TrafficClass;

    #[test]
    fn bins_in_order_and_out_of_order() {
        let mut t = Timeline::default();
        let key = ConvKey {
            proto: crate::vocab::wire::IpProtocol::Tcp,
            client: Peer::Addr("10.0.0.1".parse().unwrap()),
            server: Peer::Addr("10.0.0.2".parse().unwrap()),
            class: TrafficClass::Vmotion,
            vlan: None,
            shown: None,
        };
        let id = t.id_for(key);
        assert_eq!(t.id_for(key), id);
        t.add(id, 5 * BIN_NS + 1, true, 100);
        t.add(id, 5 * BIN_NS + 2, false, 7);
        t.add(id, 9 * BIN_NS, true, 50);
        t.add(id, 7 * BIN_NS, true, 3);
        t.add(id, 5 * BIN_NS, true, 1);
        t.add_acknowledged(id, 9 * BIN_NS + 5, false, 20);
        t.add_acknowledged(id, 9 * BIN_NS + 6, false, 2);
        t.add_acknowledged(id, 11 * BIN_NS, false, 4);
        assert_eq!(t.series[id as usize].acknowledged(), &[(9, 22), (11, 4)]);
        let bins: Vec<Bin> = t.series[id as usize].bins.iter().collect();
        assert_eq!(
            bins,
            vec![
                Bin {
                    idx: 5,
                    bytes: [101, 7]
                },
                Bin {
                    idx: 7,
                    bytes: [3, 0]
                },
                Bin {
                    idx: 9,
                    bytes: [50, 22]
                },
                Bin {
                    idx: 11,
                    bytes: [0, 4]
                }
            ]
        );
    }

    #[test]
    fn folding_merges_bins_redirects_starts_and_frees_slots() {
        let key = |client: &str| ConvKey {
            proto: crate::vocab::wire::IpProtocol::Udp,
            client: Peer::Addr(client.parse().unwrap()),
            server: Peer::Addr("10.0.0.9".parse().unwrap()),
            class: TrafficClass::Dns,
            vlan: None,
            shown: None,
        };
        let mut t = Timeline::default();
        let (a, b, c) = (
            t.id_for(key("10.0.0.1")),
            t.id_for(key("10.0.0.2")),
            t.id_for(key("10.0.0.3")),
        );
        t.add(a, 5 * BIN_NS, true, 10);
        t.add(b, 5 * BIN_NS + 1, false, 7);
        t.add(b, 9 * BIN_NS, true, 1);
        t.add(c, 6 * BIN_NS, true, 100);
        t.flow_start(5 * BIN_NS, a);
        t.flow_start(6 * BIN_NS, c);
        let agg = ConvKey {
            client: Peer::Folded { vmware_mac: false },
            shown: Some(crate::vocab::conv::Shown {
                web: false,
                authd: false,
            }),
            ..key("10.0.0.1")
        };
        let into = t.fold(&[(a, agg), (b, agg)]);
        let g = into[&a];
        assert_eq!(into[&b], g);
        assert_eq!(t.conversations(), 1);
        assert_eq!(t.aggregate_of(g), Some(agg));
        assert_eq!(t.aggregate_of(c), None);
        let s = &t.series[g as usize];
        assert_eq!(s.kind, SeriesKind::Aggregate);
        assert_eq!(s.payload, 18);
        assert_eq!(
            s.bins.iter().collect::<Vec<_>>(),
            vec![
                Bin {
                    idx: 5,
                    bytes: [10, 7]
                },
                Bin {
                    idx: 9,
                    bytes: [1, 0]
                }
            ]
        );
        assert_eq!(t.starts, vec![(5 * BIN_NS, g), (6 * BIN_NS, c)]);
        // A folded conversation's slot serves the next new one, which starts empty.
        let d = t.id_for(key("10.0.0.4"));
        assert!([a, b].contains(&d), "{d}");
        assert!(t.series[d as usize].bins.is_empty());
        assert_eq!(t.conversations(), 2);
    }

    /// Bins are held narrow while they fit; a bin of 4 GiB or more, one before the first, or an
    /// out-of-order one turns the series wide, and every figure stays exact either way.
    #[test]
    fn narrow_bins_widen_when_they_do_not_fit() {
        let mut b = Bins::default();
        let mut want: Vec<Bin> = Vec::new();
        for i in 0..50i64 {
            b.add(1_000 + 3 * i, (i % 2) as usize, 1_500);
            want.push(Bin {
                idx: 1_000 + 3 * i,
                bytes: if i % 2 == 0 { [1_500, 0] } else { [0, 1_500] },
            });
        }
        assert!(b.wide.is_none());
        assert!(
            b.narrow.capacity() < 64,
            "grown by half: {}",
            b.narrow.capacity()
        );
        assert_eq!(b.iter().collect::<Vec<_>>(), want);
        // 4 GiB into the last bin: wide, exact.
        b.add(1_147, 0, 1 << 32);
        want.last_mut().unwrap().bytes[0] += 1 << 32;
        assert!(b.wide.is_some());
        assert_eq!(b.iter().collect::<Vec<_>>(), want);
        assert_eq!(b.starting_at(1_100).next().map(|x| x.idx), Some(1_102));
        // A bin before the first, of a narrow series.
        let mut c = Bins::default();
        c.add(500, 0, 1);
        c.add(499, 1, 2);
        c.add(500, 1, 3);
        assert_eq!(
            c.iter().collect::<Vec<_>>(),
            vec![
                Bin {
                    idx: 499,
                    bytes: [0, 2]
                },
                Bin {
                    idx: 500,
                    bytes: [1, 3]
                }
            ]
        );
        assert!(
            std::mem::size_of::<Series>() <= 112,
            "{}",
            std::mem::size_of::<Series>()
        );
    }
}
