//! Reader tests over captures built byte by byte: pcap in four flavours, pcapng with several
//! sections, interfaces and time bases, every packet block layout, truncation and corruption.

use std::io::{self, Read, Write};

use super::*;
use crate::vocab::wire::LinkType;

/// A frame copied out of the reader, so a test can look at all of them after the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owned {
    ts_ns: Option<i64>,
    interface: u32,
    link_type: LinkType,
    data: Vec<u8>,
    orig_len: u32,
    offset: u64,
}

fn drain(r: &mut CaptureReader) -> Result<Vec<Owned>, CaptureError> {
    let mut out = Vec::new();
    while let Some(f) = r.next_frame()? {
        out.push(Owned {
            ts_ns: f.ts_ns,
            interface: f.interface,
            link_type: f.link_type,
            data: f.data.to_vec(),
            orig_len: f.orig_len,
            offset: f.offset,
        });
    }
    Ok(out)
}

fn read_all(bytes: Vec<u8>) -> (Vec<Owned>, CaptureStats) {
    let mut r = CaptureReader::from_bytes("t", bytes).expect("header");
    let frames = drain(&mut r).expect("frames");
    (frames, r.into_stats())
}

fn open_err(bytes: Vec<u8>) -> CaptureError {
    match CaptureReader::from_bytes("t", bytes) {
        Ok(_) => panic!("header accepted"),
        Err(e) => e,
    }
}

/// Reads until the first error, which the test expects.
fn frames_then_err(bytes: Vec<u8>) -> (Vec<Owned>, CaptureError) {
    let mut r = CaptureReader::from_bytes("t", bytes).expect("header");
    let mut out = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => out.push(Owned {
                ts_ns: f.ts_ns,
                interface: f.interface,
                link_type: f.link_type,
                data: f.data.to_vec(),
                orig_len: f.orig_len,
                offset: f.offset,
            }),
            Ok(None) => panic!("no error after {} frames", out.len()),
            Err(e) => return (out, e),
        }
    }
}

fn u16b(v: u16, be: bool) -> [u8; 2] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

fn u32b(v: u32, be: bool) -> [u8; 4] {
    if be { v.to_be_bytes() } else { v.to_le_bytes() }
}

// ---- pcap ----

fn pcap_header(be: bool, nanos: bool, snaplen: u32, link: u32) -> Vec<u8> {
    let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut v = Vec::new();
    v.extend(u32b(magic, be));
    v.extend(u16b(2, be));
    v.extend(u16b(4, be));
    v.extend(u32b(0, be));
    v.extend(u32b(0, be));
    v.extend(u32b(snaplen, be));
    v.extend(u32b(link, be));
    v
}

fn pcap_record(be: bool, sec: u32, frac: u32, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(u32b(sec, be));
    v.extend(u32b(frac, be));
    v.extend(u32b(data.len() as u32, be));
    v.extend(u32b(orig_len, be));
    v.extend_from_slice(data);
    v
}

/// A pcap file with three records: full, sliced and empty.
fn pcap_file(be: bool, nanos: bool) -> Vec<u8> {
    let mut v = pcap_header(be, nanos, 96, 1);
    v.extend(pcap_record(be, 1_700_000_000, 123_456, &[1, 2, 3, 4], 4));
    v.extend(pcap_record(be, 1_700_000_001, 999_999, &[5; 10], 1514));
    v.extend(pcap_record(be, 0, 0, &[], 60));
    v
}

fn check_pcap(be: bool, nanos: bool) {
    let (frames, stats) = read_all(pcap_file(be, nanos));
    let scale = if nanos { 1 } else { 1000 };
    assert_eq!(frames.len(), 3);
    assert_eq!(
        frames[0],
        Owned {
            ts_ns: Some(1_700_000_000_000_000_000 + 123_456 * scale),
            interface: 0,
            link_type: LinkType::Ethernet,
            data: vec![1, 2, 3, 4],
            orig_len: 4,
            offset: 24,
        }
    );
    assert_eq!(
        frames[1].ts_ns,
        Some(1_700_000_001_000_000_000 + 999_999 * scale)
    );
    assert_eq!(frames[1].data, vec![5; 10]);
    assert_eq!(frames[1].orig_len, 1514);
    assert_eq!(frames[1].offset, 24 + 20);
    assert_eq!(frames[2].ts_ns, Some(0));
    assert!(frames[2].data.is_empty());
    assert_eq!(frames[2].orig_len, 60);
    assert_eq!(frames[2].offset, 24 + 20 + 26);
    assert_eq!(stats.format, Format::Pcap);
    assert_eq!(
        stats.ts_precision,
        if nanos { "nanosecond" } else { "microsecond" }
    );
    assert_eq!(stats.interfaces.len(), 1);
    assert_eq!(stats.interfaces[0].link_type, LinkType::Ethernet);
    assert_eq!(stats.interfaces[0].snaplen, 96);
    assert_eq!(
        stats.interfaces[0].ts_resolution,
        if nanos { "1e-9" } else { "1e-6" }
    );
    assert_eq!(stats.bytes_read, 24 + 20 + 26 + 16);
    assert!(!stats.truncated);
    assert!(!stats.gzip);
}

