//! A step-level stop (nothing fetched), read from the error that stopped the step: its cause in a
//! few words for the summary's heading, and the fix for its "Next:" line.

use super::{Problem, Stop, Stopped};
use crate::github::HttpError;
use crate::github::error::BudgetSpent;
use crate::plan::Expired;

impl Stopped {
    /// A stop that fails the step, with its cause and fix given.
    pub fn error(message: String, cause: &str, next: &str) -> Stopped {
        Stopped {
            what: Stop::Error,
            severity: Problem::Error,
            message,
            cause: Some(cause.into()),
            next: Some(next.into()),
        }
    }

    /// A stop that fails the step, from the error that caused it.
    pub fn from_error(e: &anyhow::Error) -> Stopped {
        let (cause, next) = cause_and_fix(e);
        Stopped {
            what: Stop::Error,
            severity: Problem::Error,
            message: format!("{e:#}"),
            cause: Some(cause),
            next,
        }
    }
}

/// The cause in a few words and the fix (Markdown, code in backticks), by the kind of error.
fn cause_and_fix(e: &anyhow::Error) -> (String, Option<String>) {
    if e.chain().any(|c| c.is::<Expired>()) {
        return (
            "the artifact has expired".into(),
            Some("re-run the job that uploaded it; artifacts are kept for the upload's `retention-days`".into()),
        );
    }
    if e.chain().any(|c| c.is::<BudgetSpent>()) {
        return (
            "max-api-requests was spent".into(),
            Some("raise `max-api-requests`, or split the work with `shard`".into()),
        );
    }
    let Some(http) = e.chain().find_map(|c| c.downcast_ref::<HttpError>()) else {
        return ("stopped before fetching anything".into(), None);
    };
    let (cause, fix) = match http.status {
        401 => (
            "the token was refused (401)".to_string(),
            "check `github-token`: it is empty, expired or revoked".to_string(),
        ),
        403 => (
            "the token lacks a permission (403)".to_string(),
            format!(
                "add `permissions: {}` to the job, or give `github-token` a token that has it",
                http.permission_needed()
            ),
        ),
        404 => (
            "not found (404)".to_string(),
            "check `repository` and `run-id` (or the search inputs), and that `github-token` can read that repository".to_string(),
        ),
        429 | 500..=599 => (
            format!("GitHub's API kept failing ({})", http.status),
            "re-run the job; if it keeps failing, see https://www.githubstatus.com".to_string(),
        ),
        status => (
            format!("the API refused a request ({status})"),
            "read the message above; it is GitHub's own".to_string(),
        ),
    };
    (cause, Some(fix))
}
