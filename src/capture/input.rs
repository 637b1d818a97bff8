//! Byte sources for captures: a file, standard input or a FIFO, gzip-compressed or not, read
//! through one growable window.
//!
//! In: a path (or `-`). Out: a [`Window`] that hands out contiguous slices of at least the length a
//! parser asks for, tracking the absolute byte offset of every slice in the (decompressed) stream.
//! Memory is bounded by the window's capacity, which grows only up to [`MAX_RECORD`].

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

/// Default read size: large reads keep the syscall count low on multi-gigabyte files.
pub const READ_CHUNK: usize = 1 << 20;

/// Largest record (pcap record or pcapng block) the reader accepts. A length field above this is
/// treated as corruption rather than honoured with an allocation.
pub const MAX_RECORD: usize = 64 << 20;

/// Where the capture bytes come from, for messages and the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file system path (regular file or FIFO).
    Path(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Source {
    /// Interprets a command-line argument: `-` is standard input, anything else a path.
    pub fn from_arg(arg: &str) -> Source {
        if arg == "-" {
            Source::Stdin
        } else {
            Source::Path(PathBuf::from(arg))
        }
    }

    /// The name used in messages and reports.
    pub fn display_name(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
        }
    }

    /// The path, when the source is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Source::Path(p) => Some(p),
            Source::Stdin => None,
        }
    }
}

/// What was found at the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// A gzip stream (magic `1f 8b`), decompressed on the fly.
    Gzip,
}

/// A `Read` that retries on `Interrupted`, so callers only see data, end, or a real error.
fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

/// A reader over `inner` that first replays bytes already consumed while sniffing the format.
struct Replay<R> {
    head: Vec<u8>,
    pos: usize,
    inner: R,
}

impl<R: Read> Read for Replay<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = (self.head.len() - self.pos).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Opens `source` and returns a reader over its (decompressed) bytes.
///
/// Gzip is recognised by its magic, whatever the name; a pipe's short reads while sniffing are
/// handled by reading until two bytes or the end have been seen.
pub fn open(source: &Source) -> io::Result<(Box<dyn Read + Send>, Compression, Option<u64>)> {
    let (mut raw, size): (Box<dyn Read + Send>, Option<u64>) = match source {
        Source::Stdin => (Box::new(io::stdin()), None),
        Source::Path(p) => {
            let f = File::open(p)?;
            let meta = f.metadata()?;
            let size = meta.is_file().then_some(meta.len());
            (Box::new(f), size)
        }
    };
    let mut head = Vec::with_capacity(2);
    let mut tmp = [0u8; 2];
    while head.len() < 2 {
        let n = read_some(raw.as_mut(), &mut tmp[..2 - head.len()])?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&tmp[..n]);
    }
    let gz = head == [0x1f, 0x8b];
    let replay = Replay {
        head,
        pos: 0,
        inner: raw,
    };
    if gz {
        Ok((
            Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(
                READ_CHUNK, replay,
            ))),
            Compression::Gzip,
            size,
        ))
    } else {
        Ok((Box::new(replay), Compression::None, size))
    }
}

/// Outcome of asking the window for bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Fill {
    /// The requested bytes are available at [`Window::data`].
    Ready,
    /// The stream ended before the requested bytes; `available` bytes remain unconsumed.
    Eof {
        /// Bytes that were available when the stream ended.
        available: usize,
    },
}

/// A growable read window over a byte stream.
pub struct Window {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Absolute stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    /// The source ended inside a compressed stream (a gzip file cut short): its end is an early
    /// one, even where it falls between two records.
    cut: bool,
    /// Bytes pulled from the underlying reader so far (decompressed).
    pulled: u64,
    /// In hand-off mode, the buffers given up instead of moving bytes within one.
    handoff: Option<Handoff>,
}

/// The buffers of a window in hand-off mode ([`Window::hand_off_buffers`]).
#[derive(Default)]
struct Handoff {
    /// Buffers returned for reuse (their contents are overwritten).
    spares: Vec<Vec<u8>>,
    /// Buffers given up, oldest first, with every byte they held still in place.
    retired: Vec<Vec<u8>>,
}

impl Window {
    /// Wraps a reader with an initial window of [`READ_CHUNK`] bytes.
    pub fn new(inner: Box<dyn Read + Send>) -> Window {
        Window::with_capacity(inner, READ_CHUNK)
    }

    /// Wraps a reader with a window of `cap` bytes (grown on demand up to [`MAX_RECORD`]).
    pub fn with_capacity(inner: Box<dyn Read + Send>, cap: usize) -> Window {
        Window {
            inner,
            buf: vec![0; cap.max(64)],
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            cut: false,
            pulled: 0,
            handoff: None,
        }
    }

    /// Switches to hand-off mode: from now on the window never moves or overwrites bytes it has
    /// handed out. Where it would (to make room, or to grow), it continues in another buffer
    /// and keeps the old one, untouched, for [`Window::take_retired`]; so slices of consumed
    /// records stay valid in the buffer that held them, which can then travel to another thread
    /// instead of being copied.
    pub fn hand_off_buffers(&mut self) {
        self.handoff.get_or_insert_with(Handoff::default);
    }

    /// The buffers given up since the last call, oldest first (hand-off mode).
    pub fn take_retired(&mut self) -> Vec<Vec<u8>> {
        self.handoff
            .as_mut()
            .map(|h| std::mem::take(&mut h.retired))
            .unwrap_or_default()
    }

    /// Whether a buffer was given up since [`Window::take_retired`] was last called.
    pub fn has_retired(&self) -> bool {
        self.handoff.as_ref().is_some_and(|h| !h.retired.is_empty())
    }

