//! artifetch's zip and filesystem safety core: an archive on disk (or still landing) in, a
//! checked tree in the destination out. It knows nothing of GitHub, HTTP, inputs or settings: the
//! caller passes [`Limits`], an optional [`Select`] and paths, and gets [`Extracted`] or an error
//! that names the entry or the path. Its only workspace dependency is `util` (cancellation, hex);
//! `tests/it/architecture.rs` checks that it links no HTTP client.
//!
//! # Threat model
//!
//! Any workflow run can upload an artifact, including one triggered by a fork PR, so every
//! archive is hostile. It may try to write outside the destination (`..`, absolute or drive
//! paths, backslashes, symlinks that point out or that later entries are written through), into
//! `.git` (or a name a filesystem folds to it), to fill the disk (decompression bombs, sizes that
//! lie, too many entries), or to confuse us with duplicate, colliding or overlapping names and
//! records. The destination is hostile too: a checkout may have planted a symlink where we write.
//!
//! # What it guarantees the caller
//!
//! - **Nothing outside the destination.** Every name and symlink target is validated, and the
//!   whole archive planned (`scan.rs`), before anything is written; with a
//!   selection the archive is still judged whole. The tree is built in an empty staging
//!   directory we own, re-checking on disk as we go (a case-insensitive or normalizing filesystem
//!   can alias a name we thought distinct onto one of our symlinks), and no symlink it leaves
//!   resolves outside it. [`check_destination`] refuses a symlink planted between `path` and the
//!   destination, and [`place`] never follows a symlink that already exists there.
//! - **Within the limits.** `max-size` bounds both the declared and the produced bytes,
//!   `max-files` the entries, `max-ratio` the declared expansion (above [`RATIO_FLOOR`]).
//! - **Nothing half-written.** A failed extraction leaves only the staging directory, which the
//!   caller removes ([`Staged`] does on drop; [`remove_stale_staging`] sweeps what a killed run
//!   left); [`place`] completes or is undone, also on cancellation. Directories made for a
//!   destination are taken away again on failure ([`tracked_dirs`]).
//! - **Errors that name their path or entry**: filesystem calls go through `fs_err`.
//! - **Files a user names** are read only by [`user_file`]: regular files, bounded, confined to
//!   the workspace when asked, never echoed.
//!
//! Backed by the unit tests here, the property tests (`props.rs`, on bolero, with the oracles
//! of `oracle.rs`), and the binary's `tests/it/hostile.rs`, `placement.rs`, `overlap.rs` and
//! `fuzz.rs`.
//!
//! # Layout
//!
//! In the order an archive goes through it: `kind.rs` tells a zip from a raw file,
//! `landing.rs` reads an archive whose ranges are still landing, `central.rs` reads the end
//! record and central directory (for a partial fetch), `names.rs` checks entry names and symlink
//! targets, `scan.rs` reads the archive and plans every entry without writing, `staging.rs` makes
//! the staging directory on the destination's file system, `write.rs` builds the tree there
//! (hashing each file as it is written, when a manifest is wanted), and `place.rs` moves it into
//! the destination. Beside them: `manifest.rs` (the canonical manifest of a tree and its
//! `files-digest`), `pattern.rs` (the `files` globs), `positioned.rs` (reads and writes at an
//! offset), `tracked_dirs.rs` and `user_file.rs`.

#![warn(unreachable_pub)]

pub mod central;
mod kind;
mod landing;
pub mod manifest;
mod names;
pub mod pattern;
mod place;
pub mod positioned;
mod queue;
mod scan;
mod spool;
mod staging;
pub mod tracked_dirs;
pub mod user_file;
mod write;

// Test support: the oracles of the property tests, which tests/it/fuzz.rs shares.
#[doc(hidden)]
#[cfg(any(test, feature = "testkit"))]
pub mod oracle;
#[cfg(test)]
mod props;
#[cfg(test)]
mod testkit;

use std::path::Path;

use anyhow::{Context as _, Result};

use crate::manifest::Written;
use crate::pattern::PathGlobs;

pub use kind::{ArchiveKind, archive_kind, head, quoted_head, starts_like_zip};
pub use landing::{Landing, Source};
pub use spool::{Budget, Hold, Room};
pub use staging::{Staged, place_file, remove_stale_staging};

const MAX_THREADS: usize = 8;

/// Archives that expand to less than this are never refused for their compression ratio: they
/// cannot hurt, and small files of zeros legitimately compress 1000:1.
pub const RATIO_FLOOR: u64 = 16 << 20;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Bound on both the declared and the actually produced uncompressed bytes.
    pub max_total_bytes: u64,
    /// Bound on the entries (files, directories, symlinks) of one archive.
    pub max_files: u64,
    /// Bound on declared uncompressed bytes per compressed byte of the whole archive, applied
    /// above [`RATIO_FLOOR`] bytes.
    pub max_ratio: u64,
    /// Write entries with a `.git` component (or a name that a filesystem folds to `.git`).
    pub allow_git_paths: bool,
}

