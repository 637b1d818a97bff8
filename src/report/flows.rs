//! Report sections that describe the traffic: `inventory`, `interfaces`, `networks`, `classes`,
//! `flows`.
//!
//! In: the classifier's totals, kept flows and the inventory used. Out: serialize-only section
//! types, sorted so two runs print the same bytes. Nothing is added up here: the totals come from
//! [`crate::classify::totals`].

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use crate::classify::inventory::{InventorySource, Network, Service, VmkInventory};
use crate::classify::totals::{Totals, TrafficTotals, VmkCounts};
use crate::classify::{Classified, KeptFlow, locate};
use crate::flow::signature::Signature;
use crate::flow::{DirStats, EndReason};
use crate::vocab::Mac;
use crate::vocab::ports::TrafficClass;
use crate::vocab::time::rfc3339;
use crate::vocab::wire::IpProtocol;

/// The inventory used for attribution.
#[derive(Debug, Clone, Serialize)]
pub struct InventorySection {
    /// `file`, `power_cli_csv`, `inferred` or `none`, with the path for files.
    pub source: InventorySource,
    /// Hosts named.
    pub hosts: usize,
    /// Vmks named.
    pub vmknics: usize,
}

/// Payload bytes sent and received by one vmk, by class.
#[derive(Debug, Clone, Serialize)]
pub struct InterfaceReport {
    /// Host name.
    pub host: String,
    /// Vmk name.
    pub vmk: String,
    /// Service tags.
    pub services: Vec<Service>,
    /// Addresses with prefix length.
    pub addresses: Vec<String>,
    /// VLAN id.
    pub vlan: Option<u16>,
    /// MAC address.
    pub mac: Option<String>,
    /// Payload bytes this vmk sent, by class.
    pub sent_payload_bytes: BTreeMap<TrafficClass, u64>,
    /// Payload bytes this vmk received, by class.
    pub received_payload_bytes: BTreeMap<TrafficClass, u64>,
    /// Flows with this vmk at one end.
    pub flows: u64,
}

/// One side of a flow.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// Address.
    pub ip: String,
    /// Port.
    pub port: u16,
    /// First source MAC seen from it.
    pub mac: Option<String>,
    /// Host it belongs to.
    pub host: Option<String>,
    /// Vmk it is.
    pub vmk: Option<String>,
    /// Its network for this flow's class.
    pub network: Network,
}

/// One direction of a flow.
#[derive(Debug, Clone, Serialize)]
pub struct DirReport {
    /// Packets.
    pub packets: u64,
    /// Original frame bytes.
    pub wire_bytes: u64,
    /// Payload bytes (retransmissions included).
    pub payload_bytes: u64,
    /// Payload bytes that repeated sequence space already seen.
    pub retransmitted_bytes: u64,
    /// Payload bytes seen for the first time below the highest sequence already seen.
    pub out_of_order_bytes: u64,
    /// Sequence space never seen: bytes the capture lost.
    pub not_captured_bytes: u64,
    /// The part of `payload_bytes` estimated because the TCP header was cut before its length.
    pub estimated_payload_bytes: u64,
    /// The part of `payload_bytes` counted from the other direction's acknowledgement numbers,
    /// because none of this direction's segments was captured.
    pub acknowledged_bytes: u64,
    /// Where `payload_bytes` came from (see [`PayloadSource`]).
    pub payload_source: PayloadSource,
    /// What the first captured payload bytes looked like (`http_request`, `http_response`,
    /// `tls`, `vmware_authd`, `other`); `null` when no payload byte was captured.
    pub first_payload: Option<Signature>,
    /// First packet.
    pub first_ts: Option<String>,
    /// Last packet.
    pub last_ts: Option<String>,
}

/// Where a flow direction's payload bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadSource {
    /// The direction's own segments (also a direction with no payload at all).
    Captured,
    /// All from the other direction's acknowledgements: none of its segments was captured (a
    /// capture of the receiver's transmitted frames only).
    Acknowledged,
    /// Acknowledgements first, its own segments once they appeared.
    Mixed,
}

