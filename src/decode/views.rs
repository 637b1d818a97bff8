//! Small zero-copy views over headers etherparse does not parse: Linux cooked captures (SLL, SLL2),
//! BSD null/loopback, GRE, ERSPAN II/III, VXLAN, ARP/RARP, and TCP/UDP headers cut short by a
//! snap length.
//!
//! Each view has a checked constructor returning `None` when the bytes are too short, and named
//! offsets in a `field` module, so no access can panic.

use crate::vocab::Mac;
use crate::vocab::bytes::{be16, be32, mac_at};

/// Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113): 16-byte header.
pub struct Sll<'a>(&'a [u8]);

mod sll {
    pub const ARPHRD: usize = 2;
    pub const ADDR_LEN: usize = 4;
    pub const ADDR: usize = 6;
    pub const PROTOCOL: usize = 14;
    pub const LEN: usize = 16;
}

impl<'a> Sll<'a> {
    /// Checks the header is complete.
    pub fn new_checked(d: &'a [u8]) -> Option<Sll<'a>> {
        (d.len() >= sll::LEN).then_some(Sll(d))
    }
    /// The protocol field (an EtherType for Ethernet-like devices).
    pub fn protocol(&self) -> u16 {
        be16(self.0, sll::PROTOCOL).unwrap_or(0)
    }
    /// The ARPHRD_ device type.
    pub fn arphrd(&self) -> u16 {
        be16(self.0, sll::ARPHRD).unwrap_or(0)
    }
    /// The link-layer source address, when it is a 6-byte MAC.
    pub fn src_mac(&self) -> Option<Mac> {
        (be16(self.0, sll::ADDR_LEN)? == 6)
            .then(|| mac_at(self.0, sll::ADDR))
            .flatten()
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(sll::LEN..).unwrap_or(&[])
    }
}

/// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276): 20-byte header.
pub struct Sll2<'a>(&'a [u8]);

mod sll2 {
    pub const PROTOCOL: usize = 0;
    pub const IFINDEX: usize = 4;
    pub const ARPHRD: usize = 8;
    pub const ADDR_LEN: usize = 11;
    pub const ADDR: usize = 12;
    pub const LEN: usize = 20;
}

impl<'a> Sll2<'a> {
    /// Checks the header is complete.
    pub fn new_checked(d: &'a [u8]) -> Option<Sll2<'a>> {
        (d.len() >= sll2::LEN).then_some(Sll2(d))
    }
    /// The protocol field (an EtherType for Ethernet-like devices).
    pub fn protocol(&self) -> u16 {
        be16(self.0, sll2::PROTOCOL).unwrap_or(0)
    }
    /// The capturing interface's index.
    pub fn ifindex(&self) -> u32 {
        be32(self.0, sll2::IFINDEX).unwrap_or(0)
    }
    /// The ARPHRD_ device type.
    pub fn arphrd(&self) -> u16 {
        be16(self.0, sll2::ARPHRD).unwrap_or(0)
    }
    /// The link-layer source address, when it is a 6-byte MAC.
    pub fn src_mac(&self) -> Option<Mac> {
        (*self.0.get(sll2::ADDR_LEN)? == 6)
            .then(|| mac_at(self.0, sll2::ADDR))
            .flatten()
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(sll2::LEN..).unwrap_or(&[])
    }
}

/// What a BSD null/loopback header says the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullFamily {
    /// AF_INET.
    Ipv4,
    /// AF_INET6 under any of the BSDs' values (24, 28, 30) or Linux's 10.
    Ipv6,
    /// Anything else.
    Other(u32),
}

/// Reads the 4-byte family of LINKTYPE_NULL (host byte order of the capturing machine, so either)
/// or LINKTYPE_LOOP (network byte order).
pub fn null_family(d: &[u8], network_order: bool) -> Option<NullFamily> {
    let b: [u8; 4] = d.get(..4)?.try_into().ok()?;
    let candidates = if network_order {
        [u32::from_be_bytes(b), u32::from_be_bytes(b)]
    } else {
        [u32::from_le_bytes(b), u32::from_be_bytes(b)]
    };
    for v in candidates {
        match v {
            2 => return Some(NullFamily::Ipv4),
            10 | 24 | 28 | 30 => return Some(NullFamily::Ipv6),
            _ => {}
        }
    }
    Some(NullFamily::Other(candidates[0]))
}

