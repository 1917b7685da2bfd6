//! Two HTTP clients with one job each.
//!
//! [`GitHub`] talks to the REST API: it adds the token, but only to URLs on the API's own origin
//! (a `Link` or redirect to anywhere else is refused, so the token never leaves), follows no
//! redirects, retries transport errors and 5xx with exponential backoff and jitter, and shares
//! one rate-limit gate between all tasks so that five concurrent downloads do not each discover
//! the limit. [`Blob`] fetches the signed download URL the API redirects to, and carries no
//! credentials at all: the signature is in the query string, which is never logged.
//!
//! reqwest rather than octocrab: octocrab 0.54 buffers a whole artifact in memory, lists 30 a page
//! and prefixes the GHES base path onto foreign URLs (measured; see README's design notes).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, LOCATION, RANGE, USER_AGENT};
use reqwest::{Certificate, Method, Response, StatusCode, Url, redirect};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::model::{Artifact, ArtifactList, ErrorBody};
use super::pages::next_link;
use crate::log::Log;
use crate::settings::{Settings, Timing};
use crate::util::random_unit;

/// A primary rate limit that resets further away than this is an error, not a wait.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(15 * 60);
/// A run with more artifacts than this is not a run we should page through blindly.
const MAX_PAGES: usize = 100;

/// An HTTP answer we did not want, with GitHub's own message.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub message: String,
    /// `X-Accepted-GitHub-Permissions` on a 403: what the endpoint needs (`actions=read`).
    pub needs: Option<String>,
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let reason = StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("");
        write!(
            f,
            "{} {} answered {} {}",
            self.method, self.path, self.status, reason
        )?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        match (self.status, &self.needs) {
            (401, _) => write!(f, " (check github-token)")?,
            (403, Some(needs)) => write!(
                f,
                " (the token lacks a permission this endpoint needs, {needs}: add `permissions: {}` to the job, or give github-token a token that has it)",
                permissions_yaml(needs)
            )?,
            (403, None) if self.message.contains("not accessible by integration") => write!(
                f,
                " (the job's token lacks a permission: artifacts need `permissions: actions: read`)"
            )?,
            (404, _) => write!(
                f,
                " (a private repository the token cannot see answers 404 too: check repository and github-token)"
            )?,
            _ => {}
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

/// `actions=read; pull_requests=read` -> `{ actions: read, pull-requests: read }`: the
/// `permissions:` block a workflow writes (YAML keys use hyphens). One permission is written
/// inline (`actions: read`).
fn permissions_yaml(needs: &str) -> String {
    let pairs: Vec<String> = needs
        .split([';', ','])
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| format!("{}: {}", k.trim().replace('_', "-"), v.trim()))
        .collect();
    match pairs.as_slice() {
        [one] => one.clone(),
        _ => format!("{{ {} }}", pairs.join(", ")),
    }
}

/// The status of an [`HttpError`] anywhere in an error chain.
pub fn http_status(err: &anyhow::Error) -> Option<u16> {
    err.chain()
        .find_map(|e| e.downcast_ref::<HttpError>())
        .map(|e| e.status)
}

fn user_agent() -> HeaderValue {
    HeaderValue::from_static(concat!(
        "artifetch/",
        env!("CARGO_PKG_VERSION"),
        " (+https://github.com/artifetch/artifetch)"
    ))
}