    /// Returns a buffer for reuse (hand-off mode; dropped otherwise).
    pub fn recycle(&mut self, buf: Vec<u8>) {
        if let Some(h) = &mut self.handoff {
            if h.spares.len() < 8 {
                h.spares.push(buf);
            }
        }
    }

    /// The whole current buffer.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Takes the current buffer, leaving the window empty: for the end of the stream, when the
    /// records already handed out still point into it.
    pub fn take_buffer(&mut self) -> Vec<u8> {
        self.start = 0;
        self.end = 0;
        self.eof = true;
        std::mem::take(&mut self.buf)
    }

    /// In hand-off mode: continues in a buffer of `len` bytes holding `buf[from..end]`, and
    /// retires the current one.
    fn move_to_fresh_buffer(&mut self, len: usize, from: usize) {
        let Some(h) = &mut self.handoff else {
            return;
        };
        let mut fresh = loop {
            match h.spares.pop() {
                Some(b) if b.len() == len => break b,
                Some(_) => continue,
                None => break vec![0; len],
            }
        };
        let n = self.end - from;
        fresh[..n].copy_from_slice(&self.buf[from..self.end]);
        h.retired.push(std::mem::replace(&mut self.buf, fresh));
        self.start -= from;
        self.end = n;
    }

    /// Absolute offset of the first unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes read from the source so far.
    pub fn bytes_pulled(&self) -> u64 {
        self.pulled
    }

    /// The unconsumed bytes currently buffered.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Marks `n` bytes (at most [`Window::data`]'s length) as consumed.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    /// Makes at least `need` unconsumed bytes available, reading as often as the source requires.
    ///
    /// `need` must not exceed [`MAX_RECORD`]; callers check length fields before asking.
    pub fn fill(&mut self, need: usize) -> io::Result<Fill> {
        debug_assert!(need <= MAX_RECORD + 64);
        while self.end - self.start < need {
            if self.eof {
                return Ok(Fill::Eof {
                    available: self.end - self.start,
                });
            }
            if self.buf.len() - self.start < need {
                if self.handoff.is_some() {
                    self.move_to_fresh_buffer(self.buf.len(), self.start);
                } else {
                    // Move the tail to the front.
                    self.buf.copy_within(self.start..self.end, 0);
                    self.end -= self.start;
                    self.start = 0;
                }
            }
            if self.end == self.buf.len() {
                // Grow for a record larger than the window, doubling as bytes arrive, so a length
                // field promising more than the stream holds costs at most twice what is there.
                let cap = need.next_power_of_two().min(MAX_RECORD + 64).max(need);
                let new_len = (self.buf.len() * 2).min(cap).max(self.end + 1);
                if self.handoff.is_some() {
                    self.move_to_fresh_buffer(new_len, 0);
                } else {
                    self.buf.resize(new_len, 0);
                }
            }
            let n = match read_some(self.inner.as_mut(), &mut self.buf[self.end..]) {
                // Only a decompressor reports its input ending early (flate2: "incomplete
                // deflate stream"); a plain file or pipe ends with a read of 0.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.cut = true;
                    0
                }
                r => r?,
            };
            if n == 0 {
                self.eof = true;
            } else {
                self.end += n;
                self.pulled += n as u64;
            }
        }
        Ok(Fill::Ready)
    }

    /// The last `len` bytes consumed (still in the buffer until the next fill).
    pub fn recent(&self, len: usize) -> &[u8] {
        let len = len.min(self.start);
        &self.buf[self.start - len..self.start]
    }

    /// Where, in [`Window::buffer`], bytes `data_start..data_start + data_len` of the record of
    /// `len` bytes consumed last lie (cut to the record).
    pub fn consumed_range(
        &self,
        len: usize,
        data_start: usize,
        data_len: usize,
    ) -> std::ops::Range<usize> {
        let rec_start = self.start - len.min(self.start);
        let end = data_start
            .saturating_add(data_len)
            .min(self.start - rec_start);
        rec_start + data_start.min(end)..rec_start + end
    }

    /// Whether the source ended inside a compressed stream.
    pub fn was_cut(&self) -> bool {
        self.cut
    }

    /// Whether the source has reported its end.
    pub fn at_eof(&self) -> bool {
        self.eof
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that returns at most `step` bytes per call, like a pipe.
    struct Dribble {
        data: Vec<u8>,
        pos: usize,
        step: usize,
    }

    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    #[test]
    fn short_reads_are_not_the_end() {
        let data: Vec<u8> = (0..=255).collect();
        let mut w = Window::with_capacity(
            Box::new(Dribble {
                data: data.clone(),
                pos: 0,
                step: 3,
            }),
            64,
        );
        assert_eq!(w.fill(100).unwrap(), Fill::Ready);
        assert_eq!(&w.data()[..100], &data[..100]);
        w.consume(100);
        assert_eq!(w.offset(), 100);
        assert_eq!(w.fill(200).unwrap(), Fill::Eof { available: 156 });
        assert_eq!(w.data(), &data[100..]);
    }

    #[test]
    fn window_grows_with_the_data_not_the_request() {
        let mut w = Window::with_capacity(
            Box::new(Dribble {
                data: vec![1; 1000],
                pos: 0,
                step: 7,
            }),
            64,
        );
        assert_eq!(w.fill(MAX_RECORD).unwrap(), Fill::Eof { available: 1000 });
        assert_eq!(w.buf.len(), 1024);
        assert_eq!(w.data(), &[1; 1000][..]);
    }

    #[test]
    fn window_grows_for_large_records() {
        let data = vec![7u8; 10_000];
        let mut w = Window::with_capacity(
            Box::new(Dribble {
                data,
                pos: 0,
                step: 1000,
            }),
            64,
        );
        assert_eq!(w.fill(9_999).unwrap(), Fill::Ready);
        assert!(w.data().len() >= 9_999);
    }
}
