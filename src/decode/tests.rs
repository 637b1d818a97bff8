//! Decoder tests over frames built byte by byte: every link type, VLAN tags, tunnels, IPv6
//! extension headers, fragments, header-only captures, ARP/RARP, and the statistics counters.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::views::TcpFields;
use super::*;
use crate::vocab::Mac;
use crate::vocab::wire::{EtherType, IpProtocol, LinkType};

const MAC_A: Mac = Mac([0x00, 0x50, 0x56, 0x01, 0x02, 0x03]);
const MAC_B: Mac = Mac([0x00, 0x50, 0x56, 0x0a, 0x0b, 0x0c]);
const MAC_C: Mac = Mac([0x02, 0x00, 0x00, 0x00, 0x00, 0x01]);
const MAC_D: Mac = Mac([0x02, 0x00, 0x00, 0x00, 0x00, 0x02]);
const V4_A: [u8; 4] = [10, 0, 0, 1];
const V4_B: [u8; 4] = [10, 0, 0, 2];
const V4_C: [u8; 4] = [192, 168, 1, 10];
const V4_D: [u8; 4] = [192, 168, 1, 20];

fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    a
}

fn ip4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn ip6(a: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(a))
}

fn eth(et: u16, payload: &[u8]) -> Vec<u8> {
    eth_macs(MAC_B, MAC_A, et, payload)
}

fn eth_macs(dst: Mac, src: Mac, et: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(dst.0);
    v.extend(src.0);
    v.extend(et.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// A VLAN tag (TCI with priority 5 to check the id is masked) followed by its EtherType.
fn vlan(id: u16, et: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend((0xa000 | id).to_be_bytes());
    v.extend(et.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// IPv4 with `opts` (a multiple of 4 bytes) and a flags/fragment-offset field.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, opts: &[u8], frag: u16, payload: &[u8]) -> Vec<u8> {
    let hl = 20 + opts.len();
    let mut v = vec![0x40 | (hl / 4) as u8, 0];
    v.extend(((hl + payload.len()) as u16).to_be_bytes());
    v.extend([0x12, 0x34]);
    v.extend(frag.to_be_bytes());
    v.extend([64, proto, 0, 0]);
    v.extend(src);
    v.extend(dst);
    v.extend_from_slice(opts);
    v.extend_from_slice(payload);
    v
}

fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend((payload.len() as u16).to_be_bytes());
    v.extend([next, 64]);
    v.extend(src);
    v.extend(dst);
    v.extend_from_slice(payload);
    v
}

/// TCP with `opts` (a multiple of 4 bytes), seq 1000, ack 2000, window 0x1234.
fn tcp(sport: u16, dport: u16, opts: &[u8], flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(sport.to_be_bytes());
    v.extend(dport.to_be_bytes());
    v.extend(1000u32.to_be_bytes());
    v.extend(2000u32.to_be_bytes());
    v.push((((20 + opts.len()) / 4) as u8) << 4);
    v.push(flags);
    v.extend(0x1234u16.to_be_bytes());
    v.extend([0, 0, 0, 0]);
    v.extend_from_slice(opts);
    v.extend_from_slice(payload);
    v
}

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(sport.to_be_bytes());
    v.extend(dport.to_be_bytes());
    v.extend(((8 + payload.len()) as u16).to_be_bytes());
    v.extend([0, 0]);
    v.extend_from_slice(payload);
    v
}

/// An inner Ethernet/IPv4/TCP frame, as mirrored traffic: 192.168.1.10:8000 → .20:902, 33 bytes.
fn inner_frame() -> Vec<u8> {
    eth_macs(
        MAC_D,
        MAC_C,
        0x0800,
        &ipv4(V4_C, V4_D, 6, &[], 0, &tcp(8000, 902, &[], 0x18, &[7; 33])),
    )
}

fn assert_inner(d: &Decoded) {
    assert_eq!(d.src_mac, Some(MAC_C));
    assert_eq!(d.dst_mac, Some(MAC_D));
    let ip = d.ip.expect("inner ip");
    assert_eq!((ip.src, ip.dst), (ip4(V4_C), ip4(V4_D)));
    assert_eq!(ip.payload_len, 53);
    match d.transport {
        Transport::Tcp {
            fields,
            payload_len,
        } => {
            assert_eq!((fields.src_port, fields.dst_port), (8000, 902));
            assert_eq!(payload_len, Some(33));
        }
        t => panic!("{t:?}"),
    }
    assert_eq!(d.error, None);
}

fn tcp_of(d: &Decoded) -> (TcpFields, Option<u32>) {
    match d.transport {
        Transport::Tcp {
            fields,
            payload_len,
        } => (fields, payload_len),
        t => panic!("not tcp: {t:?}"),
    }
}

fn udp_of(d: &Decoded) -> (u16, u16, u32) {
    match d.transport {
        Transport::Udp {
            src_port,
            dst_port,
            payload_len,
        } => (src_port, dst_port, payload_len),
        t => panic!("not udp: {t:?}"),
    }
}

#[test]
fn ethernet_ipv4_tcp_with_options() {
    let ip_opts = [1, 1, 1, 0]; // NOP NOP NOP EOL
    let tcp_opts = [2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]; // MSS, NOPs, TS
    let f = eth(
        0x0800,
        &ipv4(
            V4_A,
            V4_B,
            6,
            &ip_opts,
            0x4000,
            &tcp(49152, 8000, &tcp_opts, 0x10, &[9; 100]),
        ),
    );
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.src_mac, Some(MAC_A));
    assert_eq!(d.dst_mac, Some(MAC_B));
    assert_eq!(d.ether_type, Some(EtherType::Ipv4));
    assert_eq!((d.vlan_count, d.vlan()), (0, None));
    assert_eq!(d.tunnel, None);
    assert_eq!(
        d.ip,
        Some(IpInfo {
            src: ip4(V4_A),
            dst: ip4(V4_B),
            protocol: IpProtocol::Tcp,
            fragment: Fragment::None,
            ident: 0x1234,
            payload_len: 136,
        })
    );
    let (fields, payload_len) = tcp_of(&d);
    assert_eq!(
        fields,
        TcpFields {
            src_port: 49152,
            dst_port: 8000,
            seq: Some(1000),
            ack: Some(2000),
            header_len: Some(36),
            flags: Some(0x10),
            window: Some(0x1234),
            mss: None,
        }
    );
    assert_eq!(payload_len, Some(100));
    assert_eq!(d.l4_payload_len(), 100);
    assert_eq!(d.error, None);
}

