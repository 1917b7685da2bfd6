//! Raw inputs + the runner's `GITHUB_*` / `RUNNER_*` variables -> a validated [`Settings`].
//!
//! Every bad input is caught here, before any request or file write, with an error that names
//! the input and says what was expected. Nothing later re-reads the environment.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::github::Url;
use anyhow::{Context, Result, bail};

use crate::inputs::{Name, RawInputs, input};
use crate::pasted;
use crate::pattern::{PathGlobs, Pattern};
use crate::pin::Pins;

/// Which artifacts of the run to take.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    Name(String),
    Pattern(Pattern),
    Ids(Vec<u64>),
}

impl Selection {
    /// `name 'dist'`, `pattern 'pkg-*'`, `artifact-ids 1,2`, `all artifacts`.
    pub fn describe(&self) -> String {
        match self {
            Selection::All => "all artifacts".into(),
            Selection::Name(n) => format!("name '{n}'"),
            Selection::Pattern(p) => format!("pattern '{}'", p.as_str()),
            Selection::Ids(ids) => format!(
                "artifact-ids {}",
                ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
            ),
        }
    }

    /// Does the selection want an artifact of this name and id (expiry aside)? The one place
    /// that says so, for the plan and for the run search alike.
    pub fn matches(&self, name: &str, id: u64) -> bool {
        match self {
            Selection::All => true,
            Selection::Name(n) => n == name,
            Selection::Pattern(p) => p.matches(name),
            Selection::Ids(ids) => ids.contains(&id),
        }
    }
}

/// How loudly to treat a digest mismatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warn,
    Info,
    Ignore,
}

/// `partial-download`: fetch only the selected entries' bytes by range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partial {
    /// When `files` takes a small part of a large archive.
    Auto,
    /// Whenever `files` is given and the checks allow it.
    Always,
    Never,
}

/// `summary`: when the job summary is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryMode {
    Always,
    Never,
    /// Only when the step did not fully succeed (a failure, or a warning such as nothing matched).
    OnFailure,
}

/// What to do when the selection matches nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    Fail,
    Warn,
    Ignore,
}

/// Waits that tests shrink through the hidden `ARTIFETCH_TIME_SCALE` variable.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First retry backoff; doubles per attempt, with jitter.
    pub backoff: Duration,
    /// A blob download with no bytes for this long is retried.
    pub stall: Duration,
    /// How often a long download logs its progress.
    pub progress: Duration,
    pub attempts: u32,
    /// Bound on the whole step (`timeout` input, minutes); not scaled.
    pub overall: Option<Duration>,
}

impl Timing {
    /// What the API client keeps of these (crates/github knows nothing of settings).
    pub fn github(&self) -> crate::github::Timing {
        crate::github::Timing {
            backoff: self.backoff,
            stall: self.stall,
            attempts: self.attempts,
            overall: self.overall,
        }
    }
}

/// Which run to fetch from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// The run this step belongs to (`GITHUB_RUN_ID`).
    Current(u64),
    /// Another run, named by `run-id`; search inputs become checks against it.
    Given(u64),
    /// The newest run matching the search inputs.
    Search,
}

/// The workflow's own run, from the runner's variables (no request needed).
#[derive(Debug, Clone, Default)]
pub struct ThisRun {
    /// `GITHUB_REPOSITORY`: where the workflow runs (`repository` may name another).
    pub repository: Option<String>,
    /// `GITHUB_RUN_NUMBER`: the `#42` people see.
    pub number: Option<u64>,
    /// `GITHUB_WORKFLOW`: the workflow's name.
    pub workflow: Option<String>,
}

/// The run-search inputs (`workflow`, `branch`, ...). Empty when not searching.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Workflow file name (`build.yml`) or numeric id.
    pub workflow: Option<String>,
    pub branch: Option<String>,
    pub event: Option<String>,
    pub commit: Option<String>,
    pub pr: Option<u64>,
    /// Status or conclusion filter; `None` when disabled with an empty value.
    pub conclusion: Option<String>,
    pub run_number: Option<u64>,
    pub search_artifacts: bool,
    pub allow_forks: bool,
    pub max_runs: usize,
    /// Poll this long for a matching run or artifact (`wait-timeout`, seconds).
    pub wait: Option<Duration>,
    /// What the wait watches (`wait-for`).
    pub wait_for: WaitFor,
    pub delete_after: bool,
}

/// `wait-for`: what a wait watches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WaitFor {
    /// A matching run that has (with its conclusion) completed, with the artifact.
    #[default]
    Run,
    /// The artifact, in a run that may still be in progress.
    Artifact,
    /// This job of the run: done waiting, one way or the other, once it has finished.
    Job(String),
}

impl std::fmt::Display for WaitFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitFor::Run => f.write_str("run"),
            WaitFor::Artifact => f.write_str("artifact"),
            WaitFor::Job(name) => write!(f, "job:{name}"),
        }
    }
}

