//! Kili's timestamps (`2024-05-01T12:34:56.789Z`) to and from milliseconds since the Unix epoch,
//! for the catch-up query's `createdAtGte`. No date library needed for one format.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch of `t` (negative before 1970).
pub(crate) fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC).
pub(crate) fn format_millis(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.fff...][Z|±HH:MM]` into milliseconds since the epoch.
pub(crate) fn parse_millis(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ms = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &b[start..i.min(start + 3)];
        let mut v = 0i64;
        for (k, c) in digits.iter().enumerate() {
            v += i64::from(c - b'0') * [100, 10, 1][k];
        }
        frac_ms = v;
    }
    let offset_min = match b.get(i..) {
        Some([]) | Some([b'Z' | b'z']) => 0,
        Some([sign @ (b'+' | b'-'), rest @ ..]) if rest.len() == 5 && rest[2] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let v = oh * 60 + om;
            if *sign == b'-' { -v } else { v }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi - offset_min) * 60_000 + se * 1000 + frac_ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_millis("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            parse_millis("2021-12-08T16:10:37.123Z"),
            Some(1_638_979_837_123)
        );
        assert_eq!(format_millis(1_638_979_837_123), "2021-12-08T16:10:37.123Z");
        assert_eq!(format_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn variants_of_the_format() {
        let base = parse_millis("2024-05-01T12:00:00.000Z").unwrap();
        assert_eq!(parse_millis("2024-05-01T12:00:00Z"), Some(base));
        assert_eq!(parse_millis("2024-05-01 12:00:00"), Some(base));
        assert_eq!(parse_millis("2024-05-01T12:00:00.5Z"), Some(base + 500));
        assert_eq!(
            parse_millis("2024-05-01T12:00:00.123456Z"),
            Some(base + 123)
        );
        assert_eq!(parse_millis("2024-05-01T14:00:00+02:00"), Some(base));
        assert_eq!(parse_millis("2024-05-01T11:30:00-00:30"), Some(base));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        for s in [
            "",
            "2024",
            "2024-05-01",
            "2024-13-01T00:00:00Z",
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00:00.Z",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00Zjunk",
            "2024-05-01X12:00:00Z",
            "é024-05-01T12:00:00Z",
            "+024-05-01T12:00:00Z",
        ] {
            assert_eq!(parse_millis(s), None, "{s:?}");
        }
    }

    #[test]
    fn round_trips() {
        for ms in [
            0,
            1,
            999,
            86_399_999,
            1_700_000_000_000,
            4_102_444_800_000,
            -86_400_000 * 365,
        ] {
            assert_eq!(parse_millis(&format_millis(ms)), Some(ms), "{ms}");
        }
        let now = millis(SystemTime::now());
        assert_eq!(parse_millis(&format_millis(now)), Some(now));
    }
}
