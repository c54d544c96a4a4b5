//! Timestamps as Kili writes them (`2024-05-01T12:34:56.789Z`) and reads them in filters, in
//! milliseconds since the Unix epoch.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

/// Returns the time now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// Formats now as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), for the `Date` header servers
/// send.
pub(crate) fn http_date() -> String {
    Timestamp::now()
        .strftime("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Formats `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(crate) fn format_ms(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        // Out of jiff's range (beyond year ±9999): clamp, as no stored time gets there.
        Err(_) if ms < 0 => Timestamp::MIN
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
        Err(_) => Timestamp::MAX
            .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
    }
}

/// Parses the ISO 8601 forms clients send in filters: an instant with `Z` or an offset, a date
/// and time without one (UTC), or a date (midnight UTC). Sub-millisecond digits are dropped.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts.as_millisecond());
    }
    // Beyond the instants jiff represents (the last hours of year 9999), clamp: a filter that
    // far out means "no bound".
    let utc = |dt: DateTime| match TimeZone::UTC.to_timestamp(dt) {
        Ok(t) => Some(t.as_millisecond()),
        Err(_) if dt.year() > 0 => Some(Timestamp::MAX.as_millisecond()),
        Err(_) => Some(Timestamp::MIN.as_millisecond()),
    };
    let civil = t.strip_suffix(['Z', 'z']).unwrap_or(t);
    if let Ok(dt) = civil.parse::<DateTime>() {
        return utc(dt);
    }
    t.parse::<Date>()
        .ok()
        .and_then(|d| utc(d.to_datetime(jiff::civil::Time::midnight())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_have_the_imf_fixdate_shape() {
        let d = http_date();
        assert_eq!(d.len(), 29, "{d}");
        assert!(d.ends_with(" GMT") && d.as_bytes()[3] == b',', "{d}");
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_what_it_formats_and_common_forms() {
        for ms in [0, 1, 951_782_400_123, 1_700_000_000_456, now_ms()] {
            assert_eq!(parse_iso(&format_ms(ms)), Some(ms));
        }
        assert_eq!(parse_iso("2000-02-29"), Some(951_782_400_000));
        assert_eq!(
            parse_iso("2000-02-29T01:00:00+01:00"),
            Some(951_782_400_000)
        );
        assert_eq!(parse_iso("2000-02-29T00:00:00.5"), Some(951_782_400_500));
        assert_eq!(
            parse_iso("2000-02-29 00:00:00.123456Z"),
            Some(951_782_400_123)
        );
        for bad in ["", "2000", "2000-13-01", "2000-01-01Tnope", "a-b-c"] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }
}
