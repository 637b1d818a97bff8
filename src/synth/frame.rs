//! Frame building: Ethernet (optionally 802.1Q), IPv4/IPv6, TCP, UDP, RARP, and the port-mirror
//! encapsulations (GRE, ERSPAN II, ERSPAN III), written into one reused buffer.
//!
//! In: addresses, ports, sequence numbers and a payload writer. Out: a complete frame with correct
//! lengths and checksums at `buf[HEADROOM..]` (or, encapsulated, a little earlier).

use crate::vocab::Mac;
use std::net::IpAddr;

/// Bytes kept free in front of every frame for the mirror encapsulation.
pub const HEADROOM: usize = 64;

/// TCP flag bits.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

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

fn put16(buf: &mut [u8], at: usize, v: u16) {
    if let Some(s) = buf.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Starts a frame: clears the buffer, writes Ethernet (+VLAN) and the IP header with length and
/// checksum fields left for [`finish_ip`].
pub fn begin_ip(buf: &mut Vec<u8>, a: &Addr, proto: u8) -> Mark {
    buf.clear();
    buf.resize(HEADROOM, 0);
    buf.extend_from_slice(&a.dst_mac.0);
    buf.extend_from_slice(&a.src_mac.0);
    if let Some(vlan) = a.vlan {
        buf.extend_from_slice(&[0x81, 0x00]);
        buf.extend_from_slice(&(vlan & 0x0fff).to_be_bytes());
    }
    let ip = buf.len() + 2;
    match (a.src_ip, a.dst_ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            buf.extend_from_slice(&[0x08, 0x00]);
            buf.extend_from_slice(&[0x45, 0x00, 0, 0]);
            buf.extend_from_slice(&a.ip_id.to_be_bytes());
            buf.extend_from_slice(&[0x40, 0x00, 64, proto, 0, 0]);
            buf.extend_from_slice(&s.octets());
            buf.extend_from_slice(&d.octets());
            Mark {
                ip,
                l4: ip + 20,
                v6: false,
            }
        }
        (s, d) => {
            let to6 = |x: IpAddr| match x {
                IpAddr::V6(v) => v.octets(),
                IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
            };
            buf.extend_from_slice(&[0x86, 0xdd]);
            buf.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, proto, 64]);
            buf.extend_from_slice(&to6(s));
            buf.extend_from_slice(&to6(d));
            Mark {
                ip,
                l4: ip + 40,
                v6: true,
            }
        }
    }
}

/// Fills in the IP length (and IPv4 header checksum), computes the transport checksum at
/// `csum_at` bytes into the transport header (TCP 16, UDP 6) and pads the frame to 60 bytes.
pub fn finish_ip(buf: &mut Vec<u8>, m: Mark, proto: u8, csum_at: usize) {
    let l4_len = buf.len() - m.l4;
    let mut acc = if m.v6 {
        put16(buf, m.ip + 4, l4_len as u16);
        sum_words(0, buf.get(m.ip + 8..m.ip + 40).unwrap_or(&[]))
    } else {
        put16(buf, m.ip + 2, (l4_len + 20) as u16);
        let hsum = fold(sum_words(0, buf.get(m.ip..m.ip + 20).unwrap_or(&[])));
        put16(buf, m.ip + 10, hsum);
        sum_words(0, buf.get(m.ip + 12..m.ip + 20).unwrap_or(&[]))
    };
    acc += proto as u64 + l4_len as u64;
    acc = sum_words(acc, buf.get(m.l4..).unwrap_or(&[]));
    let mut c = fold(acc);
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    put16(buf, m.l4 + csum_at, c);
    pad(buf);
}

fn pad(buf: &mut Vec<u8>) {
    if buf.len() < HEADROOM + 60 {
        buf.resize(HEADROOM + 60, 0);
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
    let m = begin_ip(buf, a, 6);
    buf.extend_from_slice(&h.sport.to_be_bytes());
    buf.extend_from_slice(&h.dport.to_be_bytes());
    buf.extend_from_slice(&h.seq.to_be_bytes());
    buf.extend_from_slice(&h.ack.to_be_bytes());
    let words: u8 = if h.mss.is_some() { 6 } else { 5 };
    buf.extend_from_slice(&[words << 4, h.flags]);
    buf.extend_from_slice(&h.window.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]);
    if let Some(mss) = h.mss {
        buf.extend_from_slice(&[2, 4]);
        buf.extend_from_slice(&mss.to_be_bytes());
    }
    payload(buf);
    finish_ip(buf, m, 6, 16);
}

