//! pcapng files: sections with their own byte order, interfaces with their own link type, snap
//! length and time base, and the packet blocks (Enhanced, Simple, Obsolete).
//!
//! In: the window positioned at a Section Header Block. Out: [`Step`]s, one per block.
//! pcap-parser reads the section and interface headers; the three packet block layouts are read
//! here field by field, so that no packet allocates (pcap-parser collects EPB options in a `Vec`)
//! and so that timestamps are computed in integer nanoseconds from each interface's `if_tsresol`
//! and `if_tsoffset`.

use pcap_parser::pcapng::{Block, parse_block_be, parse_block_le, parse_sectionheaderblock};

use super::input::{Fill, MAX_RECORD, Window};
use super::time::{TsResolution, clamp_ns};
use super::{
    CaptureStats, Format, FrameMeta, Interface, MAX_INTERFACES_LISTED, MAX_INTERFACES_PER_SECTION,
    SkippedBlocks, Step, StepError, TruncatedAt, link_type_of, need, parse_failure,
};
use crate::vocab::bytes::{Order, array_at, i64_at, u16_at, u32_at};
use crate::vocab::wire::LinkType;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 0x0000_0001;
const OPB: u32 = 0x0000_0002;
const SPB: u32 = 0x0000_0003;
const NRB: u32 = 0x0000_0004;
const ISB: u32 = 0x0000_0005;
const EPB: u32 = 0x0000_0006;
const SJE: u32 = 0x0000_0009;
const DSB: u32 = 0x0000_000A;
const PIB: u32 = 0x8000_0001;
const CB: u32 = 0x0000_0BAD;
const DCB: u32 = 0x4000_0BAD;

/// Option codes of the Interface Description Block.
mod opt {
    pub const END: u16 = 0;
    pub const IF_NAME: u16 = 2;
    pub const IF_DESCRIPTION: u16 = 3;
    pub const IF_TSRESOL: u16 = 9;
    pub const IF_TSOFFSET: u16 = 14;
}

/// The Interface Statistics Block: where its options start, and the two drop counters.
mod isb {
    /// Type, length, interface id, timestamp (high, low).
    pub const OPTIONS: usize = 20;
    /// Packets the interface dropped (`isb_ifdrop`, u64).
    pub const IFDROP: u16 = 5;
    /// Packets the operating system dropped (`isb_osdrop`, u64).
    pub const OSDROP: u16 = 7;
}

pub(crate) fn is_pcapng_magic(m: [u8; 4]) -> bool {
    u32::from_le_bytes(m) == SHB
}

/// Per-interface state needed to turn packet blocks into frames.
struct Iface {
    global_id: u32,
    link_type: LinkType,
    snaplen: u32,
    res: TsResolution,
    offset_s: i64,
}

pub(crate) struct PcapngState {
    /// Byte order of the current section.
    order: Order,
    section: u32,
    ifaces: Vec<Iface>,
    next_global: u32,
}

impl PcapngState {
    /// Records an Interface Statistics Block's drop counters on its interface (they count from
    /// the start of the capture: the last block wins). A block naming no declared interface,
    /// or without the counters, changes nothing.
    fn interface_statistics(&self, blk: &[u8], len: usize, order: Order, stats: &mut CaptureStats) {
        let Some(iface) = u32_at(blk, 8, order).and_then(|i| self.ifaces.get(i as usize)) else {
            return;
        };
        let Some(entry) = stats.interfaces.get_mut(iface.global_id as usize) else {
            return;
        };
        let mut at = isb::OPTIONS;
        while at + 4 <= len.saturating_sub(4) {
            let (Some(code), Some(olen)) = (u16_at(blk, at, order), u16_at(blk, at + 2, order))
            else {
                return;
            };
            let olen = olen as usize;
            let value = || i64_at(blk, at + 4, order).map(|v| v as u64);
            match code {
                opt::END => return,
                isb::IFDROP if olen == 8 => entry.dropped_by_interface = value(),
                isb::OSDROP if olen == 8 => entry.dropped_by_os = value(),
                _ => {}
            }
            at += 4 + olen.div_ceil(4) * 4;
        }
    }