#[test]
fn ethernet_padding_is_not_payload() {
    // A 40-byte IPv4 packet padded to the 60-byte Ethernet minimum.
    let mut f = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(1, 2, &[], 0x10, &[])),
    );
    f.extend([0; 6]);
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.ip.expect("ip").payload_len, 20);
    assert_eq!(tcp_of(&d).1, Some(0));
}

#[test]
fn vlan_8021q() {
    let f = eth(
        0x8100,
        &vlan(
            100,
            0x0800,
            &ipv4(V4_A, V4_B, 17, &[], 0, &udp(5353, 53, &[1; 12])),
        ),
    );
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.vlans, [100, 0]);
    assert_eq!(d.vlan_count, 1);
    assert_eq!(d.vlan(), Some(100));
    assert_eq!(d.ether_type, Some(EtherType::Ipv4));
    assert_eq!(udp_of(&d), (5353, 53, 12));
    assert_eq!(d.error, None);
}

#[test]
fn vlan_qinq() {
    let f = eth(
        0x88a8,
        &vlan(
            200,
            0x8100,
            &vlan(
                3000,
                0x0800,
                &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(1, 2, &[], 2, &[])),
            ),
        ),
    );
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.vlans, [200, 3000]);
    assert_eq!(d.vlan_count, 2);
    assert_eq!(d.vlan(), Some(200));
    assert_eq!(tcp_of(&d).0.flags, Some(2));
}

#[test]
fn vlan_header_cut_short() {
    let f = eth(0x8100, &[0x00, 0x64]);
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.ip, None);
    assert_eq!(d.error, Some(Undecodable::TruncatedLinkHeader));
}

