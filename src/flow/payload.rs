//! What the payload of vMotion (TCP 8000) and NFC (TCP 902) flows shows, read while the capture
//! is read: whether a vMotion memory stream is the unencrypted format, with its pre-copy
//! iterations, and whether NFC data travels inside TLS after authd's banner.
//!
//! In: each TCP segment of a flow of those two classes (its flags, sequence number, captured
//! payload bytes and payload length). Out: a [`PayloadScan`] per flow, kept with the flow
//! (`Flow::payload`; other flows carry `None` and pay one branch per packet).
//!
//! Each direction is followed as a byte stream, in sequence order, from its SYN (or from its
//! first captured segment, flagged as such). Only in-order bytes are read: a sequence gap
//! (bytes the capture lost, or segments it holds out of order), or a segment whose payload was
//! cut by the capture (snap length), stops the reading of that direction; what was read until
//! then stays. Markers that straddle segments are read (the parsers keep their partial state),
//! but markers beyond a gap are not: iterations counted before one are a lower bound.
//!
//! **Unencrypted vMotion** (ESXi 6.0, reverse-engineered by Philip Huppert's Volatility address
//! space `vmotion.py`, "VM Live Migration Address Space", MIT, 2015): the stream sent to the
//! destination starts with the magic `00 00 00 00 03 00 05 00` and an 0x54-byte header, then
//! records, each opening with a type byte: `2` a next-iteration marker (15 more bytes), `1` the
//! last-iteration marker (15 more bytes, once), else `0` a page bundle or `1` the last bundle:
//! `u32 magic 0x00000e04`, 11 reserved bytes, `u32 page count` (≤ 128), 128 `u32` page numbers,
//! 128 page descriptors of 24 bytes (`u32 iteration, u32 group, u32 typeA, u64 pointer,
//! u32 typeB`; valid (typeA, typeB) pairs (0,8) (1,8) (2,0) (4,4) (4,5) (4,7)), then 4096 bytes
//! for each page of typeA 1 or 4. The plugin counts iterations as 1 plus one per marker. It was
//! tested on ESXi 6.0 only; encrypted vMotion (6.5 and later) has no such structure, and later
//! unencrypted formats are undocumented, so a stream without the magic is "not plain (encrypted
//! or unknown format)", never "encrypted".
//!
//! **NFC**: authd (TCP 902) opens with a plaintext banner `220 VMware Authentication Daemon …`
//! ending in a newline; what follows is TLS records (`16 03 0x` ClientHello first, then
//! application data `17 03 0x`) when NFC uses SSL, other bytes when it does not. Each direction
//! after the banner is walked record by record (5-byte headers: type 20–23, version 3.x, length
//! at most 2^14 + 2048); up to [`MAX_PRELUDE`] bytes in front of the first record are skipped
//! (a one-byte "SSL prelude" before authd's TLS has been reported for Workstation's authd).

/// Unencrypted vMotion stream magic (Huppert, `vmotion.py`: `VMOTION_MAGIC`).
pub const VMOTION_MAGIC: [u8; 8] = [0, 0, 0, 0, 3, 0, 5, 0];
/// Stream header length, magic included (`HEADER_LENGTH`).
pub const VMOTION_HEADER_LEN: u64 = 0x54;
/// Bytes after the type byte of an iteration marker (`*_ITERATION_MARKER_LENGTH`).
pub const ITERATION_MARKER_LEN: u64 = 15;
/// Record type of a next-iteration marker.
pub const NEXT_ITERATION: u8 = 2;
/// Record type of the last-iteration marker (first occurrence) and of the last bundle.
pub const LAST_ITERATION: u8 = 1;
/// Page bundle magic (`BUNDLE_MAGIC`).
pub const BUNDLE_MAGIC: u32 = 0x0000_0e04;
/// Most pages per bundle (`PAGE_COUNT_MAX`).
pub const BUNDLE_PAGES: usize = 128;
/// A page descriptor's bytes (`IIIQI`).
pub const PAGE_DESC_LEN: usize = 24;
/// A bundle's header: type, magic, 11 reserved, count, page numbers, page descriptors.
pub const BUNDLE_HEADER_LEN: usize =
    1 + 4 + 11 + 4 + 4 * BUNDLE_PAGES + PAGE_DESC_LEN * BUNDLE_PAGES;