impl PayloadSource {
    /// The source of a direction's payload bytes.
    pub fn of(d: &DirStats) -> PayloadSource {
        if d.acknowledged_bytes == 0 {
            PayloadSource::Captured
        } else if d.acknowledged_bytes >= d.payload_bytes {
            PayloadSource::Acknowledged
        } else {
            PayloadSource::Mixed
        }
    }
}

impl From<&DirStats> for DirReport {
    fn from(d: &DirStats) -> Self {
        DirReport {
            packets: d.packets,
            wire_bytes: d.wire_bytes,
            payload_bytes: d.payload_bytes,
            retransmitted_bytes: d.retransmitted_bytes,
            out_of_order_bytes: d.out_of_order_bytes,
            not_captured_bytes: d.not_captured_bytes,
            estimated_payload_bytes: d.estimated_payload_bytes,
            acknowledged_bytes: d.acknowledged_bytes,
            payload_source: PayloadSource::of(d),
            first_payload: None,
            first_ts: d.first_ts.map(rfc3339),
            last_ts: d.last_ts.map(rfc3339),
        }
    }
}

/// TCP state of a flow.
#[derive(Debug, Clone, Serialize)]
pub struct TcpState {
    /// SYN seen from the client.
    pub syn: bool,
    /// SYN-ACK seen from the server.
    pub syn_ack: bool,
    /// FIN from the client.
    pub client_fin: bool,
    /// FIN from the server.
    pub server_fin: bool,
    /// RST from either.
    pub rst: bool,
    /// `closed`, `reset`, `half_closed` or `open`.
    pub state: &'static str,
    /// Whether the client was identified by its SYN (else by the ports).
    pub client_by_syn: bool,
}

/// Tunnel of a mirrored flow.
#[derive(Debug, Clone, Serialize)]
pub struct TunnelReport {
    /// `gre`, `erspan2`, `erspan3` or `vxlan`.
    pub kind: crate::decode::TunnelKind,
    /// Session id, VNI or key.
    pub id: u32,
}

/// One flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowReport {
    /// `tcp`, `udp`, `icmp` or the protocol number.
    pub protocol: String,
    /// Traffic class.
    pub class: TrafficClass,
    /// VLAN id.
    pub vlan: Option<u16>,
    /// Tunnel, when mirrored.
    pub tunnel: Option<TunnelReport>,
    /// The client side.
    pub client: EndpointReport,
    /// The server side.
    pub server: EndpointReport,
    /// Client to server.
    pub client_to_server: DirReport,
    /// Server to client.
    pub server_to_client: DirReport,
    /// TCP state, for TCP.
    pub tcp: Option<TcpState>,
    /// Why the flow left the table: `closed`, `idle`, `pressure`, `end_of_capture`.
    pub ended: &'static str,
}

/// The flow part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSections {
    /// Inventory used.
    pub inventory: InventorySection,
    /// Per vmk.
    pub interfaces: InterfaceList,
    /// Per network.
    pub networks: BTreeMap<Network, Totals>,
    /// Per class.
    pub classes: BTreeMap<TrafficClass, Totals>,
    /// Payload bytes by network, then class (a flow spanning two networks counts under both).
    pub payload_bytes_by_network_and_class: BTreeMap<Network, BTreeMap<TrafficClass, u64>>,
    /// Flow counts and limits.
    pub flow_summary: FlowSummary,
    /// The flows kept whole, largest payload first.
    pub flows: FlowList,
}

/// Counts about the flow table.
#[derive(Debug, Clone, Serialize)]
pub struct FlowSummary {
    /// Flows seen.
    pub flows: u64,
    /// Flows listed in `flows`.
    pub listed: u64,
    /// Flows not listed (beyond `--top` or the report cap); still counted everywhere else.
    pub not_listed: u64,
    /// Payload bytes of the flows not listed.
    pub not_listed_payload_bytes: u64,
    /// Flows whose two ends are on different vmk networks (counted under both in `networks`).
    pub flows_spanning_networks: u64,
    /// Most flows live at once in the table.
    pub peak_live_flows: u64,
    /// IP packets of TCP/UDP without ports (later fragments, cut headers): in no flow.
    pub packets_without_ports: u64,
    /// Conversations (flows without their ports) held one by one at the end.
    pub conversations: u64,
    /// Conversations folded into aggregates when more were open than `--max-conversations`
    /// (every total still counts them; one folded twice counts twice).
    pub conversations_folded: u64,
    /// Most payload bytes a conversation had when it was folded: every conversation larger
    /// than this was held one by one to the end.
    pub largest_folded_conversation_bytes: u64,
}

