//! Linux cooked capture v1 (LINKTYPE_LINUX_SLL, 113): a 16-byte pseudo-header in place of the
//! link-layer header.

use crate::vocab::Mac;
use crate::vocab::bytes::{be16, mac_at};
use crate::vocab::wire::EtherType;

/// SLL header fields.
pub mod field {
    /// Packet type (to us, broadcast, sent by us, …); big-endian u16.
    pub const PKTTYPE: usize = 0;
    /// ARPHRD_ device type; big-endian u16.
    pub const ARPHRD: usize = 2;
    /// Length of the link-layer address; big-endian u16.
    pub const ADDR_LEN: usize = 4;
    /// Link-layer address (8 bytes, of which `ADDR_LEN` are used).
    pub const ADDR: usize = 6;
    /// Protocol: an EtherType for Ethernet-like devices; big-endian u16.
    pub const PROTOCOL: usize = 14;
    /// Header length.
    pub const HEADER_LEN: usize = 16;
}

/// A view of an SLL header and what follows it.
pub struct Sll<'a>(&'a [u8]);

impl<'a> Sll<'a> {
    /// Checks the header is complete.
    pub fn new_checked(d: &'a [u8]) -> Option<Sll<'a>> {
        (d.len() >= field::HEADER_LEN).then_some(Sll(d))
    }
    /// The protocol field (an EtherType for Ethernet-like devices).
    pub fn protocol(&self) -> EtherType {
        EtherType::from(be16(self.0, field::PROTOCOL).unwrap_or(0))
    }
    /// The ARPHRD_ device type.
    pub fn arphrd(&self) -> u16 {
        be16(self.0, field::ARPHRD).unwrap_or(0)
    }
    /// The link-layer source address, when it is a 6-byte MAC.
    pub fn src_mac(&self) -> Option<Mac> {
        (be16(self.0, field::ADDR_LEN)? == 6)
            .then(|| mac_at(self.0, field::ADDR))
            .flatten()
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(field::HEADER_LEN..).unwrap_or(&[])
    }
}
