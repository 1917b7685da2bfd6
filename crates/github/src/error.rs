//! What went wrong in an HTTP exchange, in words a workflow author can act on.

use reqwest::StatusCode;

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
                " (the job's token lacks a permission: {})",
                likely_permission(&self.path)
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

impl HttpError {
    /// On a 403: the `permissions:` entry the job needs (`actions: read`), from the
    /// `X-Accepted-GitHub-Permissions` header or, without it, from the path.
    pub fn permission_needed(&self) -> String {
        match &self.needs {
            Some(needs) => permissions_yaml(needs),
            None if self.path.contains("/pulls") => "pull-requests: read".into(),
            None if self.path.contains("/attestations") => "attestations: read".into(),
            None => "actions: read".into(),
        }
    }
}

/// Without `X-Accepted-GitHub-Permissions`, the permission the endpoint at `path` needs, read
/// from the path: pull requests (`pr`), attestations (`verify-attestation`), else the Actions
/// endpoints every fetch uses.
fn likely_permission(path: &str) -> &'static str {
    if path.contains("/pulls") {
        "pull requests need `permissions: pull-requests: read`"
    } else if path.contains("/attestations") {
        "attestations need `permissions: attestations: read`"
    } else {
        "artifacts need `permissions: actions: read`"
    }
}

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
pub(crate) fn http_status(err: &anyhow::Error) -> Option<u16> {
    err.chain()
        .find_map(|e| e.downcast_ref::<HttpError>())
        .map(|e| e.status)
}

/// What an API refusal means to a caller that branches on it, so callers name the case rather
/// than a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 404: not there, or not visible to the token.
    NotFound,
    /// 410: gone for good (an expired artifact).
    Gone,
    /// 401 or 403: the token may not (a missing scope or permission).
    Denied,
    /// Any other refusal.
    Other,
}

/// The [`Refusal`] of an [`HttpError`] anywhere in an error chain; `None` when the API did not
/// refuse (a transport failure, a bad answer, a local error).
pub fn refusal(err: &anyhow::Error) -> Option<Refusal> {
    http_status(err).map(|status| match status {
        404 => Refusal::NotFound,
        410 => Refusal::Gone,
        401 | 403 => Refusal::Denied,
        _ => Refusal::Other,
    })
}

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

/// Status and reason: `301 Moved Permanently`.
pub(crate) fn status_text(status: StatusCode) -> String {
    format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .trim()
    .to_string()
}

/// Why a request got no answer, with the causes reqwest chains.
pub(crate) fn transport_reason(e: &reqwest::Error) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_named_through_any_context() {
        let refused = |status: u16| {
            anyhow::Error::new(HttpError {
                method: "GET".into(),
                path: "/repos/o/r/actions/artifacts/1/zip".into(),
                status,
                message: String::new(),
                needs: None,
            })
            .context("cannot get a download URL")
        };
        assert_eq!(refusal(&refused(410)), Some(Refusal::Gone));
        assert_eq!(refusal(&refused(404)), Some(Refusal::NotFound));
        assert_eq!(refusal(&refused(403)), Some(Refusal::Denied));
        assert_eq!(refusal(&refused(401)), Some(Refusal::Denied));
        assert_eq!(refusal(&refused(500)), Some(Refusal::Other));
        assert_eq!(refusal(&anyhow::anyhow!("connection reset")), None);
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
    fn without_the_permissions_header_the_path_says_which_permission() {
        let refused = |path: &str| {
            HttpError {
                method: "GET".into(),
                path: path.into(),
                status: 403,
                message: "Resource not accessible by integration".into(),
                needs: None,
            }
            .to_string()
        };
        assert!(refused("/repos/o/r/pulls/7").contains("`permissions: pull-requests: read`"));
        assert!(
            refused("/repos/o/r/attestations/sha256:ab")
                .contains("`permissions: attestations: read`")
        );
        assert!(
            refused("/repos/o/r/actions/runs/1/artifacts").contains("`permissions: actions: read`")
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
