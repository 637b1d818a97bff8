//! Payload bytes with a structure, for the options that ask for them: the unencrypted vMotion
//! stream (`--vmotion-payload plain`), authd's banner and TLS on NFC (`--nfc-tls`), and
//! heartbeats carrying a build number (`--esxi-build`). Without those options connections
//! carry pseudo-random bytes as before (encrypted vMotion looks like them).
//!
//! In: what a connection should send. Out: [`Script`], the byte pieces a connection sends
//! first in each direction, which the emitter takes before its style's bytes.
//!
//! The vMotion stream follows the format read by [`crate::flow::payload`] (Huppert's ESXi 6.0
//! study): magic and 0x54-byte header, page bundles of at most 128 pages (descriptors typeA 1,
//! typeB 8: contents sent), a next-iteration marker between pre-copy passes, the last-iteration
//! marker before the switchover data, whose final bundle has type 1. Header bytes the study does
//! not describe are zeros. Disk data of a hot xvMotion (whose format in the stream no public
//! study describes) is sent as bundles of the first iteration.

use std::collections::VecDeque;

use crate::flow::payload::{
    BUNDLE_HEADER_LEN, BUNDLE_MAGIC, BUNDLE_PAGES, ITERATION_MARKER_LEN, LAST_ITERATION,
    NEXT_ITERATION, PAGE, PAGE_DESC_LEN, VMOTION_HEADER_LEN, VMOTION_MAGIC,
};

/// One piece of scripted bytes.
#[derive(Debug, Clone)]
pub enum Piece {
    /// These bytes.
    Bytes(Vec<u8>),
    /// A page bundle: its header, then `pages` pages of contents (pseudo-random bytes).
    Bundle {
        /// Pages with contents (at most 128).
        pages: u32,
        /// The stream's last bundle (type 1).
        last: bool,
        /// Page number of the first page.
        first_page: u32,
        /// The pre-copy iteration written in the page descriptors.
        iteration: u32,
    },
}

impl Piece {
    /// Its length in bytes.
    pub fn bytes(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::Bundle { pages, .. } => BUNDLE_HEADER_LEN as u64 + u64::from(*pages) * PAGE,
        }
    }

    /// Appends bytes `off..off + n` of the piece to `out`; `pattern` fills page contents.
    fn put(&self, off: u64, n: u64, pattern: &[u8], out: &mut Vec<u8>) {
        match self {
            Piece::Bytes(b) => {
                let (a, z) = (off as usize, (off + n) as usize);
                out.extend_from_slice(b.get(a..z.min(b.len())).unwrap_or(&[]));
            }
            Piece::Bundle {
                pages,
                last,
                first_page,
                iteration,
            } => {
                let h = BUNDLE_HEADER_LEN as u64;
                let mut at = off;
                let end = off + n;
                if at < h {
                    let hdr = bundle_header(*pages, *last, *first_page, *iteration);
                    let z = end.min(h);
                    out.extend_from_slice(hdr.get(at as usize..z as usize).unwrap_or(&[]));
                    at = z;
                }
                while at < end {
                    let p = ((at - h) as usize) & 0x7fff;
                    let k = ((end - at) as usize)
                        .min(pattern.len().saturating_sub(p))
                        .max(1);
                    match pattern.get(p..p + k) {
                        Some(s) => out.extend_from_slice(s),
                        None => out.push(0x5a),
                    }
                    at += k as u64;
                }
            }
        }
    }
}

/// The header of a page bundle.
fn bundle_header(pages: u32, last: bool, first_page: u32, iteration: u32) -> Vec<u8> {
    let mut h = vec![0u8; BUNDLE_HEADER_LEN];
    let put = |h: &mut Vec<u8>, at: usize, v: &[u8]| {
        if let Some(d) = h.get_mut(at..at + v.len()) {
            d.copy_from_slice(v);
        }
    };
    put(&mut h, 0, &[u8::from(last)]);
    put(&mut h, 1, &BUNDLE_MAGIC.to_le_bytes());
    put(&mut h, 16, &pages.min(BUNDLE_PAGES as u32).to_le_bytes());
    for i in 0..(pages as usize).min(BUNDLE_PAGES) {
        put(
            &mut h,
            20 + 4 * i,
            &first_page.wrapping_add(i as u32).to_le_bytes(),
        );
        let d = 20 + 4 * BUNDLE_PAGES + PAGE_DESC_LEN * i;
        put(&mut h, d, &iteration.to_le_bytes());
        put(&mut h, d + 8, &1u32.to_le_bytes());
        put(&mut h, d + 20, &8u32.to_le_bytes());
    }
    h
}

/// Scripted bytes of a connection, per direction: `[to server, to client]`.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pieces: [VecDeque<Piece>; 2],
    at: [u64; 2],
}

impl Script {
    /// Queues `p` in direction `to_client` (false: to the server); returns its length.
    pub fn push(&mut self, to_client: bool, p: Piece) -> u64 {
        let n = p.bytes();
        if let Some(q) = self.pieces.get_mut(usize::from(to_client)) {
            q.push_back(p);
        }
        n
    }

    /// Whether bytes are queued in that direction.
    pub fn has(&self, to_client: bool) -> bool {
        self.pieces
            .get(usize::from(to_client))
            .is_some_and(|q| !q.is_empty())
    }