/// The inputs table's defaults (`max-size`, `max-files`, `max-ratio`), for tests: the binary
/// always builds its limits from the settings (`extract_limits_tests` in the binary's lib.rs
/// keeps the two equal).
#[cfg(any(test, feature = "testkit"))]
impl Default for Limits {
    fn default() -> Self {
        Self {
            max_total_bytes: 20 << 30,
            max_files: 1_000_000,
            max_ratio: 500,
            allow_git_paths: false,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Regular files written.
    pub files: u64,
    /// Uncompressed bytes written to those files.
    pub bytes: u64,
    pub warnings: Vec<String>,
    /// With `files`: the files and symlinks of the archive that were not taken.
    pub left: u64,
    /// With `files`: the globs that took no entry of this archive.
    pub unmatched: Vec<String>,
    /// Size and SHA-256 of every file as it was written, with [`FileHashes::Taken`] (else
    /// empty): the manifest of the tree takes them instead of reading every file back.
    pub written: Written,
}

/// Extract the zip at `archive` into `staging` (an empty directory we own), checking every entry.
///
/// Archives with many (or large) files are written by up to `min(cores, 8)` threads.
pub fn extract_zip(archive: &Path, staging: &Path, limits: &Limits) -> Result<Extracted> {
    extract_zip_selected(archive, staging, limits, None)
}

/// Whether each file's SHA-256 is taken as it is written, for the manifest (the `manifest`
/// input or a files pin), or not at all: the default fetch needs no per-file hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileHashes {
    /// Hashed while written, into [`Extracted::written`].
    Taken,
    /// Not hashed; [`Extracted::written`] stays empty.
    Skipped,
}

/// What the `files` input selects, and whether only the selected entries' bytes are there.
#[derive(Debug, Clone, Copy)]
pub struct Select<'a> {
    pub globs: &'a PathGlobs,
    /// A partial fetch: the archive's length is real, its central directory and the selected
    /// entries' local records are in place, and everything else is a hole, never read: each
    /// taken entry's local record is checked (as for an archive still landing) before its data
    /// is read, against the next record's start.
    pub sparse: bool,
}

/// [`extract_zip`], writing only the entries `select` (the `files` input) takes; every entry is
/// still checked (its name, its place in the archive; its local header too unless `sparse`), so
/// an archive that would be refused whole is refused whatever is selected.
pub fn extract_zip_selected(
    archive: &Path,
    staging: &Path,
    limits: &Limits,
    select: Option<Select<'_>>,
) -> Result<Extracted> {
    let source = Source::file(archive)
        .map_err(anyhow::Error::new)
        .with_context(|| format!("failed to open {}", archive.display()))?;
    extract_from(&source, staging, limits, select, FileHashes::Taken)
}

/// [`extract_zip`] from a [`Source`]: an archive still landing is extracted entry by entry as
/// its bytes land (every check still runs, each entry's before its data is read).
pub fn extract_from(
    source: &Source,
    staging: &Path,
    limits: &Limits,
    select: Option<Select<'_>>,
    hashes: FileHashes,
) -> Result<Extracted> {
    // Asked once per process: each call reads cgroup files, and `many` has hundreds of archives.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    });
    write::extract_with_threads(source, staging, limits, select, hashes, threads)
}

/// Move everything under `staging` into `dest` (created if missing): directories merge, existing
/// files (and symlinks) are replaced, unrelated files in `dest` are left alone. A symlink in `dest`
/// where the artifact has a directory is an error: merging would write through it.
///
/// The move completes or is undone: files it replaces are kept in `aside` (a directory to be,
/// on `dest`'s filesystem, removed by the caller afterwards) until it is done, and an error or a
/// cancellation ([`util::cancel::cancel`]) between steps puts them back; the error says which.
pub fn place(staging: &Path, dest: &Path, aside: &Path) -> Result<()> {
    if place::rename_whole(staging, dest) {
        return Ok(());
    }
    // Every conflict is found before the first move, so a refused artifact leaves the
    // destination exactly as it was rather than half-merged.
    place::check_placeable(staging, dest)?;
    fs_err::create_dir_all(dest)?;
    place::merge_into(staging, dest, aside)
}

/// Every file and symlink under `dir`, as relative '/'-joined paths (to tell which files several
/// merged artifacts share).
pub fn relative_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((at, rel)) = stack.pop() {
        for entry in fs_err::read_dir(&at)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type()?.is_dir() {
                stack.push((entry.path(), rel));
            } else {
                out.push(rel);
            }
        }
    }
    Ok(out)
}

/// Checks the directories between `root` (the `path` input) and `dest` before anything is
/// written there: `root` must be a directory if it exists (a symlink to one is the user's own
/// choice), and every existing component below it must be a real directory, never a symlink, which
/// a hostile checkout could plant at `path/<artifact name>` to send files elsewhere.
pub fn check_destination(root: &Path, dest: &Path) -> Result<()> {
    place::check_destination(root, dest)
}

/// Does `name` (one path component) name a `.git` directory on some filesystem?
pub fn is_git_name(name: &str) -> bool {
    names::is_git_alias(name)
}

/// Is `name` a safe single path component (artifact names, Content-Disposition file names)?
pub fn is_safe_component(name: &str) -> bool {
    names::component_problem(name).is_none()
}
