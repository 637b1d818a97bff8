//! Frame building: Ethernet (optionally 802.1Q), IPv4/IPv6, TCP, UDP, RARP, and the port-mirror
//! encapsulations (GRE, ERSPAN II, ERSPAN III), written into one reused buffer.
//!
//! In: addresses, ports, sequence numbers and a payload writer. Out: a complete frame with correct
//! lengths and checksums at `buf[HEADROOM..]` (or, encapsulated, a little earlier). Header layouts
//! are the decoder's: the offsets of `decode::views::*::field` and the numbers of
//! [`crate::vocab::wire`], so each wire constant exists once.

use std::net::IpAddr;

use crate::decode::views::ethernet::{self, field as eth, vlan_field as tag};
use crate::decode::views::ipv4::{self, field as ip4};
use crate::decode::views::ipv6::{self, field as ip6};
use crate::decode::views::{arp, erspan, gre, tcp as tcp_view, udp as udp_view};
use crate::vocab::Mac;
use crate::vocab::bytes::{put, put_be16, put_be32, put_u8};
use crate::vocab::wire::{EtherType, IpProtocol};

/// Bytes kept free in front of every frame for the mirror encapsulation.
pub const HEADROOM: usize = 64;

/// Time to live (IPv4) and hop limit (IPv6) of every generated packet.
const TTL: u8 = 64;

/// TCP flag bits.
pub use crate::decode::views::tcp::flags as tcp_flags;

/// How mirrored frames are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encap {
    /// As captured on the host.
    #[default]
    None,
    /// GRE, transparent Ethernet bridging (0x6558).
    Gre,
    /// GRE with sequence number, protocol 0x88BE, 8-byte ERSPAN type II header.
    Erspan2,
    /// GRE with sequence number, protocol 0x22EB, 12-byte ERSPAN type III header.
    Erspan3,
}

/// The link-layer and network-layer addressing of one frame.
#[derive(Debug, Clone, Copy)]
pub struct Addr {
    /// Source MAC.
    pub src_mac: Mac,
    /// Destination MAC.
    pub dst_mac: Mac,
    /// 802.1Q VLAN id, if tagged.
    pub vlan: Option<u16>,
    /// Source IP.
    pub src_ip: IpAddr,
    /// Destination IP (same family).
    pub dst_ip: IpAddr,
    /// IPv4 identification.
    pub ip_id: u16,
}

/// Where the IP and transport headers of the frame being built start.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    ip: usize,
    l4: usize,
    v6: bool,
}

/// Sums 16-bit big-endian words (odd tail padded with zero) into an unfolded accumulator.
pub fn sum_words(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        acc += u16::from_be_bytes([c[0], c[1]]) as u64
            + u16::from_be_bytes([c[2], c[3]]) as u64
            + u16::from_be_bytes([c[4], c[5]]) as u64
            + u16::from_be_bytes([c[6], c[7]]) as u64;
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u16::from_be_bytes([p[0], p[1]]) as u64;
    }
    if let [last] = pairs.remainder() {
        acc += (*last as u64) << 8;
    }
    acc
}

/// Folds an accumulator into the one's-complement checksum.
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Appends `len` zero bytes for a header and returns it.
fn header(buf: &mut Vec<u8>, len: usize) -> &mut [u8] {
    let start = buf.len();
    buf.resize(start + len, 0);
    buf.get_mut(start..).unwrap_or_default()
}

/// Length of an Ethernet header with or without an 802.1Q tag.
fn ethernet_len(vlan: Option<u16>) -> usize {
    eth::HEADER_LEN + if vlan.is_some() { tag::TAG_LEN } else { 0 }
}

/// Writes an Ethernet header (with an 802.1Q tag when `vlan` is set) announcing `et` into the
/// [`ethernet_len`] bytes of `h`.
fn write_ethernet(h: &mut [u8], dst: Mac, src: Mac, vlan: Option<u16>, et: EtherType) {
    put(h, eth::DST, &dst.0);
    put(h, eth::SRC, &src.0);
    match vlan {
        Some(id) => {
            put_be16(h, eth::ETHERTYPE, EtherType::Vlan.into());
            put_be16(h, eth::HEADER_LEN + tag::TCI, id & tag::VID_MASK);
            put_be16(h, eth::HEADER_LEN + tag::ETHERTYPE, et.into());
        }
        None => put_be16(h, eth::ETHERTYPE, et.into()),
    }
}

/// Writes an IPv4 header without options into `h`, total length and checksum left 0.
fn write_ipv4(h: &mut [u8], id: u16, proto: IpProtocol, src: [u8; 4], dst: [u8; 4]) {
    put_u8(h, ip4::VER_IHL, ipv4::VER_IHL_NO_OPTIONS);
    put_be16(h, ip4::IDENT, id);
    put_be16(h, ip4::FLAGS_FRAG, ipv4::DONT_FRAGMENT);
    put_u8(h, ip4::TTL, TTL);
    put_u8(h, ip4::PROTOCOL, proto.into());
    put(h, ip4::SRC, &src);
    put(h, ip4::DST, &dst);
}