impl Search {
    /// Any of the inputs that turn a fetch into a search.
    pub fn active(&self) -> bool {
        self.workflow.is_some()
            || self.branch.is_some()
            || self.event.is_some()
            || self.commit.is_some()
            || self.pr.is_some()
            || self.run_number.is_some()
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub api_url: Url,
    pub server_url: String,
    pub token: String,
    pub owner: String,
    pub repo: String,
    pub run: RunMode,
    pub search: Search,
    pub selection: Selection,
    /// Absolute destination (may not exist yet).
    pub path: PathBuf,
    /// `GITHUB_WORKSPACE` (else the current directory): the summary shows paths relative to it.
    pub workspace: PathBuf,
    /// What the runner says of the workflow's own run.
    pub this_run: ThisRun,
    /// `files`: only the entries these globs take are extracted from each artifact.
    pub files: Option<PathGlobs>,
    /// The verified-archive cache; `None`: off (the default on hosted runners).
    pub cache: Option<CacheConfig>,
    /// `partial-download`, with `files`.
    pub partial: Partial,
    pub merge_multiple: bool,
    /// Write `.git` (and names that fold to it) from artifact names and entries.
    pub allow_git_paths: bool,
    pub skip_decompress: bool,
    pub digest_mismatch: Severity,
    pub if_no_artifact_found: NotFound,
    pub dry_run: bool,
    /// `summary`: whether the job summary is written.
    pub summary: SummaryMode,
    pub max_size: u64,
    /// Bound on the entries of one archive.
    pub max_files: u64,
    /// Bound on an archive's uncompressed:compressed ratio (decompression bombs).
    pub max_ratio: u64,
    pub concurrency: usize,
    /// Where downloads and staging live: `RUNNER_TEMP`, else the system temp dir.
    pub temp_root: PathBuf,
    pub timing: Timing,
    pub debug: bool,
    /// `SSL_CERT_FILE`: extra trusted roots (a GHES internal CA), added to the system store.
    pub extra_ca: Option<PathBuf>,
    /// `shard`: this job takes one stable share of the selected artifacts.
    pub shard: Option<Shard>,
    /// `max-api-requests`: the step sends no more API requests than this.
    pub max_api_requests: Option<u64>,
    /// `fallback`: searches tried in order when the primary finds nothing.
    pub fallback: Vec<Fallback>,
    /// What the producer pinned (`expected-digest`, ...).
    pub pins: Pins,
    /// `manifest: true`, or a files pin (which compares the same per-file hashes): each extracted
    /// file is hashed and the `manifest`, `manifest-sha256sum` and `files-digest` outputs are set.
    pub manifest: bool,
    /// Accepted, but worth a warning in the log (settings cannot log themselves).
    pub warnings: Vec<String>,
    /// `verify-attestation: true`: the policy inputs.
    pub attestation: Option<Attestation>,
}

/// `cache-dir` (or `ARTIFETCH_CACHE_DIR`) and `cache-max-size`: where verified archives are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Absolute; created (owner-only) when first used.
    pub dir: PathBuf,
    pub max_bytes: u64,
    /// `ARTIFETCH_TEST_BARRIER_DIR`, for tests only: see `cache::Cache::with_barrier`.
    pub test_barrier: Option<PathBuf>,
}

/// What an artifact's attestation must say (`verify-attestation` and its inputs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    /// `owner/repo/.github/workflows/file.yml[@ref]`; none: the workflow of the artifact's run.
    pub signer_workflow: Option<String>,
    /// `owner/repo`; none: the artifact's repository.
    pub repository: Option<String>,
    pub predicate_type: String,
    /// The `trusted-root` file's text; none: the roots embedded in the binary.
    pub trusted_root: Option<String>,
    /// `attestation-from`: what ties the attestation to this artifact.
    pub from: AttestationFrom,
    /// `attestation-source-ref`: the full ref the attested build must come from.
    pub source_ref: Option<String>,
    /// `attestation-runner: github-hosted`: refuse a self-hosted runner's attestation.
    pub github_hosted_only: bool,
}

/// `attestation-from`: which run may have made the attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttestationFrom {
    /// The run the artifact came from (its Run Invocation URI names that run).
    Run,
    /// Any run of `attestation-signer-workflow` at its pinned ref (an artifact re-uploaded).
    Workflow,
}

/// One `fallback` line: the primary search with the filters the line names replaced.
#[derive(Debug, Clone)]
pub struct Fallback {
    /// The line as written, for the log and the summary.
    pub line: String,
    pub search: Search,
}

/// `shard: i/n`. An artifact belongs to shard `fnv1a(name) % n + 1`: its shard depends on its
/// name alone, so jobs that list the run at different moments (an artifact expired or added in
/// between) still agree on every other artifact, which a round robin over the sorted list would
/// not. FNV-1a rather than the std hasher: the std hasher's output may change between Rust
/// releases, and shards must agree across versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn takes(&self, name: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % self.count + 1 == self.index
    }

    fn parse(value: &str) -> Result<Shard> {
        let bad = || {
            format!(
                "shard: '{value}' is not i/n; expected this job's share as two positive integers with i at most n, like 2/4"
            )
        };
        let (i, n) = value.split_once('/').with_context(bad)?;
        let index = i.trim().parse::<u64>().ok().with_context(bad)?;
        let count = n.trim().parse::<u64>().ok().with_context(bad)?;
        if index == 0 || count == 0 || index > count {
            bail!("{}", bad());
        }
        Ok(Shard { index, count })
    }
}

impl Settings {
    pub fn repository(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The web page of a run, built from `GITHUB_SERVER_URL` (GHES too).
    pub fn run_url(&self, run_id: u64) -> String {
        format!(
            "{}/{}/actions/runs/{run_id}",
            self.server_url,
            self.repository()
        )
    }

    /// GHES serves its API under `/api/v3`; github.com and GHE.com do not.
    pub fn is_ghes(&self) -> bool {
        self.api_url
            .path()
            .trim_end_matches('/')
            .ends_with("/api/v3")
    }
}

/// Reads the environment through `env` so tests can hand in their own.
pub(crate) fn resolve(raw: &RawInputs, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };

    // Whose artifacts, with which credentials.
    let token = token(raw, &var)?;
    let (owner, repo) = repository(raw, &var)?;
    let Endpoints {
        api_url,
        server_url,
        warnings,
    } = endpoints(&var)?;
    same_host_as_pasted(raw, &server_url)?;

    // Which run, which artifacts.
    let scale = time_scale(var("ARTIFETCH_TIME_SCALE"))?;
    let scaled = |secs: f64| Duration::from_secs_f64(secs * scale);
    let search = search(raw, &scaled)?;
    let run = run_mode(raw, &var, &search)?;
    let fallback = fallback(raw.get(input!("fallback")), &search)?;
    let selection = selection(raw)?;

    // Where they go, and what must hold of them.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let home = var("HOME").or_else(|| var("USERPROFILE"));
    let places = places(raw, &var, home.as_deref(), &cwd)?;
    let pins = Pins::parse(raw, &places.workspace)?;
    let files = raw
        .get(input!("files"))
        .map(PathGlobs::parse)
        .transpose()?
        .flatten();
    let skip_decompress = boolean(raw, input!("skip-decompress"))?;
    refuse_extraction_inputs_without_extraction(skip_decompress, files.is_some(), &pins)?;
    let manifest = boolean(raw, input!("manifest"))? || pins.pins_files();

