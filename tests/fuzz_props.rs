//! Property tests: the reader and the decoder never panic and always terminate, whatever the bytes.
//!
//! Inputs: arbitrary bytes; arbitrary bytes after a valid pcap header or pcapng SHB + IDB; valid
//! captures with random byte flips; arbitrary frames for every link type.

use proptest::prelude::*;
use vmkflow::capture::{CaptureError, CaptureReader};
use vmkflow::decode::decode;
use vmkflow::vocab::wire::LinkType;

/// The link types the decoder reads.
const LINK_TYPES: [u32; 10] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

fn u16b(v: u16, be: bool) -> [u8; 2] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

fn u32b(v: u32, be: bool) -> [u8; 4] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

fn pcap_header(be: bool, nanos: bool, link: u32) -> Vec<u8> {
    let magic: u32 = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut v = u32b(magic, be).to_vec();
    v.extend(u16b(2, be));
    v.extend(u16b(4, be));
    v.extend([0; 8]);
    v.extend(u32b(65535, be));
    v.extend(u32b(link, be));
    v
}

fn pcap_record(be: bool, ts: u32, data: &[u8]) -> Vec<u8> {
    let mut v = u32b(ts, be).to_vec();
    v.extend(u32b(ts / 3, be));
    v.extend(u32b(data.len() as u32, be));
    v.extend(u32b(data.len() as u32 + 4, be));
    v.extend_from_slice(data);
    v
}

fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    while b.len() % 4 != 0 {
        b.push(0);
    }
    let len = 12 + b.len() as u32;
    let mut v = u32b(btype, be).to_vec();
    v.extend(u32b(len, be));
    v.extend(b);
    v.extend(u32b(len, be));
    v
}

fn shb_idb(be: bool, link: u16) -> Vec<u8> {
    let mut body = u32b(0x1A2B_3C4D, be).to_vec();
    body.extend(u16b(1, be));
    body.extend(u16b(0, be));
    body.extend([0xff; 8]);
    let mut v = block(be, 0x0A0D_0D0A, &body);
    let mut idb = u16b(link, be).to_vec();
    idb.extend([0, 0]);
    idb.extend(u32b(0, be));
    // if_tsresol 1e-9, end of options.
    idb.extend(u16b(9, be));
    idb.extend(u16b(1, be));
    idb.extend([9, 0, 0, 0, 0, 0, 0, 0]);
    v.extend(block(be, 1, &idb));
    v
}

fn epb(be: bool, ts: u64, data: &[u8]) -> Vec<u8> {
    let mut body = u32b(0, be).to_vec();
    body.extend(u32b((ts >> 32) as u32, be));
    body.extend(u32b(ts as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend_from_slice(data);
    block(be, 6, &body)
}

/// Reads every frame and decodes it; checks the loop ends and frames stay inside the input.
fn read_and_decode(bytes: Vec<u8>) -> Result<usize, TestCaseError> {
    let len = bytes.len();
    let mut r = match CaptureReader::from_bytes("fuzz", bytes) {
        Ok(r) => r,
        Err(CaptureError::Empty { .. }) => {
            prop_assert_eq!(len, 0);
            return Ok(0);
        }
        Err(_) => return Ok(0),
    };
    let mut frames = 0usize;
    loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                frames += 1;
                // Every record takes at least 12 bytes, so a reader that loops is caught here.
                prop_assert!(frames <= len / 12, "{frames} frames from {len} bytes");
                prop_assert!(f.offset < len as u64);
                prop_assert!(f.data.len() <= len);
                let d = decode(f.link_type, f.data);
                prop_assert!(d.vlan_count as usize <= f.data.len());
            }
            Ok(None) => break,
            Err(e) => {
                // Errors carry an offset within the input.
                prop_assert!(e.offset().unwrap_or(0) <= len as u64, "{}", e);
                break;
            }
        }
    }
    prop_assert!(matches!(r.next_frame(), Ok(None)));
    let stats = r.into_stats();
    prop_assert!(stats.bytes_read <= len as u64);
    Ok(frames)
}