/// Starts a frame: clears the buffer, writes Ethernet (+VLAN) and the IP header with length and
/// checksum fields left for [`finish_ip`].
pub fn begin_ip(buf: &mut Vec<u8>, a: &Addr, proto: IpProtocol) -> Mark {
    buf.clear();
    buf.resize(HEADROOM, 0);
    let v4 = match (a.src_ip, a.dst_ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Some((s.octets(), d.octets())),
        _ => None,
    };
    let et = if v4.is_some() {
        EtherType::Ipv4
    } else {
        EtherType::Ipv6
    };
    let h = header(buf, ethernet_len(a.vlan));
    write_ethernet(h, a.dst_mac, a.src_mac, a.vlan, et);
    let ip = buf.len();
    match v4 {
        Some((s, d)) => {
            write_ipv4(header(buf, ip4::MIN_HEADER_LEN), a.ip_id, proto, s, d);
            Mark {
                ip,
                l4: ip + ip4::MIN_HEADER_LEN,
                v6: false,
            }
        }
        None => {
            let to6 = |x: IpAddr| match x {
                IpAddr::V6(v) => v.octets(),
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            };
            let h = header(buf, ip6::HEADER_LEN);
            put_u8(h, ip6::VER_TC_FLOW, ipv6::VERSION_BYTE);
            put_u8(h, ip6::NEXT_HEADER, proto.into());
            put_u8(h, ip6::HOP_LIMIT, TTL);
            put(h, ip6::SRC, &to6(a.src_ip));
            put(h, ip6::DST, &to6(a.dst_ip));
            Mark {
                ip,
                l4: ip + ip6::HEADER_LEN,
                v6: true,
            }
        }
    }
}

/// Fills in the IP length (and IPv4 header checksum), computes the transport checksum at
/// `csum_at` bytes into the transport header (TCP 16, UDP 6) and pads the frame to 60 bytes.
pub fn finish_ip(buf: &mut Vec<u8>, m: Mark, proto: IpProtocol, csum_at: usize) {
    let l4_len = buf.len() - m.l4;
    // The pseudo-header's addresses are the header's source and destination, adjacent in both.
    let mut acc = if m.v6 {
        put_be16(buf, m.ip + ip6::PAYLOAD_LEN, l4_len as u16);
        let addrs = m.ip + ip6::SRC.start..m.ip + ip6::DST.end;
        sum_words(0, buf.get(addrs).unwrap_or(&[]))
    } else {
        let total = (l4_len + ip4::MIN_HEADER_LEN) as u16;
        put_be16(buf, m.ip + ip4::TOTAL_LEN, total);
        let hdr = m.ip..m.ip + ip4::MIN_HEADER_LEN;
        let hsum = fold(sum_words(0, buf.get(hdr).unwrap_or(&[])));
        put_be16(buf, m.ip + ip4::CHECKSUM, hsum);
        let addrs = m.ip + ip4::SRC.start..m.ip + ip4::DST.end;
        sum_words(0, buf.get(addrs).unwrap_or(&[]))
    };
    acc += u8::from(proto) as u64 + l4_len as u64;
    acc = sum_words(acc, buf.get(m.l4..).unwrap_or(&[]));
    let mut c = fold(acc);
    if proto == IpProtocol::Udp && c == 0 {
        // 0 means "no checksum" in UDP.
        c = 0xffff;
    }
    put_be16(buf, m.l4 + csum_at, c);
    pad(buf);
}

fn pad(buf: &mut Vec<u8>) {
    if buf.len() < HEADROOM + ethernet::MIN_FRAME_LEN {
        buf.resize(HEADROOM + ethernet::MIN_FRAME_LEN, 0);
    }
}

/// The TCP header fields of one segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpHeader {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flag bits ([`tcp_flags`]).
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// MSS option (SYN segments).
    pub mss: Option<u16>,
}