    let this_run = ThisRun {
        repository: var("GITHUB_REPOSITORY"),
        number: var("GITHUB_RUN_NUMBER").and_then(|n| n.parse().ok()),
        workflow: var("GITHUB_WORKFLOW"),
    };
    Ok(Settings {
        api_url,
        server_url,
        token,
        owner,
        repo,
        run,
        search,
        selection,
        path: places.path,
        workspace: places.workspace,
        this_run,
        files,
        cache: cache(raw, &var, home.as_deref(), &cwd)?,
        partial: choice(
            raw,
            input!("partial-download"),
            &[
                ("auto", Partial::Auto),
                ("true", Partial::Always),
                ("false", Partial::Never),
            ],
        )?,
        merge_multiple: boolean(raw, input!("merge-multiple"))?,
        allow_git_paths: boolean(raw, input!("allow-git-paths"))?,
        skip_decompress,
        digest_mismatch: choice(
            raw,
            input!("digest-mismatch"),
            &[
                ("error", Severity::Error),
                ("warn", Severity::Warn),
                ("info", Severity::Info),
                ("ignore", Severity::Ignore),
            ],
        )?,
        if_no_artifact_found: choice(
            raw,
            input!("if-no-artifact-found"),
            &[
                ("fail", NotFound::Fail),
                ("warn", NotFound::Warn),
                ("ignore", NotFound::Ignore),
            ],
        )?,
        dry_run: boolean(raw, input!("dry-run"))?,
        summary: choice(
            raw,
            input!("summary"),
            &[
                ("true", SummaryMode::Always),
                ("false", SummaryMode::Never),
                ("on-failure", SummaryMode::OnFailure),
            ],
        )?,
        max_size: parse_size(raw.value(input!("max-size")))?,
        max_files: count(raw, input!("max-files"))?,
        max_ratio: count(raw, input!("max-ratio"))?,
        concurrency: parse_concurrency(raw.value(input!("concurrency")))?,
        temp_root: places.temp_root,
        timing: timing(raw, &scaled)?,
        debug: var("RUNNER_DEBUG").as_deref() == Some("1"),
        extra_ca: var("SSL_CERT_FILE").map(PathBuf::from),
        shard: raw.get(input!("shard")).map(Shard::parse).transpose()?,
        fallback,
        max_api_requests: max_api_requests(raw)?,
        pins,
        manifest,
        warnings,
        attestation: attestation(raw)?,
    })
}

/// `github-token`, else `GITHUB_TOKEN`, else `GH_TOKEN` (what `gh` reads, set by people who
/// run the binary by hand after `gh auth login`).
fn token(raw: &RawInputs, var: &dyn Fn(&str) -> Option<String>) -> Result<String> {
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    let token = raw
        .get(input!("github-token"))
        .map(str::to_string)
        .or_else(|| set("GITHUB_TOKEN"))
        .or_else(|| set("GH_TOKEN"))
        .context("github-token: not set; expected a token (input github-token, GITHUB_TOKEN or GH_TOKEN)")?;
    // It goes into a header: a line break would only fail there, after five retries. The value
    // itself is never repeated.
    if token.chars().any(char::is_control) {
        bail!(
            "github-token: contains a line break or control character; expected a token on one line"
        );
    }
    Ok(token)
}

/// `repository` (or its pasted URL), else `GITHUB_REPOSITORY`, as `(owner, repo)`.
fn repository(raw: &RawInputs, var: &dyn Fn(&str) -> Option<String>) -> Result<(String, String)> {
    let repository = raw
        .get(input!("repository"))
        .map(str::to_string)
        .or_else(|| var("GITHUB_REPOSITORY"))
        .context(
            "repository: not set; expected owner/repo (input repository or GITHUB_REPOSITORY)",
        )?;
    let repository = pasted::repository_url(&repository).unwrap_or(repository);
    let parsed = parse_repository(&repository)?;
    same_repository_as_pasted(raw, &repository)?;
    Ok(parsed)
}

/// The API and the web server, from the runner's `GITHUB_API_URL` / `GITHUB_SERVER_URL`.
struct Endpoints {
    api_url: Url,
    /// Without a trailing slash.
    server_url: String,
    warnings: Vec<String>,
}

fn endpoints(var: &dyn Fn(&str) -> Option<String>) -> Result<Endpoints> {
    let api_url = var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into());
    let api_url = parse_base_url(&api_url, "GITHUB_API_URL")?;
    if let Some(proxy) = clear_text_proxy(&api_url, var) {
        bail!(
            "GITHUB_API_URL: {} is plain http and the proxy {proxy} would see the token in the clear; use https, or list the host in NO_PROXY",
            api_url.as_str().trim_end_matches('/')
        );
    }
    let mut warnings = Vec::new();
    // Decision: warn, not refuse. Plain http is what a GHES without TLS or a local fake speaks;
    // on loopback the token never leaves the machine, elsewhere anyone on the path can read it.
    if api_url.scheme() == "http" && !is_loopback(&api_url) {
        warnings.push(format!(
            "GITHUB_API_URL: {} is plain http: the token crosses the network in clear text; use https",
            api_url.as_str().trim_end_matches('/')
        ));
    }
    let server_url = var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
    let server_url = parse_base_url(&server_url, "GITHUB_SERVER_URL")?
        .as_str()
        .trim_end_matches('/')
        .to_string();
    Ok(Endpoints {
        api_url,
        server_url,
        warnings,
    })
}

/// The directories a step works with.
struct Places {
    /// `path`, else the workspace.
    path: PathBuf,
    /// `GITHUB_WORKSPACE`, else the current directory: where pin files are read from.
    workspace: PathBuf,
    /// Where downloads live: `RUNNER_TEMP`, else the system temp dir.
    temp_root: PathBuf,
}

