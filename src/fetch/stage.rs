//! Stage: the archive extracted into a fresh staging tree on the destination's file system,
//! never into `path` itself. Entered twice on an artifact's walk: from obtain, [`while_landing`]
//! extracts while the bytes land (or while a cache entry is copied and hashed; the tree is kept
//! only if nothing it read could have changed since); from place, [`for_place`] checks the
//! destination and the verified archive and stages it now if nothing was kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::task::JoinHandle;

use super::config::StageConfig;
use super::verify::Verified;
use super::{DigestCheck, write_body};
use crate::extract::{
    self, FileHashes, Landing, Limits, Source, Staged, quoted_head, starts_like_zip,
};
use crate::util::human_bytes;

/// What staging needs to know of an artifact, owned, for a blocking thread.
pub(super) struct StageJob {
    pub config: Arc<StageConfig>,
    pub dest: PathBuf,
    pub name: String,
    pub id: u64,
    pub workdir: PathBuf,
    /// The archive is a partial fetch's sparse file.
    pub sparse: bool,
}

/// What a write that lands an archive came to, and the tree extracted while it landed, if kept.
pub(super) struct Landed<T> {
    pub written: Result<T>,
    pub early: Option<Staged>,
    /// Why the extraction while it landed failed, when nothing changed under it: an archive
    /// streamed to it may no longer be there whole to extract again.
    pub failed: Option<anyhow::Error>,
}

/// Runs `writing`, which lands the archive in `part` and tells `landing`, beside an extraction
/// into staging that reads it as it lands; the tree is kept only if nothing it read could have
/// changed since.
pub(super) async fn while_landing<T>(
    job: StageJob,
    part: &Path,
    landing: &Arc<Landing>,
    writing: impl Future<Output = Result<T>>,
) -> Landed<T> {
    let (written, early) = tokio::join!(writing, early(job, part, landing));
    let (early, failed) = match settle(early, landing).await {
        Some(Ok(staged)) => (Some(staged), None),
        Some(Err(e)) => (None, Some(e)),
        None => (None, None),
    };
    Landed {
        written,
        early,
        failed,
    }
}

/// What place gets of stage: the tree to move (`None`: the archive is one file to save, now in
/// `part`), and the stale staging removed, for the log.
pub(super) struct Ready {
    pub staged: Option<Staged>,
    pub stale: Vec<String>,
}

