//! Times as vCenter exports and ESXi logs write them, and the zone a time without one is read in.
//!
//! Accepted: RFC 3339 / ISO 8601 with `Z` or an offset (PowerShell 7's `ConvertTo-Json`, ESXi
//! logs); the same without a zone (read in `--events-tz`); `M/d/yyyy h:mm:ss[ AM|PM]`, the en-US
//! form in which `Export-Csv` writes a `DateTime` (no zone: read in `--events-tz`); and Windows
//! PowerShell 5.1's `ConvertTo-Json` form `/Date(MILLISECONDS)/` (UTC).

use std::fmt;
use std::str::FromStr;

use crate::vocab::time::parse_rfc3339;

/// The zone in which times without one are read: UTC or a fixed offset from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tz {
    /// Seconds east of UTC.
    pub offset_s: i32,
}

impl Tz {
    /// The RFC 3339 suffix of the offset (`Z`, `+02:00`).
    fn suffix(self) -> String {
        if self.offset_s == 0 {
            return "Z".into();
        }
        let sign = if self.offset_s < 0 { '-' } else { '+' };
        let a = self.offset_s.unsigned_abs();
        format!("{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
    }
}

impl fmt::Display for Tz {
    /// `UTC` or `UTC+02:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset_s {
            0 => write!(f, "UTC"),
            _ => write!(f, "UTC{}", self.suffix()),
        }
    }
}

impl FromStr for Tz {
    type Err = String;

    /// `UTC`, `Z`, `+02:00`, `-0500`, `+05`, `UTC+02:00`.
    fn from_str(s: &str) -> Result<Tz, String> {
        let bad = || {
            format!(
                "`{s}` is not a time zone: give UTC or a fixed offset from it such as +02:00 or \
                 -05:00"
            )
        };
        let t = s.trim();
        let rest = t
            .strip_prefix("UTC")
            .or_else(|| t.strip_prefix("utc"))
            .or_else(|| t.strip_prefix("GMT"))
            .unwrap_or(t);
        if rest.is_empty() || rest == "Z" || rest == "z" {
            return Ok(Tz { offset_s: 0 });
        }
        let (sign, digits) = match rest.as_bytes()[0] {
            b'+' => (1, &rest[1..]),
            b'-' => (-1, &rest[1..]),
            _ => return Err(bad()),
        };
        let digits: String = digits.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i32>().map_err(|_| bad())?, 0),
            4 => (
                digits[..2].parse::<i32>().map_err(|_| bad())?,
                digits[2..].parse::<i32>().map_err(|_| bad())?,
            ),
            _ => return Err(bad()),
        };
        if h > 14 || m > 59 {
            return Err(bad());
        }
        Ok(Tz {
            offset_s: sign * (h * 3600 + m * 60),
        })
    }
}

/// A time read from an export: nanoseconds since the epoch, and whether the text said its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// Nanoseconds since the Unix epoch, UTC.
    pub ns: i64,
    /// Whether the text carried a zone (else it was read in the given one).
    pub zoned: bool,
}

/// Parses a time as the exports write it; `None` when it is none of the accepted forms.
pub fn parse(text: &str, tz: Tz) -> Option<Read> {
    let t = text.trim();
    if let Some(ms) = t
        .strip_prefix("/Date(")
        .or_else(|| t.strip_prefix("\\/Date("))
        .and_then(|r| r.strip_suffix(")/").or_else(|| r.strip_suffix(")\\/")))
    {
        // `/Date(1620206793252)/`, possibly with an offset that .NET adds for local times; the
        // milliseconds are UTC either way.
        let digits = ms.split(['+']).next()?;
        let (neg, digits) = match digits.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, digits),
        };
        let v: i64 = digits.parse().ok()?;
        let v = if neg { -v } else { v };
        return Some(Read {
            ns: v.checked_mul(1_000_000)?,
            zoned: true,
        });
    }
    if t.len() >= 19 && t.as_bytes()[4] == b'-' {
        if let Some(ns) = parse_rfc3339(t) {
            return Some(Read { ns, zoned: true });
        }
        // ISO without a zone.
        if t.bytes().skip(19).all(|c| c.is_ascii_digit() || c == b'.') {
            let ns = parse_rfc3339(&format!("{t}{}", tz.suffix()))?;
            return Some(Read { ns, zoned: false });
        }
        return None;
    }
    us_date(t, tz).map(|ns| Read { ns, zoned: false })
}

