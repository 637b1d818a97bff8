//! The decoder: one frame of a given link type in, one [`Decoded`] out.
//!
//! In: a [`LinkType`] and the captured bytes. Out: the [`Decoded`] summary. The Ethernet/IPv4
//! TCP/UDP common case goes through [`super::fast`]; everything else through etherparse's
//! `LaxSlicedPacket` and the [`super::views`]. Tunnels (GRE, ERSPAN, VXLAN) are followed one
//! level deep. Tests can switch the fast path off with `decode_lax` to compare both paths.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{LaxNetSlice, LaxSlicedPacket, LinkSlice};

use super::fast;
use super::model::{
    ArpInfo, Decoded, Fragment, IpInfo, TooBig, Transport, Tunnel, TunnelKind, Undecodable,
};
use super::views::ipv6::{ext_field, field as ipv6_field};
use super::views::{self, Arp, Erspan2, Erspan3, Gre, Null, NullFamily, Sll, Sll2, Vxlan};
use crate::vocab::Mac;
use crate::vocab::bytes::{array_at, be16, be32};
use crate::vocab::wire::{EtherType, IpProtocol, LinkType};

/// UDP port of VXLAN.
pub const VXLAN_PORT: u16 = 4789;

const MAX_TUNNEL_DEPTH: u8 = 2;
/// TCP header length without options.
const TCP_MIN_LEN: u8 = views::tcp::field::MIN_HEADER_LEN as u8;
/// UDP header length.
const UDP_LEN: u16 = views::udp::field::HEADER_LEN as u16;

/// Decodes one frame of the given link type.
pub fn decode(link_type: LinkType, data: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    decode_into(link_type, data, &mut out);
    out
}