fn install_crypto() {
    // rustls on ring: pure Rust + asm, no cmake/aws-lc build. Installing twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The REST API client: token, retries, rate-limit gate, request count.
pub struct GitHub {
    http: reqwest::Client,
    base: String,
    base_url: Url,
    token: String,
    log: Log,
    timing: Timing,
    requests: AtomicU64,
    /// No API request is sent before this instant (set by rate-limit answers).
    not_before: Mutex<Option<Instant>>,
}

impl GitHub {
    /// `roots`: the extra trusted certificates ([`super::tls::extra_roots`]), read once for
    /// both clients.
    pub fn new(settings: &Settings, roots: &[Certificate], log: Log) -> Result<GitHub> {
        install_crypto();
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        headers.insert(USER_AGENT, user_agent());
        let http = reqwest::Client::builder()
            .tls_certs_merge(roots.to_vec())
            .default_headers(headers)
            .redirect(redirect::Policy::none())
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60).max(settings.timing.stall))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(GitHub {
            http,
            base: settings.api_url.as_str().trim_end_matches('/').to_string(),
            base_url: settings.api_url.clone(),
            token: settings.token.clone(),
            log,
            timing: settings.timing,
            requests: AtomicU64::new(0),
            not_before: Mutex::new(None),
        })
    }

    /// API requests sent so far (retries included).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub(crate) fn endpoint(&self, path: &str) -> Result<Url> {
        Url::parse(&format!("{}{path}", self.base))
            .with_context(|| format!("bad API URL for {path}"))
    }

    pub(crate) fn same_origin(&self, url: &Url) -> bool {
        url.scheme() == self.base_url.scheme()
            && url.host_str() == self.base_url.host_str()
            && url.port_or_known_default() == self.base_url.port_or_known_default()
    }

    /// Every artifact of a run, following `Link: rel="next"`; with `name`, the server filters.
    pub async fn list_run_artifacts(
        &self,
        owner: &str,
        repo: &str,
        run_id: u64,
        name: Option<&str>,
    ) -> Result<Vec<Artifact>> {
        let mut url = self.endpoint(&format!(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts"
        ))?;
        url.query_pairs_mut().append_pair("per_page", "100");
        if let Some(name) = name {
            url.query_pairs_mut().append_pair("name", name);
        }
        let mut all = Vec::new();
        let mut next = Some(url);
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(all);
            };
            let (page, link): (ArtifactList, _) = self.get_page(url).await?;
            all.extend(page.artifacts);
            next = link;
        }
        bail!(
            "run {run_id} lists more than {} artifacts; select some with name, pattern or artifact-ids",
            MAX_PAGES * 100
        )
    }

    /// One page of any list endpoint, and its `rel="next"` URL if there is one. A next page on
    /// another origin is refused: the token stays with the API.
    pub async fn get_page<T: DeserializeOwned>(&self, url: Url) -> Result<(T, Option<Url>)> {
        let response = self.send(Method::GET, url).await?;
        let link = response
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let page: T = read_json(response).await?;
        let Some(link) = link else {
            return Ok((page, None));
        };
        let url = Url::parse(&link)
            .with_context(|| format!("GitHub sent a malformed Link URL: {link}"))?;
        if !self.same_origin(&url) {
            bail!(
                "refusing to follow a Link to another host ({}); the token stays with {}",
                url.origin().ascii_serialization(),
                self.base_url.origin().ascii_serialization()
            );
        }
        Ok((page, Some(url)))
    }

    /// Asks the API where to download artifact `id` (a fresh signed URL each call), or gets the
    /// body itself when a server answers 200 instead of redirecting.
    pub async fn download_target(&self, owner: &str, repo: &str, id: u64) -> Result<Target> {
        let url = self.endpoint(&format!("/repos/{owner}/{repo}/actions/artifacts/{id}/zip"))?;
        let response = self.send(Method::GET, url.clone()).await?;
        if response.status().is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .with_context(|| {
                    format!(
                        "GET {} answered {} without a Location",
                        url.path(),
                        response.status()
                    )
                })?;
            let target = url.join(location).with_context(|| {
                format!("GitHub sent a malformed download Location for artifact {id}")
            })?;
            if !matches!(target.scheme(), "http" | "https") {
                bail!(
                    "GitHub sent a download Location with scheme '{}'",
                    target.scheme()
                );
            }
            return Ok(Target::Redirect(target));
        }
        Ok(Target::Body(response))
    }

    /// Sends one API request with the token, through the rate-limit gate, retrying what is
    /// worth retrying. Returns 2xx and 3xx responses; everything else becomes an [`HttpError`].
    pub(crate) async fn send(&self, method: Method, url: Url) -> Result<Response> {
        if !self.same_origin(&url) {
            bail!(
                "refusing to send the token to {}",
                url.origin().ascii_serialization()
            );
        }
        let shown = format!(
            "{}{}",
            url.path(),
            url.query().map(|q| format!("?{q}")).unwrap_or_default()
        );
        let mut attempt = 0u32;
        let mut limited = 0u32;
        loop {
            attempt += 1;
            self.wait_for_gate().await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, format!("Bearer {}", self.token))
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) if attempt < self.timing.attempts => {
                    let wait = self.backoff(attempt);
                    self.log.warning(&format!(
                        "{method} {shown} failed ({}); retrying in {:.1}s",
                        transport_reason(&e),
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("{method} {shown} failed after {attempt} attempts")));
                }
            };
            let status = response.status();
            self.log
                .debug(&format!("{method} {shown} -> {}", status.as_u16()));
            if status.is_success() || status.is_redirection() {
                return Ok(response);
            }
            let headers = response.headers().clone();
            let needs = headers
                .get("x-accepted-github-permissions")
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string);
            let message = read_error_message(response).await;
            if let Some(wait) = rate_limit_wait(status, &headers, &message, limited) {
                limited += 1;
                let wait = wait?;
                if limited <= 5 {
                    let scaled = self.scale(wait);
                    self.log.warning(&format!(
                        "GitHub rate limit reached ({message}); waiting {}s before the next API request",
                        wait.as_secs()
                    ));
                    self.hold_gate(scaled);
                    attempt -= 1; // waiting out a limit is not a failed attempt
                    continue;
                }
            }
            let error = HttpError {
                method: method.to_string(),
                path: shown.clone(),
                status: status.as_u16(),
                message,
                needs,
            };
            if is_retryable(status) && attempt < self.timing.attempts {
                let wait = self.backoff(attempt);
                self.log
                    .warning(&format!("{error}; retrying in {:.1}s", wait.as_secs_f64()));
                tokio::time::sleep(wait).await;
                continue;
            }
            return Err(error.into());
        }
    }

    /// Exponential backoff with jitter: base * 2^(n-1) * [0.5, 1.5), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.timing.backoff.as_secs_f64() * f64::from(1u32 << (attempt - 1).min(6));
        Duration::from_secs_f64(
            (exp * (0.5 + random_unit())).min(self.timing.backoff.as_secs_f64() * 30.0),
        )
    }

    /// Rate-limit waits are real seconds from GitHub; tests shrink them with the same scale as
    /// the backoff (`timing.backoff` is 1 s unscaled).
    fn scale(&self, wait: Duration) -> Duration {
        Duration::from_secs_f64(wait.as_secs_f64() * self.timing.backoff.as_secs_f64())
    }

    /// Waits until no rate-limit wait is pending. Loops: another task may extend the wait
    /// (a second limit answer) while this one sleeps.
    async fn wait_for_gate(&self) {
        loop {
            let until = *self.not_before.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => return,
            }
        }
    }

    fn hold_gate(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut gate = self.not_before.lock().unwrap_or_else(|e| e.into_inner());
        if gate.is_none_or(|g| g < until) {
            *gate = Some(until);
        }
    }
}