/// What the flow table and the conversation bound counted, for the flow summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableCounts {
    /// Most flows live at once.
    pub peak_live_flows: u64,
    /// IP packets of TCP/UDP without ports.
    pub packets_without_ports: u64,
    /// Conversations held one by one at the end.
    pub conversations: u64,
    /// Conversations folded into aggregates.
    pub conversations_folded: u64,
    /// Most payload bytes of a folded conversation.
    pub largest_folded_conversation_bytes: u64,
}

fn end_name(e: Option<EndReason>) -> &'static str {
    match e {
        Some(EndReason::Closed) => "closed",
        Some(EndReason::Idle) => "idle",
        Some(EndReason::Pressure) => "pressure",
        Some(EndReason::EndOfCapture) | None => "end_of_capture",
    }
}

/// The vmks with their counts, turned into [`InterfaceReport`]s one at a time as they are
/// written (an inferred inventory can name one vmk per address).
#[derive(Clone)]
pub struct InterfaceList {
    inventory: Arc<VmkInventory>,
    counts: Arc<Vec<VmkCounts>>,
}

impl std::fmt::Debug for InterfaceList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InterfaceList({} vmks)", self.counts.len())
    }
}

impl InterfaceList {
    /// Vmks listed.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no vmk is listed.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The vmks in inventory order (host, then name).
    pub fn iter(&self) -> impl Iterator<Item = InterfaceReport> + '_ {
        self.inventory
            .vmks
            .iter()
            .zip(self.counts.iter())
            .map(|(v, c)| InterfaceReport {
                host: v.host.clone(),
                vmk: v.name.clone(),
                services: v.services.clone(),
                addresses: v.addrs.iter().map(|(a, p)| format!("{a}/{p}")).collect(),
                vlan: v.vlan,
                mac: v.mac.map(|m| m.to_string()),
                sent_payload_bytes: c.by_class.iter().map(|e| (e.0, e.1)).collect(),
                received_payload_bytes: c.by_class.iter().map(|e| (e.0, e.2)).collect(),
                flows: c.flows,
            })
    }
}

impl Serialize for InterfaceList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.counts.len()))?;
        for i in self.iter() {
            seq.serialize_element(&i)?;
        }
        seq.end()
    }
}

/// The flows kept whole, turned into [`FlowReport`]s one at a time as they are written, so a report
/// listing 10⁵ flows never holds them all as report structures.
#[derive(Clone)]
pub struct FlowList {
    kept: Arc<Vec<KeptFlow>>,
    inventory: Arc<VmkInventory>,
    macs: Arc<BTreeMap<IpAddr, Mac>>,
}

impl std::fmt::Debug for FlowList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FlowList({} flows)", self.kept.len())
    }
}

impl FlowList {
    /// Flows listed.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether no flow is listed.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The flows kept whole, as the flow stage left them, largest payload first.
    pub fn kept(&self) -> &[KeptFlow] {
        &self.kept
    }

    /// The flows, largest payload first.
    pub fn iter(&self) -> impl Iterator<Item = FlowReport> + '_ {
        self.kept
            .iter()
            .map(|k| flow_report(k, &self.inventory, &self.macs))
    }
}

impl Serialize for FlowList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.kept.len()))?;
        for f in self.iter() {
            seq.serialize_element(&f)?;
        }
        seq.end()
    }
}

