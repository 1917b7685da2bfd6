//! Plan -> verified archives on disk -> files at their destination.
//!
//! Artifacts download concurrently (bounded by `concurrency`); [`crate::download`] brings each
//! to a temp file under the work directory with its SHA-256. Extraction goes to a staging
//! directory on the destination's file system (for an archive that comes in ranges, while its
//! segments land: see [`crate::extract::Landing`]); the staged tree is moved into place only when
//! complete and the archive's SHA-256 matched the artifact's `digest` (and any pins and
//! attestation), so a failure leaves the destination as it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;

use crate::cache::{Cache, Copied, Lookup};
use crate::download::{Download, Downloader};
use crate::extract::{
    self, FileHashes, Landing, Limits, Source, Staged, quoted_head, starts_like_zip,
};
use crate::failure::{FailureKind, Kinded, kind_of};
use crate::github::error::BudgetSpent;
use crate::github::http_status;
use crate::github::model::Published;
use crate::log::Log;
use crate::manifest::{Entry, Kind, Manifest};
use crate::partial::{self, Partial};
use crate::plan::{Item, Plan};
use crate::settings::{NotFound, Settings, Severity};
use crate::util::{human_bytes, rate};

/// Everything a download task needs; shared by all of them.
pub(crate) struct Fetcher {
    pub settings: Arc<Settings>,
    pub downloader: Downloader,
    pub log: Log,
    /// Our private directory under `RUNNER_TEMP`; removed by the caller at the end.
    pub workdir: PathBuf,
    /// `cache-dir`: verified archives kept across jobs.
    pub cache: Option<Cache>,
}

/// How the digest check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestCheck {
    Verified,
    Mismatch,
    /// No digest published (GHES, upload-artifact before v4).
    Missing,
    /// A partial fetch (`files`): only the selected entries were fetched, so the archive's
    /// SHA-256 is unknown; each entry's CRC-32 (and any `expected-files` pins) checked instead.
    Partial,
}

/// A fetched artifact.
#[derive(Debug, Clone)]
pub struct Done {
    /// Where it went: the directory extracted into, or the file written.
    pub path: PathBuf,
    pub files: u64,
    /// With `files`: the files (and symlinks) of the artifact not taken.
    pub files_left: Option<u64>,
    pub downloaded: u64,
    pub extracted: u64,
    pub digest: DigestCheck,
    /// The archive matched an `expected-digest` pin.
    pub digest_pinned: bool,
    /// Files that matched `expected-files-digest` / `expected-files`, if pinned.
    pub files_pinned: Option<usize>,
    /// What was extracted (or saved), as the producer's `artifetch manifest` describes it; only
    /// when asked for (`manifest: true` or a files pin): it costs a hash of every file.
    pub manifest: Option<Manifest>,
    /// SHA-256 of the bytes downloaded (hex).
    pub sha256: String,
    /// Taken from `cache-dir` (hashed again), not downloaded.
    pub from_cache: bool,
    /// With `verify-attestation`: what the accepted attestation proved.
    pub attestation: Option<crate::provenance::Proven>,
    pub elapsed: Duration,
}

/// A download whose SHA-256 passed the digest checks.
struct Verified {
    download: Download,
    digest: DigestCheck,
    /// The archive matched an `expected-digest` pin.
    digest_pinned: bool,
    from_cache: bool,
}

/// Everything the blocking unpack step needs, owned, so it can run on another thread.
struct Unpack {
    settings: Arc<Settings>,
    dest: PathBuf,
    name: String,
    id: u64,
    workdir: PathBuf,
    /// The verified download: in memory when it was small (`body`), else in this temp file.
    part: PathBuf,
    body: Option<Arc<[u8]>>,
    is_zip: bool,
    filename: Option<String>,
    bytes: u64,
    sha256: String,
    /// With `merge-multiple`: the order that records which artifact wrote which file.
    merge: Option<(Arc<MergeOrder>, String)>,
    /// A partial fetch: only the selected entries' bytes (and the central directory) are there.
    partial: bool,
}

/// What the unpack step hands back.
struct Placed {
    /// The directory extracted into, or the file written.
    path: PathBuf,
    files: u64,
    /// With `files`: what was not taken.
    left: Option<u64>,
    extracted: u64,
    warnings: Vec<String>,
    manifest: Option<Manifest>,
    /// Files that matched the producer's pins, if pinned.
    files_pinned: Option<usize>,
}

/// One artifact's outcome, in plan order.
#[derive(Debug)]
pub struct Fetched {
    pub item: Item,
    pub result: Result<Done, Failure>,
}

