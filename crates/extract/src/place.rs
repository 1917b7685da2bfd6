//! Moving the staged tree into the destination: directories merge, files and symlinks replace by
//! rename, and a symlink already in the destination is never written through. Every conflict is
//! checked before the first move; a move across filesystems falls back to copying.
//!
//! The move completes or is undone: each step is journaled, a file it replaces is first renamed
//! aside (next to staging, so on the same filesystem), and a failure or a cancellation between
//! steps walks the journal back. The originals are dropped with staging once the move is done.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, Result, anyhow, bail};

use super::write::{dir_builder, make_symlink};
use util::cancel;

/// See [`super::check_destination`].
pub(super) fn check_destination(root: &Path, dest: &Path) -> Result<()> {
    match fs::metadata(root) {
        Ok(meta) if !meta.is_dir() => bail!(
            "path: {} is a file, not a directory; expected a directory to put artifacts in (or one that does not exist yet)",
            root.display()
        ),
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => {
            return Err(err).with_context(|| format!("path: cannot inspect {}", root.display()));
        }
    }
    let Ok(below) = dest.strip_prefix(root) else {
        bail!("{} is not inside path {}", dest.display(), root.display());
    };
    let mut at = root.to_path_buf();
    for part in below.components() {
        at.push(part);
        let meta = match fs::symlink_metadata(&at) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(err) => {
                return Err(err).with_context(|| format!("failed to inspect {}", at.display()));
            }
            Ok(meta) => meta,
        };
        if meta.file_type().is_symlink() {
            bail!(
                "refusing to write through symlink {} (inside path {}): a symlink there would send files elsewhere; remove it or choose another path",
                at.display(),
                root.display()
            );
        }
        if !meta.is_dir() {
            bail!(
                "{} (inside path {}) is a file, not a directory; cannot put the artifact there",
                at.display(),
                root.display()
            );
        }
    }
    Ok(())
}

/// A destination that does not exist yet (its parent does, or is created) takes the staged tree
/// whole, in one rename: nothing there to merge with, check or undo. `false`: merge instead (the
/// destination exists, or the rename failed, e.g. across file systems).
pub(super) fn rename_whole(src_dir: &Path, dst_dir: &Path) -> bool {
    let missing =
        matches!(fs::symlink_metadata(dst_dir), Err(e) if e.kind() == io::ErrorKind::NotFound);
    let parent_ready = || {
        dst_dir
            .parent()
            .is_some_and(|p| fs::create_dir_all(p).is_ok())
    };
    missing && !cancel::cancelled() && parent_ready() && fs::rename(src_dir, dst_dir).is_ok()
}

/// The checks `merge_into` makes, without moving anything: a directory of the artifact over a
/// symlink or a non-directory in `dest`, or a file of the artifact over a directory.
pub(super) fn check_placeable(src_dir: &Path, dst_dir: &Path) -> Result<()> {
    walk(src_dir, dst_dir, Mode::Check)
}

/// Moves the staged tree into `dst_dir`: directories merge, files replace, conflicts are errors.
/// Files replaced are kept under `aside` until the move is done; on an error or a cancellation
/// the move is undone.
pub(super) fn merge_into(src_dir: &Path, dst_dir: &Path, aside: &Path) -> Result<()> {
    merge_journaled(src_dir, dst_dir, &mut Journal::new(aside))
}

fn merge_journaled(src_dir: &Path, dst_dir: &Path, journal: &mut Journal) -> Result<()> {
    let _placing = cancel::placing();
    let moved = if cancel::cancelled() {
        Err(anyhow!("cancelled before moving anything"))
    } else {
        walk(src_dir, dst_dir, Mode::Move(journal))
    };
    let Err(err) = moved else {
        if cancel::cancelled() {
            cancel::note(format!(
                "the move into {} had completed when the cancellation came",
                dst_dir.display()
            ));
        }
        return Ok(());
    };
    let cancelled = cancel::cancelled();
    let steps = journal.steps.len();
    let outcome = match journal.undo() {
        Ok(()) => format!(
            "the move into {} was undone: it is as it was before",
            dst_dir.display()
        ),
        Err(why) => format!(
            "{} is left half-updated: {why:#} ({} of {steps} changes could not be undone)",
            dst_dir.display(),
            journal.steps.len()
        ),
    };
    if cancelled {
        cancel::note(outcome.clone());
    }
    Err(err.context(outcome))
}

/// What a move changed, to undo it.
pub(super) struct Journal {
    aside: PathBuf,
    steps: Vec<Step>,
    /// Test hook, called before each step with the number of steps done.
    #[cfg(test)]
    before_step: Option<Box<dyn FnMut(usize) -> io::Result<()>>>,
}

