//! Report sections built from flows: `inventory`, `interfaces`, `networks`, `classes`, `flows`.
//!
//! In: the classifier's accumulated conversations and kept flows, and the inventory used.
//! Out: serialize-only section types, sorted so two runs print the same bytes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::capture::time::rfc3339;
use crate::classify::inventory::{InventorySource, Network, Service, VmkInventory};
use crate::classify::ports::TrafficClass;
use crate::classify::{Classified, networks_of};
use crate::flow::{DirStats, EndReason};

/// Formats a MAC as `00:50:56:aa:bb:cc`.
pub fn mac_string(m: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

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

/// Totals of a network or a class.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    /// Packets.
    pub packets: u64,
    /// Original frame bytes.
    pub wire_bytes: u64,
    /// TCP/UDP payload bytes.
    pub payload_bytes: u64,
    /// Retransmitted TCP payload bytes.
    pub retransmitted_bytes: u64,
    /// Flows.
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
    /// Retransmitted payload bytes.
    pub retransmitted_bytes: u64,
    /// First packet.
    pub first_ts: Option<String>,
    /// Last packet.
    pub last_ts: Option<String>,
}

impl From<&DirStats> for DirReport {
    fn from(d: &DirStats) -> Self {
        DirReport {
            packets: d.packets,
            wire_bytes: d.wire_bytes,
            payload_bytes: d.payload_bytes,
            retransmitted_bytes: d.retransmitted_bytes,
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
    pub interfaces: Vec<InterfaceReport>,
    /// Per network.
    pub networks: BTreeMap<Network, Totals>,
    /// Per class.
    pub classes: BTreeMap<TrafficClass, Totals>,
    /// Payload bytes by network, then class (a flow spanning two networks counts under both).
    pub payload_bytes_by_network_and_class: BTreeMap<Network, BTreeMap<TrafficClass, u64>>,
    /// Flow counts and limits.
    pub flow_summary: FlowSummary,
    /// The flows kept whole, largest payload first.
    pub flows: Vec<FlowReport>,
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
}

fn proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmpv6".into(),
        47 => "gre".into(),
        other => other.to_string(),
    }
}

fn end_name(e: Option<EndReason>) -> &'static str {
    match e {
        Some(EndReason::Closed) => "closed",
        Some(EndReason::Idle) => "idle",
        Some(EndReason::Pressure) => "pressure",
        Some(EndReason::EndOfCapture) | None => "end_of_capture",
    }
}

fn add_totals(t: &mut Totals, packets: u64, wire: u64, payload: u64, retrans: u64, flows: u64) {
    t.packets += packets;
    t.wire_bytes += wire;
    t.payload_bytes += payload;
    t.retransmitted_bytes += retrans;
    t.flows += flows;
}

/// Builds the flow sections.
pub fn build(
    c: &Classified,
    inv: &VmkInventory,
    peak_live: u64,
    packets_without_ports: u64,
) -> FlowSections {
    let mut networks: BTreeMap<Network, Totals> = BTreeMap::new();
    let mut classes: BTreeMap<TrafficClass, Totals> = BTreeMap::new();
    let mut ifaces: Vec<InterfaceReport> = inv
        .vmks
        .iter()
        .map(|v| InterfaceReport {
            host: v.host.clone(),
            vmk: v.name.clone(),
            services: v.services.clone(),
            addresses: v.addrs.iter().map(|(a, p)| format!("{a}/{p}")).collect(),
            vlan: v.vlan,
            mac: v.mac.map(mac_string),
            sent_payload_bytes: BTreeMap::new(),
            received_payload_bytes: BTreeMap::new(),
            flows: 0,
        })
        .collect();
    let mut matrix: BTreeMap<Network, BTreeMap<TrafficClass, u64>> = BTreeMap::new();
    let mut spanning = 0u64;
    for (k, s) in &c.convs {
        let retrans = s.retransmitted_bytes[0] + s.retransmitted_bytes[1];
        add_totals(
            classes.entry(k.class).or_default(),
            s.total_packets(),
            s.total_wire(),
            s.total_payload(),
            retrans,
            s.flows,
        );
        let cl = c.locate(inv, k.client, k.vlan, k.class);
        let sv = c.locate(inv, k.server, k.vlan, k.class);
        let nets = networks_of(cl.network, sv.network);
        if nets[1].is_some() {
            spanning += s.flows;
        }
        for n in nets.into_iter().flatten() {
            *matrix.entry(n).or_default().entry(k.class).or_default() += s.total_payload();
            add_totals(
                networks.entry(n).or_default(),
                s.total_packets(),
                s.total_wire(),
                s.total_payload(),
                retrans,
                s.flows,
            );
        }
        // Sent/received per vmk: the client sent direction 0, the server direction 1.
        for (loc, sent, recv) in [(cl, 0usize, 1usize), (sv, 1, 0)] {
            if let Some(i) = loc.vmk {
                if let Some(r) = ifaces.get_mut(i) {
                    *r.sent_payload_bytes.entry(k.class).or_default() += s.payload_bytes[sent];
                    *r.received_payload_bytes.entry(k.class).or_default() += s.payload_bytes[recv];
                    r.flows += s.flows;
                }
            }
        }
    }
    let flows = c
        .kept
        .iter()
        .map(|k| {
            let f = &k.flow;
            let (c2s, s2c) = f.client_server();
            let (cmac, smac) = f.client_server_macs();
            let endpoint = |ep: crate::flow::Endpoint, mac: Option<[u8; 6]>| {
                let loc = c.locate(inv, ep.ip, f.key.vlan, k.class);
                let v = loc.vmk.and_then(|i| inv.vmks.get(i));
                EndpointReport {
                    ip: ep.ip.to_string(),
                    port: ep.port,
                    mac: mac.map(mac_string),
                    host: v.map(|v| v.host.clone()),
                    vmk: v.map(|v| v.name.clone()),
                    network: loc.network,
                }
            };
            let tcp = (f.key.proto == 6).then(|| {
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
                protocol: proto_name(f.key.proto),
                class: k.class,
                vlan: f.key.vlan,
                tunnel: f.key.tunnel.map(|(kind, id)| TunnelReport { kind, id }),
                client: endpoint(f.client(), cmac),
                server: endpoint(f.server(), smac),
                client_to_server: c2s.into(),
                server_to_client: s2c.into(),
                tcp,
                ended: end_name(f.end),
            }
        })
        .collect::<Vec<_>>();
    let hosts = {
        let mut h: Vec<&str> = inv.vmks.iter().map(|v| v.host.as_str()).collect();
        h.dedup();
        h.len()
    };
    FlowSections {
        inventory: InventorySection {
            source: inv.source.clone(),
            hosts,
            vmknics: inv.vmks.len(),
        },
        interfaces: ifaces,
        networks,
        classes,
        payload_bytes_by_network_and_class: matrix,
        flow_summary: FlowSummary {
            flows: c.flows,
            listed: flows.len() as u64,
            not_listed: c.folded.flows,
            not_listed_payload_bytes: c.folded.payload_bytes,
            flows_spanning_networks: spanning,
            peak_live_flows: peak_live,
            packets_without_ports,
        },
        flows,
    }
}