    pub(crate) fn start(win: &mut Window) -> Result<(PcapngState, CaptureStats), StepError> {
        let mut st = PcapngState {
            order: Order::Little,
            section: 0,
            ifaces: Vec::new(),
            next_global: 0,
        };
        let mut stats = CaptureStats {
            format: Format::Pcapng,
            gzip: false,
            ts_precision: "per-interface",
            sections: 0,
            interfaces: Vec::new(),
            skipped_blocks: SkippedBlocks::default(),
            records_with_unknown_interface: 0,
            interfaces_not_kept: 0,
            interfaces_not_listed: 0,
            bytes_read: 0,
            truncated: false,
            truncated_at: None,
        };
        // The first block must be a complete Section Header Block.
        match st.step(win, &mut stats)? {
            Step::Skip(len) => win.consume(len),
            _ => {
                return Err(StepError::Corrupt {
                    offset: 0,
                    what: "pcapng file does not start with a section header block".into(),
                });
            }
        }
        Ok((st, stats))
    }

    pub(crate) fn step(
        &mut self,
        win: &mut Window,
        stats: &mut CaptureStats,
    ) -> Result<Step, StepError> {
        let at = win.offset();
        match win.fill(12)? {
            Fill::Ready => {}
            Fill::Eof { available: 0 } => return Ok(Step::End),
            Fill::Eof { available } => {
                return Err(StepError::Truncated(TruncatedAt {
                    offset: at,
                    needed: 12,
                    available: available as u64,
                }));
            }
        }
        let d = win.data();
        // `fill(12)` made the first 12 bytes available.
        let raw_type = u32_at(d, 0, Order::Little).unwrap_or(0);
        if raw_type == SHB {
            self.order = match array_at::<4>(d, 8).unwrap_or([0; 4]) {
                [0x4d, 0x3c, 0x2b, 0x1a] => Order::Little,
                [0x1a, 0x2b, 0x3c, 0x4d] => Order::Big,
                other => {
                    return Err(StepError::Corrupt {
                        offset: at + 8,
                        what: format!(
                            "section header byte-order magic is {:02x} {:02x} {:02x} {:02x}, not 1a2b3c4d in either order",
                            other[0], other[1], other[2], other[3]
                        ),
                    });
                }
            };
        }
        let order = self.order;
        let btype = u32_at(d, 0, order).unwrap_or(0);
        let len = u32_at(d, 4, order).unwrap_or(0) as usize;
        if len < 12 || len % 4 != 0 || len > MAX_RECORD {
            return Err(StepError::Corrupt {
                offset: at + 4,
                what: format!(
                    "block type 0x{btype:08x} has total length {len}, which is {}",
                    if len > MAX_RECORD {
                        format!("above the {} MiB limit", MAX_RECORD >> 20)
                    } else {
                        "not a multiple of 4 of at least 12".to_string()
                    }
                ),
            });
        }
        need(win, len)?;
        let blk = win.data().get(..len).unwrap_or(&[]);
        // Fields inside the block, whose length `need` has made available.
        let rd32 = |i: usize| u32_at(blk, i, order).unwrap_or(0);
        let trailer = rd32(len - 4) as usize;
        if trailer != len {
            return Err(StepError::Corrupt {
                offset: at + len as u64 - 4,
                what: format!(
                    "block type 0x{btype:08x} length {len} does not match its trailing length {trailer}"
                ),
            });
        }
        let corrupt = |what: String| StepError::Corrupt { offset: at, what };
        match btype {
            SHB => {
                let (_, shb) = parse_sectionheaderblock(blk).map_err(|e| {
                    corrupt(format!(
                        "unreadable section header block: {}",
                        parse_failure(&e, blk)
                    ))
                })?;
                if shb.major_version != 1 {
                    return Err(corrupt(format!(
                        "pcapng version {}.{} is not 1.x",
                        shb.major_version, shb.minor_version
                    )));
                }
                self.section = stats.sections;
                stats.sections += 1;
                self.ifaces.clear();
                Ok(Step::Skip(len))
            }
            IDB => {
                let parsed = if order == Order::Big {
                    parse_block_be(blk)
                } else {
                    parse_block_le(blk)
                };
                let idb = match parsed {
                    Ok((_, Block::InterfaceDescription(idb))) => idb,
                    Ok(_) => {
                        return Err(corrupt(
                            "unreadable interface description block: pcap-parser read another block type"
                                .into(),
                        ));
                    }
                    Err(e) => {
                        return Err(corrupt(format!(
                            "unreadable interface description block: {}",
                            parse_failure(&e, blk)
                        )));
                    }
                };
                let mut res = TsResolution::MICROS;
                let mut offset_s = 0i64;
                let mut name = None;
                let mut description = None;
                for o in &idb.options {
                    let v = o.value();
                    match o.code.0 {
                        opt::IF_TSRESOL if !v.is_empty() => {
                            res = v.first().map_or(res, |b| TsResolution::from_byte(*b))
                        }
                        opt::IF_TSOFFSET if v.len() >= 8 => {
                            offset_s = i64_at(v, 0, order).unwrap_or(0);
                        }
                        // `value()` includes the padding to 4 bytes; `as_bytes()` honours the length.
                        opt::IF_NAME => {
                            name = o.as_bytes().ok().map(|b| {
                                String::from_utf8_lossy(b)
                                    .trim_end_matches('\0')
                                    .to_string()
                            })
                        }
                        opt::IF_DESCRIPTION => {
                            description = o.as_bytes().ok().map(|b| {
                                String::from_utf8_lossy(b)
                                    .trim_end_matches('\0')
                                    .to_string()
                            })
                        }
                        opt::END => break,
                        _ => {}
                    }
                }
                if self.ifaces.len() >= MAX_INTERFACES_PER_SECTION {
                    stats.interfaces_not_kept += 1;
                    return Ok(Step::Skip(len));
                }
                let link_type = link_type_of(idb.linktype);
                let global_id = self.next_global;
                self.next_global += 1;
                self.ifaces.push(Iface {
                    global_id,
                    link_type,
                    snaplen: idb.snaplen,
                    res,
                    offset_s,
                });
                if stats.interfaces.len() >= MAX_INTERFACES_LISTED {
                    stats.interfaces_not_listed += 1;
                    return Ok(Step::Skip(len));
                }
                stats.interfaces.push(Interface {
                    id: global_id,
                    section: self.section,
                    index_in_section: self.ifaces.len() as u32 - 1,
                    name,
                    description,
                    link_type,
                    snaplen: idb.snaplen,
                    ts_resolution: res.describe(),
                    ts_offset_s: offset_s,
                    dropped_by_interface: None,
                    dropped_by_os: None,
                });
                Ok(Step::Skip(len))
            }
            EPB | OPB => {
                if len < 32 {
                    return Err(corrupt(format!(
                        "packet block of {len} bytes is shorter than its 32-byte minimum"
                    )));
                }
                let if_id = if btype == EPB {
                    rd32(8)
                } else {
                    u16_at(blk, 8, order).unwrap_or(0) as u32
                };
                let ts_units = ((rd32(12) as u64) << 32) | rd32(16) as u64;
                let caplen = rd32(20) as usize;
                let orig_len = rd32(24);
                if 28 + caplen > len - 4 {
                    return Err(corrupt(format!(
                        "packet block captured length {caplen} exceeds the block's {} data bytes",
                        len - 32
                    )));
                }
                let Some(iface) = self.ifaces.get(if_id as usize) else {
                    stats.records_with_unknown_interface += 1;
                    return Ok(Step::Skip(len));
                };
                let ns = iface.res.units_to_ns(ts_units) + iface.offset_s as i128 * 1_000_000_000;
                Ok(Step::Packet(
                    FrameMeta {
                        ts_ns: Some(clamp_ns(ns)),
                        interface: iface.global_id,
                        link_type: iface.link_type,
                        data_start: 28,
                        data_len: caplen,
                        orig_len,
                    },
                    len,
                ))
            }
            SPB => {
                if len < 16 {
                    return Err(corrupt(format!(
                        "simple packet block of {len} bytes is shorter than 16"
                    )));
                }
                let orig_len = rd32(8);
                let Some(iface) = self.ifaces.first() else {
                    stats.records_with_unknown_interface += 1;
                    return Ok(Step::Skip(len));
                };
                let mut caplen = (orig_len as usize).min(len - 16);
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                Ok(Step::Packet(
                    FrameMeta {
                        ts_ns: None,
                        interface: iface.global_id,
                        link_type: iface.link_type,
                        data_start: 12,
                        data_len: caplen,
                        orig_len,
                    },
                    len,
                ))
            }
            other => {
                let s = &mut stats.skipped_blocks;
                match other {
                    NRB => s.name_resolution += 1,
                    ISB => {
                        s.interface_statistics += 1;
                        self.interface_statistics(blk, len, order, stats);
                    }
                    CB | DCB => s.custom += 1,
                    DSB => s.decryption_secrets += 1,
                    SJE => s.systemd_journal += 1,
                    PIB => s.process_information += 1,
                    _ => s.unknown += 1,
                }
                Ok(Step::Skip(len))
            }
        }
    }
}