/// Where the page numbers start in a bundle header.
const PAGE_NUMBERS_AT: usize = 20;
/// Where the page descriptors start in a bundle header.
const PAGE_DESCS_AT: usize = PAGE_NUMBERS_AT + 4 * BUNDLE_PAGES;
/// Page size.
pub const PAGE: u64 = 4096;
/// Valid (typeA, typeB) page descriptor pairs (`VALID_PAGETYPES`).
const VALID_PAGE_TYPES: [(u32, u32); 6] = [(0, 8), (1, 8), (2, 0), (4, 4), (4, 5), (4, 7)];

/// Most banner bytes kept (real banners run to about 150 bytes).
pub const BANNER_KEEP: usize = 160;
/// A banner longer than this without a newline is not authd's.
const BANNER_MAX: u64 = 512;
/// The banner's start.
const AUTHD: &[u8] = b"220 VMware Authentication Daemon";
/// Most bytes skipped in front of the first TLS record after the banner.
pub const MAX_PRELUDE: u8 = 4;
/// Largest TLS record length accepted (RFC 8446: 2^14 + 256; TLS 1.2 ciphertext: + 2048).
const TLS_MAX_RECORD: u16 = 16_384 + 2_048;

/// Why reading a direction stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Sequence space was skipped (lost by the capture, or out of order) at this stream offset.
    Gap(u64),
    /// A segment's payload was cut by the capture at this stream offset.
    Cut(u64),
}

/// Where one direction's byte stream stands.
#[derive(Debug, Clone, Default)]
struct Cursor {
    next_seq: Option<u32>,
    /// The direction's SYN was seen: offset 0 is the stream's first byte.
    from_syn: bool,
    /// Bytes read in order.
    offset: u64,
    /// Payload bytes seen in segments (captured or not).
    any_payload: bool,
    /// Some payload byte was captured.
    any_captured: bool,
    stop: Option<Stop>,
}

impl Cursor {
    /// The new in-order bytes of a segment, and whether the capture cut them.
    fn accept<'a>(
        &mut self,
        syn: bool,
        seq: u32,
        len: u32,
        captured: &'a [u8],
    ) -> Option<(&'a [u8], bool)> {
        if syn {
            if self.next_seq.is_none() {
                self.next_seq = Some(seq.wrapping_add(1));
                self.from_syn = true;
            }
            return None;
        }
        if len == 0 {
            return None;
        }
        self.any_payload = true;
        self.any_captured |= !captured.is_empty();
        if self.stop.is_some() {
            return None;
        }
        let next = *self.next_seq.get_or_insert(seq);
        let d = seq.wrapping_sub(next) as i32;
        if d > 0 {
            self.stop = Some(Stop::Gap(self.offset));
            return None;
        }
        let skip = d.unsigned_abs();
        if skip >= len {
            return None; // a retransmission of bytes already read
        }
        let new_len = (len - skip) as usize;
        let avail = captured.get(skip as usize..).unwrap_or(&[]);
        let take = avail.len().min(new_len);
        let cut = take < new_len;
        self.next_seq = Some(seq.wrapping_add(len));
        let start = self.offset;
        self.offset += new_len as u64;
        if cut {
            self.stop = Some(Stop::Cut(start + take as u64));
        }
        Some((avail.get(..take).unwrap_or(&[]), cut))
    }
}

/// What the unencrypted-vMotion reader concluded about a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmotionFormat {
    /// No payload byte read yet.
    Unread,
    /// The first bytes are the unencrypted stream's magic.
    Plain,
    /// The first bytes are not the magic.
    NotPlain,
}

#[derive(Debug, Clone)]
enum VState {
    Magic,
    Skip {
        left: u64,
        then_done: bool,
    },
    Record,
    Bundle,
    Done,
    /// The structure did not hold (`VmotionReader::broken_at` says where).
    Broken,
}

