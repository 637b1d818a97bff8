//! Decode stage: one captured frame in, one [`Decoded`] summary out, without copying or allocating.
//!
//! In: a link type and the captured bytes of a [`crate::capture::Frame`]. Out: MAC addresses, VLAN
//! ids, the outer tunnel (GRE, ERSPAN II/III, VXLAN) when the frame was mirrored, ARP/RARP sender,
//! IP addresses and protocol, TCP/UDP ports and flags, and payload lengths computed from the IP and
//! TCP/UDP length fields (so header-only captures still account every payload byte). Where decoding
//! stops early, [`Decoded::error`] says why; nothing panics on any input.
//!
//! etherparse's `LaxSlicedPacket` reads Ethernet, VLAN/QinQ, IPv4 (with options) and IPv6 (with
//! extension headers); the views in [`views`] read the rest.

mod fast;
pub mod stats;
pub mod views;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, LinkSlice};
use serde::Serialize;

use crate::vocab::Mac;
pub use stats::DecodeStats;
use views::{Arp, Erspan, Gre, NullFamily, Sll, Sll2, TcpFields, Vxlan};

/// LINKTYPE_ values this decoder understands.
pub mod linktype {
    /// BSD loopback, host byte order family.
    pub const NULL: u32 = 0;
    /// Ethernet II / 802.3.
    pub const ETHERNET: u32 = 1;
    /// Raw IP on some BSDs.
    pub const RAW_BSD_12: u32 = 12;
    /// Raw IP on OpenBSD.
    pub const RAW_BSD_14: u32 = 14;
    /// Raw IPv4 or IPv6.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback, network byte order family.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;

    /// Short name of a link type for reports.
    pub fn name(lt: u32) -> &'static str {
        match lt {
            NULL => "NULL",
            ETHERNET => "ETHERNET",
            RAW_BSD_12 | RAW_BSD_14 | RAW => "RAW",
            LOOP => "LOOP",
            LINUX_SLL => "LINUX_SLL",
            IPV4 => "IPV4",
            IPV6 => "IPV6",
            LINUX_SLL2 => "LINUX_SLL2",
            _ => "UNSUPPORTED",
        }
    }

    /// Whether [`super::decode`] can read frames of this link type.
    pub fn supported(lt: u32) -> bool {
        name(lt) != "UNSUPPORTED"
    }
}

/// EtherTypes the decoder names.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// Reverse ARP, sent by ESXi after a vMotion switchover.
    pub const RARP: u16 = 0x8035;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
    /// Transparent Ethernet bridging (GRE carrying Ethernet).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type II (and type I without sequence number).
    pub const ERSPAN2: u16 = 0x88BE;
    /// ERSPAN type III.
    pub const ERSPAN3: u16 = 0x22EB;
}

/// UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;

/// Why decoding stopped before the layer the packet announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Undecodable {
    /// The link type is not one this decoder reads.
    UnknownLinkType,
    /// The frame is shorter than its link-layer header (Ethernet, VLAN, SLL, SLL2, null).
    TruncatedLinkHeader,
    /// A null/loopback header names an address family that is neither IPv4 nor IPv6.
    UnknownNullFamily,
    /// The IP header is cut short by the snap length or the frame.
    TruncatedIpHeader,
    /// The IP header is invalid (version, header length, total length).
    BadIpHeader,
    /// An IPv6 extension header is cut short or invalid.
    BadIpv6Extension,
    /// The TCP or UDP header is cut before the ports.
    TruncatedTransportHeader,
    /// The TCP data offset is below 20 or beyond the IP payload.
    BadTcpHeader,
    /// A GRE, ERSPAN or VXLAN header is cut short or of an unknown version.
    BadTunnelHeader,
    /// Tunnels nested deeper than the decoder follows.
    TunnelTooDeep,
    /// An ARP or RARP packet is cut short.
    TruncatedArp,
}

impl Undecodable {
    /// Every reason, in report order.
    pub const ALL: [Undecodable; 11] = [
        Undecodable::UnknownLinkType,
        Undecodable::TruncatedLinkHeader,
        Undecodable::UnknownNullFamily,
        Undecodable::TruncatedIpHeader,
        Undecodable::BadIpHeader,
        Undecodable::BadIpv6Extension,
        Undecodable::TruncatedTransportHeader,
        Undecodable::BadTcpHeader,
        Undecodable::BadTunnelHeader,
        Undecodable::TunnelTooDeep,
        Undecodable::TruncatedArp,
    ];