#[test]
fn pcap_micro_le() {
    check_pcap(false, false);
}

#[test]
fn pcap_micro_be() {
    check_pcap(true, false);
}

#[test]
fn pcap_nano_le() {
    check_pcap(false, true);
}

#[test]
fn pcap_nano_be() {
    check_pcap(true, true);
}

#[test]
fn pcap_link_type_upper_bits_are_fcs_info() {
    // Bits above 16 carry the FCS length; the link type is in the low 16 bits.
    let mut v = pcap_header(false, false, 65535, 0x1000_0000 | 113);
    v.extend(pcap_record(false, 1, 0, &[0; 16], 16));
    let (frames, stats) = read_all(v);
    assert_eq!(frames[0].link_type, LinkType::LinuxSll);
    assert_eq!(stats.interfaces[0].link_type, LinkType::LinuxSll);
}

#[test]
fn pcap_truncated_record_ends_with_flag() {
    let full = pcap_file(false, false);
    // Cut inside the second record's data (it starts at 44, data at 60).
    let cut = full[..64].to_vec();
    let (frames, stats) = read_all(cut);
    assert_eq!(frames.len(), 1);
    assert!(stats.truncated);
    assert_eq!(
        stats.truncated_at,
        Some(TruncatedAt {
            offset: 44,
            needed: 26,
            available: 20
        })
    );
    // Cut inside the second record's header.
    let (frames, stats) = read_all(full[..50].to_vec());
    assert_eq!(frames.len(), 1);
    assert_eq!(
        stats.truncated_at,
        Some(TruncatedAt {
            offset: 44,
            needed: 16,
            available: 6
        })
    );
}

#[test]
fn pcap_cut_inside_file_header_is_a_truncated_capture() {
    let full = pcap_file(false, false);
    for n in [4, 10, 23] {
        let mut r = CaptureReader::from_bytes("cut", full[..n].to_vec())
            .unwrap_or_else(|e| panic!("{n}: {e}"));
        assert!(r.next_frame().unwrap().is_none(), "{n}");
        let st = r.stats();
        assert!(st.truncated, "{n}");
        let t = st.truncated_at.as_ref().unwrap();
        assert_eq!((t.offset, t.needed, t.available), (0, 24, n as u64), "{n}");
    }
}

#[test]
fn pcap_huge_caplen_is_corrupt_not_allocated() {
    let mut v = pcap_header(false, false, 65535, 1);
    v.extend(pcap_record(false, 1, 0, &[1, 2], 2));
    let rec = v.len() as u64;
    let mut bad = pcap_record(false, 2, 0, &[], 60);
    bad[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    v.extend(bad);
    v.extend([0; 32]);
    let (frames, e) = frames_then_err(v);
    assert_eq!(frames.len(), 1);
    match e {
        CaptureError::Corrupt { offset, what, .. } => {
            assert_eq!(offset, rec + 8, "{what}");
            assert!(what.contains("4294967280"), "{what}");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn pcap_bad_version_is_corrupt() {
    let mut v = pcap_header(false, false, 65535, 1);
    v[4] = 3;
    match open_err(v) {
        CaptureError::Corrupt { offset, what, .. } => {
            assert_eq!(offset, 4);
            assert!(what.contains("3.4"), "{what}");
        }
        e => panic!("{e}"),
    }
}

// ---- pcapng ----

fn pad4(v: &mut Vec<u8>) {
    while v.len() % 4 != 0 {
        v.push(0);
    }
}

fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let mut b = body.to_vec();
    pad4(&mut b);
    let len = 12 + b.len() as u32;
    let mut v = Vec::new();
    v.extend(u32b(btype, be));
    v.extend(u32b(len, be));
    v.extend(b);
    v.extend(u32b(len, be));
    v
}

fn shb(be: bool) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(0x1A2B_3C4D, be));
    body.extend(u16b(1, be));
    body.extend(u16b(0, be));
    body.extend(if be {
        (-1i64).to_be_bytes()
    } else {
        (-1i64).to_le_bytes()
    });
    block(be, 0x0A0D_0D0A, &body)
}

fn options(be: bool, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut v = Vec::new();
    for (code, val) in opts {
        v.extend(u16b(*code, be));
        v.extend(u16b(val.len() as u16, be));
        v.extend(val);
        pad4(&mut v);
    }
    if !opts.is_empty() {
        v.extend([0; 4]);
    }
    v
}

fn idb(be: bool, link: u16, snaplen: u32, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(link, be));
    body.extend(u16b(0, be));
    body.extend(u32b(snaplen, be));
    body.extend(options(be, opts));
    block(be, 1, &body)
}

