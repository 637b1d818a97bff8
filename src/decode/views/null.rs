//! BSD null/loopback (LINKTYPE_NULL, 0, and LINKTYPE_LOOP, 108): a 4-byte address family in place
//! of the link-layer header.

use crate::vocab::bytes::{Order, u32_at};

/// Null/loopback header fields.
pub mod field {
    /// The address family: host byte order of the capturing machine for LINKTYPE_NULL, network
    /// byte order for LINKTYPE_LOOP; u32.
    pub const FAMILY: usize = 0;
    /// Header length.
    pub const HEADER_LEN: usize = 4;
}

/// AF_INET on every system.
const AF_INET: u32 = 2;
/// AF_INET6 on Linux (10) and the BSDs (24, 28, 30).
const AF_INET6: [u32; 4] = [10, 24, 28, 30];

/// What a BSD null/loopback header says the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullFamily {
    /// AF_INET.
    Ipv4,
    /// AF_INET6 under any of the BSDs' values (24, 28, 30) or Linux's 10.
    Ipv6,
    /// Anything else.
    Other(u32),
}

/// A view of a null/loopback header and what follows it.
pub struct Null<'a>(&'a [u8]);

impl<'a> Null<'a> {
    /// Checks the header is complete.
    pub fn new_checked(d: &'a [u8]) -> Option<Null<'a>> {
        (d.len() >= field::HEADER_LEN).then_some(Null(d))
    }
    /// The address family, read in network order (`network_order`, LINKTYPE_LOOP) or, for
    /// LINKTYPE_NULL, in whichever order names IPv4 or IPv6; `Other` holds the value read in the
    /// first order tried.
    pub fn family(&self, network_order: bool) -> NullFamily {
        let first = if network_order {
            Order::Big
        } else {
            Order::Little
        };
        let candidates = [first, Order::Big].map(|o| u32_at(self.0, field::FAMILY, o).unwrap_or(0));
        for v in candidates {
            if v == AF_INET {
                return NullFamily::Ipv4;
            }
            if AF_INET6.contains(&v) {
                return NullFamily::Ipv6;
            }
        }
        NullFamily::Other(candidates[0])
    }
    /// Bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        self.0.get(field::HEADER_LEN..).unwrap_or(&[])
    }
}

/// Reads the 4-byte family of LINKTYPE_NULL (host byte order of the capturing machine, so either)
/// or LINKTYPE_LOOP (network byte order); `None` when the header is cut short.
pub fn null_family(d: &[u8], network_order: bool) -> Option<NullFamily> {
    Null::new_checked(d).map(|n| n.family(network_order))
}
