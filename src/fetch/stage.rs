//! Stage: the archive extracted into a fresh staging tree on the destination's file system,
//! never into `path` itself. Early (while its ranges land, or while a cache entry is copied and
//! hashed: the tree is kept only if nothing it read could have changed since) or, once the
//! archive is verified, from the whole archive.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::task::JoinHandle;

use super::config::StageConfig;
use crate::extract::{self, FileHashes, Landing, Limits, Source, Staged};

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

/// Once the archive turns out to come in ranges: the extraction into staging, started on a
/// blocking thread, reading the archive as it lands. `None` when there is nothing to overlap
/// (a small archive, one stream, `skip-decompress`).
pub(super) async fn early(
    job: StageJob,
    part: &Path,
    landing: &Arc<Landing>,
) -> Option<JoinHandle<Result<Staged>>> {
    if job.config.skip_decompress {
        return None;
    }
    let total = landing.began().await?;
    let source = Source::landing(part, total, Arc::clone(landing));
    Some(tokio::task::spawn_blocking(move || {
        stage_checked(&job, &source)
    }))
}

/// The early extraction's outcome, once the archive is all there: kept only if it read nothing
/// that could have changed since (no restart, no second download). Waits for its thread, so
/// nothing is left writing into staging. A failed one is dropped: the archive is extracted
/// again once verified, so its errors read as they always have.
pub(super) async fn settle(
    early: Option<JoinHandle<Result<Staged>>>,
    landing: &Landing,
) -> Option<Staged> {
    let staged = early?.await.ok()?;
    if landing.is_poisoned() {
        return None;
    }
    staged.ok()
}

/// Right before anything is written for an artifact: the destination is checked (a symlink
/// planted at `path/<name>` is refused) and stale staging an earlier killed run left there is
/// removed (what was removed, for the log).
pub(super) fn check_and_tidy(job: &StageJob) -> Result<Vec<String>> {
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
pub(super) fn stage(job: &StageJob, source: &Source) -> Result<Staged> {
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

/// Writes an archive held in memory to `path`, for what needs it as a file.
pub(super) fn write_body(path: &Path, body: &[u8]) -> Result<()> {
    std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))
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
