//! The directories a step works with (`path`, the workspace, the temp root) and the
//! verified-archive cache (`cache-dir`, `cache-max-size`).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::inputs::{RawInputs, input};
use crate::pin::Pins;

use super::values::{expand_path, parse_size_of};

/// The directories a step works with.
pub(super) struct Places {
    /// `path`, else the workspace.
    pub(super) path: PathBuf,
    /// `GITHUB_WORKSPACE`, else the current directory: where pin files are read from.
    pub(super) workspace: PathBuf,
    /// Where downloads live: `RUNNER_TEMP`, else the system temp dir.
    pub(super) temp_root: PathBuf,
}

pub(super) fn places(
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

/// `cache-dir` (or `ARTIFETCH_CACHE_DIR`) and `cache-max-size`: where verified archives are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CacheConfig {
    /// Absolute; created (owner-only) when first used.
    pub(crate) dir: PathBuf,
    pub(crate) max_bytes: u64,
    /// `ARTIFETCH_TEST_BARRIER_DIR`, for tests only: see `cache::Cache::with_barrier`.
    pub(crate) test_barrier: Option<PathBuf>,
}

/// `cache-dir`, else `ARTIFETCH_CACHE_DIR` from the runner's environment (a self-hosted runner
/// sets it once for every job); `off` turns a runner's cache off for one step.
pub(super) fn cache(
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

/// `files` and the file pins select or compare extracted files: with `skip-decompress` there
/// are none.
pub(super) fn refuse_extraction_inputs_without_extraction(
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
