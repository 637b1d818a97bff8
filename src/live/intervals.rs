//! Interval counts and live network attribution.
//!
//! In: per packet its time, wire length, and (for TCP/UDP) its flow contribution and MACs. Out:
//! [`IntervalLine`]s. Packets are counted in exactly one line, so lines add up to the stream's
//! totals. Networks are attributed when a line is written: with a given inventory, by it; without
//! one, by an inventory inferred (same rules as [`crate::classify::infer`]) from the
//! conversations seen so far, so attribution can change as evidence accumulates.
//!
//! Memory is bounded: the per-interval maps and the inference evidence have fixed caps; beyond
//! them bytes are attributed at once and new conversations no longer feed inference.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use rustc_hash::FxHashMap;

use super::line::{IntervalLine, LIVE_SCHEMA_VERSION, TopFlow};
use crate::classify::inventory::{Network, VmkInventory};
use crate::classify::{ConvStats, infer, locate_peer};
use crate::flow::{Endpoint, FlowKey, PacketRef};
use crate::vocab::Mac;
use crate::vocab::conv::ConvKey;
use crate::vocab::ports::TrafficClass;
use crate::vocab::time::rfc3339;

/// Most conversations remembered for inference.
pub const MAX_EVIDENCE: usize = 50_000;
/// Most conversations or flows held per interval before bytes are attributed at once.
pub const MAX_PER_INTERVAL: usize = 50_000;

/// A conversation with the MACs of its ends (for `vm` versus `external`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Pending {
    conv: ConvKey,
    client_mac: Option<Mac>,
    server_mac: Option<Mac>,
}

/// Networks of endpoints: a given inventory, or one inferred from what was seen.
pub struct Attribution {
    given: Option<VmkInventory>,
    evidence: BTreeSet<ConvKey>,
    macs: BTreeMap<IpAddr, Mac>,
    inferred: VmkInventory,
    dirty: bool,
}

impl Attribution {
    /// With `given`, attribution is fixed; without, it is inferred as traffic arrives.
    pub fn new(given: Option<VmkInventory>) -> Attribution {
        Attribution {
            given,
            evidence: BTreeSet::new(),
            macs: BTreeMap::new(),
            inferred: VmkInventory::empty(),
            dirty: false,
        }
    }

    /// `inventory` or `inferred`.
    pub fn kind(&self) -> &'static str {
        if self.given.is_some() {
            "inventory"
        } else {
            "inferred"
        }
    }

    /// Remembers a conversation and the MACs of its ends, for inference.
    fn observe(&mut self, p: &Pending) {
        if self.given.is_some() {
            return;
        }
        if self.evidence.len() < MAX_EVIDENCE && self.evidence.insert(p.conv) {
            self.dirty = true;
        }
        for (peer, mac) in [(p.conv.client, p.client_mac), (p.conv.server, p.server_mac)] {
            if let (Some(ip), Some(m)) = (peer.ip(), mac) {
                if self.macs.len() < MAX_EVIDENCE && !self.macs.contains_key(&ip) {
                    self.macs.insert(ip, m);
                    self.dirty = true;
                }
            }
        }
    }

    /// Whether either end of a conversation is a vmk (without an inventory: whether inference
    /// would make one of them a vmk, which holds for every data class).
    pub fn has_vmk(&self, conv: &ConvKey) -> bool {
        match &self.given {
            Some(inv) => [conv.client, conv.server]
                .iter()
                .filter_map(|p| p.ip())
                .any(|ip| inv.lookup(ip, conv.vlan).is_some()),
            None => conv.class.is_data(),
        }
    }

    fn inventory(&mut self) -> &VmkInventory {
        if let Some(inv) = &self.given {
            return inv;
        }
        if self.dirty {
            let convs: Vec<(ConvKey, ConvStats)> = self
                .evidence
                .iter()
                .map(|k| (*k, ConvStats::default()))
                .collect();
            self.inferred = infer::infer(&convs, &self.macs, &|_| true);
            self.dirty = false;
        }
        &self.inferred
    }

    /// The networks of both ends.
    fn networks(&mut self, p: &Pending) -> (Network, Network) {
        let inv = self.inventory();
        let k = &p.conv;
        let c = locate_peer(inv, k.client, k.vlan, p.client_mac, k.class);
        let s = locate_peer(inv, k.server, k.vlan, p.server_mac, k.class);
        (c.network, s.network)
    }
}

