//! Obtain: the archive's bytes in a private temp file (or in memory), from `cache-dir`, by a
//! partial fetch of the selected entries' ranges, or downloaded whole; its digest checked by
//! the verify stage as soon as its SHA-256 is known, so a resumed download that pieced the
//! archive together wrongly is fetched once more. While the bytes land, the stage step may
//! already extract them into staging (kept only if nothing changed under it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, anyhow};

mod cache;
pub(super) mod download;
mod partial;

pub(crate) use self::cache::Cache;
use self::cache::{Copied, Lookup};
pub(crate) use self::download::{CONNECTIONS, Download, Downloader};
use self::partial::Partial;
use super::Fetcher;
use super::config::{ObtainConfig, VerifyConfig};
use super::stage::{self, Landed};
use super::verify::{self, Checked};
use super::write_body;
use crate::extract::{Landing, Staged};
use crate::github::model::{Artifact, Published};
use crate::github::served::Reply;
use crate::pattern::PathGlobs;
use crate::plan::Item;
use crate::settings::Partial as Mode;
use crate::util::{human_bytes, rate};

/// The archive, obtained and its digest checked: what the verify stage takes.
pub(super) struct Obtained {
    /// What came: its length, SHA-256, kind, and the bytes themselves when small.
    pub archive: Download,
    /// The temp file the archive is in (or, held in memory, would be written to).
    pub part: PathBuf,
    pub checked: Checked,
    /// Taken from `cache-dir` (hashed again), not downloaded.
    pub from_cache: bool,
    /// The tree extracted into staging while the bytes landed, if kept.
    pub early: Option<Staged>,
    /// Why that extraction failed, with nothing changed under it.
    pub early_failed: Option<anyhow::Error>,
}

/// How the archive's bytes are asked for.
#[derive(Debug)]
enum Route<'a> {
    /// Only the selected entries, by range, with these globs.
    Partial(&'a PathGlobs),
    /// The whole archive; with `files`, why a partial fetch is not used (for the log).
    Whole(Option<&'static str>),
}

/// What a partial fetch attempt came to.
enum Tried {
    /// Boxed: an `Obtained` is several times the size of the other variant.
    Done(Box<Obtained>),
    /// Fetch the whole archive instead, for this reason; `first` is a whole body already
    /// received, to be read rather than asked for again.
    Whole {
        reason: String,
        first: Option<Reply>,
    },
}

/// A partial fetch when `files` is given, `partial-download` allows it, and nothing the verify
/// stage checks needs the whole archive's SHA-256; else the whole archive.
fn route<'a>(obtain: &'a ObtainConfig, verify: &VerifyConfig, a: &Artifact) -> Route<'a> {
    let Some(globs) = obtain
        .files
        .as_ref()
        .filter(|_| obtain.partial != Mode::Never)
    else {
        return Route::Whole(None);
    };
    if obtain.partial == Mode::Auto && a.size_in_bytes < partial::AUTO_MIN_ARCHIVE {
        return Route::Whole(None);
    }
    let pinned = verify
        .pins
        .digest
        .as_ref()
        .and_then(|p| p.for_artifact(&a.name));
    let why = if a.published_digest() == Published::None {
        "the artifact has no digest, so its size_in_bytes is not the archive's length"
    } else if verify.attestation.is_some() {
        "verify-attestation checks the whole archive's SHA-256"
    } else if pinned.is_some() {
        "expected-digest pins the whole archive's SHA-256"
    } else if !verify.pins.pins_files()
        && verify.digest_mismatch == crate::settings::Severity::Error
    {
        "only the whole archive's SHA-256 verifies it; pin the selected files with expected-files, or accept CRC-32 only with digest-mismatch: warn"
    } else {
        return Route::Partial(globs);
    };
    Route::Whole(Some(why))
}

/// The cache entry that would hold the artifact's archive: named by the pinned
/// `expected-digest`, else the API's digest. No digest, no lookup: only a digest says which
/// bytes are meant.
fn cache_key(verify: &VerifyConfig, a: &Artifact) -> Option<String> {
    let pinned = verify.pins.digest.as_ref();
    match (
        pinned.and_then(|p| p.for_artifact(&a.name)),
        a.published_digest(),
    ) {
        (Some(pin), _) => Some(pin.to_ascii_lowercase()),
        (None, Published::Sha256(hex)) => Some(hex.to_ascii_lowercase()),
        _ => None,
    }
}

impl Fetcher {
    /// The archive of `item`: from the cache when it holds it, else fetched.
    pub(super) async fn obtain(&self, item: &Item, lines: &mut Vec<String>) -> Result<Obtained> {
        let part = self.workdir.join(format!("{}.download", item.artifact.id));
        match self.take_from_cache(item, &part, lines).await? {
            Some(hit) => Ok(hit),
            None => self.fetch_bytes(item, &part, lines).await,
        }
    }

