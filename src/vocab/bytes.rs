//! Fixed-width fields at byte offsets, read without panicking: the one place the capture readers,
//! the decoder's views and the synthesizer's writers turn bytes into numbers and back.
//!
//! In: a byte slice and an offset (and, for capture headers, a byte order). Out: `Some(value)`, or
//! `None` when the field does not fit in the slice; writers leave a slice that is too short as it
//! is.

use std::ops::Range;

use crate::vocab::Mac;

/// Byte order of a multi-byte field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// Most significant byte first (network order).
    Big,
    /// Least significant byte first.
    Little,
}

impl Order {
    /// `Big` when `big_endian`, else `Little`.
    pub(crate) fn big_if(big_endian: bool) -> Order {
        if big_endian {
            Order::Big
        } else {
            Order::Little
        }
    }
}

/// The bytes of `r` as an array, or `None` when `r` is not inside `d` or not `N` long.
#[inline]
pub(crate) fn array<const N: usize>(d: &[u8], r: Range<usize>) -> Option<[u8; N]> {
    d.get(r)?.try_into().ok()
}

/// The `N` bytes at `i`, or `None` past the end.
#[inline]
pub(crate) fn array_at<const N: usize>(d: &[u8], i: usize) -> Option<[u8; N]> {
    array(d, i..i.checked_add(N)?)
}

/// Reads a u16 at `i` in the given byte order, or `None` past the end.
#[inline]
pub(crate) fn u16_at(d: &[u8], i: usize, order: Order) -> Option<u16> {
    let b = array_at(d, i)?;
    Some(match order {
        Order::Big => u16::from_be_bytes(b),
        Order::Little => u16::from_le_bytes(b),
    })
}

/// Reads a u32 at `i` in the given byte order, or `None` past the end.
#[inline]
pub(crate) fn u32_at(d: &[u8], i: usize, order: Order) -> Option<u32> {
    let b = array_at(d, i)?;
    Some(match order {
        Order::Big => u32::from_be_bytes(b),
        Order::Little => u32::from_le_bytes(b),
    })
}

/// Reads an i64 at `i` in the given byte order, or `None` past the end.
#[inline]
pub(crate) fn i64_at(d: &[u8], i: usize, order: Order) -> Option<i64> {
    let b = array_at(d, i)?;
    Some(match order {
        Order::Big => i64::from_be_bytes(b),
        Order::Little => i64::from_le_bytes(b),
    })
}

/// Reads a big-endian (network order) u16 at `i`, or `None` past the end.
#[inline]
pub(crate) fn be16(d: &[u8], i: usize) -> Option<u16> {
    array_at(d, i).map(u16::from_be_bytes)
}

/// Reads a big-endian (network order) u32 at `i`, or `None` past the end.
#[inline]
pub(crate) fn be32(d: &[u8], i: usize) -> Option<u32> {
    array_at(d, i).map(u32::from_be_bytes)
}

/// Reads a MAC address at `i`, or `None` past the end.
#[inline]
pub(crate) fn mac_at(d: &[u8], i: usize) -> Option<Mac> {
    array_at(d, i).map(Mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end() {
        let d = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(be16(&d, 6), Some(0x0708));
        assert_eq!(be16(&d, 7), None);
        assert_eq!(be32(&d, 4), Some(0x0506_0708));
        assert_eq!(be32(&d, 5), None);
        assert_eq!(u16_at(&d, 0, Order::Little), Some(0x0201));
        assert_eq!(u32_at(&d, 0, Order::Little), Some(0x0403_0201));
        assert_eq!(u32_at(&d, 0, Order::Big), Some(0x0102_0304));
        assert_eq!(i64_at(&d, 0, Order::Big), Some(0x0102_0304_0506_0708));
        assert_eq!(i64_at(&d, 1, Order::Little), None);
        assert_eq!(mac_at(&d, 2), Some(Mac([3, 4, 5, 6, 7, 8])));
        assert_eq!(mac_at(&d, 3), None);
        assert_eq!(be16(&d, usize::MAX), None, "no overflow");
        assert_eq!(array::<2>(&d, 1..4), None, "wrong length");
        assert_eq!(Order::big_if(true), Order::Big);
    }
}
