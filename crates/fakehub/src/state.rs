//! The fake server's data: repositories, workflow runs, pull requests,
//! artifacts (with their served bytes), injected faults and the request log.
//! Public value types used to seed the server live here too.

use crate::faults::Fault;
use crate::origin::Origin;
use crate::util::{now_unix, rfc3339, sha256_hex};
use std::sync::Arc;

/// One request as the server saw it, with the status it answered.
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub origin: Origin,
    pub method: String,
    /// Raw path, without the query.
    pub path: String,
    /// Raw query, without `?`.
    pub query: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub status: u16,
    /// When the server decided the answer (after any `Delay` fault): for ordering checks
    /// such as "no API request before the rate-limit wait ended".
    pub at: std::time::Instant,
}

impl LoggedRequest {
    /// First header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::util::header(&self.headers, name)
    }
}

/// A workflow run to add. Build with [`Run::new`] and adjust fields or chain setters.
#[derive(Debug, Clone)]
pub struct Run {
    /// `owner/repo` the run belongs to (created if unknown).
    pub repo: String,
    /// Workflow name (`name` in the JSON).
    pub name: String,
    /// `.github/workflows/build.yml` (optionally with `@ref`).
    pub workflow_path: String,
    pub workflow_id: u64,
    pub head_branch: String,
    pub head_sha: String,
    pub event: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    /// `success`, `failure`, ... (`None` while not completed).
    pub conclusion: Option<String>,
    /// RFC 3339; runs list newest `created_at` first (ties: higher id first).
    pub created_at: String,
    pub run_number: u64,
    pub run_attempt: u64,
    /// Head repository full name; `None` = same as `repo`. Differs for forks.
    pub head_repo: Option<String>,
    /// Numbers of associated pull requests.
    pub pull_requests: Vec<u64>,
    pub actor: String,
}

impl Run {
    /// A completed, successful push run on `main` of `.github/workflows/build.yml`.
    pub fn new(repo: &str) -> Run {
        Run {
            repo: repo.to_string(),
            name: "Build".into(),
            workflow_path: ".github/workflows/build.yml".into(),
            workflow_id: 161_335,
            head_branch: "main".into(),
            head_sha: "328faa0536e6fef19753d9d91dc96a9931694ce3".into(),
            event: "push".into(),
            status: "completed".into(),
            conclusion: Some("success".into()),
            created_at: rfc3339(now_unix()),
            run_number: 1,
            run_attempt: 1,
            head_repo: None,
            pull_requests: Vec::new(),
            actor: "octocat".into(),
        }
    }

    pub fn branch(mut self, b: &str) -> Run {
        self.head_branch = b.into();
        self
    }

    pub fn sha(mut self, s: &str) -> Run {
        self.head_sha = s.into();
        self
    }

    pub fn event(mut self, e: &str) -> Run {
        self.event = e.into();
        self
    }

    /// Sets status and conclusion together, e.g. `("completed", Some("failure"))`.
    pub fn status(mut self, status: &str, conclusion: Option<&str>) -> Run {
        self.status = status.into();
        self.conclusion = conclusion.map(str::to_string);
        self
    }

    pub fn workflow(mut self, path: &str, id: u64) -> Run {
        self.workflow_path = path.into();
        self.workflow_id = id;
        self
    }

    pub fn created_at(mut self, rfc3339: &str) -> Run {
        self.created_at = rfc3339.into();
        self
    }

    pub fn head_repo(mut self, full_name: &str) -> Run {
        self.head_repo = Some(full_name.into());
        self
    }

    pub fn run_number(mut self, n: u64) -> Run {
        self.run_number = n;
        self
    }
}

/// What the `digest` field of an artifact says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DigestMode {
    /// `"sha256:<hex of the served body>"`.
    #[default]
    Correct,
    /// A well-formed digest of other bytes.
    Wrong,
    /// Key absent (old servers, GHES).
    Missing,
    /// `"digest": null` (v3 artifacts on dotcom).
    Null,
    /// Exactly this string (another label case, another algorithm, garbage).
    Raw(String),
}

