//! # fakehub
//!
//! An in-process fake of the GitHub REST API (the artifact, workflow-run and
//! pull-request endpoints artifetch uses) plus a fake blob-storage origin, for
//! artifetch's integration tests, demo and benchmark.
//!
//! [`FakeGitHub::start`] binds two listeners on `127.0.0.1:0` — the API and,
//! on a different port (so a different origin), the blob store — and serves
//! them from a private thread running a small tokio runtime. The handle is
//! plain synchronous Rust: seed data, inject faults and read the request log
//! while a child process talks to the server. Dropping the handle stops it.
//!
//! Behaviour follows `api-facts.md` §9 ("Emulator checklist"):
//! * API: `User-Agent` required (403), `X-GitHub-Api-Version` checked (400),
//!   `Authorization: Bearer|token <token>` required (401 "Bad credentials"),
//!   `X-GitHub-Request-Id` on every response, `x-ratelimit-*` off GHES only;
//!   lists paginate with `per_page` (default 30, clamped to 100), `page` and a
//!   `Link` header (optionally in `/repositories/{id}/...` form, which is
//!   served too); downloads answer 302 to a signed, ~60 s URL, or 410 if expired.
//! * Blob: refuses any `Authorization` header (403 Azure XML), checks the
//!   signature and expiry, honours single `Range` requests (206), streams
//!   shared bodies in chunks with keep-alive, optional per-connection throttle.
//! * GHES mode ([`Options::ghes`]): API under `/api/v3`, no `digest`,
//!   `size_in_bytes` = raw file total, artifacts of unfinished runs hidden,
//!   `direction` ignored (ascending id order), and downloads redirect to the
//!   API's own host at `/_services/pipelines/.../signedartifactscontent`
//!   (or, with [`Options::ghes_external_storage`], to the blob listener).
//! * TLS ([`Options::tls`]): both listeners speak HTTPS with a certificate for
//!   `127.0.0.1`/`localhost` from a CA generated at start; trust it with
//!   [`FakeGitHub::ca_pem`] or the file [`FakeGitHub::ca_file`] (`SSL_CERT_FILE`).
//! * Conditional requests: every `GET` answered 200 carries a weak `ETag` of its body; the same
//!   `GET` with that value in `If-None-Match` is answered 304 with no body, and (as on GitHub)
//!   a 304 does not count against the rate limit.
//! * Jobs: `GET .../actions/runs/{id}/jobs` lists the jobs seeded with
//!   [`FakeGitHub::add_job`] (status and conclusion set with [`FakeGitHub::set_job_status`]).
//! * Faults ([`Fault`], [`FaultKind`]): status replacement, primary/secondary
//!   rate limits, truncated bodies, connection resets, stalls, delays.
//!
//! Zips "as the official uploader builds them" come from [`zipbuild`].
//!
//! ```no_run
//! use fakehub::{ArtifactSpec, FakeGitHub, Options, Run, zipbuild};
//! let gh = FakeGitHub::start(Options::default());
//! let run = gh.add_run(Run::new("octo/hello"));
//! gh.add_artifact(run, ArtifactSpec::new("dist", zipbuild::sample_zip()));
//! println!("GITHUB_API_URL={}", gh.api_url());
//! ```

mod api;
mod blob;
mod faults;
mod http;
mod origin;
mod server;
mod shared;
pub mod sigstore;
mod state;
mod tls;
mod util;
pub mod zipbuild;

pub use faults::{Fault, FaultKind};
pub use origin::Origin;
pub use state::{ArtifactInfo, ArtifactSpec, DigestMode, Job, LoggedRequest, Run};

use server::Running;
use state::Pull;