    /// The selected entries by range when a partial fetch is allowed and pays; else the whole
    /// archive, extracted while it lands, verified and kept in the cache.
    async fn fetch_bytes(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
    ) -> Result<Obtained> {
        let mut first = None;
        match route(&self.config.obtain, &self.config.verify, &item.artifact) {
            Route::Partial(globs) => match self.try_partial(item, part, globs, lines).await? {
                Tried::Done(obtained) => return Ok(*obtained),
                Tried::Whole { reason, first: f } => {
                    lines.push(format!(
                        "Partial fetch not used: {reason}; downloading the whole archive"
                    ));
                    first = f;
                }
            },
            Route::Whole(Some(why)) => lines.push(format!(
                "Partial fetch not used: {why}; downloading the whole archive"
            )),
            Route::Whole(None) => {}
        }
        let landing = Arc::new(self.landing_for(part));
        if let Some(first) = first {
            // A whole body already arriving: read it, without extracting while it lands.
            let obtained = self
                .download_verified(item, part, lines, &landing, Some(first))
                .await?;
            self.store_in_cache(&obtained, lines).await;
            return Ok(obtained);
        }
        let download = self.download_verified(item, part, lines, &landing, None);
        let job = self.stage_job(item, false);
        let landed = stage::while_landing(job, part, &landing, releasing(&landing, download)).await;
        let mut obtained = landed.written?;
        obtained.early = landed.early;
        obtained.early_failed = landed.failed;
        self.store_in_cache(&obtained, lines).await;
        Ok(obtained)
    }

    /// Where a whole archive's ranges land: in memory (spilling to `part` only past the budget)
    /// when nothing but the extraction reads it; else in `part`, which `skip-decompress` saves
    /// and `cache-dir` stores.
    fn landing_for(&self, part: &Path) -> Landing {
        if self.cache.is_none() && !self.config.stage.skip_decompress {
            Landing::spooled(part, Arc::clone(&self.spool))
        } else {
            Landing::new()
        }
    }

    /// The selected entries by range, extracted as their ranges land; or why the whole archive
    /// must be fetched after all.
    async fn try_partial(
        &self,
        item: &Item,
        part: &Path,
        globs: &PathGlobs,
        lines: &mut Vec<String>,
    ) -> Result<Tried> {
        let auto = self.config.obtain.partial == Mode::Auto;
        let started = Instant::now();
        let landing = Arc::new(Landing::new());
        let fetched = releasing(
            &landing,
            partial::fetch(&self.downloader, item, part, globs, auto, &landing),
        );
        let job = self.stage_job(item, true);
        let Landed { written, early, .. } =
            stage::while_landing(job, part, &landing, fetched).await;
        let stats = match written? {
            Partial::Done(stats) => stats,
            Partial::Whole { reason, first } => return Ok(Tried::Whole { reason, first }),
        };
        let took = started.elapsed();
        lines.push(format!(
            "Partial fetch: {} selected entries ({} compressed) of a {} archive, {} received in {} range requests ({:.2}s; central directory {})",
            stats.entries,
            human_bytes(stats.compressed),
            human_bytes(stats.total),
            human_bytes(stats.transferred),
            stats.requests,
            took.as_secs_f64(),
            human_bytes(stats.central)
        ));
        Ok(Tried::Done(Box::new(Obtained {
            archive: Download::known_zip(stats.transferred, String::new(), 1),
            part: part.to_path_buf(),
            checked: verify::partial(&self.config.verify, lines),
            from_cache: false,
            early,
            early_failed: None,
        })))
    }

    /// The archive in `part`, its SHA-256 checked against the API's `digest` and any pinned
    /// `expected-digest`. `first`: a whole body already arriving, read instead of asked for.
    async fn download_verified(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
        landing: &Arc<Landing>,
        first: Option<Reply>,
    ) -> Result<Obtained> {
        let started = Instant::now();
        let mut download = match first {
            Some(first) => self.downloader.download_from(item, part, first).await?,
            None => self.downloader.download(item, part, Some(landing)).await?,
        };
        let secs = started.elapsed();
        lines.push(format!(
            "Downloaded {} in {:.2}s ({}){}",
            human_bytes(download.bytes),
            secs.as_secs_f64(),
            rate(download.bytes, secs),
            if download.attempts > 1 {
                format!(" after {} attempts", download.attempts)
            } else {
                String::new()
            }
        ));
        lines.extend(download.notes.iter().cloned());
        let check = |sha256: &str, lines: &mut Vec<String>| {
            verify::archive(
                &self.config.verify,
                &self.log,
                &item.artifact,
                sha256,
                lines,
            )
        };
        let checked = match check(&download.sha256, lines) {
            // A resume or a retried range may have pieced the archive together wrongly: fetch it
            // once more from the start before blaming the server (or the producer).
            Err(e) if download.retried => {
                self.log.warning(&format!(
                    "{e:#}; the download was retried along the way, so fetching it once more from the start"
                ));
                landing.poison("downloaded again from the start");
                download = self.downloader.download(item, part, None).await?;
                lines.push(format!(
                    "Downloaded again from the start: {}",
                    human_bytes(download.bytes)
                ));
                check(&download.sha256, lines)?
            }
            other => other?,
        };
        Ok(Obtained {
            archive: download,
            part: part.to_path_buf(),
            checked,
            from_cache: false,
            early: None,
            early_failed: None,
        })
    }

