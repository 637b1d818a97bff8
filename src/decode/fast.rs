//! The common case without etherparse: Ethernet II, at most one 802.1Q tag, an unfragmented IPv4
//! header with a consistent total length, and TCP or UDP.
//!
//! In: the bytes of an Ethernet frame. Out: the link and network fields of [`Decoded`] plus an
//! [`Ipv4Fast`] for the transport decoder, or `None` when the frame is anything else (then nothing
//! was written and the caller takes etherparse's `LaxSlicedPacket` path, which defines the
//! behaviour). Profiles of header-only captures showed a third of the time in building and moving
//! `LaxSlicedPacket`; this path reads the same fields with fixed offsets. `decode::tests` checks it
//! against the etherparse path on generated and mutated frames.

use std::net::{IpAddr, Ipv4Addr};

use super::views::ethernet::{field as eth, vlan_field as tag};
use super::views::ipv4::{self, field as ip4};
use super::{Decoded, Fragment, IpInfo};
use crate::vocab::Mac;
use crate::vocab::bytes::{array, be16};
use crate::vocab::wire::{EtherType, IpProtocol};

/// What the transport decoder needs after the fast path.
pub(super) struct Ipv4Fast<'a> {
    /// The IP layer, as the etherparse path would report it.
    pub ip: IpInfo,
    /// The captured IP payload, cut at the total length.
    pub payload: &'a [u8],
}

