//! The blob client: fetches the signed download URL the API redirects to, and carries no
//! credentials at all: the signature is in the query string, which is never logged.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use reqwest::header::{HeaderMap, RANGE, USER_AGENT};
use reqwest::{Url, redirect};

use super::error::transport_reason;
use super::gate::Gate;
use super::http::{install_crypto, user_agent};
use super::served::Reply;
use super::tls::Roots;
use util::log::Log;

/// The blob client: no token, ever. The signed URL's query string is never logged.
pub struct Blob {
    http: reqwest::Client,
    log: Log,
    /// The API client's gate: a secondary limit there holds downloads too, and a blob answer
    /// asking us to slow down (429/503 with Retry-After) holds the API as well.
    gate: Arc<Gate>,
}

impl Blob {
    pub fn new(stall: Duration, roots: &Roots, log: Log, gate: Arc<Gate>) -> Result<Blob> {
        install_crypto();
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, user_agent());
        let http = reqwest::Client::builder()
            .tls_certs_merge(roots.certs.clone())
            .default_headers(headers)
            // Blob storage does not redirect; if something does, a few hops at most. reqwest
            // would strip credentials on a host change, and we send none anyway.
            .redirect(redirect::Policy::limited(3))
            .connect_timeout(Duration::from_secs(30))
            // A stalled body (no bytes for this long) fails the read, and the download is retried.
            .read_timeout(stall)
            .pool_max_idle_per_host(32)
            .build()
            .context("cannot set up the download client")?;
        Ok(Blob { http, log, gate })
    }

    /// GETs a signed URL; bytes `start..=end` (`end` `None`: to the end) when a range is asked
    /// for, the whole body for `(0, None)`. Any status is returned to the caller.
    pub async fn get(&self, url: &Url, start: u64, end: Option<u64>) -> Result<Reply> {
        let shown = without_query(url);
        let mut request = self.http.get(url.clone());
        match end {
            Some(end) => request = request.header(RANGE, format!("bytes={start}-{end}")),
            None if start > 0 => request = request.header(RANGE, format!("bytes={start}-")),
            None => {}
        }
        self.gate.wait().await;
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GET {shown} failed: {}", transport_reason(&e)))?;
        self.log
            .debug(&format!("GET {shown} -> {}", response.status().as_u16()));
        if matches!(response.status().as_u16(), 429 | 503)
            && let Some(after) = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        {
            // The caller retries; everyone waits first.
            self.gate
                .hold(self.gate.scaled(Duration::from_secs(after.min(300))));
        }
        Ok(Reply::new(response))
    }
}

/// A URL fit for logs: origin and path, never the signed query.
pub fn without_query(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_query_never_shown() {
        let u = Url::parse("https://blob.example:8443/x/y.zip?sig=secret&se=1").unwrap();
        assert_eq!(without_query(&u), "https://blob.example:8443/x/y.zip");
    }
}
