//! Place: a [`Verified`] archive's files into the destination. Takes only a `Verified` (see
//! `verify.rs` for why that means the digest, the pins and the attestation passed); stage hands
//! back the tree (kept from while the archive landed, or extracted now), which is compared with
//! the producer's file pins in staging, then moved; or the raw file is saved. A failure leaves
//! the destination as it was.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::config::PlaceConfig;
use super::merge::MergeSlot;
use super::stage::{self, StageJob};
use super::verify::Verified;
use crate::extract::{self, Staged};
use crate::manifest::{Entry, Kind, Manifest};
use crate::settings::NotFound;

/// Everything the blocking unpack step needs, owned, so it can run on another thread.
pub(super) struct Unpack {
    pub config: Arc<PlaceConfig>,
    /// Where the files go, and how to stage them if nothing was staged early.
    pub stage: StageJob,
    pub verified: Verified,
    /// With `merge-multiple`: where to record which artifact wrote which file.
    pub merge: Option<MergeSlot>,
}

/// What the unpack step hands back.
#[derive(Debug)]
pub(super) struct Placed {
    /// The directory extracted into, or the file written.
    pub path: PathBuf,
    pub files: u64,
    /// With `files`: what was not taken.
    pub left: Option<u64>,
    pub extracted: u64,
    pub warnings: Vec<String>,
    pub manifest: Option<Manifest>,
    /// Files that matched the producer's pins, if pinned.
    pub files_pinned: Option<usize>,
}

/// Writes a verified archive into its destination: staged (see [`stage::for_place`]: the
/// destination checked right before, the tree extracted while downloading or now), then
/// compared with the producer's pins and moved; or the raw file saved.
pub(super) fn unpack(mut job: Unpack) -> Result<Placed> {
    let skip = job.config.skip_decompress;
    let ready = stage::for_place(&job.stage, &mut job.verified, skip)?;
    let mut placed = match ready.staged {
        None => save_file(job)?,
        Some(staged) => {
            let placed = place_staged(&job, staged);
            let _ = std::fs::remove_file(job.verified.part());
            placed?
        }
    };
    placed.warnings.splice(0..0, ready.stale);
    Ok(placed)
}

/// An unzipped artifact, or a zip kept with `skip-decompress`: one file, whose SHA-256 is the
/// download's, so nothing is read again.
fn save_file(job: Unpack) -> Result<Placed> {
    let (name, config, verified) = (&job.stage.name, &job.config, &job.verified);
    let archive = verified.archive();
    let file_name = if archive.is_zip {
        format!("{name}.zip")
    } else {
        archive.filename.clone().unwrap_or_else(|| name.clone())
    };
    if !config.allow_git_paths && extract::is_git_name(&file_name) {
        bail!(
            "artifact '{name}': refusing to save it as {file_name:?}, a name git treats as its metadata (.git); set allow-git-paths: true to allow it"
        );
    }
    // `files` over a raw artifact: its one file, by the name it is saved under.
    if let Some(select) = &config.files
        && !select.takes(&file_name)
    {
        return not_taken(&job, &file_name);
    }
    let left = config.files.as_ref().map(|_| 0);
    let target = job.stage.dest.join(&file_name);
    let size = std::fs::metadata(verified.part())
        .map(|m| m.len())
        .unwrap_or(0);
    let manifest = Manifest::new(vec![Entry {
        path: file_name.clone().into_bytes(),
        kind: Kind::File {
            size,
            sha256: archive.sha256.clone(),
            executable: false,
        },
    }]);
    let files_pinned = verified.check_files(name, &manifest)?;
    let manifest = config.manifest.then_some(manifest);
    extract::place_file(verified.part(), &target)?;
    if let Some(slot) = &job.merge {
        slot.order.record(&slot.name, vec![file_name]);
    }
    let warnings = Vec::new();
    Ok(Placed {
        path: target,
        files: 1,
        left,
        extracted: size,
        warnings,
        manifest,
        files_pinned,
    })
}

/// A raw artifact whose one file `files` does not take: nothing placed, the glob's miss decided
/// by `if-no-artifact-found`.
fn not_taken(job: &Unpack, file_name: &str) -> Result<Placed> {
    let (name, config) = (&job.stage.name, &job.config);
    let select = config.files.as_ref().expect("only called with files");
    let missed = select.unmatched(std::iter::once(file_name));
    let warnings = files_missed(config, name, &missed, 1)?
        .into_iter()
        .collect();
    let _ = std::fs::remove_file(job.verified.part());
    Ok(Placed {
        path: job.stage.dest.clone(),
        files: 0,
        left: Some(1),
        extracted: 0,
        warnings,
        manifest: config.manifest.then(|| Manifest::new(Vec::new())),
        files_pinned: job.verified.check_files(name, &Manifest::new(Vec::new()))?,
    })
}