fn sll(proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, 0, 6];
    v.extend(MAC_A.0);
    v.extend([0, 0]);
    v.extend(proto.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn sll2(proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(proto.to_be_bytes());
    v.extend([0, 0]);
    v.extend(7u32.to_be_bytes());
    v.extend([0, 1, 0, 6]);
    v.extend(MAC_B.0);
    v.extend([0, 0]);
    v.extend_from_slice(payload);
    v
}

#[test]
fn linux_cooked_v1_and_v2() {
    let p4 = ipv4(V4_A, V4_B, 6, &[], 0, &tcp(10, 20, &[], 0x10, &[0; 5]));
    let p6 = ipv6(v6(1), v6(2), 17, &udp(30, 40, &[0; 7]));
    let d = decode(LinkType::LinuxSll, &sll(0x0800, &p4));
    assert_eq!(d.src_mac, Some(MAC_A));
    assert_eq!(d.ip.expect("ip").src, ip4(V4_A));
    assert_eq!(tcp_of(&d).1, Some(5));
    let d = decode(LinkType::LinuxSll, &sll(0x86dd, &p6));
    assert_eq!(d.ip.expect("ip").dst, ip6(v6(2)));
    assert_eq!(udp_of(&d), (30, 40, 7));
    let d = decode(LinkType::LinuxSll2, &sll2(0x86dd, &p6));
    assert_eq!(d.src_mac, Some(MAC_B));
    assert_eq!(d.ip.expect("ip").src, ip6(v6(1)));
    assert_eq!(udp_of(&d), (30, 40, 7));
    let d = decode(LinkType::LinuxSll2, &sll2(0x0800, &p4));
    assert_eq!(tcp_of(&d).0.dst_port, 20);
    assert_eq!(d.error, None);
    for (lt, len) in [(LinkType::LinuxSll, 15), (LinkType::LinuxSll2, 19)] {
        assert_eq!(
            decode(lt, &sll2(0x0800, &p4)[..len]).error,
            Some(Undecodable::TruncatedLinkHeader)
        );
    }
}

#[test]
fn raw_ip_link_types() {
    let p4 = ipv4(V4_A, V4_B, 17, &[], 0, &udp(1, 2, &[0; 3]));
    let p6 = ipv6(v6(1), v6(2), 6, &tcp(3, 4, &[], 0x02, &[]));
    for lt in [LinkType::Raw, LinkType::RawBsd12, LinkType::RawBsd14] {
        let d = decode(lt, &p4);
        assert_eq!(udp_of(&d), (1, 2, 3), "{lt:?}");
        assert_eq!(d.src_mac, None);
        let d = decode(lt, &p6);
        assert_eq!(tcp_of(&d).0.src_port, 3, "{lt:?}");
        assert_eq!(d.ip.expect("ip").payload_len, 20);
        assert_eq!(
            decode(lt, &[0x50; 30]).error,
            Some(Undecodable::BadIpHeader)
        );
        assert_eq!(decode(lt, &[]).error, Some(Undecodable::TruncatedIpHeader));
    }
    assert_eq!(udp_of(&decode(LinkType::Ipv4, &p4)), (1, 2, 3));
    assert_eq!(tcp_of(&decode(LinkType::Ipv6, &p6)).0.dst_port, 4);
    // An IPv4 header cut at 12 bytes.
    assert_eq!(
        decode(LinkType::Ipv4, &p4[..12]).error,
        Some(Undecodable::TruncatedIpHeader)
    );
}

#[test]
fn null_and_loop() {
    let p4 = ipv4(V4_A, V4_B, 1, &[], 0, &[8, 0, 0, 0]);
    let p6 = ipv6(v6(1), v6(2), 58, &[128, 0, 0, 0]);
    let with = |fam: [u8; 4], p: &[u8]| {
        let mut v = fam.to_vec();
        v.extend_from_slice(p);
        v
    };
    let d = decode(LinkType::Null, &with([2, 0, 0, 0], &p4));
    assert_eq!(d.ip.expect("ip").src, ip4(V4_A));
    assert_eq!(d.transport, Transport::Icmp { too_big: None });
    let d = decode(LinkType::Null, &with([0, 0, 0, 30], &p6));
    assert_eq!(d.ip.expect("ip").src, ip6(v6(1)));
    assert_eq!(d.transport, Transport::Icmp { too_big: None });
    let d = decode(LinkType::Loop, &with([0, 0, 0, 2], &p4));
    assert_eq!(d.ip.expect("ip").dst, ip4(V4_B));
    let d = decode(LinkType::Loop, &with([0, 0, 0, 24], &p6));
    assert_eq!(d.ip.expect("ip").dst, ip6(v6(2)));
    assert_eq!(
        decode(LinkType::Null, &with([7, 0, 0, 0], &p4)).error,
        Some(Undecodable::UnknownNullFamily)
    );
    assert_eq!(
        decode(LinkType::Loop, &[0, 0]).error,
        Some(Undecodable::TruncatedLinkHeader)
    );
}

fn gre_hdr(flags: u8, proto: u16, extra: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, 0];
    v.extend(proto.to_be_bytes());
    v.extend_from_slice(extra);
    v.extend_from_slice(payload);
    v
}

fn outer(gre: &[u8]) -> Vec<u8> {
    eth(0x0800, &ipv4(V4_A, V4_B, 47, &[], 0, gre))
}

