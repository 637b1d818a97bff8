//! Decode stage: one captured frame in, one [`Decoded`] summary out, without copying or allocating.
//!
//! In: a link type and the captured bytes of a [`crate::capture::Frame`]. Out: MAC addresses, VLAN
//! ids, the outer tunnel (GRE, ERSPAN II/III, VXLAN) when the frame was mirrored, ARP/RARP sender,
//! IP addresses and protocol, TCP/UDP ports and flags, and payload lengths computed from the IP and
//! TCP/UDP length fields (so header-only captures still account every payload byte). Where decoding
//! stops early, [`Decoded::error`] says why; nothing panics on any input.
//!
//! etherparse's `LaxSlicedPacket` reads Ethernet, VLAN/QinQ, IPv4 (with options) and IPv6 (with
//! extension headers); the views in [`views`] read the rest.

mod decoder;
mod fast;
mod model;
pub mod stats;
pub mod views;

#[cfg(test)]
pub(crate) use decoder::decode_lax;
pub use decoder::{VXLAN_PORT, decode};
pub use model::{ArpInfo, Decoded, Fragment, IpInfo, Transport, Tunnel, TunnelKind, Undecodable};
pub use stats::DecodeStats;

/// LINKTYPE_ values this decoder understands.
pub mod linktype {
    /// BSD loopback, host byte order family.
    pub const NULL: u32 = 0;
    /// Ethernet II / 802.3.
    pub const ETHERNET: u32 = 1;
    /// Raw IP on some BSDs.
    pub const RAW_BSD_12: u32 = 12;
    /// Raw IP on OpenBSD.
    pub const RAW_BSD_14: u32 = 14;
    /// Raw IPv4 or IPv6.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback, network byte order family.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;

    /// Short name of a link type for reports.
    pub fn name(lt: u32) -> &'static str {
        match lt {
            NULL => "NULL",
            ETHERNET => "ETHERNET",
            RAW_BSD_12 | RAW_BSD_14 | RAW => "RAW",
            LOOP => "LOOP",
            LINUX_SLL => "LINUX_SLL",
            IPV4 => "IPV4",
            IPV6 => "IPV6",
            LINUX_SLL2 => "LINUX_SLL2",
            _ => "UNSUPPORTED",
        }
    }

    /// Whether [`super::decode`] can read frames of this link type.
    pub fn supported(lt: u32) -> bool {
        name(lt) != "UNSUPPORTED"
    }
}

/// EtherTypes the decoder names.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// Reverse ARP, sent by ESXi after a vMotion switchover.
    pub const RARP: u16 = 0x8035;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
    /// 802.1Q customer VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// Transparent Ethernet bridging (GRE carrying Ethernet).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type II (and type I without sequence number).
    pub const ERSPAN2: u16 = 0x88BE;
    /// ERSPAN type III.
    pub const ERSPAN3: u16 = 0x22EB;
}

#[cfg(test)]
mod tests;
