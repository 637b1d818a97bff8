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
    /// The maximum segment size option of a SYN segment, when its options were captured
    /// whole up to it (read on SYN segments only: the option is valid there alone).
    pub mss: Option<u16>,
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
        mss: match d.get(field::FLAGS) {
            Some(f) if f & flags::SYN != 0 => syn_mss(d),
            _ => None,
        },
    })
}

/// The MSS option among the options of a SYN's header `d` (cut at the captured bytes): `None`
/// when absent, malformed or not captured whole.
pub fn syn_mss(d: &[u8]) -> Option<u16> {
    let header_len = usize::from(d.get(field::DATA_OFFSET)? >> 4) * 4;
    let opts = d.get(field::MIN_HEADER_LEN..header_len.min(d.len()))?;
    let mut i = 0;
    while let Some(&kind) = opts.get(i) {
        match kind {
            0 => return None,
            1 => i += 1,
            _ => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 {
                    return None;
                }
                if kind == OPTION_MSS {
                    return if len == usize::from(OPTION_MSS_LEN) {
                        be16(opts, i + 2)
                    } else {
                        None
                    };
                }
                i += len;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(flags: u8, opts: &[u8]) -> Vec<u8> {
        let mut h = vec![0u8; 20];
        h[field::DATA_OFFSET] = (((20 + opts.len()) / 4) as u8) << 4;
        h[field::FLAGS] = flags;
        h.extend_from_slice(opts);
        h
    }

    #[test]
    fn mss_of_syn_segments_only_and_never_past_the_captured_bytes() {
        let opts = [1, 1, 4, 2, 2, 4, 0x23, 0x18]; // NOP NOP SACK-permitted MSS 8984
        let syn = header(flags::SYN, &opts);
        assert_eq!(tcp_fields(&syn).expect("f").mss, Some(8984));
        let synack = header(flags::SYN | flags::ACK, &opts);
        assert_eq!(tcp_fields(&synack).expect("f").mss, Some(8984));
        assert_eq!(tcp_fields(&header(flags::ACK, &opts)).expect("f").mss, None);
        // Cut inside the option: unknown.
        for cut in 14..syn.len() {
            assert_eq!(tcp_fields(&syn[..cut]).expect("f").mss, None, "cut {cut}");
        }
        // End of options, zero length, wrong length, option beyond the header length.
        assert_eq!(
            syn_mss(&header(flags::SYN, &[0, 0, 0, 0, 2, 4, 5, 0xb4])),
            None
        );
        assert_eq!(syn_mss(&header(flags::SYN, &[3, 0, 0, 0])), None);
        assert_eq!(syn_mss(&header(flags::SYN, &[2, 3, 5, 0xb4])), None);
        let mut short = header(flags::SYN, &[]);
        short.extend_from_slice(&[2, 4, 5, 0xb4]);
        assert_eq!(syn_mss(&short), None);
        assert_eq!(syn_mss(&header(flags::SYN, &[2, 4, 5, 0xb4])), Some(1460));
    }
}
