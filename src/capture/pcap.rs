//! libpcap files: the 24-byte global header (pcap-parser) and 16-byte record headers.
//!
//! In: the window positioned at the file header. Out: [`Step`]s, one per record. Microsecond and
//! nanosecond magics in both byte orders, and the "modified" (Kuznetzov) variant with 24-byte
//! record headers.

use pcap_parser::pcap::parse_pcap_header;

use super::input::{MAX_RECORD, Window};
use super::time::{TsResolution, clamp_ns};
use super::{
    CaptureStats, Format, FrameMeta, Interface, SkippedBlocks, Step, StepError, link_type_of, need,
    parse_failure,
};
use crate::vocab::bytes::{Order, array_at, u32_at};
use crate::vocab::wire::LinkType;

/// Whether four bytes are one of the pcap magics (µs/ns, LE/BE, modified).
pub(crate) fn is_pcap_magic(m: [u8; 4]) -> bool {
    let le = u32::from_le_bytes(m);
    matches!(
        le,
        0xa1b2_c3d4 | 0xa1b2_3c4d | 0xa1b2_cd34 | 0xd4c3_b2a1 | 0x4d3c_b2a1 | 0x34cd_b2a1
    )
}

pub(crate) struct PcapState {
    /// Byte order of the header fields.
    order: Order,
    nanos: bool,
    modified: bool,
    link_type: LinkType,
}

impl PcapState {
    pub(crate) fn read_header(win: &mut Window) -> Result<(PcapState, CaptureStats), StepError> {
        need(win, 24)?;
        // pcap-parser does not know the big-endian "modified" magic; parse it as the big-endian
        // microsecond header it otherwise is.
        // `need` made the 24 bytes available.
        let mut head: [u8; 24] = array_at(win.data(), 0).unwrap_or([0; 24]);
        let modified_be = u32_at(&head, 0, Order::Little) == Some(0x34cd_b2a1);
        if modified_be {
            head[..4].copy_from_slice(&0xa1b2_c3d4u32.to_be_bytes());
        }
        let (_, hdr) = parse_pcap_header(&head).map_err(|e| StepError::Corrupt {
            offset: 0,
            what: format!("unreadable pcap file header: {}", parse_failure(&e, &head)),
        })?;
        if hdr.version_major != 2 {
            return Err(StepError::Corrupt {
                offset: 4,
                what: format!(
                    "pcap version {}.{} is not 2.x",
                    hdr.version_major, hdr.version_minor
                ),
            });
        }
        let order = Order::big_if(hdr.is_bigendian());
        let nanos = hdr.is_nanosecond_precision();
        let modified = hdr.is_modified_format() || modified_be;
        // The upper 16 bits of the link-type field may carry FCS information; the type is below.
        let link_type = link_type_of(hdr.network);
        win.consume(24);
        let res = if nanos {
            TsResolution::Decimal(9)
        } else {
            TsResolution::MICROS
        };
        let stats = CaptureStats {
            format: Format::Pcap,
            gzip: false,
            ts_precision: if nanos { "nanosecond" } else { "microsecond" },
            sections: 1,
            interfaces: vec![Interface {
                id: 0,
                section: 0,
                index_in_section: 0,
                name: None,
                description: None,
                link_type,
                snaplen: hdr.snaplen,
                ts_resolution: res.describe(),
                ts_offset_s: 0,
                dropped_by_interface: None,
                dropped_by_os: None,
            }],
            skipped_blocks: SkippedBlocks::default(),
            records_with_unknown_interface: 0,
            interfaces_not_kept: 0,
            interfaces_not_listed: 0,
            bytes_read: 24,
            truncated: false,
            truncated_at: None,
        };
        Ok((
            PcapState {
                order,
                nanos,
                modified,
                link_type,
            },
            stats,
        ))
    }

    pub(crate) fn step(&mut self, win: &mut Window) -> Result<Step, StepError> {
        let hdr_len = if self.modified { 24 } else { 16 };
        match win.fill(hdr_len)? {
            super::input::Fill::Ready => {}
            super::input::Fill::Eof { available: 0 } => return Ok(Step::End),
            super::input::Fill::Eof { available } => {
                return Err(StepError::Truncated(super::TruncatedAt {
                    offset: win.offset(),
                    needed: hdr_len as u64,
                    available: available as u64,
                }));
            }
        }
        let d = win.data();
        let field = |i: usize| u32_at(d, i, self.order).unwrap_or(0);
        let caplen = field(8) as usize;
        if caplen > MAX_RECORD {
            return Err(StepError::Corrupt {
                offset: win.offset() + 8,
                what: format!(
                    "record captured length {caplen} exceeds the {} MiB limit (original length field {})",
                    MAX_RECORD >> 20,
                    field(12)
                ),
            });
        }
        let total = hdr_len + caplen;
        need(win, total)?;
        // The record is complete: read the header fields in place (pcap-parser's frame parser
        // would only re-read the same four fields through nom).
        let d = win.data();
        let field = |i: usize| u32_at(d, i, self.order).unwrap_or(0);
        let (ts_sec, ts_frac, origlen) = (field(0), field(4), field(12));
        let frac_ns = if self.nanos {
            ts_frac as i128
        } else {
            ts_frac as i128 * 1000
        };
        let ts = clamp_ns(ts_sec as i128 * 1_000_000_000 + frac_ns);
        Ok(Step::Packet(
            FrameMeta {
                ts_ns: Some(ts),
                interface: 0,
                link_type: self.link_type,
                data_start: hdr_len,
                data_len: caplen,
                orig_len: origlen,
            },
            total,
        ))
    }
}
