//! `Content-Disposition`: the file name a server gives an unzipped artifact.
//!
//! Only parsing lives here; whether the name is safe to write is the caller's decision.

/// The file name: `filename*=UTF-8''…` first, then `filename=`; the base name only (anything up
/// to the last `/` or `\\` dropped).
pub fn file_name(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in header.split(';').map(str::trim) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let v = value.trim();
                let encoded = v.split_once("''").map(|(_, rest)| rest).unwrap_or(v);
                extended = percent_decode(encoded);
            }
            "filename" => plain = Some(value.trim().trim_matches('"').to_string()),
            _ => {}
        }
    }
    let name = extended.or(plain)?;
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    (!base.is_empty()).then(|| base.to_string())
}

/// `%XX` escapes of `filename*` (RFC 5987); `None` for a malformed escape or invalid UTF-8.
///
/// The decoding is the `percent-encoding` crate's (already in the tree through `url`, so no build
/// time). It passes a `%` not followed by two hex digits through as text; this parser refuses
/// such a name instead (a server that garbles one escape may garble others), so the check comes
/// first. A `%` among the last two bytes has no room for an escape and stays text, as there.
fn percent_decode(s: &str) -> Option<String> {
    let malformed = s
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && !(w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit()));
    if malformed {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(s).decode_utf8().ok()?;
    Some(decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn names() {
        assert_eq!(
            file_name("attachment; filename=\"report.txt\"").as_deref(),
            Some("report.txt")
        );
        assert_eq!(
            file_name("attachment; filename=\"a.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt")
                .as_deref(),
            Some("résumé.txt")
        );
        assert_eq!(
            file_name("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        // Parsed as given: the caller refuses names that are not a safe component.
        assert_eq!(
            file_name("attachment; filename=\"..\"").as_deref(),
            Some("..")
        );
        assert_eq!(file_name("attachment; filename=\"dir/\"").as_deref(), None);
        assert_eq!(
            file_name("attachment; filename*=UTF-8''%+1").as_deref(),
            None
        );
        assert_eq!(file_name("attachment").as_deref(), None);
    }
}
