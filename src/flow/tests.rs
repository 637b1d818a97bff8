use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::decode::views::TcpFields;
use crate::decode::{Fragment, IpInfo};
use crate::vocab::wire::IpProtocol;

fn ip(a: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

/// A decoded IPv4 TCP segment (other stages' tests build their packets with it too).
pub(crate) fn tcp(src: (u32, u16), dst: (u32, u16), seq: u32, flags: u8, len: u32) -> Decoded {
    tcp_ack(src, dst, seq, 0, flags, len)
}

/// A decoded IPv4 TCP segment with an acknowledgement number.
pub(crate) fn tcp_ack(
    src: (u32, u16),
    dst: (u32, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    len: u32,
) -> Decoded {
    Decoded {
        ip: Some(IpInfo {
            src: ip(src.0),
            dst: ip(dst.0),
            protocol: IpProtocol::Tcp,
            fragment: Fragment::None,
            ident: 0,
            payload_len: len + 20,
        }),
        transport: Transport::Tcp {
            fields: TcpFields {
                src_port: src.1,
                dst_port: dst.1,
                seq: Some(seq),
                ack: Some(ack),
                header_len: Some(20),
                flags: Some(flags),
                window: Some(1000),
                mss: None,
            },
            payload_len: Some(len),
        },
        ..Decoded::default()
    }
}

fn collect(table: &mut FlowTable) -> Vec<Flow> {
    let mut out = Vec::new();
    table.finish(&mut |f| out.push(f));
    out
}

/// One TCP segment to feed: (from, to, seq, ack, flags, payload length).
type Seg = ((u32, u16), (u32, u16), u32, u32, u8, u32);

/// Feeds `segs` into `t` in order (the i-th at time `i`, 60 bytes on the wire, no flow expected
/// to end) and returns what each packet contributed.
fn feed(t: &mut FlowTable, segs: &[Seg]) -> Vec<Option<PacketRef>> {
    let mut none = |_f: Flow| {};
    segs.iter()
        .enumerate()
        .map(|(i, &(a, b, seq, ack, flags, len))| {
            t.add(
                &tcp_ack(a, b, seq, ack, flags, len),
                &[],
                Some(i as i64),
                60,
                &mut none,
            )
        })
        .collect()
}

#[test]
fn both_directions_one_flow_client_by_syn() {
    let mut t = FlowTable::new(FlowConfig::default());
    let mut none = |_f: Flow| panic!("nothing ends early");
    // The server (high address, port 50000) is unknown to the catalogue; the SYN decides.
    let c = (0x0a00_0002, 40000);
    let s = (0x0a00_0001, 50000);
    t.add(&tcp(c, s, 10, tcp::SYN, 0), &[], Some(1), 60, &mut none);
    t.add(
        &tcp(s, c, 99, tcp::SYN | tcp::ACK, 0),
        &[],
        Some(2),
        60,
        &mut none,
    );
    t.add(
        &tcp(c, s, 11, tcp::ACK, 1000),
        &[],
        Some(3),
        1054,
        &mut none,
    );
    t.add(
        &tcp(c, s, 11, tcp::ACK, 1000),
        &[],
        Some(4),
        1054,
        &mut none,
    );
    t.add(&tcp(s, c, 100, tcp::ACK, 5), &[], Some(5), 59, &mut none);
    let flows = collect(&mut t);
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(f.client().port, 40000);
    assert!(f.client_by_syn);
    let (c2s, s2c) = f.client_server();
    assert_eq!(
        (c2s.packets, c2s.payload_bytes, c2s.retransmitted_bytes),
        (3, 2000, 1000)
    );
    assert_eq!(
        (s2c.packets, s2c.payload_bytes, s2c.wire_bytes),
        (2, 5, 119)
    );
    assert_eq!(f.first_ts(), Some(1));
    assert_eq!(f.last_ts(), Some(5));
    assert!(c2s.syn && s2c.syn);
}

#[test]
fn client_by_well_known_port_without_syn() {
    let mut t = FlowTable::new(FlowConfig::default());
    let mut none = |_f: Flow| {};
    // First packet seen goes from the vMotion server port to an ephemeral port.
    t.add(
        &tcp((1, 8000), (2, 60000), 5, tcp::ACK, 100),
        &[],
        Some(1),
        154,
        &mut none,
    );
    let f = &collect(&mut t)[0];
    assert_eq!(f.server().port, 8000);
    assert!(!f.client_by_syn);
    assert_eq!(f.client_server().1.payload_bytes, 100);
}

#[test]
fn closed_and_idle_flows_leave_the_table() {
    let cfg = FlowConfig {
        idle_timeout_ns: 10_000_000_000,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(cfg);
    let mut ended: Vec<(u16, EndReason)> = Vec::new();
    let sec = 1_000_000_000i64;
    {
        let mut sink = |f: Flow| ended.push((f.client().port, f.end.unwrap()));
        let (a, b) = ((1, 1000), (2, 902));
        t.add(&tcp(a, b, 1, tcp::SYN, 0), &[], Some(0), 60, &mut sink);
        t.add(
            &tcp(a, b, 2, tcp::FIN | tcp::ACK, 0),
            &[],
            Some(sec),
            60,
            &mut sink,
        );
        t.add(
            &tcp(b, a, 2, tcp::FIN | tcp::ACK, 0),
            &[],
            Some(sec),
            60,
            &mut sink,
        );
        t.add(
            &tcp((3, 2000), (4, 8000), 1, tcp::ACK, 10),
            &[],
            Some(sec),
            60,
            &mut sink,
        );
        // 5 s later the closed flow is swept; the open one stays.
        t.add(
            &tcp((5, 3000), (6, 443), 1, tcp::ACK, 10),
            &[],
            Some(6 * sec),
            60,
            &mut sink,
        );
        // 20 s later the open flows are idle.
        t.add(
            &tcp((7, 4000), (8, 443), 1, tcp::ACK, 10),
            &[],
            Some(26 * sec),
            60,
            &mut sink,
        );
    }
    assert_eq!(
        ended,
        vec![
            (1000, EndReason::Closed),
            (2000, EndReason::Idle),
            (3000, EndReason::Idle)
        ]
    );
    assert_eq!(t.live_len(), 1);
}

/// A capture of the receiver's transmitted frames only: the server's SYN-ACK, ACKs, its own
/// small reply and FIN. The client's bytes are the acknowledged progress (its SYN and FIN not
/// counted), across the 2³² wrap, and the flow closes on the acknowledged FIN.
#[test]
fn receiver_acks_alone_give_the_senders_bytes() {
    let mut t = FlowTable::new(FlowConfig::default());
    let mut ended = Vec::new();
    let (c, s) = ((0x0a00_0002, 40000), (0x0a00_0001, 8000));
    let isn = u32::MAX - 2000;
    let ack = |n: u32| isn.wrapping_add(1).wrapping_add(n);
    let mut credited = Vec::new();
    {
        let mut sink = |f: Flow| ended.push(f);
        let segs = [
            (tcp::SYN | tcp::ACK, ack(0), 0),
            (tcp::ACK, ack(1448), 0),
            (tcp::ACK, ack(4344), 0),
            (tcp::ACK, ack(4344), 0),
            (tcp::ACK, ack(10_000), 0),
            // The client's FIN, acknowledged alone; the server's reply and its FIN.
            (tcp::ACK, ack(10_001), 0),
            (tcp::ACK, ack(10_001), 100),
            (tcp::FIN | tcp::ACK, ack(10_001), 0),
        ];
        let mut seq = 5000u32;
        for (i, (flags, a, len)) in segs.into_iter().enumerate() {
            let d = tcp_ack(s, c, seq, a, flags, len);
            seq = seq.wrapping_add(len + u32::from(flags & tcp::SYN != 0));
            let r = t
                .add(&d, &[], Some(i as i64), 60 + len, &mut sink)
                .expect("a flow");
            credited.push(r.acked);
            assert!(!r.from_client);
        }
        // The close lingers, then the flow leaves the table.
        t.add(
            &tcp((9, 1), (9, 2), 1, tcp::ACK, 0),
            &[],
            Some(10_000_000_000),
            60,
            &mut sink,
        );
    }
    assert_eq!(credited, vec![0, 1448, 2896, 0, 5656, 0, 0, 0]);
    let f = &ended[0];
    assert_eq!(f.end, Some(EndReason::Closed));
    assert_eq!(f.client().port, 40000, "the SYN-ACK names the client");
    let (c2s, s2c) = f.client_server();
    assert_eq!(
        (c2s.packets, c2s.payload_bytes, c2s.acknowledged_bytes),
        (0, 10_000, 10_000)
    );
    assert!(c2s.fin && !c2s.syn);
    assert_eq!(
        (s2c.packets, s2c.payload_bytes, s2c.acknowledged_bytes),
        (8, 100, 0)
    );
    assert_eq!(f.payload_bytes(), 10_100);
}

/// Both directions captured from the handshake on: nothing comes from acknowledgements.
#[test]
fn both_directions_take_nothing_from_acknowledgements() {
    let mut t = FlowTable::new(FlowConfig::default());
    let (c, s) = ((0x0a00_0002, 40000), (0x0a00_0001, 8000));
    let segs = [
        (c, s, 100, 0, tcp::SYN, 0),
        (s, c, 900, 101, tcp::SYN | tcp::ACK, 0),
        (c, s, 101, 901, tcp::ACK, 1000),
        (s, c, 901, 1101, tcp::ACK, 0),
        (c, s, 1101, 901, tcp::ACK, 1000),
        (s, c, 901, 2101, tcp::ACK, 0),
    ];
    for r in feed(&mut t, &segs) {
        assert_eq!(r.expect("a flow").acked, 0);
    }
    let f = &collect(&mut t)[0];
    let (c2s, s2c) = f.client_server();
    assert_eq!((c2s.payload_bytes, c2s.acknowledged_bytes), (2000, 0));
    assert_eq!((s2c.payload_bytes, s2c.acknowledged_bytes), (0, 0));
}

/// Acknowledgements count only while the data direction shows no packet: once its segments
/// appear, their sequence numbers count and the acknowledgements stop.
#[test]
fn acknowledgements_stop_when_the_data_direction_appears() {
    let mut t = FlowTable::new(FlowConfig::default());
    let (c, s) = ((0x0a00_0002, 40000), (0x0a00_0001, 8000));
    let segs = [
        (s, c, 900, 5000, tcp::ACK, 0),
        (s, c, 900, 6000, tcp::ACK, 0),
        (c, s, 6000, 900, tcp::ACK, 500),
        (s, c, 900, 6500, tcp::ACK, 0),
        (c, s, 6500, 900, tcp::ACK, 500),
        (s, c, 900, 9000, tcp::ACK, 0),
    ];
    feed(&mut t, &segs);
    let f = &collect(&mut t)[0];
    let (c2s, _) = f.client_server();
    assert_eq!((c2s.payload_bytes, c2s.acknowledged_bytes), (2000, 1000));
}

#[test]
fn segments_the_acknowledgements_already_counted_are_not_counted_twice() {
    // The receiver's acknowledgements come first (a capture set whose clocks disagree): 1000
    // bytes counted from them; then the sender's segments, partly below what they covered.
    let mut t = FlowTable::new(FlowConfig::default());
    let (c, s) = ((0x0a00_0002, 40000), (0x0a00_0001, 8000));
    let segs = [
        (s, c, 900, 5000, tcp::ACK, 0),
        (s, c, 900, 6000, tcp::ACK, 0),
        (c, s, 5000, 900, tcp::ACK, 500),
        (c, s, 5500, 900, tcp::ACK, 1000),
        (c, s, 6500, 900, tcp::ACK, 300),
    ];
    let counted: Vec<_> = feed(&mut t, &segs)
        .into_iter()
        .map(|r| r.map(|r| r.payload + r.acked))
        .collect();
    assert_eq!(
        counted,
        vec![Some(0), Some(1000), Some(0), Some(500), Some(300)]
    );
    let f = &collect(&mut t)[0];
    let (c2s, _) = f.client_server();
    assert_eq!((c2s.payload_bytes, c2s.acknowledged_bytes), (1800, 1000));
}

#[test]
fn a_copy_in_another_encapsulation_joins_the_live_flow() {
    // A connection's frames, some as the host captured them, some as a mirror session (GRE,
    // VLAN tag) delivered them: one flow, keyed by its first frame.
    let mut t = FlowTable::new(FlowConfig::default());
    let mut none = |_f: Flow| {};
    let (c, s) = ((0x0a00_0002, 40000), (0x0a00_0001, 8000));
    let plain = tcp_ack(c, s, 1000, 1, tcp::ACK, 100);
    let mut mirrored = tcp_ack(s, c, 1, 1100, tcp::ACK, 50);
    mirrored.vlans = [20, 0];
    mirrored.vlan_count = 1;
    let a = t.add(&plain, &[], Some(0), 160, &mut none).expect("flow");
    let b = t
        .add(&mirrored, &[], Some(1), 110, &mut none)
        .expect("flow");
    assert_eq!(a.key, b.key, "the mirrored frame joined the host's flow");
    assert_eq!(t.live_len(), 1);
    let flows = collect(&mut t);
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].payload_bytes(), 150);
    assert_eq!(flows[0].key.vlan, None);
}

/// What one flow costs, guarded: the live record, its index entry, and the boxed readers of a
/// vMotion or NFC flow (docs/performance.md, "Memory per flow").
#[test]
fn a_flow_stays_small() {
    use std::mem::size_of;
    assert!(size_of::<Flow>() <= 392, "Flow {}", size_of::<Flow>());
    assert!(
        size_of::<tcp::SeqTracker>() <= 16,
        "{}",
        size_of::<tcp::SeqTracker>()
    );
    assert_eq!(size_of::<Option<Box<health::Health>>>(), 8);
    assert_eq!(size_of::<Option<Box<payload::PayloadScan>>>(), 8);
    assert!(
        size_of::<health::Health>() <= 520,
        "{}",
        size_of::<health::Health>()
    );
    assert!(
        size_of::<payload::PayloadScan>() <= 248,
        "{}",
        size_of::<payload::PayloadScan>()
    );
}

/// The index holds one slot number per live flow, found by addresses, protocol and ports: a
/// flow's packets and a copy in another VLAN land in one flow, and removal leaves the others
/// findable.
#[test]
fn one_index_finds_flows_by_tuple_and_forgets_removed_ones() {
    let mut t = FlowTable::new(FlowConfig {
        max_live: 1_000,
        ..FlowConfig::default()
    });
    let mut ended = Vec::new();
    for i in 0..3_000u32 {
        let c = (0x0a01_0000 + i, 40_000);
        let mut sink = |f: Flow| ended.push(f);
        t.add(
            &tcp(c, (0x0a00_0001, 902), 1, tcp::ACK, 10),
            &[],
            Some(i64::from(i)),
            60,
            &mut sink,
        );
        let mut d = tcp(c, (0x0a00_0001, 902), 11, tcp::ACK, 10);
        d.vlans = [7, 0];
        d.vlan_count = 1;
        t.add(&d, &[], Some(i64::from(i)), 64, &mut sink);
        assert!(t.live_len() <= 1_000);
    }
    let mut all = ended;
    t.finish(&mut |f| all.push(f));
    assert_eq!(all.len(), 3_000, "one flow per tuple, VLAN copies joined");
    assert!(all.iter().all(|f| f.dir[0].packets + f.dir[1].packets == 2));
    assert_eq!(t.created, 3_000);
}