    /// The snake_case key used in the report.
    pub fn key(self) -> &'static str {
        match self {
            Undecodable::UnknownLinkType => "unknown_link_type",
            Undecodable::TruncatedLinkHeader => "truncated_link_header",
            Undecodable::UnknownNullFamily => "unknown_null_family",
            Undecodable::TruncatedIpHeader => "truncated_ip_header",
            Undecodable::BadIpHeader => "bad_ip_header",
            Undecodable::BadIpv6Extension => "bad_ipv6_extension",
            Undecodable::TruncatedTransportHeader => "truncated_transport_header",
            Undecodable::BadTcpHeader => "bad_tcp_header",
            Undecodable::BadTunnelHeader => "bad_tunnel_header",
            Undecodable::TunnelTooDeep => "tunnel_too_deep",
            Undecodable::TruncatedArp => "truncated_arp",
        }
    }
}

/// The kind of encapsulation a mirrored frame arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelKind {
    /// GRE with transparent Ethernet bridging (0x6558), or GRE carrying IP.
    Gre,
    /// ERSPAN type II (GRE 0x88BE; type I, without sequence number, is counted here too).
    Erspan2,
    /// ERSPAN type III (GRE 0x22EB).
    Erspan3,
    /// VXLAN (UDP 4789).
    Vxlan,
}

/// The outer tunnel of a decapsulated frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    /// Encapsulation.
    pub kind: TunnelKind,
    /// Outer source address.
    pub outer_src: IpAddr,
    /// Outer destination address.
    pub outer_dst: IpAddr,
    /// ERSPAN session id, VXLAN VNI or GRE key (0 when absent).
    pub id: u32,
}

/// Position of a packet in a fragmented IP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fragment {
    /// Not fragmented.
    #[default]
    None,
    /// Offset 0 with more fragments: carries the transport header.
    First,
    /// A later fragment: no transport header.
    Later,
}

/// The network layer of an IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpInfo {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The transport protocol number (after IPv6 extension headers).
    pub protocol: u8,
    /// Fragment position.
    pub fragment: Fragment,
    /// Length of the IP payload from the header's length fields (IPv4 total length minus header,
    /// IPv6 payload length minus extension headers); the captured length when the field is 0.
    pub payload_len: u32,
}

/// The transport layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// No transport header (non-IP, later fragment, or undecodable).
    #[default]
    None,
    /// TCP, with payload length when the data offset was captured.
    Tcp {
        /// Header fields present in the capture.
        fields: TcpFields,
        /// Payload bytes from the IP length minus the TCP header length.
        payload_len: Option<u32>,
    },
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Payload bytes from the UDP length field (else the IP payload minus 8).
        payload_len: u32,
    },
    /// ICMP or ICMPv6.
    Icmp,
    /// Another IP protocol.
    Other(u8),
}

/// ARP or RARP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpInfo {
    /// True for RARP (EtherType 0x8035).
    pub rarp: bool,
    /// Operation code.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: Option<Mac>,
}

/// Everything the later stages need of one frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Source MAC of the (innermost) Ethernet frame, or the cooked capture's address.
    pub src_mac: Option<Mac>,
    /// Destination MAC of the (innermost) Ethernet frame.
    pub dst_mac: Option<Mac>,
    /// VLAN ids of the innermost frame, outermost first; 0 where absent.
    pub vlans: [u16; 2],
    /// Number of VLAN tags (2 or more for QinQ).
    pub vlan_count: u8,
    /// The tunnel the frame was carried in.
    pub tunnel: Option<Tunnel>,
    /// The EtherType of the innermost frame, when there is one.
    pub ether_type: Option<u16>,
    /// ARP or RARP contents.
    pub arp: Option<ArpInfo>,
    /// IP header contents.
    pub ip: Option<IpInfo>,
    /// Transport header contents.
    pub transport: Transport,
    /// Why decoding stopped early, if it did.
    pub error: Option<Undecodable>,
}

impl Decoded {
    /// The outermost VLAN id, if tagged.
    pub fn vlan(&self) -> Option<u16> {
        (self.vlan_count > 0).then_some(self.vlans[0])
    }

    /// TCP or UDP payload bytes of this packet, from the length fields.
    pub fn l4_payload_len(&self) -> u64 {
        match self.transport {
            Transport::Tcp { payload_len, .. } => payload_len.unwrap_or(0) as u64,
            Transport::Udp { payload_len, .. } => payload_len as u64,
            _ => 0,
        }
    }
}

const MAX_TUNNEL_DEPTH: u8 = 2;

