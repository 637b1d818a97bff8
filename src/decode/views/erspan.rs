//! ERSPAN (Cisco's Encapsulated Remote SPAN, carried in GRE): type II (GRE protocol 0x88BE, 8-byte
//! header) and type III (0x22EB, 12 bytes, plus an 8-byte platform-specific subheader when the O
//! flag is set). Type I has no header at all (GRE 0x88BE without sequence number); the decoder
//! handles it without a view.

use crate::vocab::bytes::{be16, be32};

/// ERSPAN header fields; the first four bytes are common to types II and III.
pub mod field {
    /// Version (4 bits: 1 for type II, 2 for type III) and the original VLAN (12 bits);
    /// big-endian u16.
    pub const VER_VLAN: usize = 0;
    /// COS, encapsulation type or BSO, T, and the session id (10 bits); big-endian u16.
    pub const SESSION: usize = 2;
    /// Type II: reserved bits and the port index; big-endian u32.
    pub const INDEX: usize = 4;
    /// Type II header length.
    pub const TYPE2_LEN: usize = 8;
    /// Type III: timestamp; big-endian u32.
    pub const TIMESTAMP: usize = 4;
    /// Type III: security group tag; big-endian u16.
    pub const SGT: usize = 8;
    /// Type III: P, FT, hardware id, D, granularity, O flags; big-endian u16.
    pub const FLAGS: usize = 10;
    /// Type III: the byte of [`FLAGS`] holding the O flag.
    pub const O_FLAG_BYTE: usize = 11;
    /// Type III header length without the platform-specific subheader.
    pub const TYPE3_LEN: usize = 12;
    /// Length of the type III platform-specific subheader.
    pub const PLATFORM_LEN: usize = 8;
}

/// Right shift of the version in [`field::VER_VLAN`].
pub const VERSION_SHIFT: u16 = 12;
/// Version field of type II.
pub const VERSION_TYPE2: u16 = 1;
/// Version field of type III.
pub const VERSION_TYPE3: u16 = 2;
/// The VLAN bits of [`field::VER_VLAN`].
pub const VLAN_MASK: u16 = 0x0fff;
/// The session id bits of [`field::SESSION`].
pub const SESSION_MASK: u16 = 0x03ff;
/// Type II: left shift of the 2-bit encapsulation type (En) in [`field::SESSION`].
pub const EN_SHIFT: u16 = 11;
/// Type II En value: the mirrored frame kept its VLAN tag.
pub const EN_VLAN_PRESERVED: u16 = 3;
/// Type III: the O flag (platform-specific subheader present) in [`field::O_FLAG_BYTE`].
pub const O_FLAG: u8 = 0x01;

/// A view of an ERSPAN type II header and the mirrored frame after it.
pub struct Erspan2<'a>(&'a [u8]);

impl<'a> Erspan2<'a> {
    /// Checks the header is complete.
    pub fn new_checked(d: &'a [u8]) -> Option<Erspan2<'a>> {
        (d.len() >= field::TYPE2_LEN).then_some(Erspan2(d))
    }
    /// The 4-bit version field (1 for type II).
    pub fn version(&self) -> u8 {
        version(self.0)
    }
    /// The 12-bit original VLAN field.
    pub fn vlan(&self) -> u16 {
        vlan(self.0)
    }
    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        session_id(self.0)
    }
    /// The mirrored Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(field::TYPE2_LEN..).unwrap_or(&[])
    }
}

/// A view of an ERSPAN type III header and the mirrored frame after it.
pub struct Erspan3<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> Erspan3<'a> {
    /// Checks the header is complete, with the platform-specific subheader when the O flag
    /// announces one (it is skipped).
    pub fn new_checked(d: &'a [u8]) -> Option<Erspan3<'a>> {
        let o_flag = d.get(field::O_FLAG_BYTE)? & O_FLAG != 0;
        let len = if o_flag {
            field::TYPE3_LEN + field::PLATFORM_LEN
        } else {
            field::TYPE3_LEN
        };
        (d.len() >= len).then_some(Erspan3 {
            data: d,
            header_len: len,
        })
    }
    /// The 4-bit version field (2 for type III).
    pub fn version(&self) -> u8 {
        version(self.data)
    }
    /// The 12-bit original VLAN field.
    pub fn vlan(&self) -> u16 {
        vlan(self.data)
    }
    /// The 10-bit session id.
    pub fn session_id(&self) -> u16 {
        session_id(self.data)
    }
    /// The timestamp field (units set by the granularity flags).
    pub fn timestamp(&self) -> u32 {
        be32(self.data, field::TIMESTAMP).unwrap_or(0)
    }
    /// The mirrored Ethernet frame.
    pub fn payload(&self) -> &'a [u8] {
        self.data.get(self.header_len..).unwrap_or(&[])
    }
}

fn version(d: &[u8]) -> u8 {
    (be16(d, field::VER_VLAN).unwrap_or(0) >> VERSION_SHIFT) as u8
}

fn vlan(d: &[u8]) -> u16 {
    be16(d, field::VER_VLAN).unwrap_or(0) & VLAN_MASK
}

fn session_id(d: &[u8]) -> u16 {
    be16(d, field::SESSION).unwrap_or(0) & SESSION_MASK
}
