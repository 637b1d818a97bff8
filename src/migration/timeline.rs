//! Payload bytes over time per conversation, and RARP sightings: what migration windows and
//! phases are cut from.
//!
//! In: per packet, the conversation id of its flow, its time, direction and payload bytes (and
//! the bytes its acknowledgement number credits to a direction never captured); every RARP
//! frame. Out: sparse per-conversation series of fixed-width bins (only bins with bytes are
//! stored), so memory follows active time × conversations, not packets.

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

/// One conversation's bins, in time order.
#[derive(Debug, Clone)]
pub struct Series {
    /// The conversation.
    pub key: ConvKey,
    /// Bins with bytes, ascending.
    pub bins: Vec<Bin>,
    /// Changes of the sequence space never seen (TCP capture loss), by bin: bytes skipped less
    /// bytes filled in later, in capture order.
    pub not_captured: Vec<(i64, i64)>,
    /// Payload bytes taken from acknowledgements (a direction whose own segments were not
    /// captured), by bin, in capture order; also in `bins`. Empty when both directions were
    /// captured.
    pub acknowledged: Vec<(i64, u64)>,
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

/// All series and RARP sightings.
#[derive(Debug, Default)]
pub struct Timeline {
    ids: FxHashMap<ConvKey, u32>,
    /// Series by id.
    pub series: Vec<Series>,
    /// RARP frames, in capture order.
    pub rarps: Vec<Rarp>,
    /// RARP frames beyond [`MAX_RARPS`].
    pub rarps_not_kept: u64,
    /// When data-class flows began, with their conversation id (at most [`MAX_STARTS`]).
    pub starts: Vec<(i64, u32)>,
}

/// Most flow starts remembered.
pub const MAX_STARTS: usize = 100_000;

impl Timeline {
    /// The id of a conversation, created on first use.
    pub fn id_for(&mut self, key: ConvKey) -> u32 {
        if let Some(id) = self.ids.get(&key) {
            return *id;
        }
        let id = self.series.len() as u32;
        self.series.push(Series {
            key,
            bins: Vec::new(),
            not_captured: Vec::new(),
            acknowledged: Vec::new(),
        });
        self.ids.insert(key, id);
        id
    }

    /// Adds payload bytes of one packet.
    pub fn add(&mut self, id: u32, ts: i64, from_client: bool, payload: u64) {
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        let idx = ts.div_euclid(BIN_NS);
        let d = if from_client { 0 } else { 1 };
        match s.bins.last_mut() {
            Some(b) if b.idx == idx => b.bytes[d] += payload,
            Some(b) if b.idx > idx => {
                // Out of order: find or insert its bin.
                match s.bins.binary_search_by_key(&idx, |b| b.idx) {
                    Ok(i) => s.bins[i].bytes[d] += payload,
                    Err(i) => {
                        let mut bytes = [0; 2];
                        bytes[d] = payload;
                        s.bins.insert(i, Bin { idx, bytes });
                    }
                }
            }
            _ => {
                let mut bytes = [0; 2];
                bytes[d] = payload;
                s.bins.push(Bin { idx, bytes });
            }
        }
    }

    /// Adds payload bytes of a direction whose segments were not captured, taken from the
    /// acknowledgements of one packet of the other: to the bins, and to the acknowledged series.
    pub fn add_acknowledged(&mut self, id: u32, ts: i64, from_client: bool, bytes: u64) {
        self.add(id, ts, from_client, bytes);
        let Some(s) = self.series.get_mut(id as usize) else {
            return;
        };
        let idx = ts.div_euclid(BIN_NS);
        match s.acknowledged.last_mut() {
            Some(last) if last.0 == idx => last.1 += bytes,
            _ => s.acknowledged.push((idx, bytes)),
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
            s.not_captured.push((ts.div_euclid(BIN_NS), delta));
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
    use crate::vocab::ports::TrafficClass;

    #[test]
    fn bins_in_order_and_out_of_order() {
        let mut t = Timeline::default();
        let key = ConvKey {
            proto: crate::vocab::wire::IpProtocol::Tcp,
            client: "10.0.0.1".parse().unwrap(),
            server: "10.0.0.2".parse().unwrap(),
            class: TrafficClass::Vmotion,
            vlan: None,
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
        assert_eq!(t.series[id as usize].acknowledged, vec![(9, 22), (11, 4)]);
        let bins = &t.series[id as usize].bins;
        assert_eq!(
            bins,
            &vec![
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
}
