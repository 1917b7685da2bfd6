//! Thin wrappers over `std::fs` whose errors name the path they failed on.
//!
//! `std::io::Error` carries no path, so "No such file or directory" alone is useless in a CI log.
//! Call sites that must branch on `io::ErrorKind` (NotFound, AlreadyExists, CrossesDevices) use
//! `std::fs` directly and add their own context.

use std::fs::{self, File, Metadata};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

pub(crate) fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("failed to open {}", path.display()))
}

pub(crate) fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path)
        .with_context(|| format!("failed to create directory {}", path.display()))
}

/// Entries of a directory; errors while iterating also name the directory.
pub(crate) fn read_dir(path: &Path) -> Result<impl Iterator<Item = Result<fs::DirEntry>> + use<>> {
    let dir = path.to_path_buf();
    let iter = fs::read_dir(path)
        .with_context(|| format!("failed to read directory {}", path.display()))?;
    Ok(iter.map(move |e| e.with_context(|| format!("failed to read directory {}", dir.display()))))
}

/// Metadata of `path` itself, not of what a symlink there points to.
pub(crate) fn symlink_metadata(path: &Path) -> Result<Metadata> {
    fs::symlink_metadata(path).with_context(|| format!("failed to inspect {}", path.display()))
}

pub(crate) fn read_link(path: &Path) -> Result<PathBuf> {
    fs::read_link(path).with_context(|| format!("failed to read symlink {}", path.display()))
}

pub(crate) fn remove_file(path: &Path) -> Result<()> {
    fs::remove_file(path).with_context(|| format!("failed to remove {}", path.display()))
}

pub(crate) fn remove_dir(path: &Path) -> Result<()> {
    fs::remove_dir(path).with_context(|| format!("failed to remove directory {}", path.display()))
}

/// Removes a tree; symlinks inside are removed, never followed.
pub(crate) fn remove_dir_all(path: &Path) -> Result<()> {
    fs::remove_dir_all(path)
        .with_context(|| format!("failed to remove directory {}", path.display()))
}

#[cfg(unix)]
pub(crate) fn symlink(target: &Path, link: &Path) -> Result<()> {
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
pub(crate) fn create_dir_all_tracked(path: &Path) -> Result<Vec<PathBuf>> {
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
pub(crate) fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        if fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

/// The most a file a user names (`expected-files: @path`, `trusted-root`) may hold.
pub(crate) const USER_FILE_LIMIT: u64 = 64 << 20;

/// `name` (relative to `root`, or absolute) with every symlink resolved, refused unless it is
/// still inside `root`: a pin file in a checkout must not read the runner's other files.
pub(crate) fn confined(root: &Path, name: &str) -> Result<PathBuf> {
    let root = fs::canonicalize(root)
        .with_context(|| format!("cannot read the workspace {}", root.display()))?;
    let joined = root.join(name);
    // Outside by its very spelling (an absolute path elsewhere, `..` climbing out): refused
    // without a look at it, so not even its existence is told.
    if !lexically(&joined).starts_with(&root) {
        anyhow::bail!(
            "{name} is outside the workspace ({}); give a file in the checkout",
            root.display()
        );
    }
    let real =
        fs::canonicalize(&joined).with_context(|| format!("cannot read {}", joined.display()))?;
    if !real.starts_with(&root) {
        anyhow::bail!(
            "{name} resolves to {}, outside the workspace ({}); give a file in the checkout",
            real.display(),
            root.display()
        );
    }
    Ok(real)
}

/// `path` with `.` and `..` applied to its spelling alone (no symlink is looked at).
fn lexically(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A file a user named, as text: only a regular file (a FIFO or a device is refused without
/// waiting on it), at most [`USER_FILE_LIMIT`] bytes. Errors name the path, never the content.
pub(crate) fn read_user_file(path: &Path) -> Result<String> {
    use std::io::Read as _;
    let shown = path.display();
    let file = open_nonblocking(path).with_context(|| format!("cannot read {shown}"))?;
    let meta = file
        .metadata()
        .with_context(|| format!("cannot read {shown}"))?;
    if !meta.is_file() {
        anyhow::bail!("{shown} is not a regular file");
    }
    if meta.len() > USER_FILE_LIMIT {
        anyhow::bail!("{shown} is larger than 64 MiB");
    }
    let mut bytes = Vec::new();
    file.take(USER_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {shown}"))?;
    if bytes.len() as u64 > USER_FILE_LIMIT {
        anyhow::bail!("{shown} is larger than 64 MiB");
    }
    String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{shown} is not UTF-8 text"))
}

/// Opening a FIFO for reading blocks until a writer comes; non-blocking, it returns at once
/// (and a regular file reads as usual).
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// Writes all of `buf` at `offset`, without moving a shared cursor (ranges land out of order).
#[cfg(unix)]
pub(crate) fn write_all_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

/// Fills `buf` from `offset`; a file that ends first is an `UnexpectedEof`.
#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
pub(crate) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_write(buf, offset)?;
        buf = &buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(windows)]
pub(crate) fn read_exact_at(
    file: &File,
    mut buf: &mut [u8],
    mut offset: u64,
) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = file.seek_read(buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}