#[test]
fn gre_transparent_ethernet() {
    let f = outer(&gre_hdr(0x20, 0x6558, &77u32.to_be_bytes(), &inner_frame()));
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(
        d.tunnel,
        Some(Tunnel {
            kind: TunnelKind::Gre,
            outer_src: ip4(V4_A),
            outer_dst: ip4(V4_B),
            id: 77,
        })
    );
    assert_inner(&d);
    // GRE carrying IPv4 directly.
    let ip = ipv4(V4_C, V4_D, 17, &[], 0, &udp(1, 2, &[0; 4]));
    let d = decode(LinkType::Ethernet, &outer(&gre_hdr(0, 0x0800, &[], &ip)));
    assert_eq!(d.tunnel.expect("tunnel").id, 0);
    assert_eq!(d.src_mac, None);
    assert_eq!(udp_of(&d), (1, 2, 4));
    // GRE version 1 (PPTP) is not followed.
    let mut g = gre_hdr(0, 0x880b, &[], &[0; 8]);
    g[1] = 1;
    let d = decode(LinkType::Ethernet, &outer(&g));
    assert_eq!(d.error, Some(Undecodable::BadTunnelHeader));
    assert_eq!(d.transport, Transport::Other(IpProtocol::Gre));
}

#[test]
fn erspan_type2() {
    // Version 1, VLAN 5; COS 7 and T bits set around session id 341.
    let mut hdr = vec![0x10, 0x05, 0xe1, 0x55];
    hdr.extend([0, 0, 0, 0]);
    hdr.extend(inner_frame());
    let f = outer(&gre_hdr(0x10, 0x88be, &9u32.to_be_bytes(), &hdr));
    let d = decode(LinkType::Ethernet, &f);
    let t = d.tunnel.expect("tunnel");
    assert_eq!((t.kind, t.id), (TunnelKind::Erspan2, 341));
    assert_eq!((t.outer_src, t.outer_dst), (ip4(V4_A), ip4(V4_B)));
    assert_inner(&d);
    // Type I: no sequence number, no ERSPAN header.
    let f = outer(&gre_hdr(0, 0x88be, &[], &inner_frame()));
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.tunnel.expect("tunnel").kind, TunnelKind::Erspan2);
    assert_inner(&d);
    // A header cut short.
    let f = outer(&gre_hdr(0x10, 0x88be, &9u32.to_be_bytes(), &[0x10, 0, 0]));
    assert_eq!(
        decode(LinkType::Ethernet, &f).error,
        Some(Undecodable::BadTunnelHeader)
    );
}

#[test]
fn erspan_type3() {
    let mut hdr = vec![0x20, 0x00, 0x03, 0xff];
    hdr.extend([0; 8]);
    hdr.extend(inner_frame());
    let f = outer(&gre_hdr(0x10, 0x22eb, &1u32.to_be_bytes(), &hdr));
    let d = decode(LinkType::Ethernet, &f);
    let t = d.tunnel.expect("tunnel");
    assert_eq!((t.kind, t.id), (TunnelKind::Erspan3, 1023));
    assert_inner(&d);
    // With the O flag: an 8-byte platform subheader follows.
    let mut hdr = vec![0x20, 0x00, 0x00, 0x2a, 0, 0, 0, 0, 0, 0, 0, 0x01];
    hdr.extend([0xff; 8]);
    hdr.extend(inner_frame());
    let f = outer(&gre_hdr(0x10, 0x22eb, &1u32.to_be_bytes(), &hdr));
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.tunnel.expect("tunnel").id, 42);
    assert_inner(&d);
}

fn vxlan(vni: u32, inner: &[u8]) -> Vec<u8> {
    let mut v = vec![0x08, 0, 0, 0];
    v.extend((vni << 8).to_be_bytes());
    v.extend_from_slice(inner);
    v
}

#[test]
fn vxlan_tunnel() {
    let f = eth(
        0x0800,
        &ipv4(
            V4_A,
            V4_B,
            17,
            &[],
            0,
            &udp(54321, 4789, &vxlan(0x12_3456, &inner_frame())),
        ),
    );
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(
        d.tunnel,
        Some(Tunnel {
            kind: TunnelKind::Vxlan,
            outer_src: ip4(V4_A),
            outer_dst: ip4(V4_B),
            id: 0x12_3456,
        })
    );
    assert_inner(&d);
    // Without the I flag it stays plain UDP.
    let mut x = vxlan(5, &inner_frame());
    x[0] = 0;
    let f = eth(0x0800, &ipv4(V4_A, V4_B, 17, &[], 0, &udp(1, 4789, &x)));
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.tunnel, None);
    assert_eq!(udp_of(&d), (1, 4789, x.len() as u32));
}

