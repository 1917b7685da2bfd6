//! Staging: where an archive is extracted before it is verified, on the destination's file
//! system so that placing is a rename. A [`Staged`] tree is removed when dropped, and reaches the
//! destination only through [`Staged::place`]; [`place_file`] puts a single downloaded file
//! there; [`remove_stale_staging`] clears what a killed run left in a destination. With
//! `place.rs`, this is every write into the destination.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use super::Extracted;
use util::{human_bytes, random_hex};

/// Staging directories inside a destination are named `<prefix><pid>-<12 hex digits>`.
const STAGING_PREFIX: &str = ".artifetch-staging-";
/// A staging directory left in a destination this long ago, by a process no longer running, was
/// left by a run that was killed (SIGKILL leaves no chance to clean up).
const STALE_AFTER: Duration = Duration::from_secs(60 * 60);

/// Removes staging directories an earlier, killed run left directly in `dest`: only names of
/// exactly our pattern, last modified more than [`STALE_AFTER`] ago, whose process (named in
/// them) is not running. Best effort: what cannot be removed stays, and is reported.
pub fn remove_stale_staging(dest: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dest) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(stale_staging_pid) else {
            continue;
        };
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if !meta.is_dir() || !old || pid.is_some_and(process_running) {
            continue;
        }
        notes.push(match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => format!(
                "Removed {}, left by an earlier run that was killed",
                entry.path().display()
            ),
            Err(e) => format!(
                "Could not remove {}, left by an earlier run that was killed: {e}",
                entry.path().display()
            ),
        });
    }
    notes
}

/// If `name` is a staging directory name of ours: the process id in it (`None` in the names of
/// versions before ids were added, `<prefix><12 hex digits>`).
fn stale_staging_pid(name: &str) -> Option<Option<u32>> {
    let hex_ok =
        |h: &str| h.len() == 12 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let rest = name.strip_prefix(STAGING_PREFIX)?;
    let Some((pid, hex)) = rest.split_once('-') else {
        return hex_ok(rest).then_some(None);
    };
    let pid_ok = !pid.is_empty() && pid.len() <= 10 && pid.bytes().all(|b| b.is_ascii_digit());
    (hex_ok(hex) && pid_ok)
        .then(|| pid.parse().ok().map(Some))
        .flatten()
}

/// Is `pid` a running process? On Linux, /proc says; elsewhere only our own id counts as running,
/// so age alone decides there.
fn process_running(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid.to_string()).exists()
    } else {
        pid == std::process::id()
    }
}

/// An extracted tree in staging, on the destination's file system, not yet placed. Dropping it
/// removes it (and the directories created for the destination, unless it was placed).
pub struct Staged {
    /// What dropping it removes: the tree itself, or the hidden directory holding tree and aside.
    staging: PathBuf,
    tree: PathBuf,
    /// Files the tree replaces in the destination, kept until the move is done (made only then).
    aside: PathBuf,
    /// Directories created for the destination itself (outermost first).
    created: Vec<PathBuf>,
    pub extracted: Extracted,
    /// Bytes of the archive that had landed when extraction began, and its size, if it began
    /// while the archive was still arriving.
    overlap: Option<(u64, u64)>,
    placed: bool,
}

impl Staged {
    /// The extracted tree.
    pub fn tree(&self) -> &Path {
        &self.tree
    }

    pub fn overlap_note(&self) -> Option<String> {
        self.overlap.map(|(landed, total)| {
            format!(
                "Extracted into staging while downloading (began with {} of {} arrived)",
                human_bytes(landed),
                human_bytes(total)
            )
        })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.staging);
        if !self.aside.starts_with(&self.staging) {
            let _ = std::fs::remove_dir_all(&self.aside);
        }
        util::cancel::unregister_temp(&self.staging);
        if !self.placed {
            // A destination that did not exist before is not left behind, empty.
            crate::tracked_dirs::remove_created(&self.created);
        }
    }
}

/// Where an artifact is staged, on the destination's filesystem so that placing is a rename.
struct Dirs {
    staging: PathBuf,
    tree: PathBuf,
    aside: PathBuf,
    /// Directories created for the destination itself (outermost first), which a failure removes.
    created: Vec<PathBuf>,
}

/// Under our work directory when it shares the destination's filesystem: the tree is one
/// directory there (a fresh destination takes it in one rename; one directory fewer to create and
/// remove per artifact counts on `many`, where every inode costs). Else a hidden directory inside
/// the destination holding tree and aside, registered so that it goes even on cancellation.
fn staging_dir(workdir: &Path, dest: &Path, id: u64) -> Result<Dirs> {
    if same_filesystem(workdir, dest) {
        let tree = workdir.join(format!("staging-{id}"));
        fs_err::create_dir_all(&tree)?;
        return Ok(Dirs {
            staging: tree.clone(),
            tree,
            aside: workdir.join(format!("replaced-{id}")),
            created: Vec::new(),
        });
    }
    let created = crate::tracked_dirs::create_dir_all_tracked(dest)?;
    let staging = dest.join(format!(
        "{STAGING_PREFIX}{}-{}",
        std::process::id(),
        random_hex(12)
    ));
    util::cancel::register_temp(&staging);
    let made =
        std::fs::create_dir(&staging).and_then(|()| std::fs::create_dir(staging.join("tree")));
    if let Err(e) = made {
        let _ = std::fs::remove_dir_all(&staging);
        util::cancel::unregister_temp(&staging);
        crate::tracked_dirs::remove_created(&created);
        return Err(e).with_context(|| format!("cannot create {}", staging.display()));
    }
    Ok(Dirs {
        tree: staging.join("tree"),
        aside: staging.join("replaced"),
        staging,
        created,
    })
}

#[cfg(unix)]
fn same_filesystem(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| {
        p.ancestors()
            .find_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.dev())
    };
    dev(a).is_some() && dev(a) == dev(b)
}

#[cfg(not(unix))]
fn same_filesystem(_: &Path, _: &Path) -> bool {
    true
}

/// Moves a finished download to `target` (a file in the destination), replacing a file there;
/// copies across filesystems.
pub fn place_file(from: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent() {
        fs_err::create_dir_all(parent)?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(target)
        && (meta.is_dir() || meta.file_type().is_symlink())
    {
        bail!(
            "{} exists and is not a regular file; refusing to replace it",
            target.display()
        );
    }
    if std::fs::rename(from, target).is_err() {
        fs_err::copy(from, target)?;
        let _ = std::fs::remove_file(from);
    }
    Ok(())
}

impl Staged {
    /// A fresh staging directory, with an empty tree, for an artifact with id `id` going to `dest` (see
    /// [`staging_dir`]); `overlap` says how much of the archive had landed as extraction began.
    pub fn create(
        workdir: &Path,
        dest: &Path,
        id: u64,
        overlap: Option<(u64, u64)>,
    ) -> Result<Staged> {
        let Dirs {
            staging,
            tree,
            aside,
            created,
        } = staging_dir(workdir, dest, id)?;
        Ok(Staged {
            staging,
            tree,
            aside,
            created,
            extracted: Extracted::default(),
            overlap,
            placed: false,
        })
    }

    /// Moves the tree into `dest` (see [`super::place`]); once it is there, dropping the staging
    /// directory no longer removes the directories made for `dest`.
    pub fn place(&mut self, dest: &Path) -> Result<()> {
        super::place(&self.tree, dest, &self.aside)?;
        self.placed = true;
        Ok(())
    }
}
