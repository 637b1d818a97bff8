//! Times as every stage prints and reads them: integer nanoseconds since the Unix epoch, rendered
//! as RFC 3339 UTC with nine fractional digits (`2026-11-26T09:17:28.123456789Z`).

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Renders nanoseconds since the epoch as RFC 3339 UTC with nine fractional digits.
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:09}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Parses an RFC 3339 timestamp (`Z` or `±hh:mm` offset, optional fraction) into nanoseconds.
/// Every valid time is accepted, years 0000 to 9999: those beyond what 64-bit nanoseconds hold
/// (before 1677-09-21, after 2262-04-11) are taken as the first or last instant they hold, which
/// for a migration window's start or end means "from the beginning" or "to the end".
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let y = num(0..4)?;
    let mo = num(5..7)? as u32;
    let d = num(8..10)? as u32;
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') {
        return None;
    }
    let h = num(11..13)?;
    let mi = num(14..16)?;
    let se = num(17..19)?;
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    if h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ns: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let mut digits = 0;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if digits < 9 {
                frac_ns = frac_ns * 10 + (c - b'0') as i64;
            }
            digits += 1;
            i += 1;
        }
        if digits == 0 {
            return None;
        }
        for _ in digits..9 {
            frac_ns *= 10;
        }
    }
    let offset_s: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let v = oh * 3600 + om * 60;
            if *sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_s;
    let ns = i128::from(secs) * 1_000_000_000 + i128::from(frac_ns);
    Some(ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_valid_year_is_accepted() {
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59.999999999Z"),
            Some(i64::MAX),
            "after 2262: the last instant"
        );
        assert_eq!(parse_rfc3339("0000-01-01T00:00:00Z"), Some(i64::MIN));
        assert_eq!(
            parse_rfc3339("2262-04-11T23:47:16.854775807Z"),
            Some(i64::MAX),
            "the last instant itself"
        );
        assert_eq!(
            parse_rfc3339("2262-04-11T23:47:16.854775806Z"),
            Some(i64::MAX - 1)
        );
        assert_eq!(parse_rfc3339("9999-13-31T23:59:59Z"), None, "still checked");
    }

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339(1_340_954_905_298_858_000),
            "2012-06-29T07:28:25.298858000Z"
        );
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        for ns in [
            0i64,
            1,
            951_782_400_123_456_789,
            1_798_000_000_000_000_000,
            -86_400_000_000_001,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339(ns)), Some(ns));
        }
        assert_eq!(
            parse_rfc3339("2012-06-29T09:28:25.5+02:00"),
            Some(1_340_954_905_500_000_000)
        );
        assert_eq!(parse_rfc3339("2012-06-29"), None);
        assert_eq!(parse_rfc3339("2012-13-29T09:28:25Z"), None);
    }
}