/// One kept flow as the report shows it.
fn flow_report(k: &KeptFlow, inv: &VmkInventory, macs: &BTreeMap<IpAddr, Mac>) -> FlowReport {
    let f = &k.flow;
    let (c2s, s2c) = f.client_server();
    let (cmac, smac) = f.client_server_macs();
    let (csig, ssig) = f.client_server_signatures();
    let endpoint = |ep: crate::flow::Endpoint, mac: Option<Mac>| {
        let loc = locate(inv, macs, ep.ip, f.key.vlan, k.class);
        let v = loc.vmk.and_then(|i| inv.vmks.get(i));
        EndpointReport {
            ip: ep.ip.to_string(),
            port: ep.port,
            mac: mac.map(|m| m.to_string()),
            host: v.map(|v| v.host.clone()),
            vmk: v.map(|v| v.name.clone()),
            network: loc.network,
        }
    };
    let tcp = (f.key.proto == IpProtocol::Tcp).then(|| {
        let rst = c2s.rst || s2c.rst;
        TcpState {
            syn: c2s.syn,
            syn_ack: s2c.syn,
            client_fin: c2s.fin,
            server_fin: s2c.fin,
            rst,
            state: if rst {
                "reset"
            } else if c2s.fin && s2c.fin {
                "closed"
            } else if c2s.fin || s2c.fin {
                "half_closed"
            } else {
                "open"
            },
            client_by_syn: f.client_by_syn,
        }
    });
    FlowReport {
        protocol: f.key.proto.to_string(),
        class: k.class,
        vlan: f.key.vlan,
        tunnel: f.key.tunnel.map(|(kind, id)| TunnelReport { kind, id }),
        client: endpoint(f.client(), cmac),
        server: endpoint(f.server(), smac),
        client_to_server: DirReport {
            first_payload: csig,
            ..c2s.into()
        },
        server_to_client: DirReport {
            first_payload: ssig,
            ..s2c.into()
        },
        tcp,
        ended: end_name(f.end),
    }
}

/// Assembles the flow sections from the classifier's totals; the kept flows move into the
/// report's flow list.
pub fn sections(
    c: &Classified,
    totals: TrafficTotals,
    kept: &mut Vec<KeptFlow>,
    inv: &Arc<VmkInventory>,
    counts: TableCounts,
) -> FlowSections {
    let flows = FlowList {
        kept: Arc::new(std::mem::take(kept)),
        inventory: Arc::clone(inv),
        macs: Arc::clone(&c.macs),
    };
    FlowSections {
        inventory: InventorySection {
            source: inv.source.clone(),
            hosts: inv.host_names().len(),
            vmknics: inv.vmks.len(),
        },
        interfaces: InterfaceList {
            inventory: Arc::clone(inv),
            counts: Arc::new(totals.per_vmk),
        },
        networks: totals.networks,
        classes: totals.classes,
        payload_bytes_by_network_and_class: totals.by_network_and_class,
        flow_summary: FlowSummary {
            flows: c.flows,
            listed: flows.len() as u64,
            not_listed: c.folded.flows,
            not_listed_payload_bytes: c.folded.payload_bytes,
            flows_spanning_networks: totals.flows_spanning_networks,
            peak_live_flows: counts.peak_live_flows,
            packets_without_ports: counts.packets_without_ports,
            conversations: counts.conversations,
            conversations_folded: counts.conversations_folded,
            largest_folded_conversation_bytes: counts.largest_folded_conversation_bytes,
        },
        flows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_source_says_where_the_bytes_came_from() {
        let d = |payload_bytes, acknowledged_bytes| DirStats {
            payload_bytes,
            acknowledged_bytes,
            ..DirStats::default()
        };
        assert_eq!(PayloadSource::of(&d(0, 0)), PayloadSource::Captured);
        assert_eq!(PayloadSource::of(&d(500, 0)), PayloadSource::Captured);
        assert_eq!(PayloadSource::of(&d(500, 500)), PayloadSource::Acknowledged);
        assert_eq!(PayloadSource::of(&d(900, 500)), PayloadSource::Mixed);
        let json = serde_json::to_string(&DirReport::from(&d(900, 500))).expect("JSON");
        assert!(json.contains(r#""acknowledged_bytes":500,"payload_source":"mixed""#));
    }
}