#[derive(Debug, Clone, Copy)]
struct FlowAcc {
    pending: Pending,
    client: Endpoint,
    server: Endpoint,
    bytes: u64,
}

/// Counts of the current interval and of the whole stream.
pub struct Intervals {
    interval_ns: Option<i64>,
    top: usize,
    seq: u64,
    start: Option<i64>,
    next_boundary: Option<i64>,
    last_ts: Option<i64>,
    packets: u64,
    wire_bytes: u64,
    payload: u64,
    by_class: BTreeMap<TrafficClass, u64>,
    by_network: BTreeMap<Network, u64>,
    pending: FxHashMap<Pending, u64>,
    flows: FxHashMap<FlowKey, FlowAcc>,
    /// Packets since the start.
    pub total_packets: u64,
    /// Payload bytes since the start.
    pub total_payload: u64,
    /// Network attribution.
    pub attribution: Attribution,
}

/// A packet's flow contribution as the live stages see it.
pub struct LivePacket<'a> {
    /// Capture time.
    pub ts: Option<i64>,
    /// Wire length.
    pub wire_len: u32,
    /// Its flow contribution, for TCP/UDP.
    pub flow: Option<&'a PacketRef>,
    /// Source MAC.
    pub src_mac: Option<Mac>,
    /// Destination MAC.
    pub dst_mac: Option<Mac>,
}

impl LivePacket<'_> {
    /// The conversation of the packet's flow.
    pub fn conv(&self) -> Option<ConvKey> {
        self.flow.map(PacketRef::conv)
    }
}

fn endpoint_string(e: Endpoint) -> String {
    match e.ip {
        IpAddr::V4(a) => format!("{a}:{}", e.port),
        IpAddr::V6(a) => format!("[{a}]:{}", e.port),
    }
}

impl Intervals {
    /// Lines every `interval_ns` of capture time (none when `None`), listing `top` flows.
    pub fn new(interval_ns: Option<i64>, top: usize, attribution: Attribution) -> Intervals {
        Intervals {
            interval_ns,
            top,
            seq: 0,
            start: None,
            next_boundary: None,
            last_ts: None,
            packets: 0,
            wire_bytes: 0,
            payload: 0,
            by_class: BTreeMap::new(),
            by_network: BTreeMap::new(),
            pending: FxHashMap::default(),
            flows: FxHashMap::default(),
            total_packets: 0,
            total_payload: 0,
            attribution,
        }
    }

    /// When the packet at `ts` crosses the current interval's boundary, the line closing it
    /// (written before the packet is counted).
    pub fn before_packet(&mut self, ts: Option<i64>, active: &[String]) -> Option<IntervalLine> {
        let (Some(ts), Some(iv)) = (ts, self.interval_ns) else {
            return None;
        };
        match self.next_boundary {
            None => {
                self.start = Some(ts);
                self.next_boundary = Some(ts.saturating_add(iv));
                None
            }
            Some(b) if ts >= b => {
                let line = self.line("capture_time", Some(b), active);
                // Skip empty intervals: the next boundary is the first one after `ts`.
                let k = (ts - b) / iv + 1;
                self.next_boundary = Some(b.saturating_add(k.saturating_mul(iv)));
                Some(line)
            }
            Some(_) => None,
        }
    }

