//! Protocol numbers as closed enums with an escape for the values without a name:
//! [`EtherType`], [`IpProtocol`] and [`LinkType`].
//!
//! In: the number read from a header (`From<u16>`, `From<u8>`, `From<u32>`). Out: a variant, or
//! `Unknown(n)` for a number this crate has no name for; `From` the enum gives the number back.
//! Equality, hashing and ordering are those of the numbers (sorted outputs depend on numeric
//! order), and each serializes as its number.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Serialize, Serializer};

/// Defines a protocol-number enum: the named variants with their values, `Unknown(n)` for every
/// other value, conversions both ways, and equality, hashing, ordering and serialization by value.
macro_rules! enum_with_unknown {
    (
        $(#[$attr:meta])*
        pub enum $name:ident($ty:ty) {
            $(
                $(#[$variant_attr:meta])*
                $variant:ident = $value:literal
            ),+ $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Copy)]
        pub enum $name {
            $(
                $(#[$variant_attr])*
                $variant,
            )+
            /// A value without a name here (`From` never puts a named value in it).
            Unknown($ty),
        }

        impl From<$ty> for $name {
            #[inline]
            fn from(value: $ty) -> $name {
                match value {
                    $( $value => $name::$variant, )+
                    other => $name::Unknown(other),
                }
            }
        }

        impl From<$name> for $ty {
            #[inline]
            fn from(value: $name) -> $ty {
                match value {
                    $( $name::$variant => $value, )+
                    $name::Unknown(other) => other,
                }
            }
        }

        impl PartialEq for $name {
            #[inline]
            fn eq(&self, other: &$name) -> bool {
                <$ty>::from(*self) == <$ty>::from(*other)
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                <$ty>::from(*self).hash(state)
            }
        }

        impl PartialOrd for $name {
            #[inline]
            fn partial_cmp(&self, other: &$name) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            #[inline]
            fn cmp(&self, other: &$name) -> Ordering {
                <$ty>::from(*self).cmp(&<$ty>::from(*other))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                <$ty>::from(*self).serialize(s)
            }
        }
    };
}

enum_with_unknown! {
    /// The EtherType of an Ethernet frame, VLAN tag, cooked capture or GRE header.
    pub enum EtherType(u16) {
        /// IPv4.
        Ipv4 = 0x0800,
        /// ARP.
        Arp = 0x0806,
        /// ERSPAN type III (GRE protocol).
        Erspan3 = 0x22EB,
        /// Transparent Ethernet bridging (GRE carrying Ethernet).
        Teb = 0x6558,
        /// Reverse ARP, sent by ESXi after a vMotion switchover.
        Rarp = 0x8035,
        /// 802.1Q customer VLAN tag.
        Vlan = 0x8100,
        /// IPv6.
        Ipv6 = 0x86DD,
        /// 802.1ad service VLAN tag (QinQ).
        QinQ = 0x88A8,
        /// ERSPAN type II, and type I without sequence number (GRE protocol).
        Erspan2 = 0x88BE,
        /// LLDP.
        Lldp = 0x88CC,
    }
}

enum_with_unknown! {
    /// An IP protocol number: the transport protocol, or an IPv6 extension header's next header.
    pub enum IpProtocol(u8) {
        /// IPv6 hop-by-hop options.
        HopByHop = 0,
        /// ICMP.
        Icmp = 1,
        /// TCP.
        Tcp = 6,
        /// UDP.
        Udp = 17,
        /// IPv6 routing header.
        Ipv6Route = 43,
        /// IPv6 fragment header.
        Ipv6Frag = 44,
        /// GRE.
        Gre = 47,
        /// IPsec encapsulating security payload.
        Esp = 50,
        /// IPsec authentication header.
        Ah = 51,
        /// ICMPv6.
        Icmpv6 = 58,
        /// IPv6 "no next header".
        Ipv6NoNxt = 59,
        /// IPv6 destination options.
        Ipv6Opts = 60,
    }
}

impl fmt::Display for IpProtocol {
    /// The report's name: `tcp`, `udp`, `icmp`, `icmpv6`, `gre`, else the number.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProtocol::Tcp => f.write_str("tcp"),
            IpProtocol::Udp => f.write_str("udp"),
            IpProtocol::Icmp => f.write_str("icmp"),
            IpProtocol::Icmpv6 => f.write_str("icmpv6"),
            IpProtocol::Gre => f.write_str("gre"),
            other => write!(f, "{}", u8::from(*other)),
        }
    }
}

