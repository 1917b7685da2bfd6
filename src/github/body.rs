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
        let start: String = String::from_utf8_lossy(&body[..body.len().min(60)])
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        bail!(
            "GitHub's answer to {path} is not JSON: expected JSON, got {essence} ({} bytes, starting {:?}); is GITHUB_API_URL the API, and no proxy or sign-in page in the way?",
            body.len(),
            start.trim()
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
        _ => String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            .trim()
            .to_string(),
    }
}
