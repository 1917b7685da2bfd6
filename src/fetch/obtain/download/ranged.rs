//! A ranged download: the archive's segments over several connections at once, each retried
//! (and resumed) on its own, written in place and hashed in order as the completed prefix grows.
//! Given a landing that keeps ranges itself (an archive streamed to extraction), the bytes go
//! there instead of the temp file, hashed in order from memory as they come.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Result, bail};
use futures_util::{StreamExt, TryStreamExt};
// SHA-256 as `digest` is defined ("sha256:" + hex of the bytes served); sha2 picks SHA-NI
// where the CPU has it.
use sha2::{Digest, Sha256};
use tokio::sync::OwnedSemaphorePermit;

use super::bounds::{Window, local};
use super::{
    CONNECTIONS, Downloader, Meta, SEGMENT, WRITE_BUFFER, is_final, read_exact_at, seconds,
    write_all_at,
};
use crate::extract::{Landing, Room};
use crate::github::body::BodyError;
use crate::github::served::Reply;
use crate::github::{Target, Url};
use crate::plan::Item;
use crate::util::hex;

/// An answer to a range request, with the connection slot it holds.
pub(super) struct Answer {
    pub reply: Reply,
    pub permit: OwnedSemaphorePermit,
}

/// What a ranged download brought: the archive's length and SHA-256, what its first answer's
/// headers said, and how it went.
pub(super) struct Ranges {
    pub bytes: u64,
    pub sha256: String,
    pub meta: Meta,
    /// Ranges that were in flight at once, at most.
    pub connections: usize,
    /// Some segment needed more than one request.
    pub retried: bool,
    /// The bytes are in the landing's spool, not in the temp file.
    pub spooled: Option<Arc<Landing>>,
}