/// The unencrypted vMotion stream reader of one direction.
#[derive(Debug, Clone)]
pub struct VmotionReader {
    state: VState,
    buf: Vec<u8>,
    /// What the first bytes showed.
    pub format: VmotionFormat,
    /// Iterations as Huppert's plugin counts them: 1, plus one per iteration marker.
    pub iterations: u32,
    /// The last-iteration marker was read.
    pub last_marker: bool,
    /// Page bundles read.
    pub bundles: u64,
    /// Pages whose contents were sent, in the bundles read.
    pub pages: u64,
    /// The last bundle was read to its end.
    pub complete: bool,
    /// Where the structure did not hold (stream offset), when it did not.
    pub broken_at: Option<u64>,
}

impl VmotionReader {
    fn new() -> VmotionReader {
        VmotionReader {
            state: VState::Magic,
            buf: Vec::new(),
            format: VmotionFormat::Unread,
            iterations: 1,
            last_marker: false,
            bundles: 0,
            pages: 0,
            complete: false,
            broken_at: None,
        }
    }

    /// Reads `b`, the bytes at stream offset `at`.
    fn feed(&mut self, mut b: &[u8], mut at: u64) {
        while !b.is_empty() {
            match self.state {
                VState::Done | VState::Broken => return,
                VState::Magic => {
                    let want = VMOTION_MAGIC.len() - self.buf.len();
                    let n = want.min(b.len());
                    self.buf.extend_from_slice(b.get(..n).unwrap_or(&[]));
                    (b, at) = (b.get(n..).unwrap_or(&[]), at + n as u64);
                    if self.buf.len() == VMOTION_MAGIC.len() {
                        if self.buf == VMOTION_MAGIC {
                            self.format = VmotionFormat::Plain;
                            self.state = VState::Skip {
                                left: VMOTION_HEADER_LEN - VMOTION_MAGIC.len() as u64,
                                then_done: false,
                            };
                        } else {
                            self.format = VmotionFormat::NotPlain;
                            self.state = VState::Done;
                        }
                        self.buf = Vec::new();
                    }
                }
                VState::Skip { left, then_done } => {
                    let n = left.min(b.len() as u64);
                    (b, at) = (b.get(n as usize..).unwrap_or(&[]), at + n);
                    self.state = match (left - n, then_done) {
                        (0, true) => {
                            self.complete = true;
                            VState::Done
                        }
                        (0, false) => VState::Record,
                        (l, t) => VState::Skip {
                            left: l,
                            then_done: t,
                        },
                    };
                }
                VState::Record => {
                    let t = b.first().copied().unwrap_or(0);
                    match t {
                        NEXT_ITERATION => {
                            self.iterations += 1;
                            self.skip_marker();
                        }
                        LAST_ITERATION if !self.last_marker => {
                            self.iterations += 1;
                            self.last_marker = true;
                            self.skip_marker();
                        }
                        0 | 1 => {
                            self.buf.clear();
                            self.buf.reserve_exact(BUNDLE_HEADER_LEN);
                            self.buf.push(t);
                            self.state = VState::Bundle;
                        }
                        _ => {
                            self.break_at(at);
                            return;
                        }
                    }
                    (b, at) = (b.get(1..).unwrap_or(&[]), at + 1);
                }
                VState::Bundle => {
                    let n = (BUNDLE_HEADER_LEN - self.buf.len()).min(b.len());
                    self.buf.extend_from_slice(b.get(..n).unwrap_or(&[]));
                    (b, at) = (b.get(n..).unwrap_or(&[]), at + n as u64);
                    if self.buf.len() == BUNDLE_HEADER_LEN {
                        let start = at - BUNDLE_HEADER_LEN as u64;
                        match bundle_pages(&self.buf) {
                            Some(pages) => {
                                self.bundles += 1;
                                self.pages += pages;
                                let last = self.buf.first() == Some(&LAST_ITERATION);
                                self.state = VState::Skip {
                                    left: pages * PAGE,
                                    then_done: last,
                                };
                                if last && pages == 0 {
                                    self.complete = true;
                                    self.state = VState::Done;
                                }
                            }
                            None => self.break_at(start),
                        }
                        self.buf = Vec::new();
                    }
                }
            }
        }
    }

    fn skip_marker(&mut self) {
        self.state = VState::Skip {
            left: ITERATION_MARKER_LEN,
            then_done: false,
        };
    }

