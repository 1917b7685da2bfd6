//! Plan -> verified archives on disk -> files at their destination.
//!
//! Artifacts are fetched concurrently (bounded by `concurrency`), each through four stages, one
//! file each, every boundary a named type:
//!
//! 1. [`obtain`](self::obtain) — `Item` → `Obtained`: the archive from `cache-dir`, by a partial
//!    fetch of the selected entries' ranges, or downloaded whole (`obtain/download/`), in a temp
//!    file under the work directory with its SHA-256, its digest and `expected-digest` pin
//!    checked (`verify::Checked`); while its bytes land, the tree it holds may already be
//!    extracted into staging.
//! 2. [`verify`](self::verify) — `Obtained` → `Verified`: the attestation
//!    (`verify-attestation`). `Verified` can only be made there, after all the archive's checks.
//! 3. [`stage`](self::stage) — a staging tree on the destination's file system (`Staged`), early
//!    (`stage::while_landing`, from obtain) or now (`stage::for_place` → `Ready`, from place),
//!    never in `path` itself.
//! 4. [`place`](self::place) — `Unpack` (holding the `Verified`) → `Placed`: the staged tree
//!    compared with the file pins, then moved into `path` (or the raw file saved); a failure
//!    leaves the destination as it was. With `merge-multiple`, [`merge`](self::merge) orders
//!    the artifacts placed into one directory.
//!
//! Here: the orchestration (one artifact's walk, [`Fetcher::fetch_all`]), the outcome the report
//! reads ([`Done`], [`Failure`]) and the kind an error is given. The stages take only their own
//! part of [`Config`], built from the settings in one place.

mod config;
mod merge;
mod obtain;
mod place;
mod stage;
#[cfg(test)]
mod testkit;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use futures_util::StreamExt;

use self::merge::{MergeOrder, MergeSlot, Turn};
use self::place::{Placed, Unpack};
use self::stage::StageJob;
use self::verify::{Proof, Verified};
use crate::failure::{FailureKind, Kinded, kind_of};
use crate::github::error::BudgetSpent;
use crate::github::{Refusal, refusal};
use crate::log::Log;
use crate::manifest::Manifest;
use crate::plan::{Item, Plan};
use crate::util::{human_bytes, rate};

pub(crate) use self::config::{Config, DownloadConfig};
pub(crate) use self::obtain::{CONNECTIONS, Cache, Downloader};

/// Everything a download task needs; shared by all of them.
pub(crate) struct Fetcher {
    pub config: Arc<Config>,
    pub downloader: Downloader,
    pub log: Log,
    /// Our private directory under `RUNNER_TEMP`; removed by the caller at the end.
    pub workdir: PathBuf,
    /// `cache-dir`: verified archives kept across jobs.
    pub cache: Option<Cache>,
    /// Archive bytes held in memory across all downloads streamed to extraction (see
    /// [`SPOOL_BUDGET`]).
    pub spool: Arc<crate::extract::Budget>,
}

/// Bytes of archives streamed to extraction that may wait in memory at once, across all
/// artifacts: ranges that came ahead of the hash, or ahead of the extraction; past it they wait
/// in the archive's temp file. With the connections' write buffers and the extraction's, peak RSS
/// stays under 64 MiB (issue 25; docs/PERFORMANCE.md).
pub(crate) const SPOOL_BUDGET: u64 = 16 << 20;

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
    let kind = match (refusal(&e), phase) {
        _ if e.chain().any(|c| c.is::<BudgetSpent>()) => FailureKind::Budget,
        (Some(Refusal::Denied), _) => FailureKind::Permission,
        (Some(Refusal::Gone), _) => FailureKind::Expired,
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
        (_, Phase::Download) if obtain::download::is_final(&e) => FailureKind::Refused,
        (_, Phase::Download) => FailureKind::Network,
    };
    Kinded::error(kind, format!("{e:#}"))
}