fn tsresol(b: u8) -> (u16, Vec<u8>) {
    (9, vec![b])
}

fn tsoffset(s: i64, be: bool) -> (u16, Vec<u8>) {
    let b = if be { s.to_be_bytes() } else { s.to_le_bytes() };
    (14, b.to_vec())
}

fn epb(be: bool, if_id: u32, ts: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(if_id, be));
    body.extend(u32b((ts >> 32) as u32, be));
    body.extend(u32b(ts as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend(u32b(orig_len, be));
    body.extend_from_slice(data);
    block(be, 6, &body)
}

fn opb(be: bool, if_id: u16, drops: u16, ts: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u16b(if_id, be));
    body.extend(u16b(drops, be));
    body.extend(u32b((ts >> 32) as u32, be));
    body.extend(u32b(ts as u32, be));
    body.extend(u32b(data.len() as u32, be));
    body.extend(u32b(orig_len, be));
    body.extend_from_slice(data);
    block(be, 2, &body)
}

fn spb(be: bool, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(u32b(orig_len, be));
    body.extend_from_slice(data);
    block(be, 3, &body)
}

/// Two sections, LE then BE, with two interfaces each and different time bases.
fn two_sections() -> Vec<u8> {
    let mut v = shb(false);
    v.extend(idb(false, 1, 65535, &[(2, b"vmk10".to_vec())]));
    v.extend(idb(false, 113, 128, &[tsresol(9)]));
    v.extend(epb(false, 1, 1_700_000_000_123_456_789, &[0xaa; 5], 70));
    v.extend(epb(false, 0, 1_700_000_000_000_001, &[0xbb; 3], 3));
    v.extend(shb(true));
    v.extend(idb(true, 276, 0, &[tsresol(3), tsoffset(-100, true)]));
    v.extend(idb(
        true,
        101,
        1500,
        &[tsresol(0x80 | 20), tsoffset(1_000, true)],
    ));
    v.extend(epb(true, 0, 1_700_000_000_123, &[0xcc; 8], 8));
    v.extend(epb(true, 1, 3 << 20 | 1 << 19, &[0xdd; 4], 4));
    v
}

