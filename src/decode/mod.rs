//! Decode stage: one captured frame in, one [`Decoded`] summary out, without copying or allocating.
//!
//! In: the [`LinkType`](crate::vocab::wire::LinkType) and the captured bytes of a
//! [`crate::capture::Frame`]. Out: MAC addresses, VLAN ids, the outer tunnel (GRE, ERSPAN II/III,
//! VXLAN) when the frame was mirrored, ARP/RARP sender, IP addresses and protocol, TCP/UDP ports
//! and flags, and payload lengths computed from the IP and TCP/UDP length fields (so header-only
//! captures still account every payload byte). Where decoding stops early, [`Decoded::error`] says
//! why; nothing panics on any input. Protocol numbers are the enums of [`crate::vocab::wire`].
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
pub use decoder::{VXLAN_PORT, decode, decode_into};
pub use model::{
    ArpInfo, Decoded, Fragment, IpInfo, TooBig, Transport, Tunnel, TunnelKind, Undecodable,
};
pub use stats::DecodeStats;

#[cfg(test)]
mod tests;
