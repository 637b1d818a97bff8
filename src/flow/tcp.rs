//! TCP sequence tracking: flags and retransmitted-byte detection with 32-bit wrap-around.

/// FIN flag.
pub const FIN: u8 = 0x01;
/// SYN flag.
pub const SYN: u8 = 0x02;
/// RST flag.
pub const RST: u8 = 0x04;
/// ACK flag.
pub const ACK: u8 = 0x10;

/// `a` is before `b` in sequence space (RFC 1982 serial arithmetic).
fn before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// Records a segment `[seq, seq + len)` and returns how many of its bytes were already covered
/// by earlier segments of this direction. SYN and FIN occupy one sequence number each.
pub fn track(seq_end: &mut Option<u32>, seq: u32, len: u32, flags: u8) -> u64 {
    let syn = u32::from(flags & SYN != 0);
    let fin = u32::from(flags & FIN != 0);
    let data_start = seq.wrapping_add(syn);
    let end = data_start.wrapping_add(len).wrapping_add(fin);
    let retrans = match *seq_end {
        None => 0,
        Some(_) if len == 0 => 0,
        // Overlap with what was already sent: count the covered part.
        Some(high) if before(data_start, high) => high.wrapping_sub(data_start).min(len) as u64,
        Some(_) => 0,
    };
    match *seq_end {
        Some(high) if !before(high, end) => {}
        _ => *seq_end = Some(end),
    }
    retrans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_then_retransmission() {
        let mut s = None;
        assert_eq!(track(&mut s, 100, 0, SYN), 0);
        assert_eq!(track(&mut s, 101, 1000, ACK), 0);
        assert_eq!(track(&mut s, 1101, 1000, ACK), 0);
        assert_eq!(track(&mut s, 101, 1000, ACK), 1000, "full repeat");
        assert_eq!(track(&mut s, 1601, 1000, ACK), 500, "half overlap");
        assert_eq!(track(&mut s, 2601, 0, ACK | FIN), 0);
    }

    #[test]
    fn wraps_around() {
        let mut s = None;
        assert_eq!(track(&mut s, u32::MAX - 499, 1000, ACK), 0);
        assert_eq!(s, Some(500));
        assert_eq!(track(&mut s, 500, 1000, ACK), 0);
        assert_eq!(track(&mut s, u32::MAX - 499, 1000, ACK), 1000);
        assert_eq!(s, Some(1500));
    }
}