fn link_type() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => proptest::sample::select(LINK_TYPES.to_vec()),
        1 => any::<u32>(),
    ]
}

/// A valid capture (pcap or pcapng, either byte order) of up to six frames, and its frame count.
fn valid_capture() -> impl Strategy<Value = (Vec<u8>, usize)> {
    (
        any::<bool>(),
        any::<bool>(),
        link_type(),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..6),
    )
        .prop_map(|(ng, be, link, frames)| {
            if ng {
                let mut v = shb_idb(be, link as u16);
                for (i, f) in frames.iter().enumerate() {
                    v.extend(epb(be, 1_000_000_000 * i as u64, f));
                }
                (v, frames.len())
            } else {
                let mut v = pcap_header(be, link % 2 == 0, link);
                for (i, f) in frames.iter().enumerate() {
                    v.extend(pcap_record(be, i as u32, f));
                }
                (v, frames.len())
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn reader_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        read_and_decode(bytes)?;
    }

    #[test]
    fn reader_survives_garbage_after_pcap_header(
        be in any::<bool>(),
        nanos in any::<bool>(),
        link in link_type(),
        tail in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut v = pcap_header(be, nanos, link);
        v.extend(tail);
        read_and_decode(v)?;
    }

    #[test]
    fn reader_survives_garbage_after_pcapng_headers(
        be in any::<bool>(),
        link in link_type(),
        tail in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut v = shb_idb(be, link as u16);
        v.extend(tail);
        read_and_decode(v)?;
    }

    #[test]
    fn reader_survives_byte_flips(
        cap in valid_capture(),
        flips in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..6),
    ) {
        let mut v = cap.0;
        for (at, x) in flips {
            let i = at % v.len();
            v[i] ^= x;
        }
        read_and_decode(v)?;
    }

    #[test]
    fn valid_captures_read_back_every_frame((cap, n) in valid_capture()) {
        prop_assert_eq!(read_and_decode(cap.clone())?, n);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, &cap).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let gz = enc.finish().map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Frame offsets are in the decompressed stream, which may be longer than the gzip bytes.
        let mut r = CaptureReader::from_bytes("gz", gz).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut got = 0;
        while let Some(_f) = r.next_frame().map_err(|e| TestCaseError::fail(e.to_string()))? {
            got += 1;
        }
        prop_assert_eq!(got, n);
        prop_assert!(!r.stats().truncated);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn decode_survives_arbitrary_frames(
        link in link_type(),
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let d = decode(LinkType::from(link), &data);
        if !LinkType::from(link).is_supported() {
            prop_assert_eq!(d.error, Some(vmkflow::decode::Undecodable::UnknownLinkType));
        }
        // Payload lengths come from 16-bit length fields.
        prop_assert!(d.l4_payload_len() <= 65_535);
    }

    #[test]
    fn decode_survives_arbitrary_frames_every_link_type(
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        for lt in LINK_TYPES {
            let d = decode(LinkType::from(lt), &data);
            prop_assert!(d.vlan_count as usize <= data.len());
        }
    }

    #[test]
    fn decode_survives_plausible_ethernet_ip(
        et in proptest::sample::select(vec![0x0800u16, 0x86dd, 0x8100, 0x88a8, 0x0806, 0x8035]),
        ver_ihl in proptest::sample::select(vec![0x45u8, 0x46, 0x4f, 0x60, 0x44]),
        proto in proptest::sample::select(vec![6u8, 17, 47, 0, 43, 44, 60, 51, 1, 58]),
        tail in proptest::collection::vec(any::<u8>(), 0..160),
    ) {
        // Headers that get etherparse and our views past their first checks.
        let mut f = vec![0u8; 12];
        f.extend(et.to_be_bytes());
        f.push(ver_ihl);
        f.extend(tail.iter().take(8));
        f.push(proto);
        f.extend(tail.iter().skip(8));
        let d = decode(LinkType::Ethernet, &f);
        prop_assert!(d.vlan_count as usize <= f.len());
    }
}
