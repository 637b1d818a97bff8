//! Linux cooked capture v2 (LINKTYPE_LINUX_SLL2, 276): a 20-byte pseudo-header in place of the
//! link-layer header, with the capturing interface's index.

use crate::vocab::Mac;
use crate::vocab::bytes::{be16, be32, mac_at};
use crate::vocab::wire::EtherType;

/// SLL2 header fields.
pub mod field {
    /// Protocol: an EtherType for Ethernet-like devices; big-endian u16.
    pub const PROTOCOL: usize = 0;
    /// Reserved (must be zero); big-endian u16.
    pub const RESERVED: usize = 2;
    /// Interface index; big-endian u32.
    pub const IFINDEX: usize = 4;
    /// ARPHRD_ device type; big-endian u16.
    pub const ARPHRD: usize = 8;
    /// Packet type (to us, broadcast, sent by us, …).
    pub const PKTTYPE: usize = 10;
    /// Length of the link-layer address.
    pub const ADDR_LEN: usize = 11;
    /// Link-layer address (8 bytes, of which `ADDR_LEN` are used).
    pub const ADDR: usize = 12;
    /// Header length.
    pub const HEADER_LEN: usize = 20;
}

/// A view of an SLL2 header and what follows it.
pub struct Sll2<'a>(&'a [u8]);

impl<'a> Sll2<'a> {
    /// Checks the header is complete.
    pub fn new_checked(d: &'a [u8]) -> Option<Sll2<'a>> {
        (d.len() >= field::HEADER_LEN).then_some(Sll2(d))
    }
    /// The protocol field (an EtherType for Ethernet-like devices).
    pub fn protocol(&self) -> EtherType {
        EtherType::from(be16(self.0, field::PROTOCOL).unwrap_or(0))
    }
    /// The capturing interface's index.
    pub fn ifindex(&self) -> u32 {
        be32(self.0, field::IFINDEX).unwrap_or(0)
    }
    /// The ARPHRD_ device type.
    pub fn arphrd(&self) -> u16 {
        be16(self.0, field::ARPHRD).unwrap_or(0)
    }
    /// The link-layer source address, when it is a 6-byte MAC.
    pub fn src_mac(&self) -> Option<Mac> {
        (*self.0.get(field::ADDR_LEN)? == 6)
            .then(|| mac_at(self.0, field::ADDR))
            .flatten()
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(field::HEADER_LEN..).unwrap_or(&[])
    }
}