#[test]
fn pcapng_two_sections_interfaces_and_time_bases() {
    let bytes = two_sections();
    let (frames, stats) = read_all(bytes.clone());
    assert_eq!(frames.len(), 4);
    // Section 0, LE: interface 1 at 1e-9, interface 0 at the default 1e-6.
    assert_eq!(frames[0].ts_ns, Some(1_700_000_000_123_456_789));
    assert_eq!(
        (frames[0].interface, frames[0].link_type),
        (1, LinkType::LinuxSll)
    );
    assert_eq!(frames[0].data, vec![0xaa; 5]);
    assert_eq!(frames[0].orig_len, 70);
    assert_eq!(frames[1].ts_ns, Some(1_700_000_000_000_001_000));
    assert_eq!(
        (frames[1].interface, frames[1].link_type),
        (0, LinkType::Ethernet)
    );
    // Section 1, BE: 1e-3 with offset -100 s; 2^-20 with offset +1000 s.
    assert_eq!(frames[2].ts_ns, Some(1_699_999_900_123_000_000));
    assert_eq!(
        (frames[2].interface, frames[2].link_type),
        (2, LinkType::LinuxSll2)
    );
    assert_eq!(frames[2].data, vec![0xcc; 8]);
    assert_eq!(frames[3].ts_ns, Some(1_003_500_000_000));
    assert_eq!(
        (frames[3].interface, frames[3].link_type),
        (3, LinkType::Raw)
    );
    assert_eq!(stats.format, Format::Pcapng);
    assert_eq!(stats.sections, 2);
    let ifs: Vec<_> = stats
        .interfaces
        .iter()
        .map(|i| {
            (
                i.id,
                i.section,
                i.index_in_section,
                u32::from(i.link_type),
                i.snaplen,
                i.ts_resolution.as_str(),
                i.ts_offset_s,
            )
        })
        .collect();
    assert_eq!(
        ifs,
        vec![
            (0, 0, 0, 1, 65535, "1e-6", 0),
            (1, 0, 1, 113, 128, "1e-9", 0),
            (2, 1, 0, 276, 0, "1e-3", -100),
            (3, 1, 1, 101, 1500, "2^-20", 1000),
        ]
    );
    assert_eq!(stats.interfaces[0].name.as_deref(), Some("vmk10"));
    assert_eq!(stats.interfaces[1].name, None);
    assert_eq!(stats.bytes_read, bytes.len() as u64);
    assert!(!stats.truncated);
}

#[test]
fn pcapng_be_first_then_le_tsoffset_positive_and_negative() {
    let mut v = shb(true);
    v.extend(idb(true, 1, 0, &[tsresol(9), tsoffset(5, true)]));
    v.extend(epb(true, 0, 7, &[1], 1));
    v.extend(shb(false));
    v.extend(idb(false, 1, 0, &[tsresol(0x80 | 20), tsoffset(-2, false)]));
    // 2^-20 s units: 1 << 20 is one second; one unit truncates to 953 ns.
    v.extend(epb(false, 0, (5 << 20) + 1, &[2], 1));
    v.extend(idb(false, 1, 0, &[tsoffset(42, false)]));
    v.extend(epb(false, 1, 1_500_000, &[3], 1));
    let (frames, stats) = read_all(v);
    let ts: Vec<_> = frames.iter().map(|f| (f.ts_ns, f.interface)).collect();
    assert_eq!(
        ts,
        vec![
            (Some(5_000_000_007), 0),
            (Some(3_000_000_953), 1),
            (Some(43_500_000_000), 2)
        ]
    );
    assert_eq!(stats.interfaces[2].index_in_section, 1);
    assert_eq!(stats.interfaces[2].section, 1);
}

#[test]
fn pcapng_simple_and_obsolete_packet_blocks() {
    for be in [false, true] {
        let mut v = shb(be);
        v.extend(idb(be, 1, 6, &[tsresol(9)]));
        let spb_at = v.len() as u64;
        // orig 10, 8 data bytes in the block, snaplen 6: 6 captured.
        v.extend(spb(be, 10, &[1, 2, 3, 4, 5, 6, 7, 8]));
        // orig 3 with padding: 3 captured.
        v.extend(spb(be, 3, &[9, 9, 9, 0]));
        v.extend(opb(be, 0, 17, 1_234, &[7, 7], 60));
        let (frames, stats) = read_all(v);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[0].ts_ns, None);
        assert_eq!(frames[0].data, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(frames[0].orig_len, 10);
        assert_eq!(frames[0].offset, spb_at);
        assert_eq!(frames[1].data, vec![9, 9, 9]);
        assert_eq!(frames[1].orig_len, 3);
        assert_eq!(frames[2].ts_ns, Some(1_234));
        assert_eq!(frames[2].data, vec![7, 7]);
        assert_eq!(frames[2].orig_len, 60);
        assert_eq!(frames[2].interface, 0);
        assert_eq!(stats.records_with_unknown_interface, 0);
    }
}

#[test]
fn pcapng_simple_block_unlimited_snaplen_uses_block_data() {
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, &[]));
    // orig_len 100 but only 4 bytes in the block.
    v.extend(spb(false, 100, &[1, 2, 3, 4]));
    let (frames, _) = read_all(v);
    assert_eq!(frames[0].data, vec![1, 2, 3, 4]);
    assert_eq!(frames[0].orig_len, 100);
}