fn places(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    home: Option<&str>,
    cwd: &Path,
) -> Result<Places> {
    let workspace = match var("GITHUB_WORKSPACE") {
        Some(w) => expand_path(&w, home, cwd, "GITHUB_WORKSPACE")?,
        None => cwd.to_path_buf(),
    };
    let path = match raw.get(input!("path")) {
        Some(p) => expand_path(p, home, cwd, "path")?,
        None => workspace.clone(),
    };
    // Only an absolute RUNNER_TEMP that exists: a relative one would resolve inside the workspace
    // (the step's working directory) and a missing one would have to be created and then left
    // behind. Otherwise the system's temp directory, which always exists.
    let temp_root = var("RUNNER_TEMP")
        .map(PathBuf::from)
        .filter(|t| t.is_absolute() && t.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    Ok(Places {
        path,
        workspace,
        temp_root,
    })
}

/// `files` and the file pins select or compare extracted files: with `skip-decompress` there
/// are none.
fn refuse_extraction_inputs_without_extraction(
    skip_decompress: bool,
    files: bool,
    pins: &Pins,
) -> Result<()> {
    if skip_decompress && files {
        bail!(
            "skip-decompress: keeps each archive whole, so files has nothing to select from; drop one or the other"
        );
    }
    if skip_decompress && pins.pins_files() {
        bail!(
            "skip-decompress: nothing is extracted, so expected-files-digest and expected-files have no files to compare; drop one or the other"
        );
    }
    Ok(())
}

/// The waits: retries, stalls, progress lines, and the step's own `timeout`.
fn timing(raw: &RawInputs, scaled: &dyn Fn(f64) -> Duration) -> Result<Timing> {
    Ok(Timing {
        backoff: scaled(1.0),
        stall: scaled(number(
            raw,
            input!("stall-timeout"),
            "seconds",
            1.0..=86_400.0,
            false,
        )?),
        progress: scaled(5.0),
        attempts: 5,
        overall: match number(raw, input!("timeout"), "minutes", 0.01..=7_200.0, true)? {
            m if m > 0.0 => Some(Duration::from_secs_f64(m * 60.0)),
            _ => None,
        },
    })
}

fn max_api_requests(raw: &RawInputs) -> Result<Option<u64>> {
    raw.get(input!("max-api-requests"))
        .map(|v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .with_context(|| format!("max-api-requests: '{v}' is not a positive integer; expected the most API requests this step may send"))
        })
        .transpose()
}

/// `cache-dir`, else `ARTIFETCH_CACHE_DIR` from the runner's environment (a self-hosted runner
/// sets it once for every job); `off` turns a runner's cache off for one step.
fn cache(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    home: Option<&str>,
    cwd: &Path,
) -> Result<Option<CacheConfig>> {
    let (value, name) = match raw.get(input!("cache-dir")) {
        Some(v) => (v.to_string(), "cache-dir"),
        None => match var("ARTIFETCH_CACHE_DIR") {
            Some(v) => (v, "ARTIFETCH_CACHE_DIR"),
            None => return Ok(None),
        },
    };
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let is_home = value == "~" || value.starts_with("~/") || value.starts_with("~\\");
    if !is_home && !Path::new(&value).is_absolute() {
        bail!(
            "{name}: '{value}' is relative; expected an absolute directory outside the workspace (or off)"
        );
    }
    Ok(Some(CacheConfig {
        dir: expand_path(&value, home, cwd, name)?,
        max_bytes: parse_size_of("cache-max-size", raw.value(input!("cache-max-size")))?,
        test_barrier: var("ARTIFETCH_TEST_BARRIER_DIR").map(PathBuf::from),
    }))
}

fn attestation(raw: &RawInputs) -> Result<Option<Attestation>> {
    if !boolean(raw, input!("verify-attestation"))? {
        return Ok(None);
    }
    let signer_workflow = raw
        .get(input!("attestation-signer-workflow"))
        .map(str::to_string);
    if let Some(w) = &signer_workflow {
        check_signer_workflow(w)?;
    }
    let from = attestation_from(raw, signer_workflow.as_deref())?;
    let source_ref = attestation_source_ref(raw)?;
    let github_hosted_only = choice(
        raw,
        input!("attestation-runner"),
        &[("any", false), ("github-hosted", true)],
    )?;
    let repository = raw
        .get(input!("attestation-repository"))
        .map(str::to_string);
    if let Some(r) = &repository
        && !matches!(r.split('/').collect::<Vec<_>>().as_slice(), [o, n] if !o.is_empty() && !n.is_empty())
    {
        bail!("attestation-repository: '{r}' is not owner/repo");
    }
    let trusted_root = match raw.get(input!("trusted-root")) {
        None => None,
        Some(path) => {
            // Bounded, and a regular file only, as every file a user names.
            let text = crate::extract::user_file::read_user_file(Path::new(path))
                .with_context(|| format!("trusted-root: cannot read '{path}'"))?;
            if !text.contains("certificateAuthorities") {
                bail!(
                    "trusted-root: '{path}' is not a Sigstore trusted_root.json (no certificateAuthorities)"
                );
            }
            Some(text)
        }
    };
    Ok(Some(Attestation {
        signer_workflow,
        repository,
        predicate_type: raw.value(input!("attestation-predicate-type")).to_string(),
        trusted_root,
        from,
        source_ref,
        github_hosted_only,
    }))
}

/// `attestation-from`; `workflow` drops the run binding, so the signer workflow's ref is then
/// what ties the signature to reviewed code: it must be given.
fn attestation_from(raw: &RawInputs, signer_workflow: Option<&str>) -> Result<AttestationFrom> {
    let from = choice(
        raw,
        input!("attestation-from"),
        &[
            ("run", AttestationFrom::Run),
            ("workflow", AttestationFrom::Workflow),
        ],
    )?;
    if from == AttestationFrom::Workflow && !signer_workflow.is_some_and(|w| w.contains('@')) {
        bail!(
            "attestation-from: workflow needs attestation-signer-workflow with a full ref (owner/repo/.github/workflows/file.yml@refs/heads/main): without the run binding, the ref is what ties the signature to reviewed code"
        );
    }
    Ok(from)
}

/// `attestation-source-ref`: a full ref, compared exactly.
fn attestation_source_ref(raw: &RawInputs) -> Result<Option<String>> {
    let Some(r) = raw.get(input!("attestation-source-ref")) else {
        return Ok(None);
    };
    if !r.starts_with("refs/") {
        bail!(
            "attestation-source-ref: '{r}' is not a full ref; expected refs/heads/{r} or refs/tags/{r}"
        );
    }
    Ok(Some(r.to_string()))
}