/// Where a download comes from.
pub enum Target {
    /// The usual case: a signed URL on blob storage (or on the GHES host itself).
    Redirect(Url),
    /// A server that serves the archive from the API URL itself.
    Body(Response),
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// How long a 403/429 asks us to wait, if it is a rate limit at all.
/// `Some(Err)` means a primary limit that resets too far away to wait for.
fn rate_limit_wait(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    seen: u32,
) -> Option<Result<Duration>> {
    if !matches!(status.as_u16(), 403 | 429) {
        return None;
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if message.to_ascii_lowercase().contains("secondary rate") {
        let base = header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(60);
        // GitHub: if it keeps happening, wait exponentially longer.
        return Some(Ok(Duration::from_secs(
            base.saturating_mul(1 << seen.min(4)),
        )));
    }
    if header("x-ratelimit-remaining") == Some("0") {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let reset = header("x-ratelimit-reset")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(now + 60);
        let wait = Duration::from_secs(reset.saturating_sub(now) + 1);
        if wait > MAX_RATE_LIMIT_WAIT {
            return Some(Err(anyhow::anyhow!(
                "GitHub API rate limit exhausted ({message}); it resets in {} minutes, at {}; not waiting that long",
                wait.as_secs() / 60,
                utc(reset)
            )));
        }
        return Some(Ok(wait));
    }
    if let Some(after) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(Ok(Duration::from_secs(after)));
    }
    None
}

/// `2024-01-01 12:00:00 UTC` for a Unix time (days-from-civil, inverted; no date crate).
fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn transport_reason(e: &reqwest::Error) -> String {
    let mut reason = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        "connection error".to_string()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        reason = format!("{reason}: {s}");
        source = s.source();
    }
    reason
}

pub(crate) async fn read_json<T: DeserializeOwned>(response: Response) -> Result<T> {
    let path = response.url().path().to_string();
    let bytes = response
        .bytes()
        .await
        .with_context(|| format!("reading the answer to {path}"))?;
    serde_json::from_slice(&bytes)
        .with_context(|| format!("GitHub's answer to {path} is not the JSON expected"))
}

async fn read_error_message(response: Response) -> String {
    let bytes = response.bytes().await.unwrap_or_default();
    match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(ErrorBody { message: Some(m) }) => m,
        _ => String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            .trim()
            .to_string(),
    }
}

/// The blob client: no token, ever. The signed URL's query string is never logged.
pub struct Blob {
    http: reqwest::Client,
    log: Log,
}