#[test]
fn pcapng_non_packet_blocks_are_skipped_and_counted() {
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, &[]));
    v.extend(block(false, 4, &[0; 4])); // NRB with only the end record
    v.extend(block(false, 5, &[0; 12])); // ISB
    v.extend(block(false, 0x0BAD, &[1, 2, 3, 4, 5])); // custom, copiable
    v.extend(block(false, 0x4000_0BAD, &[1, 2, 3, 4])); // custom, non-copiable
    v.extend(block(false, 0x0000_0A0A, &[])); // unknown
    v.extend(block(false, 0x0000_000A, &[0; 8])); // DSB
    v.extend(block(false, 0x0000_0009, b"x")); // systemd journal
    v.extend(block(false, 0x8000_0001, &[0; 4])); // process information
    v.extend(epb(false, 0, 1, &[1], 1));
    v.extend(epb(false, 5, 1, &[2], 1)); // interface 5 was never declared
    v.extend(opb(false, 9, 0, 1, &[3], 1));
    v.extend(epb(false, 0, 2, &[4], 1));
    let (frames, stats) = read_all(v);
    assert_eq!(
        frames.iter().map(|f| f.data[0]).collect::<Vec<_>>(),
        vec![1, 4]
    );
    assert_eq!(
        stats.skipped_blocks,
        SkippedBlocks {
            name_resolution: 1,
            interface_statistics: 1,
            custom: 2,
            decryption_secrets: 1,
            systemd_journal: 1,
            process_information: 1,
            unknown: 1,
        }
    );
    assert_eq!(stats.records_with_unknown_interface, 2);
}

#[test]
fn pcapng_interfaces_reset_per_section() {
    // An EPB in section 2 naming interface 1, which only section 1 declared.
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, &[]));
    v.extend(idb(false, 1, 0, &[]));
    v.extend(shb(false));
    v.extend(idb(false, 101, 0, &[]));
    v.extend(epb(false, 1, 1, &[1], 1));
    v.extend(epb(false, 0, 1, &[2], 1));
    let (frames, stats) = read_all(v);
    assert_eq!(frames.len(), 1);
    assert_eq!(
        (frames[0].interface, frames[0].link_type),
        (2, LinkType::Raw)
    );
    assert_eq!(stats.records_with_unknown_interface, 1);
}

#[test]
fn pcapng_truncated_block_ends_with_flag() {
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, &[]));
    v.extend(epb(false, 0, 1, &[1; 4], 4));
    let second = v.len();
    v.extend(epb(false, 0, 2, &[2; 40], 40));
    for cut in [second + 3, second + 20, v.len() - 1] {
        let (frames, stats) = read_all(v[..cut].to_vec());
        assert_eq!(frames.len(), 1, "cut {cut}");
        assert!(stats.truncated);
        let t = stats.truncated_at.expect("where");
        assert_eq!(t.offset, second as u64, "cut {cut}");
        assert_eq!(t.available, (cut - second) as u64);
        assert_eq!(t.needed, if cut - second < 12 { 12 } else { 72 });
    }
}

/// Replaces the leading total length of the block at `at`.
fn set_len(v: &mut [u8], at: usize, len: u32) {
    v[at + 4..at + 8].copy_from_slice(&len.to_le_bytes());
}

fn corrupt_offset(bytes: Vec<u8>) -> (usize, u64, String) {
    let (frames, e) = frames_then_err(bytes);
    match e {
        CaptureError::Corrupt { offset, what, .. } => (frames.len(), offset, what),
        e => panic!("{e}"),
    }
}

