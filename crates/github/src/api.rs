//! The REST API client, [`GitHub`]: it adds the token, but only to URLs on the API's own origin
//! (a `Link` or redirect to anywhere else is refused, so the token never leaves), follows a
//! redirect only back to the API (a renamed or transferred repository, with a warning), retries
//! transport errors and 5xx with exponential backoff and jitter, and shares one rate-limit gate
//! between all tasks so that five concurrent downloads do not each discover the limit. Downloads
//! go through the other client, [`super::Blob`], which carries no token.
//!
//! reqwest rather than octocrab: octocrab 0.54 buffers a whole artifact in memory, lists 30 a page
//! and prefixes the GHES base path onto foreign URLs (measured; see the design notes in
//! docs/ARCHITECTURE.md).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use reqwest::header::{
    ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, IF_NONE_MATCH, LOCATION, USER_AGENT,
};
use reqwest::{Method, Response, StatusCode, Url, redirect};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::body::{Capped, MAX_JSON, parse_json, read_capped, read_error_message};
use super::endpoints::Endpoint;
use super::error::{BudgetSpent, HttpError, status_text, transport_reason};
use super::gate::Gate;
use super::http::{install_crypto, user_agent};
use super::model::{Artifact, ArtifactList};
use super::pages::next_link;
use super::rate_limit::{MAX_RATE_LIMIT_WAIT, rate_limit_wait, utc};
use super::served::Reply;
use super::timing::Timing;
use super::tls::Roots;
use util::log::Log;

/// A run with more artifacts than this is not a run we should page through blindly.
const MAX_PAGES: usize = 100;
/// Redirects followed on one API call: a renamed or transferred repository takes one.
pub const MAX_HOPS: usize = 5;
/// Every API request (answer and body) must be complete within this many seconds, scaled by the
/// tests' time scale like every other wait: a trickled answer is a transient fault, retried.
const REQUEST_DEADLINE_SECS: f64 = 300.0;
/// One API call, all its attempts and the backoff between them, must be done within this many
/// seconds (scaled): five trickled attempts held a step 25 minutes.
const REQUEST_BUDGET_SECS: f64 = 600.0;
/// Rate-limit waits of the whole step, added up, may not pass this many seconds (scaled): a
/// `retry-after: 900` honoured again and again held a step over an hour. Never past `timeout`
/// either: a wait that would outlast the step is an error at once.
const LIMIT_WAIT_BUDGET_SECS: f64 = 1800.0;

/// What the API client needs of the settings, and nothing more.
pub struct ApiConfig<'a> {
    /// `GITHUB_API_URL`.
    pub base: &'a Url,
    pub token: &'a str,
    pub timing: Timing,
    /// `max-api-requests`.
    pub max_requests: Option<u64>,
    /// Polling (`wait-timeout`): answers are kept for conditional requests.
    pub polling: bool,
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
    /// When the client was made (the step's start, near enough), for `timeout`.
    started: Instant,
    /// Rate-limit waits so far, against [`LIMIT_WAIT_BUDGET_SECS`].
    limit_waited: Mutex<Duration>,
}

/// The last 200 answer to a polled URL.
#[derive(Clone)]
struct Polled {
    etag: String,
    body: Vec<u8>,
    headers: HeaderMap,
}