    /// The archive from `cache-dir` when the artifact's digest names an entry there whose
    /// bytes, hashed again as they are taken, match it (see [`cache_key`]). `None`: download it.
    async fn take_from_cache(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
    ) -> Result<Option<Obtained>> {
        let Some(cache) = self.cache.clone() else {
            return Ok(None);
        };
        let a = &item.artifact;
        let Some(wanted) = cache_key(&self.config.verify, a) else {
            return Ok(None);
        };
        // A private copy, hashed as it is made, and extracted into staging as it lands: what is
        // extracted (or kept) is what was hashed; the tree is placed only for a hit.
        let landing = Arc::new(Landing::new());
        let copied = releasing(&landing, copy_from_cache(cache, &wanted, part, &landing));
        let job = self.stage_job(item, false);
        let Landed { written, early, .. } = stage::while_landing(job, part, &landing, copied).await;
        let bytes = match written? {
            Ok(Lookup::Hit { bytes }) => bytes,
            Ok(Lookup::Miss) => return Ok(None),
            Ok(Lookup::Corrupt { found }) => {
                self.log.warning(&format!(
                    "artifact '{}': the cache entry for sha256:{wanted} is corrupt ({found}); removed it, downloading instead",
                    a.name
                ));
                return Ok(None);
            }
            Err(e) => {
                self.log.warning(&format!(
                    "artifact '{}': cannot read the cache ({e:#}); downloading instead",
                    a.name
                ));
                return Ok(None);
            }
        };
        lines.push(format!(
            "From the cache: sha256:{wanted} ({}), hashed again; nothing downloaded",
            human_bytes(bytes)
        ));
        let checked = verify::archive(&self.config.verify, &self.log, a, &wanted, lines)?;
        Ok(Some(Obtained {
            // Only archives served as zips are stored.
            archive: Download::known_zip(bytes, wanted, 0),
            part: part.to_path_buf(),
            checked,
            from_cache: true,
            early,
            early_failed: None,
        }))
    }

    /// Keeps a verified zip in `cache-dir`: only when its SHA-256 matched the API's digest or a
    /// pin (see [`Checked::trusted`]). A failure to store is a warning: the fetch itself went
    /// well.
    async fn store_in_cache(&self, obtained: &Obtained, lines: &mut Vec<String>) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        if !obtained.checked.trusted() || !obtained.archive.is_zip {
            return;
        }
        let (key, from) = (obtained.archive.sha256.clone(), obtained.part.clone());
        let body = obtained.archive.body.clone();
        let stored = tokio::task::spawn_blocking(move || {
            if let Some(body) = body {
                // Held in memory: the cache stores from a file.
                write_body(&from, &body)?;
            }
            cache.store(&key, &from)
        })
        .await;
        match stored {
            Ok(Ok(true)) => lines.push("Stored in the cache".into()),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => self
                .log
                .warning(&format!("cannot store in the cache: {e:#}")),
            Err(e) => self.log.warning(&format!("cache task failed: {e}")),
        }
    }
}

/// Runs `writing`, which writes an archive into place and tells `landing` what landed; however it
/// ends (even dropped, on cancellation), an extraction waiting on the landing is released: with
/// every byte landed, or poisoned.
async fn releasing<T>(landing: &Landing, writing: impl Future<Output = Result<T>>) -> Result<T> {
    struct Release<'a>(&'a Landing);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            self.0.poison("the download stopped");
        }
    }
    let release = Release(landing);
    let written = writing.await;
    if written.is_ok() {
        // Every byte has landed (or the landing never began): nobody waits in vain.
        landing.close();
        std::mem::forget(release);
    }
    written
}