/// Writes a whole TCP segment; `payload` appends the payload bytes to the buffer.
pub fn tcp(buf: &mut Vec<u8>, a: &Addr, h: &TcpHeader, payload: impl FnOnce(&mut Vec<u8>)) {
    use tcp_view::field;
    let m = begin_ip(buf, a, IpProtocol::Tcp);
    let opt_len = if h.mss.is_some() {
        tcp_view::OPTION_MSS_LEN as usize
    } else {
        0
    };
    let len = field::MIN_HEADER_LEN + opt_len;
    let t = header(buf, len);
    put_be16(t, field::SRC_PORT, h.sport);
    put_be16(t, field::DST_PORT, h.dport);
    put_be32(t, field::SEQ, h.seq);
    put_be32(t, field::ACK, h.ack);
    put_u8(t, field::DATA_OFFSET, ((len / 4) as u8) << 4);
    put_u8(t, field::FLAGS, h.flags);
    put_be16(t, field::WINDOW, h.window);
    if let Some(mss) = h.mss {
        let o = field::MIN_HEADER_LEN;
        put_u8(t, o, tcp_view::OPTION_MSS);
        put_u8(t, o + 1, tcp_view::OPTION_MSS_LEN);
        put_be16(t, o + 2, mss);
    }
    payload(buf);
    finish_ip(buf, m, IpProtocol::Tcp, field::CHECKSUM);
}

/// Writes a whole UDP datagram; `payload` appends the payload bytes to the buffer.
pub fn udp(
    buf: &mut Vec<u8>,
    a: &Addr,
    sport: u16,
    dport: u16,
    payload: impl FnOnce(&mut Vec<u8>),
) {
    use udp_view::field;
    let m = begin_ip(buf, a, IpProtocol::Udp);
    let u = header(buf, field::HEADER_LEN);
    put_be16(u, field::SRC_PORT, sport);
    put_be16(u, field::DST_PORT, dport);
    payload(buf);
    let len = (buf.len() - m.l4) as u16;
    put_be16(buf, m.l4 + field::LENGTH, len);
    finish_ip(buf, m, IpProtocol::Udp, field::CHECKSUM);
}

/// Writes a RARP request broadcast from `mac` (as ESXi sends after a vMotion switchover).
pub fn rarp(buf: &mut Vec<u8>, mac: Mac, vlan: Option<u16>) {
    use arp::field;
    buf.clear();
    buf.resize(HEADROOM, 0);
    let h = header(buf, ethernet_len(vlan));
    write_ethernet(h, Mac::BROADCAST, mac, vlan, EtherType::Rarp);
    // Ethernet and IPv4 addresses: sender MAC, sender IP, target MAC, target IP.
    let (hlen, plen) = (6, 4);
    let spa = field::SHA + hlen;
    let tha = spa + plen;
    let tpa = tha + hlen;
    let r = header(buf, tpa + plen);
    put_be16(r, field::HTYPE, arp::HTYPE_ETHERNET);
    put_be16(r, field::PTYPE, EtherType::Ipv4.into());
    put_u8(r, field::HLEN, hlen as u8);
    put_u8(r, field::PLEN, plen as u8);
    put_be16(r, field::OPER, arp::OPER_REVERSE_REQUEST);
    put(r, field::SHA..spa, &mac.0);
    put(r, tha..tpa, &mac.0);
    pad(buf);
}

/// The mirror session's outer addressing.
pub const MIRROR_SRC_MAC: Mac = Mac([0x00, 0x50, 0x56, 0x99, 0x00, 0x01]);
/// Collector MAC.
pub const MIRROR_DST_MAC: Mac = Mac([0x00, 0x50, 0x56, 0x99, 0x00, 0x02]);
/// Mirror source 10.0.99.1.
pub const MIRROR_SRC_IP: [u8; 4] = [10, 0, 99, 1];
/// Collector 10.0.99.2.
pub const MIRROR_DST_IP: [u8; 4] = [10, 0, 99, 2];
/// ERSPAN session id of the mirror session.
pub const ERSPAN_SESSION: u16 = 1;

/// Per-packet values of the encapsulation.
#[derive(Debug, Clone, Copy)]
pub struct EncapFields {
    /// GRE sequence number.
    pub seq: u32,
    /// Outer IPv4 identification.
    pub ip_id: u16,
    /// VLAN of the mirrored frame (ERSPAN's VLAN field).
    pub vlan: u16,
    /// Packet time in ns (ERSPAN III timestamp, 100 µs granularity).
    pub ts_ns: i64,
}

