//! The configs of the stages after the run is found: each takes the inputs it uses and nothing
//! else (a value two stages use is in both), built once by [`super::resolve`].

use std::path::PathBuf;

use crate::inputs::choices::{NotFound, Partial, Severity, SummaryMode};
use crate::pattern::PathGlobs;
use crate::pin::Pins;

use super::attestation::Attestation;
use super::places::CacheConfig;
use super::selection::{Selection, Shard};
use super::source::Source;

/// The plan: which artifacts of the run, and where each goes.
#[derive(Debug, Clone)]
pub(crate) struct PlanConfig {
    pub(crate) source: Source,
    pub(crate) selection: Selection,
    /// `shard`: this job takes one stable share of the selected artifacts.
    pub(crate) shard: Option<Shard>,
    /// Absolute destination (may not exist yet).
    pub(crate) path: PathBuf,
    pub(crate) merge_multiple: bool,
    pub(crate) skip_decompress: bool,
    /// Write `.git` (and names that fold to it) from artifact names and entries.
    pub(crate) allow_git_paths: bool,
}

/// The fetch of each artifact: obtain, verify, extract, place.
#[derive(Debug, Clone)]
pub(crate) struct FetchConfig {
    /// `files`: only the entries these globs take are extracted from each artifact.
    pub(crate) files: Option<PathGlobs>,
    /// The verified-archive cache; `None`: off (the default on hosted runners).
    pub(crate) cache: Option<CacheConfig>,
    /// `partial-download`, with `files`.
    pub(crate) partial: Partial,
    pub(crate) merge_multiple: bool,
    /// Write `.git` (and names that fold to it) from artifact names and entries.
    pub(crate) allow_git_paths: bool,
    pub(crate) skip_decompress: bool,
    pub(crate) digest_mismatch: Severity,
    /// Applied to a `files` glob that took nothing in an artifact.
    pub(crate) if_no_artifact_found: NotFound,
    pub(crate) max_size: u64,
    /// Bound on the entries of one archive.
    pub(crate) max_files: u64,
    /// Bound on an archive's uncompressed:compressed ratio (decompression bombs).
    pub(crate) max_ratio: u64,
    pub(crate) concurrency: usize,
    /// Absolute destination (may not exist yet).
    pub(crate) path: PathBuf,
    /// What the producer pinned (`expected-digest`, ...).
    pub(crate) pins: Pins,
    /// `manifest: true`, or a files pin (which compares the same per-file hashes): each extracted
    /// file is hashed and the `manifest`, `manifest-sha256sum` and `files-digest` outputs are set.
    pub(crate) manifest: bool,
    /// `verify-attestation: true`: the policy inputs.
    pub(crate) attestation: Option<Attestation>,
}

/// The report: outputs, the job summary and the pinned handoff's part of them.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    pub source: Source,
    pub selection: Selection,
    /// `summary`: whether the job summary is written.
    pub summary: SummaryMode,
    /// `GITHUB_WORKSPACE` (else the current directory): the summary shows paths relative to it.
    pub workspace: PathBuf,
    /// Absolute destination: the `download-path` output and the manifests' prefixes.
    pub path: PathBuf,
    pub dry_run: bool,
    /// `fallback` lines were given: the summary shows the levels of the search.
    pub chained: bool,
    /// What the producer pinned: the handoff's lines say what was compared.
    pub pins: Pins,
}

/// The step around the stages: dry run, clean-up, where temp files live, what no match does.
#[derive(Debug, Clone)]
pub(crate) struct StepConfig {
    pub(crate) dry_run: bool,
    /// `delete-after`: delete each artifact once downloaded and verified.
    pub(crate) delete_after: bool,
    pub(crate) if_no_artifact_found: NotFound,
    /// Where downloads and staging live: `RUNNER_TEMP`, else the system temp dir.
    pub(crate) temp_root: PathBuf,
}