/// [`Cache::take`] on a blocking thread, telling `landing` of each range of `part` as it is
/// copied; anything but a hit poisons `landing`, so nothing extracted from it is kept.
async fn copy_from_cache(
    cache: Cache,
    sha256: &str,
    part: &Path,
    landing: &Arc<Landing>,
) -> Result<Result<Lookup>> {
    let (key, to, l) = (sha256.to_owned(), part.to_path_buf(), Arc::clone(landing));
    let found = tokio::task::spawn_blocking(move || {
        cache.take(&key, &to, &mut |copied| match copied {
            Copied::Began { total } => l.begin(total),
            Copied::Range { start, end } => l.landed(start, end),
        })
    })
    .await
    .map_err(|e| anyhow!("cache task failed: {e}"))?;
    if !matches!(found, Ok(Lookup::Hit { .. })) {
        landing.poison("the cache entry was not used");
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::testkit::{artifact, pins, sha256, verify_config};
    use crate::pin::Pins;
    use crate::settings::Severity;

    const BIG: u64 = partial::AUTO_MIN_ARCHIVE;

    fn obtain_config(partial: Mode) -> ObtainConfig {
        ObtainConfig {
            files: PathGlobs::parse("*.txt").unwrap(),
            partial,
        }
    }

    /// The route, as the reason it gives (`Partial` for a partial fetch).
    fn why(obtain: &ObtainConfig, verify: &VerifyConfig, a: &Artifact) -> Option<&'static str> {
        match route(obtain, verify, a) {
            Route::Partial(_) => Some("Partial"),
            Route::Whole(why) => why,
        }
    }

    #[test]
    fn a_partial_fetch_only_with_files_and_only_when_nothing_needs_the_whole_archive() {
        let digest = format!("sha256:{}", sha256(b"z"));
        let a = artifact("dist", Some(&digest), BIG);
        let warn = verify_config(Severity::Warn, Pins::default());
        assert_eq!(why(&obtain_config(Mode::Auto), &warn, &a), Some("Partial"));
        let no_files = ObtainConfig {
            files: None,
            partial: Mode::Always,
        };
        assert_eq!(why(&no_files, &warn, &a), None);
        assert_eq!(why(&obtain_config(Mode::Never), &warn, &a), None);
        let small = artifact("dist", Some(&digest), BIG - 1);
        assert_eq!(why(&obtain_config(Mode::Auto), &warn, &small), None);
        assert_eq!(
            why(&obtain_config(Mode::Always), &warn, &small),
            Some("Partial")
        );
    }

    #[test]
    fn whatever_checks_the_whole_archive_says_why_it_is_fetched_whole() {
        let digest = format!("sha256:{}", sha256(b"z"));
        let a = artifact("dist", Some(&digest), BIG);
        let always = obtain_config(Mode::Always);
        let warn = verify_config(Severity::Warn, Pins::default());
        let reason = why(&always, &warn, &artifact("dist", None, BIG)).unwrap();
        assert!(reason.starts_with("the artifact has no digest"), "{reason}");
        let pinned = verify_config(Severity::Warn, pins(Some(&sha256(b"z")), None));
        assert!(
            why(&always, &pinned, &a)
                .unwrap()
                .starts_with("expected-digest pins")
        );
        let strict = verify_config(Severity::Error, Pins::default());
        assert!(
            why(&always, &strict, &a)
                .unwrap()
                .starts_with("only the whole archive")
        );
        let files = format!("{}  a.txt", sha256(b"a"));
        let strict_but_pinned = verify_config(Severity::Error, pins(None, Some(&files)));
        assert_eq!(why(&always, &strict_but_pinned, &a), Some("Partial"));
    }

    #[test]
    fn the_cache_is_looked_up_by_the_pin_else_the_published_digest_else_not_at_all() {
        let (pin, published) = (sha256(b"pinned").to_uppercase(), sha256(b"published"));
        let a = artifact("dist", Some(&format!("sha256:{published}")), 1);
        let none = verify_config(Severity::Error, Pins::default());
        assert_eq!(cache_key(&none, &a), Some(published));
        let pinned = verify_config(Severity::Error, pins(Some(&pin), None));
        assert_eq!(cache_key(&pinned, &a), Some(pin.to_ascii_lowercase()));
        assert_eq!(cache_key(&none, &artifact("dist", None, 1)), None);
        assert_eq!(
            cache_key(&none, &artifact("dist", Some("md5:abc"), 1)),
            None
        );
    }

    #[tokio::test]
    async fn a_landing_released_by_a_failed_write_is_poisoned_and_a_done_one_closed() {
        let failed = Landing::new();
        let r: Result<()> = releasing(&failed, async { Err(anyhow!("cut")) }).await;
        assert!(r.is_err() && failed.is_poisoned());
        let done = Landing::new();
        releasing(&done, async { Ok(()) }).await.unwrap();
        assert!(!done.is_poisoned());
    }
}
