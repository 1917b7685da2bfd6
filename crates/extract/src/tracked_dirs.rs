//! Directories made for a destination, remembered so that a failure takes them away again
//! (nothing half-made is left where the user looks).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Result;

/// `create_dir_all` that returns the directories it actually created, outermost first, so that a
/// failure can take them away again with [`remove_created`].
pub fn create_dir_all_tracked(path: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<PathBuf> = path
        .ancestors()
        .take_while(|p| !p.as_os_str().is_empty() && fs::symlink_metadata(p).is_err())
        .map(Path::to_path_buf)
        .collect();
    fs_err::create_dir_all(path)?;
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
