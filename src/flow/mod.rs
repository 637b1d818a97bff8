//! Flow stage: decoded packets in, bidirectional flows out.
//!
//! In: a [`Decoded`] packet with its timestamp and wire length. Out: [`Flow`]s handed to a sink when
//! they end (TCP close, idle timeout, table pressure, or end of capture). A flow is keyed
//! canonically by protocol, both endpoints (lower endpoint first), VLAN and tunnel, so both
//! directions land in one flow. Memory is bounded by the number of live flows: the table never
//! holds more than [`FlowConfig::max_live`] entries.
//!
//! A TCP direction none of whose segments was captured (a capture of one vmk's transmitted
//! frames holds a receiver's ACKs and none of the data) gets its payload bytes from the other
//! direction's acknowledgement numbers (`tcp::AckTracker`): [`DirStats::acknowledged_bytes`],
//! part of its payload bytes, and [`PacketRef::acked`] per packet. When both directions show
//! packets nothing is taken from acknowledgements.

pub mod health;
mod model;
pub mod payload;
pub mod signature;
pub(crate) mod tcp;

use model::TCP_MIN_HEADER;

/// How many payload bytes a flow direction's signature is read from.
const SIGNATURE_BYTES: usize = 32;
pub use model::{DirStats, EndReason, Endpoint, Flow, FlowKey, PacketRef};

use std::hash::{BuildHasher, BuildHasherDefault};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::decode::{Decoded, Fragment, Transport};
use crate::vocab::ports::{PortCatalogue, TrafficClass};
use crate::vocab::wire::IpProtocol;
use signature::Signature;

/// Limits of the live table, and the port catalogue that names each new flow's class.
#[derive(Clone)]
pub struct FlowConfig {
    /// Most flows held at once; beyond it the least recently active are ended.
    pub max_live: usize,
    /// A flow idle this long (capture time, ns) is ended.
    pub idle_timeout_ns: i64,
    /// A closed TCP flow is ended after this much further capture time (late ACKs join it).
    pub close_linger_ns: i64,
    /// Port catalogue with the user's overrides (`--port`).
    pub ports: PortCatalogue,
    /// The shortest stall the TCP health of vMotion and NFC streams counts (ns; the findings'
    /// `stall_min_s`).
    pub stall_min_ns: i64,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_live: 200_000,
            idle_timeout_ns: 300 * 1_000_000_000,
            close_linger_ns: 2 * 1_000_000_000,
            ports: PortCatalogue::default(),
            stall_min_ns: 1_000_000_000,
        }
    }
}

/// The tag of a flow nobody tagged yet.
pub const NO_TAG: u32 = u32::MAX;

/// Entries of the recently-used cache: bulk transfers interleave a few flows (parallel streams
/// and their ACKs), so most packets find their flow here without hashing the key.
const RECENT: usize = 4;

/// Addresses, protocol and ports: what the index finds a live flow by.
type Tuple = (IpProtocol, Endpoint, Endpoint);

fn tuple_of(key: &FlowKey) -> Tuple {
    (key.proto, key.lo, key.hi)
}

fn tuple_hash(t: &Tuple) -> u64 {
    BuildHasherDefault::<FxHasher>::default().hash_one(t)
}

/// The hash of the flow in `slot` (0 for an empty slot, which the index never holds).
fn slot_hash(slots: &[Option<Flow>], slot: u32) -> u64 {
    slots
        .get(slot as usize)
        .and_then(Option::as_ref)
        .map_or(0, |f| tuple_hash(&tuple_of(&f.key)))
}

/// The live flow table.
///
/// Flows live in a slab (`slots`, reused through `free`); `index` holds the slot of every live
/// flow, found by its addresses, protocol and ports alone, and `recent` remembers the last few
/// keys looked up. Any removal clears `recent`.
///
/// A flow is created only when no live flow has its addresses, protocol and ports, so those
/// name one live flow at most: a frame of a live flow that arrives in another encapsulation (a
/// mirror session's copy beside a host capture, another VLAN tag) joins that flow instead of
/// starting a second one. The index holds slot numbers only (4 bytes and a control byte per
/// entry), hashing the key kept in the slot.
pub struct FlowTable {
    cfg: FlowConfig,
    index: HashTable<u32>,
    slots: Vec<Option<Flow>>,
    free: Vec<u32>,
    recent: [Option<(FlowKey, u32)>; RECENT],
    recent_next: usize,
    next_serial: u64,
    last_sweep_ts: i64,
    /// Most flows live at once, for the report and tests.
    pub peak_live: usize,
    /// Flows created.
    pub created: u64,
    /// Packets that had an IP header but no ports where the protocol needs them.
    pub packets_without_ports: u64,
}