enum_with_unknown! {
    /// A LINKTYPE_ value (pcap file header, pcapng interface): the link layer of every frame.
    /// The named ones are those the decoder reads.
    pub enum LinkType(u32) {
        /// BSD loopback, host byte order family.
        Null = 0,
        /// Ethernet II / 802.3.
        Ethernet = 1,
        /// Raw IP on some BSDs.
        RawBsd12 = 12,
        /// Raw IP on OpenBSD.
        RawBsd14 = 14,
        /// Raw IPv4 or IPv6.
        Raw = 101,
        /// OpenBSD loopback, network byte order family.
        Loop = 108,
        /// Linux cooked capture v1.
        LinuxSll = 113,
        /// Raw IPv4.
        Ipv4 = 228,
        /// Raw IPv6.
        Ipv6 = 229,
        /// Linux cooked capture v2.
        LinuxSll2 = 276,
    }
}

impl LinkType {
    /// Short name for reports: `ETHERNET`, `RAW` (all three raw IP values), …, `UNSUPPORTED`.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Null => "NULL",
            LinkType::Ethernet => "ETHERNET",
            LinkType::RawBsd12 | LinkType::RawBsd14 | LinkType::Raw => "RAW",
            LinkType::Loop => "LOOP",
            LinkType::LinuxSll => "LINUX_SLL",
            LinkType::Ipv4 => "IPV4",
            LinkType::Ipv6 => "IPV6",
            LinkType::LinuxSll2 => "LINUX_SLL2",
            LinkType::Unknown(_) => "UNSUPPORTED",
        }
    }

    /// Whether the decoder reads frames of this link type (every named one).
    pub fn is_supported(self) -> bool {
        !matches!(self, LinkType::Unknown(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in 0..=u16::MAX {
            assert_eq!(u16::from(EtherType::from(n)), n);
        }
        for n in 0..=u8::MAX {
            assert_eq!(u8::from(IpProtocol::from(n)), n);
        }
        for n in (0..70_000).chain([u32::MAX]) {
            assert_eq!(u32::from(LinkType::from(n)), n);
        }
        assert_eq!(EtherType::from(0x88be), EtherType::Erspan2);
        assert_eq!(EtherType::from(0x1234), EtherType::Unknown(0x1234));
        assert_eq!(IpProtocol::from(58), IpProtocol::Icmpv6);
        assert_eq!(LinkType::from(276), LinkType::LinuxSll2);
        assert_eq!(LinkType::from(147), LinkType::Unknown(147));
    }

    #[test]
    fn order_and_equality_are_numeric() {
        let mut v = [
            LinkType::Unknown(150),
            LinkType::LinuxSll2,
            LinkType::Ethernet,
            LinkType::Unknown(2),
            LinkType::Null,
        ];
        v.sort();
        assert_eq!(v.map(u32::from), [0, 1, 2, 150, 276]);
        assert!(EtherType::Erspan3 > EtherType::Ipv4, "0x22eb > 0x0800");
        assert!(IpProtocol::Udp > IpProtocol::Tcp);
        assert_eq!(IpProtocol::Unknown(6), IpProtocol::Tcp, "by value");
    }

    #[test]
    fn names() {
        assert_eq!(LinkType::Ethernet.name(), "ETHERNET");
        for raw in [12, 14, 101] {
            assert_eq!(LinkType::from(raw).name(), "RAW");
        }
        assert_eq!(LinkType::from(147).name(), "UNSUPPORTED");
        assert!(!LinkType::from(147).is_supported());
        assert!(LinkType::Loop.is_supported());
        // The same names as the report's flow protocol column.
        let names: Vec<String> = [6, 17, 1, 58, 47, 50, 0, 255]
            .map(|p| IpProtocol::from(p).to_string())
            .into();
        assert_eq!(
            names,
            ["tcp", "udp", "icmp", "icmpv6", "gre", "50", "0", "255"]
        );
        assert_eq!(serde_json::to_string(&LinkType::LinuxSll).unwrap(), "113");
        assert_eq!(serde_json::to_string(&EtherType::Ipv6).unwrap(), "34525");
    }
}
