//! One artifact's bytes -> a temp file and its SHA-256, surviving a flaky network.
//!
//! The first request for a signed URL asks for the first [`SEGMENT`] only. A server that honours
//! `Range` answers 206 with the archive's size: a larger archive then comes over up to
//! [`CONNECTIONS`] connections at once, one range each, written in place and hashed in order as
//! the completed prefix grows (blob storage caps each connection; several together go as fast as
//! the link). A server that ignores `Range` answers 200 and the body is streamed whole. Either
//! way a body cut short, a 5xx or a stall is retried with backoff, resuming where it stopped,
//! with a fresh signed URL from the API (they live about a minute). Nothing is held in memory
//! beyond a write buffer per connection, except a whole archive of at most [`IN_MEMORY_MAX`],
//! which never becomes a temp file.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use futures_util::{StreamExt, TryStreamExt};
// SHA-256 as `digest` is defined ("sha256:" + hex of the bytes served); sha2 picks SHA-NI
// where the CPU has it.
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;

use crate::extract::{self, ArchiveKind, Landing, archive_kind, is_safe_component};
use crate::failure::{FailureKind, Kinded};
use crate::github::body::{BodyError, Transport};
use crate::github::model::{Artifact, Published};
use crate::github::served::{Reply, Served};
use crate::github::{Blob, GitHub};
use crate::github::{Target, Url, http_status, without_query};
use crate::log::Log;
use crate::plan::Item;
use crate::settings::Settings;
use crate::util::hex;
use crate::util::{human_bytes, rate};

/// Bytes gathered before one write (and hash): large enough to amortise the syscall and the hop
/// to a blocking section, small enough to keep memory flat with many connections in flight.
const WRITE_BUFFER: usize = 1 << 20;
/// An archive of at most this size (by `size_in_bytes`) is kept in memory, never written to a
/// temp file: on `many` (300 artifacts of 10 KiB) each temp file was one more inode to allocate
/// and free, the largest cost there (docs/PERFORMANCE.md). A body that grows past it is spilled
/// to the temp file, so memory stays bounded whatever the server sends.
const IN_MEMORY_MAX: usize = 1 << 20;
/// Writes up to this size are done on the async worker itself (see [`Sink::flush`]).
const INLINE_WRITE: usize = 64 << 10;
/// One range request. Large enough that request overhead vanishes, small enough that the hashed
/// prefix keeps up with the connections and a retry repeats little.
pub(crate) const SEGMENT: u64 = 8 << 20;
/// Connections one archive may use at once (the fetcher's slots bound the total).
pub(crate) const CONNECTIONS: usize = 8;
/// Room above `size_in_bytes` for an artifact without a digest. Those are v3 uploads (GHES,
/// upload-artifact < v4): their size is the raw total of the files and the server builds the zip,
/// adding about 100 bytes plus twice the name per entry (16 MiB covers 65,535 entries with long
/// names) and, on incompressible data, deflate's few bytes per block (an eighth covers it). With
/// a digest (v4), `size_in_bytes` is the exact length of the bytes served: no margin.
pub(crate) const V3_MARGIN: u64 = 16 << 20;
/// Blob bytes that must arrive in every window of twice the stall timeout (scaled with it), so a
/// body trickled a byte at a time to dodge the stall timer is cut and retried: 32 KiB a minute
/// by default.
pub(crate) const MIN_BYTES_PER_WINDOW: u64 = 32 << 10;

/// The most bytes a download may hold, and the bound it comes from (for the message).
#[derive(Debug, Clone)]
pub(crate) struct Limit {
    pub bytes: u64,
    pub why: String,
    /// The bound is the artifact's own size: more is the server's fault, and raising
    /// `max-size` would not help (the failure says so).
    pub by_size: bool,
}

impl Limit {
    /// `size_in_bytes` exactly when a digest says the artifact is v4, with [`V3_MARGIN`] when
    /// not; and never much past `max-size` (room for the headers of a zip holding that much).
    pub(crate) fn of(a: &Artifact, max_size: u64) -> Limit {
        let size = a.size_in_bytes;
        let by_size = match a.published_digest() {
            Published::None => size.saturating_add(size / 8).saturating_add(V3_MARGIN),
            _ => size,
        };
        // A zip holding max-size bytes is larger by its headers: an eighth and 1 MiB of room.
        let by_max = max_size
            .saturating_add(max_size / 8)
            .saturating_add(1 << 20);
        if by_size <= by_max {
            Limit {
                bytes: by_size,
                why: format!("its size_in_bytes ({size} bytes)"),
                by_size: true,
            }
        } else {
            Limit {
                bytes: by_max,
                why: format!("max-size ({})", human_bytes(max_size)),
                by_size: false,
            }
        }
    }

