//! Timestamps in integer nanoseconds since the Unix epoch, from capture time units.
//!
//! In: raw timestamp units plus a pcapng `if_tsresol` byte and `if_tsoffset`. Out: `i64` nanoseconds
//! (saturating far outside 1678–2262). Rendering them is [`crate::vocab::time`]'s job.

/// A pcapng interface's time resolution (`if_tsresol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsResolution {
    /// Units of 10^-n seconds.
    Decimal(u8),
    /// Units of 2^-n seconds.
    Binary(u8),
}

impl TsResolution {
    /// Decodes the option byte: most significant bit clear means a power of ten, set a power of two.
    pub fn from_byte(b: u8) -> TsResolution {
        if b & 0x80 == 0 {
            TsResolution::Decimal(b)
        } else {
            TsResolution::Binary(b & 0x7f)
        }
    }

    /// The pcapng default: microseconds.
    pub const MICROS: TsResolution = TsResolution::Decimal(6);

    /// Human form for the report, e.g. `1e-6` or `2^-20`.
    pub fn describe(&self) -> String {
        match self {
            TsResolution::Decimal(n) => format!("1e-{n}"),
            TsResolution::Binary(n) => format!("2^-{n}"),
        }
    }

    /// Converts a count of units to nanoseconds, exactly where the resolution allows (truncating
    /// sub-nanosecond parts).
    pub fn units_to_ns(&self, units: u64) -> i128 {
        let u = units as i128;
        match *self {
            TsResolution::Decimal(n) if n <= 9 => u * 10i128.pow(9 - n as u32),
            TsResolution::Decimal(n) => {
                // 10^n for n up to 127 overflows i128 past n = 38; anything that fine is 0 ns/unit.
                if n > 38 {
                    0
                } else {
                    u * 1_000_000_000 / 10i128.pow(n as u32)
                }
            }
            TsResolution::Binary(n) => {
                if n > 100 {
                    0
                } else {
                    (u * 1_000_000_000) >> n
                }
            }
        }
    }
}

/// Clamps an `i128` nanosecond value into `i64`.
pub fn clamp_ns(ns: i128) -> i64 {
    ns.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions() {
        assert_eq!(TsResolution::MICROS.units_to_ns(1_500_000), 1_500_000_000);
        assert_eq!(TsResolution::from_byte(9).units_to_ns(7), 7);
        assert_eq!(TsResolution::from_byte(12).units_to_ns(7_000), 7);
        // 2^-10 s units: 1024 units are one second.
        assert_eq!(
            TsResolution::from_byte(0x80 | 10).units_to_ns(1024),
            1_000_000_000
        );
        assert_eq!(TsResolution::from_byte(0x80 | 10).units_to_ns(1), 976_562);
        assert_eq!(
            TsResolution::from_byte(0x80 | 30).units_to_ns(1 << 30),
            1_000_000_000
        );
        assert_eq!(TsResolution::from_byte(0x7f).units_to_ns(u64::MAX), 0);
    }
}