    fn break_at(&mut self, at: u64) {
        self.broken_at = Some(at);
        self.state = VState::Broken;
        self.buf = Vec::new();
    }
}

/// Pages with contents in a bundle header, or `None` when it is not one.
fn bundle_pages(h: &[u8]) -> Option<u64> {
    use crate::vocab::bytes::{Order, u32_at};
    let le = |i| u32_at(h, i, Order::Little);
    if le(1)? != BUNDLE_MAGIC {
        return None;
    }
    let count = le(16)? as usize;
    if count > BUNDLE_PAGES {
        return None;
    }
    let mut with_contents = 0;
    for i in 0..count {
        let d = PAGE_DESCS_AT + i * PAGE_DESC_LEN;
        let pair = (le(d + 8)?, le(d + 20)?);
        if !VALID_PAGE_TYPES.contains(&pair) {
            return None;
        }
        with_contents += u64::from(matches!(pair.0, 1 | 4));
    }
    Some(with_contents)
}

/// The authd-banner-then-TLS reader of one NFC direction.
#[derive(Debug, Clone, Default)]
pub struct NfcReader {
    /// The banner's first bytes (at most [`BANNER_KEEP`]), when the direction opened with one.
    pub banner: Option<String>,
    in_banner: bool,
    banner_len: u64,
    started: bool,
    hdr: [u8; 5],
    hdr_have: u8,
    skip: u64,
    /// Bytes skipped before the first TLS record (at most [`MAX_PRELUDE`]).
    pub prelude: u8,
    /// TLS records read after the banner.
    pub records: u32,
    /// The first record read was a handshake (ClientHello or ServerHello).
    pub first_is_handshake: Option<bool>,
    /// Application data records read.
    pub app_records: u32,
    /// Bytes of application data records read (headers excluded).
    pub app_bytes: u64,
    /// Where the bytes after the banner stopped being TLS records (stream offset).
    pub not_tls_at: Option<u64>,
    /// Bytes after the banner that were read.
    pub after_banner: u64,
}

impl NfcReader {
    fn feed(&mut self, mut b: &[u8], mut at: u64) {
        if !self.started && !b.is_empty() {
            self.started = true;
            let n = AUTHD.len().min(b.len());
            if b.len() >= 4 && b.get(..n) == AUTHD.get(..n) {
                self.in_banner = true;
                self.banner = Some(String::new());
            }
        }
        while !b.is_empty() {
            if self.not_tls_at.is_some() {
                return;
            }
            if self.in_banner {
                let nl = b.iter().position(|&c| c == b'\n');
                let n = nl.map_or(b.len(), |i| i + 1);
                if let Some(text) = &mut self.banner {
                    let room = BANNER_KEEP.saturating_sub(text.len());
                    let keep = b.get(..n.min(room)).unwrap_or(&[]);
                    text.extend(
                        keep.iter()
                            .filter(|c| !matches!(c, b'\r' | b'\n'))
                            .map(|&c| {
                                if c.is_ascii_graphic() || c == b' ' {
                                    c as char
                                } else {
                                    '?'
                                }
                            }),
                    );
                }
                self.banner_len += n as u64;
                (b, at) = (b.get(n..).unwrap_or(&[]), at + n as u64);
                if nl.is_some() {
                    self.in_banner = false;
                } else if self.banner_len > BANNER_MAX {
                    self.not_tls_at = Some(at);
                }
                continue;
            }
            let n = b.len();
            self.after_banner += n as u64;
            while !b.is_empty() {
                if self.skip > 0 {
                    let k = self.skip.min(b.len() as u64);
                    self.skip -= k;
                    (b, at) = (b.get(k as usize..).unwrap_or(&[]), at + k);
                    continue;
                }
                let want = 5 - usize::from(self.hdr_have);
                let k = want.min(b.len());
                for (i, &c) in b.iter().take(k).enumerate() {
                    if let Some(h) = self.hdr.get_mut(usize::from(self.hdr_have) + i) {
                        *h = c;
                    }
                }
                self.hdr_have += k as u8;
                (b, at) = (b.get(k..).unwrap_or(&[]), at + k as u64);
                if self.hdr_have < 5 {
                    continue;
                }
                self.hdr_have = 0;
                let [t, major, minor, l0, l1] = self.hdr;
                let len = u16::from_be_bytes([l0, l1]);
                if !(20..=23).contains(&t) || major != 3 || minor > 4 || len > TLS_MAX_RECORD {
                    // A few bytes before the first record (an "SSL prelude" byte has been
                    // reported in front of authd's TLS): slide the window by one byte.
                    if self.records == 0 && self.prelude < MAX_PRELUDE {
                        self.prelude += 1;
                        self.hdr.rotate_left(1);
                        self.hdr_have = 4;
                        continue;
                    }
                    self.not_tls_at = Some(at - 5 - u64::from(self.prelude));
                    return;
                }
                self.first_is_handshake.get_or_insert(t == 22);
                self.records += 1;
                if t == 23 {
                    self.app_records += 1;
                    self.app_bytes += u64::from(len);
                }
                self.skip = u64::from(len);
            }
        }
    }
}