/// `owner/repo/.github/workflows/file.yml`, optionally `@` and a full ref. The ref follows the
/// LAST `@` (a file name may hold one), and is full: a short `@v1` would also match a branch
/// named v1 that anyone who can push creates.
fn check_signer_workflow(w: &str) -> Result<()> {
    let (path, git_ref) = match w.rsplit_once('@') {
        Some((path, r)) => (path, Some(r)),
        None => (w, None),
    };
    let parts: Vec<&str> = path.splitn(3, '/').collect();
    let ok = matches!(parts.as_slice(), [o, r, rest] if !o.is_empty() && !r.is_empty()
        && rest.starts_with(".github/workflows/") && (rest.ends_with(".yml") || rest.ends_with(".yaml")));
    if !ok {
        bail!(
            "attestation-signer-workflow: '{w}' is not owner/repo/.github/workflows/file.yml (optionally @ref)"
        );
    }
    if let Some(r) = git_ref
        && !r.starts_with("refs/")
    {
        bail!(
            "attestation-signer-workflow: '@{r}' is not a full ref; expected {path}@refs/heads/{r} (a branch) or {path}@refs/tags/{r} (a tag)"
        );
    }
    Ok(())
}

/// `run-id` defaults to the current run (the action passes `${{ github.run_id }}`), so a run-id
/// equal to `GITHUB_RUN_ID` next to search inputs means "search", not "check this run".
fn run_mode(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    search: &Search,
) -> Result<RunMode> {
    let given = raw
        .get(input!("run-id"))
        .map(|v| parse_run_id(v, "run-id"))
        .transpose()?;
    let current = var("GITHUB_RUN_ID")
        .map(|v| parse_run_id(&v, "GITHUB_RUN_ID"))
        .transpose()?;
    Ok(match (given, current) {
        (Some(g), c) if c != Some(g) => RunMode::Given(g),
        _ if search.active() => RunMode::Search,
        (Some(g), _) => RunMode::Current(g),
        (None, Some(c)) => RunMode::Current(c),
        (None, None) => bail!(
            "run-id: not set; expected a positive integer (input run-id or GITHUB_RUN_ID), or search inputs such as workflow or branch"
        ),
    })
}

/// `scaled` turns seconds into a wait, shrunk by the tests' time scale.
fn search(raw: &RawInputs, scaled: &dyn Fn(f64) -> Duration) -> Result<Search> {
    let text = |name: Name| raw.get(name).map(str::to_string);
    let branch =
        text(input!("branch")).map(|b| b.strip_prefix("refs/heads/").unwrap_or(&b).to_string());
    let commit = text(input!("commit"))
        .map(|c| check_commit(&c, "commit"))
        .transpose()?;
    let workflow = text(input!("workflow"))
        .map(|w| check_workflow(&w, "workflow"))
        .transpose()?;
    let positive = |name: Name| -> Result<Option<u64>> {
        raw.get(name)
            .map(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("{name}: '{v}' is not a positive integer"))
            })
            .transpose()
    };
    let conclusion = if raw.given_empty(input!("workflow-conclusion")) {
        None
    } else {
        let c = raw.value(input!("workflow-conclusion"));
        Some(check_conclusion(c, "workflow-conclusion")?)
    };
    let max_runs = raw
        .value(input!("max-runs"))
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .with_context(|| {
            format!(
                "max-runs: '{}' is not a positive integer",
                raw.value(input!("max-runs"))
            )
        })? as usize;
    let wait = number(
        raw,
        input!("wait-timeout"),
        "seconds",
        1.0..=432_000.0,
        true,
    )?;
    Ok(Search {
        workflow,
        branch,
        event: text(input!("event")),
        commit,
        pr: positive(input!("pr"))?,
        conclusion,
        run_number: positive(input!("run-number"))?,
        search_artifacts: boolean(raw, input!("search-artifacts"))?,
        allow_forks: boolean(raw, input!("allow-forks"))?,
        max_runs,
        wait: (wait > 0.0).then(|| scaled(wait)),
        wait_for: wait_for(raw.get(input!("wait-for")), wait > 0.0)?,
        delete_after: boolean(raw, input!("delete-after"))?,
    })
}

fn wait_for(value: Option<&str>, waiting: bool) -> Result<WaitFor> {
    let mode = match value.unwrap_or("run") {
        "run" => WaitFor::Run,
        "artifact" => WaitFor::Artifact,
        v => match v.strip_prefix("job:").map(str::trim) {
            Some(name) if !name.is_empty() => WaitFor::Job(name.to_string()),
            _ => bail!("wait-for: '{v}' is not a wait; expected run, artifact or job:<job name>"),
        },
    };
    if mode != WaitFor::Run && !waiting {
        bail!("wait-for: '{mode}' needs wait-timeout, the seconds to wait; expected both");
    }
    Ok(mode)
}

/// A commit SHA or prefix, lower-cased; `what` names the input in the error.
fn check_commit(c: &str, what: &str) -> Result<String> {
    if !(c.len() >= 7 && c.len() <= 40 && c.chars().all(|ch| ch.is_ascii_hexdigit())) {
        bail!("{what}: '{c}' is not a commit SHA; expected 7 to 40 hex digits");
    }
    Ok(c.to_ascii_lowercase())
}

/// A workflow file name or id, without `.github/workflows/`.
fn check_workflow(w: &str, what: &str) -> Result<String> {
    // A workflow reference pasted whole (`owner/repo/.github/workflows/build.yml@ref`).
    let w = &pasted::workflow_ref(w).map_or_else(|| w.to_string(), |(_, file)| file);
    if w.contains('/') && !w.starts_with(".github/workflows/") || w.contains(char::is_whitespace) {
        bail!(
            "{what}: '{w}' is not a workflow; expected a file name like build.yml or a numeric id"
        );
    }
    Ok(w.trim_start_matches(".github/workflows/").to_string())
}

fn check_conclusion(c: &str, what: &str) -> Result<String> {
    let c = c.to_ascii_lowercase();
    {
        const KNOWN: &[&str] = &[
            "completed",
            "action_required",
            "cancelled",
            "failure",
            "neutral",
            "skipped",
            "stale",
            "success",
            "timed_out",
            "in_progress",
            "queued",
            "requested",
            "waiting",
            "pending",
        ];
        if !KNOWN.contains(&c.as_str()) {
            bail!(
                "{what}: '{c}' is not a run status or conclusion; expected one of {} (empty: any)",
                KNOWN.join(", ")
            );
        }
    }
    Ok(c)
}

