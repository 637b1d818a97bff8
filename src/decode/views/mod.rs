//! Small zero-copy views over headers etherparse does not parse: Linux cooked captures (SLL, SLL2),
//! BSD null/loopback, GRE, ERSPAN II/III, VXLAN, ARP/RARP, and TCP/UDP headers cut short by a
//! snap length; plus the named layout of the headers etherparse does parse (Ethernet, 802.1Q,
//! IPv4, IPv6), for the fast path and the synthesizer; and one payload: the vCenter agent
//! heartbeat on UDP 902 ([`vmware_hb`]).
//!
//! In: the bytes where a header starts. Out: a view whose checked constructor (`new_checked`)
//! returns `None` when the bytes are too short (or, for GRE and VXLAN, not a header this decoder
//! follows), and whose accessors read fields at the offsets named in each module's `field`
//! module, so no access can panic. Offsets are `usize` for numbers and single bytes (read with the
//! checked readers of `vocab::bytes`) and `Range<usize>` for addresses.

pub mod arp;
pub mod erspan;
pub mod ethernet;
pub mod gre;
pub mod ipv4;
pub mod ipv6;
pub mod null;
pub mod sll;
pub mod sll2;
pub mod tcp;
pub mod udp;
pub mod vmware_hb;
pub mod vxlan;

pub use arp::Arp;
pub use erspan::{Erspan2, Erspan3};
pub use gre::Gre;
pub use null::{Null, NullFamily, null_family};
pub use sll::Sll;
pub use sll2::Sll2;
pub use tcp::{TcpFields, tcp_fields};
pub use udp::{UdpFields, udp_fields};
pub use vmware_hb::Heartbeat;
pub use vxlan::Vxlan;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_reject_short_input() {
        assert!(Sll::new_checked(&[0; 15]).is_none());
        assert!(Sll2::new_checked(&[0; 19]).is_none());
        assert!(Null::new_checked(&[0; 3]).is_none());
        assert!(Gre::new_checked(&[0x30, 0, 0x65, 0x58, 0, 0, 0]).is_none());
        assert!(Erspan2::new_checked(&[0; 7]).is_none());
        assert!(Erspan3::new_checked(&[0; 11]).is_none());
        let mut e3 = [0u8; 19];
        e3[11] = 1;
        assert!(Erspan3::new_checked(&e3).is_none(), "O flag needs 20 bytes");
        assert!(Vxlan::new_checked(&[0x08, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(Vxlan::new_checked(&[0x00; 8]).is_none(), "I flag required");
        assert!(Vxlan::new_checked(&[]).is_none());
        assert!(Arp::new_checked(&[0, 1, 8, 0, 6, 4, 0, 1]).is_none());
        assert!(tcp_fields(&[0, 1, 0]).is_none());
        assert!(udp_fields(&[0, 1, 0]).is_none());
    }

    #[test]
    fn gre_optional_fields() {
        // C, K and S set: 16-byte header, key after the checksum word.
        let d = [
            0xb0, 0x00, 0x88, 0xbe, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 7, 0xaa,
        ];
        let g = Gre::new_checked(&d).unwrap();
        assert_eq!(g.protocol(), crate::vocab::wire::EtherType::Erspan2);
        assert_eq!(g.key(), Some(42));
        assert!(g.has_sequence());
        assert_eq!(g.payload(), &[0xaa]);
    }

    #[test]
    fn erspan_fields() {
        // Type II: version 1, VLAN 5, COS 7 and T around session 341, index 0.
        let d = [0x10, 0x05, 0xe1, 0x55, 0, 0, 0, 0, 0xaa];
        let e = Erspan2::new_checked(&d).unwrap();
        assert_eq!((e.version(), e.vlan(), e.session_id()), (1, 5, 341));
        assert_eq!(e.payload(), &[0xaa]);
        // Type III with the O flag: 8 more bytes before the frame.
        let mut d = vec![0x20, 0x07, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 1];
        d.extend([0; 8]);
        d.push(0xbb);
        let e = Erspan3::new_checked(&d).unwrap();
        assert_eq!((e.version(), e.vlan(), e.session_id()), (2, 7, 2));
        assert_eq!(e.timestamp(), 9);
        assert_eq!(e.payload(), &[0xbb]);
    }

    #[test]
    fn partial_tcp_header() {
        let d = [0x1f, 0x40, 0xc0, 0x00, 0, 0, 0, 1, 0, 0, 0, 2, 0x50];
        let t = tcp_fields(&d).unwrap();
        assert_eq!((t.src_port, t.dst_port), (8000, 49152));
        assert_eq!(t.seq, Some(1));
        assert_eq!(t.ack, Some(2));
        assert_eq!(t.header_len, Some(20));
        assert_eq!(t.flags, None);
    }

    #[test]
    fn null_family_both_orders() {
        assert_eq!(null_family(&[2, 0, 0, 0], false), Some(NullFamily::Ipv4));
        assert_eq!(null_family(&[0, 0, 0, 2], false), Some(NullFamily::Ipv4));
        assert_eq!(null_family(&[0, 0, 0, 30], true), Some(NullFamily::Ipv6));
        assert_eq!(
            null_family(&[0, 0, 0, 99], true),
            Some(NullFamily::Other(99))
        );
        assert_eq!(null_family(&[0, 0], true), None);
        let n = Null::new_checked(&[10, 0, 0, 0, 0x45]).unwrap();
        assert_eq!(
            (n.family(false), n.payload()),
            (NullFamily::Ipv6, &[0x45][..])
        );
    }
}
