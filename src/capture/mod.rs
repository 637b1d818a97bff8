//! Capture stage: pcap and pcapng records from a file, a pipe or a gzip stream, one borrowed
//! [`Frame`] at a time.
//!
//! In: a [`Source`]. Out: frames (timestamp in ns, interface, link type, captured bytes, original
//! length) borrowed from a bounded read window, plus [`CaptureStats`] describing the file (format,
//! interfaces, skipped blocks, truncation). Fatal problems are [`CaptureError`]s carrying the byte
//! offset; a capture cut inside a record ends the stream with `truncated` set instead.

mod boundary;
pub mod input;
mod pcap;
mod pcapng;
pub mod time;

use std::fmt;
use std::io;

use boundary::{link_type_of, parse_failure};
pub use input::{Compression, Source};
use input::{Fill, Window};
use serde::Serialize;

use crate::vocab::wire::LinkType;

/// One captured packet, borrowed from the reader's window.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Nanoseconds since the Unix epoch; `None` for pcapng Simple Packet Blocks.
    pub ts_ns: Option<i64>,
    /// Interface index: 0 for pcap; for pcapng, counted across sections in file order (as
    /// Wireshark numbers them).
    pub interface: u32,
    /// The LINKTYPE_ value of the interface.
    pub link_type: LinkType,
    /// The bytes captured (at most the snap length).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: u32,
    /// Byte offset of the record in the (decompressed) stream.
    pub offset: u64,
}

/// The container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// libpcap: microsecond or nanosecond magic, either byte order.
    Pcap,
    /// pcapng: sections, interfaces, blocks.
    Pcapng,
    /// A capture set whose inputs are of both formats.
    Mixed,
    /// Not known: the input could not be read as a capture.
    Unknown,
}

/// An interface declared by the capture (pcap has exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interface {
    /// Global index, as in [`Frame::interface`].
    pub id: u32,
    /// pcapng section number (0-based); 0 for pcap.
    pub section: u32,
    /// Index within its section, as packet blocks and Wireshark's `frame.interface_id` name it.
    pub index_in_section: u32,
    /// `if_name`, when given.
    pub name: Option<String>,
    /// The interface's description (pcapng `if_description`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// LINKTYPE_ value (serialized as its number).
    pub link_type: LinkType,
    /// Snap length (0 means unlimited in pcapng).
    pub snaplen: u32,
    /// Timestamp resolution, e.g. `1e-6` or `2^-20`.
    pub ts_resolution: String,
    /// `if_tsoffset` in seconds.
    pub ts_offset_s: i64,
    /// Packets the interface dropped, from the last Interface Statistics Block (`isb_ifdrop`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_by_interface: Option<u64>,
    /// Packets the operating system dropped, likewise (`isb_osdrop`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_by_os: Option<u64>,
}

/// Counts of pcapng blocks that carry no packet, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SkippedBlocks {
    /// Name Resolution Blocks.
    pub name_resolution: u64,
    /// Interface Statistics Blocks.
    pub interface_statistics: u64,
    /// Custom Blocks (copiable and non-copiable).
    pub custom: u64,
    /// Decryption Secrets Blocks.
    pub decryption_secrets: u64,
    /// systemd Journal Export Blocks.
    pub systemd_journal: u64,
    /// Process Information Blocks.
    pub process_information: u64,
    /// Blocks of a type this reader does not know.
    pub unknown: u64,
}

impl SkippedBlocks {
    /// Adds another input's counts.
    pub fn add(&mut self, o: &SkippedBlocks) {
        self.name_resolution += o.name_resolution;
        self.interface_statistics += o.interface_statistics;
        self.custom += o.custom;
        self.decryption_secrets += o.decryption_secrets;
        self.systemd_journal += o.systemd_journal;
        self.process_information += o.process_information;
        self.unknown += o.unknown;
    }
}