impl FlowTable {
    /// An empty table.
    pub fn new(cfg: FlowConfig) -> FlowTable {
        FlowTable {
            cfg,
            index: HashTable::new(),
            slots: Vec::new(),
            free: Vec::new(),
            recent: [None; RECENT],
            recent_next: 0,
            next_serial: 0,
            last_sweep_ts: i64::MIN,
            peak_live: 0,
            created: 0,
            packets_without_ports: 0,
        }
    }

    /// Flows currently live.
    pub fn live_len(&self) -> usize {
        self.index.len()
    }

    /// The slot of a live flow, from the recent cache or the index: the flow of `key`, or the
    /// live flow with its addresses, protocol and ports.
    #[inline]
    fn find(&mut self, key: &FlowKey) -> Option<u32> {
        if let Some((_, slot)) = self.recent.iter().flatten().find(|(k, _)| k == key) {
            return Some(*slot);
        }
        let t = tuple_of(key);
        let slots = &self.slots;
        let slot = *self.index.find(tuple_hash(&t), |&s| {
            slots
                .get(s as usize)
                .and_then(Option::as_ref)
                .is_some_and(|f| tuple_of(&f.key) == t)
        })?;
        // Only the flow's own key is remembered: a copy in another encapsulation looks the
        // index up, as it did when the table had a second index by addresses and ports.
        if self
            .slots
            .get(slot as usize)
            .and_then(Option::as_ref)
            .is_some_and(|f| f.key == *key)
        {
            self.remember(*key, slot);
        }
        Some(slot)
    }

    fn remember(&mut self, key: FlowKey, slot: u32) {
        self.recent[self.recent_next] = Some((key, slot));
        self.recent_next = (self.recent_next + 1) % RECENT;
    }

