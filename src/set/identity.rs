//! A frame's identity across vantage points: the fields that stay the same when one frame is
//! seen at two places (the sender's vmk, the receiver's vmk, a mirror session), and none of those
//! that differ there (TTL, IP checksum, VLAN tag, outer encapsulation, capture length, time).

use std::hash::Hasher;
use std::net::IpAddr;

use rustc_hash::FxHasher;

use crate::decode::{Decoded, Transport};

/// Transport payload bytes compared besides the hashed header fields.
pub const HEAD_BYTES: usize = 8;

/// What identifies one IP datagram wherever it was captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// Hash of addresses, protocol, IPv4 identification, IP payload length, ports, TCP sequence
    /// and acknowledgement numbers, flags and window.
    pub key: u64,
    /// The first captured bytes of the transport payload (up to [`HEAD_BYTES`]).
    pub head: [u8; HEAD_BYTES],
    /// How many of `head` were captured.
    pub head_len: u8,
}

impl Identity {
    /// Whether two copies agree on the payload bytes both captured.
    pub fn same_payload(&self, other: &Identity) -> bool {
        let n = usize::from(self.head_len.min(other.head_len));
        self.head.get(..n) == other.head.get(..n)
    }
}

/// The identity of an IP frame; `None` when what was captured cannot tell it from another
/// frame: no IP header (ARP, undecodable), a TCP header cut before its sequence numbers, or,
/// without an IPv4 identification to go by (IPv6, or an identification of 0), anything but TCP
/// with fewer than [`HEAD_BYTES`] payload bytes captured.
pub fn identity(d: &Decoded, frame: &[u8]) -> Option<Identity> {
    let ip = d.ip.as_ref()?;
    let weak_ip = ip.ident == 0;
    // Fields are packed into words and fed to FxHash as integers: this runs for every frame.
    let mut h = FxHasher::default();
    match (ip.src, ip.dst) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            h.write_u64(u64::from(u32::from(a)) << 32 | u64::from(u32::from(b)))
        }
        (a, b) => {
            h.write_u128(bits(a));
            h.write_u128(bits(b));
        }
    }
    h.write_u64(
        u64::from(u8::from(ip.protocol)) << 56
            | u64::from(ip.ident) << 40
            | u64::from(ip.fragment as u8) << 32
            | u64::from(ip.payload_len),
    );
    let tcp = match d.transport {
        Transport::Tcp { fields, .. } => {
            let seq = fields.seq?;
            let ack = fields.ack?;
            h.write_u64(
                u64::from(fields.src_port) << 48
                    | u64::from(fields.dst_port) << 32
                    | u64::from(seq),
            );
            h.write_u64(
                u64::from(ack) << 32
                    | u64::from(fields.flags.unwrap_or(0)) << 16
                    | u64::from(fields.window.unwrap_or(0)),
            );
            true
        }
        Transport::Udp {
            src_port, dst_port, ..
        } => {
            h.write_u32(u32::from(src_port) << 16 | u32::from(dst_port));
            false
        }
        _ => false,
    };
    let mut head = [0u8; HEAD_BYTES];
    let mut head_len = 0u8;
    if d.payload_at != 0 {
        let avail = frame.get(d.payload_at..).unwrap_or(&[]);
        let n = avail.len().min(HEAD_BYTES).min(d.l4_payload_len() as usize);
        // Byte by byte: a call to memcpy for at most 8 bytes costs more.
        for (dst, src) in head.iter_mut().zip(avail).take(n) {
            *dst = *src;
        }
        head_len = n as u8;
    }
    if weak_ip && !tcp && usize::from(head_len) < HEAD_BYTES {
        return None;
    }
    Some(Identity {
        key: h.finish(),
        head,
        head_len,
    })
}

fn bits(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}
