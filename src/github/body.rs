//! Reading an answer's body within a bound: JSON pages, and the start of an error answer.

use anyhow::{Context, Result, bail};
use reqwest::Response;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::de::DeserializeOwned;

use super::model::ErrorBody;

/// Largest JSON answer read: a page of 100 artifacts or runs is a few hundred KiB, so this is
/// room to spare, and a bound on memory against an endless answer.
pub const MAX_JSON: usize = 8 << 20;
/// Of an error answer only the start is read: it is a message, not a document.
const MAX_ERROR_BODY: usize = 64 << 10;

/// A body read up to a cap.
pub(crate) enum Capped {
    All(Vec<u8>),
    /// More than the cap: reading stopped there.
    Over,
}

pub(crate) async fn read_capped(mut response: Response, cap: usize) -> reqwest::Result<Capped> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(Capped::Over);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(Capped::Over);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Capped::All(body))
}

/// The JSON value in an answer, or an error that says what came instead.
pub(crate) fn parse_json<T: DeserializeOwned>(
    url: &Url,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T> {
    let path = url.path();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let json = essence.is_empty() || essence.ends_with("json") || essence.ends_with("+json");
    if !json {
        let start = match shown_text(body, 60) {
            Some(start) => format!("starting {:?}", start.replace(char::is_control, " ").trim()),
            None => "binary data".to_string(),
        };
        bail!(
            "GitHub's answer to {path} is not JSON: expected JSON, got {essence} ({} bytes, {start}); is GITHUB_API_URL the API, and no proxy or sign-in page in the way?",
            body.len(),
        );
    }
    serde_json::from_slice(body)
        .with_context(|| format!("GitHub's answer to {path} is not the JSON expected"))
}

pub(crate) async fn read_error_message(response: Response) -> String {
    let bytes = match read_capped(response, MAX_ERROR_BODY).await {
        Ok(Capped::All(b)) => b,
        _ => Vec::new(),
    };
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(ErrorBody { message: Some(m) }) => m,
        _ => shown_text(&bytes, 200).map_or_else(
            || format!("{} bytes of binary data", bytes.len()),
            |text| text.trim().to_string(),
        ),
    }
}

/// The start of a body as text for a message (at most `max` bytes), or `None` when it is not
/// text: bytes that are not UTF-8, or control characters other than line breaks and tabs, would
/// fill an annotation with escapes that say nothing.
fn shown_text(body: &[u8], max: usize) -> Option<String> {
    let head = &body[..body.len().min(max)];
    // A cut may split the last character: only a bad sequence before the end counts.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let binary = text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
    (!binary).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::shown_text;

    #[test]
    fn text_is_shown_and_binary_is_not() {
        assert_eq!(
            shown_text(b"Not Found\n", 200).as_deref(),
            Some("Not Found\n")
        );
        assert_eq!(shown_text(b"PK\x03\x04zip", 200), None);
        assert_eq!(shown_text(&[0xff, 0xfe, b'a'], 200), None);
        // "é" cut in half at the bound is still text.
        assert_eq!(shown_text("aé".as_bytes(), 2).as_deref(), Some("a"));
    }
}