/// Server configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// GitHub Enterprise Server mode (see the crate docs).
    pub ghes: bool,
    /// The only accepted token. Default `test-token`.
    pub token: String,
    /// Repository created at start. Default `octo/hello`.
    pub repo: String,
    /// `per_page` when the request gives none. Default 30.
    pub per_page_default: usize,
    /// `Link` URLs use `/repositories/{id}/...` instead of `/repos/{o}/{r}/...`.
    pub link_style_repositories: bool,
    /// Blob origin honours `Range` (206). Default true.
    pub range_support: bool,
    /// Per-connection blob body rate cap.
    pub throttle_bytes_per_sec: Option<u64>,
    /// Lifetime of signed download URLs in seconds (negative = already expired). Default 60.
    pub sas_ttl_secs: i64,
    /// Serve HTTPS on both listeners with a test CA generated at start. Default false.
    pub tls: bool,
    /// GHES mode only: downloads redirect to the blob listener (GHES with external blob
    /// storage) instead of the pipelines URL on the API host. Default false.
    pub ghes_external_storage: bool,
    /// `x-ratelimit-limit` of the API (requests per window). Default 1000 (a `GITHUB_TOKEN`).
    pub rate_limit: u64,
    /// Length of the rate-limit window in seconds: `x-ratelimit-reset` is the start plus this.
    /// The count starts again when it passes. Default 3600.
    pub rate_window_secs: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ghes: false,
            token: "test-token".into(),
            repo: "octo/hello".into(),
            per_page_default: 30,
            link_style_repositories: false,
            range_support: true,
            throttle_bytes_per_sec: None,
            sas_ttl_secs: 60,
            tls: false,
            ghes_external_storage: false,
            rate_limit: 1000,
            rate_window_secs: 3600,
        }
    }
}

/// A running fake GitHub; stops when dropped.
pub struct FakeGitHub {
    running: Running,
}

impl FakeGitHub {
    /// Starts the server. Panics if it cannot bind loopback sockets (test helper).
    pub fn start(opts: Options) -> FakeGitHub {
        match server::start(opts) {
            Ok(running) => FakeGitHub { running },
            Err(e) => panic!("fakehub: cannot start: {e}"),
        }
    }

    fn shared(&self) -> &shared::Shared {
        &self.running.shared
    }

    /// `http://127.0.0.1:PORT`, or `http://127.0.0.1:PORT/api/v3` in GHES mode
    /// (`https://` with [`Options::tls`]).
    pub fn api_url(&self) -> String {
        self.shared().api_url.clone()
    }

    /// `http://127.0.0.1:PORT` (the API listener, without `/api/v3`).
    pub fn server_url(&self) -> String {
        self.shared().server_url.clone()
    }

    /// Origin download redirects point to: the blob listener, or in GHES mode
    /// the server URL (downloads stay on the API host).
    pub fn blob_origin(&self) -> String {
        let o = &self.shared().opts;
        if o.ghes && !o.ghes_external_storage {
            self.server_url()
        } else {
            self.shared().blob_origin.clone()
        }
    }

    /// With [`Options::tls`]: the test CA that signed the server certificate, PEM.
    pub fn ca_pem(&self) -> Option<String> {
        self.shared().ca_pem.clone()
    }