impl Downloader {
    /// The rest of a ranged download: every segment over its own request, several at once,
    /// each retried (and resumed) on its own. `first` is the answer to the first segment.
    pub(super) async fn ranged(
        &self,
        item: &Item,
        part: &Path,
        url: Url,
        first: Answer,
        total: u64,
        landing: Option<Arc<Landing>>,
    ) -> Result<Ranges> {
        let meta = Meta::of(&first.reply);
        // Streamed when the landing keeps ranges itself (and has not been used and poisoned by
        // an earlier attempt); else written in place in the temp file.
        let spooled = landing.clone().filter(|l| l.takes_ranges());
        let store = match &spooled {
            Some(landing) => Store::Spool(Arc::clone(landing)),
            None => Store::File(sparse_file(part, total)?),
        };
        let connections = CONNECTIONS.min(total.div_ceil(SEGMENT) as usize);
        let job = Ranged {
            item,
            store,
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
        let sha256 = match &job.store {
            Store::Spool(landing) => landing.sha256(total),
            Store::File(_) => (front.next == total).then(|| front.hasher.finalize().into()),
        };
        let Some(sha256) = sha256 else {
            bail!("internal error: not every one of the {total} bytes was hashed");
        };
        let retried = job.retried.load(Ordering::Relaxed);
        Ok(Ranges {
            bytes: total,
            sha256: hex(&sha256),
            meta,
            connections,
            retried,
            spooled,
        })
    }

    /// Bytes `start..=end` into place, retried from where a failure left off.
    async fn segment(&self, job: &Ranged<'_>, start: u64, end: u64) -> Result<()> {
        let attempts = self.config.timing.attempts;
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
        let Answer {
            reply: response,
            permit: _permit,
        } = match taken {
            Some(first) => first,
            None => {
                let permit = self.slot().await;
                let url = job.url.lock().await.0.clone();
                Answer {
                    reply: self.blob.get(&url, *pos, Some(end)).await?,
                    permit,
                }
            }
        };
        if !response.served().is_part_from(*pos) {
            bail!("range request answered {}", response.answered().await);
        }
        let mut window = Window::new(self.config.timing.stall * 2);
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
                        if job.hand_over(pos, buffer, end).await? == Room::Waited {
                            // Our own pause, not the server's: the rate is measured afresh.
                            window = Window::new(self.config.timing.stall * 2);
                        }
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
        job.hand_over(pos, buffer, end).await?;
        result?;
        if *pos <= end {
            bail!("body cut short at byte {pos} of range ending {end}");
        }
        Ok(())
    }

    fn ranged_progress(&self, job: &Ranged<'_>) {
        let mut last = job.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < self.config.timing.progress {
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
    store: Store,
    path: PathBuf,
    total: u64,
    /// Ranges in flight at once: CONNECTIONS, or fewer for a smaller archive.
    connections: usize,
    /// The signed URL and its generation: a failed segment fetches a fresh one only once.
    url: tokio::sync::Mutex<(Url, u64)>,
    /// The probe's answer (and its connection slot), for whichever segment starts at 0.
    first: Mutex<Option<Answer>>,
    front: Mutex<HashFront>,
    received: AtomicU64,
    /// Some segment needed more than one request.
    retried: AtomicBool,
    started: Instant,
    last_progress: Mutex<Instant>,
    /// Told of every segment written, for an extraction that runs meanwhile.
    landing: Option<Arc<Landing>>,
}

/// Where the ranges go.
enum Store {
    /// Written in place in the temp file, hashed by [`HashFront`] reading it back.
    File(File),
    /// Kept (and hashed) by a landing that streams them to extraction.
    Spool(Arc<Landing>),
}

/// The SHA-256 of the contiguous prefix written so far, and the segments done beyond it.
struct HashFront {
    next: u64,
    hasher: Sha256,
    /// Finished segments past `next`: start -> end (exclusive).
    done: BTreeMap<u64, u64>,
}

impl Ranged<'_> {
    /// [`Self::write`], after waiting for room when the bytes are streamed through memory and
    /// the readers do not need them next; the last segment (the central directory, read
    /// first) never waits. `end`: the segment's last byte.
    async fn hand_over(&self, pos: &mut u64, buffer: &mut Vec<u8>, end: u64) -> Result<Room> {
        let room = match &self.store {
            Store::Spool(landing) => {
                let tail = end + 1 == self.total;
                landing.room(*pos, buffer.len() as u64, tail).await
            }
            Store::File(_) => Room::Free,
        };
        self.write(pos, buffer)?;
        Ok(room)
    }

    /// Writes the buffer at `pos` and moves `pos` past it.
    fn write(&self, pos: &mut u64, buffer: &mut Vec<u8>) -> Result<()> {
        if buffer.is_empty() {
            return Ok(());
        }
        let len = buffer.len() as u64;
        match &self.store {
            Store::File(file) => {
                tokio::task::block_in_place(|| write_all_at(file, buffer, *pos))
                    .map_err(|e| local(e, "write", &self.path))?;
                buffer.clear();
            }
            Store::Spool(landing) => {
                // The buffer itself is kept (no copy); the connection takes a new one.
                let bytes = std::mem::replace(buffer, Vec::with_capacity(buffer.capacity()));
                tokio::task::block_in_place(|| landing.put(*pos, bytes))
                    .map_err(|e| local(e, "spill", &self.path))?;
            }
        }
        *pos += len;
        Ok(())
    }

    /// Marks `start..end` written and hashes whatever prefix is now contiguous, reading it back
    /// from the page cache.
    fn completed(&self, start: u64, end: u64) -> Result<()> {
        let Store::File(file) = &self.store else {
            // Landed and hashed range by range as the spool took them.
            return Ok(());
        };
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
                    read_exact_at(file, &mut buffer[..n], at)
                        .map_err(|e| local(e, "read back", &self.path))?;
                    front.hasher.update(&buffer[..n]);
                    at += n as u64;
                }
                front.next = end;
            }
        })
    }
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
