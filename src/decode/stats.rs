//! Counters over decoded packets: what the capture section of the report says about layers.
//!
//! In: every [`Decoded`] with its frame's captured and original lengths. Out: [`DecodeStats`],
//! fixed counters (no map per packet), serialized with undecodable reasons as a sorted map.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use super::{Decoded, Fragment, Transport, TunnelKind, Undecodable};

/// Layer counters for the report's `capture.decode` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecodeStats {
    /// Packets with an IPv4 header (innermost, after decapsulation).
    pub ipv4: u64,
    /// Packets with an IPv6 header.
    pub ipv6: u64,
    /// Packets with a TCP header (at least the ports).
    pub tcp: u64,
    /// Packets with a UDP header.
    pub udp: u64,
    /// ICMP and ICMPv6 packets.
    pub icmp: u64,
    /// IP packets of other protocols.
    pub other_ip_protocol: u64,
    /// Frames with at least one VLAN tag.
    pub vlan_tagged: u64,
    /// Frames with two or more VLAN tags (802.1ad/QinQ).
    pub qinq: u64,
    /// Frames decapsulated from a tunnel.
    pub tunnelled: u64,
    /// Tunnelled frames by encapsulation.
    pub tunnels: TunnelCounts,
    /// ARP packets.
    pub arp: u64,
    /// RARP packets (EtherType 0x8035).
    pub rarp: u64,
    /// IP fragments (first and later).
    pub fragments: u64,
    /// Frames whose network layer is not IP (including ARP and RARP), not counting undecodable ones.
    pub non_ip: u64,
    /// Frames whose captured length is below their original length (header-only capture).
    pub sliced: u64,
    /// TCP payload bytes from the length fields.
    pub tcp_payload_bytes: u64,
    /// UDP payload bytes from the length fields.
    pub udp_payload_bytes: u64,
    /// TCP segments whose header was cut before its length field (a snap length, or a mirror
    /// session's truncation of the mirrored frame, inside the TCP header): their payload is
    /// estimated by the flow stage from the IP length.
    pub tcp_header_cut: u64,
    /// The part of `tcp_payload_bytes` so estimated.
    pub tcp_payload_estimated_bytes: u64,
    /// Packets where decoding stopped early, by reason; also counted in the layers they reached.
    #[serde(serialize_with = "reasons")]
    pub undecodable: [u64; Undecodable::ALL.len()],
}

/// Tunnelled frames by encapsulation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TunnelCounts {
    /// GRE (transparent Ethernet or IP).
    pub gre: u64,
    /// ERSPAN type I/II.
    pub erspan2: u64,
    /// ERSPAN type III.
    pub erspan3: u64,
    /// VXLAN.
    pub vxlan: u64,
}

fn reasons<S: Serializer>(v: &[u64; Undecodable::ALL.len()], s: S) -> Result<S::Ok, S::Error> {
    let m: BTreeMap<&'static str, u64> = Undecodable::ALL
        .iter()
        .zip(v.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| (r.key(), *n))
        .collect();
    m.serialize(s)
}

impl DecodeStats {
    /// Counts one decoded frame.
    pub fn add(&mut self, d: &Decoded, captured_len: u32, orig_len: u32) {
        if captured_len < orig_len {
            self.sliced += 1;
        }
        if d.vlan_count > 0 {
            self.vlan_tagged += 1;
        }
        if d.vlan_count > 1 {
            self.qinq += 1;
        }
        if let Some(t) = &d.tunnel {
            self.tunnelled += 1;
            match t.kind {
                TunnelKind::Gre => self.tunnels.gre += 1,
                TunnelKind::Erspan2 => self.tunnels.erspan2 += 1,
                TunnelKind::Erspan3 => self.tunnels.erspan3 += 1,
                TunnelKind::Vxlan => self.tunnels.vxlan += 1,
            }
        }
        if let Some(e) = d.error {
            if let Some(i) = Undecodable::ALL.iter().position(|r| *r == e) {
                self.undecodable[i] += 1;
            }
        }
        match &d.ip {
            Some(ip) => {
                if ip.src.is_ipv4() {
                    self.ipv4 += 1;
                } else {
                    self.ipv6 += 1;
                }
                if ip.fragment != Fragment::None {
                    self.fragments += 1;
                }
            }
            None => {
                if let Some(a) = &d.arp {
                    if a.rarp {
                        self.rarp += 1;
                    } else {
                        self.arp += 1;
                    }
                }
                if d.error.is_none() {
                    self.non_ip += 1;
                }
            }
        }
        match d.transport {
            Transport::Tcp {
                payload_len,
                fields,
            } => {
                self.tcp += 1;
                self.tcp_payload_bytes += payload_len.unwrap_or(0) as u64;
                if fields.header_len.is_none() {
                    self.tcp_header_cut += 1;
                }
            }
            Transport::Udp { payload_len, .. } => {
                self.udp += 1;
                self.udp_payload_bytes += payload_len as u64;
            }
            Transport::Icmp { .. } => self.icmp += 1,
            Transport::Other(_) => self.other_ip_protocol += 1,
            Transport::None => {}
        }
    }

    /// Packets with any undecodable reason.
    pub fn undecodable_total(&self) -> u64 {
        self.undecodable.iter().sum()
    }
}
