//! Classify stage: ended flows in, traffic classes, vmk endpoints and networks out.
//!
//! In: every [`Flow`] as it leaves the flow table. Out, at the end of the capture: the report's
//! `inventory`, `interfaces`, `networks`, `classes` and `flows` sections. During the run flows are
//! folded into conversations (client address, server address, protocol, class, VLAN), so memory
//! follows the number of distinct conversations, not of flows; the largest flows are kept whole
//! for the `flows` list, up to a cap. Networks are resolved once, at the end, against the given
//! inventory or one inferred from all the traffic.

mod convs;
pub mod infer;
pub mod inventory;
pub mod totals;
pub mod vantage;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::flow::Flow;
use crate::flow::signature::Signature;
use crate::vocab::Mac;
use crate::vocab::conv::{ConvKey, Peer};
use crate::vocab::ports::TrafficClass;
use inventory::{Network, VmkInventory};

/// Sums over the flows of one conversation; index 0 is client → server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConvStats {
    /// Flows.
    pub flows: u64,
    /// Packets per direction.
    pub packets: [u64; 2],
    /// Wire bytes per direction.
    pub wire_bytes: [u64; 2],
    /// Payload bytes per direction.
    pub payload_bytes: [u64; 2],
    /// Retransmitted payload bytes per direction.
    pub retransmitted_bytes: [u64; 2],
    /// Payload bytes seen first below the highest sequence, per direction.
    pub out_of_order_bytes: [u64; 2],
    /// Sequence space never seen (capture loss), per direction.
    pub not_captured_bytes: [u64; 2],
    /// Payload bytes taken from the peer's acknowledgements (the direction's own segments were
    /// not captured), per direction; part of `payload_bytes`.
    pub acknowledged_bytes: [u64; 2],
    /// A flow's first payload was HTTP or TLS (not what vMotion or NFC sends).
    pub web: bool,
    /// A flow's server sent VMware's authd banner (NFC on TCP 902).
    pub authd: bool,
}

impl ConvStats {
    fn add(&mut self, f: &Flow) {
        let (c2s, s2c) = f.client_server();
        let (cs, ss) = f.client_server_signatures();
        self.web |= [cs, ss].into_iter().flatten().any(Signature::is_web);
        self.authd |= ss == Some(Signature::VmwareAuthd);
        self.flows += 1;
        for (i, d) in [c2s, s2c].into_iter().enumerate() {
            self.packets[i] += d.packets;
            self.wire_bytes[i] += d.wire_bytes;
            self.payload_bytes[i] += d.payload_bytes;
            self.retransmitted_bytes[i] += d.retransmitted_bytes;
            self.out_of_order_bytes[i] += d.out_of_order_bytes;
            self.not_captured_bytes[i] += d.not_captured_bytes;
            self.acknowledged_bytes[i] += d.acknowledged_bytes;
        }
    }

    /// Adds another conversation's sums (one folded into an aggregate).
    pub fn merge(&mut self, o: &ConvStats) {
        self.flows += o.flows;
        for i in 0..2 {
            self.packets[i] += o.packets[i];
            self.wire_bytes[i] += o.wire_bytes[i];
            self.payload_bytes[i] += o.payload_bytes[i];
            self.retransmitted_bytes[i] += o.retransmitted_bytes[i];
            self.out_of_order_bytes[i] += o.out_of_order_bytes[i];
            self.not_captured_bytes[i] += o.not_captured_bytes[i];
            self.acknowledged_bytes[i] += o.acknowledged_bytes[i];
        }
        self.web |= o.web;
        self.authd |= o.authd;
    }

    /// Packets both ways.
    pub fn total_packets(&self) -> u64 {
        self.packets[0] + self.packets[1]
    }
    /// Wire bytes both ways.
    pub fn total_wire(&self) -> u64 {
        self.wire_bytes[0] + self.wire_bytes[1]
    }
    /// Payload bytes both ways.
    pub fn total_payload(&self) -> u64 {
        self.payload_bytes[0] + self.payload_bytes[1]
    }
}

/// A flow kept whole for the report, with its class.
#[derive(Debug, Clone)]
pub struct KeptFlow {
    /// The flow.
    pub flow: Flow,
    /// Its class.
    pub class: TrafficClass,
}

/// Settings of the classifier.
#[derive(Clone)]
pub struct ClassifyConfig {
    /// Keep only the N largest flows in the report (`--top`).
    pub top: Option<usize>,
    /// Keep at most this many flows whole when `top` is not given.
    pub max_report_flows: usize,
    /// Conversations held one by one before the smallest are folded into aggregates
    /// (`--max-conversations`).
    pub max_conversations: usize,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            top: None,
            max_report_flows: MAX_REPORT_FLOWS,
            max_conversations: MAX_CONVERSATIONS,
        }
    }
}

/// Flows listed in the report when `--top` is not given.
pub const MAX_REPORT_FLOWS: usize = 10_000;

/// Conversations held one by one when `--max-conversations` is not given.
pub const MAX_CONVERSATIONS: usize = 65_536;