/// `fallback` lines accepted: a restore-keys chain is a handful; thousands would be thousands of
/// searches.
const MAX_FALLBACK_LEVELS: usize = 10;

/// The `fallback` lines: each `key=value` pair (separated by spaces) replaces that filter of the
/// primary search; an empty value clears it (`commit=`). `commit` replaces `pr` too: both name
/// the head commit.
fn fallback(text: Option<&str>, primary: &Search) -> Result<Vec<Fallback>> {
    let mut out = Vec::new();
    let lines = text.unwrap_or("").lines().map(str::trim);
    let given = lines.clone().filter(|l| !l.is_empty()).count();
    if given > MAX_FALLBACK_LEVELS {
        bail!(
            "fallback: {given} lines; expected at most {MAX_FALLBACK_LEVELS} (each line is one more search, with its own requests and a row in the summary)"
        );
    }
    for (n, line) in lines.filter(|l| !l.is_empty()).enumerate() {
        let what = format!("fallback line {}", n + 1);
        let mut search = primary.clone();
        for pair in line.split_whitespace() {
            let (key, value) = pair.split_once('=').with_context(|| {
                format!("{what}: '{pair}' is not key=value; expected filters like branch=main (keys: branch, event, workflow, commit, workflow-conclusion)")
            })?;
            let value = (!value.is_empty()).then_some(value);
            let named = format!("{what}: {key}");
            match key {
                "branch" => {
                    search.branch =
                        value.map(|b| b.strip_prefix("refs/heads/").unwrap_or(b).to_string())
                }
                "event" => search.event = value.map(str::to_string),
                "workflow" => {
                    search.workflow = value.map(|w| check_workflow(w, &named)).transpose()?
                }
                "commit" => {
                    search.commit = value.map(|c| check_commit(c, &named)).transpose()?;
                    search.pr = None;
                }
                "workflow-conclusion" => {
                    search.conclusion = value.map(|c| check_conclusion(c, &named)).transpose()?
                }
                other => bail!(
                    "{what}: unknown filter '{other}'; expected branch, event, workflow, commit or workflow-conclusion"
                ),
            }
        }
        out.push(Fallback {
            line: line.to_string(),
            search,
        });
    }
    Ok(out)
}

fn selection(raw: &RawInputs) -> Result<Selection> {
    let name = raw.get(input!("name"));
    let pattern = raw.get(input!("pattern"));
    let ids = raw.get(input!("artifact-ids"));
    if name.is_some() && ids.is_some() {
        bail!("name and artifact-ids: give one or the other, not both");
    }
    if let Some(ids) = ids {
        let mut out = Vec::new();
        for part in ids.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let id = part
                .parse::<u64>()
                .ok()
                .filter(|&id| id > 0)
                .with_context(|| format!("artifact-ids: '{part}' is not an artifact id; expected comma-separated positive integers"))?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        if out.is_empty() {
            bail!("artifact-ids: no ids in '{ids}'; expected comma-separated positive integers");
        }
        if pattern.is_some() {
            bail!("pattern and artifact-ids: give one or the other, not both");
        }
        return Ok(Selection::Ids(out));
    }
    if let Some(name) = name {
        // The official action lets a name silently win over a pattern; one of them was a mistake.
        if pattern.is_some() {
            bail!("name and pattern: give one or the other, not both");
        }
        return Ok(Selection::Name(name.to_string()));
    }
    if let Some(p) = pattern {
        return Ok(Selection::Pattern(Pattern::new(p)?));
    }
    Ok(Selection::All)
}

fn parse_repository(value: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        [owner, repo] if valid_segment(owner) && valid_segment(repo) => {
            Ok((owner.to_string(), repo.to_string()))
        }
        _ => bail!(
            "repository: '{value}' is not owner/repo; expected exactly two non-empty segments like octo/hello"
        ),
    }
}

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// A run URL in `run-id` or a `workflow_ref` in `workflow` names a repository too: it must be
/// the one the step reads, or the id would be looked up in the wrong place.
fn same_repository_as_pasted(raw: &RawInputs, repository: &str) -> Result<()> {
    let pasted = [
        (
            "run-id",
            raw.get(input!("run-id"))
                .and_then(pasted::run_url)
                .map(|(r, _)| r),
        ),
        (
            "workflow",
            raw.get(input!("workflow"))
                .and_then(pasted::workflow_ref)
                .map(|(r, _)| r),
        ),
    ];
    for (input, named) in pasted {
        if let Some(named) = named
            && !named.eq_ignore_ascii_case(repository)
        {
            bail!(
                "{input}: names a run or workflow of {named}, but repository is {repository}; set repository: {named}"
            );
        }
    }
    Ok(())
}

/// A run or repository URL pasted into `run-id` or `repository` must be on the server the step
/// talks to (`GITHUB_SERVER_URL`): its id or name would otherwise be looked up on this one.
fn same_host_as_pasted(raw: &RawInputs, server_url: &str) -> Result<()> {
    let ours = Url::parse(server_url).ok();
    let ours = ours.as_ref().and_then(|u| {
        let host = u.host_str()?;
        Some(match u.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        })
    });
    for input in [input!("run-id"), input!("repository")] {
        let Some(theirs) = raw.get(input).and_then(pasted::url_host) else {
            continue;
        };
        if ours
            .as_deref()
            .is_none_or(|ours| !theirs.eq_ignore_ascii_case(ours))
        {
            bail!(
                "{input}: the URL is on {theirs}, but this step talks to {server_url} (GITHUB_SERVER_URL); give the run id or owner/repo, or run the step against {theirs}",
            );
        }
    }
    Ok(())
}

/// A positive integer, or a run URL (a job URL's run too).
fn parse_run_id(value: &str, input: &str) -> Result<u64> {
    if let Some((_, id)) = pasted::run_url(value) {
        return Ok(id);
    }
    value
        .parse::<u64>()
        .ok()
        .filter(|&n| n > 0)
        .with_context(|| format!("{input}: '{value}' is not a run id; expected a positive integer"))
}

