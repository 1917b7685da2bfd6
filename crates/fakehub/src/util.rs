//! Small helpers: clock and RFC 3339 formatting (on `time`), base64, hex (crates/util's),
//! percent-encoding and SHA-256.

use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

/// The first header with this name, case-insensitively (names are stored lower-cased).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    headers
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2020-01-10T14:59:22Z` for a Unix time (the calendar is the `time` crate's).
pub fn rfc3339(secs: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(secs).expect("a time within 9999 years");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year(),
        d.month() as u8,
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// RFC 7231 IMF-fixdate for the `Date` header: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(secs: i64) -> String {
    let d = time::OffsetDateTime::from_unix_timestamp(secs).expect("a time within 9999 years");
    let weekday = &d.weekday().to_string()[..3];
    let month = &d.month().to_string()[..3];
    format!(
        "{weekday}, {:02} {month} {:04} {:02}:{:02}:{:02} GMT",
        d.day(),
        d.year(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

/// `2020-01-24T18:10:31.0000000Z` (the pipelines service's 7-digit fraction form).
pub fn iso_7frac(secs: i64) -> String {
    let base = rfc3339(secs);
    format!("{}.0000000Z", &base[..base.len() - 1])
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (or `+00:00`) to Unix seconds; an impossible date
/// (month 13, 30 February) is `None`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u8>().ok();
    let year = s.get(0..4)?.parse::<i32>().ok()?;
    let month = time::Month::try_from(num(5..7)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, num(8..10)?).ok()?;
    let at = date
        .with_hms(num(11..13)?, num(14..16)?, num(17..19)?)
        .ok()?;
    Some(at.assume_utc().unix_timestamp())
}

/// Standard base64 with padding.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(T[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Lower-case hex: the workspace's one encoder (`::util` is crates/util, not this module).
pub use ::util::hex;

/// `hex(sha256(data))`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes; `plus_is_space` for query components. `None` on bad escapes or non-UTF-8.
pub fn pct_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A query string split into raw (still encoded) `key=value` pairs, in order.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: &str) -> Query {
        let pairs = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect();
        Query { pairs }
    }

    /// The decoded value of the first `key` (`None` if absent or undecodable).
    pub fn get(&self, key: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _)| pct_decode(k, true).as_deref() == Some(key))
            .and_then(|(_, v)| pct_decode(v, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_578_668_362), "2020-01-10T14:59:22Z");
        assert_eq!(parse_rfc3339("2020-01-10T14:59:22Z"), Some(1_578_668_362));
        assert_eq!(
            parse_rfc3339(&iso_7frac(1_700_000_000)),
            Some(1_700_000_000)
        );
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn encodings() {
        assert_eq!(base64(b"08:Artifact11"), "MDg6QXJ0aWZhY3QxMQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(pct_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(pct_decode("a%20b+c", true).as_deref(), Some("a b c"));
        assert_eq!(pct_decode("%zz", true), None);
        let q = Query::parse("name=my%20art&per_page=5&x");
        assert_eq!(q.get("name").as_deref(), Some("my art"));
        assert_eq!(q.get("x").as_deref(), Some(""));
        assert_eq!(q.get("nope"), None);
    }
}
