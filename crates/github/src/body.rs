//! Reading an answer's body within a bound: the one place a body from the network is consumed
//! (API pages, blob downloads and ranges, attestation bundles, error answers), so none is read
//! without one (`tests/it/architecture.rs` fails on a body read anywhere else). [`BodyReader`]
//! streams a body chunk by chunk up to a cap; [`read_capped`] reads a whole one; [`snippet`]
//! reads the start of an error answer for a message.

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

/// A response's body, streamed chunk by chunk, never past `cap` bytes in all.
pub struct BodyReader {
    response: Response,
    cap: u64,
    read: u64,
}

/// Why a [`BodyReader`] stopped.
#[derive(Debug)]
pub enum BodyError {
    /// The server sent more than the cap; what came past it was not kept.
    Over,
    /// The connection failed mid-body.
    Transport(Transport),
}

/// A connection that failed mid-body. It reads as the HTTP client's error (its text and its
/// causes, for the message), without handing that error out of `github/`.
#[derive(Debug)]
pub struct Transport(reqwest::Error);

impl Transport {
    /// No bytes for the client's read timeout (a stall), rather than a connection cut.
    pub fn is_timeout(&self) -> bool {
        self.0.is_timeout()
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Transport {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl BodyReader {
    pub(crate) fn new(response: Response, cap: u64) -> BodyReader {
        BodyReader {
            response,
            cap,
            read: 0,
        }
    }

    /// The next chunk (`None` at the end of the body). A chunk that crosses the cap is cut at
    /// it; any byte after the cap is an error, and nothing more is read.
    pub async fn next_chunk(
        &mut self,
    ) -> Result<Option<impl std::ops::Deref<Target = [u8]> + use<>>, BodyError> {
        if self.read > self.cap {
            return Err(BodyError::Over);
        }
        let chunk = self.response.chunk().await;
        let Some(mut chunk) = chunk.map_err(|e| BodyError::Transport(Transport(e)))? else {
            return Ok(None);
        };
        let room = self.cap - self.read;
        self.read += chunk.len() as u64;
        if chunk.len() as u64 > room {
            if room == 0 {
                return Err(BodyError::Over);
            }
            chunk.truncate(room as usize);
        }
        Ok(Some(chunk))
    }
}

pub(crate) async fn read_capped(response: Response, cap: usize) -> reqwest::Result<Capped> {
    if response.content_length().is_some_and(|n| n > cap as u64) {
        return Ok(Capped::Over);
    }
    let mut reader = BodyReader::new(response, cap as u64);
    let mut body = Vec::new();
    loop {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => return Ok(Capped::All(body)),
            Err(BodyError::Over) => return Ok(Capped::Over),
            Err(BodyError::Transport(Transport(e))) => return Err(e),
        }
    }
}

/// The start of an error answer's body for a message: at most [`MAX_ERROR_BODY`] is read (an
/// error body may never end; dropping the response then hangs up), the first 120 characters
/// shown; empty when there is none, "N bytes of binary data" when it is not text (N counted
/// within the bound).
pub(crate) async fn snippet(response: Response) -> String {
    let mut reader = BodyReader::new(response, MAX_ERROR_BODY as u64);
    let mut bytes = Vec::new();
    loop {
        match reader.next_chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(BodyError::Over) => break,
            Err(BodyError::Transport(_)) if !bytes.is_empty() => break,
            Err(BodyError::Transport(_)) => return String::new(),
        }
    }
    match shown_text(&bytes, 480) {
        Some(text) => text.trim().chars().take(120).collect(),
        None => format!("{} bytes of binary data", bytes.len()),
    }
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
/// text: bytes that are not UTF-8, a NUL, or control characters (other than line breaks and
/// tabs) in more than one character of eight would fill an annotation with escapes that say
/// nothing. A few controls in text stay: the log shows them escaped.
fn shown_text(body: &[u8], max: usize) -> Option<String> {
    let head = &body[..body.len().min(max)];
    // A cut may split the last character: only a bad sequence before the end counts.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    let binary = text.contains('\0') || controls * 8 > text.chars().count();
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
        assert_eq!(shown_text(b"a\0b", 200), None);
        // A stray control character in text is still text (the log escapes it).
        let stray = "gone\r::warning::x\u{85}y";
        assert_eq!(shown_text(stray.as_bytes(), 200).as_deref(), Some(stray));
        // "é" cut in half at the bound is still text.
        assert_eq!(shown_text("aé".as_bytes(), 2).as_deref(), Some("a"));
    }
}