/// Decodes one frame of the given link type.
pub fn decode(link_type: u32, data: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    match link_type {
        linktype::ETHERNET => ethernet(data, &mut out, 0),
        linktype::LINUX_SLL => match Sll::new_checked(data) {
            Some(s) => {
                out.src_mac = s.src_mac();
                ether_payload(s.protocol(), s.payload(), &mut out, 0);
            }
            None => out.error = Some(Undecodable::TruncatedLinkHeader),
        },
        linktype::LINUX_SLL2 => match Sll2::new_checked(data) {
            Some(s) => {
                out.src_mac = s.src_mac();
                ether_payload(s.protocol(), s.payload(), &mut out, 0);
            }
            None => out.error = Some(Undecodable::TruncatedLinkHeader),
        },
        linktype::RAW | linktype::RAW_BSD_12 | linktype::RAW_BSD_14 => {
            raw_ip(data, &mut out, 0);
        }
        linktype::IPV4 => ether_payload(ethertype::IPV4, data, &mut out, 0),
        linktype::IPV6 => ether_payload(ethertype::IPV6, data, &mut out, 0),
        linktype::NULL | linktype::LOOP => {
            match views::null_family(data, link_type == linktype::LOOP) {
                Some(NullFamily::Ipv4) => ether_payload(ethertype::IPV4, &data[4..], &mut out, 0),
                Some(NullFamily::Ipv6) => ether_payload(ethertype::IPV6, &data[4..], &mut out, 0),
                Some(NullFamily::Other(_)) => out.error = Some(Undecodable::UnknownNullFamily),
                None => out.error = Some(Undecodable::TruncatedLinkHeader),
            }
        }
        _ => out.error = Some(Undecodable::UnknownLinkType),
    }
    out
}