/// Decodes one frame of the given link type into `out` (which it resets first): the per-packet
/// path decodes into a value of its own instead of copying a returned one.
pub fn decode_into(link_type: LinkType, data: &[u8], out: &mut Decoded) {
    *out = Decoded::default();
    match link_type {
        LinkType::Ethernet => ethernet(data, out, 0),
        LinkType::LinuxSll => match Sll::new_checked(data) {
            Some(s) => {
                out.src_mac = s.src_mac();
                ether_payload(s.protocol(), s.payload(), out, 0);
            }
            None => out.error = Some(Undecodable::TruncatedLinkHeader),
        },
        LinkType::LinuxSll2 => match Sll2::new_checked(data) {
            Some(s) => {
                out.src_mac = s.src_mac();
                ether_payload(s.protocol(), s.payload(), out, 0);
            }
            None => out.error = Some(Undecodable::TruncatedLinkHeader),
        },
        LinkType::Raw | LinkType::RawBsd12 | LinkType::RawBsd14 => {
            raw_ip(data, out, 0);
        }
        LinkType::Ipv4 => ether_payload(EtherType::Ipv4, data, out, 0),
        LinkType::Ipv6 => ether_payload(EtherType::Ipv6, data, out, 0),
        LinkType::Null | LinkType::Loop => match Null::new_checked(data) {
            Some(n) => match n.family(link_type == LinkType::Loop) {
                NullFamily::Ipv4 => ether_payload(EtherType::Ipv4, n.payload(), out, 0),
                NullFamily::Ipv6 => ether_payload(EtherType::Ipv6, n.payload(), out, 0),
                NullFamily::Other(_) => out.error = Some(Undecodable::UnknownNullFamily),
            },
            None => out.error = Some(Undecodable::TruncatedLinkHeader),
        },
        LinkType::Unknown(_) => out.error = Some(Undecodable::UnknownLinkType),
    }
    // The payload's address, turned into its offset in the frame.
    if out.payload_at != 0 {
        out.payload_at = out.payload_at.wrapping_sub(data.as_ptr() as usize);
    }
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
pub(crate) fn decode_lax(link_type: LinkType, data: &[u8]) -> Decoded {
    LAX_ONLY.with(|c| c.set(true));
    let d = decode(link_type, data);
    LAX_ONLY.with(|c| c.set(false));
    d
}

fn raw_ip(data: &[u8], out: &mut Decoded, depth: u8) {
    match data.first().map(|b| b >> 4) {
        Some(4) => ether_payload(EtherType::Ipv4, data, out, depth),
        Some(6) => ether_payload(EtherType::Ipv6, data, out, depth),
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

fn ether_payload(et: EtherType, data: &[u8], out: &mut Decoded, depth: u8) {
    let p = LaxSlicedPacket::from_ether_type(etherparse::EtherType(et.into()), data);
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
    out.ether_type = payload.as_ref().map(|e| EtherType::from(e.ether_type.0));
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
                protocol: IpProtocol::from(ipp.ip_number.0),
                fragment,
                ident: h.identification(),
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
                protocol: IpProtocol::from(ipp.ip_number.0),
                fragment,
                ident: 0,
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
                match EtherType::from(e.ether_type.0) {
                    EtherType::Rarp => arp(e.payload, true, out),
                    EtherType::Ipv4 | EtherType::Ipv6 => {
                        out.error = Some(ip_error(p));
                    }
                    EtherType::Arp => out.error = Some(Undecodable::TruncatedArp),
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
    let mut next = IpProtocol::from(ip_header.get(ipv6_field::NEXT_HEADER).copied().unwrap_or(0));
    let mut at = 0usize;
    while at < exts.len() {
        let len = match next {
            IpProtocol::Ipv6Frag => {
                let off = be16(exts, at + ext_field::FRAG_OFFSET)
                    .map_or(1, |v| v >> ext_field::FRAG_OFFSET_SHIFT);
                return if off == 0 {
                    Fragment::First
                } else {
                    Fragment::Later
                };
            }
            IpProtocol::Ah => {
                (exts.get(at + ext_field::LEN).copied().unwrap_or(0) as usize + 2) * 4
            }
            _ => (exts.get(at + ext_field::LEN).copied().unwrap_or(0) as usize + 1) * 8,
        };
        next = exts
            .get(at + ext_field::NEXT_HEADER)
            .map_or(IpProtocol::Ipv6NoNxt, |n| IpProtocol::from(*n));
        at += len;
    }
    Fragment::Later
}

fn transport(ip: IpInfo, seg: &[u8], out: &mut Decoded, depth: u8) {
    if ip.fragment == Fragment::Later {
        return;
    }
    match ip.protocol {
        IpProtocol::Tcp => match views::tcp_fields(seg) {
            Some(f) => {
                let payload_len = match f.header_len {
                    Some(h) if h < TCP_MIN_LEN || h as u32 > ip.payload_len => {
                        out.error = Some(Undecodable::BadTcpHeader);
                        None
                    }
                    Some(h) => Some(ip.payload_len - h as u32),
                    None => None,
                };
                if let (Some(h), Some(len)) = (f.header_len, payload_len) {
                    if len > 0 && seg.len() > h as usize {
                        out.payload_at = seg.as_ptr() as usize + h as usize;
                    }
                }
                out.transport = Transport::Tcp {
                    fields: f,
                    payload_len,
                };
            }
            None => out.error = Some(Undecodable::TruncatedTransportHeader),
        },
        IpProtocol::Udp => match views::udp_fields(seg) {
            Some(u) => {
                let payload_len = match u.length {
                    Some(l) if l >= UDP_LEN && ip.fragment == Fragment::First => {
                        (l - UDP_LEN) as u32
                    }
                    Some(l) if l >= UDP_LEN && (l as u32) <= ip.payload_len => (l - UDP_LEN) as u32,
                    _ => ip.payload_len.saturating_sub(UDP_LEN as u32),
                };
                if payload_len > 0 && seg.len() > UDP_LEN as usize {
                    out.payload_at = seg.as_ptr() as usize + UDP_LEN as usize;
                }
                out.transport = Transport::Udp {
                    src_port: u.src_port,
                    dst_port: u.dst_port,
                    payload_len,
                };
                if u.dst_port == VXLAN_PORT {
                    if let Some(v) = seg
                        .get(views::udp::field::HEADER_LEN..)
                        .and_then(Vxlan::new_checked)
                    {
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
        IpProtocol::Icmp | IpProtocol::Icmpv6 => {
            out.transport = Transport::Icmp {
                too_big: too_big(ip.protocol == IpProtocol::Icmpv6, seg),
            }
        }
        IpProtocol::Gre => gre(ip, seg, out, depth),
        other => out.transport = Transport::Other(other),
    }
}

/// The MTU and quoted addresses of an ICMPv4 type 3 code 4 or ICMPv6 type 2 message `seg`
/// (cut at the captured bytes): `None` for other messages or when the quoted header's addresses
/// were not captured.
fn too_big(v6: bool, seg: &[u8]) -> Option<TooBig> {
    let (kind, code) = (*seg.first()?, *seg.get(1)?);
    let inner = seg.get(8..)?;
    let addr4 = |at: usize| array_at::<4>(inner, at).map(|a| IpAddr::V4(Ipv4Addr::from(a)));
    let addr6 = |at: usize| array_at::<16>(inner, at).map(|a| IpAddr::V6(Ipv6Addr::from(a)));
    if v6 {
        if kind != 2 || inner.first()? >> 4 != 6 {
            return None;
        }
        Some(TooBig {
            mtu: be32(seg, 4)?,
            inner_src: addr6(8)?,
            inner_dst: addr6(24)?,
        })
    } else {
        if kind != 3 || code != 4 || inner.first()? >> 4 != 4 {
            return None;
        }
        Some(TooBig {
            mtu: u32::from(be16(seg, 6)?),
            inner_src: addr4(12)?,
            inner_dst: addr4(16)?,
        })
    }
}

fn gre(ip: IpInfo, seg: &[u8], out: &mut Decoded, depth: u8) {
    out.transport = Transport::Other(IpProtocol::Gre);
    let Some(g) = Gre::new_checked(seg) else {
        out.error = Some(Undecodable::BadTunnelHeader);
        return;
    };
    let key = g.key().unwrap_or(0);
    match g.protocol() {
        EtherType::Teb => decapsulate(TunnelKind::Gre, ip, key, g.payload(), true, out, depth),
        EtherType::Ipv4 | EtherType::Ipv6 => {
            decapsulate(TunnelKind::Gre, ip, key, g.payload(), false, out, depth)
        }
        EtherType::Erspan2 if !g.has_sequence() => {
            // ERSPAN type I: no ERSPAN header, the Ethernet frame follows GRE directly.
            decapsulate(TunnelKind::Erspan2, ip, 0, g.payload(), true, out, depth)
        }
        EtherType::Erspan2 => match Erspan2::new_checked(g.payload()) {
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
        EtherType::Erspan3 => match Erspan3::new_checked(g.payload()) {
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