impl Blob {
    pub fn new(settings: &Settings, roots: &[Certificate], log: Log) -> Result<Blob> {
        install_crypto();
        let mut headers = HeaderMap::new();
        headers.insert(USER_AGENT, user_agent());
        let http = reqwest::Client::builder()
            .tls_certs_merge(roots.to_vec())
            .default_headers(headers)
            // Blob storage does not redirect; if something does, a few hops at most. reqwest
            // would strip credentials on a host change, and we send none anyway.
            .redirect(redirect::Policy::limited(3))
            .connect_timeout(Duration::from_secs(30))
            // A stalled body (no bytes for this long) fails the read, and the download is retried.
            .read_timeout(settings.timing.stall)
            .pool_max_idle_per_host(32)
            .build()
            .context("cannot set up the download client")?;
        Ok(Blob { http, log })
    }

    /// GETs a signed URL; bytes `start..=end` (`end` `None`: to the end) when a range is asked
    /// for, the whole body for `(0, None)`. Any status is returned to the caller.
    pub async fn get(&self, url: &Url, start: u64, end: Option<u64>) -> Result<Response> {
        let shown = without_query(url);
        let mut request = self.http.get(url.clone());
        match end {
            Some(end) => request = request.header(RANGE, format!("bytes={start}-{end}")),
            None if start > 0 => request = request.header(RANGE, format!("bytes={start}-")),
            None => {}
        }
        let response = request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GET {shown} failed: {}", transport_reason(&e)))?;
        self.log
            .debug(&format!("GET {shown} -> {}", response.status().as_u16()));
        Ok(response)
    }
}

/// A URL fit for logs: origin and path, never the signed query.
pub fn without_query(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn secondary_limit_waits_retry_after_then_backs_off() {
        let h = headers(&[("retry-after", "3")]);
        let msg = "You have exceeded a secondary rate limit.";
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, msg, 0)
            .unwrap()
            .unwrap();
        assert_eq!(w, Duration::from_secs(3));
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, msg, 2)
            .unwrap()
            .unwrap();
        assert_eq!(w, Duration::from_secs(12));
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &HeaderMap::new(), msg, 0)
            .unwrap()
            .unwrap();
        assert_eq!(w, Duration::from_secs(60));
    }

    #[test]
    fn primary_limit_waits_until_reset_or_refuses() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &(now + 5).to_string()),
        ]);
        let w = rate_limit_wait(
            StatusCode::TOO_MANY_REQUESTS,
            &h,
            "API rate limit exceeded",
            0,
        )
        .unwrap()
        .unwrap();
        assert!(
            w >= Duration::from_secs(5) && w <= Duration::from_secs(7),
            "{w:?}"
        );
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", &(now + 3600).to_string()),
        ]);
        let e = rate_limit_wait(StatusCode::FORBIDDEN, &h, "API rate limit exceeded", 0)
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("resets in"), "{e}");
    }

    #[test]
    fn plain_403_is_not_a_rate_limit() {
        assert!(
            rate_limit_wait(
                StatusCode::FORBIDDEN,
                &HeaderMap::new(),
                "Resource not accessible by integration",
                0
            )
            .is_none()
        );
        assert!(
            rate_limit_wait(
                StatusCode::NOT_FOUND,
                &HeaderMap::new(),
                "secondary rate",
                0
            )
            .is_none()
        );
    }

    #[test]
    fn utc_times_read_well() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_704_110_400), "2024-01-01 12:00:00 UTC");
        assert_eq!(utc(4_107_542_399), "2100-02-28 23:59:59 UTC");
    }

    #[test]
    fn signed_query_never_shown() {
        let u = Url::parse("https://blob.example:8443/x/y.zip?sig=secret&se=1").unwrap();
        assert_eq!(without_query(&u), "https://blob.example:8443/x/y.zip");
    }

    #[test]
    fn http_error_reads_well() {
        let e = HttpError {
            method: "GET".into(),
            path: "/repos/o/r".into(),
            status: 401,
            message: "Bad credentials".into(),
            needs: None,
        };
        assert_eq!(
            e.to_string(),
            "GET /repos/o/r answered 401 Unauthorized: Bad credentials (check github-token)"
        );
    }

    #[test]
    fn permissions_are_written_as_the_workflow_writes_them() {
        assert_eq!(permissions_yaml("actions=read"), "actions: read");
        assert_eq!(
            permissions_yaml("actions=read; pull_requests=read"),
            "{ actions: read, pull-requests: read }"
        );
    }
}