    fn refuse(&self, what: String) -> anyhow::Error {
        let message = format!(
            "{what}, more than {} allows (at most {} bytes accepted); refusing the download",
            self.why, self.bytes
        );
        if self.by_size {
            Kinded::error(FailureKind::OverSent, message)
        } else {
            anyhow::Error::new(Final(message))
        }
    }
}

/// A failure another attempt cannot fix: an answer that breaks a bound, or a local disk error
/// (ENOSPC, EACCES, EFBIG in RUNNER_TEMP). Never retried.
#[derive(Debug)]
pub(crate) struct Final(pub String);

impl std::fmt::Display for Final {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Final {}

/// Is this failure one that retrying cannot fix?
pub(crate) fn is_final(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Final>())
        || matches!(
            crate::failure::kind_of(e),
            Some(FailureKind::Local | FailureKind::OverSent)
        )
}

/// A local I/O failure on `path`: final (the disk does not heal between attempts).
pub(crate) fn local(e: std::io::Error, doing: &str, path: &Path) -> anyhow::Error {
    Kinded::error(
        FailureKind::Local,
        format!(
            "cannot {doing} {}: {e} (a local disk error in RUNNER_TEMP; not retried)",
            path.display()
        ),
    )
}

/// What a download produced.
pub(crate) struct Download {
    pub bytes: u64,
    /// The `Content-Type` the body came with.
    pub content_type: Option<String>,
    pub sha256: String,
    pub is_zip: bool,
    pub filename: Option<String>,
    pub attempts: u32,
    /// Pieced together from more than one response after a failure (a resume or a retried
    /// range): the one case where a digest mismatch may be ours rather than the server's.
    pub retried: bool,
    /// Resumes, restarts and connection counts, for the artifact's log group.
    pub notes: Vec<String>,
    /// The archive itself when it was small enough to keep in memory; else it is in the temp
    /// file the download was given.
    pub body: Option<Arc<[u8]>>,
}

impl Download {
    /// A zip that did not come as one body (a cache hit, a partial fetch's ranges): no headers,
    /// no retries, nothing held in memory.
    pub(crate) fn known_zip(bytes: u64, sha256: String, attempts: u32) -> Download {
        Download {
            bytes,
            content_type: None,
            sha256,
            is_zip: true,
            filename: None,
            attempts,
            retried: false,
            notes: Vec::new(),
            body: None,
        }
    }
}

/// Brings one artifact's bytes to a file: the HTTP side of a fetch, shared by every artifact.
pub(crate) struct Downloader {
    pub settings: Arc<Settings>,
    pub github: Arc<GitHub>,
    pub blob: Blob,
    pub log: Log,
    /// Blob connections open at once, across all artifacts.
    pub slots: Arc<tokio::sync::Semaphore>,
}

/// What the first request of an attempt on a signed URL led to.
enum Probe {
    /// A ranged download brought the whole archive.
    Done(Download),
    /// This attempt failed; the next one starts over.
    Retry(String),
    /// One body to stream whole (or resume into), with its connection slot.
    Stream(Reply, String, OwnedSemaphorePermit),
}

impl Downloader {
    /// Streams artifact `item` to `part`, retrying and resuming; returns what was received.
    /// With `landing`, a download in ranges reports the ranges as they land (so the archive can
    /// be extracted meanwhile), and poisons it before anything could change bytes it reported.
    pub(crate) async fn download(
        &self,
        item: &Item,
        part: &Path,
        landing: Option<&Arc<Landing>>,
    ) -> Result<Download> {
        self.attempts(item, part, landing, None).await.map_err(|e| {
            if let Some(landing) = landing {
                landing.poison("the download failed");
            }
            if is_final(&e) {
                e.context(format!("artifact '{}'", item.artifact.name))
            } else {
                e
            }
        })
    }

    /// The whole archive, `first` being the answer already received for the first attempt (a
    /// blob server that answered a partial fetch's range request with the whole body): read,
    /// not asked for again.
    pub(crate) async fn download_from(
        &self,
        item: &Item,
        part: &Path,
        first: Reply,
    ) -> Result<Download> {
        self.attempts(item, part, None, Some(first))
            .await
            .map_err(|e| {
                if is_final(&e) {
                    e.context(format!("artifact '{}'", item.artifact.name))
                } else {
                    e
                }
            })
    }

