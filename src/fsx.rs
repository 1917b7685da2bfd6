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