/// Addresses whose first source MAC is remembered (for the network of an address that is no
/// vmk: `vm` for a VMware MAC, and the MAC of an inferred vmk); an address first seen beyond them
/// has no MAC (so `external` when it is no vmk).
pub const MAX_MACS: usize = 131_072;

/// Flows folded out of the kept list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Flows not listed individually.
    pub flows: u64,
    /// Their payload bytes.
    pub payload_bytes: u64,
}

/// A kept flow in the heap: ordered so that the heap's top is the flow the list would drop
/// first (the smallest payload; among equal payloads the later flow).
struct Ranked(KeptFlow);

impl Ranked {
    fn rank(&self) -> (std::cmp::Reverse<u64>, u64) {
        (
            std::cmp::Reverse(self.0.flow.payload_bytes()),
            self.0.flow.serial,
        )
    }
}

impl PartialEq for Ranked {
    fn eq(&self, o: &Ranked) -> bool {
        self.rank() == o.rank()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Ranked) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Ranked {
    fn cmp(&self, o: &Ranked) -> std::cmp::Ordering {
        self.rank().cmp(&o.rank())
    }
}

/// Accumulates ended flows.
///
/// The flows kept whole are the largest by payload (ties to the earlier flow), among those
/// admitted: once the list was first full, a flow no larger than the floor (the smallest kept
/// payload when the list was last trimmed) is not admitted. The list was trimmed whenever it
/// had grown to twice the cap; it is now a heap of the cap best flows (one flow's memory each,
/// not two), and `since_trim` replays when those trims happened, so that the floor, and so
/// every flow listed, is the same.
pub struct Classifier {
    cfg: ClassifyConfig,
    convs: convs::Convs,
    macs: FxHashMap<IpAddr, Mac>,
    kept: std::collections::BinaryHeap<Ranked>,
    /// What the list of the trimming design would hold: the flows kept at the last trim
    /// (at most the cap) and those admitted since.
    since_trim: usize,
    /// The payload of the smallest kept flow once the list was trimmed to the cap.
    kept_floor: Option<u64>,
    /// Flows that were not kept whole.
    pub folded: Folded,
    /// Flows seen.
    pub flows: u64,
}

impl Classifier {
    /// A classifier with its settings.
    pub fn new(cfg: ClassifyConfig) -> Classifier {
        Classifier {
            cfg,
            convs: convs::Convs::default(),
            macs: FxHashMap::default(),
            kept: std::collections::BinaryHeap::new(),
            since_trim: 0,
            kept_floor: None,
            folded: Folded::default(),
            flows: 0,
        }
    }

    fn cap(&self) -> usize {
        self.cfg.top.unwrap_or(self.cfg.max_report_flows)
    }

    /// The source MAC of a packet from `ip`: remembered when it is the first from that address
    /// (at most [`MAX_MACS`] addresses).
    pub fn saw_mac(&mut self, ip: IpAddr, mac: Mac) {
        if self.macs.len() < MAX_MACS || self.macs.contains_key(&ip) {
            self.macs.entry(ip).or_insert(mac);
        }
    }

    /// Takes one ended flow, adding it to its conversation's sums, or to those of `folded_into`,
    /// the aggregate its conversation was folded into.
    pub fn flow_ended(&mut self, f: Flow, folded_into: Option<ConvKey>) {
        self.flows += 1;
        let class = f.class;
        let key = folded_into.unwrap_or(ConvKey {
            proto: f.key.proto,
            client: Peer::Addr(f.client().ip),
            server: Peer::Addr(f.server().ip),
            class,
            vlan: f.key.vlan,
            shown: None,
        });
        self.convs.add(key, &f);
        let cap = self.cap();
        if cap == 0 {
            self.folded.flows += 1;
            self.folded.payload_bytes += f.payload_bytes();
            return;
        }
        // Once the list was trimmed, a flow no larger than the smallest kept cannot enter it
        // (a tie goes to the earlier flow): count it folded without moving it around.
        if self
            .kept_floor
            .is_some_and(|floor| f.payload_bytes() <= floor)
        {
            self.folded.flows += 1;
            self.folded.payload_bytes += f.payload_bytes();
            return;
        }
        let new = Ranked(KeptFlow { flow: f, class });
        if self.kept.len() < cap {
            self.kept.push(new);
        } else if let Some(mut worst) = self.kept.peek_mut() {
            // The better of the two stays; the other is folded (the trim would have dropped it).
            let out = match new < *worst {
                true => std::mem::replace(&mut *worst, new),
                false => new,
            };
            drop(worst);
            self.folded.flows += 1;
            self.folded.payload_bytes += out.0.flow.payload_bytes();
        }
        self.since_trim += 1;
        if self.since_trim >= cap.saturating_mul(2) {
            // The trim: the list held the cap best flows after it, the smallest of them the
            // floor.
            self.since_trim = cap;
            self.kept_floor = self.kept.peek().map(|k| k.0.flow.payload_bytes());
        }
    }

    /// Flows kept whole so far (bounded by the cap).
    pub fn kept_len(&self) -> usize {
        self.kept.len()
    }

    /// Conversations so far.
    pub fn conversations(&self) -> usize {
        self.convs.len()
    }