/// The reader of one direction.
#[derive(Debug, Clone)]
pub enum Reader {
    /// A vMotion flow's.
    Vmotion(VmotionReader),
    /// An NFC flow's (boxed: vMotion flows, the many, pay for their own reader only).
    Nfc(Box<NfcReader>),
}

impl Reader {
    /// Whether further bytes can change what the reader concluded.
    fn finished(&self) -> bool {
        match self {
            Reader::Vmotion(r) => matches!(r.state, VState::Done | VState::Broken),
            Reader::Nfc(r) => r.not_tls_at.is_some(),
        }
    }
}

/// One direction: its stream position and its reader.
#[derive(Debug, Clone)]
pub struct DirScan {
    cur: Cursor,
    /// The reader.
    pub reader: Reader,
}

impl DirScan {
    /// The direction's SYN was seen (its first byte is the stream's first).
    pub fn from_syn(&self) -> bool {
        self.cur.from_syn
    }

    /// Some segment carried payload (by its length fields).
    pub fn any_payload(&self) -> bool {
        self.cur.any_payload
    }

    /// Some payload byte was captured.
    pub fn any_captured(&self) -> bool {
        self.cur.any_captured
    }

    /// Bytes read in order (up to where reading stopped, when it did).
    pub fn read_bytes(&self) -> u64 {
        match self.cur.stop {
            Some(Stop::Cut(at) | Stop::Gap(at)) => at,
            None => self.cur.offset,
        }
    }

    /// Why reading stopped early, if it did.
    pub fn stop(&self) -> Option<Stop> {
        self.cur.stop
    }
}

/// What the payload of one vMotion or NFC flow showed: `[lo → hi, hi → lo]`.
#[derive(Debug, Clone)]
pub struct PayloadScan {
    /// Per direction, `[lo → hi, hi → lo]` as the flow's.
    pub dirs: [DirScan; 2],
    /// Per direction: nothing more to read.
    done: [bool; 2],
}

impl PayloadScan {
    /// A scan for a vMotion flow (`nfc` false) or an NFC flow.
    pub fn new(nfc: bool) -> PayloadScan {
        let dir = || DirScan {
            cur: Cursor::default(),
            reader: if nfc {
                Reader::Nfc(Box::default())
            } else {
                Reader::Vmotion(VmotionReader::new())
            },
        };
        PayloadScan {
            dirs: [dir(), dir()],
            done: [false; 2],
        }
    }

    /// Whether direction `di` still reads bytes (else its segments can be skipped).
    #[inline]
    pub fn wants(&self, di: usize) -> bool {
        !self.done.get(di).copied().unwrap_or(true)
    }

    /// One TCP segment of direction `di` (0: lo → hi): SYN flag, sequence number, payload length
    /// and the payload bytes captured.
    #[inline]
    pub fn segment(&mut self, di: usize, syn: bool, seq: u32, len: u32, captured: &[u8]) {
        // Nothing more to learn from this direction (its reader is done, or reading stopped):
        // the rest of an encrypted stream costs this test only.
        if self.done.get(di).copied().unwrap_or(true) {
            return;
        }
        self.read(di, syn, seq, len, captured);
    }

