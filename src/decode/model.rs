//! The decoder's data model: what one frame decodes to.
//!
//! In: nothing; these are plain values. Out: [`Decoded`] (MAC addresses, VLAN ids, the outer
//! [`Tunnel`], [`ArpInfo`], [`IpInfo`], [`Transport`]) and, where decoding stopped early, the
//! [`Undecodable`] reason. The decoder in `decoder.rs` fills them; the flow table and the
//! statistics read them.

use std::net::IpAddr;

use serde::Serialize;

use super::views::TcpFields;
use crate::vocab::Mac;
use crate::vocab::wire::{EtherType, IpProtocol};

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
    pub protocol: IpProtocol,
    /// Fragment position.
    pub fragment: Fragment,
    /// IPv4 identification (0 for IPv6): with the transport fields it tells one datagram from
    /// another when the same frame is seen at two vantage points.
    pub ident: u16,
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
    Icmp {
        /// A "fragmentation needed" or "packet too big" message, when it is one.
        too_big: Option<TooBig>,
    },
    /// Another IP protocol.
    Other(IpProtocol),
}

/// An ICMPv4 "destination unreachable, fragmentation needed" (type 3 code 4) or ICMPv6
/// "packet too big" (type 2) message: the MTU it reports and the addresses of the packet it
/// quotes (the packet that was too big).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooBig {
    /// Next-hop MTU (ICMPv4, 0 when the router did not say) or MTU (ICMPv6).
    pub mtu: u32,
    /// Source of the quoted packet.
    pub inner_src: IpAddr,
    /// Destination of the quoted packet.
    pub inner_dst: IpAddr,
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
    pub ether_type: Option<EtherType>,
    /// ARP or RARP contents.
    pub arp: Option<ArpInfo>,
    /// IP header contents.
    pub ip: Option<IpInfo>,
    /// Transport header contents.
    pub transport: Transport,
    /// Where the TCP or UDP payload starts in the frame's captured bytes; 0 when no payload
    /// byte was captured (while decoding it holds the address, turned into the offset at the
    /// end of [`crate::decode::decode`]).
    pub payload_at: usize,
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