/// An artifact to add to a run.
#[derive(Debug, Clone)]
pub struct ArtifactSpec {
    pub name: String,
    /// Exactly the bytes the blob origin serves.
    pub body: Vec<u8>,
    /// Default `application/zip`.
    pub content_type: String,
    /// File name in `Content-Disposition`; default `<name>.zip`.
    pub filename: Option<String>,
    /// Full `Content-Disposition` value; overrides `filename` when set.
    pub content_disposition: Option<String>,
    pub expired: bool,
    pub digest: DigestMode,
    /// Reported `size_in_bytes`; default the body length (dotcom) or the
    /// zip's total uncompressed size (GHES / v3 semantics).
    pub size_in_bytes: Option<u64>,
}

impl ArtifactSpec {
    pub fn new(name: &str, body: Vec<u8>) -> ArtifactSpec {
        ArtifactSpec {
            name: name.to_string(),
            body,
            content_type: "application/zip".into(),
            filename: None,
            content_disposition: None,
            expired: false,
            digest: DigestMode::Correct,
            size_in_bytes: None,
        }
    }

    /// A non-zip single-file artifact (upload-artifact v7 `archive: false`):
    /// the artifact is named after the file and served with `content_type`.
    pub fn raw_file(file_name: &str, body: Vec<u8>, content_type: &str) -> ArtifactSpec {
        ArtifactSpec {
            content_type: content_type.into(),
            filename: Some(file_name.into()),
            ..ArtifactSpec::new(file_name, body)
        }
    }

    pub fn expired(mut self, yes: bool) -> ArtifactSpec {
        self.expired = yes;
        self
    }

    pub fn digest(mut self, mode: DigestMode) -> ArtifactSpec {
        self.digest = mode;
        self
    }
}

/// A snapshot of a stored artifact (see [`crate::FakeGitHub::artifacts`]).
#[derive(Debug, Clone)]
pub struct ArtifactInfo {
    pub id: u64,
    pub run_id: u64,
    pub repo: String,
    pub name: String,
    pub size: usize,
    pub expired: bool,
    /// Set by `DELETE .../artifacts/{id}`.
    pub deleted: bool,
    /// `sha256:<hex>` of the body, whatever the API reports.
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub id: u64,
    pub full_name: String,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredRun {
    pub id: u64,
    pub repo_id: u64,
    pub head_repo_id: u64,
    pub run: Run,
    pub jobs: Vec<Job>,
}

/// A job of a run, as the jobs list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress`, `completed`.
    pub status: String,
    /// `success`, `failure`, `cancelled`, `skipped` once completed.
    pub conclusion: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct StoredArtifact {
    pub id: u64,
    pub run_id: u64,
    pub spec_name: String,
    pub body: Arc<Vec<u8>>,
    pub sha256: String,
    pub content_type: String,
    pub disposition: String,
    pub expired: bool,
    pub digest: DigestMode,
    pub size_override: Option<u64>,
    pub created_at: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Pull {
    pub repo_id: u64,
    pub number: u64,
    pub head_sha: String,
    pub head_ref: String,
    pub head_repo_id: u64,
}

/// Everything mutable, behind one mutex.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub repos: Vec<Repo>,
    pub runs: Vec<StoredRun>,
    pub artifacts: Vec<StoredArtifact>,
    pub pulls: Vec<Pull>,
    pub attestations: Vec<StoredAttestation>,
    pub faults: Vec<Fault>,
    pub log: Vec<LoggedRequest>,
    pub api_requests: u64,
    /// Requests counted in the current rate-limit window, and that window's reset (Unix time).
    pub rate_used: u64,
    pub rate_reset: i64,
    /// Requests that reached each [`crate::FaultKind::Barrier`] (by its path), and the waits
    /// at one that gave up before the others came.
    pub barrier_arrivals: std::collections::HashMap<String, usize>,
    pub barriers_missed: u64,
    next_repo_id: u64,
    next_run_id: u64,
    next_artifact_id: u64,
    request_seq: u64,
}

impl State {
    pub fn new() -> State {
        State {
            next_repo_id: 1_296_269,
            next_run_id: 7_000_001,
            next_artifact_id: 1001,
            ..State::default()
        }
    }

