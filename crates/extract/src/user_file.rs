//! The one reader of files a user names (`expected-files: @path`, `trusted-root`,
//! `SSL_CERT_FILE`): regular files only (a FIFO or a device is refused without waiting on it), at
//! most [`USER_FILE_LIMIT`] bytes, errors that name the path and never the content; [`confined`]
//! keeps a name given relative to the workspace inside it, symlinks resolved.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

/// The most a file a user names (`expected-files: @path`, `trusted-root`) may hold.
pub const USER_FILE_LIMIT: u64 = 64 << 20;

/// `name` (relative to `root`, or absolute) with every symlink resolved, refused unless it is
/// still inside `root`: a pin file in a checkout must not read the runner's other files.
pub fn confined(root: &Path, name: &str) -> Result<PathBuf> {
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
pub fn read_user_file(path: &Path) -> Result<String> {
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
