//! A frame's identity across vantage points: the fields that stay the same when one frame is
//! seen at two places (the sender's vmk, the receiver's vmk, a mirror session), and none of those
//! that differ there (TTL, IP checksum, VLAN tag, outer encapsulation, capture length, time).

use std::hash::{Hash, Hasher};

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
    let mut h = FxHasher::default();
    ip.src.hash(&mut h);
    ip.dst.hash(&mut h);
    u8::from(ip.protocol).hash(&mut h);
    ip.ident.hash(&mut h);
    ip.payload_len.hash(&mut h);
    (ip.fragment as u8).hash(&mut h);
    match d.transport {
        Transport::Tcp { fields, .. } => {
            fields.seq?;
            fields.ack?;
            fields.src_port.hash(&mut h);
            fields.dst_port.hash(&mut h);
            fields.seq.hash(&mut h);
            fields.ack.hash(&mut h);
            fields.flags.hash(&mut h);
            fields.window.hash(&mut h);
        }
        Transport::Udp {
            src_port, dst_port, ..
        } => {
            src_port.hash(&mut h);
            dst_port.hash(&mut h);
        }
        _ => {}
    }
    let mut head = [0u8; HEAD_BYTES];
    let mut head_len = 0u8;
    if d.payload_at != 0 {
        let avail = frame.get(d.payload_at..).unwrap_or(&[]);
        let n = avail.len().min(HEAD_BYTES).min(d.l4_payload_len() as usize);
        if let (Some(dst), Some(src)) = (head.get_mut(..n), avail.get(..n)) {
            dst.copy_from_slice(src);
            head_len = n as u8;
        }
    }
    let tcp = matches!(d.transport, Transport::Tcp { .. });
    if weak_ip && !tcp && usize::from(head_len) < HEAD_BYTES {
        return None;
    }
    Some(Identity {
        key: h.finish(),
        head,
        head_len,
    })
}