    /// Backs off before attempt `attempt`, and says why.
    async fn wait_to_retry(&self, name: &str, last_error: &str, attempt: u32) {
        let wait = self.github.backoff().delay(attempt - 1);
        self.log.warning(&format!(
            "artifact '{name}': {last_error}; retrying in {} (attempt {attempt} of {})",
            seconds(wait),
            self.settings.timing.attempts
        ));
        tokio::time::sleep(wait).await;
    }

    async fn attempts(
        &self,
        item: &Item,
        part: &Path,
        landing: Option<&Arc<Landing>>,
        mut first: Option<Reply>,
    ) -> Result<Download> {
        let a = &item.artifact;
        let s = &self.settings;
        let small = usize::try_from(a.size_in_bytes).is_ok_and(|n| n <= IN_MEMORY_MAX);
        let mut sink = Sink::create(part, landing.cloned(), small)?;
        let limit = Limit::of(a, s.fetch.max_size);
        let mut last_error = String::new();
        let mut notes = Vec::new();
        for attempt in 1..=s.timing.attempts {
            if attempt > 1 {
                self.wait_to_retry(&a.name, &last_error, attempt).await;
            }
            let target = match first.take() {
                Some(response) => Target::Body(response),
                None => self.fresh_target(item).await?,
            };
            let permit = self.slot().await;
            let (response, shown, permit) = match target {
                Target::Redirect(url) => {
                    let probe = self.probe(item, url, permit, &mut sink, &limit, attempt);
                    match probe.await? {
                        Probe::Done(mut download) => {
                            notes.append(&mut download.notes);
                            download.notes = notes;
                            return Ok(download);
                        }
                        Probe::Retry(e) => {
                            last_error = e;
                            continue;
                        }
                        Probe::Stream(response, shown, permit) => (response, shown, permit),
                    }
                }
                Target::Body(r) => {
                    let shown = r.path().to_string();
                    (r, shown, permit)
                }
            };
            let received = self
                .receive(&a.name, response, &shown, &mut sink, &limit, &mut notes)
                .await;
            drop(permit);
            let checked = received.and_then(|meta| {
                let (bytes, sha256) = sink.finish()?;
                let download =
                    meta.into_download(|| sink.head(), bytes, sha256, attempt, notes.clone());
                check_body(a, &download)?;
                Ok(download)
            });
            match checked {
                Ok(mut download) => {
                    download.body = sink.take_body();
                    return Ok(download);
                }
                Err(e) if is_final(&e) => return Err(e),
                Err(e) => last_error = format!("{e:#}"),
            }
        }
        bail!(
            "artifact '{}': download failed after {} attempts: {last_error}",
            a.name,
            s.timing.attempts
        )
    }

    /// The first request on a signed URL. From the start it asks for the first segment only: a
    /// 206 says ranges work and tells the size, so a larger archive comes over several
    /// connections; anything else is one body to stream (or, mid-download, to resume into).
    async fn probe(
        &self,
        item: &Item,
        url: Url,
        permit: OwnedSemaphorePermit,
        sink: &mut Sink,
        limit: &Limit,
        attempt: u32,
    ) -> Result<Probe> {
        let end = (sink.len == 0).then_some(SEGMENT - 1);
        let mut response = self.blob.get(&url, sink.len, end).await;
        if end.is_some() && matches!(&response, Ok(r) if r.served() == Served::NotSatisfiable) {
            // An empty body has no byte 0 to ask for: take it whole.
            response = self.blob.get(&url, 0, None).await;
        }
        let response = match response {
            Ok(r) => r,
            Err(e) => return Ok(Probe::Retry(format!("{e:#}"))),
        };
        let total = response.served().total();
        if let Some(total) = total.filter(|t| *t > limit.bytes) {
            return Err(limit.refuse(format!("the server claims {total} bytes (Content-Range)")));
        }
        let Some(total) = total.filter(|t| sink.len == 0 && *t > SEGMENT) else {
            return Ok(Probe::Stream(response, without_query(&url), permit));
        };
        let first = (response, permit);
        let landing = sink.landing.clone();
        let failed = match self
            .ranged(item, sink.path(), url, first, total, landing)
            .await
        {
            Ok((bytes, sha256, meta, connections, retried)) => {
                let note = format!(
                    "Fetched in {} ranges over up to {connections} connections",
                    total.div_ceil(SEGMENT)
                );
                // Ranges always go to the file, even from a sink holding nothing of its own.
                let head = || extract::head(sink.path()).into();
                let mut download = meta.into_download(head, bytes, sha256, attempt, vec![note]);
                download.retried |= retried;
                match check_body(&item.artifact, &download) {
                    Ok(()) => return Ok(Probe::Done(download)),
                    Err(e) => e,
                }
            }
            Err(e) if is_final(&e) => return Err(e),
            Err(e) => e,
        };
        sink.reset()?;
        Ok(Probe::Retry(format!("{failed:#}")))
    }