/// `M/d/yyyy h:mm:ss[.fff][ AM|PM]`, read in `tz`.
fn us_date(t: &str, tz: Tz) -> Option<i64> {
    let mut parts = t.split_whitespace();
    // The vSphere Client writes `03/02/2026, 11:00:00 AM`.
    let date = parts.next()?.trim_end_matches(',');
    let clock = parts.next()?;
    let ampm = parts.next();
    if parts.next().is_some() {
        return None;
    }
    let d: Vec<&str> = date.split('/').collect();
    let [mo, day, y] = d.as_slice() else {
        return None;
    };
    let num = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (mo, day, y) = (num(mo)?, num(day)?, num(y)?);
    if y < 1000 {
        return None;
    }
    let (hms, frac) = match clock.split_once('.') {
        Some((a, f)) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => (a, f),
        Some(_) => return None,
        None => (clock, ""),
    };
    let c: Vec<&str> = hms.split(':').collect();
    let [h, mi, s] = c.as_slice() else {
        return None;
    };
    let (mut h, mi, s) = (num(h)?, num(mi)?, num(s)?);
    match ampm.map(str::to_ascii_uppercase).as_deref() {
        None => {}
        Some("AM") if (1..=12).contains(&h) => h %= 12,
        Some("PM") if (1..=12).contains(&h) => h = h % 12 + 12,
        Some(_) => return None,
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    parse_rfc3339(&format!(
        "{y:04}-{mo:02}-{day:02}T{h:02}:{mi:02}:{s:02}{frac}{}",
        tz.suffix()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_parse_and_print() {
        assert_eq!("UTC".parse::<Tz>().unwrap().offset_s, 0);
        assert_eq!("+02:00".parse::<Tz>().unwrap().offset_s, 7200);
        assert_eq!("-0530".parse::<Tz>().unwrap().offset_s, -(5 * 3600 + 1800));
        assert_eq!("UTC+01".parse::<Tz>().unwrap().to_string(), "UTC+01:00");
        assert!("Europe/Berlin".parse::<Tz>().is_err());
        assert!("+25:00".parse::<Tz>().is_err());
    }

    #[test]
    fn every_form_is_read() {
        let utc = Tz::default();
        let plus2: Tz = "+02:00".parse().unwrap();
        let z = parse("2026-03-02T10:00:00.5Z", plus2).unwrap();
        assert!(z.zoned);
        assert_eq!(z.ns, 1_772_445_600_500_000_000);
        // Without a zone: read in the one given.
        let local = parse("2026-03-02T12:00:00.5", plus2).unwrap();
        assert_eq!((local.ns, local.zoned), (z.ns, false));
        assert_eq!(
            parse("3/2/2026 12:00:00 PM", plus2).unwrap().ns + 500_000_000,
            z.ns
        );
        assert_eq!(
            parse("3/2/2026 10:00:00 AM", utc).unwrap().ns + 500_000_000,
            z.ns
        );
        assert_eq!(
            parse("03/02/2026, 10:00:00 AM", utc).unwrap().ns + 500_000_000,
            z.ns
        );
        assert_eq!(
            parse("3/2/2026 12:00:00 AM", utc).unwrap().ns,
            z.ns - 36_000_500_000_000
        );
        assert_eq!(parse("/Date(1772445600500)/", plus2).unwrap().ns, z.ns);
        assert_eq!(parse("\\/Date(1772445600500)\\/", utc).unwrap().ns, z.ns);
        for bad in [
            "",
            "yesterday",
            "13/45/2026 1:00:00",
            "3/2/2026 13:00:00 PM",
            "2026-03-02",
        ] {
            assert_eq!(parse(bad, utc), None, "{bad}");
        }
    }
}