    fn read(&mut self, di: usize, syn: bool, seq: u32, len: u32, captured: &[u8]) {
        let Some(d) = self.dirs.get_mut(di) else {
            return;
        };
        let at = d.cur.offset;
        if let Some((bytes, _cut)) = d.cur.accept(syn, seq, len, captured) {
            match &mut d.reader {
                Reader::Vmotion(r) => r.feed(bytes, at),
                Reader::Nfc(r) => r.feed(bytes, at),
            }
        }
        let done = d.cur.any_captured && (d.cur.stop.is_some() || d.reader.finished());
        if let Some(x) = self.done.get_mut(di) {
            *x = done;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle header of `pages` pages of typeA 1 (contents sent), `last` for the last bundle.
    pub(crate) fn bundle(pages: u32, last: bool, first_page: u32) -> Vec<u8> {
        let mut h = vec![0u8; BUNDLE_HEADER_LEN];
        h[0] = u8::from(last);
        h[1..5].copy_from_slice(&BUNDLE_MAGIC.to_le_bytes());
        h[16..20].copy_from_slice(&pages.to_le_bytes());
        for i in 0..BUNDLE_PAGES {
            let d = PAGE_DESCS_AT + i * PAGE_DESC_LEN;
            let (a, b) = if (i as u32) < pages {
                (1u32, 8u32)
            } else {
                (0, 8)
            };
            h[d + 8..d + 12].copy_from_slice(&a.to_le_bytes());
            h[d + 20..d + 24].copy_from_slice(&b.to_le_bytes());
            let n = PAGE_NUMBERS_AT + 4 * i;
            h[n..n + 4].copy_from_slice(&(first_page + i as u32).to_le_bytes());
        }
        h.extend(std::iter::repeat_n(0x5a, pages as usize * PAGE as usize));
        h
    }

    fn plain_stream(passes: u32) -> Vec<u8> {
        let mut s = VMOTION_MAGIC.to_vec();
        s.resize(VMOTION_HEADER_LEN as usize, 0);
        for p in 0..passes {
            if p > 0 {
                s.push(NEXT_ITERATION);
                s.extend([0u8; 15]);
            }
            s.extend(bundle(3, false, 0));
        }
        s.push(LAST_ITERATION);
        s.extend([0u8; 15]);
        s.extend(bundle(2, true, 0));
        s
    }

    fn feed_all(s: &[u8], seg: usize) -> PayloadScan {
        let mut p = PayloadScan::new(false);
        p.segment(0, true, 999, 0, &[]);
        let mut seq = 1000u32;
        for c in s.chunks(seg) {
            p.segment(0, false, seq, c.len() as u32, c);
            seq = seq.wrapping_add(c.len() as u32);
        }
        p
    }

    fn vm(p: &PayloadScan) -> &VmotionReader {
        match &p.dirs[0].reader {
            Reader::Vmotion(r) => r,
            Reader::Nfc(_) => unreachable!(),
        }
    }

    #[test]
    fn plain_stream_counts_iterations_across_any_segmentation() {
        let s = plain_stream(4);
        for seg in [1, 7, 15, 16, 1460, 9000, s.len()] {
            let p = feed_all(&s, seg);
            let r = vm(&p);
            assert_eq!(r.format, VmotionFormat::Plain, "seg {seg}");
            assert_eq!(r.iterations, 5, "4 passes + the last iteration, seg {seg}");
            assert!(
                r.last_marker && r.complete && r.broken_at.is_none(),
                "seg {seg}"
            );
            assert_eq!((r.bundles, r.pages), (5, 14));
        }
    }

    #[test]
    fn opaque_gapped_and_cut_streams() {
        let p = feed_all(&[0x8a; 3000], 1460);
        assert_eq!(vm(&p).format, VmotionFormat::NotPlain);
        // A gap: iterations before it stay, reading stops.
        let s = plain_stream(3);
        let mut p = PayloadScan::new(false);
        p.segment(0, true, 0, 0, &[]);
        let cut_at = VMOTION_HEADER_LEN as usize + BUNDLE_HEADER_LEN + 3 * 4096 + 16;
        p.segment(0, false, 1, cut_at as u32, &s[..cut_at]);
        p.segment(
            0,
            false,
            1 + cut_at as u32 + 100,
            50,
            &s[cut_at + 100..cut_at + 150],
        );
        assert_eq!(p.dirs[0].stop(), Some(Stop::Gap(cut_at as u64)));
        assert_eq!(vm(&p).iterations, 2);
        assert!(!vm(&p).complete);
        // A segment cut by the capture.
        let mut p = PayloadScan::new(false);
        p.segment(0, false, 5, 1460, &s[..54]);
        assert_eq!(p.dirs[0].stop(), Some(Stop::Cut(54)));
        assert_eq!(vm(&p).format, VmotionFormat::Plain);
        assert!(!p.dirs[0].from_syn());
        // A broken record.
        let mut bad = VMOTION_MAGIC.to_vec();
        bad.resize(VMOTION_HEADER_LEN as usize, 0);
        bad.push(9);
        let p = feed_all(&bad, 1460);
        assert_eq!(vm(&p).broken_at, Some(VMOTION_HEADER_LEN));
        // Retransmissions and overlaps change nothing.
        let s = plain_stream(2);
        let mut p = PayloadScan::new(false);
        let mut seq = 0u32;
        for c in s.chunks(1000) {
            p.segment(0, false, seq, c.len() as u32, c);
            p.segment(0, false, seq, c.len() as u32, c);
            seq += c.len() as u32;
        }
        assert_eq!(vm(&p).iterations, 3);
        assert!(vm(&p).complete);
    }

    fn nfc(p: &PayloadScan, d: usize) -> &NfcReader {
        match &p.dirs[d].reader {
            Reader::Nfc(r) => r,
            Reader::Vmotion(_) => unreachable!(),
        }
    }

    #[test]
    fn nfc_banner_then_tls_or_not() {
        let banner =
            b"220 VMware Authentication Daemon Version 1.10: SSL Required, NFCSSL supported\r\n";
        let mut p = PayloadScan::new(true);
        let mut server = banner.to_vec();
        server.extend([22, 3, 3, 0, 4, 2, 0, 0, 0]);
        p.segment(1, false, 0, 40, &server[..40]);
        p.segment(1, false, 40, (server.len() - 40) as u32, &server[40..]);
        let mut client = vec![22, 3, 1, 0, 3, 1, 0, 0];
        for _ in 0..3 {
            client.extend([23, 3, 3, 0, 100]);
            client.extend([7u8; 100]);
        }
        for (i, c) in client.chunks(33).enumerate() {
            p.segment(0, false, (i * 33) as u32, c.len() as u32, c);
        }
        let s = nfc(&p, 1);
        assert!(
            s.banner
                .as_deref()
                .unwrap()
                .starts_with("220 VMware Authentication Daemon")
        );
        assert!(s.banner.as_deref().unwrap().contains("SSL Required"));
        assert_eq!((s.records, s.first_is_handshake), (1, Some(true)));
        let c = nfc(&p, 0);
        assert_eq!((c.records, c.app_records, c.app_bytes), (4, 3, 300));
        assert_eq!(c.not_tls_at, None);
        assert_eq!(c.banner, None);
        // Plain NFC: the client's bytes are no TLS record.
        let mut p = PayloadScan::new(true);
        p.segment(0, false, 0, 12, b"\x00\x00\x00\x01nfcxnfcx");
        assert_eq!(nfc(&p, 0).not_tls_at, Some(0));
        assert_eq!(nfc(&p, 0).records, 0);
        // One prelude byte before the ClientHello.
        let mut p = PayloadScan::new(true);
        p.segment(0, false, 0, 9, &[1, 22, 3, 1, 0, 3, 1, 0, 0]);
        let c = nfc(&p, 0);
        assert_eq!(
            (c.prelude, c.records, c.first_is_handshake, c.not_tls_at),
            (1, 1, Some(true), None)
        );
        // A banner without its end is kept to 96 bytes.
        let mut p = PayloadScan::new(true);
        let long = [
            b"220 VMware Authentication Daemon ".as_slice(),
            &[b'x'; 200],
        ]
        .concat();
        p.segment(1, false, 0, long.len() as u32, &long);
        assert_eq!(
            nfc(&p, 1).banner.as_ref().map(String::len),
            Some(BANNER_KEEP)
        );
    }
}