    /// A fresh signed URL (or a body served directly): asked for before every attempt.
    pub(crate) async fn fresh_target(&self, item: &Item) -> Result<Target> {
        let (s, a) = (&self.settings, &item.artifact);
        match self
            .github
            .download_target(&s.source.owner, &s.source.repo, a.id)
            .await
        {
            Ok(t) => Ok(t),
            Err(e) if http_status(&e) == Some(410) => Err(Kinded::error(
                FailureKind::Expired,
                format!(
                    "artifact '{}' has expired (410 Gone); {}",
                    a.name,
                    crate::plan::EXPIRED_NEXT_STEP
                ),
            )),
            Err(e) => Err(e.context(format!(
                "cannot get a download URL for artifact '{}'",
                a.name
            ))),
        }
    }

    pub(crate) async fn slot(&self) -> OwnedSemaphorePermit {
        Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .expect("the connection semaphore is never closed")
    }

    /// Reads one response into the sink. Resumes when it is a 206 for our offset; restarts on 200.
    async fn receive(
        &self,
        name: &str,
        response: Reply,
        shown: &str,
        sink: &mut Sink,
        limit: &Limit,
        notes: &mut Vec<String>,
    ) -> Result<Meta> {
        let response = resume_or_restart(response, shown, sink, notes).await?;
        let meta = Meta::of(&response);
        let expected = response.content_length().map(|n| n + sink.len);
        if let Some(expected) = expected.filter(|n| *n > limit.bytes) {
            return Err(limit.refuse(format!("the server announces {expected} bytes")));
        }
        let started = Instant::now();
        let mut last_progress = Instant::now();
        let mut window = Window::new(self.settings.timing.stall * 2);
        let mut body = response.body(limit.bytes.saturating_sub(sink.len));
        loop {
            let chunk = match body.next_chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(BodyError::Over) => {
                    return Err(limit.refuse("the server sends more".to_string()));
                }
                Err(BodyError::Transport(e)) => bail!(
                    "{} after {} of {}",
                    self.read_failure(&e),
                    human_bytes(sink.len),
                    expected.map(human_bytes).unwrap_or_else(|| "?".into())
                ),
            };
            sink.write(&chunk)?;
            window.check(chunk.len())?;
            if last_progress.elapsed() >= self.settings.timing.progress {
                last_progress = Instant::now();
                self.progress(
                    name,
                    sink.len,
                    expected,
                    sink.received,
                    started.elapsed(),
                    1,
                );
            }
        }
        if let Some(expected) = expected
            && sink.len < expected
        {
            bail!("body cut short: {} of {} bytes", sink.len, expected);
        }
        Ok(meta)
    }

    fn read_failure(&self, e: &Transport) -> String {
        if e.is_timeout() {
            format!("no data for {}", seconds(self.settings.timing.stall))
        } else {
            "connection cut".to_string()
        }
    }

    fn progress(
        &self,
        name: &str,
        have: u64,
        total: Option<u64>,
        got: u64,
        took: Duration,
        conns: usize,
    ) {
        let of = total
            .map(|t| {
                format!(
                    " of {} ({:.0}%)",
                    human_bytes(t),
                    100.0 * have as f64 / t.max(1) as f64
                )
            })
            .unwrap_or_default();
        let over = if conns > 1 {
            format!(" over {conns} connections")
        } else {
            String::new()
        };
        self.log.info(&format!(
            "  '{name}': {}{of}, {}{over}",
            human_bytes(have),
            rate(got, took)
        ));
    }

    /// The rest of a ranged download: every segment over its own request, several at once,
    /// each retried (and resumed) on its own. `first` is the answer to the first segment.
    async fn ranged(
        &self,
        item: &Item,
        part: &Path,
        url: Url,
        first: (Reply, OwnedSemaphorePermit),
        total: u64,
        landing: Option<Arc<Landing>>,
    ) -> Result<(u64, String, Meta, usize, bool)> {
        let meta = Meta::of(&first.0);
        let file = sparse_file(part, total)?;
        let connections = CONNECTIONS.min(total.div_ceil(SEGMENT) as usize);
        let job = Ranged {
            item,
            file,
            path: part.to_path_buf(),
            total,
            connections,
            url: tokio::sync::Mutex::new((url, 0)),
            first: Mutex::new(Some(first)),
            front: Mutex::new(HashFront {
                next: 0,
                hasher: Sha256::new(),
                done: BTreeMap::new(),
            }),
            received: AtomicU64::new(0),
            retried: AtomicBool::new(false),
            started: Instant::now(),
            last_progress: Mutex::new(Instant::now()),
            landing,
        };
        if let Some(landing) = &job.landing {
            landing.begin(total);
        }
        // The first segment (the probe's), then the last: it holds the central directory, which
        // extraction needs before anything else; then the rest in order.
        let last = (total - 1) / SEGMENT * SEGMENT;
        let starts = [0, last]
            .into_iter()
            .chain((SEGMENT..last).step_by(SEGMENT as usize));
        let segments = starts.map(|s| (s, (s + SEGMENT).min(total) - 1));
        futures_util::stream::iter(segments)
            .map(|(start, end)| self.segment(&job, start, end))
            .buffer_unordered(connections)
            .try_collect::<Vec<()>>()
            .await?;
        let front = job.front.into_inner().unwrap_or_else(|e| e.into_inner());
        if front.next != total {
            bail!("internal error: hashed {} of {total} bytes", front.next);
        }
        let retried = job.retried.load(Ordering::Relaxed);
        Ok((
            total,
            hex(&front.hasher.finalize()),
            meta,
            connections,
            retried,
        ))
    }

    /// Bytes `start..=end` into place, retried from where a failure left off.
    async fn segment(&self, job: &Ranged<'_>, start: u64, end: u64) -> Result<()> {
        let attempts = self.settings.timing.attempts;
        let mut pos = start;
        let mut buffer = Vec::with_capacity(WRITE_BUFFER.min((end - start + 1) as usize));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let generation = job.url.lock().await.1;
            match self.segment_once(job, &mut pos, end, &mut buffer).await {
                Ok(()) => break,
                Err(e) if is_final(&e) => return Err(e),
                Err(e) if attempt < attempts => {
                    job.retried.store(true, Ordering::Relaxed);
                    let wait = self.github.backoff().delay(attempt);
                    self.log.warning(&format!(
                        "artifact '{}': bytes {pos}-{end}: {e:#}; retrying in {} (attempt {} of {attempts})",
                        job.item.artifact.name,
                        seconds(wait),
                        attempt + 1
                    ));
                    tokio::time::sleep(wait).await;
                    // A fresh signed URL, unless another connection already fetched one.
                    let mut slot = job.url.lock().await;
                    if slot.1 == generation
                        && let Target::Redirect(url) = self.fresh_target(job.item).await?
                    {
                        *slot = (url, generation + 1);
                    }
                }
                Err(e) => bail!("bytes {pos}-{end} failed after {attempts} attempts: {e:#}"),
            }
        }
        job.completed(start, end + 1)
    }

    async fn segment_once(
        &self,
        job: &Ranged<'_>,
        pos: &mut u64,
        end: u64,
        buffer: &mut Vec<u8>,
    ) -> Result<()> {
        let taken = job
            .first
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .filter(|_| *pos == 0);
        let (response, _permit) = match taken {
            Some(first) => first,
            None => {
                let permit = self.slot().await;
                let url = job.url.lock().await.0.clone();
                (self.blob.get(&url, *pos, Some(end)).await?, permit)
            }
        };
        if !response.served().is_part_from(*pos) {
            bail!("range request answered {}", response.answered().await);
        }
        let mut window = Window::new(self.settings.timing.stall * 2);
        // Never more than the range asked for: a server that goes on past it is not read
        // further (the old loop read and dropped whatever came, without end).
        let mut body = response.body(end + 1 - *pos);
        let result = loop {
            match body.next_chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(e) = window.check(chunk.len()) {
                        break Err(e);
                    }
                    let room = (end + 1 - *pos - buffer.len() as u64) as usize;
                    let bytes = &chunk[..chunk.len().min(room)];
                    // Written before it would outgrow its capacity: a buffer that grew would
                    // double, and with every connection's at twice the size, so would the RSS.
                    if !buffer.is_empty() && buffer.len() + bytes.len() > WRITE_BUFFER {
                        job.write(pos, buffer)?;
                        self.ranged_progress(job);
                    }
                    buffer.extend_from_slice(bytes);
                    job.received
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
                Ok(None) => break Ok(()),
                // The whole range came (the reader cuts at its end): the rest is not ours.
                Err(BodyError::Over) => break Ok(()),
                Err(BodyError::Transport(e)) => {
                    break Err(anyhow::anyhow!("{}", self.read_failure(&e)));
                }
            }
        };
        job.write(pos, buffer)?;
        result?;
        if *pos <= end {
            bail!("body cut short at byte {pos} of range ending {end}");
        }
        Ok(())
    }

    fn ranged_progress(&self, job: &Ranged<'_>) {
        let mut last = job.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < self.settings.timing.progress {
            return;
        }
        *last = Instant::now();
        let got = job.received.load(Ordering::Relaxed);
        self.progress(
            &job.item.artifact.name,
            got.min(job.total),
            Some(job.total),
            got,
            job.started.elapsed(),
            job.connections,
        );
    }
}

