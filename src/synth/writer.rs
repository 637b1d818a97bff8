//! Capture file writers: classic pcap (microsecond or nanosecond) and pcapng with one interface
//! per vmk, streaming through any `Write` in constant memory.
//!
//! In: frames with a nanosecond timestamp and an interface index. Out: the file bytes; counts of
//! records and bytes written.

use std::io::{self, Write};

use crate::vocab::wire::LinkType;

/// Output file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Classic pcap, microsecond timestamps.
    #[default]
    Pcap,
    /// Classic pcap, nanosecond timestamps (magic `a1b23c4d`).
    PcapNs,
    /// pcapng, one interface per vmk, `if_tsresol` 9 (nanoseconds).
    Pcapng,
}

impl Format {
    /// `pcap`, `pcap-ns` or `pcapng`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNs => "pcap-ns",
            Format::Pcapng => "pcapng",
        }
    }
}

/// Snap length written in headers when nothing is cut.
pub const DEFAULT_SNAPLEN: u32 = 262_144;

/// A streaming capture writer.
pub struct CaptureWriter<W: Write> {
    w: W,
    format: Format,
    snaplen: Option<u32>,
    /// Bytes written so far.
    pub bytes: u64,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the file header (and, for pcapng, one Interface Description Block per name).
    pub fn new(
        w: W,
        format: Format,
        snaplen: Option<u32>,
        interfaces: &[String],
    ) -> io::Result<CaptureWriter<W>> {
        let mut cw = CaptureWriter {
            w,
            format,
            snaplen,
            bytes: 0,
        };
        let snap = snaplen.unwrap_or(DEFAULT_SNAPLEN);
        match format {
            Format::Pcap | Format::PcapNs => {
                let magic: u32 = if format == Format::Pcap {
                    0xa1b2_c3d4
                } else {
                    0xa1b2_3c4d
                };
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&magic.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&[0; 8]);
                h.extend_from_slice(&snap.to_le_bytes());
                h.extend_from_slice(&u32::from(LinkType::Ethernet).to_le_bytes());
                cw.put(&h)?;
            }
            Format::Pcapng => {
                let mut opts = Vec::new();
                option(&mut opts, 4, b"vmkflow synth");
                option(&mut opts, 0, &[]);
                let mut body = Vec::new();
                body.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
                body.extend_from_slice(&1u16.to_le_bytes());
                body.extend_from_slice(&0u16.to_le_bytes());
                body.extend_from_slice(&u64::MAX.to_le_bytes());
                body.extend_from_slice(&opts);
                cw.block(0x0a0d_0d0a, &body, &[])?;
                for name in interfaces {
                    let mut body = Vec::new();
                    // pcapng's link type field is 16 bits wide.
                    body.extend_from_slice(&(u32::from(LinkType::Ethernet) as u16).to_le_bytes());
                    body.extend_from_slice(&0u16.to_le_bytes());
                    body.extend_from_slice(&snaplen.unwrap_or(0).to_le_bytes());
                    option(&mut body, 2, name.as_bytes());
                    option(&mut body, 9, &[9]);
                    option(&mut body, 0, &[]);
                    cw.block(1, &body, &[])?;
                }
            }
        }
        Ok(cw)
    }

    fn put(&mut self, b: &[u8]) -> io::Result<()> {
        self.bytes += b.len() as u64;
        self.w.write_all(b)
    }

    /// Writes a block whose body is `head` followed by `data` padded to 4 bytes.
    fn block(&mut self, kind: u32, head: &[u8], data: &[u8]) -> io::Result<()> {
        let pad = (4 - data.len() % 4) % 4;
        let len = (12 + head.len() + data.len() + pad) as u32;
        self.put(&kind.to_le_bytes())?;
        self.put(&len.to_le_bytes())?;
        self.put(head)?;
        self.put(data)?;
        self.put(&[0u8; 3][..pad])?;
        self.put(&len.to_le_bytes())
    }

    /// Writes one packet record, cut to the snap length; returns the captured length.
    pub fn record(&mut self, ts_ns: i64, iface: u32, frame: &[u8]) -> io::Result<usize> {
        let cap = match self.snaplen {
            Some(s) => frame.len().min(s as usize),
            None => frame.len(),
        };
        let data = frame.get(..cap).unwrap_or(frame);
        let orig = frame.len() as u32;
        match self.format {
            Format::Pcap | Format::PcapNs => {
                let secs = ts_ns.div_euclid(1_000_000_000) as u32;
                let ns = ts_ns.rem_euclid(1_000_000_000) as u32;
                let frac = if self.format == Format::Pcap {
                    ns / 1000
                } else {
                    ns
                };
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&secs.to_le_bytes());
                h[4..8].copy_from_slice(&frac.to_le_bytes());
                h[8..12].copy_from_slice(&(cap as u32).to_le_bytes());
                h[12..16].copy_from_slice(&orig.to_le_bytes());
                self.put(&h)?;
                self.put(data)?;
            }
            Format::Pcapng => {
                let ts = ts_ns.max(0) as u64;
                let mut h = [0u8; 20];
                h[0..4].copy_from_slice(&iface.to_le_bytes());
                h[4..8].copy_from_slice(&((ts >> 32) as u32).to_le_bytes());
                h[8..12].copy_from_slice(&(ts as u32).to_le_bytes());
                h[12..16].copy_from_slice(&(cap as u32).to_le_bytes());
                h[16..20].copy_from_slice(&orig.to_le_bytes());
                self.block(6, &h, data)?;
            }
        }
        Ok(cap)
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.w.flush()?;
        Ok(self.w)
    }
}

/// Appends a pcapng option (code, length, value padded to 4).
fn option(out: &mut Vec<u8>, code: u16, value: &[u8]) {
    out.extend_from_slice(&code.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
    out.resize(out.len() + (4 - value.len() % 4) % 4, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::CaptureReader;

    #[test]
    fn written_files_read_back() {
        for format in [Format::Pcap, Format::PcapNs, Format::Pcapng] {
            let names = vec!["esx01-vmk1".to_string(), "esx02-vmk1".to_string()];
            let mut w = CaptureWriter::new(Vec::new(), format, Some(20), &names).unwrap();
            w.record(1_772_445_600_123_456_789, 1, &[0xab; 60]).unwrap();
            w.record(1_772_445_600_123_457_000, 0, &[0xcd; 13]).unwrap();
            let bytes = w.finish().unwrap();
            let mut r = CaptureReader::from_bytes("t", bytes).unwrap();
            let mut n = 0;
            while let Some(f) = r.next_frame().unwrap() {
                n += 1;
                assert!(f.data.len() <= 20);
            }
            assert_eq!(n, 2, "{format:?}");
        }
    }
}