/// Why one artifact failed: the message the log shows, and its kind for the report.
#[derive(Debug, Clone)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The extracted files differ from the producer's pins.
fn pin_mismatch(e: anyhow::Error) -> anyhow::Error {
    Kinded::error(FailureKind::PinMismatch, format!("{e:#}"))
}

/// The phase of a fetch an error came from: it decides the kind when the error does not say.
#[derive(Debug, Clone, Copy)]
enum Phase {
    Download,
    Provenance,
    Unpack,
}

/// Gives an error its kind: the one it was raised with, else from its HTTP status or type, else
/// from the phase it came from.
fn classify(e: anyhow::Error, phase: Phase) -> anyhow::Error {
    if kind_of(&e).is_some() {
        return e;
    }
    let io = e.chain().find_map(|c| c.downcast_ref::<std::io::Error>());
    let kind = match (http_status(&e), phase) {
        _ if e.chain().any(|c| c.is::<BudgetSpent>()) => FailureKind::Budget,
        (Some(401 | 403), _) => FailureKind::Permission,
        (Some(410), _) => FailureKind::Expired,
        (_, Phase::Provenance) => FailureKind::Provenance,
        // Bad data read from the archive is the archive's fault; any other I/O error is local.
        _ if io.is_some_and(|io| {
            !matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof
            )
        }) =>
        {
            FailureKind::Local
        }
        (_, Phase::Unpack) => FailureKind::Refused,
        (_, Phase::Download) if crate::download::is_final(&e) => FailureKind::Refused,
        (_, Phase::Download) => FailureKind::Network,
    };
    Kinded::error(kind, format!("{e:#}"))
}