/// Writes a whole UDP datagram; `payload` appends the payload bytes to the buffer.
pub fn udp(
    buf: &mut Vec<u8>,
    a: &Addr,
    sport: u16,
    dport: u16,
    payload: impl FnOnce(&mut Vec<u8>),
) {
    let m = begin_ip(buf, a, 17);
    buf.extend_from_slice(&sport.to_be_bytes());
    buf.extend_from_slice(&dport.to_be_bytes());
    buf.extend_from_slice(&[0, 0, 0, 0]);
    payload(buf);
    let len = (buf.len() - m.l4) as u16;
    put16(buf, m.l4 + 4, len);
    finish_ip(buf, m, 17, 6);
}

/// Writes a RARP request broadcast from `mac` (as ESXi sends after a vMotion switchover).
pub fn rarp(buf: &mut Vec<u8>, mac: Mac, vlan: Option<u16>) {
    buf.clear();
    buf.resize(HEADROOM, 0);
    buf.extend_from_slice(&[0xff; 6]);
    buf.extend_from_slice(&mac.0);
    if let Some(vlan) = vlan {
        buf.extend_from_slice(&[0x81, 0x00]);
        buf.extend_from_slice(&(vlan & 0x0fff).to_be_bytes());
    }
    buf.extend_from_slice(&[0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03]);
    buf.extend_from_slice(&mac.0);
    buf.extend_from_slice(&[0, 0, 0, 0]);
    buf.extend_from_slice(&mac.0);
    buf.extend_from_slice(&[0, 0, 0, 0]);
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
    let (gre_len, proto, span_len) = match encap {
        Encap::None => return HEADROOM,
        Encap::Gre => (4usize, 0x6558u16, 0usize),
        Encap::Erspan2 => (8, 0x88be, 8),
        Encap::Erspan3 => (8, 0x22eb, 12),
    };
    let inner_len = buf.len().saturating_sub(HEADROOM);
    let start = HEADROOM - span_len - gre_len - 20 - 14;
    let Some(h) = buf.get_mut(start..HEADROOM) else {
        return HEADROOM;
    };
    h[0..6].copy_from_slice(&MIRROR_DST_MAC.0);
    h[6..12].copy_from_slice(&MIRROR_SRC_MAC.0);
    h[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut h[14..34];
    let total = (20 + gre_len + span_len + inner_len) as u16;
    ip.copy_from_slice(&[
        0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 47, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    ip[2..4].copy_from_slice(&total.to_be_bytes());
    ip[4..6].copy_from_slice(&f.ip_id.to_be_bytes());
    ip[12..16].copy_from_slice(&MIRROR_SRC_IP);
    ip[16..20].copy_from_slice(&MIRROR_DST_IP);
    let c = fold(sum_words(0, ip));
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let gre = &mut h[34..34 + gre_len];
    let flags: u16 = if gre_len == 8 { 0x1000 } else { 0 };
    gre[0..2].copy_from_slice(&flags.to_be_bytes());
    gre[2..4].copy_from_slice(&proto.to_be_bytes());
    if gre_len == 8 {
        gre[4..8].copy_from_slice(&f.seq.to_be_bytes());
    }
    let span = &mut h[34 + gre_len..];
    let vlan = f.vlan & 0x0fff;
    match encap {
        Encap::Erspan2 => {
            // Ver 1, VLAN | COS 0, En 3 (VLAN tag preserved) or 0, T 0, session | index 0.
            let en: u16 = if vlan != 0 { 3 } else { 0 };
            span[0..2].copy_from_slice(&((1u16 << 12) | vlan).to_be_bytes());
            span[2..4].copy_from_slice(&((en << 11) | ERSPAN_SESSION).to_be_bytes());
            span[4..8].copy_from_slice(&[0, 0, 0, 0]);
        }
        Encap::Erspan3 => {
            // Ver 2, VLAN | COS, BSO, T, session | timestamp | SGT | P FT HWID D Gra O.
            let ts = (f.ts_ns / 100_000) as u32;
            span[0..2].copy_from_slice(&((2u16 << 12) | vlan).to_be_bytes());
            span[2..4].copy_from_slice(&ERSPAN_SESSION.to_be_bytes());
            span[4..8].copy_from_slice(&ts.to_be_bytes());
            span[8..12].copy_from_slice(&[0, 0, 0, 0]);
        }
        _ => {}
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