/// What the reader learned about the file itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaptureStats {
    /// Container format.
    pub format: Format,
    /// Whether the bytes were gzip-compressed.
    pub gzip: bool,
    /// pcap: `nanosecond` or `microsecond`; pcapng: `per-interface`.
    pub ts_precision: &'static str,
    /// Sections seen (pcapng); 1 for pcap.
    pub sections: u32,
    /// Interfaces in declaration order.
    pub interfaces: Vec<Interface>,
    /// pcapng non-packet blocks skipped.
    pub skipped_blocks: SkippedBlocks,
    /// Packet records whose interface id was not declared (pcapng); they are not decoded.
    pub records_with_unknown_interface: u64,
    /// Bytes of the (decompressed) stream consumed.
    pub bytes_read: u64,
    /// True when the stream ended inside a record.
    pub truncated: bool,
    /// Where and how the stream ended early, when it did.
    pub truncated_at: Option<TruncatedAt>,
    /// Interfaces declared beyond [`MAX_INTERFACES_PER_SECTION`] in a section: not kept, their
    /// packets counted in `records_with_unknown_interface`.
    pub interfaces_not_kept: u64,
    /// Interfaces kept but beyond the [`MAX_INTERFACES_LISTED`] listed in `interfaces`.
    pub interfaces_not_listed: u64,
}

/// Interfaces of one pcapng section kept to decode its packets (a file may declare millions:
/// the rest are counted, and their packets are records on an unknown interface).
pub const MAX_INTERFACES_PER_SECTION: usize = 65_536;

/// Interfaces listed with their options in the statistics and the report (the rest counted).
pub const MAX_INTERFACES_LISTED: usize = 4_096;

impl CaptureStats {
    /// The statistics of an input that could not be read as a capture at all (empty, not a
    /// capture, a corrupt file header): nothing but the error is known of it.
    pub fn unread() -> CaptureStats {
        CaptureStats {
            format: Format::Unknown,
            gzip: false,
            ts_precision: "unknown",
            sections: 0,
            interfaces: Vec::new(),
            skipped_blocks: SkippedBlocks::default(),
            records_with_unknown_interface: 0,
            bytes_read: 0,
            truncated: false,
            truncated_at: None,
            interfaces_not_kept: 0,
            interfaces_not_listed: 0,
        }
    }

    /// The statistics of a capture whose stream ended inside its file header.
    fn header_cut(format: Format, at: TruncatedAt) -> CaptureStats {
        CaptureStats {
            format,
            bytes_read: at.available,
            truncated: true,
            truncated_at: Some(at),
            ..CaptureStats::unread()
        }
    }
}

/// Position and nature of an early end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TruncatedAt {
    /// Byte offset of the incomplete record.
    pub offset: u64,
    /// Bytes the record needed.
    pub needed: u64,
    /// Bytes that were present.
    pub available: u64,
}

/// A fatal reading problem: the run cannot continue past it.
#[derive(Debug)]
pub enum CaptureError {
    /// The source could not be opened (missing, not permitted, a directory…).
    Open {
        /// The input's name.
        file: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The source could not be opened or read.
    Io {
        /// The input's name.
        file: String,
        /// Offset reached when the error happened.
        offset: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// The input holds no bytes at all.
    Empty {
        /// The input's name.
        file: String,
    },
    /// The first bytes are not a pcap or pcapng header.
    NotACapture {
        /// The input's name.
        file: String,
        /// Up to 16 first bytes, for the message.
        first_bytes: Vec<u8>,
    },
    /// A header or record is inconsistent (bad length, bad version, …).
    Corrupt {
        /// The input's name.
        file: String,
        /// Offset of the record or field.
        offset: u64,
        /// What was wrong.
        what: String,
    },
}

impl CaptureError {
    /// Whether the input was read and is not a capture that can be read (empty, not a capture,
    /// corrupt): a report can still say so. Failing to open or read it is not.
    pub fn is_content(&self) -> bool {
        matches!(
            self,
            CaptureError::Empty { .. }
                | CaptureError::NotACapture { .. }
                | CaptureError::Corrupt { .. }
        )
    }

    /// The byte offset the error refers to, when there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            CaptureError::Io { offset, .. } | CaptureError::Corrupt { offset, .. } => Some(*offset),
            CaptureError::Open { .. } => None,
            CaptureError::NotACapture { .. } | CaptureError::Empty { .. } => Some(0),
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Open { file, source } => write!(f, "{file}: cannot open: {source}"),
            CaptureError::Io {
                file,
                offset,
                source,
            } => write!(f, "{file}: read error at byte offset {offset}: {source}"),
            CaptureError::Empty { file } => {
                write!(f, "{file}: empty input at byte offset 0: no capture header")
            }
            CaptureError::NotACapture { file, first_bytes } => {
                write!(
                    f,
                    "{file}: not a pcap or pcapng capture at byte offset 0: first bytes are"
                )?;
                for b in first_bytes {
                    write!(f, " {b:02x}")?;
                }
                if let Ok(s) = std::str::from_utf8(first_bytes) {
                    if s.chars().all(|c| !c.is_control() || c == '\n') {
                        write!(f, " ({:?})", s)?;
                    }
                }
                Ok(())
            }
            CaptureError::Corrupt { file, offset, what } => {
                write!(f, "{file}: corrupt capture at byte offset {offset}: {what}")
            }
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Io { source, .. } | CaptureError::Open { source, .. } => Some(source),
            _ => None,
        }
    }
}

