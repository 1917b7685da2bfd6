//! Partial fetch (`files` with `partial-download`): only the bytes of the selected entries.
//!
//! The archive's tail is asked for by range: the end of central directory record says where the
//! central directory is, which (not the local headers: artifact zips put a data descriptor on
//! every entry) says where each entry's bytes are and how long they are. The selected entries'
//! local records are then fetched, near ones coalesced into one request, large ones split over
//! several connections, each retried with a fresh signed URL (they expire). Everything lands at
//! its own offset in a sparse file as long as the archive, so the extractor reads it as the
//! archive itself and applies every check it applies to a whole one; the holes are never read.
//! A blob server that ignores `Range` answers the first request with the whole body, which is
//! handed back to be read as an ordinary download, not asked for again.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use futures_util::{StreamExt, TryStreamExt};

use super::download::{
    CONNECTIONS, Downloader, Final, SEGMENT, local, seconds, sparse_file, write_all_at,
};
use crate::extract::Landing;
use crate::extract::central::{self, EOCD_MAX, Unsupported};
use crate::github::body::BodyError;
use crate::github::served::{Reply, Served};
use crate::github::{Target, Url};
use crate::pattern::PathGlobs;
use crate::plan::Item;
use crate::util::human_bytes;

/// With `partial-download: auto`, archives smaller than this are fetched whole. Measured
/// (`cargo xtask bench`, the `auto` sweep): a 64 KiB entry by range beat the whole archive at
/// every size from 2 MiB up, on loopback and at 50 MB/s a connection; loopback has no latency,
/// and a partial fetch waits for two round trips more (the tail, then the entries), worth a few
/// MB at runner bandwidths: so 8 MiB.
pub(crate) const AUTO_MIN_ARCHIVE: u64 = 8 << 20;
/// With `auto`, a partial fetch must bring at most this share (1/N) of the archive's bytes.
pub(crate) const AUTO_MAX_SHARE: u64 = 4;
/// Selected records closer than this are fetched by one request, gap included.
pub(crate) const COALESCE_GAP: u64 = 1 << 20;
/// A central directory larger than this is not held in memory: the archive is fetched whole.
const MAX_CENTRAL: u64 = 64 << 20;

/// What a partial fetch did.
#[derive(Debug)]
pub(crate) enum Partial {
    /// The selected entries' records, the central directory and the tail are in place.
    Done(Stats),
    /// Fetch the whole archive instead, for this reason; `first` is a whole body already
    /// received (a server that ignores `Range`), to be read rather than asked for again.
    Whole {
        reason: String,
        first: Option<Reply>,
    },
}