impl Fetcher {
    pub(crate) async fn fetch_all(self: &Arc<Self>, plan: &Plan) -> Vec<Fetched> {
        // Several artifacts into one directory: placed one at a time in plan order (name, then
        // id), so a file in more than one of them ends up the same on every run.
        let merge = (self.settings.fetch.merge_multiple && plan.items.len() > 1)
            .then(|| Arc::new(MergeOrder::new(plan.items.len())));
        let mut out: Vec<(usize, Fetched)> =
            futures_util::stream::iter(plan.items.iter().cloned().enumerate())
                .map(|(index, item)| {
                    let me = Arc::clone(self);
                    let merge = merge.clone();
                    async move {
                        let mut lines = Vec::new();
                        // Marks this artifact's turn done however fetch_one ends (even if dropped).
                        let turn = merge.as_ref().map(|m| m.turn(index));
                        let result = me
                            .fetch_one(&item, &mut lines, turn.as_ref())
                            .await
                            .map_err(|e| Failure {
                                kind: kind_of(&e).unwrap_or(FailureKind::Network),
                                message: format!("{e:#}"),
                            });
                        drop(turn);
                        let title = format!(
                            "Artifact '{}' (id {}, {})",
                            item.artifact.name,
                            item.artifact.id,
                            human_bytes(item.artifact.size_in_bytes)
                        );
                        if let Err(e) = &result {
                            lines.push(format!("failed: {e}"));
                        }
                        me.log.group_block(&title, &lines);
                        (index, Fetched { item, result })
                    }
                })
                .buffer_unordered(self.settings.fetch.concurrency)
                .collect()
                .await;
        // One warning for the step, not one per artifact (GitHub shows 10 annotations a step).
        if let Some(warning) = merge.as_ref().and_then(|m| m.warning()) {
            self.log.warning(&warning);
        }
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, f)| f).collect()
    }

    /// One artifact: download → verify → provenance → unpack (extract or save, then place). An
    /// archive that comes in ranges is extracted into staging while it lands; the staged tree is
    /// placed only once the whole archive's digest (and provenance) passed.
    /// What the blocking unpack needs: the verified archive and where its files go.
    fn unpack_job(
        &self,
        item: &Item,
        part: PathBuf,
        verified: &Verified,
        turn: Option<&Turn>,
    ) -> Unpack {
        let a = &item.artifact;
        Unpack {
            settings: Arc::clone(&self.settings),
            dest: item.dest.clone(),
            name: a.name.clone(),
            id: a.id,
            workdir: self.workdir.clone(),
            part,
            body: verified.download.body.clone(),
            is_zip: verified.download.is_zip,
            filename: verified.download.filename.clone(),
            bytes: verified.download.bytes,
            sha256: verified.download.sha256.clone(),
            merge: turn.map(|t| (Arc::clone(&t.order), a.name.clone())),
            partial: verified.digest == DigestCheck::Partial,
        }
    }

    async fn fetch_one(
        &self,
        item: &Item,
        lines: &mut Vec<String>,
        turn: Option<&Turn>,
    ) -> Result<Done> {
        let started = Instant::now();
        let a = &item.artifact;
        let part = self.workdir.join(format!("{}.download", a.id));
        let (verified, early) = match self
            .take_from_cache(item, &part, lines)
            .await
            .map_err(|e| classify(e, Phase::Download))?
        {
            Some(hit) => hit,
            None => self
                .fetch_bytes(item, &part, lines)
                .await
                .map_err(|e| classify(e, Phase::Download))?,
        };
        let staged_early = early.as_ref().and_then(|e| e.as_ref().ok());
        if verified.from_cache {
            lines.extend(staged_early.map(|_| {
                "Extracted into staging while copied from the cache and hashed".to_string()
            }));
        } else {
            lines.extend(staged_early.and_then(Staged::overlap_note));
        }
        let downloaded_after = started.elapsed();
        // Provenance before placing: nothing of an unattested artifact reaches `path`.
        let attestation = self
            .check_provenance(item, &verified.download.sha256, &part, lines)
            .await
            .map_err(|e| classify(e, Phase::Provenance))?;

        if let Some(turn) = turn {
            turn.wait().await;
        }
        let job = self.unpack_job(item, part, &verified, turn);
        let placed = tokio::task::spawn_blocking(move || unpack(job, early))
            .await
            .map_err(|e| anyhow!("extraction task failed: {e}"))?
            .map_err(|e| classify(e, Phase::Unpack))?;
        self.report_placed(
            item,
            &verified,
            &placed,
            started.elapsed() - downloaded_after,
            lines,
        );
        Ok(Done {
            path: placed.path,
            files: placed.files,
            files_left: placed.left,
            downloaded: verified.download.bytes,
            extracted: placed.extracted,
            digest: verified.digest,
            digest_pinned: verified.digest_pinned,
            files_pinned: placed.files_pinned,
            manifest: placed.manifest,
            sha256: verified.download.sha256,
            from_cache: verified.from_cache,
            attestation,
            elapsed: started.elapsed(),
        })
    }

    /// The log lines and warnings of a placed artifact.
    fn report_placed(
        &self,
        item: &Item,
        verified: &Verified,
        placed: &Placed,
        took: Duration,
        lines: &mut Vec<String>,
    ) {
        if let Some(n) = placed.files_pinned {
            lines.push(format!("{n} files match the producer's manifest ✅"));
        }
        for w in &placed.warnings {
            self.log
                .warning(&format!("artifact '{}': {w}", item.artifact.name));
        }
        if let Some(left) = placed.left {
            lines.push(format!(
                "files: took {} and left {left} of the artifact's files",
                placed.files
            ));
        }
        if verified.download.is_zip && !self.settings.fetch.skip_decompress {
            lines.push(format!(
                "Extracted {} files ({}) in {:.2}s ({}) to {}",
                placed.files,
                human_bytes(placed.extracted),
                took.as_secs_f64(),
                rate(placed.extracted, took),
                placed.path.display()
            ));
        } else {
            lines.push(format!("Saved {}", placed.path.display()));
        }
    }

    /// The selected entries by range when a partial fetch is allowed and pays; else the whole
    /// archive, extracted while it lands, verified and kept in the cache.
    async fn fetch_bytes(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
    ) -> Result<(Verified, Option<Result<Staged>>)> {
        let mut first = None;
        match self.why_not_partial(item) {
            Ok(globs) => {
                let auto = self.settings.fetch.partial == crate::settings::Partial::Auto;
                let started = Instant::now();
                // The selected entries are extracted as their ranges land.
                let landing = Arc::new(Landing::new());
                let fetched = releasing(
                    &landing,
                    partial::fetch(&self.downloader, item, part, globs, auto, &landing),
                );
                let (fetched, early) =
                    tokio::join!(fetched, self.stage_early(item, part, &landing, true));
                let early = settle_early(early, &landing).await;
                match fetched? {
                    Partial::Done(stats) => {
                        let verified = self.partial_verified(stats, started.elapsed(), lines);
                        return Ok((verified, early));
                    }
                    Partial::Whole { reason, first: f } => {
                        lines.push(format!(
                            "Partial fetch not used: {reason}; downloading the whole archive"
                        ));
                        first = f;
                    }
                }
            }
            Err(Some(why)) => lines.push(format!(
                "Partial fetch not used: {why}; downloading the whole archive"
            )),
            Err(None) => {}
        }
        let landing = Arc::new(Landing::new());
        if let Some(first) = first {
            // A whole body already arriving: read it, without extracting while it lands.
            let verified = self
                .download_verified(item, part, lines, &landing, Some(first))
                .await?;
            self.store_in_cache(&verified, part, lines).await;
            return Ok((verified, None));
        }
        let (verified, early) = tokio::join!(
            self.download_landing(item, part, lines, &landing),
            self.stage_early(item, part, &landing, false),
        );
        let early = settle_early(early, &landing).await;
        let verified = verified?;
        self.store_in_cache(&verified, part, lines).await;
        Ok((verified, early))
    }

    /// `Ok`: a partial fetch may be tried, with these globs. `Err(Some(why))`: `files` is given
    /// but the archive must be fetched whole, for this reason; `Err(None)`: nothing to say.
    fn why_not_partial(&self, item: &Item) -> Result<&crate::pattern::PathGlobs, Option<String>> {
        use crate::settings::Partial as Mode;
        let s = &self.settings;
        let a = &item.artifact;
        let Some(globs) = s
            .fetch
            .files
            .as_ref()
            .filter(|_| s.fetch.partial != Mode::Never)
        else {
            return Err(None);
        };
        if s.fetch.partial == Mode::Auto && a.size_in_bytes < partial::AUTO_MIN_ARCHIVE {
            return Err(None);
        }
        let pinned = s
            .fetch
            .pins
            .digest
            .as_ref()
            .and_then(|p| p.for_artifact(&a.name));
        let why = if a.published_digest() == Published::None {
            "the artifact has no digest, so its size_in_bytes is not the archive's length"
        } else if s.fetch.attestation.is_some() {
            "verify-attestation checks the whole archive's SHA-256"
        } else if pinned.is_some() {
            "expected-digest pins the whole archive's SHA-256"
        } else if !s.fetch.pins.pins_files() && s.fetch.digest_mismatch == Severity::Error {
            "only the whole archive's SHA-256 verifies it; pin the selected files with expected-files, or accept CRC-32 only with digest-mismatch: warn"
        } else {
            return Ok(globs);
        };
        Err(Some(why.to_owned()))
    }

    /// A partial fetch's outcome as a [`Verified`]: no archive SHA-256 (it was never whole);
    /// each entry's CRC-32 is checked as it is extracted, and its SHA-256 with `expected-files`.
    fn partial_verified(
        &self,
        stats: partial::Stats,
        took: Duration,
        lines: &mut Vec<String>,
    ) -> Verified {
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
        if !self.settings.fetch.pins.pins_files() {
            lines.push("CRC-32 only, archive digest not verified".into());
        }
        Verified {
            download: Download::known_zip(stats.transferred, String::new(), 1),
            digest: DigestCheck::Partial,
            digest_pinned: false,
            from_cache: false,
        }
    }

    /// [`Self::download_verified`], telling `landing` of the ranges as they land.
    async fn download_landing(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
        landing: &Arc<Landing>,
    ) -> Result<Verified> {
        let download = self.download_verified(item, part, lines, landing, None);
        releasing(landing, download).await
    }

    /// Once the download turns out to come in ranges: the extraction into staging, started on a
    /// blocking thread, reading the archive as it lands. `None` when there is nothing to overlap
    /// (a small archive, one stream, `skip-decompress`).
    async fn stage_early(
        &self,
        item: &Item,
        part: &Path,
        landing: &Arc<Landing>,
        sparse: bool,
    ) -> Option<tokio::task::JoinHandle<Result<Staged>>> {
        if self.settings.fetch.skip_decompress {
            return None;
        }
        let total = landing.began().await?;
        let source = Source::landing(part, total, Arc::clone(landing));
        let job = self.stage_job(item, sparse);
        Some(tokio::task::spawn_blocking(move || {
            stage_checked(&job, &source)
        }))
    }

    /// What staging needs to know of `item`, owned, for a blocking thread.
    fn stage_job(&self, item: &Item, sparse: bool) -> StageJob {
        StageJob {
            settings: Arc::clone(&self.settings),
            dest: item.dest.clone(),
            name: item.artifact.name.clone(),
            id: item.artifact.id,
            workdir: self.workdir.clone(),
            sparse,
        }
    }

    /// The archive in `part`, its SHA-256 checked against the API's `digest` and any pinned
    /// `expected-digest`. `first`: a whole body already arriving, read instead of asked for.
    async fn download_verified(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
        landing: &Arc<Landing>,
        first: Option<crate::github::served::Reply>,
    ) -> Result<Verified> {
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
        let verify = |sha256: &str, lines: &mut Vec<String>| -> Result<(DigestCheck, bool)> {
            let digest = self.check_digest(item, sha256, lines)?;
            Ok((digest, self.check_pinned_digest(item, sha256, lines)?))
        };
        let (digest, digest_pinned) = match verify(&download.sha256, lines) {
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
                verify(&download.sha256, lines)?
            }
            other => other?,
        };
        Ok(Verified {
            download,
            digest,
            digest_pinned,
            from_cache: false,
        })
    }

    /// The archive from `cache-dir` when the artifact's digest (the pinned `expected-digest`,
    /// else the API's) names an entry there whose bytes, hashed again as they are taken, match
    /// it. `None`: download it. No digest, no lookup: only a digest says which bytes are meant.
    async fn take_from_cache(
        &self,
        item: &Item,
        part: &Path,
        lines: &mut Vec<String>,
    ) -> Result<Option<(Verified, Option<Result<Staged>>)>> {
        let Some(cache) = self.cache.clone() else {
            return Ok(None);
        };
        let a = &item.artifact;
        let pinned = self.settings.fetch.pins.digest.as_ref();
        let wanted = match (
            pinned.and_then(|p| p.for_artifact(&a.name)),
            a.published_digest(),
        ) {
            (Some(pin), _) => pin.to_ascii_lowercase(),
            (None, Published::Sha256(hex)) => hex.to_ascii_lowercase(),
            _ => return Ok(None),
        };
        // A private copy, hashed as it is made, and extracted into staging as it lands: what is
        // extracted (or kept) is what was hashed; the tree is placed only for a hit.
        let landing = Arc::new(Landing::new());
        let (found, early) = tokio::join!(
            releasing(&landing, copy_from_cache(cache, &wanted, part, &landing)),
            self.stage_early(item, part, &landing, false),
        );
        let early = settle_early(early, &landing).await;
        let bytes = match found? {
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
        let digest = self.check_digest(item, &wanted, lines)?;
        let digest_pinned = self.check_pinned_digest(item, &wanted, lines)?;
        let verified = Verified {
            // Only archives served as zips are stored.
            download: Download::known_zip(bytes, wanted, 0),
            digest,
            digest_pinned,
            from_cache: true,
        };
        Ok(Some((verified, early)))
    }

    /// Keeps a verified zip in `cache-dir`: only when its SHA-256 matched the API's digest or a
    /// pin (a mismatch accepted with `digest-mismatch: warn` is not "verified"). A failure to
    /// store is a warning: the fetch itself went well.
    async fn store_in_cache(&self, verified: &Verified, part: &Path, lines: &mut Vec<String>) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        let trusted = verified.digest == DigestCheck::Verified || verified.digest_pinned;
        if !trusted || !verified.download.is_zip {
            return;
        }
        let (key, from) = (verified.download.sha256.clone(), part.to_path_buf());
        let body = verified.download.body.clone();
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

    /// With `verify-attestation`: what the accepted attestation proved; a refused one removes
    /// the download, so nothing of it is extracted.
    async fn check_provenance(
        &self,
        item: &Item,
        sha256: &str,
        part: &Path,
        lines: &mut Vec<String>,
    ) -> Result<Option<crate::provenance::Proven>> {
        let Some(wanted) = &self.settings.fetch.attestation else {
            return Ok(None);
        };
        crate::provenance::check(
            &self.downloader.github,
            &self.downloader.blob,
            &self.settings,
            wanted,
            &item.artifact,
            sha256,
            lines,
        )
        .await
        .map(Some)
        .inspect_err(|_| {
            let _ = std::fs::remove_file(part);
        })
    }

    /// `expected-digest`: the producer's own digest of the archive, compared with the bytes
    /// downloaded whatever the API says and whatever `digest-mismatch` is. Returns whether one
    /// was pinned.
    fn check_pinned_digest(
        &self,
        item: &Item,
        actual: &str,
        lines: &mut Vec<String>,
    ) -> Result<bool> {
        let name = &item.artifact.name;
        let Some(pinned) = self
            .settings
            .fetch
            .pins
            .digest
            .as_ref()
            .and_then(|p| p.for_artifact(name))
        else {
            return Ok(false);
        };
        if !pinned.eq_ignore_ascii_case(actual) {
            return Err(Kinded::error(
                FailureKind::PinMismatch,
                format!(
                    "artifact '{name}' is not the one the producer made: expected-digest pins {}, the bytes downloaded hash to {}; nothing of it was placed",
                    crate::pin::short(pinned),
                    crate::pin::short(actual)
                ),
            ));
        }
        lines.push(format!(
            "Digest pinned: matches expected-digest sha256:{actual} ✅"
        ));
        Ok(true)
    }

    fn check_digest(
        &self,
        item: &Item,
        actual: &str,
        lines: &mut Vec<String>,
    ) -> Result<DigestCheck> {
        let a = &item.artifact;
        let expected = a.digest.as_deref().unwrap_or("").trim();
        let msg = match a.published_digest() {
            Published::None => {
                lines.push("No digest published for this artifact (GHES or upload-artifact < v4); integrity not checked".into());
                return Ok(DigestCheck::Missing);
            }
            Published::Sha256(hex) if hex.eq_ignore_ascii_case(actual) => {
                lines.push(format!("Digest verified: sha256:{actual}"));
                return Ok(DigestCheck::Verified);
            }
            Published::Sha256(_) => format!(
                "artifact '{}': digest mismatch: expected {expected}, downloaded sha256:{actual}: the bytes served are not the ones that were uploaded (damaged in storage or in transit, or replaced)",
                a.name
            ),
            Published::Other(algorithm) => format!(
                "artifact '{}': the digest uses algorithm '{algorithm}', which artifetch cannot check (it checks sha256); integrity not verified",
                a.name
            ),
        };
        match self.settings.fetch.digest_mismatch {
            Severity::Error => {
                return Err(Kinded::error(
                    FailureKind::DigestMismatch,
                    format!("{msg}; digest-mismatch: warn accepts it anyway"),
                ));
            }
            Severity::Warn => self.log.warning(&msg),
            Severity::Info => lines.push(msg),
            Severity::Ignore => {}
        }
        Ok(DigestCheck::Mismatch)
    }
}

