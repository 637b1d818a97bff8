//! ARP and RARP (RFC 826, RFC 903): one packet layout, with address lengths given in the packet.

use crate::vocab::Mac;
use crate::vocab::bytes::{be16, mac_at};

/// ARP/RARP packet fields; the addresses follow the fixed part, their lengths given by
/// [`HLEN`](field::HLEN) and [`PLEN`](field::PLEN).
pub mod field {
    /// Hardware type (1 for Ethernet); big-endian u16.
    pub const HTYPE: usize = 0;
    /// Protocol type (an EtherType); big-endian u16.
    pub const PTYPE: usize = 2;
    /// Hardware address length.
    pub const HLEN: usize = 4;
    /// Protocol address length.
    pub const PLEN: usize = 5;
    /// Operation; big-endian u16.
    pub const OPER: usize = 6;
    /// Sender hardware address: the first address after the fixed part.
    pub const SHA: usize = 8;
    /// Length of the fixed part.
    pub const FIXED_LEN: usize = 8;
}

/// [`field::HTYPE`] of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;
/// [`field::OPER`] of a RARP request ("reverse request").
pub const OPER_REVERSE_REQUEST: u16 = 3;

/// A view of an ARP or RARP packet.
pub struct Arp<'a>(&'a [u8]);

impl<'a> Arp<'a> {
    /// Checks the fixed part and that the addresses fit.
    pub fn new_checked(d: &'a [u8]) -> Option<Arp<'a>> {
        let hlen = *d.get(field::HLEN)? as usize;
        let plen = *d.get(field::PLEN)? as usize;
        (d.len() >= field::FIXED_LEN + 2 * hlen + 2 * plen).then_some(Arp(d))
    }
    /// The operation (1 request, 2 reply, 3 reverse request, 4 reverse reply).
    pub fn operation(&self) -> u16 {
        be16(self.0, field::OPER).unwrap_or(0)
    }
    /// Sender hardware address, when it is a MAC.
    pub fn sender_mac(&self) -> Option<Mac> {
        (*self.0.get(field::HLEN)? == 6)
            .then(|| mac_at(self.0, field::SHA))
            .flatten()
    }
}