    /// Takes up to `n` queued bytes of that direction into `out`; returns how many.
    pub fn take(&mut self, to_client: bool, n: u64, pattern: &[u8], out: &mut Vec<u8>) -> u64 {
        let i = usize::from(to_client);
        let (Some(q), Some(at)) = (self.pieces.get_mut(i), self.at.get_mut(i)) else {
            return 0;
        };
        let mut done = 0;
        while done < n {
            let Some(front) = q.front() else { break };
            let left = front.bytes() - *at;
            let k = left.min(n - done);
            front.put(*at, k, pattern, out);
            done += k;
            *at += k;
            if *at == front.bytes() {
                q.pop_front();
                *at = 0;
            }
        }
        done
    }
}

/// The unencrypted vMotion stream header.
pub fn vmotion_header() -> Piece {
    let mut h = VMOTION_MAGIC.to_vec();
    h.resize(VMOTION_HEADER_LEN as usize, 0);
    Piece::Bytes(h)
}

/// An iteration marker: next (`last` false) or last.
pub fn iteration_marker(last: bool) -> Piece {
    let mut m = vec![if last { LAST_ITERATION } else { NEXT_ITERATION }];
    m.resize(1 + ITERATION_MARKER_LEN as usize, 0);
    Piece::Bytes(m)
}

/// Queues bundles for `bytes` of memory (at least one page) in iteration `iteration`, the last
/// of them of type 1 when `last_bundle`; returns the bytes queued. `next_page` advances.
pub fn queue_pages(
    s: &mut Script,
    bytes: u64,
    iteration: u32,
    last_bundle: bool,
    next_page: &mut u32,
) -> u64 {
    let mut pages = bytes.div_ceil(PAGE).max(1);
    let mut queued = 0;
    while pages > 0 {
        let k = pages.min(BUNDLE_PAGES as u64) as u32;
        pages -= u64::from(k);
        queued += s.push(
            false,
            Piece::Bundle {
                pages: k,
                last: last_bundle && pages == 0,
                first_page: *next_page,
                iteration,
            },
        );
        *next_page = next_page.wrapping_add(k);
    }
    queued
}

/// authd's banner (the text of banners seen from ESXi hosts; `SSL Required` when NFC uses SSL).
pub fn authd_banner(tls: bool) -> Vec<u8> {
    let mut b = b"220 VMware Authentication Daemon Version 1.10: ".to_vec();
    b.extend_from_slice(if tls {
        b"SSL Required, ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , , NFCSSL supported/t\r\n"
            .as_slice()
    } else {
        b"ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , ,\r\n".as_slice()
    });
    b
}

/// A TLS handshake record (`16 03 mm len`) of handshake type `ht` with `body`.
fn handshake(minor: u8, ht: u8, body: &[u8]) -> Vec<u8> {
    let hl = body.len() as u32;
    let rl = (hl + 4) as u16;
    let mut r = vec![22, 3, minor];
    r.extend_from_slice(&rl.to_be_bytes());
    r.push(ht);
    r.extend_from_slice(&hl.to_be_bytes()[1..]);
    r.extend_from_slice(body);
    r
}

/// A minimal ClientHello record (TLS 1.2, one cipher suite, no extensions).
pub fn client_hello(random: [u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0, 0, 0]);
    handshake(1, 1, &b)
}

/// A minimal ServerHello record.
pub fn server_hello(random: [u8; 32]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&random);
    b.extend_from_slice(&[0, 0xc0, 0x2f, 0, 0, 0]);
    handshake(3, 2, &b)
}

/// ChangeCipherSpec and an encrypted Finished record (40 bytes of `fill`).
pub fn change_cipher_finished(fill: u8) -> Vec<u8> {
    let mut r = vec![20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 40];
    r.extend_from_slice(&[fill; 40]);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::payload::{PayloadScan, Reader};

    #[test]
    fn scripted_stream_reads_back_as_plain() {
        let mut s = Script::default();
        let mut page = 0;
        let mut total = s.push(false, vmotion_header());
        total += queue_pages(&mut s, 600 * 4096, 0, false, &mut page);
        total += s.push(false, iteration_marker(false));
        total += queue_pages(&mut s, 10 * 4096, 1, false, &mut page);
        total += s.push(false, iteration_marker(true));
        total += queue_pages(&mut s, 3 * 4096, 2, true, &mut page);
        let pattern: Vec<u8> = (0..1u32 << 16).map(|i| (i * 7 + 3) as u8).collect();
        let mut out = Vec::new();
        while s.has(false) {
            s.take(false, 1460, &pattern, &mut out);
        }
        assert_eq!(out.len() as u64, total);
        let mut p = PayloadScan::new(false);
        p.segment(0, false, 0, out.len() as u32, &out);
        let Reader::Vmotion(r) = &p.dirs[0].reader else {
            panic!()
        };
        assert_eq!((r.iterations, r.last_marker, r.complete), (3, true, true));
        assert_eq!(r.pages, 613);
        assert_eq!(r.bundles, 5 + 1 + 1);
    }

    #[test]
    fn tls_pieces_are_records() {
        let h = client_hello([1; 32]);
        assert_eq!(&h[..3], &[22, 3, 1]);
        assert_eq!(u16::from_be_bytes([h[3], h[4]]) as usize, h.len() - 5);
        let s = server_hello([2; 32]);
        assert_eq!(u16::from_be_bytes([s[3], s[4]]) as usize, s.len() - 5);
        assert_eq!(change_cipher_finished(0).len(), 6 + 45);
        assert!(authd_banner(true).starts_with(b"220 VMware Authentication Daemon"));
        assert!(authd_banner(false).ends_with(b"\r\n"));
    }
}