    /// Whether the first source MAC seen from `ip` carries a VMware OUI.
    pub fn vmware_mac(&self, ip: IpAddr) -> bool {
        self.macs.get(&ip).is_some_and(|m| m.is_vmware())
    }

    /// Takes a conversation out (to fold it into an aggregate).
    pub fn take(&mut self, key: &ConvKey) -> Option<ConvStats> {
        self.convs.remove(key)
    }

    /// Adds sums to a conversation (an aggregate of folded ones).
    pub fn merge(&mut self, key: ConvKey, s: &ConvStats) {
        self.convs.merge(key, s);
    }

    /// The first source MAC seen for an address.
    pub fn mac_of(&self, ip: IpAddr) -> Option<Mac> {
        self.macs.get(&ip).copied()
    }

    /// Ends accumulation: the kept flows (largest first, at most the cap) and the conversations
    /// sorted by key.
    pub fn finish(self) -> Classified {
        // Largest first, ties to the earlier flow.
        let kept = self
            .kept
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect();
        let convs = self.convs.into_sorted();
        let macs: Arc<BTreeMap<IpAddr, Mac>> = Arc::new(self.macs.into_iter().collect());
        Classified {
            kept,
            folded: self.folded,
            flows: self.flows,
            convs,
            macs,
        }
    }
}

/// Everything the classifier accumulated, sorted.
pub struct Classified {
    /// Flows kept whole, largest first.
    pub kept: Vec<KeptFlow>,
    /// Flows not kept whole.
    pub folded: Folded,
    /// Flows seen.
    pub flows: u64,
    /// Conversations by key.
    pub convs: Vec<(ConvKey, ConvStats)>,
    /// First source MAC per address.
    pub macs: Arc<BTreeMap<IpAddr, Mac>>,
}

/// One end of a flow or conversation, located in the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// Index of the vmk in the inventory.
    pub vmk: Option<usize>,
    /// The endpoint's network for this class.
    pub network: Network,
}

impl Classified {
    /// Locates an end of a conversation for a class (see [`locate`]); an end folded away is a
    /// VM or not by its flag.
    pub fn locate(
        &self,
        inv: &VmkInventory,
        peer: Peer,
        vlan: Option<u16>,
        class: TrafficClass,
    ) -> Located {
        let mac = peer.ip().and_then(|ip| self.macs.get(&ip).copied());
        locate_peer(inv, peer, vlan, mac, class)
    }

    /// Whether an end's first source MAC carries a VMware OUI.
    pub fn vmware_mac(&self, peer: Peer) -> bool {
        match peer {
            Peer::Addr(ip) => self.macs.get(&ip).is_some_and(|m| m.is_vmware()),
            Peer::Folded { vmware_mac } => vmware_mac,
        }
    }
}

/// Locates an endpoint for a class: its vmk (by address and VLAN) and its network (from the vmk's
/// services, or from the first source MAC seen from the address when it is no vmk).
pub fn locate(
    inv: &VmkInventory,
    macs: &BTreeMap<IpAddr, Mac>,
    ip: IpAddr,
    vlan: Option<u16>,
    class: TrafficClass,
) -> Located {
    locate_with_mac(inv, ip, vlan, macs.get(&ip).copied(), class)
}

/// Locates an endpoint for a class, knowing the MAC it used (live views, which see one packet at
/// a time): its vmk by address and VLAN, and its network from the vmk's services, or from the MAC
/// when it is no vmk (`vm` for a VMware MAC, else `external`).
pub fn locate_with_mac(
    inv: &VmkInventory,
    ip: IpAddr,
    vlan: Option<u16>,
    mac: Option<Mac>,
    class: TrafficClass,
) -> Located {
    let vmk = inv.lookup(ip, vlan);
    Located {
        vmk,
        network: inv.network(vmk, mac, class),
    }
}

/// Locates an end of a conversation, knowing its MAC: [`locate_with_mac`] for an address; an end
/// folded away is no vmk, on `vm` when its MAC was VMware's, else `external`.
pub fn locate_peer(
    inv: &VmkInventory,
    peer: Peer,
    vlan: Option<u16>,
    mac: Option<Mac>,
    class: TrafficClass,
) -> Located {
    match peer {
        Peer::Addr(ip) => locate_with_mac(inv, ip, vlan, mac, class),
        Peer::Folded { vmware_mac } => Located {
            vmk: None,
            network: if vmware_mac {
                Network::Vm
            } else {
                Network::External
            },
        },
    }
}

/// The networks a conversation counts for: each distinct vmk network of its two ends; when
/// neither end is a vmk, `vm` if either end is a VM, else `external`.
pub fn networks_of(client: Network, server: Network) -> [Option<Network>; 2] {
    match (client.is_vmk(), server.is_vmk()) {
        (true, true) if client == server => [Some(client), None],
        (true, true) => [Some(client), Some(server)],
        (true, false) => [Some(client), None],
        (false, true) => [Some(server), None],
        (false, false) if client == Network::Vm || server == Network::Vm => {
            [Some(Network::Vm), None]
        }
        (false, false) => [Some(Network::External), None],
    }
}

#[cfg(test)]
mod tests;
