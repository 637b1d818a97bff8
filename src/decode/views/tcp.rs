//! TCP header (RFC 9293): the fields that survive a short snap length.

use crate::vocab::bytes::{be16, be32};

/// TCP header fields.
pub mod field {
    /// Source port; big-endian u16.
    pub const SRC_PORT: usize = 0;
    /// Destination port; big-endian u16.
    pub const DST_PORT: usize = 2;
    /// Sequence number; big-endian u32.
    pub const SEQ: usize = 4;
    /// Acknowledgment number; big-endian u32.
    pub const ACK: usize = 8;
    /// Data offset in 32-bit words (high nibble).
    pub const DATA_OFFSET: usize = 12;
    /// Flag bits ([`super::flags`]).
    pub const FLAGS: usize = 13;
    /// Receive window; big-endian u16.
    pub const WINDOW: usize = 14;
    /// Checksum; big-endian u16.
    pub const CHECKSUM: usize = 16;
    /// Urgent pointer; big-endian u16.
    pub const URGENT: usize = 18;
    /// Header length without options.
    pub const MIN_HEADER_LEN: usize = 20;
}

/// Flag bits of [`field::FLAGS`].
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// Option kind of the maximum segment size.
pub const OPTION_MSS: u8 = 2;
/// Length of the maximum segment size option, kind and length bytes included.
pub const OPTION_MSS_LEN: u8 = 4;

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
    /// Flag bits ([`flags`]: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10), when captured.
    pub flags: Option<u8>,
    /// Receive window, when captured.
    pub window: Option<u16>,
}

/// Reads what is present of a TCP header; `None` when not even the ports are.
pub fn tcp_fields(d: &[u8]) -> Option<TcpFields> {
    Some(TcpFields {
        src_port: be16(d, field::SRC_PORT)?,
        dst_port: be16(d, field::DST_PORT)?,
        seq: be32(d, field::SEQ),
        ack: be32(d, field::ACK),
        header_len: d.get(field::DATA_OFFSET).map(|b| (b >> 4) * 4),
        flags: d.get(field::FLAGS).copied(),
        window: be16(d, field::WINDOW),
    })
}
