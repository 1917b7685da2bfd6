//! Unix-second conversions for the two time spellings in play: RFC 3339 in trusted roots and
//! ASN.1 GeneralizedTime in timestamps (certificates use x509-cert's own).

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` to Unix seconds (fractions dropped).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        rest = frac.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            // Exactly `HH:MM` within a day: a longer number would overflow the arithmetic.
            let (oh, om) = rest[1..].split_once(':')?;
            let two = |s: &str| (s.len() == 2).then(|| s.parse::<i64>().ok())?;
            let (oh, om) = (two(oh).filter(|h| *h < 24)?, two(om).filter(|m| *m < 60)?);
            sign * (oh * 3600 + om * 60)
        }
    };
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`, for messages and outputs.
pub fn format(t: i64) -> String {
    let days = t.div_euclid(86400);
    let secs = t.rem_euclid(86400);
    let (y, m, d) = crate::util::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

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
    fn a_trusted_root_with_an_overflowing_offset_is_refused() {
        let root = concat!(
            r#"{"certificateAuthorities": [{"certChain": {"certificates": []}, "#,
            r#""validFor": {"start": "2020-01-01T00:00:00+9999999999999999:00"}}]}"#
        );
        let err = crate::attest::TrustedRoot::parse(root).unwrap_err();
        assert!(err.contains("not an RFC 3339 time"), "{err}");
    }
}