enum Step {
    /// `to` did not exist: the artifact's file or whole directory was moved there.
    Added(PathBuf),
    /// The file or symlink at `to` was renamed to `kept`, then the artifact's moved to `to`.
    Replaced { to: PathBuf, kept: PathBuf },
}

impl Journal {
    pub(super) fn new(aside: &Path) -> Self {
        Self {
            aside: aside.to_path_buf(),
            steps: Vec::new(),
            #[cfg(test)]
            before_step: None,
        }
    }

    fn step(&mut self) -> Result<()> {
        if cancel::cancelled() {
            bail!("cancelled while moving files");
        }
        #[cfg(test)]
        if let Some(hook) = &mut self.before_step {
            hook(self.steps.len())?;
        }
        Ok(())
    }

    fn add(&mut self, from: &Path, to: &Path) -> Result<()> {
        self.step()?;
        // Journaled first: a copy across filesystems that fails halfway leaves part of `to`.
        self.steps.push(Step::Added(to.to_path_buf()));
        move_path(from, to)
    }

    fn replace(&mut self, from: &Path, to: &Path) -> Result<()> {
        self.step()?;
        if self.steps.iter().all(|s| matches!(s, Step::Added(_))) {
            match fs::create_dir(&self.aside) {
                Err(err) if err.kind() != io::ErrorKind::AlreadyExists => {
                    return Err(err)
                        .with_context(|| format!("failed to create {}", self.aside.display()));
                }
                _ => {}
            }
        }
        let kept = self.aside.join(self.steps.len().to_string());
        fs::rename(to, &kept).with_context(|| {
            format!(
                "failed to set {} aside (to {})",
                to.display(),
                kept.display()
            )
        })?;
        self.steps.push(Step::Replaced {
            to: to.to_path_buf(),
            kept,
        });
        // rename replaces the name itself: an existing file or symlink there was set aside above
        // and is never written through.
        move_path(from, to)
    }

    /// Walks the steps back, newest first; stops at the first step it cannot undo (or on abort),
    /// leaving the steps not undone in `steps`.
    fn undo(&mut self) -> Result<()> {
        while let Some(step) = self.steps.last() {
            if cancel::aborted() {
                bail!("stopped by a second signal");
            }
            match step {
                Step::Added(to) => remove_any(to)?,
                Step::Replaced { to, kept } => {
                    remove_any(to)?;
                    fs::rename(kept, to).with_context(|| {
                        format!(
                            "failed to put {} back from {}",
                            to.display(),
                            kept.display()
                        )
                    })?;
                }
            }
            self.steps.pop();
        }
        Ok(())
    }
}

/// Removes whatever is at `path` (a tree, a file, a symlink, or nothing).
fn remove_any(path: &Path) -> Result<()> {
    match fs::symlink_metadata(path) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(err).with_context(|| format!("failed to inspect {}", path.display())),
        Ok(meta) if meta.is_dir() => Ok(fs_err::remove_dir_all(path)?),
        Ok(_) => Ok(fs_err::remove_file(path)?),
    }
}

/// One walk for both, so that the check and the move can never disagree about a conflict.
enum Mode<'a> {
    Check,
    Move(&'a mut Journal),
}

fn walk(src_dir: &Path, dst_dir: &Path, mut mode: Mode) -> Result<()> {
    let moving = matches!(mode, Mode::Move(_));
    for entry in fs_err::read_dir(src_dir)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst_dir.join(entry.file_name());
        // DirEntry::file_type does not follow symlinks (and usually needs no extra syscall).
        let from_is_dir = entry
            .file_type()
            .with_context(|| format!("failed to inspect {}", from.display()))?
            .is_dir();
        let kind = match fs::symlink_metadata(&to) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if let Mode::Move(journal) = &mut mode {
                    journal.add(&from, &to)?;
                }
                continue;
            }
            Err(err) => {
                return Err(err).with_context(|| format!("failed to inspect {}", to.display()));
            }
            Ok(meta) => meta.file_type(),
        };
        if from_is_dir && kind.is_symlink() {
            bail!(
                "refusing to write through symlink {} (the artifact has a directory there)",
                to.display()
            );
        } else if from_is_dir && kind.is_dir() {
            let inner = match &mut mode {
                Mode::Check => Mode::Check,
                Mode::Move(journal) => Mode::Move(journal),
            };
            walk(&from, &to, inner)?;
            if moving {
                fs_err::remove_dir(&from)?;
            }
        } else if kind.is_dir() {
            bail!(
                "cannot replace directory {} with a file from the artifact",
                to.display()
            );
        } else if from_is_dir {
            bail!(
                "cannot replace {} with a directory from the artifact: it is not a directory",
                to.display()
            );
        } else if let Mode::Move(journal) = &mut mode {
            journal.replace(&from, &to)?;
        }
    }
    Ok(())
}

