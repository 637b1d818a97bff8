//! IPv4 header layout (RFC 791): named offsets only. etherparse reads the header in the general
//! case; the fast path in `decode::fast` and the synthesizer's frame writer use the offsets.

/// IPv4 header fields.
pub mod field {
    use std::ops::Range;

    /// Version (high nibble) and header length in 32-bit words (low nibble).
    pub const VER_IHL: usize = 0;
    /// DSCP and ECN.
    pub const DSCP_ECN: usize = 1;
    /// Total length, header included; big-endian u16.
    pub const TOTAL_LEN: usize = 2;
    /// Identification; big-endian u16.
    pub const IDENT: usize = 4;
    /// Flags (3 bits) and fragment offset (13 bits); big-endian u16.
    pub const FLAGS_FRAG: usize = 6;
    /// Time to live.
    pub const TTL: usize = 8;
    /// The transport protocol number.
    pub const PROTOCOL: usize = 9;
    /// Header checksum; big-endian u16.
    pub const CHECKSUM: usize = 10;
    /// Source address.
    pub const SRC: Range<usize> = 12..16;
    /// Destination address.
    pub const DST: Range<usize> = 16..20;
    /// Header length without options.
    pub const MIN_HEADER_LEN: usize = 20;
}

/// [`field::VER_IHL`] of a header without options: version 4, 5 words.
pub const VER_IHL_NO_OPTIONS: u8 = 0x45;
/// The don't-fragment flag in [`field::FLAGS_FRAG`].
pub const DONT_FRAGMENT: u16 = 0x4000;
/// The more-fragments flag and the fragment offset in [`field::FLAGS_FRAG`]: nonzero in every
/// fragment.
pub const FRAGMENT_MASK: u16 = 0x3fff;
