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
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = &bytes[i + 1..i + 3];
            // Two hex digits exactly (`from_str_radix` would also take a sign).
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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