/// Describes the staged tree (and compares it with the producer's pins) before the move: the
/// destination only ever gets files that passed.
fn place_staged(job: &Unpack, mut staged: Staged) -> Result<Placed> {
    let (name, dest, config) = (&job.stage.name, &job.stage.dest, &job.config);
    let all = staged.extracted.files + staged.extracted.left;
    let missed = files_missed(config, name, &staged.extracted.unmatched, all)?;
    staged.extracted.warnings.extend(missed);
    let tree = staged.tree();
    // Without a manifest to give or pins to compare, the tree is not walked at all.
    let manifest = config
        .manifest
        .then(|| Manifest::of_written(tree, &staged.extracted.written))
        .transpose()
        .with_context(|| format!("artifact '{name}': cannot list the extracted files"))?;
    let files_pinned = match &manifest {
        Some(m) => job.verified.check_files(name, m)?,
        None => None,
    };
    let files = match &job.merge {
        Some(_) => extract::relative_files(tree)?,
        None => Vec::new(),
    };
    staged.place(dest).with_context(|| {
        format!(
            "artifact '{name}': cannot move files into {}",
            dest.display()
        )
    })?;
    let x = std::mem::take(&mut staged.extracted);
    if let Some(slot) = &job.merge {
        slot.order.record(&slot.name, files);
    }
    Ok(Placed {
        path: dest.clone(),
        files: x.files,
        left: config.files.as_ref().map(|_| x.left),
        extracted: x.bytes,
        warnings: x.warnings,
        manifest,
        files_pinned,
    })
}