/// A GRE header (RFC 2784/2890): flags, protocol, optional checksum, key and sequence number.
pub struct Gre<'a> {
    data: &'a [u8],
    header_len: usize,
}

mod gre {
    pub const FLAGS: usize = 0;
    pub const PROTOCOL: usize = 2;
    pub const C: u8 = 0x80;
    pub const K: u8 = 0x20;
    pub const S: u8 = 0x10;
}

impl<'a> Gre<'a> {
    /// Checks the base header and the optional fields its flags announce; only version 0.
    pub fn new_checked(d: &'a [u8]) -> Option<Gre<'a>> {
        let flags = *d.get(gre::FLAGS)?;
        let version = d.get(gre::FLAGS + 1)? & 0x07;
        if version != 0 {
            return None;
        }
        let mut len = 4;
        for bit in [gre::C, gre::K, gre::S] {
            if flags & bit != 0 {
                len += 4;
            }
        }
        (d.len() >= len).then_some(Gre {
            data: d,
            header_len: len,
        })
    }
    /// The encapsulated protocol (an EtherType).
    pub fn protocol(&self) -> u16 {
        be16(self.data, gre::PROTOCOL).unwrap_or(0)
    }
    /// Whether a sequence number is present (ERSPAN II and III set it).
    pub fn has_sequence(&self) -> bool {
        self.data.first().is_some_and(|f| f & gre::S != 0)
    }
    /// The key, when present.
    pub fn key(&self) -> Option<u32> {
        let flags = *self.data.first()?;
        if flags & gre::K == 0 {
            return None;
        }
        let at = if flags & gre::C != 0 { 8 } else { 4 };
        be32(self.data, at)
    }
    /// Bytes after the GRE header.
    pub fn payload(&self) -> &'a [u8] {
        self.data.get(self.header_len..).unwrap_or(&[])
    }
}

/// An ERSPAN type II (8 bytes) or type III (12 bytes, plus 8 with the O flag) header.
pub struct Erspan<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> Erspan<'a> {
    /// Type II header.
    pub fn new_type2(d: &'a [u8]) -> Option<Erspan<'a>> {
        (d.len() >= 8).then_some(Erspan {
            data: d,
            header_len: 8,
        })
    }
    /// Type III header; its optional platform-specific subheader is skipped.
    pub fn new_type3(d: &'a [u8]) -> Option<Erspan<'a>> {
        let o_flag = d.get(11)? & 0x01 != 0;
        let len = if o_flag { 20 } else { 12 };
        (d.len() >= len).then_some(Erspan {
            data: d,
            header_len: len,
        })
    }
    /// The 4-bit version field (1 for type II, 2 for type III).
    pub fn version(&self) -> u8 {
        self.data.first().map_or(0, |b| b >> 4)
    }
    /// The 12-bit original VLAN field.
    pub fn vlan(&self) -> u16 {
        be16(self.data, 0).unwrap_or(0) & 0x0fff
    }
    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        be16(self.data, 2).unwrap_or(0) & 0x03ff
    }
    /// The mirrored Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        self.data.get(self.header_len..).unwrap_or(&[])
    }
}

/// A VXLAN header (RFC 7348): 8 bytes, I flag, 24-bit VNI.
pub struct Vxlan<'a>(&'a [u8]);

impl<'a> Vxlan<'a> {
    /// Checks length and the I (valid VNI) flag.
    pub fn new_checked(d: &'a [u8]) -> Option<Vxlan<'a>> {
        (d.len() >= 8 && d[0] & 0x08 != 0).then_some(Vxlan(d))
    }
    /// The VXLAN network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.0, 4).unwrap_or(0) >> 8
    }
    /// The inner Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(8..).unwrap_or(&[])
    }
}

/// ARP and RARP share one packet layout; this reads the fields a flow analysis needs.
pub struct Arp<'a>(&'a [u8]);