    /// Inserts a new flow and returns its slot.
    fn insert(&mut self, flow: Flow) -> u32 {
        let key = flow.key;
        let slot = match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    *s = Some(flow);
                }
                i
            }
            None => {
                if self.slots.len() == self.slots.capacity() {
                    // Grow in steps, to the bound at most: doubling a table of 200 000 flows
                    // would leave room for 100 000 more than can ever be live.
                    let room = self.slots.len().max(1024);
                    let room = room.min(self.cfg.max_live.saturating_sub(self.slots.len()));
                    self.slots.reserve_exact(room.max(1));
                }
                self.slots.push(Some(flow));
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.index
            .insert_unique(tuple_hash(&tuple_of(&key)), slot, |&s| slot_hash(slots, s));
        self.remember(key, slot);
        slot
    }

    /// Removes a live flow.
    fn remove(&mut self, key: &FlowKey) -> Option<Flow> {
        let t = tuple_of(key);
        let slots = &self.slots;
        let entry = self.index.find_entry(tuple_hash(&t), |&s| {
            slots
                .get(s as usize)
                .and_then(Option::as_ref)
                .is_some_and(|f| f.key == *key)
        });
        let slot = entry.ok()?.remove().0;
        self.release(slot)
    }

    /// Removes the live flow in `slot` from the table.
    fn remove_slot(&mut self, slot: u32) -> Option<Flow> {
        let f = self.slots.get(slot as usize)?.as_ref()?;
        let hash = tuple_hash(&tuple_of(&f.key));
        self.index.find_entry(hash, |&s| s == slot).ok()?.remove();
        self.release(slot)
    }

    /// Takes the flow out of `slot`, whose index entry is gone, and frees the slot.
    fn release(&mut self, slot: u32) -> Option<Flow> {
        self.recent = [None; RECENT];
        self.free.push(slot);
        self.slots.get_mut(slot as usize)?.take()
    }

    fn live_flows(&self) -> impl Iterator<Item = &Flow> {
        self.slots.iter().flatten()
    }

    /// Adds one packet; flows that end meanwhile are passed to `ended`.
    pub fn add(
        &mut self,
        d: &Decoded,
        frame: &[u8],
        ts: Option<i64>,
        wire_len: u32,
        ended: &mut dyn FnMut(Flow),
    ) -> Option<PacketRef> {
        let ip = d.ip.as_ref()?;
        let proto = ip.protocol;
        let (sport, dport, payload) = match d.transport {
            Transport::Tcp {
                fields,
                payload_len,
            } => (
                fields.src_port,
                fields.dst_port,
                payload_len.unwrap_or(0) as u64,
            ),
            Transport::Udp {
                src_port,
                dst_port,
                payload_len,
            } => (src_port, dst_port, payload_len as u64),
            Transport::None if matches!(proto, IpProtocol::Tcp | IpProtocol::Udp) => {
                self.packets_without_ports += 1;
                return None;
            }
            _ => (0, 0, 0),
        };
        let src = Endpoint {
            ip: ip.src,
            port: sport,
        };
        let dst = Endpoint {
            ip: ip.dst,
            port: dport,
        };
        let from_lo = src <= dst;
        let (lo, hi) = if from_lo { (src, dst) } else { (dst, src) };
        let key = FlowKey {
            proto,
            lo,
            hi,
            vlan: d.vlan(),
            tunnel: d.tunnel.map(|t| (t.kind, t.id)),
        };
        if let Some(now) = ts {
            self.maybe_sweep(now, ended);
        }
        let slot = match self.find(&key) {
            Some(slot) => slot,
            None => {
                if self.index.len() >= self.cfg.max_live {
                    self.evict_oldest(ended);
                }
                self.created += 1;
                let ports = &self.cfg.ports;
                let client_is_lo = initial_client_is_lo(d, from_lo, sport, dport, proto, ports);
                let (cport, sport_) = if client_is_lo == from_lo {
                    (sport, dport)
                } else {
                    (dport, sport)
                };
                let class = ports.classify(proto, sport_, cport);
                let serial = self.next_serial;
                self.next_serial += 1;
                self.insert(Flow {
                    class,
                    tag: NO_TAG,
                    key,
                    client_is_lo,
                    client_by_syn: false,
                    dir: [DirStats::default(); 2],
                    macs: [None, None],
                    serial,
                    end: None,
                    seq: Default::default(),
                    acks: Default::default(),
                    counted_until: [None; 2],
                    tcp_header_len: [None; 2],
                    signatures: [None; 2],
                    health: (proto == IpProtocol::Tcp && health::worth_it(class))
                        .then(|| Box::new(health::Health::new(self.cfg.stall_min_ns))),
                    payload: None,
                })
            }
        };
        let live = self.index.len();
        let flow = self.slots.get_mut(slot as usize).and_then(Option::as_mut)?;
        let di = if from_lo { 0 } else { 1 };
        let new_flow = flow.dir[0].packets + flow.dir[1].packets == 0;
        if flow.signatures[di].is_none() && d.payload_at != 0 {
            let head = frame.get(d.payload_at..).unwrap_or(&[]);
            let n = head.len().min(payload as usize).min(SIGNATURE_BYTES);
            flow.signatures[di] = Signature::of(head.get(..n).unwrap_or(&[]));
        }
        let first_mac = if flow.macs[di].is_none() {
            flow.macs[di] = d.src_mac;
            d.src_mac
        } else {
            None
        };
        // A TCP header cut before its length (a snap or mirror length inside the header): the
        // payload is the IP payload less the header length this flow showed, else the minimum.
        let (payload, estimated, tcp_len) = match d.transport {
            Transport::Tcp {
                fields,
                payload_len: None,
            } if fields.header_len.is_none() && ip.fragment != Fragment::Later => {
                let h = flow.tcp_header_len[di]
                    .or(flow.tcp_header_len[1 - di])
                    .unwrap_or(TCP_MIN_HEADER);
                let est = ip.payload_len.saturating_sub(u32::from(h));
                (u64::from(est), true, Some(est))
            }
            Transport::Tcp {
                fields,
                payload_len,
            } => {
                // A SYN's options (MSS, window scale) do not repeat in data segments: learn
                // the length from the others.
                let syn = fields.flags.is_some_and(|f| f & tcp::SYN != 0);
                if let (Some(h), Some(_), false) = (fields.header_len, payload_len, syn) {
                    flow.tcp_header_len[di] = Some(h);
                }
                (payload, false, payload_len)
            }
            _ => (payload, false, None),
        };
        // The first segment of a direction whose bytes were counted from the other direction's
        // acknowledgements (its frames came later: a capture set whose clocks disagree, a
        // capture that started mid-flow): what those acknowledgements covered is not counted
        // twice.
        if flow.dir[di].packets == 0 && flow.dir[di].acknowledged_bytes > 0 {
            flow.counted_until[di] = flow.acks[1 - di].high();
        }
        let payload = match (flow.counted_until[di], d.transport, tcp_len) {
            (Some(until), Transport::Tcp { fields, .. }, Some(len)) => match fields.seq {
                Some(seq) if (seq.wrapping_sub(until) as i32) >= 0 => {
                    flow.counted_until[di] = None;
                    payload
                }
                Some(seq) => {
                    let above = seq.wrapping_add(len).wrapping_sub(until) as i32;
                    u64::from(above.max(0) as u32).min(payload)
                }
                None => payload,
            },
            _ => payload,
        };
        let st = &mut flow.dir[di];
        st.packets += 1;
        st.wire_bytes += wire_len as u64;
        st.payload_bytes += payload;
        if estimated {
            st.estimated_payload_bytes += payload;
        }
        if let Some(t) = ts {
            st.first_ts = Some(st.first_ts.map_or(t, |v| v.min(t)));
            st.last_ts = Some(st.last_ts.map_or(t, |v| v.max(t)));
        }
        let mut not_captured_delta = 0;
        let mut acked = 0;
        if let Transport::Tcp { fields, .. } = d.transport {
            let flags = fields.flags.unwrap_or(0);
            if flags & tcp::SYN != 0 {
                st.syn = true;
                if flags & tcp::ACK == 0 && !flow.client_by_syn {
                    flow.client_is_lo = from_lo;
                    flow.client_by_syn = true;
                }
            }
            if let Some(h) = flow.health.as_deref_mut() {
                h.segment(di, ts, &fields, tcp_len);
            }
            let st = &mut flow.dir[di];
            st.fin |= flags & tcp::FIN != 0;
            st.rst |= flags & tcp::RST != 0;
            if let (Some(seq), Some(len)) = (fields.seq, tcp_len) {
                let b = flow.seq[di].track(seq, len, flags);
                let st = &mut flow.dir[di];
                st.retransmitted_bytes += b.retransmitted;
                st.out_of_order_bytes += b.out_of_order;
                not_captured_delta = b.skipped as i64 - b.out_of_order as i64;
            }
            // vMotion and NFC flows: their payload is read (`payload`); other flows, and
            // segments without payload, pay this branch only.
            if matches!(flow.class, TrafficClass::Vmotion | TrafficClass::Nfc) {
                let (len, syn) = (tcp_len.unwrap_or(0), flags & tcp::SYN != 0);
                if len > 0 || syn {
                    read_payload(flow, di, d, frame, fields.seq, len, syn);
                }
            }
            // The other direction's segments were never captured (so far): its bytes are what
            // this direction acknowledged. Once it shows a packet, its sequence numbers count.
            let oi = 1 - di;
            if let (0, Some(ack)) = (flow.dir[oi].packets, fields.ack) {
                let a = flow.acks[di].track(ack, flags);
                let other = &mut flow.dir[oi];
                other.acknowledged_bytes += a.bytes;
                other.payload_bytes += a.bytes;
                other.fin |= a.peer_fin;
                acked = a.bytes;
            }
        }
        let r = PacketRef {
            key: flow.key,
            from_client: from_lo == flow.client_is_lo,
            payload,
            estimated,
            acked,
            new_flow,
            not_captured_delta,
            tag: flow.tag,
            client: flow.client().ip,
            server: flow.server().ip,
            class: flow.class,
            first_mac,
        };
        self.peak_live = self.peak_live.max(live);
        Some(r)
    }

    /// Changes the tags of live flows: `new_tag` gives the new tag for an old one, or `None` to
    /// keep it.
    pub fn retag(&mut self, new_tag: &dyn Fn(u32) -> Option<u32>) {
        for f in self.slots.iter_mut().flatten() {
            if let Some(t) = new_tag(f.tag) {
                f.tag = t;
            }
        }
    }

    /// Attaches a tag to a live flow.
    pub fn set_tag(&mut self, key: &FlowKey, tag: u32) {
        if let Some(slot) = self.find(key) {
            if let Some(Some(f)) = self.slots.get_mut(slot as usize) {
                f.tag = tag;
            }
        }
    }

    fn maybe_sweep(&mut self, now: i64, ended: &mut dyn FnMut(Flow)) {
        // Sweep at most once per second of capture time.
        if now.saturating_sub(self.last_sweep_ts) < 1_000_000_000 {
            return;
        }
        self.last_sweep_ts = now;
        let (linger, idle_timeout) = (self.cfg.close_linger_ns, self.cfg.idle_timeout_ns);
        let mut gone: Vec<(FlowKey, EndReason)> = Vec::new();
        for f in self.live_flows() {
            let k = &f.key;
            let last = f.last_ts().unwrap_or(now);
            let idle = now.saturating_sub(last);
            if f.closed() && idle >= linger {
                gone.push((*k, EndReason::Closed));
            } else if idle >= idle_timeout {
                gone.push((*k, EndReason::Idle));
            }
        }
        gone.sort();
        for (k, why) in gone {
            if let Some(mut f) = self.remove(&k) {
                f.end(why);
                ended(f);
            }
        }
    }

    /// Ends the least recently active quarter of the table (closed flows first; among equals
    /// the earlier created). The order is sorted from slot numbers (24 bytes a flow, not 80
    /// with its key): serials are distinct, so it is the order the keys would give.
    fn evict_oldest(&mut self, ended: &mut dyn FnMut(Flow)) {
        let mut order: Vec<(bool, i64, u64, u32)> = Vec::with_capacity(self.index.len());
        for (slot, f) in self.slots.iter().enumerate() {
            if let Some(f) = f {
                let last = f.last_ts().unwrap_or(i64::MIN);
                order.push((!f.closed(), last, f.serial, slot as u32));
            }
        }
        order.sort_unstable();
        let n = (self.index.len() / 4).max(1);
        for (_, _, _, slot) in order.into_iter().take(n) {
            if let Some(mut f) = self.remove_slot(slot) {
                f.end(if f.closed() {
                    EndReason::Closed
                } else {
                    EndReason::Pressure
                });
                ended(f);
            }
        }
    }

    /// Ends every live flow (end of capture), in creation order.
    pub fn finish(&mut self, ended: &mut dyn FnMut(Flow)) {
        // Give the table's memory back: the report is built after this.
        self.index = HashTable::new();
        self.free = Vec::new();
        self.recent = [None; RECENT];
        // The flows are sorted in place, last created first, and taken from the end: the
        // table gives back its memory while the flows go to `ended` (whose sums grow), instead
        // of holding all of it to the last flow.
        let mut slots = std::mem::take(&mut self.slots);
        slots.retain(Option::is_some);
        slots.sort_unstable_by_key(|s| std::cmp::Reverse(s.as_ref().map_or(0, |f| f.serial)));
        while let Some(slot) = slots.pop() {
            if slots.len() >= 4096 && slots.len() <= slots.capacity() / 2 {
                slots.shrink_to_fit();
            }
            let Some(mut f) = slot else {
                continue;
            };
            f.end(if f.closed() {
                EndReason::Closed
            } else {
                EndReason::EndOfCapture
            });
            ended(f);
        }
    }
}

