//! VMware vCenter agent heartbeat (UDP 902, vpxa on the host → vCenter).
//!
//! No specification is public. The layout is the one Wireshark's `vmware_hb` dissector reads
//! (`epan/dissectors/packet-vmware-hb.c`, Alexis La Goutte 2023, reverse-engineered):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4, little-endian | magic |
//! | 4 | 4, little-endian | ESXi build number |
//! | 8 | 4, little-endian | server id |
//! | 12 | 1 | host key length `k` |
//! | 13 | `k`, ASCII | host key |
//! | 13+k | 4 × 4, little-endian | change gen, spec gen, bundle version, heartbeat counter |
//! | 29+k | 1 | IPv4 address length `a` |
//! | 30+k | `a`, ASCII | the host's IPv4 address as text |
//! | 30+k+a | rest | verification signature |
//!
//! Wireshark checks no field; this view is stricter, so that random bytes on UDP 902 are not
//! taken for a heartbeat: the host key must be printable ASCII and the address field must parse
//! as an IPv4 address. The magic is reported, not checked (payloads have been seen to start with
//! `0xA4`; no other value is documented).

use std::net::Ipv4Addr;

use crate::vocab::bytes::{Order, u32_at};

/// Field offsets (those after the host key are relative to its end).
pub mod field {
    /// Magic; little-endian u32.
    pub const MAGIC: usize = 0;
    /// ESXi build number; little-endian u32.
    pub const BUILD: usize = 4;
    /// Server id; little-endian u32.
    pub const SERVER_ID: usize = 8;
    /// Host key length; u8.
    pub const HOST_KEY_LEN: usize = 12;
    /// Host key; ASCII.
    pub const HOST_KEY: usize = 13;
    /// After the host key: change gen, spec gen, bundle version (i32 each), counter (u32).
    pub const AFTER_KEY_FIXED: usize = 16;
    /// Heartbeat counter, relative to the host key's end; little-endian u32.
    pub const COUNTER: usize = 12;
}

/// A decoded heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat<'a> {
    /// The first four bytes, little-endian.
    pub magic: u32,
    /// ESXi build number.
    pub build: u32,
    /// Server id.
    pub server_id: u32,
    /// Host key (printable ASCII).
    pub host_key: &'a str,
    /// Heartbeat counter.
    pub counter: u32,
    /// The host's IPv4 address, as the heartbeat states it.
    pub address: Ipv4Addr,
}

impl<'a> Heartbeat<'a> {
    /// Decodes a UDP 902 payload; `None` when it does not have the heartbeat's shape.
    pub fn parse(d: &'a [u8]) -> Option<Heartbeat<'a>> {
        let le = |i| u32_at(d, i, Order::Little);
        let magic = le(field::MAGIC)?;
        let build = le(field::BUILD)?;
        let server_id = le(field::SERVER_ID)?;
        let k = usize::from(*d.get(field::HOST_KEY_LEN)?);
        let key_end = field::HOST_KEY.checked_add(k)?;
        let key = d.get(field::HOST_KEY..key_end)?;
        if !key.iter().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let host_key = std::str::from_utf8(key).ok()?;
        let counter = le(key_end + field::COUNTER)?;
        let alen_at = key_end + field::AFTER_KEY_FIXED;
        let a = usize::from(*d.get(alen_at)?);
        if !(7..=15).contains(&a) {
            return None;
        }
        let addr = d.get(alen_at + 1..alen_at + 1 + a)?;
        let address = std::str::from_utf8(addr).ok()?.parse::<Ipv4Addr>().ok()?;
        Some(Heartbeat {
            magic,
            build,
            server_id,
            host_key,
            counter,
            address,
        })
    }

    /// Writes a heartbeat of this layout (for the synthesizer and tests): `signature` bytes
    /// follow the address.
    pub fn write(&self, change_gen: i32, signature: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(&self.magic.to_le_bytes());
        out.extend_from_slice(&self.build.to_le_bytes());
        out.extend_from_slice(&self.server_id.to_le_bytes());
        let key = self.host_key.as_bytes();
        let key = key.get(..key.len().min(255)).unwrap_or(&[]);
        out.push(key.len() as u8);
        out.extend_from_slice(key);
        out.extend_from_slice(&change_gen.to_le_bytes());
        out.extend_from_slice(&change_gen.to_le_bytes());
        out.extend_from_slice(&1i32.to_le_bytes());
        out.extend_from_slice(&self.counter.to_le_bytes());
        let a = self.address.to_string();
        out.push(a.len() as u8);
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(signature);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Heartbeat<'static> {
        Heartbeat {
            magic: 0x0000_00a4,
            build: 21_495_797,
            server_id: 7,
            host_key: "52a1b2c3-d4e5",
            counter: 42,
            address: Ipv4Addr::new(10, 0, 10, 11),
        }
    }

    #[test]
    fn round_trip_and_every_cut_is_refused_or_whole() {
        let hb = sample();
        let mut b = Vec::new();
        hb.write(3, &[0xee; 20], &mut b);
        assert_eq!(Heartbeat::parse(&b), Some(hb.clone()));
        // The signature is not needed; anything shorter than the address is refused.
        let addr_end = b.len() - 20;
        for n in 0..b.len() {
            let p = Heartbeat::parse(&b[..n]);
            assert_eq!(p.is_some(), n >= addr_end, "cut at {n}");
        }
    }

    #[test]
    fn random_bytes_are_not_a_heartbeat() {
        // What synth's noise sends by default: 66 bytes starting 0xA4.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut hits = 0;
        for _ in 0..2000 {
            let mut b = [0u8; 66];
            for v in &mut b {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *v = x as u8;
            }
            b[0] = 0xa4;
            hits += usize::from(Heartbeat::parse(&b).is_some());
        }
        assert_eq!(hits, 0);
        let mut bad = Vec::new();
        Heartbeat {
            host_key: "a b",
            ..sample()
        }
        .write(0, &[], &mut bad);
        assert_eq!(Heartbeat::parse(&bad), None, "a space in the key");
    }
}
