//! Thin wrappers over `std::fs` whose errors name the path they failed on.
//!
//! `std::io::Error` carries no path, so "No such file or directory" alone is useless in a CI log.
//! Call sites that must branch on `io::ErrorKind` (NotFound, AlreadyExists, CrossesDevices) use
//! `std::fs` directly and add their own context.

use std::fs::{self, File, Metadata};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

pub fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("failed to open {}", path.display()))
}

pub fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path)
        .with_context(|| format!("failed to create directory {}", path.display()))
}

/// Entries of a directory; errors while iterating also name the directory.
pub fn read_dir(path: &Path) -> Result<impl Iterator<Item = Result<fs::DirEntry>> + use<>> {
    let dir = path.to_path_buf();
    let iter = fs::read_dir(path)
        .with_context(|| format!("failed to read directory {}", path.display()))?;
    Ok(iter.map(move |e| e.with_context(|| format!("failed to read directory {}", dir.display()))))
}

/// Metadata of `path` itself, not of what a symlink there points to.
pub fn symlink_metadata(path: &Path) -> Result<Metadata> {
    fs::symlink_metadata(path).with_context(|| format!("failed to inspect {}", path.display()))
}

pub fn read_link(path: &Path) -> Result<PathBuf> {
    fs::read_link(path).with_context(|| format!("failed to read symlink {}", path.display()))
}

pub fn remove_file(path: &Path) -> Result<()> {
    fs::remove_file(path).with_context(|| format!("failed to remove {}", path.display()))
}

pub fn remove_dir(path: &Path) -> Result<()> {
    fs::remove_dir(path).with_context(|| format!("failed to remove directory {}", path.display()))
}

/// Removes a tree; symlinks inside are removed, never followed.
pub fn remove_dir_all(path: &Path) -> Result<()> {
    fs::remove_dir_all(path)
        .with_context(|| format!("failed to remove directory {}", path.display()))
}

#[cfg(unix)]
pub fn symlink(target: &Path, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link).with_context(|| {
        format!(
            "failed to create symlink {} -> {}",
            link.display(),
            target.display()
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Process-wide cancellation and cleanup. The runner cancels a step with SIGINT/SIGTERM and the
// `timeout` input can stop it; either way, extraction threads must stop writing and every
// directory we created outside the work directory (a staging directory inside a destination
// on another filesystem) must be removed before the process exits.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

static CANCELLED: AtomicBool = AtomicBool::new(false);
static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Asks long-running file work (extraction) to stop at its next check.
pub fn cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
}

pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::Relaxed)
}

/// Records a temporary directory that lives outside the work directory, so that
/// [`remove_registered`] removes it even if its owner never gets to.
pub fn register_temp(path: &Path) {
    REGISTERED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(path.to_path_buf());
}

/// Its owner removed it (or moved it into place).
pub fn unregister_temp(path: &Path) {
    REGISTERED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| p != path);
}

/// Removes every registered temporary directory; called once at exit.
pub fn remove_registered() {
    let paths = std::mem::take(&mut *REGISTERED.lock().unwrap_or_else(|e| e.into_inner()));
    for p in paths {
        let _ = fs::remove_dir_all(&p);
    }
}

/// `create_dir_all` that returns the directories it actually created, outermost first, so that a
/// failure can take them away again with [`remove_created`].
pub fn create_dir_all_tracked(path: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<PathBuf> = path
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
        .map(Path::to_path_buf)
        .collect();
    create_dir_all(path)?;
    Ok(missing.into_iter().rev().collect())
}

/// Removes directories made by [`create_dir_all_tracked`], innermost first, as long as they are
/// empty (something else may have put files there meanwhile; those stay).
pub fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Moves into a destination in progress. On cancellation each one either completes or is undone
// before the process exits; the caller waits for them to settle, and a second signal aborts them
// (then the destination is named as half-updated). Their outcome is noted here, since the task
// that would have reported it is gone by then.

use std::sync::atomic::AtomicUsize;

static PLACING: AtomicUsize = AtomicUsize::new(0);
static ABORTED: AtomicBool = AtomicBool::new(false);
static NOTES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Held while files are moved into a destination.
pub struct Placing(());

impl Drop for Placing {
    fn drop(&mut self) {
        PLACING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Announces a move into a destination. Check [`cancelled`] after this, not before: a canceller
/// that saw no move in progress has already set the flag by then.
pub fn placing() -> Placing {
    PLACING.fetch_add(1, Ordering::SeqCst);
    Placing(())
}

/// Moves into destinations still in progress (or being undone).
pub fn placements_active() -> usize {
    PLACING.load(Ordering::SeqCst)
}

/// A second cancellation: stop undoing too.
pub fn abort() {
    cancel();
    ABORTED.store(true, Ordering::SeqCst);
}

pub fn aborted() -> bool {
    ABORTED.load(Ordering::Relaxed)
}

/// Records what became of a destination when a move was interrupted.
pub fn note(what: String) {
    NOTES.lock().unwrap_or_else(|e| e.into_inner()).push(what);
}

pub fn take_notes() -> Vec<String> {
    std::mem::take(&mut *NOTES.lock().unwrap_or_else(|e| e.into_inner()))
}