impl<'a> Arp<'a> {
    /// Checks the fixed part and that the addresses fit.
    pub fn new_checked(d: &'a [u8]) -> Option<Arp<'a>> {
        let hlen = *d.get(4)? as usize;
        let plen = *d.get(5)? as usize;
        (d.len() >= 8 + 2 * hlen + 2 * plen).then_some(Arp(d))
    }
    /// The operation (1 request, 2 reply, 3 reverse request, 4 reverse reply).
    pub fn operation(&self) -> u16 {
        be16(self.0, 6).unwrap_or(0)
    }
    /// Sender hardware address, when it is a MAC.
    pub fn sender_mac(&self) -> Option<Mac> {
        (*self.0.get(4)? == 6).then(|| mac_at(self.0, 8)).flatten()
    }
}

/// The fields of a TCP header that survive a short snap length: ports from 4 bytes, sequence
/// from 8, ack from 12, data offset from 13, flags from 14, window from 16.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpFields {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number, when captured.
    pub seq: Option<u32>,
    /// Acknowledgment number, when captured.
    pub ack: Option<u32>,
    /// Header length in bytes, when captured.
    pub header_len: Option<u8>,
    /// Flag bits (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10), when captured.
    pub flags: Option<u8>,
    /// Receive window, when captured.
    pub window: Option<u16>,
}

/// Reads what is present of a TCP header; `None` when not even the ports are.
pub fn tcp_fields(d: &[u8]) -> Option<TcpFields> {
    Some(TcpFields {
        src_port: be16(d, 0)?,
        dst_port: be16(d, 2)?,
        seq: be32(d, 4),
        ack: be32(d, 8),
        header_len: d.get(12).map(|b| (b >> 4) * 4),
        flags: d.get(13).copied(),
        window: be16(d, 14),
    })
}

/// The fields of a UDP header: ports and the length field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpFields {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field (header plus payload), when captured.
    pub length: Option<u16>,
}

/// Reads what is present of a UDP header; `None` when not even the ports are.
pub fn udp_fields(d: &[u8]) -> Option<UdpFields> {
    Some(UdpFields {
        src_port: be16(d, 0)?,
        dst_port: be16(d, 2)?,
        length: be16(d, 4),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_reject_short_input() {
        assert!(Sll::new_checked(&[0; 15]).is_none());
        assert!(Sll2::new_checked(&[0; 19]).is_none());
        assert!(Gre::new_checked(&[0x30, 0, 0x65, 0x58, 0, 0, 0]).is_none());
        assert!(Erspan::new_type3(&[0; 11]).is_none());
        let mut e3 = [0u8; 19];
        e3[11] = 1;
        assert!(Erspan::new_type3(&e3).is_none(), "O flag needs 20 bytes");
        assert!(Vxlan::new_checked(&[0x08, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(Vxlan::new_checked(&[0x00; 8]).is_none(), "I flag required");
        assert!(Arp::new_checked(&[0, 1, 8, 0, 6, 4, 0, 1]).is_none());
        assert!(tcp_fields(&[0, 1, 0]).is_none());
        assert!(udp_fields(&[0, 1, 0]).is_none());
    }

    #[test]
    fn gre_optional_fields() {
        // C, K and S set: 16-byte header, key after the checksum word.
        let d = [
            0xb0, 0x00, 0x88, 0xbe, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7, 0xaa,
        ];
        let g = Gre::new_checked(&d).unwrap();
        assert_eq!(g.protocol(), 0x88be);
        assert_eq!(g.key(), Some(42));
        assert!(g.has_sequence());
        assert_eq!(g.payload(), &[0xaa]);
    }

    #[test]
    fn partial_tcp_header() {
        let d = [0x1f, 0x40, 0xc0, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x50];
        let t = tcp_fields(&d).unwrap();
        assert_eq!((t.src_port, t.dst_port), (8000, 49152));
        assert_eq!(t.seq, Some(1));
        assert_eq!(t.ack, Some(2));
        assert_eq!(t.header_len, Some(20));
        assert_eq!(t.flags, None);
    }

    #[test]
    fn null_family_both_orders() {
        assert_eq!(null_family(&[2, 0, 0, 0], false), Some(NullFamily::Ipv4));
        assert_eq!(null_family(&[0, 0, 0, 2], false), Some(NullFamily::Ipv4));
        assert_eq!(null_family(&[0, 0, 0, 30], true), Some(NullFamily::Ipv6));
        assert_eq!(
            null_family(&[0, 0, 0, 99], true),
            Some(NullFamily::Other(99))
        );
        assert_eq!(null_family(&[0, 0], true), None);
    }
}