/// Shared state of one ranged download.
struct Ranged<'a> {
    item: &'a Item,
    file: File,
    path: PathBuf,
    total: u64,
    /// Ranges in flight at once: CONNECTIONS, or fewer for a smaller archive.
    connections: usize,
    /// The signed URL and its generation: a failed segment fetches a fresh one only once.
    url: tokio::sync::Mutex<(Url, u64)>,
    /// The probe's answer (and its connection slot), for whichever segment starts at 0.
    first: Mutex<Option<(Reply, OwnedSemaphorePermit)>>,
    front: Mutex<HashFront>,
    received: AtomicU64,
    /// Some segment needed more than one request.
    retried: AtomicBool,
    started: Instant,
    last_progress: Mutex<Instant>,
    /// Told of every segment written, for an extraction that runs meanwhile.
    landing: Option<Arc<Landing>>,
}

/// The SHA-256 of the contiguous prefix written so far, and the segments done beyond it.
struct HashFront {
    next: u64,
    hasher: Sha256,
    /// Finished segments past `next`: start -> end (exclusive).
    done: BTreeMap<u64, u64>,
}

impl Ranged<'_> {
    /// Writes the buffer at `pos` and moves `pos` past it.
    fn write(&self, pos: &mut u64, buffer: &mut Vec<u8>) -> Result<()> {
        if buffer.is_empty() {
            return Ok(());
        }
        tokio::task::block_in_place(|| write_all_at(&self.file, buffer, *pos))
            .map_err(|e| local(e, "write", &self.path))?;
        *pos += buffer.len() as u64;
        buffer.clear();
        Ok(())
    }

    /// Marks `start..end` written and hashes whatever prefix is now contiguous, reading it back
    /// from the page cache.
    fn completed(&self, start: u64, end: u64) -> Result<()> {
        if let Some(landing) = &self.landing {
            landing.landed(start, end);
        }
        let mut front = self.front.lock().unwrap_or_else(|e| e.into_inner());
        front.done.insert(start, end);
        tokio::task::block_in_place(|| -> Result<()> {
            let mut buffer = vec![0u8; WRITE_BUFFER];
            loop {
                let next = front.next;
                let Some(end) = front.done.remove(&next) else {
                    return Ok(());
                };
                let mut at = next;
                while at < end {
                    let n = WRITE_BUFFER.min((end - at) as usize);
                    read_exact_at(&self.file, &mut buffer[..n], at)
                        .map_err(|e| local(e, "read back", &self.path))?;
                    front.hasher.update(&buffer[..n]);
                    at += n as u64;
                }
                front.next = end;
            }
        })
    }
}

