//! GRE (RFC 2784, RFC 2890): flags, protocol, and the optional checksum, key and sequence number
//! words the flags announce. Only version 0 is read.

use crate::vocab::bytes::{be16, be32};
use crate::vocab::wire::EtherType;

/// GRE header fields.
pub mod field {
    /// Flags: C (checksum), K (key), S (sequence number) in the high bits.
    pub const FLAGS: usize = 0;
    /// Reserved bits and the version (low 3 bits).
    pub const VERSION: usize = 1;
    /// The encapsulated protocol, an EtherType; big-endian u16.
    pub const PROTOCOL: usize = 2;
    /// Length of the header without optional words.
    pub const BASE_LEN: usize = 4;
    /// Length of each optional word (checksum + reserved, key, sequence number), in this order.
    pub const OPTION_LEN: usize = 4;
}

/// Checksum present.
pub const FLAG_C: u8 = 0x80;
/// Key present.
pub const FLAG_K: u8 = 0x20;
/// Sequence number present (ERSPAN II and III set it).
pub const FLAG_S: u8 = 0x10;
/// The version bits of [`field::VERSION`].
pub const VERSION_MASK: u8 = 0x07;

/// A view of a GRE header and what follows it.
pub struct Gre<'a> {
    data: &'a [u8],
    header_len: usize,
}

impl<'a> Gre<'a> {
    /// Checks the base header and the optional fields its flags announce; only version 0.
    pub fn new_checked(d: &'a [u8]) -> Option<Gre<'a>> {
        let flags = *d.get(field::FLAGS)?;
        let version = d.get(field::VERSION)? & VERSION_MASK;
        if version != 0 {
            return None;
        }
        let mut len = field::BASE_LEN;
        for bit in [FLAG_C, FLAG_K, FLAG_S] {
            if flags & bit != 0 {
                len += field::OPTION_LEN;
            }
        }
        (d.len() >= len).then_some(Gre {
            data: d,
            header_len: len,
        })
    }
    /// The encapsulated protocol (an EtherType).
    pub fn protocol(&self) -> EtherType {
        EtherType::from(be16(self.data, field::PROTOCOL).unwrap_or(0))
    }
    /// Whether a sequence number is present (ERSPAN II and III set it).
    pub fn has_sequence(&self) -> bool {
        self.flags() & FLAG_S != 0
    }
    /// The key, when present.
    pub fn key(&self) -> Option<u32> {
        let flags = self.flags();
        if flags & FLAG_K == 0 {
            return None;
        }
        let at = if flags & FLAG_C != 0 {
            field::BASE_LEN + field::OPTION_LEN
        } else {
            field::BASE_LEN
        };
        be32(self.data, at)
    }
    /// Bytes after the GRE header.
    pub fn payload(&self) -> &'a [u8] {
        self.data.get(self.header_len..).unwrap_or(&[])
    }

    fn flags(&self) -> u8 {
        self.data.get(field::FLAGS).copied().unwrap_or(0)
    }
}
