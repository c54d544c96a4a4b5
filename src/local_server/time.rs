//! Timestamps as Kili writes them: ISO 8601, UTC, millisecond precision, `Z` suffix.
//!
//! Pure functions; the store keeps times as milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now (0 if the clock is before 1970).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
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
    let t = text.trim();
    let (date, time) = match t.find(['T', 't', ' ']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let mut parts = date.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
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
        let h: i64 = f.next()?.parse().ok()?;
        let mi: i64 = f.next()?.parse().ok()?;
        let s: i64 = match f.next() {
            Some(s) => s.parse().ok()?,
            None => 0,
        };
        if f.next().is_some() || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        let milli = match frac {
            Some(fr) if !fr.is_empty() && fr.bytes().all(|b| b.is_ascii_digit()) => {
                let digits: String = fr.chars().chain("000".chars()).take(3).collect();
                digits.parse::<i64>().ok()?
            }
            Some(_) => return None,
            None => 0,
        };
        ms += ((h * 60 + mi) * 60 + s) * 1000 + milli - offset_ms;
    }
    Some(ms)
}

/// Splits `HH:MM:SS[.fff]` from a trailing `Z` or `±HH:MM`, returning the offset in ms.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    match time.rfind(['+', '-']) {
        Some(i) => {
            let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
            let (oh, om) = time[i + 1..]
                .split_once(':')
                .unwrap_or((&time[i + 1..], "0"));
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

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
            assert_eq!(parse_iso(&format_ms(ms)), Some(ms));
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
}
