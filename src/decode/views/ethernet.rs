//! Ethernet II and 802.1Q tag layout: named offsets only. etherparse reads these headers in the
//! general case; the fast path in `decode::fast` and the synthesizer's frame writer use the
//! offsets.

/// Ethernet II header fields.
pub mod field {
    use std::ops::Range;

    /// Destination MAC.
    pub const DST: Range<usize> = 0..6;
    /// Source MAC.
    pub const SRC: Range<usize> = 6..12;
    /// EtherType (or the TPID of a VLAN tag), big-endian u16.
    pub const ETHERTYPE: usize = 12;
    /// Header length without tags.
    pub const HEADER_LEN: usize = 14;
}

/// The shortest frame on the wire without its FCS; senders pad shorter ones.
pub const MIN_FRAME_LEN: usize = 60;

/// 802.1Q tag fields, counted from the tag's TCI (after the TPID in the Ethernet header's
/// EtherType position).
pub mod vlan_field {
    /// Tag control information: priority, DEI, VLAN id; big-endian u16.
    pub const TCI: usize = 0;
    /// The EtherType after the tag.
    pub const ETHERTYPE: usize = 2;
    /// Bytes the tag adds to the header.
    pub const TAG_LEN: usize = 4;
    /// The VLAN id bits of the TCI.
    pub const VID_MASK: u16 = 0x0fff;
}