enum State {
    Pcap(pcap::PcapState),
    Pcapng(pcapng::PcapngState),
    /// The stream ended inside the file header: nothing more to read.
    HeaderCut,
}

/// A packet record just read: its fields, its length and offset (its bytes stay in the window).
struct Held {
    meta: FrameMeta,
    len: usize,
    offset: u64,
}

/// Streaming reader over a pcap or pcapng capture.
pub struct CaptureReader {
    name: String,
    held: Option<Held>,
    win: Window,
    state: State,
    stats: CaptureStats,
    size_hint: Option<u64>,
    finished: bool,
}

/// What a format parser found when asked for the next record.
pub(crate) enum Step {
    /// A packet spanning `len` bytes at the window's start.
    Packet(FrameMeta, usize),
    /// A non-packet record of `len` bytes, already accounted.
    Skip(usize),
    /// The stream ended cleanly.
    End,
}

/// A frame's fields, with the data given as a range of the current window.
pub(crate) struct FrameMeta {
    pub ts_ns: Option<i64>,
    pub interface: u32,
    pub link_type: LinkType,
    pub data_start: usize,
    pub data_len: usize,
    pub orig_len: u32,
}

/// Failure inside a format parser, before the file name is attached.
pub(crate) enum StepError {
    Io(io::Error),
    Corrupt { offset: u64, what: String },
    Truncated(TruncatedAt),
}

impl From<io::Error> for StepError {
    fn from(e: io::Error) -> Self {
        StepError::Io(e)
    }
}

/// Asks `win` for `need` bytes; an early end becomes [`StepError::Truncated`].
pub(crate) fn need(win: &mut Window, need: usize) -> Result<(), StepError> {
    match win.fill(need)? {
        Fill::Ready => Ok(()),
        Fill::Eof { available } => Err(StepError::Truncated(TruncatedAt {
            offset: win.offset(),
            needed: need as u64,
            available: available as u64,
        })),
    }
}

impl CaptureReader {
    /// Opens a source and reads its file header.
    pub fn open(source: &Source) -> Result<CaptureReader, CaptureError> {
        Self::open_buffered(source, input::READ_CHUNK)
    }

    /// Opens a source and reads its file header, reading `buffer` bytes at a time (the window
    /// grows beyond it only for a larger record).
    pub fn open_buffered(source: &Source, buffer: usize) -> Result<CaptureReader, CaptureError> {
        let name = source.display_name();
        let (inner, compression, size) = input::open(source).map_err(|e| CaptureError::Open {
            file: name.clone(),
            source: e,
        })?;
        let size_hint = if compression == Compression::None {
            size
        } else {
            None
        };
        let win = Window::with_capacity(inner, buffer);
        Self::from_reader(name, win, compression, size_hint)
    }

    /// Reads the file header from any byte stream (plain, not gzip), e.g. a file being followed
    /// while another program writes it. The reader ends where `inner` reports its end.
    pub fn from_read(
        name: &str,
        inner: Box<dyn io::Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::from_reader(
            name.to_string(),
            Window::new(inner),
            Compression::None,
            None,
        )
    }

    /// Reads the file header from an already opened window (used by tests with in-memory data).
    pub fn from_bytes(name: &str, bytes: Vec<u8>) -> Result<CaptureReader, CaptureError> {
        let len = bytes.len() as u64;
        let cursor = io::Cursor::new(bytes);
        let gz = {
            let b = cursor.get_ref();
            b.len() >= 2 && b[0] == 0x1f && b[1] == 0x8b
        };
        if gz {
            let inner = Box::new(flate2::read::MultiGzDecoder::new(cursor));
            Self::from_reader(
                name.to_string(),
                Window::new(inner),
                Compression::Gzip,
                None,
            )
        } else {
            Self::from_reader(
                name.to_string(),
                Window::new(Box::new(cursor)),
                Compression::None,
                Some(len),
            )
        }
    }