    /// Repo id for a full name (case-insensitive), creating it if needed.
    pub fn ensure_repo(&mut self, full_name: &str) -> u64 {
        if let Some(r) = self.repo_by_name(full_name) {
            return r.id;
        }
        let id = self.next_repo_id;
        self.next_repo_id += 1;
        self.repos.push(Repo {
            id,
            full_name: full_name.to_string(),
        });
        id
    }

    pub fn repo_by_name(&self, full_name: &str) -> Option<&Repo> {
        self.repos
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(full_name))
    }

    pub fn repo_by_id(&self, id: u64) -> Option<&Repo> {
        self.repos.iter().find(|r| r.id == id)
    }

    pub fn add_run(&mut self, run: Run) -> u64 {
        let repo_id = self.ensure_repo(&run.repo);
        let head_repo_id = match &run.head_repo {
            Some(h) => self.ensure_repo(h),
            None => repo_id,
        };
        let id = self.next_run_id;
        self.next_run_id += 1;
        self.runs.push(StoredRun {
            id,
            repo_id,
            head_repo_id,
            run,
            jobs: Vec::new(),
        });
        id
    }

    pub fn run_mut(&mut self, id: u64) -> Option<&mut StoredRun> {
        self.runs.iter_mut().find(|r| r.id == id)
    }

    pub fn run(&self, id: u64) -> Option<&StoredRun> {
        self.runs.iter().find(|r| r.id == id)
    }

    /// Adds an artifact; `None` if the run does not exist.
    pub fn add_artifact(&mut self, run_id: u64, spec: ArtifactSpec) -> Option<u64> {
        self.run(run_id)?;
        let id = self.next_artifact_id;
        self.next_artifact_id += 1;
        let filename = spec
            .filename
            .clone()
            .unwrap_or_else(|| format!("{}.zip", spec.name));
        let disposition = spec
            .content_disposition
            .clone()
            .unwrap_or_else(|| format!("attachment; filename=\"{filename}\""));
        self.artifacts.push(StoredArtifact {
            id,
            run_id,
            spec_name: spec.name,
            sha256: sha256_hex(&spec.body),
            body: Arc::new(spec.body),
            content_type: spec.content_type,
            disposition,
            expired: spec.expired,
            digest: spec.digest,
            size_override: spec.size_in_bytes,
            created_at: now_unix(),
            deleted: false,
        });
        Some(id)
    }

    /// A live (not deleted) artifact.
    pub fn artifact(&self, id: u64) -> Option<&StoredArtifact> {
        self.artifacts.iter().find(|a| a.id == id && !a.deleted)
    }

    pub fn artifact_mut(&mut self, id: u64) -> Option<&mut StoredArtifact> {
        self.artifacts.iter_mut().find(|a| a.id == id && !a.deleted)
    }

    pub fn info(&self, a: &StoredArtifact) -> ArtifactInfo {
        let repo = self
            .run(a.run_id)
            .and_then(|r| self.repo_by_id(r.repo_id))
            .map(|r| r.full_name.clone())
            .unwrap_or_default();
        ArtifactInfo {
            id: a.id,
            run_id: a.run_id,
            repo,
            name: a.spec_name.clone(),
            size: a.body.len(),
            expired: a.expired,
            deleted: a.deleted,
            sha256: format!("sha256:{}", a.sha256),
        }
    }

    /// Next value for `X-GitHub-Request-Id`.
    pub fn request_id(&mut self) -> String {
        self.request_seq += 1;
        let n = self.request_seq;
        format!(
            "C0DE:{:04X}:{:06X}:{:06X}:{:08X}",
            n & 0xFFFF,
            n.wrapping_mul(2_654_435_761) & 0xFF_FFFF,
            n.wrapping_mul(40_503) & 0xFF_FFFF,
            0x6500_0000 + n
        )
    }
}

/// An attestation bundle listed for a digest: inline (`bundle`) or behind `bundle_url` on the blob
/// origin (raw-snappy-compressed, as GitHub serves them).
#[derive(Debug, Clone)]
pub(crate) struct StoredAttestation {
    pub repo_id: u64,
    pub sha256: String,
    pub bundle: String,
    pub by_url: bool,
}
