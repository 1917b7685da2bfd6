//! Whether a verified certificate's identity is what the consumer asked for: issuer, source
//! repository, signer workflow and refs ([`Policy`]), and what ties the attestation to this
//! artifact ([`Binding`]): the run that made it, and the kind of runner.

use super::cert::Identity;
use super::{AttestError, Policy};

/// What ties an accepted attestation to the artifact, beyond who signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The run the artifact came from; `None` when any run of the signer workflow will do
    /// (`attestation-from: workflow`).
    pub run: Option<RunRef>,
    /// `attestation-runner: github-hosted`.
    pub github_hosted_only: bool,
}

/// A workflow run, as the certificate's Run Invocation URI names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    /// `https://github.com`, or the GHES host: run ids are per host.
    pub server_url: String,
    /// `owner/repo` the run belongs to.
    pub repository: String,
    pub id: u64,
}

impl RunRef {
    /// `{server}/owner/repo/actions/runs/{id}`, for messages.
    pub fn url(&self) -> String {
        format!(
            "{}/{}/actions/runs/{}",
            self.server_url.trim_end_matches('/'),
            self.repository,
            self.id
        )
    }

    /// `url` (a Run Invocation URI) names this run, any attempt: host and owner/repo compare
    /// case-insensitively, the id exactly.
    fn named_by(&self, url: &str) -> bool {
        let server = self.server_url.trim_end_matches('/');
        let rest = match url.get(..server.len()) {
            Some(head) if head.eq_ignore_ascii_case(server) => &url[server.len()..],
            _ => return false,
        };
        let parts: Vec<&str> = rest.split('/').collect();
        let (owner, repo, id, attempt) = match parts.as_slice() {
            ["", o, r, "actions", "runs", id] => (o, r, id, None),
            ["", o, r, "actions", "runs", id, "attempts", n] => (o, r, id, Some(n)),
            _ => return false,
        };
        format!("{owner}/{repo}").eq_ignore_ascii_case(&self.repository)
            && *id == self.id.to_string()
            && attempt.is_none_or(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    }
}

impl Binding {
    /// The certificate names the artifact's run (when bound to it) and an accepted runner.
    pub fn check(&self, id: &Identity) -> Result<(), AttestError> {
        if self.github_hosted_only && id.runner.as_deref() != Some("github-hosted") {
            return Err(AttestError::Runner {
                found: id.runner.clone().unwrap_or_else(|| "unnamed".into()),
            });
        }
        if let Some(run) = &self.run
            && !id.run_url.as_deref().is_some_and(|u| run.named_by(u))
        {
            return Err(AttestError::RunBinding {
                expected: run.clone(),
                found: id.run_url.clone().unwrap_or_else(|| "(none)".into()),
            });
        }
        Ok(())
    }
}

/// The run id a Run Invocation URI names (`…/actions/runs/ID[/attempts/N]`), for the summary.
pub fn run_id_of(url: &str) -> Option<u64> {
    let (_, tail) = url.split_once("/actions/runs/")?;
    tail.split('/').next()?.parse().ok()
}

/// `https://github.com/o/r/...` to `o/r/...`: policies name repositories and workflows without
/// the host (a GHES host differs).
fn strip_host(uri: &str) -> &str {
    match uri.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
        None => uri,
    }
}

pub(super) fn check_identity(id: &Identity, policy: &Policy) -> Result<(), AttestError> {
    let none = || "(none)".to_string();
    let issuer = id.issuer.clone().unwrap_or_else(none);
    if issuer != policy.issuer {
        return Err(AttestError::Issuer {
            expected: policy.issuer.clone(),
            found: issuer,
        });
    }
    let repository = id.repository.as_deref().map(strip_host).map(str::to_string);
    if !repository
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case(&policy.repository))
    {
        return Err(AttestError::Repository {
            expected: policy.repository.clone(),
            found: repository.unwrap_or_else(none),
        });
    }
    if let Some(expected) = &policy.signer_workflow {
        let found = id.signer_uri.as_deref().map(strip_host).unwrap_or("(none)");
        if !workflow_matches(expected, found) {
            return Err(AttestError::SignerWorkflow {
                expected: expected.clone(),
                found: found.to_string(),
            });
        }
    }
    check_source_ref(id.source_ref.as_deref(), policy.source_ref.as_deref())
}