/// Reads a vMotion or NFC segment's payload into the flow's [`payload::PayloadScan`] (out of
/// line: the per-packet path of other flows stays as small as it was).
#[inline(never)]
fn read_payload(
    flow: &mut Flow,
    di: usize,
    d: &Decoded,
    frame: &[u8],
    seq: Option<u32>,
    len: u32,
    syn: bool,
) {
    let Some(seq) = seq else { return };
    let nfc = flow.class == TrafficClass::Nfc;
    let scan = flow
        .payload
        .get_or_insert_with(|| Box::new(payload::PayloadScan::new(nfc)));
    if scan.wants(di) {
        let head: &[u8] = match d.payload_at {
            0 => &[],
            at => frame.get(at..).unwrap_or(&[]),
        };
        let head = head.get(..head.len().min(len as usize)).unwrap_or(&[]);
        scan.segment(di, syn, seq, len, head);
    }
}

/// Decides which side is the client from the first packet seen.
fn initial_client_is_lo(
    d: &Decoded,
    from_lo: bool,
    sport: u16,
    dport: u16,
    proto: IpProtocol,
    ports: &PortCatalogue,
) -> bool {
    if let Transport::Tcp { fields, .. } = d.transport {
        if let Some(f) = fields.flags {
            if f & tcp::SYN != 0 {
                // SYN: the sender is the client; SYN-ACK: the receiver is.
                return if f & tcp::ACK == 0 { from_lo } else { !from_lo };
            }
        }
    }
    let dst_known = ports.lookup(proto, dport).is_some();
    let src_known = ports.lookup(proto, sport).is_some();
    let dst_is_server = match (dst_known, src_known) {
        (true, false) => true,
        (false, true) => false,
        // Neither or both named: the lower port is the server's.
        _ => dport <= sport,
    };
    if dst_is_server { from_lo } else { !from_lo }
}

#[cfg(test)]
pub(crate) mod tests;