fn move_path(from: &Path, to: &Path) -> Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::CrossesDevices => move_by_copy(from, to),
        Err(err) => Err(err)
            .with_context(|| format!("failed to move {} to {}", from.display(), to.display())),
    }
}

/// The cross-filesystem fallback of `move_path`.
fn move_by_copy(from: &Path, to: &Path) -> Result<()> {
    copy_tree(from, to)?;
    if fs_err::symlink_metadata(from)?.is_dir() {
        fs_err::remove_dir_all(from)?;
    } else {
        fs_err::remove_file(from)?;
    }
    Ok(())
}

/// Copy `from` to `to`. A directory is copied into a new directory; a file or symlink is built
/// under a temporary name next to `to` and renamed over it, since opening `to` itself would
/// follow a symlink there.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let meta = fs_err::symlink_metadata(from)?;
    if meta.is_dir() {
        dir_builder()
            .create(to)
            .with_context(|| format!("failed to create directory {}", to.display()))?;
        for entry in fs_err::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    let tmp = temp_sibling(to);
    let made = if meta.file_type().is_symlink() {
        make_symlink_like(from, &tmp)
    } else {
        copy_file(from, &tmp, &meta)
    };
    let renamed = made.and_then(|()| {
        fs::rename(&tmp, to)
            .with_context(|| format!("failed to move {} to {}", tmp.display(), to.display()))
    });
    if renamed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    renamed
}

fn make_symlink_like(from: &Path, link: &Path) -> Result<()> {
    let target = fs_err::read_link(from)?;
    let Some(target) = target.to_str() else {
        bail!("symlink {} has a non-UTF-8 target", from.display());
    };
    make_symlink(target, link)
}