#[cfg(test)]
thread_local! {
    /// Set by tests that compare the fast path with etherparse's.
    static LAX_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the fast path is switched off (tests only).
#[inline]
fn lax_only() -> bool {
    #[cfg(test)]
    {
        LAX_ONLY.with(|c| c.get())
    }
    #[cfg(not(test))]
    {
        false
    }
}

/// Decodes with etherparse only, bypassing the fast path (tests only).
#[cfg(test)]
pub(crate) fn decode_lax(link_type: u32, data: &[u8]) -> Decoded {
    LAX_ONLY.with(|c| c.set(true));
    let d = decode(link_type, data);
    LAX_ONLY.with(|c| c.set(false));
    d
}

fn raw_ip(data: &[u8], out: &mut Decoded, depth: u8) {
    match data.first().map(|b| b >> 4) {
        Some(4) => ether_payload(ethertype::IPV4, data, out, depth),
        Some(6) => ether_payload(ethertype::IPV6, data, out, depth),
        Some(_) => out.error = Some(Undecodable::BadIpHeader),
        None => out.error = Some(Undecodable::TruncatedIpHeader),
    }
}

fn ethernet(data: &[u8], out: &mut Decoded, depth: u8) {
    if !lax_only() {
        if let Some(f) = fast::ethernet_ipv4(data, out) {
            transport(f.ip, f.payload, out, depth);
            return;
        }
    }
    match LaxSlicedPacket::from_ethernet(data) {
        Ok(p) => {
            if let Some(LinkSlice::Ethernet2(eth)) = &p.link {
                out.src_mac = Some(Mac(eth.source()));
                out.dst_mac = Some(Mac(eth.destination()));
            }
            sliced(&p, out, depth);
        }
        Err(_) => out.error = Some(Undecodable::TruncatedLinkHeader),
    }
}

fn ether_payload(et: u16, data: &[u8], out: &mut Decoded, depth: u8) {
    let p = LaxSlicedPacket::from_ether_type(EtherType(et), data);
    sliced(&p, out, depth);
}

/// Reads the layers etherparse found, then ours.
fn sliced(p: &LaxSlicedPacket<'_>, out: &mut Decoded, depth: u8) {
    out.vlans = [0, 0];
    out.vlan_count = 0;
    for ext in &p.link_exts {
        if let etherparse::LaxLinkExtSlice::Vlan(v) = ext {
            if (out.vlan_count as usize) < out.vlans.len() {
                out.vlans[out.vlan_count as usize] = v.vlan_identifier().value();
            }
            out.vlan_count = out.vlan_count.saturating_add(1);
        }
    }
    let payload = p.ether_payload();
    out.ether_type = payload.as_ref().map(|e| e.ether_type.0);
    match &p.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let h = v4.header();
            let hdr_len = h.ihl() as u32 * 4;
            let total = h.total_len() as u32;
            let ipp = v4.payload();
            let bad_total = total != 0 && total < hdr_len;
            let payload_len = if total == 0 {
                ipp.payload.len() as u32
            } else if bad_total {
                0
            } else {
                total - hdr_len
            };
            let fragment = if !h.is_fragmenting_payload() {
                Fragment::None
            } else if h.fragments_offset().value() == 0 {
                Fragment::First
            } else {
                Fragment::Later
            };
            let ip = IpInfo {
                src: IpAddr::V4(Ipv4Addr::from(h.source())),
                dst: IpAddr::V4(Ipv4Addr::from(h.destination())),
                protocol: ipp.ip_number.0,
                fragment,
                payload_len,
            };
            out.ip = Some(ip);
            if bad_total {
                // The transport decoder would otherwise replace this reason with its own.
                out.error = Some(Undecodable::BadIpHeader);
                return;
            }
            transport(ip, ipp.payload, out, depth);
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let h = v6.header();
            let ext_len = v6.extensions().slice().len() as u32;
            let ipp = v6.payload();
            let declared = h.payload_length() as u32;
            let payload_len = if declared == 0 {
                ipp.payload.len() as u32
            } else {
                declared.saturating_sub(ext_len)
            };
            let fragment = if v6.is_payload_fragmented() {
                ipv6_fragment_position(h.slice(), v6.extensions().slice())
            } else {
                Fragment::None
            };
            let ip = IpInfo {
                src: IpAddr::V6(Ipv6Addr::from(h.source())),
                dst: IpAddr::V6(Ipv6Addr::from(h.destination())),
                protocol: ipp.ip_number.0,
                fragment,
                payload_len,
            };
            out.ip = Some(ip);
            // etherparse names the extension that failed (hop-by-hop, destination options, …).
            use etherparse::err::Layer;
            if let Some((
                _,
                Layer::Ipv6ExtHeader
                | Layer::Ipv6HopByHopHeader
                | Layer::Ipv6DestOptionsHeader
                | Layer::Ipv6RouteHeader
                | Layer::Ipv6FragHeader
                | Layer::IpAuthHeader,
            )) = &p.stop_err
            {
                out.error = Some(Undecodable::BadIpv6Extension);
                return;
            }
            transport(ip, ipp.payload, out, depth);
        }
        Some(LaxNetSlice::Arp(a)) => arp(a.slice(), false, out),
        None => {
            if let Some(e) = &payload {
                match e.ether_type.0 {
                    ethertype::RARP => arp(e.payload, true, out),
                    ethertype::IPV4 | ethertype::IPV6 => {
                        out.error = Some(ip_error(p));
                    }
                    ethertype::ARP => out.error = Some(Undecodable::TruncatedArp),
                    // A VLAN tag cut short: etherparse hands back the payload before the tag.
                    _ if p.stop_err.is_some() => out.error = Some(Undecodable::TruncatedLinkHeader),
                    _ => {}
                }
            } else if p.stop_err.is_some() {
                out.error = Some(Undecodable::TruncatedLinkHeader);
            }
        }
    }
}

fn ip_error(p: &LaxSlicedPacket<'_>) -> Undecodable {
    use etherparse::err::packet::SliceError;
    match &p.stop_err {
        Some((SliceError::Len(_), _)) => Undecodable::TruncatedIpHeader,
        Some(_) => Undecodable::BadIpHeader,
        None => Undecodable::TruncatedIpHeader,
    }
}

fn arp(d: &[u8], rarp: bool, out: &mut Decoded) {
    match Arp::new_checked(d) {
        Some(a) => {
            out.arp = Some(ArpInfo {
                rarp,
                operation: a.operation(),
                sender_mac: a.sender_mac(),
            })
        }
        None => out.error = Some(Undecodable::TruncatedArp),
    }
}

/// Walks the IPv6 extension chain to the fragment header and reads its offset.
fn ipv6_fragment_position(ip_header: &[u8], exts: &[u8]) -> Fragment {
    let mut next = ip_header.get(6).copied().unwrap_or(0);
    let mut at = 0usize;
    while at < exts.len() {
        let len = match next {
            44 => {
                let off = exts
                    .get(at + 2..at + 4)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]) >> 3)
                    .unwrap_or(1);
                return if off == 0 {
                    Fragment::First
                } else {
                    Fragment::Later
                };
            }
            51 => (exts.get(at + 1).copied().unwrap_or(0) as usize + 2) * 4,
            _ => (exts.get(at + 1).copied().unwrap_or(0) as usize + 1) * 8,
        };
        next = exts.get(at).copied().unwrap_or(59);
        at += len;
    }
    Fragment::Later
}

