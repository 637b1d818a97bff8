//! Fixed-width fields at byte offsets, read without panicking: the one place the capture readers,
//! the decoder's views and the synthesizer's writers turn bytes into numbers and back.
//!
//! In: a byte slice and an offset (and, for capture headers, a byte order). Out: `Some(value)`, or
//! `None` when the field does not fit in the slice. The `put_` writers store network-order fields
//! and leave a slice that is too short as it is.

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

/// Writes `v` at `i`; nothing past the end.
#[inline]
pub(crate) fn put_u8(d: &mut [u8], i: usize, v: u8) {
    if let Some(b) = d.get_mut(i) {
        *b = v;
    }
}

/// Writes `v` big-endian at `i`; nothing when it does not fit.
#[inline]
pub(crate) fn put_be16(d: &mut [u8], i: usize, v: u16) {
    put(d, i..i.saturating_add(2), &v.to_be_bytes());
}

/// Writes `v` big-endian at `i`; nothing when it does not fit.
#[inline]
pub(crate) fn put_be32(d: &mut [u8], i: usize, v: u32) {
    put(d, i..i.saturating_add(4), &v.to_be_bytes());
}

/// Copies `src` into `r`; nothing when `r` is not inside `d` or not as long as `src`.
#[inline]
pub(crate) fn put(d: &mut [u8], r: Range<usize>, src: &[u8]) {
    if let Some(dst) = d.get_mut(r) {
        if dst.len() == src.len() {
            dst.copy_from_slice(src);
        }
    }
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

    #[test]
    fn writes_stop_at_the_end() {
        let mut d = [0u8; 6];
        put_be16(&mut d, 0, 0x0102);
        put_be32(&mut d, 2, 0x0304_0506);
        assert_eq!(d, [1, 2, 3, 4, 5, 6]);
        put_be32(&mut d, 3, 0xffff_ffff);
        put_be16(&mut d, usize::MAX, 0xffff);
        put_u8(&mut d, 6, 0xff);
        put(&mut d, 4..6, &[0xff]);
        assert_eq!(
            d,
            [1, 2, 3, 4, 5, 6],
            "nothing written past the end or of the wrong length"
        );
        put_u8(&mut d, 5, 9);
        put(&mut d, 0..2, &[7, 8]);
        assert_eq!(d, [7, 8, 3, 4, 5, 9]);
    }
}