// Positional reads and writes, shared with the cache's copy.
pub(crate) use crate::extract::positioned::{read_exact_at, write_all_at};

/// Where a (re)sent GET's body goes: a 200 starts the file over (a server that ignored the
/// `Range`), a 206 must start exactly where the file ends; anything else is an error.
async fn resume_or_restart(
    response: Reply,
    shown: &str,
    sink: &mut Sink,
    notes: &mut Vec<String>,
) -> Result<Reply> {
    match response.served() {
        Served::Whole => {
            if sink.len > 0 {
                notes.push(format!(
                    "The server did not honour the Range request; restarted from byte 0 ({} discarded)",
                    human_bytes(sink.len)
                ));
            }
            sink.restart()?
        }
        served @ Served::Part { .. } => {
            if !served.is_part_from(sink.len) {
                sink.restart()?;
                bail!("GET {shown} resumed at the wrong offset; starting over");
            }
            if sink.len > 0 {
                notes.push(format!(
                    "Resumed at byte {} with a Range request (206 Partial Content)",
                    sink.len
                ));
            }
        }
        Served::NotSatisfiable | Served::Other => {
            bail!("GET {shown} answered {}", response.answered().await)
        }
    }
    Ok(response)
}

/// A file of `total` bytes, all holes, for ranges written where they belong as they land.
pub(crate) fn sparse_file(part: &Path, total: u64) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(part)
        .and_then(|f| f.set_len(total).map(|()| f))
        .map_err(|e| local(e, "create", part))
}

