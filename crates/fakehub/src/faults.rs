//! Fault injection: scripted misbehaviour for matching requests. Faults are
//! checked in injection order; `Delay` faults add up and the first other
//! matching fault is applied. Each applied fault decrements its `times`.

use crate::http::{Body, Response, WireMode};
use crate::origin::Origin;
use crate::util::now_unix;
use std::collections::HashMap;
use std::time::Duration;

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status, body and extra headers instead of the real response.
    Status {
        code: u16,
        body: String,
        headers: Vec<(String, String)>,
    },
    /// Primary rate limit: 403, `x-ratelimit-remaining: 0`, reset in N seconds.
    RateLimitPrimary { reset_in_secs: u64 },
    /// Secondary rate limit: 403 with the "secondary rate limit" message.
    SecondaryRateLimit { retry_after: Option<u64> },
    /// Full `Content-Length`, then only `after_bytes` of the body, then FIN.
    TruncateBody { after_bytes: u64 },
    /// `after_bytes` of the body, then an abrupt close (RST via SO_LINGER 0).
    ResetAfter { after_bytes: u64 },
    /// `after_bytes` of the body, silence for `secs`, then the rest.
    Stall { after_bytes: u64, secs: u64 },
    /// Wait before responding normally.
    Delay { ms: u64 },
    /// Hold each matching request until `parties` of them have arrived (then all go on,
    /// answered normally): forces requests of separate clients to be in flight together. After
    /// a minute without the others it goes on anyway, and [`crate::FakeGitHub::barriers_missed`]
    /// counts it, so a test can tell a barrier met from one that timed out.
    Barrier { parties: usize },
    /// Close the connection without sending anything.
    Disconnect,
    /// Answer `code` with these headers and a body that never ends: `prefix`, then `repeat`
    /// over and over (no `Content-Length`), until the client hangs up (or 64 MiB, to spare the
    /// test machine's disk when a client has no bound).
    Endless {
        code: u16,
        headers: Vec<(String, String)>,
        prefix: String,
        repeat: String,
    },
    /// Send the real response at this many body bytes per second.
    Trickle { bytes_per_sec: u64 },
    /// Answer `code` with these headers and exactly these body bytes (binary allowed): another
    /// archive's bytes where a range of this one was asked for, say.
    Bytes {
        code: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

/// A scripted fault for requests matching origin, path substring and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub origin: Origin,
    /// Substring of `path?query` (empty matches everything).
    pub path_contains: String,
    /// `None` matches any method.
    pub method: Option<String>,
    /// Substring of the request's `Range` header; `None` matches with or without one.
    pub range: Option<String>,
    /// How many matching requests it still applies to.
    pub times: usize,
    pub kind: FaultKind,
}

impl Fault {
    /// A fault applying once to any method.
    pub fn new(origin: Origin, path_contains: &str, kind: FaultKind) -> Fault {
        Fault {
            origin,
            path_contains: path_contains.to_string(),
            method: None,
            range: None,
            times: 1,
            kind,
        }
    }

    /// Only for requests whose `Range` header contains `range` (`"bytes=8388608-"`).
    pub fn range(mut self, range: &str) -> Fault {
        self.range = Some(range.to_string());
        self
    }

    /// A plain status fault (`body` may be JSON, XML or text).
    pub fn status(origin: Origin, path_contains: &str, code: u16, body: &str) -> Fault {
        Fault::new(
            origin,
            path_contains,
            FaultKind::Status {
                code,
                body: body.to_string(),
                headers: Vec::new(),
            },
        )
    }

    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }

    pub fn method(mut self, m: &str) -> Fault {
        self.method = Some(m.to_ascii_uppercase());
        self
    }

    fn matches(&self, origin: Origin, method: &str, target: &str, range: Option<&str>) -> bool {
        self.times > 0
            && self.origin == origin
            && self
                .range
                .as_deref()
                .is_none_or(|want| range.is_some_and(|r| r.contains(want)))
            && target.contains(&self.path_contains)
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
    }
}

/// What the faults decided for one request.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub delay: Duration,
    /// A [`FaultKind::Barrier`] to wait at: its key (the fault's path) and party count.
    pub barrier: Option<(String, usize)>,
    /// Replaces the real response.
    pub replace: Option<Replacement>,
    /// Applied to whatever response is written.
    pub wire: WireMode,
}

#[derive(Debug)]
pub(crate) enum Replacement {
    Respond(Response),
    Disconnect,
}