#[test]
fn pcapng_corrupt_lengths_report_offsets() {
    let mut base = shb(false);
    base.extend(idb(false, 1, 0, &[]));
    base.extend(epb(false, 0, 1, &[1; 4], 4));
    let at = base.len();
    let mut good = base.clone();
    good.extend(epb(false, 0, 2, &[2; 8], 8));
    good.extend([0; 64]);

    for (len, needle) in [
        (45u32, "not a multiple of 4"),
        (8, "not a multiple of 4"),
        (0, "not a multiple of 4"),
        (64 << 20 | 4, "above the 64 MiB limit"),
        (u32::MAX - 3, "above the 64 MiB limit"),
    ] {
        let mut v = good.clone();
        set_len(&mut v, at, len);
        let (n, offset, what) = corrupt_offset(v);
        assert_eq!(n, 1, "{len}");
        assert_eq!(offset, at as u64 + 4, "{len}: {what}");
        assert!(what.contains(needle), "{len}: {what}");
    }

    // The leading length says 40, the trailer 44.
    let mut v = good.clone();
    let blen = 12 + 20 + 8;
    v[at + blen - 4..at + blen].copy_from_slice(&44u32.to_le_bytes());
    let (n, offset, what) = corrupt_offset(v);
    assert_eq!(n, 1);
    assert_eq!(offset, (at + blen - 4) as u64, "{what}");
    assert!(what.contains("trailing length 44"), "{what}");

    // An EPB whose captured length exceeds the block.
    let mut v = good.clone();
    v[at + 20..at + 24].copy_from_slice(&9u32.to_le_bytes());
    let (n, offset, what) = corrupt_offset(v);
    assert_eq!(n, 1);
    assert_eq!(offset, at as u64, "{what}");
    let mut v = good;
    v[at + 20..at + 24].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let (_, offset, _) = corrupt_offset(v);
    assert_eq!(offset, at as u64);
}

#[test]
fn pcapng_header_blocks_pcap_parser_rejects_are_explained() {
    // An interface description block of 16 bytes: its fixed fields need 20.
    let mut v = shb(false);
    let at = v.len();
    v.extend(block(false, 1, &[1, 0, 0, 0]));
    let (n, offset, what) = corrupt_offset(v);
    assert_eq!((n, offset), (0, at as u64));
    assert_eq!(
        what,
        "unreadable interface description block: it has 16 bytes, 4 fewer than its fixed fields need"
    );
    // A section header block of 24 bytes: its fixed fields need 28.
    let mut v = shb(false);
    v.truncate(20);
    v.extend(u32b(24, false));
    set_len(&mut v, 0, 24);
    match open_err(v) {
        CaptureError::Corrupt { offset, what, .. } => {
            assert_eq!(offset, 0);
            assert_eq!(
                what,
                "unreadable section header block: it has 24 bytes, 4 fewer than its fixed fields need"
            );
        }
        e => panic!("{e}"),
    }
    // A failed check names the byte it looked at.
    use pcap_parser::nom::{Err, error::ErrorKind};
    let input = [0u8; 8];
    let e = Err::Error(pcap_parser::PcapError::NomError(
        &input[4..],
        ErrorKind::Verify,
    ));
    assert_eq!(
        parse_failure(&e, &input),
        "its type or length fields do not match (checked at byte 4 of its 8)"
    );
}

#[test]
fn pcapng_bad_first_block() {
    // Wrong byte-order magic.
    let mut v = shb(false);
    v[8] = 0x4e;
    match open_err(v) {
        CaptureError::Corrupt { offset, .. } => assert_eq!(offset, 8),
        e => panic!("{e}"),
    }
    // SHB cut short: a truncated capture with no packet, not an error.
    let v = shb(false);
    let mut r = CaptureReader::from_bytes("cut", v[..20].to_vec()).unwrap();
    assert!(r.next_frame().unwrap().is_none());
    assert!(r.stats().truncated);
    assert_eq!(r.stats().truncated_at.as_ref().unwrap().offset, 0);
    // Version 2.0.
    let mut v = shb(true);
    v[12..14].copy_from_slice(&2u16.to_be_bytes());
    match open_err(v) {
        CaptureError::Corrupt { offset, what, .. } => {
            assert_eq!(offset, 0);
            assert!(what.contains("2.0"), "{what}");
        }
        e => panic!("{e}"),
    }
}

// ---- input ----

#[test]
fn empty_input() {
    match open_err(Vec::new()) {
        CaptureError::Empty { file } => assert_eq!(file, "t"),
        e => panic!("{e}"),
    }
}

