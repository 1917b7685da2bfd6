//! Every input parsed and checked, flat, in one fixed order (the order errors are found in):
//! the low-level values [`super::Settings`] deals out to the stages.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::inputs::choices::{NotFound, Partial, Severity, SummaryMode};
use crate::inputs::{RawInputs, input};
use crate::pattern::PathGlobs;
use crate::pin::Pins;

use super::attestation::{Attestation, attestation};
use super::places::{CacheConfig, cache, places, refuse_extraction_inputs_without_extraction};
use super::search::{Fallback, RunMode, Search, ThisRun, fallback, run_mode, search};
use super::selection::{Selection, Shard, selection};
use super::source::{Source, Sourced, source};
use super::timing::{Timing, max_api_requests, timing};
use super::values::{boolean, choice, count, parse_concurrency, parse_size, time_scale};

/// Every input's value, checked.
pub(super) struct Low {
    pub(super) source: Source,
    pub(super) token: String,
    pub(super) which: Which,
    pub(super) landing: Landing,
    pub(super) this_run: ThisRun,
    pub(super) handling: Handling,
    pub(super) timing: Timing,
    /// `SSL_CERT_FILE`.
    pub(super) extra_ca: Option<PathBuf>,
    pub(super) shard: Option<Shard>,
    pub(super) max_api_requests: Option<u64>,
    /// Accepted, but worth a warning in the log (settings cannot log themselves).
    pub(super) warnings: Vec<String>,
    pub(super) attestation: Option<Attestation>,
}

/// Which run, and which of its artifacts.
pub(super) struct Which {
    pub(super) search: Search,
    pub(super) delete_after: bool,
    pub(super) run: RunMode,
    pub(super) fallback: Vec<Fallback>,
    pub(super) selection: Selection,
}

/// Where the artifacts go, and what must hold of their files.
pub(super) struct Landing {
    pub(super) path: PathBuf,
    pub(super) workspace: PathBuf,
    pub(super) temp_root: PathBuf,
    pub(super) pins: Pins,
    pub(super) files: Option<PathGlobs>,
    pub(super) skip_decompress: bool,
    pub(super) manifest: bool,
}

/// How each artifact is handled: the cache, the switches, the bounds.
pub(super) struct Handling {
    pub(super) cache: Option<CacheConfig>,
    pub(super) partial: Partial,
    pub(super) merge_multiple: bool,
    pub(super) allow_git_paths: bool,
    pub(super) digest_mismatch: Severity,
    pub(super) if_no_artifact_found: NotFound,
    pub(super) dry_run: bool,
    pub(super) summary: SummaryMode,
    pub(super) max_size: u64,
    pub(super) max_files: u64,
    pub(super) max_ratio: u64,
    pub(super) concurrency: usize,
}

/// Reads the inputs and the environment (through `env`, so tests can hand in their own).
pub(super) fn parse(raw: &RawInputs, env: &dyn Fn(&str) -> Option<String>) -> Result<Low> {
    let var = |name: &str| {
        env(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    // Whose artifacts, with which credentials.
    let Sourced {
        source,
        token,
        warnings,
    } = source(raw, &var)?;
    // Which run, which artifacts.
    let scale = time_scale(var("ARTIFETCH_TIME_SCALE"))?;
    let scaled = |secs: f64| Duration::from_secs_f64(secs * scale);
    let which = which(raw, &var, &scaled)?;
    // Where they go, what must hold of them, and how each is handled.
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let home = var("HOME").or_else(|| var("USERPROFILE"));
    let landing = landing(raw, &var, home.as_deref(), &cwd)?;
    let this_run = ThisRun {
        repository: var("GITHUB_REPOSITORY"),
        number: var("GITHUB_RUN_NUMBER").and_then(|n| n.parse().ok()),
        workflow: var("GITHUB_WORKFLOW"),
    };
    let handling = handling(raw, &var, home.as_deref(), &cwd)?;
    Ok(Low {
        source,
        token,
        which,
        landing,
        this_run,
        handling,
        timing: timing(raw, &scaled)?,
        extra_ca: var("SSL_CERT_FILE").map(PathBuf::from),
        shard: raw.get(input!("shard")).map(Shard::parse).transpose()?,
        max_api_requests: max_api_requests(raw)?,
        warnings,
        attestation: attestation(raw)?,
    })
}

/// `scaled` turns seconds into a wait, shrunk by the tests' time scale.
fn which(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    scaled: &dyn Fn(f64) -> Duration,
) -> Result<Which> {
    let search = search(raw, scaled)?;
    let delete_after = boolean(raw, input!("delete-after"))?;
    let run = run_mode(raw, var, &search)?;
    let fallback = fallback(raw.get(input!("fallback")), &search)?;
    let selection = selection(raw)?;
    Ok(Which {
        search,
        delete_after,
        run,
        fallback,
        selection,
    })
}

fn landing(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    home: Option<&str>,
    cwd: &Path,
) -> Result<Landing> {
    let places = places(raw, var, home, cwd)?;
    let pins = Pins::parse(raw, &places.workspace)?;
    let files = raw
        .get(input!("files"))
        .map(PathGlobs::parse)
        .transpose()?
        .flatten();
    let skip_decompress = boolean(raw, input!("skip-decompress"))?;
    refuse_extraction_inputs_without_extraction(skip_decompress, files.is_some(), &pins)?;
    let manifest = boolean(raw, input!("manifest"))? || pins.pins_files();
    Ok(Landing {
        path: places.path,
        workspace: places.workspace,
        temp_root: places.temp_root,
        pins,
        files,
        skip_decompress,
        manifest,
    })
}

fn handling(
    raw: &RawInputs,
    var: &dyn Fn(&str) -> Option<String>,
    home: Option<&str>,
    cwd: &Path,
) -> Result<Handling> {
    Ok(Handling {
        cache: cache(raw, var, home, cwd)?,
        partial: choice(raw, input!("partial-download"))?,
        merge_multiple: boolean(raw, input!("merge-multiple"))?,
        allow_git_paths: boolean(raw, input!("allow-git-paths"))?,
        digest_mismatch: choice(raw, input!("digest-mismatch"))?,
        if_no_artifact_found: choice(raw, input!("if-no-artifact-found"))?,
        dry_run: boolean(raw, input!("dry-run"))?,
        summary: choice(raw, input!("summary"))?,
        max_size: parse_size(raw.value(input!("max-size")))?,
        max_files: count(raw, input!("max-files"))?,
        max_ratio: count(raw, input!("max-ratio"))?,
        concurrency: parse_concurrency(raw.value(input!("concurrency")))?,
    })
}