fn parse_base_url(value: &str, name: &str) -> Result<Url> {
    let url = Url::parse(value.trim_end_matches('/'))
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .with_context(|| format!("{name}: '{value}' is not an http(s) URL"))?;
    Ok(url)
}

/// The proxy a plain-http API request would go through, if any (`HTTP_PROXY`/`ALL_PROXY`, less
/// `NO_PROXY`). Through a proxy, https is tunnelled and stays private; http is not.
fn clear_text_proxy(api: &Url, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if api.scheme() != "http" {
        return None;
    }
    let proxy = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .find_map(|k| var(k))?;
    let host = api
        .host_str()
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    let no_proxy = var("no_proxy")
        .or_else(|| var("NO_PROXY"))
        .unwrap_or_default();
    let bypassed = no_proxy
        .split(',')
        .map(|e| e.trim().to_ascii_lowercase())
        .any(|entry| {
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            let entry = entry.split(':').next().unwrap_or("");
            !entry.is_empty()
                && (entry == "*" || host == entry || host.ends_with(&format!(".{entry}")))
        });
    (!bypassed).then_some(proxy)
}

/// `localhost` or a loopback address: traffic that never leaves the machine.
fn is_loopback(url: &Url) -> bool {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host == "localhost" || host.ends_with(".localhost"),
    }
}

/// Booleans exactly as `@actions/core` getBooleanInput accepts them.
fn boolean(raw: &RawInputs, name: Name) -> Result<bool> {
    match raw.get(name) {
        None => Ok(false),
        Some("true" | "True" | "TRUE") => Ok(true),
        Some("false" | "False" | "FALSE") => Ok(false),
        Some(other) => bail!("{name}: '{other}' is not a boolean; expected true or false"),
    }
}

/// One of `options`; when not given, the table's default (which must be one of them).
fn choice<T: Copy>(raw: &RawInputs, name: Name, options: &[(&str, T)]) -> Result<T> {
    let value = raw.value(name);
    options
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(value))
        .map(|(_, v)| *v)
        .with_context(|| {
            let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
            format!("{name}: '{value}' is not one of {}", names.join(", "))
        })
}

fn parse_size(value: &str) -> Result<u64> {
    parse_size_of("max-size", value)
}

/// A size input (`name`): a number with an optional unit.
fn parse_size_of(name: &str, value: &str) -> Result<u64> {
    let v = value.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => 0,
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .with_context(|| format!("{name}: '{value}' is not a size; expected a number with an optional unit, e.g. 500MiB or 20GiB"))
}

/// A number of `unit` (fractions allowed) within `range`, or 0 when `zero_is_off`. Infinities,
/// NaN and values past the range are refused here: later they would overflow a `Duration`.
fn number(
    raw: &RawInputs,
    name: Name,
    unit: &str,
    range: RangeInclusive<f64>,
    zero_is_off: bool,
) -> Result<f64> {
    let value = raw.value(name);
    value
        .parse::<f64>()
        .ok()
        .filter(|n| range.contains(n) || (zero_is_off && *n == 0.0))
        .with_context(|| {
            format!(
                "{name}: '{value}' is not a number of {unit} between {} and {}{}",
                range.start(),
                range.end(),
                if zero_is_off {
                    ", or 0 for no bound"
                } else {
                    ""
                }
            )
        })
}

/// The hidden `ARTIFETCH_TIME_SCALE` (tests shrink every wait with it): a positive factor in a
/// range where every scaled wait still fits a `Duration`.
fn time_scale(value: Option<String>) -> Result<f64> {
    let Some(value) = value else {
        return Ok(1.0);
    };
    value
        .parse::<f64>()
        .ok()
        .filter(|n| (0.0001..=100.0).contains(n))
        .with_context(|| {
            format!(
                "ARTIFETCH_TIME_SCALE: '{value}' is not a time scale; expected a number from 0.0001 to 100 (1: real time)"
            )
        })
}

/// A whole number of at least 1 (`max-files`, `max-ratio`).
/// A whole number of at least 1; the table's default when not given.
fn count(raw: &RawInputs, name: Name) -> Result<u64> {
    let value = raw.value(name);
    value
        .replace('_', "")
        .parse::<u64>()
        .ok()
        .filter(|&n| n >= 1)
        .with_context(|| format!("{name}: '{value}' is not a whole number of at least 1"))
}

fn parse_concurrency(value: &str) -> Result<usize> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=32).contains(n))
        .with_context(|| format!("concurrency: '{value}' is not between 1 and 32"))
}

