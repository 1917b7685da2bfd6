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
//! and prefixes the GHES base path onto foreign URLs (measured; see the design notes in
//! docs/ARCHITECTURE.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, IF_NONE_MATCH, LOCATION, RANGE,
    USER_AGENT,
};
use reqwest::{Certificate, Method, Response, StatusCode, Url, redirect};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::gate::Gate;
use super::model::{Artifact, ArtifactList, ErrorBody};
use super::pages::next_link;
use crate::log::Log;
use crate::settings::{Settings, Timing};
use crate::util::random_unit;

/// A primary rate limit that resets further away than this is an error, not a wait.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(15 * 60);
/// A run with more artifacts than this is not a run we should page through blindly.
const MAX_PAGES: usize = 100;
/// Largest JSON answer read: a page of 100 artifacts or runs is a few hundred KiB, so this is
/// room to spare, and a bound on memory against an endless answer.
pub const MAX_JSON: usize = 8 << 20;
/// Of an error answer only the start is read: it is a message, not a document.
const MAX_ERROR_BODY: usize = 64 << 10;
/// Redirects followed on one API call: a renamed or transferred repository takes one.
pub const MAX_HOPS: usize = 5;
/// Every API request (answer and body) must be complete within this many seconds, scaled by the
/// tests' time scale like every other wait: a trickled answer is a transient fault, retried.
const REQUEST_DEADLINE_SECS: f64 = 300.0;

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
    /// `Bearer <token>`, marked sensitive (kept out of debug output).
    auth: HeaderValue,
    log: Log,
    timing: Timing,
    requests: AtomicU64,
    /// `max-api-requests`: no request is sent beyond it.
    max_requests: Option<u64>,
    /// Shared with the blob client: one rate-limit answer holds the whole process.
    gate: Arc<Gate>,
    /// The log says once that requests are being paced.
    pacing_told: AtomicBool,
    /// While polling: the last answer per URL, for conditional requests.
    polled: Option<Mutex<HashMap<String, Polled>>>,
    not_modified: AtomicU64,
}

/// The last 200 answer to a polled URL.
#[derive(Clone)]
struct Polled {
    etag: String,
    body: Vec<u8>,
    headers: HeaderMap,
}

/// `max-api-requests` reached: the request was not sent.
#[derive(Debug, Clone)]
pub struct BudgetSpent {
    pub max: u64,
}

impl std::fmt::Display for BudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "max-api-requests: the step has sent all {} API requests it may; stopped before the next (raise max-api-requests, or split the work with shard)",
            self.max
        )
    }
}

impl std::error::Error for BudgetSpent {}