/// The order in which artifacts merged into one directory are placed, and which artifact placed
/// each file so far.
struct MergeOrder {
    /// Index of the first artifact whose turn is not over; `done` marks those over out of order.
    next: tokio::sync::watch::Sender<usize>,
    done: std::sync::Mutex<Vec<bool>>,
    owners: std::sync::Mutex<std::collections::HashMap<String, String>>,
    /// Files placed over an earlier artifact's: (artifact, file, the earlier artifact).
    clashes: std::sync::Mutex<Vec<Clash>>,
}

/// A file one artifact placed over an earlier artifact's, under `merge-multiple`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Clash {
    by: String,
    file: String,
    over: String,
}

/// One artifact's place in a [`MergeOrder`]; dropping it ends the turn.
struct Turn {
    order: Arc<MergeOrder>,
    index: usize,
}

/// Collisions listed in one warning, at most.
const COLLISIONS_SHOWN: usize = 20;

impl MergeOrder {
    fn new(len: usize) -> Self {
        Self {
            next: tokio::sync::watch::Sender::new(0),
            done: std::sync::Mutex::new(vec![false; len]),
            owners: std::sync::Mutex::new(std::collections::HashMap::new()),
            clashes: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn turn(self: &Arc<Self>, index: usize) -> Turn {
        Turn {
            order: Arc::clone(self),
            index,
        }
    }

    /// Records the files `name` placed (relative paths), and those an earlier artifact placed too.
    fn record(&self, name: &str, files: Vec<String>) {
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        let mut clashes = self.clashes.lock().unwrap_or_else(|e| e.into_inner());
        for file in files {
            if let Some(over) = owners.insert(file.clone(), name.to_owned()) {
                clashes.push(Clash {
                    by: name.to_owned(),
                    file,
                    over,
                });
            }
        }
    }

    /// The step's one warning about files in several artifacts: how many, what each artifact
    /// replaced, and the first few files; `None` when no file was in two.
    fn warning(&self) -> Option<String> {
        // In placing order (turns are taken one at a time), so a file's first clash names the
        // artifact that placed it first.
        let placed = self
            .clashes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if placed.is_empty() {
            return None;
        }
        let mut clashes = placed.clone();
        clashes.sort();
        let mut files: Vec<&str> = clashes.iter().map(|c| c.file.as_str()).collect();
        files.sort_unstable();
        files.dedup();
        let mut per_artifact: Vec<(&str, usize)> = Vec::new();
        for c in &clashes {
            match per_artifact.last_mut() {
                Some((by, n)) if *by == c.by => *n += 1,
                _ => per_artifact.push((&c.by, 1)),
            }
        }
        let counts: Vec<String> = per_artifact
            .iter()
            .map(|(by, n)| format!("'{by}' replaced {n}"))
            .collect();
        let mut first_owner: std::collections::BTreeMap<&str, &str> = Default::default();
        for c in &placed {
            first_owner.entry(&c.file).or_insert(&c.over);
        }
        let examples: Vec<String> = first_owner
            .iter()
            .take(COLLISIONS_SHOWN)
            .map(|(file, over)| format!("{file} (from '{over}')"))
            .collect();
        let more = match files.len() {
            n if n > COLLISIONS_SHOWN => format!(" and {} more", n - COLLISIONS_SHOWN),
            _ => String::new(),
        };
        Some(format!(
            "merge-multiple: {} file(s) in more than one artifact, {} replaced (artifacts are placed in name order, then id; the last wins): {}; {}{more}",
            files.len(),
            clashes.len(),
            counts.join(", "),
            examples.join(", ")
        ))
    }
}

impl Turn {
    /// Waits until every artifact before this one has been placed (or has failed).
    async fn wait(&self) {
        let mut rx = self.order.next.subscribe();
        let _ = rx.wait_for(|&next| next >= self.index).await;
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut done = self.order.done.lock().unwrap_or_else(|e| e.into_inner());
        done[self.index] = true;
        let next = done.iter().position(|d| !d).unwrap_or(done.len());
        self.order.next.send_replace(next);
    }
}

/// What staging needs to know of an artifact, owned, for a blocking thread.
struct StageJob {
    settings: Arc<Settings>,
    dest: PathBuf,
    name: String,
    id: u64,
    workdir: PathBuf,
    /// The archive is a partial fetch's sparse file.
    sparse: bool,
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

/// The early extraction's outcome, once the download is over: kept only if it read nothing that
/// could have changed since (no restart, no second download). Waits for its thread, so nothing
/// is left writing into staging.
async fn settle_early(
    early: Option<tokio::task::JoinHandle<Result<Staged>>>,
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
    extract::check_destination(&job.settings.fetch.path, &job.dest)
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
    let s = &job.settings;
    let limits = Limits {
        max_total_bytes: s.fetch.max_size,
        max_files: s.fetch.max_files,
        max_ratio: s.fetch.max_ratio,
        allow_git_paths: s.fetch.allow_git_paths,
    };
    let select = s.fetch.files.as_ref().map(|globs| extract::Select {
        globs,
        sparse: job.sparse,
    });
    let hashes = if s.fetch.manifest {
        FileHashes::Taken
    } else {
        FileHashes::Skipped
    };
    staged.extracted = extract::extract_from(source, staged.tree(), &limits, select, hashes)
        .with_context(|| format!("artifact '{}'", job.name))?;
    Ok(staged)
}

/// Writes an archive held in memory to `path`, for what needs it as a file.
fn write_body(path: &Path, body: &[u8]) -> Result<()> {
    std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))
}

/// Writes a verified download into its destination: the destination is checked right before
/// (see [`check_and_tidy`]); then the tree extracted while downloading is placed, or the archive
/// is extracted now (or the raw file saved) and placed.
fn unpack(job: Unpack, early: Option<Result<Staged>>) -> Result<Placed> {
    let name = &job.name;
    let stale = check_and_tidy(&job.stage_job())?;
    if job.is_zip && job.bytes == 0 {
        bail!(
            "artifact '{name}': the download is empty (0 bytes); a zip archive is at least 22 bytes"
        );
    }
    // A partial fetch's first bytes are a hole unless the first entry was selected.
    if job.is_zip && !job.partial && !job.settings.fetch.skip_decompress {
        let head: std::borrow::Cow<[u8]> = match &job.body {
            Some(body) => (&body[..]).into(),
            None => extract::head(&job.part).into(),
        };
        if !starts_like_zip(&head) {
            bail!(
                "artifact '{name}': served as a zip archive but the body is not one ({}, starting with {})",
                human_bytes(job.bytes),
                quoted_head(&head)
            );
        }
    }
    let mut placed = if job.settings.fetch.skip_decompress || !job.is_zip {
        if let Some(body) = &job.body {
            // Saved as a file: it has to be one first.
            write_body(&job.part, body)?;
        }
        save_file(job)?
    } else {
        extract_and_place(job, early)?
    };
    placed.warnings.splice(0..0, stale);
    Ok(placed)
}

impl Unpack {
    fn stage_job(&self) -> StageJob {
        StageJob {
            settings: Arc::clone(&self.settings),
            dest: self.dest.clone(),
            name: self.name.clone(),
            id: self.id,
            workdir: self.workdir.clone(),
            sparse: self.partial,
        }
    }
}

/// An unzipped artifact, or a zip kept with `skip-decompress`: one file, whose SHA-256 is the
/// download's, so nothing is read again.
fn save_file(job: Unpack) -> Result<Placed> {
    let name = &job.name;
    let file_name = if job.is_zip {
        format!("{name}.zip")
    } else {
        job.filename.clone().unwrap_or_else(|| name.clone())
    };
    let fetch = &job.settings.fetch;
    if !fetch.allow_git_paths && extract::is_git_name(&file_name) {
        bail!(
            "artifact '{name}': refusing to save it as {file_name:?}, a name git treats as its metadata (.git); set allow-git-paths: true to allow it"
        );
    }
    // `files` over a raw artifact: its one file, by the name it is saved under.
    if let Some(select) = &fetch.files
        && !select.takes(&file_name)
    {
        let missed = select.unmatched(std::iter::once(file_name.as_str()));
        let warnings = files_missed(&job.settings, name, &missed, 1)?
            .into_iter()
            .collect();
        let _ = std::fs::remove_file(&job.part);
        return Ok(Placed {
            path: job.dest.clone(),
            files: 0,
            left: Some(1),
            extracted: 0,
            warnings,
            manifest: fetch.manifest.then(|| Manifest::new(Vec::new())),
            files_pinned: fetch
                .pins
                .check_files(name, &Manifest::new(Vec::new()))
                .map_err(pin_mismatch)?,
        });
    }
    let left = job.settings.fetch.files.as_ref().map(|_| 0);
    let target = job.dest.join(&file_name);
    let size = std::fs::metadata(&job.part).map(|m| m.len()).unwrap_or(0);
    let manifest = Manifest::new(vec![Entry {
        path: file_name.clone().into_bytes(),
        kind: Kind::File {
            size,
            sha256: job.sha256.clone(),
            executable: false,
        },
    }]);
    let files_pinned = job
        .settings
        .fetch
        .pins
        .check_files(name, &manifest)
        .map_err(pin_mismatch)?;
    let manifest = job.settings.fetch.manifest.then_some(manifest);
    extract::place_file(&job.part, &target)?;
    if let Some((order, name)) = job.merge {
        order.record(&name, vec![file_name]);
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

/// The tree staged while downloading, or (when there is none, or it failed: the archive is
/// extracted again, so errors read as they always have) one extracted now from the verified
/// archive; compared with the producer's pins in staging, then moved into place. A failure
/// leaves the destination as it was.
fn extract_and_place(job: Unpack, early: Option<Result<Staged>>) -> Result<Placed> {
    let staged = match early {
        Some(Ok(staged)) => Ok(staged),
        // Removed before staging again under the same name.
        other => {
            drop(other);
            let source = match &job.body {
                Some(body) => Ok(Source::memory(&job.part, Arc::clone(body))),
                None => Source::file(&job.part)
                    .with_context(|| format!("cannot open {}", job.part.display())),
            };
            source.and_then(|source| stage(&job.stage_job(), &source))
        }
    };
    let placed = staged.and_then(|staged| place_staged(&job, staged));
    let _ = std::fs::remove_file(&job.part);
    placed
}

/// Describes the staged tree (and compares it with the producer's pins) before the move: the
/// destination only ever gets files that passed.
fn place_staged(job: &Unpack, mut staged: Staged) -> Result<Placed> {
    let (name, dest, settings) = (&job.name, &job.dest, &job.settings);
    let all = staged.extracted.files + staged.extracted.left;
    let missed = files_missed(settings, name, &staged.extracted.unmatched, all)?;
    staged.extracted.warnings.extend(missed);
    let tree = staged.tree();
    // Without a manifest to give or pins to compare, the tree is not walked at all.
    let manifest = settings
        .fetch
        .manifest
        .then(|| Manifest::of_written(tree, &staged.extracted.written))
        .transpose()
        .with_context(|| format!("artifact '{name}': cannot list the extracted files"))?;
    let files_pinned = match &manifest {
        Some(m) => settings
            .fetch
            .pins
            .check_files(name, m)
            .map_err(pin_mismatch)?,
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
    if let Some((order, name)) = &job.merge {
        order.record(name, files);
    }
    Ok(Placed {
        path: dest.clone(),
        files: x.files,
        left: settings.fetch.files.as_ref().map(|_| x.left),
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
    settings: &Settings,
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
    match settings.fetch.if_no_artifact_found {
        NotFound::Fail => bail!(
            "artifact '{name}': {msg}; nothing of it was extracted (if-no-artifact-found: warn or ignore takes what the other globs match)"
        ),
        NotFound::Warn => Ok(Some(msg)),
        NotFound::Ignore => Ok(None),
    }
}