/// `30s`, or `0.3s` when the test time scale shrinks it.
pub(crate) fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else if secs >= 1.0 {
        format!("{secs:.1}s")
    } else {
        format!("{secs:.2}s")
    }
}

/// What the body must be for this artifact, beyond the bounds checked while it streamed. With a
/// digest (v4) the length is `size_in_bytes` exactly: shorter is a body cut short (retried, not a
/// digest mismatch). Without one (v3: GHES, upload-artifact < v4) the artifact is always a zip,
/// so a web page or any other type in its place is refused, whatever its length.
fn check_body(a: &Artifact, d: &Download) -> Result<()> {
    match a.published_digest() {
        Published::None if !d.is_zip => bail!(
            "the server sent {} bytes of {} where a zip archive was expected (an artifact without a digest is always a zip)",
            d.bytes,
            d.content_type.as_deref().unwrap_or("no Content-Type")
        ),
        Published::Sha256(_) if d.bytes < a.size_in_bytes => bail!(
            "body cut short: {} of {} bytes (size_in_bytes)",
            d.bytes,
            a.size_in_bytes
        ),
        _ => Ok(()),
    }
}

/// The minimum-throughput rule: in every window of twice the stall timeout at least
/// [`MIN_BYTES_PER_WINDOW`] must arrive (the stall timer alone lets a trickle run forever); two
/// slow windows in a row fail the read. Twice and two, so that a process paused by a busy machine
/// (whose backlog then arrives at once) is not mistaken for a slow server.
struct Window {
    length: Duration,
    started: Instant,
    bytes: u64,
    /// The previous window was slow too: two in a row fail (one may be our own pause).
    slow: bool,
}

impl Window {
    fn new(length: Duration) -> Window {
        Window {
            length,
            started: Instant::now(),
            bytes: 0,
            slow: false,
        }
    }

    fn check(&mut self, got: usize) -> Result<()> {
        self.bytes += got as u64;
        if self.started.elapsed() < self.length {
            return Ok(());
        }
        let slow = self.bytes < MIN_BYTES_PER_WINDOW;
        if slow && self.slow {
            bail!(
                "too slow: {} bytes in {}, below the minimum of {} bytes per twice the stall-timeout",
                self.bytes,
                seconds(self.started.elapsed()),
                MIN_BYTES_PER_WINDOW
            );
        }
        *self = Window {
            slow,
            ..Window::new(self.length)
        };
        Ok(())
    }
}

/// What the response headers say about the body.
struct Meta {
    content_type: Option<String>,
    filename: Option<String>,
}

impl Meta {
    fn of(response: &Reply) -> Meta {
        Meta {
            content_type: response.content_type(),
            filename: response.file_name().filter(|name| is_safe_component(name)),
        }
    }

    /// `head`: the archive's first bytes, which tell a zip when the headers do not.
    fn into_download<'h>(
        self,
        head: impl FnOnce() -> Cow<'h, [u8]>,
        bytes: u64,
        sha256: String,
        attempts: u32,
        notes: Vec<String>,
    ) -> Download {
        Download {
            bytes,
            content_type: self.content_type.clone(),
            sha256,
            is_zip: archive_kind(self.content_type.as_deref(), head) == ArchiveKind::Zip,
            filename: self.filename,
            attempts,
            retried: attempts > 1,
            notes,
            body: None,
        }
    }
}

/// A temp file that hashes what is written to it, in large blocks; or, for a small archive, a
/// buffer that becomes that file only if the body outgrows [`IN_MEMORY_MAX`].
struct Sink {
    path: PathBuf,
    /// `None` while the archive is held in memory (in `buffer`).
    file: Option<File>,
    hasher: Sha256,
    buffer: Vec<u8>,
    /// Bytes of the archive we hold (written + buffered).
    len: u64,
    /// Bytes received in this attempt, for the rate.
    received: u64,
    /// Poisoned before the file is emptied: what an extraction read from it may change.
    landing: Option<Arc<Landing>>,
}