/// `~` and `~/x` expand to the home directory; relative paths are taken from the current one.
fn expand_path(value: &str, home: Option<&str>, cwd: &Path, name: &str) -> Result<PathBuf> {
    let expanded = if value == "~" || value.starts_with("~/") || value.starts_with("~\\") {
        let home =
            home.with_context(|| format!("{name}: '{value}' starts with ~ but HOME is not set"))?;
        PathBuf::from(home).join(value[1..].trim_start_matches(['/', '\\']))
    } else {
        PathBuf::from(value)
    };
    if value.contains('\0') {
        bail!("{name}: contains a NUL byte");
    }
    Ok(if expanded.is_absolute() {
        expanded
    } else {
        cwd.join(expanded)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::{Command, parse};
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    fn settings(args: &[&str], extra_env: &[(&str, &str)]) -> Result<Settings> {
        let mut env: BTreeMap<String, String> = [
            ("GITHUB_TOKEN", "t"),
            ("GITHUB_REPOSITORY", "octo/hello"),
            ("GITHUB_RUN_ID", "5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra_env {
            env.insert(k.to_string(), v.to_string());
        }
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let get = |k: &str| env.get(k).cloned();
        let Command::Run(raw) = parse(&args, &get)? else {
            panic!()
        };
        resolve(&raw, &get)
    }

    fn err(args: &[&str]) -> String {
        format!("{:#}", settings(args, &[]).unwrap_err())
    }

    #[test]
    fn defaults_come_from_the_runner() {
        let s = settings(&[], &[("GITHUB_WORKSPACE", "/ws")]).unwrap();
        assert_eq!(
            (s.owner.as_str(), s.repo.as_str(), s.run),
            ("octo", "hello", RunMode::Current(5))
        );
        assert_eq!(s.path, PathBuf::from("/ws"));
        assert_eq!(s.api_url.as_str(), "https://api.github.com/");
        assert!(matches!(s.selection, Selection::All));
        assert_eq!(s.digest_mismatch, Severity::Error);
        assert_eq!(s.if_no_artifact_found, NotFound::Fail);
        assert_eq!(s.max_size, 20 << 30);
    }

    #[test]
    fn every_default_in_the_table_is_what_the_binary_uses() {
        let implicit = format!("{:?}", settings(&[], &[]).unwrap());
        for input in crate::inputs::INPUTS
            .iter()
            .filter(|i| !i.default.is_empty())
        {
            let flag = format!("--{}={}", input.name, input.default);
            let explicit = settings(&[flag.as_str()], &[])
                .unwrap_or_else(|e| panic!("the default of {} does not parse: {e:#}", input.name));
            assert_eq!(format!("{explicit:?}"), implicit, "{}", input.name);
        }
    }

    #[test]
    fn bad_inputs_name_the_input() {
        assert!(err(&["--run-id", "abc"]).starts_with("run-id: 'abc'"));
        assert!(err(&["--run-id", "0"]).starts_with("run-id: '0'"));
        assert!(err(&["--repository", "nope"]).starts_with("repository: 'nope'"));
        assert!(err(&["--repository", "a/b/c"]).starts_with("repository:"));
        assert!(err(&["--repository", "a/"]).starts_with("repository:"));
        assert!(err(&["--merge-multiple=yes"]).starts_with("merge-multiple: 'yes'"));
        assert!(
            err(&["--digest-mismatch", "loud"])
                .starts_with("digest-mismatch: 'loud' is not one of error, warn, info, ignore")
        );
        assert!(err(&["--if-no-artifact-found", "x"]).starts_with("if-no-artifact-found:"));
        assert!(err(&["--artifact-ids", "1,x"]).starts_with("artifact-ids: 'x'"));
        assert!(err(&["--name", "a", "--artifact-ids", "1"]).starts_with("name and artifact-ids"));
        assert!(err(&["--pattern", "["]).contains("pattern '['"));
        assert!(err(&["--max-size", "lots"]).starts_with("max-size:"));
        assert!(
            err(&["--timeout", "soon"]).starts_with("timeout: 'soon' is not a number of minutes")
        );
        assert!(err(&["--stall-timeout", "-1"]).starts_with("stall-timeout:"));
    }

    #[test]
    fn run_mode_follows_the_inputs() {
        let mode = |args: &[&str]| settings(args, &[]).unwrap().run;
        assert_eq!(mode(&[]), RunMode::Current(5));
        assert_eq!(mode(&["--run-id", "5"]), RunMode::Current(5));
        assert_eq!(mode(&["--run-id", "9"]), RunMode::Given(9));
        assert_eq!(
            mode(&["--run-id", "5", "--workflow", "build.yml"]),
            RunMode::Search
        );
        assert_eq!(mode(&["--branch", "main"]), RunMode::Search);
        assert_eq!(
            mode(&["--run-id", "9", "--branch", "main"]),
            RunMode::Given(9)
        );
        let s = settings(
            &["--branch", "refs/heads/dev", "--workflow-conclusion", ""],
            &[],
        )
        .unwrap();
        assert_eq!(s.search.branch.as_deref(), Some("dev"));
        assert_eq!(s.search.conclusion, None);
        let s = settings(&["--branch", "x"], &[]).unwrap();
        assert_eq!(s.search.conclusion.as_deref(), Some("success"));
        assert_eq!(s.search.max_runs, 200);
    }

    #[test]
    fn bad_search_inputs_name_themselves() {
        assert!(err(&["--commit", "xyz"]).starts_with("commit: 'xyz'"));
        assert!(err(&["--pr", "0"]).starts_with("pr: '0'"));
        assert!(
            err(&["--workflow-conclusion", "great"]).starts_with("workflow-conclusion: 'great'")
        );
        assert!(err(&["--max-runs", "-1"]).starts_with("max-runs:"));
        assert!(err(&["--run-number", "x"]).starts_with("run-number:"));
        assert!(err(&["--wait-timeout", "later"]).starts_with("wait-timeout:"));
    }

    #[test]
    fn plain_http_api_through_a_proxy_is_refused() {
        let http = [("GITHUB_API_URL", "http://ghe.internal/api/v3")];
        let e = format!(
            "{:#}",
            settings(&[], &[http[0], ("HTTP_PROXY", "http://proxy:3128")]).unwrap_err()
        );
        assert!(
            e.starts_with("GITHUB_API_URL:") && e.contains("proxy"),
            "{e}"
        );
        assert!(
            settings(
                &[],
                &[
                    http[0],
                    ("HTTP_PROXY", "http://p:1"),
                    ("NO_PROXY", "example.com,.internal")
                ]
            )
            .is_ok()
        );
        assert!(settings(&[], &[http[0], ("https_proxy", "http://p:1")]).is_ok());
        let https = ("GITHUB_API_URL", "https://ghe.internal/api/v3");
        assert!(
            settings(
                &[],
                &[
                    https,
                    ("HTTP_PROXY", "http://p:1"),
                    ("HTTPS_PROXY", "http://p:1")
                ]
            )
            .is_ok()
        );
    }

    #[test]
    fn ids_sizes_and_tilde() {
        let s = settings(
            &[
                "--artifact-ids",
                " 3, 1,3 ",
                "--max-size",
                "500MiB",
                "--path",
                "~/out",
            ],
            &[("HOME", "/home/me")],
        )
        .unwrap();
        assert!(matches!(s.selection, Selection::Ids(ref v) if v == &[3, 1]));
        assert_eq!(s.max_size, 500 << 20);
        assert_eq!(s.path, PathBuf::from("/home/me/out"));
    }

    #[test]
    fn ghes_urls_are_kept() {
        let s = settings(
            &[],
            &[
                ("GITHUB_API_URL", "https://ghe.example/api/v3/"),
                ("GITHUB_SERVER_URL", "https://ghe.example"),
            ],
        )
        .unwrap();
        assert_eq!(s.api_url.as_str(), "https://ghe.example/api/v3");
        assert_eq!(
            s.run_url(5),
            "https://ghe.example/octo/hello/actions/runs/5"
        );
        assert!(s.is_ghes());
    }
}
