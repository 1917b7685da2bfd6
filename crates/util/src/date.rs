//! The crate's one date module: Unix seconds to and from the spellings in play — RFC 3339 (trusted
//! roots, API timestamps, outputs), ASN.1 GeneralizedTime with fractions (RFC 3161 tokens) and the
//! rate-limit message's `YYYY-MM-DD HH:MM:SS UTC`.
//!
//! The calendar is `der::DateTime` (a dependency already, for the certificates): it checks each
//! field (a 30 February is refused, not rolled over) and covers 1970 to 9999, which every time
//! here falls in. Only the syntax around it is ours.

use std::time::Duration;

use der::DateTime;

/// The calendar fields of a UTC time, as written.
struct Fields {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

impl Fields {
    fn unix(&self) -> Option<i64> {
        let t = DateTime::new(
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
        )
        .ok()?;
        i64::try_from(t.unix_duration().as_secs()).ok()
    }
}

/// `n` ASCII digits at `at` of `text`; anything else, a sign or a multi-byte character included,
/// is `None` (`get`, not indexing: a slice boundary inside a character refuses, never panics).
fn digits<T: std::str::FromStr>(text: &str, at: usize, n: usize) -> Option<T> {
    let s = text.get(at..at + n)?;
    s.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| s.parse().ok())?
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` to Unix seconds (fractions dropped).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let fields = Fields {
        year: digits(text, 0, 4)?,
        month: digits(text, 5, 2)?,
        day: digits(text, 8, 2)?,
        hour: digits(text, 11, 2)?,
        minute: digits(text, 14, 2)?,
        second: digits(text, 17, 2)?,
    };
    let mut rest = text.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    Some(fields.unix()? - utc_offset(rest)?)
}

/// `Z`, or `±HH:MM` within a day, in seconds east of UTC.
fn utc_offset(text: &str) -> Option<i64> {
    if matches!(text, "Z" | "z") {
        return Some(0);
    }
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    // Exactly `HH:MM`: a longer number would overflow the arithmetic.
    let (h, m) = text[1..].split_once(':')?;
    let two = |s: &str| (s.len() == 2).then(|| digits::<i64>(s, 0, 2))?;
    let (h, m) = (two(h).filter(|h| *h < 24)?, two(m).filter(|m| *m < 60)?);
    Some(sign * (h * 3600 + m * 60))
}

/// GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z` to Unix seconds. RFC 3161 allows fractions, which
/// X.509 DER forbids, so der's own GeneralizedTime (strict DER) would refuse real tokens.
pub fn parse_generalized_time(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let body = text.strip_suffix('Z')?;
    let (whole, frac) = body.split_once('.').unwrap_or((body, "0"));
    if whole.len() != 14 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Fields {
        year: digits(whole, 0, 4)?,
        month: digits(whole, 4, 2)?,
        day: digits(whole, 6, 2)?,
        hour: digits(whole, 8, 2)?,
        minute: digits(whole, 10, 2)?,
        second: digits(whole, 12, 2)?,
    }
    .unix()
}

/// The calendar time of `t` (Unix seconds), if der's calendar holds it (1970 to 9999).
fn calendar(t: i64) -> Option<DateTime> {
    DateTime::from_unix_duration(Duration::from_secs(u64::try_from(t).ok()?)).ok()
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`, for messages and outputs; a time outside 1970-9999
/// (none reaches here: certificates and tokens spell four-digit years) as its Unix seconds.
pub fn format(t: i64) -> String {
    match calendar(t) {
        Some(d) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minutes(),
            d.seconds()
        ),
        None => format!("{t} (Unix time)"),
    }
}

/// `2024-01-01 12:00:00 UTC` for a Unix time (the rate-limit message); a reset a server dates past
/// 9999 as its Unix seconds.
pub fn utc(unix: u64) -> String {
    match i64::try_from(unix).ok().and_then(calendar) {
        Some(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year(),
            d.month(),
            d.day(),
            d.hour(),
            d.minutes(),
            d.seconds()
        ),
        None => format!("{unix} (Unix time)"),
    }
}

/// Serde adapters for RFC 3339 fields.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer};

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(t) => super::parse_rfc3339(&t)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {t}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_through_format() {
        let t = parse_rfc3339("2022-12-31T23:59:59.999Z").unwrap();
        assert_eq!(format(t), "2022-12-31T23:59:59Z");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339("2024-02-29T12:00:00Z").map(format).unwrap(),
            "2024-02-29T12:00:00Z"
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn offsets_out_of_range_are_refused_not_overflowed() {
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00+99999999999999:00"), None);
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00-00:99999999999999999"),
            None
        );
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00+24:00"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00+1:00"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00-23:59"), Some(1704153540));
    }

    #[test]
    fn impossible_dates_are_refused_not_rolled_over() {
        assert_eq!(parse_rfc3339("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T24:00:00Z"), None);
        assert_eq!(parse_generalized_time(b"20230230000000Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00Ü"), None);
    }

    #[test]
    fn rate_limit_times_read_well() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
        assert_eq!(utc(u64::MAX), "18446744073709551615 (Unix time)");
        assert_eq!(format(-1), "-1 (Unix time)");
    }
}
