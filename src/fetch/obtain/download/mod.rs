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
//! which never becomes a temp file, and, when it is streamed to extraction, one of at most a
//! [`SEGMENT`] (it comes in one response) within the spool's budget.

// The bounds and the failures no retry fixes; the ranged download over several connections;
// where the body goes (a temp file hashed as written, or memory).
mod bounds;
mod ranged;
mod sink;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::sync::OwnedSemaphorePermit;

use crate::extract::{self, ArchiveKind, Hold, Landing, archive_kind, is_safe_component};
use crate::failure::{FailureKind, Kinded};
use crate::fetch::config::DownloadConfig;
use crate::github::body::{BodyError, Transport};
use crate::github::model::{Artifact, Published};
use crate::github::served::{Reply, Served};
use crate::github::{Blob, GitHub};
use crate::github::{Refusal, Target, Url, refusal, without_query};
use crate::log::Log;
use crate::plan::Item;
use crate::util::{human_bytes, rate};

use self::bounds::Window;
pub(crate) use self::bounds::{Final, Limit, is_final, local};
pub(crate) use self::ranged::sparse_file;
use self::ranged::{Answer, Ranges};
use self::sink::Sink;

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
    /// file the download was given, or (streamed to extraction) in this landing's spool.
    pub body: Option<Arc<[u8]>>,
    pub spooled: Option<Arc<Landing>>,
    /// The room `body` takes in the spool's budget, when it counts there.
    pub held: Option<Hold>,
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
            spooled: None,
            held: None,
        }
    }

    /// The archive's first bytes, which tell a zip: from memory, the spool or the temp file.
    pub(crate) fn head(&self, part: &Path) -> Cow<'_, [u8]> {
        match (&self.body, &self.spooled) {
            (Some(body), _) => (&body[..]).into(),
            (None, Some(landing)) => landing.head().into(),
            (None, None) => extract::head(part).into(),
        }
    }
}

/// Brings one artifact's bytes to a file: the HTTP side of a fetch, shared by every artifact.
pub(crate) struct Downloader {
    pub config: DownloadConfig,
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
            self.config.timing.attempts
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
        let s = &self.config;
        let (in_memory, held) = memory_for(a, landing);
        let mut sink = Sink::create(part, landing.cloned(), in_memory)?;
        sink.held = held;
        let limit = Limit::of(a, s.max_size);
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
            let checked = received.and_then(|meta| downloaded(a, &mut sink, meta, attempt, &notes));
            match checked {
                Ok(download) => return Ok(download),
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
        let first = Answer {
            reply: response,
            permit,
        };
        let landing = sink.landing.clone();
        let failed = match self
            .ranged(item, sink.path(), url, first, total, landing)
            .await
        {
            Ok(Ranges {
                bytes,
                sha256,
                meta,
                connections,
                retried,
                spooled,
            }) => {
                let note = format!(
                    "Fetched in {} ranges over up to {connections} connections{}",
                    total.div_ceil(SEGMENT),
                    spooled.as_deref().map(streamed).unwrap_or_default()
                );
                // Ranges go to the file (even from a sink holding nothing of its own), or to the
                // landing's spool.
                let head = || match &spooled {
                    Some(landing) => landing.head().into(),
                    None => extract::head(sink.path()).into(),
                };
                let mut download = meta.into_download(head, bytes, sha256, attempt, vec![note]);
                download.retried |= retried;
                download.spooled = spooled;
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
        let (s, a) = (&self.config, &item.artifact);
        match self.github.download_target(&s.owner, &s.repo, a.id).await {
            Ok(t) => Ok(t),
            Err(e) if refusal(&e) == Some(Refusal::Gone) => Err(Kinded::error(
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
        let mut window = Window::new(self.config.timing.stall * 2);
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
            if last_progress.elapsed() >= self.config.timing.progress {
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
            format!("no data for {}", seconds(self.config.timing.stall))
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

/// How a streamed archive went: through memory, or partly on disk past the budget.
fn streamed(landing: &Landing) -> String {
    match landing.spilled() {
        0 => ", streamed to extraction through memory (no archive file)".into(),
        n => format!(
            ", streamed to extraction; {} waited on disk past the memory budget",
            human_bytes(n)
        ),
    }
}

/// The body in `sink` as a download, checked for what this artifact's body must be.
fn downloaded(
    a: &Artifact,
    sink: &mut Sink,
    meta: Meta,
    attempt: u32,
    notes: &[String],
) -> Result<Download> {
    let (bytes, sha256) = sink.finish()?;
    let head = || sink.head();
    let mut download = meta.into_download(head, bytes, sha256, attempt, notes.to_vec());
    check_body(a, &download)?;
    download.body = sink.take_body();
    // The room in the budget goes with the body (or back now, if it went to the file).
    download.held = sink.held.take().filter(|_| download.body.is_some());
    Ok(download)
}

/// How much of the archive its sink may hold in memory, and the room that takes in the spool's
/// budget: a small archive always (up to [`IN_MEMORY_MAX`]); one up to a [`SEGMENT`] (it comes in
/// one response) when it is streamed to extraction and the budget has room.
fn memory_for(a: &Artifact, landing: Option<&Arc<Landing>>) -> (Option<usize>, Option<Hold>) {
    let size = usize::try_from(a.size_in_bytes).ok();
    let held = size
        .filter(|&n| n > IN_MEMORY_MAX && n as u64 <= SEGMENT)
        .and_then(|n| landing?.hold(n as u64));
    let in_memory = match (size, &held) {
        (Some(n), _) if n <= IN_MEMORY_MAX => Some(IN_MEMORY_MAX),
        (_, Some(_)) => Some(SEGMENT as usize),
        _ => None,
    };
    (in_memory, held)
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
            spooled: None,
            held: None,
        }
    }
}