/// `files` globs that took nothing in artifact `name` (of `all` files): `if-no-artifact-found`
/// decides, per artifact, as it does for a selection that matches no artifact. Fails the artifact
/// (before anything is placed), or returns the warning to log.
fn files_missed(
    config: &PlaceConfig,
    name: &str,
    unmatched: &[String],
    all: u64,
) -> Result<Option<String>> {
    if unmatched.is_empty() {
        return Ok(None);
    }
    let globs = unmatched
        .iter()
        .map(|g| format!("'{g}'"))
        .collect::<Vec<_>>()
        .join(", ");
    // Warnings are logged as "artifact 'name': ..." already.
    let msg = format!("files: {globs} matched nothing among the {all} files");
    match config.if_no_artifact_found {
        NotFound::Fail => bail!(
            "artifact '{name}': {msg}; nothing of it was extracted (if-no-artifact-found: warn or ignore takes what the other globs match)"
        ),
        NotFound::Warn => Ok(Some(msg)),
        NotFound::Ignore => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{FailureKind, kind_of};
    use crate::fetch::config::{PlaceConfig, StageConfig};
    use crate::fetch::testkit::{
        obtained, pins, place_config, sha256, stage_config, stage_job, verify_config, zip,
    };
    use crate::fetch::verify::{self, unattested};
    use crate::github::model::Artifact;
    use crate::log::Log;
    use crate::pin::Pins;
    use crate::settings::Severity;

    /// A temp dir with `path` (`root`) inside it, and where each test puts its download.
    struct Scene {
        dir: tempfile::TempDir,
    }

    impl Scene {
        fn new() -> Scene {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("root")).unwrap();
            Scene { dir }
        }

        fn root(&self) -> PathBuf {
            self.dir.path().join("root")
        }

        /// `bytes` obtained and verified (no published digest, these pins), ready to unpack
        /// into `root/dist`.
        fn unpack(&self, bytes: &[u8], is_zip: bool, pins: Pins, place: PlaceConfig) -> Unpack {
            self.unpack_with(
                bytes,
                is_zip,
                pins,
                stage_config(&self.root(), place.manifest),
                place,
            )
        }

        fn unpack_with(
            &self,
            bytes: &[u8],
            is_zip: bool,
            pins: Pins,
            stage: StageConfig,
            place: PlaceConfig,
        ) -> Unpack {
            let cfg = verify_config(Severity::Error, pins);
            let a: Artifact = crate::fetch::testkit::artifact("dist", None, bytes.len() as u64);
            let log = Log::new(false, false);
            let checked = verify::archive(&cfg, &log, &a, &sha256(bytes), &mut Vec::new()).unwrap();
            let part = self.dir.path().join("7.download");
            Unpack {
                config: Arc::new(place),
                stage: stage_job(&self.root(), "dist", stage),
                verified: unattested(&cfg, obtained(part, bytes, is_zip, checked)),
                merge: None,
            }
        }
    }

    #[test]
    fn a_verified_zip_is_extracted_and_placed_and_its_download_removed() {
        let scene = Scene::new();
        let bytes = zip(&[("a.txt", b"a"), ("d/b.txt", b"bb")]);
        let placed =
            unpack(scene.unpack(&bytes, true, Pins::default(), place_config(true))).unwrap();
        assert_eq!((placed.files, placed.extracted), (2, 3));
        assert_eq!(placed.path, scene.root().join("dist"));
        assert_eq!(
            std::fs::read(scene.root().join("dist/d/b.txt")).unwrap(),
            b"bb"
        );
        assert_eq!(placed.manifest.unwrap().entries.len(), 2);
        assert!(!scene.dir.path().join("7.download").exists());
    }

    #[test]
    fn files_that_differ_from_the_pins_never_reach_the_destination() {
        let scene = Scene::new();
        let bytes = zip(&[("a.txt", b"a")]);
        let pinned = pins(None, Some(&format!("{}  a.txt", sha256(b"not a"))));
        let e = unpack(scene.unpack(&bytes, true, pinned, place_config(true))).unwrap_err();
        assert_eq!(kind_of(&e), Some(FailureKind::PinMismatch));
        assert!(!scene.root().join("dist").exists());
    }

    #[test]
    fn a_body_that_is_not_a_zip_or_is_empty_is_refused_before_any_write() {
        let scene = Scene::new();
        let e = unpack(scene.unpack(b"<html>", true, Pins::default(), place_config(false)))
            .unwrap_err();
        assert!(format!("{e:#}").contains("served as a zip archive but the body is not one"));
        let e = unpack(scene.unpack(b"", true, Pins::default(), place_config(false))).unwrap_err();
        assert!(format!("{e:#}").contains("the download is empty (0 bytes)"));
        assert!(!scene.root().join("dist").exists());
    }

    #[test]
    fn a_raw_file_is_saved_under_its_name_but_never_as_git_metadata() {
        let scene = Scene::new();
        let mut job = scene.unpack(b"plain text", false, Pins::default(), place_config(false));
        let placed = unpack(job).unwrap();
        assert_eq!(placed.path, scene.root().join("dist/dist"));
        assert_eq!(std::fs::read(&placed.path).unwrap(), b"plain text");
        job = scene.unpack(b"x", false, Pins::default(), place_config(false));
        job.stage.name = ".git".into();
        let e = unpack(job).unwrap_err();
        assert!(
            format!("{e:#}").contains("a name git treats as its metadata"),
            "{e:#}"
        );
    }

    #[test]
    fn a_glob_that_takes_nothing_fails_the_artifact_or_warns_as_if_no_artifact_found_says() {
        let scene = Scene::new();
        let bytes = zip(&[("a.txt", b"a")]);
        let globs = crate::pattern::PathGlobs::parse("*.md").unwrap();
        let mut stage = stage_config(&scene.root(), false);
        stage.files = globs.clone();
        let mut place = place_config(false);
        place.files = globs;
        let job = scene.unpack_with(&bytes, true, Pins::default(), stage, place);
        let e = unpack(job).unwrap_err();
        assert!(
            format!("{e:#}").contains("'*.md' matched nothing among the 1 files"),
            "{e:#}"
        );
        assert!(!scene.root().join("dist").exists());
        let config = PlaceConfig {
            if_no_artifact_found: NotFound::Warn,
            ..place_config(false)
        };
        let missed = files_missed(&config, "dist", &["*.md".into()], 1).unwrap();
        assert_eq!(
            missed.as_deref(),
            Some("files: '*.md' matched nothing among the 1 files")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_planted_at_the_destination_is_refused() {
        let scene = Scene::new();
        let elsewhere = scene.dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, scene.root().join("dist")).unwrap();
        let bytes = zip(&[("a.txt", b"a")]);
        assert!(unpack(scene.unpack(&bytes, true, Pins::default(), place_config(false))).is_err());
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    }
}