    fn from_reader(
        name: String,
        mut win: Window,
        compression: Compression,
        size_hint: Option<u64>,
    ) -> Result<CaptureReader, CaptureError> {
        let io_err = |name: &str, e: io::Error| CaptureError::Io {
            file: name.to_string(),
            offset: 0,
            source: e,
        };
        let fill = win.fill(4).map_err(|e| io_err(&name, e))?;
        if let Fill::Eof { available } = fill {
            if available == 0 {
                return Err(CaptureError::Empty { file: name });
            }
        }
        let head = win.data();
        let magic = [
            head.first().copied().unwrap_or(0),
            head.get(1).copied().unwrap_or(0),
            head.get(2).copied().unwrap_or(0),
            head.get(3).copied().unwrap_or(0),
        ];
        let attach = |name: &str, e: StepError| match e {
            StepError::Io(source) => CaptureError::Io {
                file: name.to_string(),
                offset: 0,
                source,
            },
            StepError::Corrupt { offset, what } => CaptureError::Corrupt {
                file: name.to_string(),
                offset,
                what,
            },
            StepError::Truncated(t) => CaptureError::Corrupt {
                file: name.to_string(),
                offset: t.offset,
                what: format!(
                    "file header cut short: {} bytes present, {} needed",
                    t.available, t.needed
                ),
            },
        };
        let header = if pcap::is_pcap_magic(magic) {
            pcap::PcapState::read_header(&mut win)
                .map(|(st, stats)| (State::Pcap(st), stats))
                .map_err(|e| (e, Format::Pcap))
        } else if pcapng::is_pcapng_magic(magic) {
            pcapng::PcapngState::start(&mut win)
                .map(|(st, stats)| (State::Pcapng(st), stats))
                .map_err(|e| (e, Format::Pcapng))
        } else {
            let _ = win.fill(16);
            let first_bytes = win.data()[..win.data().len().min(16)].to_vec();
            return Err(CaptureError::NotACapture {
                file: name,
                first_bytes,
            });
        };
        // A capture cut inside its file header is a truncated capture with no packets.
        let (state, mut stats, finished) = match header {
            Ok((state, stats)) => (state, stats, false),
            Err((StepError::Truncated(t), format)) => {
                (State::HeaderCut, CaptureStats::header_cut(format, t), true)
            }
            Err((e, _)) => return Err(attach(&name, e)),
        };
        stats.gzip = compression == Compression::Gzip;
        Ok(CaptureReader {
            name,
            held: None,
            win,
            state,
            stats,
            size_hint,
            finished,
        })
    }

    /// The input's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size of the input in bytes, when it is an uncompressed regular file.
    pub fn size_hint(&self) -> Option<u64> {
        self.size_hint
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u64 {
        self.win.offset()
    }

    /// What has been learned about the capture so far.
    pub fn stats(&self) -> &CaptureStats {
        &self.stats
    }

    /// Takes the statistics out once reading is done.
    pub fn into_stats(mut self) -> CaptureStats {
        self.stats.bytes_read = self.win.offset();
        self.stats
    }

    /// Returns the next packet, `Ok(None)` at the end (clean or truncated), or a fatal error.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        self.held = self.step_frame()?;
        Ok(self.held())
    }

    /// Reads the next packet and holds it: [`CaptureReader::held`] gives it until the next read.
    /// Returns its timestamp (`Ok(None)` at the end), so that several readers can be merged by
    /// time without copying their frames.
    pub fn hold_next(&mut self) -> Result<Option<Option<i64>>, CaptureError> {
        self.held = None;
        self.held = self.step_frame()?;
        Ok(self.held.as_ref().map(|h| h.meta.ts_ns))
    }

