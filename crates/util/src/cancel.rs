//! Process-wide cancellation and cleanup: the one registry a signal or the `timeout` input acts
//! on. Extraction threads check [`cancelled`]; temporary directories outside the work directory
//! are registered so that [`remove_registered`] takes them away at exit; moves into a destination
//! announce themselves ([`placing`]) so that a cancellation lets them complete or be undone.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

// The runner cancels a step with SIGINT/SIGTERM and the
// `timeout` input can stop it; either way, extraction threads must stop writing and every
// directory we created outside the work directory (a staging directory inside a destination
// on another filesystem) must be removed before the process exits.

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

// Moves into a destination in progress. On cancellation each one either completes or is undone
// before the process exits; the caller waits for them to settle, and a second signal aborts them
// (then the destination is named as half-updated). Their outcome is noted here, since the task
// that would have reported it is gone by then.

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