impl GitHub {
    /// `roots`: the extra trusted certificates ([`super::tls::extra_roots`]), read once for
    /// both clients.
    pub fn new(settings: &Settings, roots: &[Certificate], log: Log) -> Result<GitHub> {
        install_crypto();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", settings.token)).map_err(|_| {
            anyhow::anyhow!(
                "github-token: contains a line break or another control character; expected the token on one line"
            )
        })?;
        auth.set_sensitive(true);
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
            auth,
            log,
            timing: settings.timing,
            requests: AtomicU64::new(0),
            max_requests: settings.max_api_requests,
            gate: Arc::new(Gate::new(settings.timing.backoff.as_secs_f64())),
            pacing_told: AtomicBool::new(false),
            polled: settings.search.wait.map(|_| Mutex::new(HashMap::new())),
            not_modified: AtomicU64::new(0),
        })
    }

    /// API requests sent so far (retries included).
    pub fn request_count(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests used against `max-api-requests` and what the rate limit has left, for the
    /// log and the summary: `12 API requests (max-api-requests 100, 88 left); rate limit:
    /// 4988 of 5000 left until 12:00:00 UTC`.
    pub fn budget_line(&self) -> String {
        let used = self.request_count();
        let mut line = format!("{used} API request{}", if used == 1 { "" } else { "s" });
        if let Some(max) = self.max_requests {
            line.push_str(&format!(
                " (max-api-requests {max}, {} left)",
                max.saturating_sub(used)
            ));
        }
        let rate = self.gate.rate();
        if let Some(remaining) = rate.remaining {
            line.push_str(&format!("; rate limit: {remaining}"));
            if let Some(limit) = rate.limit {
                line.push_str(&format!(" of {limit}"));
            }
            line.push_str(" left");
            if let Some(reset) = rate.reset {
                // The time of day only: the window is at most an hour.
                let at = utc(reset);
                line.push_str(&format!(" until {}", at.get(11..).unwrap_or(&at)));
            }
        }
        line
    }

    /// `max-api-requests` and what is left of it.
    pub fn requests_left(&self) -> Option<(u64, u64)> {
        self.max_requests
            .map(|max| (max, max.saturating_sub(self.request_count())))
    }

    /// The rate-limit gate, for the blob client to share.
    pub fn gate(&self) -> Arc<Gate> {
        Arc::clone(&self.gate)
    }

    /// API answers that were 304 Not Modified (free of the rate limit).
    pub fn not_modified_count(&self) -> u64 {
        self.not_modified.load(Ordering::Relaxed)
    }

    pub(crate) fn endpoint(&self, path: &str) -> Result<Url> {
        Url::parse(&format!("{}{path}", self.base))
            .with_context(|| format!("bad API URL for {path}"))
    }

    /// A URL of the API itself: its origin, under its base path (GHES's pipelines downloads share
    /// the origin but live outside `/api/v3`).
    fn is_api(&self, url: &Url) -> bool {
        let base = self.base_url.path().trim_end_matches('/');
        self.same_origin(url)
            && (base.is_empty()
                || url.path() == base
                || url.path().starts_with(&format!("{base}/")))
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
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else {
                return Ok(all);
            };
            if !seen.insert(url.clone()) {
                bail!(
                    "the server repeats a page: its Link rel=\"next\" leads back to {}",
                    shown(&url)
                );
            }
            let (page, link): (ArtifactList, _) = self.get_page(url).await?;
            all.extend(page.artifacts);
            next = link;
        }
        if next.is_none() {
            return Ok(all);
        }
        // Never a silent truncation: a partial list would fetch a partial set.
        bail!(
            "run {run_id} lists more than {} artifacts; select some with name, pattern or artifact-ids",
            MAX_PAGES * 100
        )
    }

    /// One page of any list endpoint, and its `rel="next"` URL if there is one. A next page on
    /// another origin is refused: the token stays with the API.
    pub async fn get_page<T: DeserializeOwned>(&self, url: Url) -> Result<(T, Option<Url>)> {
        let (page, headers, read) = self.get_json::<T>(url).await?;
        let link = headers
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_link);
        let Some(link) = link else {
            return Ok((page, None));
        };
        let url = Url::parse(&link)
            .with_context(|| format!("GitHub sent a malformed Link URL: {link}"))?;
        if url == read {
            bail!(
                "the server repeats a page: the Link rel=\"next\" of {} points at that same page",
                shown(&read)
            );
        }
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
        let mut url =
            self.endpoint(&format!("/repos/{owner}/{repo}/actions/artifacts/{id}/zip"))?;
        let mut hops = 0;
        let response = loop {
            let response = self.send(Method::GET, url.clone()).await?;
            let status = response.status();
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok());
            let Some(target) = location.filter(|t| self.is_api(t)) else {
                break response;
            };
            // Back to the API: a moved repository (301/307/308) is followed with the token;
            // a download redirect (302) there would need the token, which downloads never get.
            if !matches!(status.as_u16(), 301 | 307 | 308) {
                bail!(
                    "GET {} answered {} with a download Location that points back at the GitHub API ({}); artifetch sends no token with a download, so it does not follow it",
                    shown(&url),
                    status_text(status),
                    shown(&target)
                );
            }
            hops += 1;
            if hops > MAX_HOPS {
                bail!("GET {}: more than {MAX_HOPS} redirects", shown(&url));
            }
            let answer = Answer {
                status,
                headers: response.headers().clone(),
                body: None,
                response: None,
            };
            url = self.follow(&url, &answer)?;
        };
        if response.status().is_redirection() {
            if response.status() != StatusCode::FOUND
                && !matches!(response.status().as_u16(), 301 | 303 | 307 | 308)
            {
                bail!(
                    "GET {} answered {}, not a download redirect",
                    shown(&url),
                    status_text(response.status())
                );
            }
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
    /// worth retrying. Returns 2xx and 3xx responses, the body still to be read (the deadline
    /// covers the answer's head); everything else becomes an [`HttpError`].
    pub(crate) async fn send(&self, method: Method, url: Url) -> Result<Response> {
        let answer = self.exchange(&method, &url, false, None).await?;
        Ok(answer
            .response
            .expect("exchange without reading returns the response"))
    }

    /// GETs JSON: follows a same-origin 301/302/307/308 with the token (a renamed or
    /// transferred repository; at most [`MAX_HOPS`]) and says so, refuses any other redirect,
    /// reads at most [`MAX_JSON`] within the deadline, and names what came instead of JSON.
    /// Returns the value, the answer's headers and the URL finally read.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        url: Url,
    ) -> Result<(T, HeaderMap, Url)> {
        let mut url = url;
        for _ in 0..=MAX_HOPS {
            // While polling, a URL asked for before carries its last ETag, and a 304 (free of
            // the rate limit) serves what was kept from then.
            let key = url.as_str().to_string();
            let cached = self.polled.as_ref().and_then(|m| {
                let m = m.lock().unwrap_or_else(|e| e.into_inner());
                m.get(&key).cloned()
            });
            let etag = cached.as_ref().map(|c| c.etag.as_str());
            let answer = self.exchange(&Method::GET, &url, true, etag).await?;
            if answer.status == StatusCode::NOT_MODIFIED
                && let Some(c) = cached
            {
                self.not_modified.fetch_add(1, Ordering::Relaxed);
                let value = parse_json(&url, &c.headers, &c.body)?;
                return Ok((value, c.headers, url));
            }
            if answer.status.is_success()
                && let (Some(m), Some(etag)) = (&self.polled, answer.headers.get("etag"))
                && let Ok(etag) = etag.to_str()
            {
                let mut m = m.lock().unwrap_or_else(|e| e.into_inner());
                m.insert(
                    key,
                    Polled {
                        etag: etag.to_string(),
                        body: answer.body.clone().unwrap_or_default(),
                        headers: answer.headers.clone(),
                    },
                );
            }
            if answer.status.is_redirection() {
                url = self.follow(&url, &answer)?;
                continue;
            }
            let body = answer.body.unwrap_or_default();
            let value = parse_json(&url, &answer.headers, &body)?;
            return Ok((value, answer.headers, url));
        }
        bail!(
            "GET {}: more than {MAX_HOPS} redirects; the server sends artifetch in circles",
            shown(&url)
        )
    }

    /// Where an API redirect goes, if artifetch may follow it with the token: a 301, 302, 307
    /// or 308 to the API's own origin.
    fn follow(&self, url: &Url, answer: &Answer) -> Result<Url> {
        let status = answer.status;
        let what = format!("GET {} answered {}", shown(url), status_text(status));
        if !matches!(status.as_u16(), 301 | 302 | 307 | 308) {
            bail!("{what}, a redirect artifetch does not follow on the API");
        }
        let location = answer
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .with_context(|| format!("{what} without a Location"))?;
        let target = url
            .join(location)
            .with_context(|| format!("{what} with a malformed Location"))?;
        if !self.same_origin(&target) {
            bail!(
                "{what} to another host ({}); the token stays with {}, so artifetch does not follow it",
                target.origin().ascii_serialization(),
                self.base_url.origin().ascii_serialization()
            );
        }
        self.log.warning(&format!(
            "{what}: the repository has moved (renamed or transferred); following to {} (update the repository it is asked for)",
            shown(&target)
        ));
        Ok(target)
    }

    /// How long one API request may take, head and body.
    fn deadline(&self) -> Duration {
        Duration::from_secs_f64(REQUEST_DEADLINE_SECS * self.timing.backoff.as_secs_f64())
            .max(self.timing.stall * 2)
    }

    /// One API call with its retries. With `read`, the body (at most [`MAX_JSON`]) is part of
    /// the attempt: a body cut or trickled past the deadline is retried like a 502.
    async fn exchange(
        &self,
        method: &Method,
        url: &Url,
        read: bool,
        etag: Option<&str>,
    ) -> Result<Answer> {
        if !self.same_origin(url) {
            bail!(
                "refusing to send the token to {}",
                url.origin().ascii_serialization()
            );
        }
        let shown = shown(url);
        let mut attempt = 0u32;
        let mut limited = 0u32;
        loop {
            attempt += 1;
            self.gate.wait().await;
            if let Some(wait) = self.gate.pace(MAX_RATE_LIMIT_WAIT) {
                if !self.pacing_told.swap(true, Ordering::Relaxed) {
                    self.log.info(&format!(
                        "Pacing API requests: {}; spreading the rest up to the reset",
                        self.budget_line()
                    ));
                }
                tokio::time::sleep(wait).await;
            }
            let sent_before = self.requests.fetch_add(1, Ordering::Relaxed);
            if let Some(max) = self.max_requests
                && sent_before >= max
            {
                self.requests.fetch_sub(1, Ordering::Relaxed);
                return Err(BudgetSpent { max }.into());
            }
            let deadline = Instant::now() + self.deadline();
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(AUTHORIZATION, self.auth.clone());
            if let Some(etag) = etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            let sent = tokio::time::timeout_at(deadline, request.send()).await;
            let failure = match sent {
                Err(_) => format!("no answer within {}", secs(self.deadline())),
                Ok(Err(e)) => transport_reason(&e),
                Ok(Ok(response)) => {
                    let status = response.status();
                    self.gate.observe(response.headers());
                    self.log
                        .debug(&format!("{method} {shown} -> {}", status.as_u16()));
                    let headers = response.headers().clone();
                    if status.is_success() || status.is_redirection() {
                        if !read {
                            return Ok(Answer {
                                status,
                                headers,
                                body: None,
                                response: Some(response),
                            });
                        }
                        match tokio::time::timeout_at(deadline, read_capped(response, MAX_JSON))
                            .await
                        {
                            Ok(Ok(Capped::All(body))) => {
                                return Ok(Answer {
                                    status,
                                    headers,
                                    body: Some(body),
                                    response: None,
                                });
                            }
                            Ok(Ok(Capped::Over)) => bail!(
                                "{method} {shown}: the answer is larger than {} MiB, more than any page of the API; refusing it",
                                MAX_JSON >> 20
                            ),
                            Ok(Err(e)) => {
                                format!("reading the answer failed ({})", transport_reason(&e))
                            }
                            Err(_) => format!(
                                "the answer was not complete within {}",
                                secs(self.deadline())
                            ),
                        }
                    } else {
                        let needs = headers
                            .get("x-accepted-github-permissions")
                            .and_then(|v| v.to_str().ok())
                            .map(str::trim)
                            .filter(|v| !v.is_empty())
                            .map(str::to_string);
                        let message =
                            tokio::time::timeout_at(deadline, read_error_message(response))
                                .await
                                .unwrap_or_default();
                        if let Some(wait) = rate_limit_wait(status, &headers, &message, limited) {
                            limited += 1;
                            let wait = wait?;
                            if limited <= 5 {
                                let scaled = self.gate.scaled(wait);
                                self.log.warning(&format!(
                                    "GitHub rate limit reached ({message}); waiting {}s before the next request",
                                    wait.as_secs()
                                ));
                                self.gate.hold(scaled);
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
                            self.log.warning(&format!(
                                "{error}; retrying in {:.1}s",
                                wait.as_secs_f64()
                            ));
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        return Err(error.into());
                    }
                }
            };
            if attempt < self.timing.attempts {
                let wait = self.backoff(attempt);
                self.log.warning(&format!(
                    "{method} {shown} failed ({failure}); retrying in {:.1}s",
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
                continue;
            }
            bail!("{method} {shown} failed after {attempt} attempts: {failure}");
        }
    }

    /// Exponential backoff with jitter: base * 2^(n-1) * [0.5, 1.5), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.timing.backoff.as_secs_f64() * f64::from(1u32 << (attempt - 1).min(6));
        Duration::from_secs_f64(
            (exp * (0.5 + random_unit())).min(self.timing.backoff.as_secs_f64() * 30.0),
        )
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
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    // A server asking for a longer wait than a primary limit may take gets an error, not a wait.
    if let Some(after) = retry_after.filter(|s| Duration::from_secs(*s) > MAX_RATE_LIMIT_WAIT) {
        return Some(Err(anyhow::anyhow!(
            "GitHub asks to wait {} minutes before the next request (retry-after: {after}; {message}); not waiting that long",
            after / 60
        )));
    }
    if message.to_ascii_lowercase().contains("secondary rate") {
        let base = retry_after.unwrap_or(60);
        // GitHub: if it keeps happening, wait exponentially longer (within the same bound).
        return Some(Ok(Duration::from_secs(
            base.saturating_mul(1 << seen.min(4)),
        )
        .min(MAX_RATE_LIMIT_WAIT)));
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
    if let Some(after) = retry_after {
        return Some(Ok(Duration::from_secs(after)));
    }
    None
}

/// `2024-01-01 12:00:00 UTC` for a Unix time (days-from-civil, inverted; no date crate).
fn utc(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let rem = unix % 86_400;
    let (year, month, day) = crate::util::civil_from_days(days);
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

/// One API answer: status and headers, with the body read or the response to stream it from.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub response: Option<Response>,
}

/// A body read up to a cap.
enum Capped {
    All(Vec<u8>),
    /// More than the cap: reading stopped there.
    Over,
}

async fn read_capped(mut response: Response, cap: usize) -> reqwest::Result<Capped> {
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
fn parse_json<T: DeserializeOwned>(url: &Url, headers: &HeaderMap, body: &[u8]) -> Result<T> {
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

/// Status and reason: `301 Moved Permanently`.
fn status_text(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim()
    .to_string()
}

/// Path and query of an API URL, for messages (API URLs carry no secrets).
fn shown(url: &Url) -> String {
    format!(
        "{}{}",
        url.path(),
        url.query().map(|q| format!("?{q}")).unwrap_or_default()
    )
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

async fn read_error_message(response: Response) -> String {
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

/// The blob client: no token, ever. The signed URL's query string is never logged.
pub struct Blob {
    http: reqwest::Client,
    log: Log,
    /// The API client's gate: a secondary limit there holds downloads too, and a blob answer
    /// asking us to slow down (429/503 with Retry-After) holds the API as well.
    gate: Arc<Gate>,
}

impl Blob {
    pub fn new(
        settings: &Settings,
        roots: &[Certificate],
        log: Log,
        gate: Arc<Gate>,
    ) -> Result<Blob> {
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
        Ok(Blob { http, log, gate })
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
    fn retry_after_beyond_the_bound_is_refused() {
        let h = headers(&[("retry-after", "86400")]);
        for (status, msg) in [
            (
                StatusCode::FORBIDDEN,
                "You have exceeded a secondary rate limit.",
            ),
            (StatusCode::TOO_MANY_REQUESTS, "Too many requests"),
        ] {
            let e = rate_limit_wait(status, &h, msg, 0).unwrap().unwrap_err();
            assert!(e.to_string().contains("not waiting that long"), "{e}");
        }
        let msg = "You have exceeded a secondary rate limit.";
        let h = headers(&[("retry-after", "600")]);
        let w = rate_limit_wait(StatusCode::FORBIDDEN, &h, msg, 4)
            .unwrap()
            .unwrap();
        assert_eq!(w, MAX_RATE_LIMIT_WAIT);
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
