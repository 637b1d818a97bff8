//! IPv6 header and extension header layout (RFC 8200): named offsets only. etherparse reads the
//! headers; the decoder walks the extension chain to the fragment header with these offsets, and
//! the synthesizer's frame writer writes the fixed header with them.

/// IPv6 fixed header fields.
pub mod field {
    use std::ops::Range;

    /// Version (4 bits), traffic class, flow label.
    pub const VER_TC_FLOW: usize = 0;
    /// Payload length (extension headers included); big-endian u16.
    pub const PAYLOAD_LEN: usize = 4;
    /// Next header: the first extension header or the transport protocol.
    pub const NEXT_HEADER: usize = 6;
    /// Hop limit.
    pub const HOP_LIMIT: usize = 7;
    /// Source address.
    pub const SRC: Range<usize> = 8..24;
    /// Destination address.
    pub const DST: Range<usize> = 24..40;
    /// Header length.
    pub const HEADER_LEN: usize = 40;
}

/// [`field::VER_TC_FLOW`]'s first byte with traffic class and flow label 0.
pub const VERSION_BYTE: u8 = 0x60;

/// Extension header fields (hop-by-hop, routing, fragment, destination options, AH).
pub mod ext_field {
    /// The next header after this one.
    pub const NEXT_HEADER: usize = 0;
    /// Length: in 8-byte units not counting the first (AH: 4-byte units not counting the first 2).
    pub const LEN: usize = 1;
    /// Fragment header: fragment offset (13 bits, in 8-byte units) and flags; big-endian u16.
    pub const FRAG_OFFSET: usize = 2;
    /// Right shift that turns [`FRAG_OFFSET`]'s u16 into the offset.
    pub const FRAG_OFFSET_SHIFT: u16 = 3;
}
