//! `Content-Range: bytes START-END/TOTAL`, the answer to a ranged blob request.

/// A parsed `Content-Range`. `total` is `None` for `*` (length unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
    pub total: Option<u64>,
}

/// `bytes START-END/TOTAL` (or `/*`), with `START <= END < TOTAL`; anything else is `None`.
/// The unit is read in any case: range units are case-insensitive (RFC 9110 §14.1).
pub fn parse(value: &str) -> Option<ContentRange> {
    let value = value.trim();
    let unit = value.get(..6)?;
    let rest = unit.eq_ignore_ascii_case("bytes ").then(|| &value[6..])?;
    let (span, total) = rest.split_once('/')?;
    let (start, end) = span.split_once('-')?;
    let number = |s: &str| -> Option<u64> {
        // Digits only: `parse` would also take a sign.
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let (start, end) = (number(start)?, number(end)?);
    let total = match total {
        "*" => None,
        t => Some(number(t)?),
    };
    let consistent = start <= end && total.is_none_or(|t| end < t);
    consistent.then_some(ContentRange { start, end, total })
}

#[cfg(test)]
mod tests {
    use super::{ContentRange, parse};

    #[test]
    fn the_unit_is_read_in_any_case() {
        let want = Some(ContentRange {
            start: 0,
            end: 0,
            total: None,
        });
        assert_eq!(parse("BYTES 0-0/*"), want);
        assert_eq!(parse("Bytes 0-0/*"), want);
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse("bytes 0-99/1000"),
            Some(ContentRange {
                start: 0,
                end: 99,
                total: Some(1000)
            })
        );
        assert_eq!(
            parse("bytes 5-9/*"),
            Some(ContentRange {
                start: 5,
                end: 9,
                total: None
            })
        );
        for bad in [
            "bytes 10-9/100",
            "bytes 0-100/100",
            "bytes +0-9/100",
            "bytes 0-9/-1",
            "bytes */100",
            "0-9/100",
            "bytes 0-9",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