impl Sink {
    /// `in_memory`: keep the archive in memory while it stays small.
    fn create(path: &Path, landing: Option<Arc<Landing>>, in_memory: bool) -> Result<Sink> {
        let file = match in_memory {
            true => None,
            false => Some(File::create(path).map_err(|e| local(e, "create", path))?),
        };
        Ok(Sink {
            path: path.to_path_buf(),
            file,
            hasher: Sha256::new(),
            buffer: Vec::new(),
            len: 0,
            received: 0,
            landing,
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.extend_from_slice(bytes);
        self.len += bytes.len() as u64;
        self.received += bytes.len() as u64;
        if self.file.is_none() && self.buffer.len() > IN_MEMORY_MAX {
            // Larger than the listing said: to the temp file after all.
            self.file = Some(File::create(&self.path).map_err(|e| local(e, "create", &self.path))?);
        }
        if self.file.is_some() && self.buffer.len() >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Hashes and writes the buffer to the file; held in memory, nothing to do yet.
    fn flush(&mut self) -> Result<()> {
        let (Some(file), hasher, buffer, path) = (
            self.file.as_mut(),
            &mut self.hasher,
            &mut self.buffer,
            &self.path,
        ) else {
            return Ok(());
        };
        let mut write = || {
            hasher.update(&buffer[..]);
            file.write_all(buffer).map_err(|e| local(e, "write", path))
        };
        // A small write (the whole of a small archive) takes microseconds: done in place. Handing
        // the worker off costs more: block_in_place starts a thread to take over its tasks.
        if buffer.len() <= INLINE_WRITE {
            write()?;
        } else {
            tokio::task::block_in_place(write)?;
        }
        buffer.clear();
        Ok(())
    }

    /// Back to zero bytes: the server sent the whole body again.
    fn restart(&mut self) -> Result<()> {
        self.received = 0;
        if self.len == 0 {
            return Ok(());
        }
        self.reset()
    }

    /// Back to an empty file, whatever we think it holds: a ranged attempt may have written into
    /// it behind our back.
    fn reset(&mut self) -> Result<()> {
        if let Some(landing) = &self.landing {
            landing.poison("the download started over");
        }
        self.buffer.clear();
        self.hasher = Sha256::new();
        self.len = 0;
        self.received = 0;
        if self.file.is_some() {
            self.file =
                Some(File::create(&self.path).map_err(|e| local(e, "truncate", &self.path))?);
        }
        Ok(())
    }

    /// The archive's first bytes (after [`Self::finish`]): the whole of one held in memory, else
    /// read from the file.
    fn head(&self) -> Cow<'_, [u8]> {
        match &self.file {
            None => (&self.buffer[..]).into(),
            Some(_) => extract::head(&self.path).into(),
        }
    }

    /// The archive, when it was held in memory (after [`Self::finish`]).
    fn take_body(&mut self) -> Option<Arc<[u8]>> {
        if self.file.is_some() {
            return None;
        }
        Some(std::mem::take(&mut self.buffer).into())
    }

    fn finish(&mut self) -> Result<(u64, String)> {
        if self.file.is_none() {
            // Held in memory: hashed once, whole.
            let mut hasher = Sha256::new();
            hasher.update(&self.buffer);
            self.hasher = hasher;
        }
        self.flush()?;
        Ok((self.len, hex(&self.hasher.clone().finalize())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256_hex(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_small_archive_stays_in_memory_and_no_file_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.download");
        let mut sink = Sink::create(&part, None, true).unwrap();
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in body.chunks(7_000) {
            sink.write(chunk).unwrap();
        }
        let (len, sha256) = sink.finish().unwrap();
        assert_eq!((len, sha256), (body.len() as u64, sha256_hex(&body)));
        assert_eq!(&*sink.head(), &body[..]);
        assert_eq!(sink.take_body().as_deref(), Some(&body[..]));
        assert!(!part.exists(), "a temp file was made");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_body_larger_than_announced_spills_to_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.download");
        let mut sink = Sink::create(&part, None, true).unwrap();
        // A server sending more than `size_in_bytes` said: memory stays bounded.
        let body: Vec<u8> = (0..IN_MEMORY_MAX as u32 * 3)
            .map(|i| (i % 253) as u8)
            .collect();
        for chunk in body.chunks(64 << 10) {
            sink.write(chunk).unwrap();
            assert!(sink.buffer.len() <= IN_MEMORY_MAX + (64 << 10));
        }
        let (len, sha256) = sink.finish().unwrap();
        assert_eq!((len, sha256), (body.len() as u64, sha256_hex(&body)));
        assert_eq!(sink.take_body(), None);
        assert_eq!(std::fs::read(&part).unwrap(), body);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_restart_in_memory_forgets_what_was_held() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.download");
        let mut sink = Sink::create(&part, None, true).unwrap();
        sink.write(b"the first attempt, cut short").unwrap();
        sink.restart().unwrap();
        let whole = b"PK\x05\x06 whole";
        sink.write(whole).unwrap();
        let (len, sha256) = sink.finish().unwrap();
        assert_eq!((len, sha256), (whole.len() as u64, sha256_hex(whole)));
        assert_eq!(sink.take_body().as_deref(), Some(&whole[..]));
    }
}