/// Reads an Ethernet frame carrying unfragmented IPv4 TCP/UDP; `None` (and `out` untouched) for
/// anything else.
#[inline]
pub(super) fn ethernet_ipv4<'a>(data: &'a [u8], out: &mut Decoded) -> Option<Ipv4Fast<'a>> {
    let mut et = EtherType::from(be16(data, eth::ETHERTYPE)?);
    let mut off = eth::HEADER_LEN;
    let mut vlan = None;
    if et == EtherType::Vlan {
        let tci = be16(data, off + tag::TCI)?;
        et = EtherType::from(be16(data, off + tag::ETHERTYPE)?);
        off += tag::TAG_LEN;
        vlan = Some(tci & tag::VID_MASK);
    }
    if et != EtherType::Ipv4 {
        return None;
    }
    let ip = data.get(off..)?;
    let ver_ihl = *ip.get(ip4::VER_IHL)?;
    let hdr_len = ((ver_ihl & 0x0f) as usize) * 4;
    if ver_ihl >> 4 != 4 || hdr_len < ip4::MIN_HEADER_LEN || ip.len() < hdr_len {
        return None;
    }
    let total = be16(ip, ip4::TOTAL_LEN)? as usize;
    let frag = be16(ip, ip4::FLAGS_FRAG)?;
    let protocol = IpProtocol::from(*ip.get(ip4::PROTOCOL)?);
    if total < hdr_len
        || frag & ipv4::FRAGMENT_MASK != 0
        || !matches!(protocol, IpProtocol::Tcp | IpProtocol::Udp)
    {
        return None;
    }
    let src: [u8; 4] = array(ip, ip4::SRC)?;
    let dst: [u8; 4] = array(ip, ip4::DST)?;
    let payload = ip.get(hdr_len..total.min(ip.len()))?;
    out.dst_mac = array(data, eth::DST).map(Mac);
    out.src_mac = array(data, eth::SRC).map(Mac);
    match vlan {
        Some(id) => {
            out.vlans = [id, 0];
            out.vlan_count = 1;
        }
        None => {
            out.vlans = [0, 0];
            out.vlan_count = 0;
        }
    }
    out.ether_type = Some(EtherType::Ipv4);
    let ip = IpInfo {
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        protocol,
        fragment: Fragment::None,
        ident: be16(ip, ip4::IDENT)?,
        payload_len: (total - hdr_len) as u32,
    };
    out.ip = Some(ip);
    Some(Ipv4Fast { ip, payload })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{decode, decode_lax};
    use crate::capture::{CaptureReader, Source};
    use crate::synth::{self, SynthConfig, frame::Encap};
    use crate::vocab::wire::LinkType;

    /// An Ethernet frame with the given tags, an IPv4 header and `l4` bytes after it.
    fn frame(
        tags: &[u16],
        ihl: u8,
        total: Option<u16>,
        frag: u16,
        proto: u8,
        l4: &[u8],
    ) -> Vec<u8> {
        let mut v = vec![0x00, 0x50, 0x56, 1, 2, 3, 0x00, 0x50, 0x56, 4, 5, 6];
        for (i, t) in tags.iter().enumerate() {
            v.extend(t.to_be_bytes());
            v.extend((((i as u16 + 1) * 10) | 0x2000).to_be_bytes());
        }
        v.extend(0x0800u16.to_be_bytes());
        let hdr_len = ihl as usize * 4;
        let total = total.unwrap_or((hdr_len.max(20) + l4.len()) as u16);
        let mut ip = vec![
            0x40 | ihl,
            0,
            0,
            0,
            0,
            1,
            0,
            0,
            64,
            proto,
            0,
            0,
            10,
            0,
            20,
            11,
            10,
            0,
            20,
            12,
        ];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip.resize(hdr_len.max(20), 1);
        v.extend(ip);
        v.extend(l4);
        v
    }

    fn l4(proto: u8, dport: u16, data_off: u8, payload: usize) -> Vec<u8> {
        let mut v = vec![0x1f, 0x40];
        v.extend(dport.to_be_bytes());
        if proto == 17 {
            v.extend(((8 + payload) as u16).to_be_bytes());
            v.extend([0, 0]);
        } else {
            v.extend([
                0,
                0,
                0,
                1,
                0,
                0,
                0,
                2,
                data_off << 4,
                0x18,
                0xff,
                0xff,
                0,
                0,
                0,
                0,
            ]);
        }
        v.resize(v.len() + payload, 0xab);
        v
    }

    fn same(f: &[u8]) {
        for cut in [f.len(), 96, 64, 54, 40, 34, 30, 20, 14, 10] {
            let f = &f[..cut.min(f.len())];
            assert_eq!(
                decode(LinkType::Ethernet, f),
                decode_lax(LinkType::Ethernet, f),
                "frame {f:02x?}"
            );
        }
    }

    #[test]
    fn fast_path_matches_etherparse_on_crafted_frames() {
        for tags in [
            &[][..],
            &[0x8100],
            &[0x88a8],
            &[0x8100, 0x8100],
            &[0x88a8, 0x8100],
        ] {
            for (ihl, total) in [
                (5, None),
                (6, None),
                (4, None),
                (5, Some(0)),
                (5, Some(10)),
                (5, Some(1400)),
                (5, Some(30)),
            ] {
                for frag in [0, 0x4000, 0x2000, 0x0010] {
                    for proto in [6, 17, 1, 47, 51] {
                        for dport in [902, 4789] {
                            for off in [5, 8, 3, 15] {
                                same(&frame(
                                    tags,
                                    ihl,
                                    total,
                                    frag,
                                    proto,
                                    &l4(proto, dport, off, 40),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn fast_path_matches_etherparse_on_mutated_frames(
            vlan in any::<bool>(),
            proto in prop::sample::select(vec![6u8, 17, 47]),
            payload in 0usize..64,
            muts in prop::collection::vec((0usize..90, any::<u8>()), 0..4),
            cut in 0usize..120,
        ) {
            let tags: &[u16] = if vlan { &[0x8100] } else { &[] };
            let mut f = frame(tags, 5, None, 0, proto, &l4(proto, 8000, 5, payload));
            for (i, b) in muts {
                if let Some(x) = f.get_mut(i) {
                    *x = b;
                }
            }
            f.truncate(cut.max(10));
            prop_assert_eq!(decode(LinkType::Ethernet, &f), decode_lax(LinkType::Ethernet, &f));
        }
    }

    /// Every frame of small generated captures (plain, VLAN, header-only, mirrored) decodes the
    /// same both ways.
    #[test]
    fn fast_path_matches_etherparse_on_generated_captures() {
        let dir = std::env::temp_dir().join(format!("vmkflow-fast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            (false, Encap::None, None, false),
            (true, Encap::None, Some(96), false),
            (true, Encap::Erspan3, None, false),
            (false, Encap::Erspan2, Some(128), false),
            (true, Encap::Gre, Some(80), true),
        ];
        for (i, (vlan, encap, snaplen, ipv6)) in cases.into_iter().enumerate() {
            let out = dir.join(format!("c{i}.pcap"));
            let cfg = SynthConfig {
                out: out.clone(),
                memory_mb: 1,
                disk_mb: 1,
                vlan,
                encap,
                snaplen,
                ipv6,
                noise: 2,
                ..SynthConfig::default()
            };
            synth::generate(&cfg).unwrap();
            let mut r = CaptureReader::open(&Source::Path(out)).unwrap();
            let mut n = 0;
            while let Some(f) = r.next_frame().unwrap() {
                assert_eq!(decode(f.link_type, f.data), decode_lax(f.link_type, f.data));
                n += 1;
            }
            assert!(n > 100);
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
