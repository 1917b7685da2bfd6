//! Small helpers: clock and dates (RFC 3339 and the `Date` header, written and read by `time`),
//! base64, hex (crates/util's), percent-encoding and SHA-256.

use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};
use time::format_description::well_known::Rfc3339;

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

/// The instant `secs` after the Unix epoch, in UTC.
fn utc(secs: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(secs).expect("a time within 9999 years")
}

/// `2020-01-10T14:59:22Z` for a Unix time (`time`'s RFC 3339: no fraction for whole seconds).
pub fn rfc3339(secs: i64) -> String {
    utc(secs).format(&Rfc3339).expect("a four-digit year")
}

/// RFC 7231 IMF-fixdate for the `Date` header: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(secs: i64) -> String {
    let imf_fixdate = time::format_description::parse_borrowed::<2>(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT",
    )
    .expect("a valid format description");
    utc(secs).format(&imf_fixdate).expect("a four-digit year")
}

/// `2020-01-24T18:10:31.0000000Z` (the pipelines service's 7-digit fraction form).
pub fn iso_7frac(secs: i64) -> String {
    let base = rfc3339(secs);
    format!("{}.0000000Z", &base[..base.len() - 1])
}

/// Parses an RFC 3339 time (`2020-01-10T14:59:22Z`, with a fraction or an offset) to Unix
/// seconds; an impossible date (month 13, 30 February) or anything else is `None`.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let at = time::OffsetDateTime::parse(s, &Rfc3339).ok()?;
    Some(at.unix_timestamp())
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
    fn impossible_dates_and_trailing_text_are_refused() {
        assert_eq!(parse_rfc3339("2020-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2021-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2020-01-10T14:59:22Zjunk"), None);
        assert_eq!(
            parse_rfc3339("2020-01-10T15:59:22+01:00"),
            Some(1_578_668_362)
        );
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