impl GitHub {
    /// `roots`: the extra trusted certificates ([`super::tls::Roots`]), read once for
    /// both clients.
    pub fn new(config: ApiConfig<'_>, roots: &Roots, log: Log) -> Result<GitHub> {
        install_crypto();
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token)).map_err(|_| {
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
            .tls_certs_merge(roots.certs.clone())
            .default_headers(headers)
            .redirect(redirect::Policy::none())
            .connect_timeout(Duration::from_secs(30))
            .read_timeout(Duration::from_secs(60).max(config.timing.stall))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(GitHub {
            http,
            base: config.base.as_str().trim_end_matches('/').to_string(),
            base_url: config.base.clone(),
            auth,
            log,
            timing: config.timing,
            requests: AtomicU64::new(0),
            max_requests: config.max_requests,
            gate: Arc::new(Gate::new(config.timing.backoff.as_secs_f64())),
            pacing_told: AtomicBool::new(false),
            polled: config.polling.then(|| Mutex::new(HashMap::new())),
            not_modified: AtomicU64::new(0),
            started: Instant::now(),
            limit_waited: Mutex::new(Duration::ZERO),
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

    /// An endpoint's URL under this client's API base.
    pub(crate) fn url(&self, endpoint: &Endpoint) -> Result<Url> {
        endpoint.url(&self.base)
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
        let url = self.url(&Endpoint::run_artifacts(owner, repo, run_id, name))?;
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
        let url = self.url(&Endpoint::artifact_zip(owner, repo, id))?;
        let (url, response) = self.past_moves(url).await?;
        if !response.status().is_redirection() {
            return Ok(Target::Body(Reply::new(response)));
        }
        if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
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
        Ok(Target::Redirect(target))
    }

    /// Sends `url`, following the API's own moves (a renamed or transferred repository: 301,
    /// 307, 308 back to the API, with the token; at most [`MAX_HOPS`]). Returns the first answer
    /// that leads elsewhere, and the URL that gave it.
    async fn past_moves(&self, mut url: Url) -> Result<(Url, Response)> {
        for _ in 0..=MAX_HOPS {
            let response = self.send(Method::GET, url.clone()).await?;
            let status = response.status();
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| url.join(l).ok());
            let Some(target) = location.filter(|t| self.is_api(t)) else {
                return Ok((url, response));
            };
            // A download redirect (302) back to the API would need the token, which downloads
            // never get.
            if !matches!(status.as_u16(), 301 | 307 | 308) {
                bail!(
                    "GET {} answered {} with a download Location that points back at the GitHub API ({}); artifetch sends no token with a download, so it does not follow it",
                    shown(&url),
                    status_text(status),
                    shown(&target)
                );
            }
            let answer = Answer {
                status,
                headers: response.headers().clone(),
                body: None,
                response: None,
            };
            url = self.follow(&url, &answer)?;
        }
        bail!("GET {}: more than {MAX_HOPS} redirects", shown(&url))
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

    /// How long one API call may take with all its attempts and backoff: never less than one
    /// attempt's deadline (a `stall-timeout` raised past 300 s raises both).
    fn request_budget(&self) -> Duration {
        Duration::from_secs_f64(REQUEST_BUDGET_SECS * self.timing.backoff.as_secs_f64())
            .max(self.deadline())
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
        let budget_end = Instant::now() + self.request_budget();
        let mut attempt = 0u32;
        let mut limited = 0u32;
        loop {
            attempt += 1;
            self.admit().await?;
            let retrying = match self.try_once(method, url, read, etag, budget_end).await? {
                Try::Answered(answer) => return Ok(answer),
                Try::Failed(failure) => {
                    if attempt >= self.timing.attempts {
                        bail!("{method} {shown} failed after {attempt} attempts: {failure}");
                    }
                    format!("{method} {shown} failed ({failure})")
                }
                Try::Refused {
                    status,
                    headers,
                    message,
                } => {
                    if let Some(wait) = rate_limit_wait(status, &headers, &message, limited) {
                        limited += 1;
                        let wait = wait?;
                        if limited <= 5 {
                            self.hold_for_limit(wait, &message)?;
                            attempt -= 1; // waiting out a limit is not a failed attempt
                            continue;
                        }
                    }
                    let error = HttpError {
                        method: method.to_string(),
                        path: shown.clone(),
                        status: status.as_u16(),
                        message,
                        needs: permissions_needed(&headers),
                    };
                    if !is_retryable(status) || attempt >= self.timing.attempts {
                        return Err(error.into());
                    }
                    error.to_string()
                }
            };
            let wait = self.backoff().delay(attempt);
            if Instant::now() + wait >= budget_end {
                bail!(
                    "{method} {shown}: gave up after {attempt} attempts, at the end of the request's budget ({} for all attempts); the last: {retrying}",
                    secs(self.request_budget())
                );
            }
            self.log.warning(&format!(
                "{retrying}; retrying in {:.1}s",
                wait.as_secs_f64()
            ));
            tokio::time::sleep(wait).await;
        }
    }

    /// Lets one request go: through the rate-limit gate (pacing toward the reset when the
    /// budget runs low) and within `max-api-requests`, which it counts against.
    async fn admit(&self) -> Result<()> {
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
        Ok(())
    }

    /// One request, its answer's head and (with `read`) its body, all within the deadline
    /// (and within the call's budget, ending at `budget_end`).
    async fn try_once(
        &self,
        method: &Method,
        url: &Url,
        read: bool,
        etag: Option<&str>,
        budget_end: Instant,
    ) -> Result<Try> {
        let deadline = (Instant::now() + self.deadline()).min(budget_end);
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, self.auth.clone());
        if let Some(etag) = etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        let response = match tokio::time::timeout_at(deadline, request.send()).await {
            Err(_) => return Ok(Try::Failed(self.late("no answer within"))),
            Ok(Err(e)) => return Ok(Try::Failed(transport_reason(&e))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        self.gate.observe(response.headers());
        self.log
            .debug(&format!("{method} {} -> {}", shown(url), status.as_u16()));
        let headers = response.headers().clone();
        if !status.is_success() && !status.is_redirection() {
            let message = tokio::time::timeout_at(deadline, read_error_message(response))
                .await
                .unwrap_or_default();
            return Ok(Try::Refused {
                status,
                headers,
                message,
            });
        }
        let mut answer = Answer {
            status,
            headers,
            body: None,
            response: None,
        };
        if !read {
            answer.response = Some(response);
            return Ok(Try::Answered(answer));
        }
        match tokio::time::timeout_at(deadline, read_capped(response, MAX_JSON)).await {
            Ok(Ok(Capped::All(body))) => {
                answer.body = Some(body);
                Ok(Try::Answered(answer))
            }
            Ok(Ok(Capped::Over)) => bail!(
                "{method} {}: the answer is larger than {} MiB, more than any page of the API; refusing it",
                shown(url),
                MAX_JSON >> 20
            ),
            Ok(Err(e)) => Ok(Try::Failed(format!(
                "reading the answer failed ({})",
                transport_reason(&e)
            ))),
            Err(_) => Ok(Try::Failed(self.late("the answer was not complete within"))),
        }
    }

    fn late(&self, what: &str) -> String {
        format!("{what} {}", secs(self.deadline()))
    }

    /// A rate limit answered: everyone waits (the gate), and the log says why; unless the wait
    /// would pass the step's budget for rate-limit waits or its `timeout`, which is an error now
    /// rather than a wait that ends in one.
    fn hold_for_limit(&self, wait: Duration, message: &str) -> Result<()> {
        let scaled = self.gate.scaled(wait);
        let added = self.gate.extension(scaled);
        let mut waited = self.limit_waited.lock().unwrap_or_else(|e| e.into_inner());
        let budget =
            Duration::from_secs_f64(LIMIT_WAIT_BUDGET_SECS * self.timing.backoff.as_secs_f64());
        if *waited + added > budget {
            bail!(
                "GitHub rate limit reached ({message}) and it asks for {} more; the step has already waited {} of its budget of {} for rate limits, so it stops here",
                secs(scaled),
                secs(*waited),
                secs(budget)
            );
        }
        if let Some(overall) = self.timing.overall
            && self.started.elapsed() + scaled >= overall
        {
            bail!(
                "GitHub rate limit reached ({message}) and it asks for {}; that would outlast the step's timeout ({} minutes, {} left), so it stops here",
                secs(scaled),
                overall.as_secs_f64() / 60.0,
                secs(overall.saturating_sub(self.started.elapsed()))
            );
        }
        *waited += added;
        self.log.warning(&format!(
            "GitHub rate limit reached ({message}); waiting {}s before the next request",
            wait.as_secs()
        ));
        self.gate.hold(scaled);
        Ok(())
    }

    /// The retry schedule every caller of this client shares.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.timing.backoff)
    }
}

/// Where a download comes from.
pub enum Target {
    /// The usual case: a signed URL on blob storage (or on the GHES host itself).
    Redirect(Url),
    /// A server that serves the archive from the API URL itself.
    Body(Reply),
}

/// How one try of an API call ended.
enum Try {
    /// 2xx or 3xx; the body read when asked for.
    Answered(Answer),
    /// Any other status, with the start of GitHub's message.
    Refused {
        status: StatusCode,
        headers: HeaderMap,
        message: String,
    },
    /// No usable answer (transport error, deadline, body cut): worth another try.
    Failed(String),
}

/// `X-Accepted-GitHub-Permissions`: what a refused endpoint needs (`actions=read`).
fn permissions_needed(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-accepted-github-permissions")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 500 | 502 | 503 | 504)
}

/// One API answer: status and headers, with the body read or the response to stream it from.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Option<Vec<u8>>,
    pub response: Option<Response>,
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