/// The source ref equals the pinned one; with none pinned, any ref but a pull request's: its
/// merge ref builds the pull request author's code, which only an explicit pin accepts.
fn check_source_ref(found: Option<&str>, pinned: Option<&str>) -> Result<(), AttestError> {
    let found = found.unwrap_or("(none)");
    match pinned {
        Some(expected) if expected != found => Err(AttestError::SourceRef {
            expected: expected.to_string(),
            found: found.to_string(),
        }),
        None if found.starts_with("refs/pull/") => Err(AttestError::PullRequestRef {
            found: found.to_string(),
        }),
        _ => Ok(()),
    }
}

/// `owner/repo/.github/workflows/f.yml[@ref]` against `owner/repo/.github/workflows/f.yml@ref`:
/// owner and repository compare as GitHub does (case-insensitively), the path and the full ref
/// exactly. Both split at their LAST `@`: a workflow file's name may hold one.
fn workflow_matches(expected: &str, found: &str) -> bool {
    let (want_path, want_ref) = match expected.rsplit_once('@') {
        Some((p, r)) => (p, Some(r)),
        None => (expected, None),
    };
    let (path, found_ref) = found.rsplit_once('@').unwrap_or((found, ""));
    let split = |p: &str| -> Option<(String, String)> {
        let mut parts = p.splitn(3, '/');
        let (o, r, rest) = (parts.next()?, parts.next()?, parts.next()?);
        Some((format!("{o}/{r}").to_ascii_lowercase(), rest.to_string()))
    };
    split(want_path).is_some_and(|w| Some(w) == split(path))
        && want_ref.is_none_or(|r| r == found_ref)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflows_match_by_path_and_optional_full_ref() {
        let found = "Octo/Repo/.github/workflows/build.yml@refs/heads/main";
        assert!(workflow_matches(
            "octo/repo/.github/workflows/build.yml",
            found
        ));
        assert!(workflow_matches(
            "octo/repo/.github/workflows/build.yml@refs/heads/main",
            found
        ));
        // Short refs never match: `main` could be a branch or a tag.
        assert!(!workflow_matches(
            "octo/repo/.github/workflows/build.yml@main",
            found
        ));
        assert!(!workflow_matches(
            "octo/repo/.github/workflows/build.yml@refs/tags/main",
            found
        ));
        assert!(!workflow_matches(
            "octo/repo/.github/workflows/Build.yml",
            found
        ));
        assert!(!workflow_matches(
            "other/repo/.github/workflows/build.yml",
            found
        ));
        assert!(!workflow_matches("octo/repo", found));
        assert!(!workflow_matches(
            "octo/repo/.github/workflows/build.yml",
            "octo/repo/.github/workflows/build.yml@evil.yml@refs/heads/main"
        ));
    }

    #[test]
    fn a_run_invocation_uri_names_its_run_on_its_host() {
        let run = RunRef {
            server_url: "https://GHES.example.com/".into(),
            repository: "octo/hello".into(),
            id: 42,
        };
        for yes in [
            "https://ghes.example.com/Octo/hello/actions/runs/42/attempts/3",
            "https://ghes.example.com/octo/hello/actions/runs/42",
        ] {
            assert!(run.named_by(yes), "{yes}");
        }
        for no in [
            "https://github.com/octo/hello/actions/runs/42/attempts/1",
            "https://ghes.example.com.evil/octo/hello/actions/runs/42/attempts/1",
            "https://ghes.example.com/octo/other/actions/runs/42/attempts/1",
            "https://ghes.example.com/octo/hello/actions/runs/420/attempts/1",
            "https://ghes.example.com/octo/hello/actions/runs/042/attempts/1",
            "https://ghes.example.com/octo/hello/actions/runs/42/attempts/",
            "https://ghes.example.com/octo/hello/actions/runs/42/attempts/1/x",
            "https://ghes.example.com/x/octo/hello/actions/runs/42/attempts/1",
        ] {
            assert!(!run.named_by(no), "{no}");
        }
        assert_eq!(
            run_id_of("https://x/o/r/actions/runs/7/attempts/2"),
            Some(7)
        );
    }

    #[test]
    fn a_pull_request_ref_passes_only_when_pinned() {
        assert!(check_source_ref(Some("refs/heads/main"), None).is_ok());
        assert!(matches!(
            check_source_ref(Some("refs/pull/7/merge"), None),
            Err(AttestError::PullRequestRef { .. })
        ));
        assert!(check_source_ref(Some("refs/pull/7/merge"), Some("refs/pull/7/merge")).is_ok());
        assert!(check_source_ref(Some("refs/pull/8/merge"), Some("refs/pull/7/merge")).is_err());
    }
}