#[test]
fn tunnel_inside_tunnel_is_too_deep() {
    let vx = eth(
        0x0800,
        &ipv4(
            V4_C,
            V4_D,
            17,
            &[],
            0,
            &udp(1, 4789, &vxlan(1, &inner_frame())),
        ),
    );
    let f = outer(&gre_hdr(0, 0x6558, &[], &vx));
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.tunnel.expect("tunnel").kind, TunnelKind::Gre);
    assert_eq!(d.error, Some(Undecodable::TunnelTooDeep));
}

#[test]
fn ipv6_extension_headers_before_tcp() {
    let seg = tcp(8000, 49152, &[], 0x18, &[1; 40]);
    let mut exts = vec![60, 0, 1, 4, 0, 0, 0, 0]; // hop-by-hop: PadN, next dest-opts
    exts.extend([6, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // dest-opts, 16 bytes
    exts.extend(&seg);
    let f = eth(0x86dd, &ipv6(v6(1), v6(2), 0, &exts));
    let d = decode(LinkType::Ethernet, &f);
    let ip = d.ip.expect("ip");
    assert_eq!(ip.protocol, IpProtocol::Tcp);
    assert_eq!(ip.payload_len, 60);
    assert_eq!(ip.fragment, Fragment::None);
    assert_eq!((ip.src, ip.dst), (ip6(v6(1)), ip6(v6(2))));
    assert_eq!(tcp_of(&d).1, Some(40));
    assert_eq!(tcp_of(&d).0.src_port, 8000);
    assert_eq!(d.error, None);
    // The destination options header cut short.
    let f = eth(0x86dd, &ipv6(v6(1), v6(2), 0, &exts[..12]));
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.error, Some(Undecodable::BadIpv6Extension));
    assert_eq!(d.transport, Transport::None);
    // The same cut by the snap length rather than the payload length field.
    let f = eth(0x86dd, &ipv6(v6(1), v6(2), 0, &exts));
    let d = decode(LinkType::Ethernet, &f[..14 + 40 + 12]);
    assert_eq!(d.error, Some(Undecodable::BadIpv6Extension));
}

#[test]
fn ipv4_fragments() {
    let seg = tcp(902, 33000, &[], 0x10, &[3; 1000]);
    // First fragment: MF, offset 0, carries 504 bytes of the segment.
    let first = eth(0x0800, &ipv4(V4_A, V4_B, 6, &[], 0x2000, &seg[..504]));
    let d = decode(LinkType::Ethernet, &first);
    let ip = d.ip.expect("ip");
    assert_eq!(ip.fragment, Fragment::First);
    assert_eq!(ip.payload_len, 504);
    let (fields, payload_len) = tcp_of(&d);
    assert_eq!((fields.src_port, fields.dst_port), (902, 33000));
    assert_eq!(payload_len, Some(484));
    // Last fragment: offset 63 * 8.
    let later = eth(0x0800, &ipv4(V4_A, V4_B, 6, &[], 63, &seg[504..]));
    let d = decode(LinkType::Ethernet, &later);
    let ip = d.ip.expect("ip");
    assert_eq!(ip.fragment, Fragment::Later);
    assert_eq!(ip.payload_len, 516);
    assert_eq!(d.transport, Transport::None);
    assert_eq!(d.error, None);
    // A UDP first fragment takes the datagram length from the UDP header.
    let dg = udp(1, 2, &[0; 3000]);
    let d = decode(
        LinkType::Ethernet,
        &eth(0x0800, &ipv4(V4_A, V4_B, 17, &[], 0x2000, &dg[..1480])),
    );
    assert_eq!(udp_of(&d), (1, 2, 3000));
}

#[test]
fn ipv6_fragment_header() {
    let dg = udp(4000, 5000, &[0; 2000]);
    let frag = |off: u16, more: bool, body: &[u8]| {
        let mut v = vec![17, 0];
        v.extend(((off << 3) | more as u16).to_be_bytes());
        v.extend(0xdead_beefu32.to_be_bytes());
        v.extend_from_slice(body);
        eth(0x86dd, &ipv6(v6(1), v6(2), 44, &v))
    };
    let d = decode(LinkType::Ethernet, &frag(0, true, &dg[..1448]));
    let ip = d.ip.expect("ip");
    assert_eq!(ip.fragment, Fragment::First);
    assert_eq!(ip.protocol, IpProtocol::Udp);
    assert_eq!(ip.payload_len, 1448);
    assert_eq!(udp_of(&d), (4000, 5000, 2000));
    let d = decode(LinkType::Ethernet, &frag(181, false, &dg[1448..]));
    let ip = d.ip.expect("ip");
    assert_eq!(ip.fragment, Fragment::Later);
    assert_eq!(ip.payload_len, 2008 - 1448);
    assert_eq!(d.transport, Transport::None);
}

#[test]
fn header_only_tcp_keeps_the_payload_length() {
    let f = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(8000, 1, &[], 0x18, &[0; 1400])),
    );
    for snap in [64, 96] {
        let d = decode(LinkType::Ethernet, &f[..snap]);
        assert_eq!(d.ip.expect("ip").payload_len, 1420, "{snap}");
        assert_eq!(tcp_of(&d).1, Some(1400), "{snap}");
        assert_eq!(d.error, None);
        let mut s = DecodeStats::default();
        s.add(&d, snap as u32, f.len() as u32);
        assert_eq!((s.sliced, s.tcp_payload_bytes), (1, 1400));
    }
    // IPv6 too.
    let f = eth(
        0x86dd,
        &ipv6(v6(1), v6(2), 6, &tcp(1, 2, &[], 0x10, &[0; 8000])),
    );
    let d = decode(LinkType::Ethernet, &f[..96]);
    assert_eq!(tcp_of(&d).1, Some(8000));
}