impl Fetcher {
    pub(crate) async fn fetch_all(self: &Arc<Self>, plan: &Plan) -> Vec<Fetched> {
        // Several artifacts into one directory: placed one at a time in plan order (name, then
        // id), so a file in more than one of them ends up the same on every run.
        let merge = (self.config.merge_multiple && plan.items.len() > 1)
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
                .buffer_unordered(self.config.concurrency)
                .collect()
                .await;
        // One warning for the step, not one per artifact (GitHub shows 10 annotations a step).
        if let Some(warning) = merge.as_ref().and_then(|m| m.warning()) {
            self.log.warning(&warning);
        }
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, f)| f).collect()
    }

    /// One artifact's walk: obtain → verify → stage → place. An archive that comes in ranges
    /// (or from the cache) is extracted into staging while it lands; the staged tree is placed
    /// only once it is [`verify::Verified`].
    async fn fetch_one(
        &self,
        item: &Item,
        lines: &mut Vec<String>,
        turn: Option<&Turn>,
    ) -> Result<Done> {
        let started = Instant::now();
        let obtained = self
            .obtain(item, lines)
            .await
            .map_err(|e| classify(e, Phase::Download))?;
        if obtained.from_cache {
            lines.extend(obtained.early.as_ref().map(|_| {
                "Extracted into staging while copied from the cache and hashed".to_string()
            }));
        } else {
            lines.extend(obtained.early.as_ref().and_then(|s| s.overlap_note()));
        }
        let downloaded_after = started.elapsed();
        // Provenance before placing: nothing of an unattested artifact reaches `path`.
        let verified = verify::attest(
            &self.config.verify,
            &self.downloader,
            &item.artifact,
            obtained,
            lines,
        )
        .await
        .map_err(|e| classify(e, Phase::Provenance))?;

        if let Some(turn) = turn {
            turn.wait().await;
        }
        let proof = verified.proof();
        let job = self.unpack_job(item, verified, turn);
        let placed = tokio::task::spawn_blocking(move || place::unpack(job))
            .await
            .map_err(|e| anyhow!("extraction task failed: {e}"))?
            .map_err(|e| classify(e, Phase::Unpack))?;
        let took = started.elapsed() - downloaded_after;
        self.report_placed(item, &proof, &placed, took, lines);
        Ok(Done {
            path: placed.path,
            files: placed.files,
            files_left: placed.left,
            downloaded: proof.bytes,
            extracted: placed.extracted,
            digest: proof.digest,
            digest_pinned: proof.digest_pinned,
            files_pinned: placed.files_pinned,
            manifest: placed.manifest,
            sha256: proof.sha256,
            from_cache: proof.from_cache,
            attestation: proof.attestation,
            elapsed: started.elapsed(),
        })
    }

    /// What the blocking unpack needs: the verified archive and where its files go.
    fn unpack_job(&self, item: &Item, verified: Verified, turn: Option<&Turn>) -> Unpack {
        let sparse = verified.digest() == DigestCheck::Partial;
        Unpack {
            config: Arc::clone(&self.config.place),
            stage: self.stage_job(item, sparse),
            verified,
            merge: turn.map(|t| MergeSlot {
                order: Arc::clone(&t.order),
                name: item.artifact.name.clone(),
            }),
        }
    }

    /// What staging needs to know of `item`, owned, for a blocking thread.
    fn stage_job(&self, item: &Item, sparse: bool) -> StageJob {
        StageJob {
            config: Arc::clone(&self.config.stage),
            dest: item.dest.clone(),
            name: item.artifact.name.clone(),
            id: item.artifact.id,
            workdir: self.workdir.clone(),
            sparse,
        }
    }

    /// The log lines and warnings of a placed artifact.
    fn report_placed(
        &self,
        item: &Item,
        proof: &Proof,
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
        if proof.is_zip && !self.config.place.skip_decompress {
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
}

/// Writes an archive held in memory to `path`, for what needs it as a file.
pub(super) fn write_body(path: &Path, body: &[u8]) -> Result<()> {
    std::fs::write(path, body).map_err(|e| obtain::download::local(e, "write", path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error as IoError, ErrorKind};

    fn kind(e: anyhow::Error, phase: Phase) -> Option<FailureKind> {
        kind_of(&classify(e, phase))
    }

    #[test]
    fn an_error_keeps_the_kind_it_was_raised_with() {
        let pinned = Kinded::error(FailureKind::PinMismatch, "pinned".to_string());
        assert_eq!(kind(pinned, Phase::Unpack), Some(FailureKind::PinMismatch));
    }

    #[test]
    fn a_spent_budget_is_the_budget_whatever_the_phase() {
        let spent = anyhow::Error::new(BudgetSpent { max: 10 });
        assert_eq!(kind(spent, Phase::Unpack), Some(FailureKind::Budget));
    }

    #[test]
    fn bad_archive_data_is_refused_and_other_io_errors_are_local() {
        let io = |k: ErrorKind| anyhow::Error::new(IoError::new(k, "x")).context("artifact 'a'");
        let local = kind(io(ErrorKind::PermissionDenied), Phase::Unpack);
        assert_eq!(local, Some(FailureKind::Local));
        let refused = kind(io(ErrorKind::InvalidData), Phase::Unpack);
        assert_eq!(refused, Some(FailureKind::Refused));
        let cut = kind(io(ErrorKind::UnexpectedEof), Phase::Unpack);
        assert_eq!(cut, Some(FailureKind::Refused));
    }

    #[test]
    fn the_phase_decides_what_nothing_else_does() {
        let plain = || anyhow!("something went wrong");
        assert_eq!(kind(plain(), Phase::Download), Some(FailureKind::Network));
        assert_eq!(
            kind(plain(), Phase::Provenance),
            Some(FailureKind::Provenance)
        );
        assert_eq!(kind(plain(), Phase::Unpack), Some(FailureKind::Refused));
        let bound = anyhow::Error::new(obtain::download::Final("over max-size".into()));
        assert_eq!(kind(bound, Phase::Download), Some(FailureKind::Refused));
    }

    #[test]
    fn the_message_is_the_whole_chain() {
        let e = classify(anyhow!("inner").context("outer"), Phase::Download);
        assert_eq!(format!("{e:#}"), "outer: inner");
    }
}