    /// The packet read last, while no other read happened.
    pub fn held(&self) -> Option<Frame<'_>> {
        let h = self.held.as_ref()?;
        // The consumed bytes stay in place until the next fill.
        let data = self
            .win
            .consumed_slice(h.len, h.meta.data_start, h.meta.data_len);
        Some(Frame {
            ts_ns: h.meta.ts_ns,
            interface: h.meta.interface,
            link_type: h.meta.link_type,
            data,
            orig_len: h.meta.orig_len,
            offset: h.offset,
        })
    }

    /// Reads the next packet record, leaving its bytes in the window until the next read.
    fn step_frame(&mut self) -> Result<Option<Held>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        loop {
            let step = match &mut self.state {
                State::Pcap(st) => st.step(&mut self.win),
                State::Pcapng(st) => st.step(&mut self.win, &mut self.stats),
                State::HeaderCut => Ok(Step::End),
            };
            match step {
                Ok(Step::Skip(len)) => {
                    self.win.consume(len);
                    continue;
                }
                Ok(Step::End) => {
                    self.finished = true;
                    self.stats.bytes_read = self.win.offset();
                    if self.win.was_cut() && !self.stats.truncated {
                        // A compressed stream cut between two records: the capture ends early
                        // all the same, before the next record's header.
                        let header = match self.state {
                            State::Pcapng(_) => 8,
                            _ => 16,
                        };
                        self.stats.truncated = true;
                        self.stats.truncated_at = Some(TruncatedAt {
                            offset: self.win.offset(),
                            needed: header,
                            available: 0,
                        });
                    }
                    return Ok(None);
                }
                Ok(Step::Packet(meta, len)) => {
                    let offset = self.win.offset();
                    self.win.consume(len);
                    return Ok(Some(Held { meta, len, offset }));
                }
                Err(StepError::Truncated(t)) => {
                    self.finished = true;
                    self.stats.truncated = true;
                    self.stats.truncated_at = Some(t);
                    self.stats.bytes_read = self.win.offset();
                    return Ok(None);
                }
                Err(StepError::Io(source)) => {
                    self.finished = true;
                    return Err(CaptureError::Io {
                        file: self.name.clone(),
                        offset: self.win.offset(),
                        source,
                    });
                }
                Err(StepError::Corrupt { offset, what }) => {
                    self.finished = true;
                    self.stats.bytes_read = self.win.offset();
                    return Err(CaptureError::Corrupt {
                        file: self.name.clone(),
                        offset,
                        what,
                    });
                }
            }
        }
    }

    /// Switches the window to hand-off mode ([`Window::hand_off_buffers`]): the frames read stay
    /// valid in the buffer that held them, which [`CaptureReader::take_retired`] gives up once
    /// reading has moved on to another.
    pub fn hand_off_buffers(&mut self) {
        self.win.hand_off_buffers();
    }

    /// The buffers given up since the last call, oldest first (hand-off mode).
    pub fn take_retired(&mut self) -> Vec<Vec<u8>> {
        self.win.take_retired()
    }

    /// Whether a buffer was given up since [`CaptureReader::take_retired`] was last called.
    pub fn has_retired(&self) -> bool {
        self.win.has_retired()
    }

    /// Returns a buffer from [`CaptureReader::take_retired`] for reuse.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        self.win.recycle(buf);
    }

    /// Where the packet read last lies in the window's current buffer (the one
    /// [`CaptureReader::take_retired`] or [`CaptureReader::take_buffer`] gives up later), while no
    /// other read happened.
    pub fn held_range(&self) -> Option<std::ops::Range<usize>> {
        let h = self.held.as_ref()?;
        Some(
            self.win
                .consumed_range(h.len, h.meta.data_start, h.meta.data_len),
        )
    }

    /// Takes the window's current buffer once reading has ended (hand-off mode).
    pub fn take_buffer(&mut self) -> Vec<u8> {
        self.finished = true;
        self.held = None;
        self.win.take_buffer()
    }

    /// Statistics so far, for a partial report after a fatal error.
    pub fn partial_stats(&self) -> CaptureStats {
        let mut s = self.stats.clone();
        s.bytes_read = self.win.offset();
        s
    }
}

impl Window {
    /// The bytes of a record just consumed with [`Window::consume`]`(len)`, sliced to the packet data.
    fn consumed_slice(&self, len: usize, data_start: usize, data_len: usize) -> &[u8] {
        let range = self.consumed_range(len, data_start, data_len);
        self.buffer().get(range).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests;