    /// With [`Options::tls`]: a file holding [`FakeGitHub::ca_pem`] (removed when the server
    /// stops), for `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> Option<std::path::PathBuf> {
        self.shared().ca_file.clone()
    }

    /// The accepted token.
    pub fn token(&self) -> String {
        self.shared().opts.token.clone()
    }

    /// The default repository's full name.
    pub fn repo(&self) -> String {
        self.shared().opts.repo.clone()
    }

    /// Id of a repository (case-insensitive name), if it exists.
    pub fn repo_id(&self, full_name: &str) -> Option<u64> {
        self.shared().lock().repo_by_name(full_name).map(|r| r.id)
    }

    /// Adds a repository (or returns the id of an existing one).
    pub fn add_repo(&self, full_name: &str) -> u64 {
        self.shared().lock().ensure_repo(full_name)
    }

    /// Adds a workflow run (creating its repositories if needed); returns the run id.
    pub fn add_run(&self, run: Run) -> u64 {
        self.shared().lock().add_run(run)
    }

    /// Changes a run's status/conclusion (e.g. to let GHES show its artifacts).
    pub fn set_run_status(&self, run_id: u64, status: &str, conclusion: Option<&str>) {
        let mut st = self.shared().lock();
        if let Some(r) = st.runs.iter_mut().find(|r| r.id == run_id) {
            r.run.status = status.to_string();
            r.run.conclusion = conclusion.map(str::to_string);
        }
    }

    /// Adds a queued job named `name` to a run (listed by `GET .../runs/{id}/jobs`); returns
    /// the job id. Panics if the run does not exist.
    pub fn add_job(&self, run_id: u64, name: &str) -> u64 {
        let mut st = self.shared().lock();
        let id = 90_000_000 + st.runs.iter().map(|r| r.jobs.len() as u64).sum::<u64>() + 1;
        match st.run_mut(run_id) {
            Some(r) => r.jobs.push(state::Job {
                id,
                name: name.to_string(),
                status: "queued".into(),
                conclusion: None,
            }),
            None => panic!("fakehub: add_job: no run {run_id}"),
        }
        id
    }

    /// Changes a job's status/conclusion, e.g. `("completed", Some("failure"))`.
    pub fn set_job_status(&self, job_id: u64, status: &str, conclusion: Option<&str>) {
        let mut st = self.shared().lock();
        for r in st.runs.iter_mut() {
            for j in r.jobs.iter_mut().filter(|j| j.id == job_id) {
                j.status = status.to_string();
                j.conclusion = conclusion.map(str::to_string);
            }
        }
    }

    /// Adds an artifact to a run; ids increase. Panics if the run does not exist.
    pub fn add_artifact(&self, run_id: u64, spec: ArtifactSpec) -> u64 {
        match self.shared().lock().add_artifact(run_id, spec) {
            Some(id) => id,
            None => panic!("fakehub: add_artifact: no run {run_id}"),
        }
    }

    /// Marks an artifact expired (listed with `expired: true`, download 410).
    pub fn expire_artifact(&self, id: u64) {
        if let Some(a) = self.shared().lock().artifact_mut(id) {
            a.expired = true;
        }
    }

    /// All artifacts ever added, including deleted ones (`deleted: true`).
    pub fn artifacts(&self) -> Vec<ArtifactInfo> {
        let st = self.shared().lock();
        st.artifacts.iter().map(|a| st.info(a)).collect()
    }

    /// Adds pull request `number` to the default repository (head in the same repo).
    pub fn add_pull(&self, number: u64, head_sha: &str, head_ref: &str) {
        let repo = self.repo();
        self.add_pull_in(&repo, number, head_sha, head_ref, &repo);
    }

    /// Adds a pull request to `repo` whose head lives in `head_repo` (a fork, say).
    pub fn add_pull_in(
        &self,
        repo: &str,
        number: u64,
        head_sha: &str,
        head_ref: &str,
        head_repo: &str,
    ) {
        let mut st = self.shared().lock();
        let repo_id = st.ensure_repo(repo);
        let head_repo_id = st.ensure_repo(head_repo);
        st.pulls
            .retain(|p| !(p.repo_id == repo_id && p.number == number));
        st.pulls.push(Pull {
            repo_id,
            number,
            head_sha: head_sha.to_string(),
            head_ref: head_ref.to_string(),
            head_repo_id,
        });
    }

    /// Lists `bundle` (JSON) among the attestations of `sha256` (hex) in `repo`: inline, or with
    /// `by_url` behind a `bundle_url` on the blob origin (which refuses a token).
    pub fn add_attestation(&self, repo: &str, sha256: &str, bundle: String, by_url: bool) {
        let mut st = self.shared().lock();
        let repo_id = st.ensure_repo(repo);
        st.attestations.push(state::StoredAttestation {
            repo_id,
            sha256: sha256.to_ascii_lowercase(),
            bundle,
            by_url,
        });
    }

    /// Queues a fault (applied in injection order).
    pub fn inject(&self, fault: Fault) {
        self.shared().lock().faults.push(fault);
    }

    /// Removes all pending faults.
    pub fn clear_faults(&self) {
        self.shared().lock().faults.clear();
    }

    /// Faults not yet used up.
    pub fn pending_faults(&self) -> Vec<Fault> {
        let st = self.shared().lock();
        st.faults.iter().filter(|f| f.times > 0).cloned().collect()
    }

    /// Every request served so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared().lock().log.clone()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared().lock().log.clear();
    }

    /// Requests that left a [`FaultKind::Barrier`] because the others never came.
    pub fn barriers_missed(&self) -> u64 {
        self.shared().lock().barriers_missed
    }

    /// How many endless bodies ([`FaultKind::Endless`]) were written up to their 64 MiB cap,
    /// that is, read on by a client that should have hung up long before.
    pub fn endless_bodies_read_to_the_cap(&self) -> usize {
        self.shared()
            .endless_to_the_cap
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}