#[test]
fn garbage_is_not_a_capture() {
    let e = open_err(b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec());
    let msg = e.to_string();
    match &e {
        CaptureError::NotACapture { first_bytes, .. } => {
            assert_eq!(first_bytes.as_slice(), b"GET / HTTP/1.1\r\n")
        }
        e => panic!("{e}"),
    }
    assert!(msg.contains("47 45 54 20 2f"), "{msg}");
    assert_eq!(e.offset(), Some(0));
    // Shorter than a magic.
    match open_err(vec![0xd4, 0xc3]) {
        CaptureError::NotACapture { first_bytes, .. } => assert_eq!(first_bytes, vec![0xd4, 0xc3]),
        e => panic!("{e}"),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

#[test]
fn gzip_input_is_read_transparently() {
    for plain in [pcap_file(true, true), two_sections()] {
        let (want, _) = read_all(plain.clone());
        let (got, stats) = read_all(gzip(&plain));
        assert_eq!(got, want);
        assert!(stats.gzip);
        assert_eq!(stats.bytes_read, plain.len() as u64);
    }
    // A truncated gzip stream is a truncated capture, not a silent end (nor an I/O error).
    let gz = gzip(&pcap_file(false, false));
    let mut r = CaptureReader::from_bytes("t", gz[..gz.len() - 12].to_vec()).expect("header");
    assert!(drain(&mut r).is_ok());
    assert!(r.stats().truncated);
    assert!(r.stats().truncated_at.is_some());
}

/// A reader that returns 1 to 7 bytes per call, cycling.
struct Dribble {
    data: Vec<u8>,
    pos: usize,
    calls: usize,
}

impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        let step = 1 + self.calls % 7;
        let n = step.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn short_reads_yield_the_same_frames() {
    let mut ng = two_sections();
    ng.extend(block(true, 4, &[0; 4]));
    ng.extend(spb(true, 3, &[1, 2, 3]));
    for bytes in [pcap_file(false, true), pcap_file(true, false), ng] {
        let (want, want_stats) = read_all(bytes.clone());
        let win = Window::with_capacity(
            Box::new(Dribble {
                data: bytes,
                pos: 0,
                calls: 0,
            }),
            64,
        );
        let mut r =
            CaptureReader::from_reader("t".into(), win, Compression::None, None).expect("header");
        let got = drain(&mut r).expect("frames");
        assert_eq!(got, want);
        assert_eq!(r.into_stats(), want_stats);
    }
}

#[test]
fn frames_larger_than_the_initial_window() {
    let big: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
    let mut v = shb(false);
    v.extend(idb(false, 1, 0, &[]));
    v.extend(epb(false, 0, 1, &big, 5000));
    v.extend(epb(false, 0, 2, &[1], 1));
    let win = Window::with_capacity(
        Box::new(Dribble {
            data: v,
            pos: 0,
            calls: 0,
        }),
        64,
    );
    let mut r =
        CaptureReader::from_reader("t".into(), win, Compression::None, None).expect("header");
    let got = drain(&mut r).expect("frames");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].data, big);
    assert_eq!(got[1].data, vec![1]);
}

#[test]
fn pcap_modified_format_has_24_byte_record_headers() {
    let mut v = pcap_header(false, false, 65535, 1);
    v[..4].copy_from_slice(&0xa1b2_cd34u32.to_le_bytes());
    let mut rec = pcap_record(false, 3, 5, &[], 2);
    rec[8..12].copy_from_slice(&2u32.to_le_bytes());
    rec.extend([0xee; 8]); // ifindex, protocol, pkt_type, pad
    rec.extend([0x11, 0x22]);
    v.extend(rec);
    let (frames, stats) = read_all(v);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data, vec![0x11, 0x22]);
    assert_eq!(frames[0].ts_ns, Some(3_000_005_000));
    assert_eq!(stats.bytes_read, 24 + 26);
}

#[test]
fn pcap_modified_format_big_endian() {
    let mut v = pcap_header(true, false, 65535, 1);
    v[..4].copy_from_slice(&0xa1b2_cd34u32.to_be_bytes());
    let mut rec = pcap_record(true, 3, 5, &[], 2);
    rec[8..12].copy_from_slice(&2u32.to_be_bytes());
    rec.extend([0xee; 8]);
    rec.extend([0x11, 0x22]);
    v.extend(rec);
    let (frames, _) = read_all(v);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].data, vec![0x11, 0x22]);
    assert_eq!(frames[0].ts_ns, Some(3_000_005_000));
}

#[test]
fn pcapng_if_name_ignores_option_padding() {
    let mut v = shb(false);
    let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0];
    body.extend([2, 0, 5, 0]);
    body.extend(b"vmk10\xff\xff\xff");
    body.extend([0; 4]);
    v.extend(block(false, 1, &body));
    let (_, stats) = read_all(v);
    assert_eq!(stats.interfaces[0].name.as_deref(), Some("vmk10"));
}