/// Consumes matching faults for this request and counts it at any barrier it reaches
/// (`arrivals`, by the barrier's path).
pub(crate) fn decide(
    faults: &mut [Fault],
    arrivals: &mut HashMap<String, usize>,
    origin: Origin,
    method: &str,
    target: &str,
    range: Option<&str>,
) -> Decision {
    let mut d = Decision::default();
    for f in faults.iter_mut() {
        if !f.matches(origin, method, target, range) {
            continue;
        }
        f.times -= 1;
        if let FaultKind::Delay { ms } = f.kind {
            d.delay += Duration::from_millis(ms);
            continue;
        }
        if let FaultKind::Barrier { parties } = f.kind {
            *arrivals.entry(f.path_contains.clone()).or_default() += 1;
            d.barrier = Some((f.path_contains.clone(), parties));
            continue;
        }
        apply(&f.kind, &mut d);
        break;
    }
    d
}

fn apply(kind: &FaultKind, d: &mut Decision) {
    match kind {
        FaultKind::Status {
            code,
            body,
            headers,
        } => d.replace = Some(Replacement::Respond(status_response(*code, body, headers))),
        FaultKind::RateLimitPrimary { reset_in_secs } => {
            d.replace = Some(Replacement::Respond(primary_limit(*reset_in_secs)))
        }
        FaultKind::SecondaryRateLimit { retry_after } => {
            d.replace = Some(Replacement::Respond(secondary_limit(*retry_after)))
        }
        FaultKind::TruncateBody { after_bytes } => d.wire.truncate_after = Some(*after_bytes),
        FaultKind::ResetAfter { after_bytes } => d.wire.reset_after = Some(*after_bytes),
        FaultKind::Stall { after_bytes, secs } => {
            d.wire.stall = Some((*after_bytes, Duration::from_secs(*secs)))
        }
        FaultKind::Disconnect => d.replace = Some(Replacement::Disconnect),
        FaultKind::Endless {
            code,
            headers,
            prefix,
            repeat,
        } => {
            let mut r = status_response(*code, prefix, headers);
            r.body = Body::Endless {
                prefix: prefix.as_bytes().to_vec(),
                repeat: repeat.as_bytes().to_vec(),
            };
            d.replace = Some(Replacement::Respond(r))
        }
        FaultKind::Trickle { bytes_per_sec } => d.wire.throttle = Some(*bytes_per_sec),
        FaultKind::Bytes {
            code,
            headers,
            body,
        } => {
            let mut r = Response::new(*code);
            r.headers.extend(headers.iter().cloned());
            r.body = Body::Owned(body.clone());
            d.replace = Some(Replacement::Respond(r))
        }
        FaultKind::Delay { .. } | FaultKind::Barrier { .. } => {}
    }
}

fn guess_content_type(body: &str) -> &'static str {
    match body.trim_start().as_bytes().first() {
        Some(b'{') | Some(b'[') => "application/json; charset=utf-8",
        Some(b'<') => "application/xml",
        _ => "text/plain; charset=utf-8",
    }
}

fn status_response(code: u16, body: &str, headers: &[(String, String)]) -> Response {
    let mut r = Response::new(code);
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        r = r.header("Content-Type", guess_content_type(body));
    }
    r.headers.extend(headers.iter().cloned());
    r.body = Body::Owned(body.as_bytes().to_vec());
    r
}

fn primary_limit(reset_in_secs: u64) -> Response {
    let body = serde_json::json!({
        "message": "API rate limit exceeded for installation ID 19497584.",
        "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
    });
    Response::new(403)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("x-ratelimit-limit", "1000")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-used", "1000")
        .header(
            "x-ratelimit-reset",
            (now_unix() + reset_in_secs as i64).to_string(),
        )
        .header("x-ratelimit-resource", "core")
        .body(body.to_string())
}

fn secondary_limit(retry_after: Option<u64>) -> Response {
    let body = serde_json::json!({
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID C0DE:0001.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
    });
    let mut r = Response::new(403)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("x-ratelimit-limit", "1000")
        .header("x-ratelimit-remaining", "900")
        .header("x-ratelimit-used", "100")
        .header("x-ratelimit-reset", (now_unix() + 3600).to_string())
        .header("x-ratelimit-resource", "core");
    if let Some(s) = retry_after {
        r = r.header("retry-after", s.to_string());
    }
    r.body(body.to_string())
}
