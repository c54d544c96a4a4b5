//! Timestamps as Kili writes them (`2024-05-01T12:34:56.789Z`: ISO 8601, UTC, millisecond
//! precision) and HTTP dates (`Retry-After`), to and from milliseconds since the Unix epoch.
//!
//! Pure functions shared by the client and the subscriptions; no calendar crate is needed for
//! two fixed formats.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch of `t` (negative before 1970).
pub(crate) fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Returns the time `ms` milliseconds after the epoch (saturating at the ends of `SystemTime`).
pub(crate) fn to_system_time(ms: i64) -> SystemTime {
    let d = Duration::from_millis(ms.unsigned_abs());
    let t = if ms >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    };
    t.unwrap_or(UNIX_EPOCH)
}

/// Formats a time as Kili does: `2024-05-01T12:34:56.789Z`.
pub(crate) fn format_iso8601(t: SystemTime) -> String {
    format_ms(millis(t))
}

/// Formats `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn format_ms(ms: i64) -> String {
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

/// Parses the ISO 8601 forms clients send in filters: a date (`2024-01-31`), or a date and time
/// with optional fraction and optional `Z` / `±HH:MM` offset (no offset means UTC).
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    if let Some(ms) = parse_canonical(text.as_bytes()) {
        return Some(ms);
    }
    let t = text.trim();
    let (date, time) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if !date.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return None;
    }
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    // Four-digit years only, as ISO 8601 without an agreed expansion: a longer one would
    // overflow the milliseconds.
    if parts.next().is_some()
        || !(0..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
    {
        return None;
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(time) = time {
        let (clock, offset_ms) = split_offset(time)?;
        let (hms, frac) = match clock.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (clock, None),
        };
        let mut f = hms.split(':');
        // Unsigned: a negative field (`00:00:-9223372036854775808Z`) is not a time, and would
        // overflow below.
        let h: u8 = f.next()?.parse().ok()?;
        let mi: u8 = f.next()?.parse().ok()?;
        let s: u8 = match f.next() {
            Some(s) => s.parse().ok()?,
            None => 0,
        };
        if f.next().is_some() || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let (h, mi, s) = (i64::from(h), i64::from(mi), i64::from(s));
        let milli = match frac {
            Some(fr) if !fr.is_empty() && fr.bytes().all(|b| b.is_ascii_digit()) => fr
                .bytes()
                .chain(*b"000")
                .take(3)
                .fold(0, |n, b| n * 10 + i64::from(b - b'0')),
            Some(_) => return None,
            None => 0,
        };
        ms += ((h * 60 + mi) * 60 + s) * 1000 + milli - offset_ms;
    }
    Some(ms)
}

/// Returns the form Kili writes, `YYYY-MM-DDTHH:MM:SS.mmmZ`, read without splitting or allocating.
fn parse_canonical(b: &[u8]) -> Option<i64> {
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    let sep = |i: usize, c: u8| b[i] == c;
    if !(sep(4, b'-')
        && sep(7, b'-')
        && sep(10, b'T')
        && sep(13, b':')
        && sep(16, b':')
        && sep(19, b'.'))
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, s, milli) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // In range: checked just above.
    let (m, d) = (m as u32, d as u32);
    Some(days_from_civil(y, m, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + milli)
}

/// Splits `HH:MM:SS[.fff]` from a trailing `Z` or `±HH:MM`, returning the offset in ms.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match time.rfind(['+', '-']) {
        Some(i) => {
            let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
            let (oh, om) = time[i + 1..].split_once(':')?;
            if oh.len() != 2
                || om.len() != 2
                || !(oh.bytes().chain(om.bytes())).all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let minutes = oh.parse::<i64>().ok()? * 60 + om.parse::<i64>().ok()?;
            Some((&time[..i], sign * minutes * 60_000))
        }
        None => Some((time, 0)),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Converts (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP date format servers
/// must send. Obsolete formats are not accepted.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (_, rest) = s.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':');
    let h: u64 = hms.next()?.parse().ok()?;
    let mi: u64 = hms.next()?.parse().ok()?;
    let se: u64 = hms.next()?.parse().ok()?;
    if parts.next()? != "GMT" || parts.next().is_some() || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Four-digit years, as the format has: a longer one would overflow the seconds.
    if !(1..=31).contains(&day) || !(1970..=9999).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + mi * 60 + se;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_ms(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_what_it_formats_and_common_forms() {
        for ms in [0, 1, 951_782_400_123, 1_700_000_000_456, 4_102_444_799_999] {
            let text = format_ms(ms);
            assert_eq!(parse_canonical(text.as_bytes()), Some(ms), "{text}");
            // The general path (a lowercase `t` skips the fast one) agrees.
            assert_eq!(parse_iso(&text.replace('T', "t")), Some(ms), "{text}");
        }
        for bad in [
            "2000-13-01T00:00:00.000Z",
            "2000-01-01T24:00:00.000Z",
            "2000-01-01T00:00:00.0a0Z",
        ] {
            assert_eq!(parse_canonical(bad.as_bytes()), None, "{bad}");
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
        assert_eq!(parse_iso("2000-02-29"), Some(951_782_400_000));
        assert_eq!(parse_iso("2000-02-29T00:00:00Z"), Some(951_782_400_000));
        assert_eq!(
            parse_iso("2000-02-29T01:00:00+01:00"),
            Some(951_782_400_000)
        );
        assert_eq!(parse_iso("2000-02-29T00:00:00.5"), Some(951_782_400_500));
        for bad in [
            "",
            "2000",
            "2000-13-01",
            "2000-01-01Tnope",
            "2000-01-01T00:00:00.x",
            "a-b-c",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn converts_to_system_times() {
        assert_eq!(millis(to_system_time(1_234)), 1_234);
        assert_eq!(millis(to_system_time(-5)), -5);
    }

    #[test]
    fn formats_system_times() {
        assert_eq!(format_iso8601(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_210_096_789); // a leap-year day
        assert_eq!(format_iso8601(t), "2024-02-29T12:34:56.789Z");
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999Z");
        let now = millis(SystemTime::now());
        assert_eq!(parse_iso(&format_ms(now)), Some(now));
    }

    #[test]
    fn variants_and_garbage() {
        let base = parse_iso("2024-05-01T12:00:00.000Z").unwrap();
        assert_eq!(parse_iso("2024-05-01 12:00:00"), Some(base));
        assert_eq!(parse_iso("2024-05-01T12:00:00.123456Z"), Some(base + 123));
        assert_eq!(parse_iso("2024-05-01T11:30:00-00:30"), Some(base));
        for s in [
            "2024-05-01T25:00:00Z",
            "2024-05-01T12:00:00+0200",
            "2024-05-01T12:00:00Zjunk",
            "2024-05-01X12:00:00Z",
            "\u{e9}024-05-01T12:00:00Z",
            "+024-05-01T12:00:00Z",
            // Would overflow: negative fields, endless years.
            "2024-05-01T00:00:-9223372036854775808Z",
            "2024-05-01T-1:00:00Z",
            "99999999999999999-05-01T12:00:00Z",
            "9223372036854775807-12-31",
        ] {
            assert_eq!(parse_iso(s), None, "{s:?}");
        }
    }

    #[test]
    fn parses_imf_fixdate() {
        let t = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 784_111_777);
        assert!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").is_none());
        assert!(parse_http_date("120").is_none());
        assert!(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC").is_none());
        assert!(parse_http_date("Sun, 06 Nov 9223372036854775807 08:49:37 GMT").is_none());
        assert!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
    }
}