#[test]
fn header_cut_inside_tcp() {
    let f = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(8000, 2, &[], 0x18, &[0; 100])),
    );
    let d = decode(LinkType::Ethernet, &f[..14 + 20 + 12]);
    let (fields, payload_len) = tcp_of(&d);
    assert_eq!((fields.src_port, fields.dst_port), (8000, 2));
    assert_eq!(fields.ack, Some(2000));
    assert_eq!(fields.header_len, None);
    assert_eq!(payload_len, None);
    assert_eq!(d.l4_payload_len(), 0);
    // Only three bytes of TCP: no ports.
    let d = decode(LinkType::Ethernet, &f[..14 + 20 + 3]);
    assert_eq!(d.transport, Transport::None);
    assert_eq!(d.error, Some(Undecodable::TruncatedTransportHeader));
    // A data offset of 4 words.
    let mut bad = f.clone();
    bad[14 + 20 + 12] = 0x40;
    let d = decode(LinkType::Ethernet, &bad);
    assert_eq!(d.error, Some(Undecodable::BadTcpHeader));
    assert_eq!(tcp_of(&d).1, None);
}

fn arp_body(op: u16, sender: Mac) -> Vec<u8> {
    let mut v = vec![0, 1, 8, 0, 6, 4];
    v.extend(op.to_be_bytes());
    v.extend(sender.0);
    v.extend(V4_A);
    v.extend([0; 6]);
    v.extend(V4_B);
    v
}

#[test]
fn arp_and_rarp() {
    let d = decode(LinkType::Ethernet, &eth(0x0806, &arp_body(1, MAC_C)));
    assert_eq!(
        d.arp,
        Some(ArpInfo {
            rarp: false,
            operation: 1,
            sender_mac: Some(MAC_C),
        })
    );
    assert_eq!(d.ether_type, Some(EtherType::Arp));
    assert_eq!(d.error, None);
    let d = decode(LinkType::Ethernet, &eth(0x8035, &arp_body(3, MAC_D)));
    assert_eq!(
        d.arp,
        Some(ArpInfo {
            rarp: true,
            operation: 3,
            sender_mac: Some(MAC_D),
        })
    );
    assert_eq!(d.error, None);
    let d = decode(LinkType::Ethernet, &eth(0x8035, &arp_body(3, MAC_D)[..20]));
    assert_eq!((d.arp, d.error), (None, Some(Undecodable::TruncatedArp)));
    let d = decode(LinkType::Ethernet, &eth(0x0806, &arp_body(1, MAC_D)[..20]));
    assert_eq!((d.arp, d.error), (None, Some(Undecodable::TruncatedArp)));
}

#[test]
fn unknown_and_truncated_links() {
    let f = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(1, 2, &[], 0, &[])),
    );
    assert_eq!(
        decode(LinkType::from(147), &f).error,
        Some(Undecodable::UnknownLinkType)
    );
    assert_eq!(decode(LinkType::from(147), &f).ip, None);
    assert!(!LinkType::from(147).is_supported());
    let d = decode(LinkType::Ethernet, &f[..13]);
    assert_eq!(
        (d.src_mac, d.error),
        (None, Some(Undecodable::TruncatedLinkHeader))
    );
    // LLDP: not IP, not an error.
    let d = decode(LinkType::Ethernet, &eth(0x88cc, &[0; 30]));
    assert_eq!(d.ether_type, Some(EtherType::Lldp));
    assert_eq!((d.ip, d.arp, d.error), (None, None, None));
    assert_eq!(d.transport, Transport::None);
    assert_eq!(d.src_mac, Some(MAC_A));
    // Ethernet claiming IPv4 with a truncated header.
    let d = decode(LinkType::Ethernet, &f[..14 + 10]);
    assert_eq!(d.error, Some(Undecodable::TruncatedIpHeader));
    // An IPv4 total length below the header length.
    let mut bad = f.clone();
    bad[16..18].copy_from_slice(&12u16.to_be_bytes());
    let d = decode(LinkType::Ethernet, &bad);
    assert_eq!(d.ip.expect("ip").payload_len, 0);
    assert_eq!(d.transport, Transport::None);
    assert_eq!(d.error, Some(Undecodable::BadIpHeader));
}