impl Partial {
    fn whole(reason: impl Into<String>, first: Option<Reply>) -> Partial {
        Partial::Whole {
            reason: reason.into(),
            first,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Stats {
    /// Blob bytes received (tail, central directory, entry records).
    pub transferred: u64,
    pub requests: usize,
    /// Entries selected, and their compressed bytes.
    pub entries: usize,
    pub compressed: u64,
    pub central: u64,
    pub total: u64,
}

/// The signed URL in use, and how many times it was renewed.
struct Source<'a> {
    downloader: &'a Downloader,
    item: &'a Item,
    url: tokio::sync::Mutex<(Url, u64)>,
    requests: AtomicUsize,
    transferred: AtomicU64,
}

/// Fetches the entries of `item` that `select` takes into `part`, a sparse file the archive's
/// length. `auto`: only when they are a small share of it.
///
/// `landing` learns of each range as it is written (the tail and the central directory first),
/// so the selected entries can be extracted while later ones still arrive; it begins only once
/// the partial fetch is decided on.
pub(crate) async fn fetch(
    downloader: &Downloader,
    item: &Item,
    part: &Path,
    select: &PathGlobs,
    auto: bool,
    landing: &Landing,
) -> Result<Partial> {
    // The blob URL, and the archive's tail by range.
    let total = item.artifact.size_in_bytes;
    let url = match downloader.fresh_target(item).await? {
        Target::Redirect(url) => url,
        Target::Body(first) => {
            return Ok(Partial::whole(
                "the API serves the archive itself, without a blob URL to ask ranges of",
                Some(first),
            ));
        }
    };
    let source = Source {
        downloader,
        item,
        url: tokio::sync::Mutex::new((url, 0)),
        requests: AtomicUsize::new(0),
        transferred: AtomicU64::new(0),
    };
    let tail_start = total.saturating_sub(EOCD_MAX as u64);
    let tail = match source.first_range(tail_start, total).await? {
        Ok(tail) => tail,
        Err(first) => {
            return Ok(Partial::whole(
                "the blob server ignores Range (it answered 200 with the whole body)",
                Some(first),
            ));
        }
    };
    // The central directory: which bytes the selected entries need, and whether that is little.
    let parsed = central_directory(&source, &tail, tail_start, total).await;
    let central = match parsed {
        Ok(found) => found,
        Err(e) if e.is::<Unsupported>() => {
            return Ok(Partial::whole(format!("{e}"), None));
        }
        Err(e) => return Err(e.context(format!("artifact '{}'", item.artifact.name))),
    };
    let (entries, eocd) = (&central.entries, &central.eocd);
    let spans = central::selected_spans(entries, eocd.cd_offset, select);
    over_max_size(entries, &spans, downloader.config.max_size)?;
    let ranges = coalesce(spans.iter().map(|&(_, s, e)| (s, e)).collect());
    if let Some(reason) = too_much(auto, &ranges, tail.len() as u64, total) {
        return Ok(Partial::whole(reason, None));
    }
    // Those bytes, into a sparse copy of the archive, a few ranges at a time.
    land(&source, part, &tail, tail_start, &central, &ranges, landing).await?;
    Ok(Partial::Done(Stats {
        transferred: source.transferred.into_inner(),
        requests: source.requests.into_inner(),
        entries: spans.len(),
        compressed: spans.iter().map(|&(i, _, _)| entries[i].compressed).sum(),
        central: eocd.cd_size,
        total,
    }))
}

/// With `partial-download: auto`: why the selected entries (`ranges`, plus the `tail` already
/// fetched) are too large a share of the archive to fetch by range; `None` when they are not.
fn too_much(auto: bool, ranges: &[(u64, u64)], tail: u64, total: u64) -> Option<String> {
    let wanted: u64 = ranges.iter().map(|(s, e)| e - s).sum::<u64>() + tail;
    (auto && wanted.saturating_mul(AUTO_MAX_SHARE) > total).then(|| {
        format!(
            "partial-download: auto: the selected entries need {} of the {} archive, more than 1/{AUTO_MAX_SHARE}",
            human_bytes(wanted),
            human_bytes(total)
        )
    })
}

/// Writes what is already at hand (the tail from `tail_start`, the central directory) into a
/// sparse file the archive's length, tells `landing`, then fetches `ranges` into it, a few
/// pieces at a time.
async fn land(
    source: &Source<'_>,
    part: &Path,
    tail: &[u8],
    tail_start: u64,
    central: &Central,
    ranges: &[(u64, u64)],
    landing: &Landing,
) -> Result<()> {
    let (total, eocd, cd) = (
        source.item.artifact.size_in_bytes,
        &central.eocd,
        &central.cd,
    );
    let file = sparse_file(part, total)?;
    write_at(&file, tail, tail_start, part)?;
    write_at(&file, cd, eocd.cd_offset, part)?;
    landing.begin(total);
    landing.landed(tail_start, total);
    landing.landed(eocd.cd_offset, eocd.cd_offset + cd.len() as u64);
    let pieces = ranges.iter().flat_map(|&(s, e)| split(s, e));
    futures_util::stream::iter(pieces)
        .map(|(s, e)| source.piece(&file, part, s, e, landing))
        .buffer_unordered(CONNECTIONS)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// What the archive's end says: its EOCD record, the parsed central entries and the central
/// directory's bytes.
struct Central {
    eocd: central::Eocd,
    entries: Vec<central::CentralEntry>,
    cd: Vec<u8>,
}

/// The EOCD record, the parsed entries and the central directory's bytes: from the tail, or
/// with one more range request when the directory starts before it.
async fn central_directory(
    source: &Source<'_>,
    tail: &[u8],
    tail_start: u64,
    total: u64,
) -> Result<Central> {
    let eocd = central::find_eocd(tail, total)?;
    if eocd.cd_size > MAX_CENTRAL {
        return Err(anyhow::Error::new(Unsupported(format!(
            "its central directory is {}, more than partial fetch holds in memory",
            human_bytes(eocd.cd_size)
        ))));
    }
    let cd_end = eocd.cd_offset + eocd.cd_size;
    let cd = if eocd.cd_offset >= tail_start {
        tail[(eocd.cd_offset - tail_start) as usize..(cd_end - tail_start) as usize].to_vec()
    } else {
        let mut cd = source.range(eocd.cd_offset, tail_start).await?;
        cd.extend_from_slice(&tail[..(cd_end - tail_start) as usize]);
        cd
    };
    let entries = central::parse_central(&cd, &eocd)?;
    Ok(Central { eocd, entries, cd })
}

/// The selected entries' sizes as the central directory declares them, against `max-size`:
/// refused before their bytes are fetched (extraction would refuse them after). Final: no
/// other attempt changes what the directory declares.
fn over_max_size(
    entries: &[central::CentralEntry],
    spans: &[(usize, u64, u64)],
    max_size: u64,
) -> Result<()> {
    let selected = spans.iter().map(|&(i, _, _)| &entries[i]);
    let declared = selected
        .clone()
        .fold(0u64, |sum, e| sum.saturating_add(e.uncompressed));
    if declared <= max_size {
        return Ok(());
    }
    let largest = selected
        .max_by_key(|e| e.uncompressed)
        .expect("over 0 bytes");
    Err(anyhow::Error::new(Final(format!(
        "refusing the archive: its selected entries declare {declared} uncompressed bytes (the largest, entry {:?}, {} bytes), more than the limit of {max_size} bytes (max-size); refused before fetching them",
        String::from_utf8_lossy(&largest.name),
        largest.uncompressed
    ))))
}

/// Sorted spans, near ones merged.
fn coalesce(mut spans: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    spans.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (s, e) in spans {
        match out.last_mut() {
            Some(last) if s <= last.1.saturating_add(COALESCE_GAP) => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// `start..end` as pieces of at most [`SEGMENT`] bytes, so a large entry comes over several
/// connections.
fn split(start: u64, end: u64) -> impl Iterator<Item = (u64, u64)> {
    (start..end)
        .step_by(SEGMENT as usize)
        .map(move |s| (s, (s + SEGMENT).min(end)))
}

fn write_at(file: &File, bytes: &[u8], offset: u64, part: &Path) -> Result<()> {
    tokio::task::block_in_place(|| write_all_at(file, bytes, offset))
        .map_err(|e| local(e, "write", part))
}

impl Source<'_> {
    /// The first request: `Ok` the bytes of a 206, `Err` the response of a server that ignores
    /// `Range` (200, the whole body, not yet read).
    async fn first_range(&self, start: u64, end: u64) -> Result<Result<Vec<u8>, Reply>> {
        let url = self.url.lock().await.0.clone();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = self.downloader.blob.get(&url, start, Some(end - 1)).await;
        match response {
            Ok(r) if r.served() == Served::Whole => Ok(Err(r)),
            Ok(r) if matches!(r.served(), Served::Part { .. }) => {
                match self.read(r, start, end).await {
                    Ok(bytes) => Ok(Ok(bytes)),
                    Err(_) => self.range(start, end).await.map(Ok),
                }
            }
            // Expired (403), or a fault to retry: with a fresh URL, as any later range is.
            _ => {
                self.renew(0).await?;
                self.range(start, end).await.map(Ok)
            }
        }
    }

    /// A fresh signed URL, unless another request already fetched one since `generation`.
    async fn renew(&self, generation: u64) -> Result<()> {
        let mut slot = self.url.lock().await;
        if slot.1 == generation
            && let Target::Redirect(url) = self.downloader.fresh_target(self.item).await?
        {
            *slot = (url, generation + 1);
        }
        Ok(())
    }

    /// Bytes `start..end`, retried with backoff and a fresh signed URL (an expired one answers
    /// 403), like the segments of a whole download.
    async fn range(&self, start: u64, end: u64) -> Result<Vec<u8>> {
        let attempts = self.downloader.config.timing.attempts;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (url, generation) = self.url.lock().await.clone();
            self.requests.fetch_add(1, Ordering::Relaxed);
            let got = match self.downloader.blob.get(&url, start, Some(end - 1)).await {
                Ok(r) => self.read(r, start, end).await,
                Err(e) => Err(e),
            };
            let e = match got {
                Ok(bytes) => return Ok(bytes),
                Err(e) if super::download::is_final(&e) || attempt >= attempts => {
                    bail!(
                        "bytes {start}-{}: {e:#} (after {attempt} attempts)",
                        end - 1
                    )
                }
                Err(e) => e,
            };
            let wait = self.downloader.github.backoff().delay(attempt);
            self.downloader.log.warning(&format!(
                "artifact '{}': bytes {start}-{}: {e:#}; retrying in {} with a fresh URL (attempt {} of {attempts})",
                self.item.artifact.name,
                end - 1,
                seconds(wait),
                attempt + 1
            ));
            tokio::time::sleep(wait).await;
            self.renew(generation).await?;
        }
    }

    /// The body of a 206 for exactly `start..end`; anything else is an error to retry.
    async fn read(&self, response: Reply, start: u64, end: u64) -> Result<Vec<u8>> {
        let answer = response.served();
        if !matches!(answer, Served::Part { .. }) {
            bail!("range request answered {}", response.answered().await);
        }
        let total = self.item.artifact.size_in_bytes;
        if !answer.is_part_from(start) || answer.total() != Some(total) {
            bail!(
                "range request answered another range than bytes {start}-{}/{total}",
                end - 1
            );
        }
        let want = (end - start) as usize;
        let mut bytes = Vec::with_capacity(want);
        let mut body = response.body(want as u64);
        loop {
            let chunk = match body.next_chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(BodyError::Over) => {
                    bail!("the server sent more than bytes {start}-{}", end - 1)
                }
                Err(BodyError::Transport(e)) => return Err(e).context("connection cut"),
            };
            self.transferred
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() != want {
            bail!("body cut short: {} of {want} bytes", bytes.len());
        }
        Ok(bytes)
    }

    /// One piece of an entry's records, written at its offset.
    async fn piece(
        &self,
        file: &File,
        part: &Path,
        start: u64,
        end: u64,
        landing: &Landing,
    ) -> Result<()> {
        let _permit = self.downloader.slot().await;
        let bytes = self.range(start, end).await?;
        write_at(file, &bytes, start, part)?;
        landing.landed(start, end);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_spans_coalesce_and_large_ones_split() {
        let spans = vec![
            (5_000_000, 5_000_100),
            (0, 100),
            (200, 300),
            (3_000_000, 3_000_010),
        ];
        assert_eq!(
            coalesce(spans),
            [(0, 300), (3_000_000, 3_000_010), (5_000_000, 5_000_100)]
        );
        let pieces: Vec<_> = split(0, SEGMENT * 2 + 1).collect();
        assert_eq!(
            pieces,
            [
                (0, SEGMENT),
                (SEGMENT, 2 * SEGMENT),
                (2 * SEGMENT, 2 * SEGMENT + 1)
            ]
        );
    }
}
