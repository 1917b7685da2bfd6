//! Serde types for the parts of GitHub's JSON that artifetch reads.
//!
//! Our own types rather than octocrab's: its model has no `digest` and fails a whole page on a
//! null timestamp. Every field that GHES or older uploads may leave out or null is an `Option`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub archive_download_url: Option<String>,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// `sha256:<hex>` of the zip as served; absent on GHES and before upload-artifact v4.
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub workflow_run: Option<ArtifactRun>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, Default)]
pub struct ArtifactRun {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub repository_id: Option<u64>,
    #[serde(default)]
    pub head_repository_id: Option<u64>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
}

/// A page of artifacts. The list field is required: a body without it (a redirect's message,
/// an error page) is not an empty list.
#[derive(Debug, Deserialize)]
pub struct ArtifactList {
    pub artifacts: Vec<Artifact>,
}

/// What an artifact's `digest` field promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published<'a> {
    /// Absent, null or empty: a v3 upload (GHES, upload-artifact < v4).
    None,
    /// The hex of a SHA-256, from `sha256:<hex>` (label in any case) or a bare hex.
    Sha256(&'a str),
    /// `<algorithm>:<value>` with an algorithm artifetch cannot check.
    Other(&'a str),
}

impl Artifact {
    pub fn published_digest(&self) -> Published<'_> {
        let Some(d) = self
            .digest
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        else {
            return Published::None;
        };
        match d.split_once(':') {
            Some((alg, hex)) if alg.eq_ignore_ascii_case("sha256") => Published::Sha256(hex),
            Some((alg, _)) => Published::Other(alg),
            None => Published::Sha256(d),
        }
    }
}

/// The fields of a workflow run that the search reads; everything optional but the id, since
/// older servers and odd runs leave some out.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub run_number: Option<u64>,
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub workflow_id: Option<u64>,
    /// `.github/workflows/build.yml` (sometimes with `@ref`).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub repository: Option<RepoRef>,
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct RepoRef {
    #[serde(default)]
    pub id: Option<u64>,
    #[serde(default)]
    pub full_name: Option<String>,
}

impl WorkflowRun {
    /// The workflow's file name, without directory or `@ref`.
    pub fn workflow_file(&self) -> Option<&str> {
        let path = self.path.as_deref()?;
        let path = path.split('@').next().unwrap_or(path);
        Some(path.rsplit('/').next().unwrap_or(path))
    }

    /// The head repository's name when it differs from the repository's: a fork.
    pub fn fork_name(&self) -> Option<String> {
        let head = self.head_repository.as_ref()?;
        let base = self.repository.as_ref()?;
        let same_id = head.id.is_some() && head.id == base.id;
        let same_name = match (&head.full_name, &base.full_name) {
            (Some(h), Some(b)) => h.eq_ignore_ascii_case(b),
            _ => false,
        };
        (!same_id && !same_name).then(|| {
            head.full_name
                .clone()
                .unwrap_or_else(|| "another repository".into())
        })
    }
}

#[derive(Debug, Deserialize)]
pub struct RunList {
    #[serde(default)]
    pub total_count: Option<u64>,
    /// Required: a body without it is not an empty list.
    pub workflow_runs: Vec<WorkflowRun>,
}

/// A job of a run, as the jobs list shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
}

/// A page of a run's jobs.
#[derive(Debug, Deserialize)]
pub(crate) struct JobList {
    #[serde(default)]
    pub(crate) jobs: Vec<Job>,
}

#[derive(Debug, Deserialize)]
pub struct Pull {
    pub head: PullHead,
}

#[derive(Debug, Deserialize)]
pub struct PullHead {
    pub sha: String,
}

/// A page of attestations for one digest.
#[derive(Debug, Deserialize)]
pub(crate) struct AttestationPage {
    #[serde(default)]
    pub(crate) attestations: Vec<AttestationEntry>,
}

/// One attestation: its bundle inline, or where to fetch it.
#[derive(Debug, Deserialize)]
pub(crate) struct AttestationEntry {
    #[serde(default)]
    pub(crate) bundle: Option<serde_json::Value>,
    #[serde(default)]
    pub(crate) bundle_url: Option<String>,
}

/// GitHub's error body (`basic-error`): only the message matters to us.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullable_and_missing_fields_are_accepted() {
        let json = r#"{"id":1,"node_id":"x","name":"a","size_in_bytes":5,"url":"u",
            "archive_download_url":"u/zip","expired":false,"created_at":null,
            "expires_at":null,"updated_at":null,"workflow_run":null}"#;
        let a: Artifact = serde_json::from_str(json).unwrap();
        assert_eq!((a.id, a.digest, a.workflow_run), (1, None, None));
        let json =
            r#"{"id":2,"name":"b","digest":null,"workflow_run":{"id":9,"head_branch":null}}"#;
        let a: Artifact = serde_json::from_str(json).unwrap();
        assert_eq!(a.workflow_run.unwrap().id, Some(9));
    }

    #[test]
    fn digest_labels() {
        let with = |d: Option<&str>| Artifact {
            digest: d.map(str::to_string),
            ..serde_json::from_str(r#"{"id":1,"name":"a"}"#).unwrap()
        };
        assert_eq!(with(None).published_digest(), Published::None);
        assert_eq!(with(Some(" ")).published_digest(), Published::None);
        assert_eq!(
            with(Some("sha256:ab")).published_digest(),
            Published::Sha256("ab")
        );
        assert_eq!(
            with(Some("SHA256:ab")).published_digest(),
            Published::Sha256("ab")
        );
        assert_eq!(with(Some("ab")).published_digest(), Published::Sha256("ab"));
        assert_eq!(
            with(Some("sha512:ab")).published_digest(),
            Published::Other("sha512")
        );
    }

    #[test]
    fn a_page_without_its_list_is_an_error() {
        assert!(
            serde_json::from_str::<ArtifactList>(r#"{"message":"Moved Permanently"}"#).is_err()
        );
        let page: ArtifactList =
            serde_json::from_str(r#"{"total_count":0,"artifacts":[]}"#).unwrap();
        assert!(page.artifacts.is_empty());
    }

    fn run(json: serde_json::Value) -> WorkflowRun {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn workflow_file_and_fork() {
        let r = run(
            serde_json::json!({"id": 1, "path": ".github/workflows/build.yml@main",
            "repository": {"id": 5, "full_name": "octo/hello"}, "head_repository": {"id": 5, "full_name": "octo/hello"}}),
        );
        assert_eq!(r.workflow_file(), Some("build.yml"));
        assert_eq!(r.fork_name(), None);
        let r = run(
            serde_json::json!({"id": 1, "repository": {"id": 5, "full_name": "octo/hello"},
            "head_repository": {"id": 6, "full_name": "evil/hello"}}),
        );
        assert_eq!(r.fork_name().as_deref(), Some("evil/hello"));
        assert_eq!(run(serde_json::json!({"id": 1})).fork_name(), None);
    }
}
