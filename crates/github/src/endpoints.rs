//! Every REST endpoint artifetch calls, in one place: each path as GitHub's REST reference writes
//! it, and the query it is always sent with (100 a page on every list). The clients turn an
//! [`Endpoint`] into a URL under the API base with [`Endpoint::url`]; nothing else in `github/`
//! spells a path (tests/it/architecture.rs checks).

use anyhow::{Context, Result};
use reqwest::Url;

/// One endpoint of the REST API: its path under the API base, and its query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    path: String,
    query: Vec<(String, String)>,
}

/// Lists ask for the most a page may hold: fewer requests against the rate limit.
const PER_PAGE: (&str, &str) = ("per_page", "100");

impl Endpoint {
    fn new(path: String) -> Endpoint {
        Endpoint {
            path,
            query: Vec::new(),
        }
    }

    fn with(mut self, key: &str, value: &str) -> Endpoint {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    fn list(path: String) -> Endpoint {
        Endpoint::new(path).with(PER_PAGE.0, PER_PAGE.1)
    }

    /// `GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts`; with `name`, the server
    /// filters by it.
    pub(crate) fn run_artifacts(
        owner: &str,
        repo: &str,
        run_id: u64,
        name: Option<&str>,
    ) -> Endpoint {
        let e = Endpoint::list(format!(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts"
        ));
        match name {
            Some(name) => e.with("name", name),
            None => e,
        }
    }

    /// `GET /repos/{owner}/{repo}/actions/artifacts?name=`: the repository's artifacts of one
    /// name, newest first.
    pub(crate) fn repo_artifacts(owner: &str, repo: &str, name: &str) -> Endpoint {
        Endpoint::list(format!("/repos/{owner}/{repo}/actions/artifacts")).with("name", name)
    }

    /// `/repos/{owner}/{repo}/actions/artifacts/{artifact_id}` (artifetch only deletes it).
    pub(crate) fn artifact(owner: &str, repo: &str, id: u64) -> Endpoint {
        Endpoint::new(format!("/repos/{owner}/{repo}/actions/artifacts/{id}"))
    }

    /// `GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}`, the format
    /// `zip` (the only one): a redirect to the archive.
    pub(crate) fn artifact_zip(owner: &str, repo: &str, id: u64) -> Endpoint {
        Endpoint::new(format!("/repos/{owner}/{repo}/actions/artifacts/{id}/zip"))
    }

    /// `GET /repos/{owner}/{repo}/actions/runs`, or with a workflow
    /// `GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs`; `filters` are the
    /// server-side filters (`branch`, `event`, `status`, …), in order.
    pub(crate) fn runs(
        owner: &str,
        repo: &str,
        workflow: Option<&str>,
        filters: &[(&str, &str)],
    ) -> Endpoint {
        let path = match workflow {
            Some(w) => format!("/repos/{owner}/{repo}/actions/workflows/{w}/runs"),
            None => format!("/repos/{owner}/{repo}/actions/runs"),
        };
        filters
            .iter()
            .fold(Endpoint::list(path), |e, (k, v)| e.with(k, v))
    }

    /// `GET /repos/{owner}/{repo}/actions/runs/{run_id}`.
    pub(crate) fn run(owner: &str, repo: &str, run_id: u64) -> Endpoint {
        Endpoint::new(format!("/repos/{owner}/{repo}/actions/runs/{run_id}"))
    }

    /// `GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs`: the jobs of the run's latest
    /// attempt.
    pub(crate) fn run_jobs(owner: &str, repo: &str, run_id: u64) -> Endpoint {
        Endpoint::list(format!("/repos/{owner}/{repo}/actions/runs/{run_id}/jobs"))
    }

    /// `GET /repos/{owner}/{repo}/pulls/{pull_number}`.
    pub(crate) fn pull(owner: &str, repo: &str, number: u64) -> Endpoint {
        Endpoint::new(format!("/repos/{owner}/{repo}/pulls/{number}"))
    }

    /// `GET /repos/{owner}/{repo}/attestations/{subject_digest}`, the digest `sha256:<hex>`.
    pub(crate) fn attestations(owner: &str, repo: &str, sha256: &str) -> Endpoint {
        Endpoint::list(format!(
            "/repos/{owner}/{repo}/attestations/sha256:{sha256}"
        ))
    }

    /// The endpoint's URL under the API base (`https://api.github.com`, or a GHES
    /// `https://HOST/api/v3`; no trailing slash).
    pub(crate) fn url(&self, base: &str) -> Result<Url> {
        let mut url = Url::parse(&format!("{base}{}", self.path))
            .with_context(|| format!("bad API URL for {}", self.path))?;
        for (k, v) in &self.query {
            url.query_pairs_mut().append_pair(k, v);
        }
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Path and query as sent, under a GHES-style base.
    fn sent(e: Endpoint) -> String {
        let url = e.url("https://ghe.example/api/v3").unwrap();
        let rest = url.as_str().strip_prefix("https://ghe.example/api/v3");
        rest.unwrap().to_string()
    }

    #[test]
    fn list_artifacts_for_a_run() {
        assert_eq!(
            sent(Endpoint::run_artifacts("octo", "hello", 42, None)),
            "/repos/octo/hello/actions/runs/42/artifacts?per_page=100"
        );
        assert_eq!(
            sent(Endpoint::run_artifacts("octo", "hello", 42, Some("a b&c"))),
            "/repos/octo/hello/actions/runs/42/artifacts?per_page=100&name=a+b%26c"
        );
    }

    #[test]
    fn list_artifacts_for_a_repository() {
        assert_eq!(
            sent(Endpoint::repo_artifacts("octo", "hello", "pkg")),
            "/repos/octo/hello/actions/artifacts?per_page=100&name=pkg"
        );
    }

    #[test]
    fn an_artifact_and_its_download() {
        assert_eq!(
            sent(Endpoint::artifact("octo", "hello", 7)),
            "/repos/octo/hello/actions/artifacts/7"
        );
        assert_eq!(
            sent(Endpoint::artifact_zip("octo", "hello", 7)),
            "/repos/octo/hello/actions/artifacts/7/zip"
        );
    }

    #[test]
    fn list_runs_of_the_repository_or_a_workflow() {
        assert_eq!(
            sent(Endpoint::runs("octo", "hello", None, &[])),
            "/repos/octo/hello/actions/runs?per_page=100"
        );
        assert_eq!(
            sent(Endpoint::runs(
                "octo",
                "hello",
                Some("build.yml"),
                &[("branch", "main"), ("status", "success")]
            )),
            "/repos/octo/hello/actions/workflows/build.yml/runs?per_page=100&branch=main&status=success"
        );
    }

    #[test]
    fn a_run_and_its_jobs() {
        assert_eq!(
            sent(Endpoint::run("octo", "hello", 42)),
            "/repos/octo/hello/actions/runs/42"
        );
        assert_eq!(
            sent(Endpoint::run_jobs("octo", "hello", 42)),
            "/repos/octo/hello/actions/runs/42/jobs?per_page=100"
        );
    }

    #[test]
    fn a_pull_request() {
        assert_eq!(
            sent(Endpoint::pull("octo", "hello", 3)),
            "/repos/octo/hello/pulls/3"
        );
    }

    #[test]
    fn attestations_of_a_digest() {
        assert_eq!(
            sent(Endpoint::attestations("octo", "hello", "ab12")),
            "/repos/octo/hello/attestations/sha256:ab12?per_page=100"
        );
    }

    #[test]
    fn the_base_keeps_its_path() {
        let url = Endpoint::run("o", "r", 1)
            .url("https://api.github.com")
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://api.github.com/repos/o/r/actions/runs/1"
        );
    }
}