    /// Counts a packet.
    pub fn packet(&mut self, p: &LivePacket<'_>) {
        self.packets += 1;
        self.total_packets += 1;
        self.wire_bytes += u64::from(p.wire_len);
        if let Some(ts) = p.ts {
            self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
            if self.start.is_none() {
                self.start = Some(ts);
            }
        }
        let (Some(r), Some(conv)) = (p.flow, p.conv()) else {
            return;
        };
        if self.interval_ns.is_none() {
            // No interval lines: only the stream's totals are read, and nothing is held per
            // conversation or flow (standard input, a FIFO or --follow without --interval).
            self.total_payload += r.payload + r.acked;
            return;
        }
        let (client_mac, server_mac) = if r.from_client {
            (p.src_mac, p.dst_mac)
        } else {
            (p.dst_mac, p.src_mac)
        };
        let pending = Pending {
            conv,
            client_mac,
            server_mac,
        };
        self.attribution.observe(&pending);
        // Bytes a direction never captured sent, from this packet's acknowledgement number,
        // count as the report counts them.
        let bytes = r.payload + r.acked;
        if bytes == 0 {
            return;
        }
        self.payload += bytes;
        self.total_payload += bytes;
        *self.by_class.entry(r.class).or_default() += bytes;
        if let Some(b) = self.pending.get_mut(&pending) {
            *b += bytes;
        } else if self.pending.len() < MAX_PER_INTERVAL {
            self.pending.insert(pending, bytes);
        } else {
            self.attribute(&pending, bytes);
        }
        if r.class.is_data() {
            if let Some(f) = self.flows.get_mut(&r.key) {
                f.bytes += bytes;
            } else if self.flows.len() < MAX_PER_INTERVAL {
                let (client, server) = if r.key.lo.ip == r.client {
                    (r.key.lo, r.key.hi)
                } else {
                    (r.key.hi, r.key.lo)
                };
                self.flows.insert(
                    r.key,
                    FlowAcc {
                        pending,
                        client,
                        server,
                        bytes,
                    },
                );
            }
        }
    }

    fn attribute(&mut self, p: &Pending, bytes: u64) {
        let (c, s) = self.attribution.networks(p);
        *self.by_network.entry(c).or_default() += bytes;
        if s != c {
            *self.by_network.entry(s).or_default() += bytes;
        }
    }

    /// Closes the current interval into a line. `end` is the capture-time boundary, or `None`
    /// for the last packet's time.
    pub fn line(
        &mut self,
        trigger: &'static str,
        end: Option<i64>,
        active: &[String],
    ) -> IntervalLine {
        let mut pending: Vec<(Pending, u64)> = self.pending.drain().collect();
        pending.sort_by_key(|(p, _)| (p.conv, p.client_mac, p.server_mac));
        for (p, b) in &pending {
            self.attribute(p, *b);
        }
        let mut flows: Vec<(FlowKey, FlowAcc)> = self.flows.drain().collect();
        flows.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
        flows.truncate(self.top);
        let top_flows = flows
            .into_iter()
            .map(|(k, f)| {
                let (client_network, server_network) = self.attribution.networks(&f.pending);
                TopFlow {
                    proto: k.proto.to_string(),
                    client: endpoint_string(f.client),
                    server: endpoint_string(f.server),
                    class: f.pending.conv.class,
                    client_network,
                    server_network,
                    bytes: f.bytes,
                }
            })
            .collect();
        let end = end.or(self.last_ts).or(self.start);
        self.seq += 1;
        let line = IntervalLine {
            live_schema_version: LIVE_SCHEMA_VERSION,
            kind: "interval",
            seq: self.seq,
            trigger,
            wall_time: super::wall_now(),
            start: self.start.map(rfc3339),
            end: end.map(rfc3339),
            packets: self.packets,
            wire_bytes: self.wire_bytes,
            payload_bytes: self.payload,
            payload_bytes_by_network: std::mem::take(&mut self.by_network),
            payload_bytes_by_class: std::mem::take(&mut self.by_class),
            total_packets: self.total_packets,
            total_payload_bytes: self.total_payload,
            attribution: self.attribution.kind(),
            top_flows,
            active_migrations: active.to_vec(),
        };
        self.start = end;
        self.packets = 0;
        self.wire_bytes = 0;
        self.payload = 0;
        line
    }
}