#[test]
fn stats_count_layers() {
    let tcp_frame = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(1, 2, &[], 0, &[0; 10])),
    );
    let frames: Vec<(u32, Vec<u8>, u32)> = vec![
        (1, tcp_frame.clone(), 0),
        (
            1,
            eth(
                0x8100,
                &vlan(
                    7,
                    0x0800,
                    &ipv4(V4_A, V4_B, 17, &[], 0, &udp(1, 2, &[0; 5])),
                ),
            ),
            0,
        ),
        (
            1,
            eth(
                0x88a8,
                &vlan(
                    1,
                    0x8100,
                    &vlan(2, 0x86dd, &ipv6(v6(1), v6(2), 58, &[0; 8])),
                ),
            ),
            0,
        ),
        (1, outer(&gre_hdr(0, 0x6558, &[], &inner_frame())), 0),
        (
            1,
            outer(&gre_hdr(
                0x10,
                0x88be,
                &[0; 4],
                &[&[0x10, 0, 0, 1, 0, 0, 0, 0][..], &inner_frame()].concat(),
            )),
            0,
        ),
        (
            1,
            outer(&gre_hdr(
                0x10,
                0x22eb,
                &[0; 4],
                &[&[0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0][..], &inner_frame()].concat(),
            )),
            0,
        ),
        (
            1,
            eth(
                0x0800,
                &ipv4(
                    V4_A,
                    V4_B,
                    17,
                    &[],
                    0,
                    &udp(1, 4789, &vxlan(3, &inner_frame())),
                ),
            ),
            0,
        ),
        (
            1,
            eth(
                0x0800,
                &ipv4(V4_A, V4_B, 6, &[], 0x2000, &tcp(1, 2, &[], 0, &[0; 8])),
            ),
            0,
        ),
        (1, eth(0x0800, &ipv4(V4_A, V4_B, 6, &[], 10, &[0; 8])), 0),
        (1, eth(0x0806, &arp_body(1, MAC_A)), 0),
        (1, eth(0x8035, &arp_body(3, MAC_A)), 0),
        (1, eth(0x88cc, &[0; 20]), 0),
        (1, tcp_frame[..60].to_vec(), 0),
        (1, tcp_frame[..20].to_vec(), 0),
        (999, tcp_frame.clone(), 0),
        (1, eth(0x0800, &ipv4(V4_A, V4_B, 89, &[], 0, &[0; 4])), 0),
        (1, tcp_frame[..40].to_vec(), 64),
    ];
    let mut s = DecodeStats::default();
    for (lt, f, orig) in &frames {
        let orig = if *orig == 0 { f.len() as u32 } else { *orig };
        s.add(&decode(LinkType::from(*lt), f), f.len() as u32, orig);
    }
    let mut want_undecodable = [0u64; Undecodable::ALL.len()];
    want_undecodable[Undecodable::UnknownLinkType as usize] = 1;
    want_undecodable[Undecodable::TruncatedIpHeader as usize] = 1;
    assert_eq!(
        s,
        DecodeStats {
            // tcp, udp, 4 tunnelled inners, 2 fragments, 60- and 40-byte copies, proto 89
            ipv4: 11,
            ipv6: 1,
            // tcp, 4 tunnelled inners, first fragment, 60- and 40-byte copies
            tcp: 8,
            udp: 1,
            icmp: 1,
            other_ip_protocol: 1,
            vlan_tagged: 2,
            qinq: 1,
            tunnelled: 4,
            tunnels: stats::TunnelCounts {
                gre: 1,
                erspan2: 1,
                erspan3: 1,
                vxlan: 1,
            },
            arp: 1,
            rarp: 1,
            fragments: 2,
            non_ip: 3,
            sliced: 1,
            tcp_payload_bytes: 10 + 4 * 33 + 8 + 10,
            udp_payload_bytes: 5,
            // The 40-byte copy: the ports only. Its payload is the flow stage's estimate.
            tcp_header_cut: 1,
            tcp_payload_estimated_bytes: 0,
            undecodable: want_undecodable,
        }
    );
    assert_eq!(s.undecodable_total(), 2);
    let json = serde_json::to_value(&s).expect("json");
    assert_eq!(
        json["undecodable"],
        serde_json::json!({"truncated_ip_header": 1, "unknown_link_type": 1})
    );
}