fn transport(ip: IpInfo, seg: &[u8], out: &mut Decoded, depth: u8) {
    if ip.fragment == Fragment::Later {
        return;
    }
    match ip.protocol {
        6 => match views::tcp_fields(seg) {
            Some(f) => {
                let payload_len = match f.header_len {
                    Some(h) if h < 20 || h as u32 > ip.payload_len => {
                        out.error = Some(Undecodable::BadTcpHeader);
                        None
                    }
                    Some(h) => Some(ip.payload_len - h as u32),
                    None => None,
                };
                out.transport = Transport::Tcp {
                    fields: f,
                    payload_len,
                };
            }
            None => out.error = Some(Undecodable::TruncatedTransportHeader),
        },
        17 => match views::udp_fields(seg) {
            Some(u) => {
                let payload_len = match u.length {
                    Some(l) if l >= 8 && ip.fragment == Fragment::First => l as u32 - 8,
                    Some(l) if l >= 8 && (l as u32) <= ip.payload_len => l as u32 - 8,
                    _ => ip.payload_len.saturating_sub(8),
                };
                out.transport = Transport::Udp {
                    src_port: u.src_port,
                    dst_port: u.dst_port,
                    payload_len,
                };
                if u.dst_port == VXLAN_PORT {
                    if let Some(v) = seg.get(8..).and_then(Vxlan::new_checked) {
                        decapsulate(
                            TunnelKind::Vxlan,
                            ip,
                            v.vni(),
                            v.payload(),
                            true,
                            out,
                            depth,
                        );
                    }
                }
            }
            None => out.error = Some(Undecodable::TruncatedTransportHeader),
        },
        1 | 58 => out.transport = Transport::Icmp,
        47 => gre(ip, seg, out, depth),
        other => out.transport = Transport::Other(other),
    }
}

fn gre(ip: IpInfo, seg: &[u8], out: &mut Decoded, depth: u8) {
    out.transport = Transport::Other(47);
    let Some(g) = Gre::new_checked(seg) else {
        out.error = Some(Undecodable::BadTunnelHeader);
        return;
    };
    let key = g.key().unwrap_or(0);
    match g.protocol() {
        ethertype::TEB => decapsulate(TunnelKind::Gre, ip, key, g.payload(), true, out, depth),
        ethertype::IPV4 | ethertype::IPV6 => {
            decapsulate(TunnelKind::Gre, ip, key, g.payload(), false, out, depth)
        }
        ethertype::ERSPAN2 if !g.has_sequence() => {
            // ERSPAN type I: no ERSPAN header, the Ethernet frame follows GRE directly.
            decapsulate(TunnelKind::Erspan2, ip, 0, g.payload(), true, out, depth)
        }
        ethertype::ERSPAN2 => match Erspan::new_type2(g.payload()) {
            Some(e) => decapsulate(
                TunnelKind::Erspan2,
                ip,
                e.session_id() as u32,
                e.payload(),
                true,
                out,
                depth,
            ),
            None => out.error = Some(Undecodable::BadTunnelHeader),
        },
        ethertype::ERSPAN3 => match Erspan::new_type3(g.payload()) {
            Some(e) => decapsulate(
                TunnelKind::Erspan3,
                ip,
                e.session_id() as u32,
                e.payload(),
                true,
                out,
                depth,
            ),
            None => out.error = Some(Undecodable::BadTunnelHeader),
        },
        _ => {}
    }
}

fn decapsulate(
    kind: TunnelKind,
    outer: IpInfo,
    id: u32,
    inner: &[u8],
    is_ethernet: bool,
    out: &mut Decoded,
    depth: u8,
) {
    if depth + 1 >= MAX_TUNNEL_DEPTH {
        out.error = Some(Undecodable::TunnelTooDeep);
        return;
    }
    // The inner frame replaces the outer layers; the outer addresses stay in `tunnel`.
    let mut inner_out = Decoded {
        tunnel: Some(Tunnel {
            kind,
            outer_src: outer.src,
            outer_dst: outer.dst,
            id,
        }),
        ..Decoded::default()
    };
    if is_ethernet {
        ethernet(inner, &mut inner_out, depth + 1);
    } else {
        raw_ip(inner, &mut inner_out, depth + 1);
    }
    *out = inner_out;
}

#[cfg(test)]
mod tests;