/// Wraps the frame at `buf[HEADROOM..]` in the mirror encapsulation, in place in the headroom.
/// Returns where the resulting frame starts.
pub fn encapsulate(buf: &mut [u8], encap: Encap, f: &EncapFields) -> usize {
    // GRE with a sequence number (ERSPAN) has one optional word: the sequence number.
    let seq_len = gre::field::BASE_LEN + gre::field::OPTION_LEN;
    let (gre_len, proto, span_len) = match encap {
        Encap::None => return HEADROOM,
        Encap::Gre => (gre::field::BASE_LEN, EtherType::Teb, 0),
        Encap::Erspan2 => (seq_len, EtherType::Erspan2, erspan::field::TYPE2_LEN),
        Encap::Erspan3 => (seq_len, EtherType::Erspan3, erspan::field::TYPE3_LEN),
    };
    let ip_at = eth::HEADER_LEN;
    let gre_at = ip_at + ip4::MIN_HEADER_LEN;
    let span_at = gre_at + gre_len;
    let outer_len = span_at + span_len;
    let inner_len = buf.len().saturating_sub(HEADROOM);
    let start = HEADROOM - outer_len;
    let Some(h) = buf.get_mut(start..HEADROOM) else {
        return HEADROOM;
    };
    h.fill(0);
    write_ethernet(h, MIRROR_DST_MAC, MIRROR_SRC_MAC, None, EtherType::Ipv4);
    if let Some(ip) = h.get_mut(ip_at..gre_at) {
        write_ipv4(ip, f.ip_id, IpProtocol::Gre, MIRROR_SRC_IP, MIRROR_DST_IP);
        let total = (ip4::MIN_HEADER_LEN + gre_len + span_len + inner_len) as u16;
        put_be16(ip, ip4::TOTAL_LEN, total);
        let c = fold(sum_words(0, ip));
        put_be16(ip, ip4::CHECKSUM, c);
    }
    if let Some(g) = h.get_mut(gre_at..span_at) {
        let with_seq = gre_len == seq_len;
        put_u8(g, gre::field::FLAGS, if with_seq { gre::FLAG_S } else { 0 });
        put_be16(g, gre::field::PROTOCOL, proto.into());
        if with_seq {
            put_be32(g, gre::field::BASE_LEN, f.seq);
        }
    }
    let Some(span) = h.get_mut(span_at..) else {
        return start;
    };
    use erspan::field;
    let vlan = f.vlan & erspan::VLAN_MASK;
    match encap {
        Encap::Erspan2 => {
            // Ver 1, VLAN | COS 0, En 3 (VLAN tag preserved) or 0, T 0, session | index 0.
            let en = if vlan != 0 {
                erspan::EN_VLAN_PRESERVED
            } else {
                0
            };
            let ver = erspan::VERSION_TYPE2 << erspan::VERSION_SHIFT;
            put_be16(span, field::VER_VLAN, ver | vlan);
            put_be16(
                span,
                field::SESSION,
                (en << erspan::EN_SHIFT) | ERSPAN_SESSION,
            );
        }
        Encap::Erspan3 => {
            // Ver 2, VLAN | COS, BSO, T 0, session | timestamp | SGT 0 | P FT HWID D Gra O 0.
            let ts = (f.ts_ns / 100_000) as u32;
            let ver = erspan::VERSION_TYPE3 << erspan::VERSION_SHIFT;
            put_be16(span, field::VER_VLAN, ver | vlan);
            put_be16(span, field::SESSION, ERSPAN_SESSION);
            put_be32(span, field::TIMESTAMP, ts);
        }
        Encap::Gre | Encap::None => {}
    }
    start
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn addr() -> Addr {
        Addr {
            src_mac: Mac([0, 0x50, 0x56, 1, 2, 3]),
            dst_mac: Mac([0, 0x50, 0x56, 4, 5, 6]),
            vlan: Some(20),
            src_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 20, 11)),
            dst_ip: IpAddr::V4(Ipv4Addr::new(10, 0, 20, 12)),
            ip_id: 7,
        }
    }

    #[test]
    fn checksums_verify() {
        let mut buf = Vec::new();
        let h = TcpHeader {
            sport: 50000,
            dport: 8000,
            seq: 1,
            ack: 2,
            flags: tcp_flags::ACK,
            window: 64240,
            mss: None,
        };
        tcp(&mut buf, &addr(), &h, |b| b.extend_from_slice(&[1, 2, 3]));
        let f = &buf[HEADROOM..];
        assert_eq!(&f[12..14], &[0x81, 0x00]);
        let ip = &f[18..38];
        assert_eq!(fold(sum_words(0, ip)), 0, "IPv4 header checksum");
        let seg = &f[38..38 + 23];
        let mut acc = sum_words(0, &ip[12..20]) + 6 + 23;
        acc = sum_words(acc, seg);
        assert_eq!(fold(acc), 0, "TCP checksum");
        assert_eq!(u16::from_be_bytes([ip[2], ip[3]]), 43);
    }

    #[test]
    fn small_frames_are_padded_and_encapsulated() {
        let mut buf = Vec::new();
        rarp(&mut buf, Mac([0, 0x50, 0x56, 0xaa, 0xbb, 1]), None);
        assert_eq!(buf.len() - HEADROOM, 60);
        let f = EncapFields {
            seq: 9,
            ip_id: 1,
            vlan: 0,
            ts_ns: 0,
        };
        let start = encapsulate(&mut buf, Encap::Erspan3, &f);
        assert_eq!(HEADROOM - start, 14 + 20 + 8 + 12);
        assert_eq!(&buf[start + 36..start + 38], &[0x22, 0xeb]);
        assert_eq!(fold(sum_words(0, &buf[start + 14..start + 34])), 0);
    }
}
