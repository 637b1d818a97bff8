//! Traffic totals: the classifier's conversations added up per network, per class, per network and
//! class, and per vmk (sent and received by class).
//!
//! In: the [`Classified`] conversations and the inventory. Out: [`TrafficTotals`], sorted maps
//! and one entry per inventory vmk, which the report describes as they are.

use std::collections::BTreeMap;

use serde::Serialize;

use super::inventory::{Network, VmkInventory};
use super::{Classified, ConvStats, networks_of};
use crate::vocab::ports::TrafficClass;

/// Totals of a network or a class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Packets.
    pub packets: u64,
    /// Original frame bytes.
    pub wire_bytes: u64,
    /// TCP/UDP payload bytes.
    pub payload_bytes: u64,
    /// TCP payload bytes that repeated sequence space already seen.
    pub retransmitted_bytes: u64,
    /// TCP payload bytes seen for the first time below the highest sequence already seen.
    pub out_of_order_bytes: u64,
    /// TCP sequence space never seen: bytes the capture lost.
    pub not_captured_bytes: u64,
    /// The part of `payload_bytes` counted from acknowledgements: TCP directions none of whose
    /// segments was captured, their bytes taken from what the receiver acknowledged.
    pub acknowledged_bytes: u64,
    /// Flows.
    pub flows: u64,
}

impl Totals {
    /// Adds a conversation, both directions.
    fn add(&mut self, s: &ConvStats) {
        self.packets += s.total_packets();
        self.wire_bytes += s.total_wire();
        self.payload_bytes += s.total_payload();
        self.retransmitted_bytes += s.retransmitted_bytes.iter().sum::<u64>();
        self.out_of_order_bytes += s.out_of_order_bytes.iter().sum::<u64>();
        self.not_captured_bytes += s.not_captured_bytes.iter().sum::<u64>();
        self.acknowledged_bytes += s.acknowledged_bytes.iter().sum::<u64>();
        self.flows += s.flows;
    }
}

/// Payload bytes one vmk sent and received, by class, and its flows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmkCounts {
    /// Flows with this vmk at one end.
    pub flows: u64,
    /// (class, sent, received), one entry per class seen, in order of first sight.
    pub by_class: Vec<(TrafficClass, u64, u64)>,
}

impl VmkCounts {
    fn add(&mut self, class: TrafficClass, sent: u64, received: u64, flows: u64) {
        self.flows += flows;
        match self.by_class.iter_mut().find(|e| e.0 == class) {
            Some(e) => {
                e.1 += sent;
                e.2 += received;
            }
            None => {
                // One class at a time: most vmks carry one or two classes, and a vector of
                // four (the first push's capacity) for each of 100 000 inferred vmks is 7 MB.
                self.by_class.reserve_exact(1);
                self.by_class.push((class, sent, received));
            }
        }
    }
}

/// The totals of the whole capture.
#[derive(Debug, Clone, Default)]
pub struct TrafficTotals {
    /// Per network (a conversation spanning two networks counts under both).
    pub networks: BTreeMap<Network, Totals>,
    /// Per class.
    pub classes: BTreeMap<TrafficClass, Totals>,
    /// Payload bytes by network, then class.
    pub by_network_and_class: BTreeMap<Network, BTreeMap<TrafficClass, u64>>,
    /// Per inventory vmk, in inventory order.
    pub per_vmk: Vec<VmkCounts>,
    /// Flows whose two ends are on different vmk networks.
    pub flows_spanning_networks: u64,
}

/// Adds up the conversations.
pub fn totals(c: &Classified, inv: &VmkInventory) -> TrafficTotals {
    let mut networks: BTreeMap<Network, Totals> = BTreeMap::new();
    let mut classes: BTreeMap<TrafficClass, Totals> = BTreeMap::new();
    let mut per_vmk: Vec<VmkCounts> = vec![VmkCounts::default(); inv.vmks.len()];
    let mut matrix: BTreeMap<Network, BTreeMap<TrafficClass, u64>> = BTreeMap::new();
    let mut spanning = 0u64;
    for (k, s) in &c.convs {
        classes.entry(k.class).or_default().add(s);
        let cl = c.locate(inv, k.client, k.vlan, k.class);
        let sv = c.locate(inv, k.server, k.vlan, k.class);
        let nets = networks_of(cl.network, sv.network);
        if nets[1].is_some() {
            spanning += s.flows;
        }
        for n in nets.into_iter().flatten() {
            *matrix.entry(n).or_default().entry(k.class).or_default() += s.total_payload();
            networks.entry(n).or_default().add(s);
        }
        // Sent/received per vmk: the client sent direction 0, the server direction 1.
        for (loc, sent, recv) in [(cl, 0usize, 1usize), (sv, 1, 0)] {
            if let Some(i) = loc.vmk {
                if let Some(r) = per_vmk.get_mut(i) {
                    r.add(
                        k.class,
                        s.payload_bytes[sent],
                        s.payload_bytes[recv],
                        s.flows,
                    );
                }
            }
        }
    }
    TrafficTotals {
        networks,
        classes,
        by_network_and_class: matrix,
        per_vmk,
        flows_spanning_networks: spanning,
    }
}