#[test]
fn zero_length_fields_use_the_captured_length() {
    // TSO/LRO captures write 0 into the IPv4 total length and the IPv6 payload length.
    let mut f = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(1, 2, &[], 0x10, &[0; 3000])),
    );
    f[16..18].copy_from_slice(&[0, 0]);
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.ip.expect("ip").payload_len, 3020);
    assert_eq!(tcp_of(&d).1, Some(3000));
    let mut f = eth(
        0x86dd,
        &ipv6(v6(1), v6(2), 6, &tcp(1, 2, &[], 0x10, &[0; 70000])),
    );
    f[18..20].copy_from_slice(&[0, 0]);
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.ip.expect("ip").payload_len, 70020);
    assert_eq!(tcp_of(&d).1, Some(70000));
}

#[test]
fn tcp_data_offset_beyond_the_ip_payload() {
    // Data offset 15 words (60 bytes) in a 30-byte IP payload.
    let mut f = eth(
        0x0800,
        &ipv4(V4_A, V4_B, 6, &[], 0, &tcp(1, 2, &[], 0x10, &[0; 10])),
    );
    f[14 + 20 + 12] = 0xf0;
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(d.error, Some(Undecodable::BadTcpHeader));
    assert_eq!(tcp_of(&d).1, None);
    assert_eq!(tcp_of(&d).0.header_len, Some(60));
}

#[test]
fn erspan_over_ipv6() {
    let mut hdr = vec![0x10, 0x00, 0x00, 0x07, 0, 0, 0, 0];
    hdr.extend(inner_frame());
    let f = eth(
        0x86dd,
        &ipv6(v6(9), v6(10), 47, &gre_hdr(0x10, 0x88be, &[0; 4], &hdr)),
    );
    let d = decode(LinkType::Ethernet, &f);
    assert_eq!(
        d.tunnel,
        Some(Tunnel {
            kind: TunnelKind::Erspan2,
            outer_src: ip6(v6(9)),
            outer_dst: ip6(v6(10)),
            id: 7,
        })
    );
    assert_inner(&d);
}

#[test]
fn icmp_too_big_with_the_quoted_addresses() {
    // ICMPv4 type 3 code 4, next-hop MTU 1500, quoting a TCP packet from B to A.
    let inner4 = ipv4(V4_B, V4_A, 6, &[], 0, &[0u8; 8]);
    let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0xdc];
    icmp.extend_from_slice(&inner4);
    let d = decode(
        LinkType::Ethernet,
        &eth(0x0800, &ipv4(V4_A, V4_B, 1, &[], 0, &icmp)),
    );
    let want = TooBig {
        mtu: 1500,
        inner_src: ip4(V4_B),
        inner_dst: ip4(V4_A),
    };
    assert_eq!(
        d.transport,
        Transport::Icmp {
            too_big: Some(want)
        }
    );
    // Another code, or the quoted header cut before its destination: not one.
    let mut other = icmp.clone();
    other[1] = 3;
    let d = decode(
        LinkType::Ethernet,
        &eth(0x0800, &ipv4(V4_A, V4_B, 1, &[], 0, &other)),
    );
    assert_eq!(d.transport, Transport::Icmp { too_big: None });
    for cut in 0..(8 + 20) {
        let f = eth(0x0800, &ipv4(V4_A, V4_B, 1, &[], 0, &icmp));
        let keep = f.len() - icmp.len() + cut;
        let d = decode(LinkType::Ethernet, &f[..keep]);
        assert!(
            !matches!(d.transport, Transport::Icmp { too_big: Some(_) }),
            "cut {cut}"
        );
    }
    // ICMPv6 packet too big, MTU 1280.
    let inner6 = ipv6(v6(2), v6(1), 6, &[0u8; 8]);
    let mut icmp6 = vec![2, 0, 0, 0, 0, 0, 0x05, 0x00];
    icmp6.extend_from_slice(&inner6);
    let d = decode(
        LinkType::Ethernet,
        &eth(0x86dd, &ipv6(v6(1), v6(2), 58, &icmp6)),
    );
    assert_eq!(
        d.transport,
        Transport::Icmp {
            too_big: Some(TooBig {
                mtu: 1280,
                inner_src: ip6(v6(2)),
                inner_dst: ip6(v6(1)),
            })
        }
    );
}
