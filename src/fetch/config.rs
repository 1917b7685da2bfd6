//! What the fetch stages take of the settings, built here from the fetch stage's own
//! `settings::FetchConfig` and the `Source` ([`Config::of`], and [`DownloadConfig::of`] for the
//! download client `run.rs` builds beside it): each stage gets
//! the inputs it uses and nothing else, so a stage that reads a new input says so here.

use std::path::PathBuf;
use std::sync::Arc;

use crate::pattern::PathGlobs;
use crate::pin::Pins;
use crate::provenance::Repo;
use crate::settings::{Attestation, FetchConfig, NotFound, Partial, Severity, Source, Timing};

/// The fetch stage's configuration: one part per stage, and what the orchestration itself uses.
pub(crate) struct Config {
    /// `concurrency`: artifacts fetched at once.
    pub concurrency: usize,
    /// `merge-multiple`: several artifacts placed into one directory, in plan order.
    pub merge_multiple: bool,
    pub obtain: ObtainConfig,
    pub verify: Arc<VerifyConfig>,
    pub stage: Arc<StageConfig>,
    pub place: Arc<PlaceConfig>,
}

/// Obtain: whether to fetch only the selected entries by range.
pub(crate) struct ObtainConfig {
    /// `files`: the globs a partial fetch asks ranges for.
    pub files: Option<PathGlobs>,
    /// `partial-download`.
    pub partial: Partial,
}

/// The download (obtain's HTTP side): where the artifacts are, how long to wait, how much to take.
#[derive(Debug, Clone)]
pub(crate) struct DownloadConfig {
    /// The repository whose artifacts are fetched.
    pub owner: String,
    pub repo: String,
    /// Retries, the stall timeout, progress lines.
    pub timing: Timing,
    /// `max-size`: bounds what a download may hold.
    pub max_size: u64,
}

impl DownloadConfig {
    /// From the fetch stage's settings, whose repository and which waits.
    pub(crate) fn of(fetch: &FetchConfig, source: &Source, timing: Timing) -> DownloadConfig {
        DownloadConfig {
            owner: source.owner.clone(),
            repo: source.repo.clone(),
            timing,
            max_size: fetch.max_size,
        }
    }
}

/// Verify: what the archive's bytes are compared with before anything reaches `path`.
pub(crate) struct VerifyConfig {
    /// `digest-mismatch`: what a digest that does not match (or cannot be checked) does.
    pub digest_mismatch: Severity,
    /// `expected-digest`, `expected-files-digest`, `expected-files`.
    pub pins: Arc<Pins>,
    /// `verify-attestation` and its policy inputs.
    pub attestation: Option<Attestation>,
    /// The repository the artifacts come from, for the attestation's binding.
    pub repo: Repo,
}

/// Stage: extraction into a staging tree beside the destination.
pub(crate) struct StageConfig {
    /// `path`: the root every destination must stay under.
    pub path: PathBuf,
    /// `max-size`, `max-files`, `max-ratio`: the extraction's bounds.
    pub max_size: u64,
    pub max_files: u64,
    pub max_ratio: u64,
    /// `allow-git-paths`.
    pub allow_git_paths: bool,
    /// `files`: only the entries these globs take are extracted.
    pub files: Option<PathGlobs>,
    /// `manifest` (or a files pin): hash each file as it is written.
    pub manifest: bool,
    /// `skip-decompress`: nothing is extracted.
    pub skip_decompress: bool,
}

/// Place: what goes into the destination, and what a glob that took nothing does.
pub(crate) struct PlaceConfig {
    /// `files`: what a raw artifact's one file must match; a count of what was left.
    pub files: Option<PathGlobs>,
    /// `if-no-artifact-found`, applied to a `files` glob that took nothing in an artifact.
    pub if_no_artifact_found: NotFound,
    /// `manifest`: describe what was placed.
    pub manifest: bool,
    /// `allow-git-paths`: a raw file may be saved under a name git treats as its own.
    pub allow_git_paths: bool,
    /// `skip-decompress`: the zip itself is saved.
    pub skip_decompress: bool,
}

impl Config {
    /// From the fetch stage's settings and whose artifacts they are.
    pub(crate) fn of(s: &FetchConfig, source: &Source) -> Config {
        Config {
            concurrency: s.concurrency,
            merge_multiple: s.merge_multiple,
            obtain: ObtainConfig {
                files: s.files.clone(),
                partial: s.partial,
            },
            verify: Arc::new(VerifyConfig {
                digest_mismatch: s.digest_mismatch,
                pins: Arc::new(s.pins.clone()),
                attestation: s.attestation.clone(),
                repo: Repo {
                    server_url: source.server_url.clone(),
                    owner: source.owner.clone(),
                    repo: source.repo.clone(),
                },
            }),
            stage: Arc::new(StageConfig {
                path: s.path.clone(),
                max_size: s.max_size,
                max_files: s.max_files,
                max_ratio: s.max_ratio,
                allow_git_paths: s.allow_git_paths,
                files: s.files.clone(),
                manifest: s.manifest,
                skip_decompress: s.skip_decompress,
            }),
            place: Arc::new(PlaceConfig {
                files: s.files.clone(),
                if_no_artifact_found: s.if_no_artifact_found,
                manifest: s.manifest,
                allow_git_paths: s.allow_git_paths,
                skip_decompress: s.skip_decompress,
            }),
        }
    }
}