/// Right before anything is written into the destination: it is checked (see
/// [`check_and_tidy`]), the archive must be what it was served as; then the tree extracted
/// while it landed, or one extracted now (when there is none, or it failed: extracted again, so
/// errors read as they always have). A raw file or `skip_decompress` stages nothing: an
/// archive held in memory is written to `part` to be saved from there.
pub(super) fn for_place(job: &StageJob, verified: &mut Verified, skip: bool) -> Result<Ready> {
    let stale = check_and_tidy(job)?;
    check_archive(&job.name, verified, skip)?;
    let (archive, part) = (verified.archive(), verified.part());
    if skip || !archive.is_zip {
        if let Some(body) = &archive.body {
            // Saved as a file: it has to be one first.
            write_body(part, body)?;
        }
        whole_in_part(verified)?;
        return Ok(Ready {
            staged: None,
            stale,
        });
    }
    let staged = match verified.take_early() {
        Some(staged) => Ok(staged),
        None => whole_in_part(verified).and_then(|()| {
            let (archive, part) = (verified.archive(), verified.part());
            let source = match &archive.body {
                Some(body) => Ok(Source::memory(part, Arc::clone(body))),
                None => {
                    Source::file(part).with_context(|| format!("cannot open {}", part.display()))
                }
            };
            source.and_then(|source| stage(job, &source))
        }),
    };
    match staged {
        Ok(staged) => Ok(Ready {
            staged: Some(staged),
            stale,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(verified.part());
            Err(e)
        }
    }
}

/// An archive streamed through memory, to be saved or extracted again from `part`: written
/// there whole while the spool still holds it all; else what the extraction while it landed
/// failed with (it read the bytes it dropped: the same bytes, verified since).
fn whole_in_part(verified: &mut Verified) -> Result<()> {
    let Some(landing) = verified.archive().spooled.clone() else {
        return Ok(());
    };
    let (bytes, part) = (verified.archive().bytes, verified.part().to_path_buf());
    let whole = landing
        .write_whole(bytes)
        .with_context(|| format!("cannot write {}", part.display()))?;
    match (whole, verified.take_early_failure()) {
        (true, _) => Ok(()),
        (false, Some(failed)) => Err(failed),
        (false, None) => bail!("internal error: the streamed archive is no longer whole"),
    }
}

/// A zip must not be empty, and (whole, to be extracted) must start like one.
fn check_archive(name: &str, verified: &Verified, skip: bool) -> Result<()> {
    let archive = verified.archive();
    if archive.is_zip && archive.bytes == 0 {
        bail!(
            "artifact '{name}': the download is empty (0 bytes); a zip archive is at least 22 bytes"
        );
    }
    // A partial fetch's first bytes are a hole unless the first entry was selected.
    if archive.is_zip && verified.digest() != DigestCheck::Partial && !skip {
        let head = archive.head(verified.part());
        if !starts_like_zip(&head) {
            bail!(
                "artifact '{name}': served as a zip archive but the body is not one ({}, starting with {})",
                human_bytes(archive.bytes),
                quoted_head(&head)
            );
        }
    }
    Ok(())
}

/// Once the archive turns out to come in ranges: the extraction into staging, started on a
/// blocking thread, reading the archive as it lands. `None` when there is nothing to overlap
/// (a small archive, one stream, `skip-decompress`).
async fn early(
    job: StageJob,
    part: &Path,
    landing: &Arc<Landing>,
) -> Option<JoinHandle<Result<Staged>>> {
    if job.config.skip_decompress {
        return None;
    }
    let total = landing.began().await?;
    let source = Source::landing(part, total, Arc::clone(landing));
    let landing = Arc::clone(landing);
    Some(tokio::task::spawn_blocking(move || {
        let staged = stage_checked(&job, &source);
        if staged.is_err() {
            // A download streamed to it must not wait for it any more.
            landing.unread();
        }
        staged
    }))
}

/// The early extraction's outcome, once the archive is all there: kept only if it read nothing
/// that could have changed since (no restart, no second download). Waits for its thread, so
/// nothing is left writing into staging. A failed one is extracted again once verified where
/// the archive is still whole, so its errors read as they always have.
async fn settle(
    early: Option<JoinHandle<Result<Staged>>>,
    landing: &Landing,
) -> Option<Result<Staged>> {
    let staged = early?.await.ok()?;
    if landing.is_poisoned() {
        return None;
    }
    Some(staged)
}

/// Right before anything is written for an artifact: the destination is checked (a symlink
/// planted at `path/<name>` is refused) and stale staging an earlier killed run left there is
/// removed (what was removed, for the log).
fn check_and_tidy(job: &StageJob) -> Result<Vec<String>> {
    extract::check_destination(&job.config.path, &job.dest)
        .with_context(|| format!("artifact '{}'", job.name))?;
    Ok(extract::remove_stale_staging(&job.dest))
}

/// [`check_and_tidy`], then [`stage`]: the extraction that runs before the archive is verified
/// (while it lands, or while a cache entry is copied and hashed), its tree placed only once it is.
fn stage_checked(job: &StageJob, source: &Source) -> Result<Staged> {
    let stale = check_and_tidy(job)?;
    let mut staged = stage(job, source)?;
    staged.extracted.warnings.splice(0..0, stale);
    Ok(staged)
}

/// Extracts `source` into a fresh staging tree.
fn stage(job: &StageJob, source: &Source) -> Result<Staged> {
    let mut staged = Staged::create(&job.workdir, &job.dest, job.id, source.landing_state())?;
    let c = &job.config;
    let limits = Limits {
        max_total_bytes: c.max_size,
        max_files: c.max_files,
        max_ratio: c.max_ratio,
        allow_git_paths: c.allow_git_paths,
    };
    let select = c.files.as_ref().map(|globs| extract::Select {
        globs,
        sparse: job.sparse,
    });
    let hashes = if c.manifest {
        FileHashes::Taken
    } else {
        FileHashes::Skipped
    };
    staged.extracted = extract::extract_from(source, staged.tree(), &limits, select, hashes)
        .with_context(|| format!("artifact '{}'", job.name))?;
    Ok(staged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::testkit::{stage_config, stage_job, zip};

    fn scene() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        (dir, root)
    }

    fn staged(job: &StageJob, bytes: Vec<u8>) -> Result<Staged> {
        let part = job.workdir.join("7.download");
        stage(job, &Source::memory(&part, Arc::from(bytes)))
    }

    #[test]
    fn an_archive_is_extracted_into_staging_never_into_the_destination() {
        let (_dir, root) = scene();
        let job = stage_job(&root, "dist", stage_config(&root, true));
        let staged = staged(&job, zip(&[("a.txt", b"a"), ("d/b.txt", b"bb")])).unwrap();
        assert_eq!(std::fs::read(staged.tree().join("d/b.txt")).unwrap(), b"bb");
        assert_eq!(staged.extracted.files, 2);
        assert!(!job.dest.exists());
        let tree = staged.tree().to_path_buf();
        drop(staged);
        assert!(!tree.exists(), "an unplaced staging tree is removed");
    }

    #[test]
    fn the_bounds_are_the_stage_configs() {
        let (_dir, root) = scene();
        let mut config = stage_config(&root, false);
        config.max_files = 1;
        let job = stage_job(&root, "dist", config);
        let e = staged(&job, zip(&[("a.txt", b"a"), ("b.txt", b"b")]))
            .err()
            .unwrap();
        assert!(format!("{e:#}").starts_with("artifact 'dist': "), "{e:#}");
        assert!(!job.dest.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_destination_that_is_a_planted_symlink_is_refused_before_staging() {
        let (dir, root) = scene();
        let job = stage_job(&root, "dist", stage_config(&root, false));
        std::os::unix::fs::symlink(dir.path(), &job.dest).unwrap();
        let source = Source::memory(&job.workdir.join("p"), Arc::from(zip(&[("a", b"a")])));
        let e = stage_checked(&job, &source).err().unwrap();
        assert!(format!("{e:#}").starts_with("artifact 'dist': "), "{e:#}");
    }

    #[tokio::test]
    async fn an_early_tree_is_kept_only_if_its_landing_was_not_poisoned() {
        let (_dir, root) = scene();
        let job = Arc::new(stage_job(&root, "dist", stage_config(&root, false)));
        let early = |job: Arc<StageJob>| {
            Some(tokio::task::spawn_blocking(move || {
                staged(&job, zip(&[("a.txt", b"a")]))
            }))
        };
        let landing = Landing::new();
        assert!(settle(early(Arc::clone(&job)), &landing).await.is_some());
        landing.poison("downloaded again from the start");
        assert!(settle(early(Arc::clone(&job)), &landing).await.is_none());
        assert!(settle(None, &landing).await.is_none());
    }

    #[tokio::test]
    async fn nothing_is_staged_early_with_skip_decompress() {
        let (_dir, root) = scene();
        let mut config = stage_config(&root, false);
        config.skip_decompress = true;
        let landing = Arc::new(Landing::new());
        landing.begin(10);
        let job = stage_job(&root, "dist", config);
        assert!(early(job, &root.join("p"), &landing).await.is_none());
    }
}
