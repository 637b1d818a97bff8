//! VXLAN (RFC 7348): an 8-byte header after UDP port 4789, with the I flag and a 24-bit VNI.

use crate::vocab::bytes::be32;

/// VXLAN header fields.
pub mod field {
    /// Flags; the I flag says the VNI is valid.
    pub const FLAGS: usize = 0;
    /// The VNI (high 24 bits) and a reserved byte; big-endian u32.
    pub const VNI: usize = 4;
    /// Header length.
    pub const HEADER_LEN: usize = 8;
}

/// The I flag in [`field::FLAGS`].
pub const FLAG_I: u8 = 0x08;
/// Right shift that turns [`field::VNI`]'s u32 into the VNI.
pub const VNI_SHIFT: u32 = 8;

/// A view of a VXLAN header and the inner Ethernet frame after it.
pub struct Vxlan<'a>(&'a [u8]);

impl<'a> Vxlan<'a> {
    /// Checks length and the I (valid VNI) flag.
    pub fn new_checked(d: &'a [u8]) -> Option<Vxlan<'a>> {
        let flags = *d.get(field::FLAGS)?;
        (d.len() >= field::HEADER_LEN && flags & FLAG_I != 0).then_some(Vxlan(d))
    }
    /// The VXLAN network identifier.
    pub fn vni(&self) -> u32 {
        be32(self.0, field::VNI).unwrap_or(0) >> VNI_SHIFT
    }
    /// The inner Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(field::HEADER_LEN..).unwrap_or(&[])
    }
}
