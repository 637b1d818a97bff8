//! UDP header (RFC 768).

use crate::vocab::bytes::be16;

/// UDP header fields.
pub mod field {
    /// Source port; big-endian u16.
    pub const SRC_PORT: usize = 0;
    /// Destination port; big-endian u16.
    pub const DST_PORT: usize = 2;
    /// Length of header and payload; big-endian u16.
    pub const LENGTH: usize = 4;
    /// Checksum (0: none); big-endian u16.
    pub const CHECKSUM: usize = 6;
    /// Header length.
    pub const HEADER_LEN: usize = 8;
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
        src_port: be16(d, field::SRC_PORT)?,
        dst_port: be16(d, field::DST_PORT)?,
        length: be16(d, field::LENGTH),
    })
}