fn copy_file(from: &Path, to: &Path, meta: &fs::Metadata) -> Result<()> {
    let src = fs_err::File::open(from)?;
    let mut options = fs_err::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt as _;
        use std::os::unix::fs::PermissionsExt as _;
        options.mode(meta.permissions().mode() & 0o777);
    }
    #[cfg(not(unix))]
    let _ = meta;
    let dst = options.open(to)?;
    // File to File (the std handles under fs_err's): std uses copy_file_range/sendfile where it
    // can.
    io::copy(&mut src.file(), &mut dst.file())
        .with_context(|| format!("failed to copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn temp_sibling(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Not derived from the file name, which may already be 255 bytes long.
    path.with_file_name(format!(".artifetch-{}-{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::place;
    #[cfg(unix)]
    use crate::testkit::mode;
    #[cfg(unix)]
    use crate::write::create_file;

    #[test]
    fn place_merges() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join("staging");
        let dest = tmp.path().join("dest");
        fs::create_dir_all(staging.join("sub/deeper")).unwrap();
        fs::create_dir_all(staging.join("newdir")).unwrap();
        fs::write(staging.join("sub/replace.txt"), b"new").unwrap();
        fs::write(staging.join("sub/new.txt"), b"new").unwrap();
        fs::write(staging.join("sub/deeper/f"), b"f").unwrap();
        fs::write(staging.join("newdir/f"), b"f").unwrap();
        fs::create_dir_all(dest.join("sub")).unwrap();
        fs::write(dest.join("keep.txt"), b"keep").unwrap();
        fs::write(dest.join("sub/old.txt"), b"old").unwrap();
        fs::write(dest.join("sub/replace.txt"), b"old").unwrap();

        place(&staging, &dest, &tmp.path().join("aside")).unwrap();
        assert_eq!(fs::read(dest.join("keep.txt")).unwrap(), b"keep");
        assert_eq!(fs::read(dest.join("sub/old.txt")).unwrap(), b"old");
        assert_eq!(fs::read(dest.join("sub/replace.txt")).unwrap(), b"new");
        assert_eq!(fs::read(dest.join("sub/new.txt")).unwrap(), b"new");
        assert_eq!(fs::read(dest.join("sub/deeper/f")).unwrap(), b"f");
        assert_eq!(fs::read(dest.join("newdir/f")).unwrap(), b"f");

        // A dest that does not exist yet is created.
        let fresh = tmp.path().join("a/b/fresh");
        fs::create_dir_all(staging.join("x")).unwrap();
        place(&staging, &fresh, &tmp.path().join("aside")).unwrap();
        assert!(fresh.join("x").is_dir());
    }

    /// Nothing to merge with: the staged tree becomes the destination in one rename (the same
    /// directory, not a copy of its entries); an existing destination is merged into instead.
    #[cfg(unix)]
    #[test]
    fn a_fresh_destination_takes_the_staged_tree_whole() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join("staging");
        fs::create_dir_all(staging.join("d")).unwrap();
        fs::write(staging.join("d/f"), b"f").unwrap();
        let inode = fs::metadata(&staging).unwrap().ino();
        let fresh = tmp.path().join("new/parent/dest");
        place(&staging, &fresh, &tmp.path().join("aside")).unwrap();
        assert_eq!(fs::metadata(&fresh).unwrap().ino(), inode);
        assert_eq!(fs::read(fresh.join("d/f")).unwrap(), b"f");
        assert!(!staging.exists());

        fs::create_dir_all(staging.join("e")).unwrap();
        let existing = tmp.path().join("existing");
        fs::create_dir(&existing).unwrap();
        let before = fs::metadata(&existing).unwrap().ino();
        place(&staging, &existing, &tmp.path().join("aside")).unwrap();
        assert_eq!(fs::metadata(&existing).unwrap().ino(), before);
        assert!(existing.join("e").is_dir() && staging.exists());
    }

    #[test]
    fn place_type_conflicts() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = (tmp.path().join("s"), tmp.path().join("d"));
        fs::create_dir_all(staging.join("f")).unwrap();
        fs::create_dir_all(&dest).unwrap();
        fs::write(dest.join("f"), b"file").unwrap();
        let err = format!(
            "{:#}",
            place(&staging, &dest, &tmp.path().join("aside")).unwrap_err()
        );
        assert!(err.contains("not a directory"), "{err}");

        fs::remove_dir(staging.join("f")).unwrap();
        fs::write(staging.join("g"), b"file").unwrap();
        fs::create_dir_all(dest.join("g")).unwrap();
        let err = format!(
            "{:#}",
            place(&staging, &dest, &tmp.path().join("aside")).unwrap_err()
        );
        assert!(err.contains("cannot replace directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn place_never_writes_through_dest_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest, outside) = (
            tmp.path().join("s"),
            tmp.path().join("d"),
            tmp.path().join("outside"),
        );
        fs::create_dir_all(staging.join("sub")).unwrap();
        fs::write(staging.join("sub/f"), b"evil").unwrap();
        fs::create_dir_all(&dest).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("sub")).unwrap();
        let err = format!(
            "{:#}",
            place(&staging, &dest, &tmp.path().join("aside")).unwrap_err()
        );
        assert!(
            err.contains(&dest.join("sub").display().to_string()),
            "{err}"
        );
        assert!(err.contains("symlink"), "{err}");
        assert!(fs::read_dir(&outside).unwrap().next().is_none());

        // A file in the artifact replaces a symlink in dest: the link goes, its target stays.
        let (staging, dest) = (tmp.path().join("s2"), tmp.path().join("d2"));
        fs::create_dir_all(&staging).unwrap();
        fs::create_dir_all(&dest).unwrap();
        fs::write(staging.join("f"), b"new").unwrap();
        fs::write(outside.join("victim"), b"victim").unwrap();
        std::os::unix::fs::symlink(outside.join("victim"), dest.join("f")).unwrap();
        place(&staging, &dest, &tmp.path().join("aside")).unwrap();
        assert!(
            !fs::symlink_metadata(dest.join("f"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(dest.join("f")).unwrap(), b"new");
        assert_eq!(fs::read(outside.join("victim")).unwrap(), b"victim");
    }

    /// A destination holding `old` versions of `a`, `d/b`, `d/c` and a file of its own; staging
    /// with new versions of those, a new file, and a new directory.
    fn scene(tmp: &Path) -> (PathBuf, PathBuf) {
        let (staging, dest) = (tmp.join("s"), tmp.join("d"));
        fs::create_dir_all(staging.join("d/new-dir")).unwrap();
        fs::create_dir_all(dest.join("d")).unwrap();
        for f in ["a", "d/b", "d/c"] {
            fs::write(staging.join(f), b"new").unwrap();
            fs::write(dest.join(f), b"old").unwrap();
        }
        fs::write(staging.join("d/new-file"), b"new").unwrap();
        fs::write(staging.join("d/new-dir/f"), b"new").unwrap();
        fs::write(dest.join("mine"), b"mine").unwrap();
        (staging, dest)
    }

    fn listing(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        for f in crate::relative_files(dir).unwrap() {
            out.insert(f.clone(), fs::read(dir.join(&f)).unwrap_or_default());
        }
        out
    }

    #[test]
    fn an_io_error_at_any_step_undoes_the_move() {
        // Five steps: three replacements, a new file, a new directory.
        for fail_at in 0..5 {
            let tmp = tempfile::tempdir().unwrap();
            let (staging, dest) = scene(tmp.path());
            let before = listing(&dest);
            let mut journal = Journal::new(&tmp.path().join("aside"));
            journal.before_step = Some(Box::new(move |done| {
                if done == fail_at {
                    Err(io::Error::other("disk on fire"))
                } else {
                    Ok(())
                }
            }));
            let err = merge_journaled(&staging, &dest, &mut journal).unwrap_err();
            let err = format!("{err:#}");
            assert!(err.contains("disk on fire"), "{err}");
            assert!(
                err.contains("was undone: it is as it was before")
                    && err.contains(&dest.display().to_string()),
                "{err}"
            );
            assert_eq!(listing(&dest), before, "failing at step {fail_at}");
        }
    }

    #[test]
    fn a_cancellation_during_the_move_undoes_it_and_notes_it() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = scene(tmp.path());
        let before = listing(&dest);
        let mut journal = Journal::new(&tmp.path().join("aside"));
        journal.before_step = Some(Box::new(|done| {
            if done == 3 {
                cancel::cancel();
            }
            Ok(())
        }));
        let err = format!(
            "{:#}",
            merge_journaled(&staging, &dest, &mut journal).unwrap_err()
        );
        assert!(err.contains("cancelled while moving files"), "{err}");
        assert_eq!(listing(&dest), before);
        let notes = cancel::take_notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("was undone"), "{notes:?}");
        assert_eq!(cancel::placements_active(), 0);
    }

    #[test]
    fn a_second_signal_stops_the_undo_and_names_the_half_updated_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = scene(tmp.path());
        let mut journal = Journal::new(&tmp.path().join("aside"));
        journal.before_step = Some(Box::new(|done| {
            if done == 3 {
                cancel::abort();
            }
            Ok(())
        }));
        let err = format!(
            "{:#}",
            merge_journaled(&staging, &dest, &mut journal).unwrap_err()
        );
        let half = format!("{} is left half-updated", dest.display());
        assert!(
            err.contains(&half) && err.contains("second signal"),
            "{err}"
        );
        let notes = cancel::take_notes();
        assert!(notes.len() == 1 && notes[0].contains(&half), "{notes:?}");
    }

    #[test]
    fn an_undo_that_cannot_finish_names_the_half_updated_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = scene(tmp.path());
        let aside = tmp.path().join("aside");
        let mut journal = Journal::new(&aside);
        let aside2 = aside.clone();
        journal.before_step = Some(Box::new(move |done| {
            if done == 4 {
                // What was set aside vanishes: it cannot be put back.
                fs::remove_dir_all(&aside2).unwrap();
                return Err(io::Error::other("disk on fire"));
            }
            Ok(())
        }));
        let err = format!(
            "{:#}",
            merge_journaled(&staging, &dest, &mut journal).unwrap_err()
        );
        assert!(
            err.contains(&format!("{} is left half-updated", dest.display())),
            "{err}"
        );
        assert!(err.contains("could not be undone"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn move_by_copy_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("d/e")).unwrap();
        fs::write(src.join("d/e/f"), b"f").unwrap();
        fs::write(src.join("d/x"), b"x").unwrap();
        create_file(&src.join("d/tool"), true).unwrap();
        std::os::unix::fs::symlink("e/f", src.join("d/link")).unwrap();
        let to = tmp.path().join("dst");
        move_by_copy(&src.join("d"), &to).unwrap();
        assert!(!src.join("d").exists());
        assert_eq!(fs::read(to.join("e/f")).unwrap(), b"f");
        assert_eq!(fs::read(to.join("x")).unwrap(), b"x");
        assert_eq!(mode(&to.join("tool")) & 0o100, 0o100);
        assert_eq!(fs::read_link(to.join("link")).unwrap(), Path::new("e/f"));

        // Replacing a symlink by copy must not write through it.
        let victim = tmp.path().join("victim");
        fs::write(&victim, b"victim").unwrap();
        std::os::unix::fs::symlink(&victim, to.join("swap")).unwrap();
        fs::write(tmp.path().join("new"), b"new").unwrap();
        move_by_copy(&tmp.path().join("new"), &to.join("swap")).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"victim");
        assert_eq!(fs::read(to.join("swap")).unwrap(), b"new");
        assert!(!tmp.path().join("new").exists());
        let leftovers: Vec<_> = fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
