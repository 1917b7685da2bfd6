//! An archive that is still arriving: which byte ranges of the download's temp file have landed,
//! and a reader over that file whose reads wait for the bytes they need.
//!
//! A ranged download writes segments in place, out of order, and never rewrites a completed one;
//! so once a range has landed, what the reader sees there is what the final SHA-256 covers. The
//! downloader marks ranges landed, and poisons the landing before anything could change landed
//! bytes (a restart from byte 0, a second download): every read then fails, and whatever was
//! extracted from it is thrown away. Nothing here decides what reaches the destination: the
//! staged tree moves there only after the whole archive's digest matched.
//!
//! A landing may keep the ranges itself, in memory ([`Landing::spooled`], see `spool.rs`): then
//! there is no file to read, and the extraction says how far it got ([`Source::consumed`]) so
//! what it is past can be dropped.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::spool::{Budget, Hold, Room, Spool};

/// How often a waiting reader looks at the process-wide cancellation flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Where a download stands, as the waiting extractor sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not known yet whether the archive comes in ranges.
    Waiting,
    /// Ranged: this many bytes in all, landing out of order.
    Began(u64),
    /// No overlap for this download: it came whole, failed or was poisoned.
    Over,
}

#[derive(Default)]
struct State {
    /// Landed ranges, merged: start -> end (exclusive).
    landed: BTreeMap<u64, u64>,
    /// Why reads must fail: the bytes on disk may change, or the download failed.
    poisoned: Option<String>,
    /// The download is over: what has not landed never will (a partial fetch's holes).
    closed: bool,
}

/// The shared record of one download's landed bytes.
pub struct Landing {
    state: Mutex<State>,
    changed: Condvar,
    phase: tokio::sync::watch::Sender<Phase>,
    /// The ranges themselves, when they are kept in memory rather than written to a file.
    spool: Option<Spool>,
}

impl Default for Landing {
    fn default() -> Self {
        Self::new()
    }
}

impl Landing {
    pub fn new() -> Landing {
        Landing {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            phase: tokio::sync::watch::Sender::new(Phase::Waiting),
            spool: None,
        }
    }

    /// A landing that keeps the ranges it is given ([`Self::put`]) in memory, within `budget`,
    /// and in a temp file at `spill` past it.
    pub fn spooled(spill: &Path, budget: Arc<Budget>) -> Landing {
        Landing {
            spool: Some(Spool::new(spill, budget)),
            ..Landing::new()
        }
    }

    /// Keeps its ranges itself ([`Self::spooled`]) and can still take them (not poisoned).
    pub fn takes_ranges(&self) -> bool {
        self.spool.is_some() && !self.is_poisoned()
    }

    /// Room in the spool's budget for a whole archive of `n` bytes that its downloader holds
    /// in memory itself (it comes in one response): `None` when there is none, or the landing
    /// does not stream.
    pub fn hold(&self, n: u64) -> Option<Hold> {
        let spool = self.spool.as_ref().filter(|_| !self.is_poisoned())?;
        spool.budget().hold(n)
    }

    /// Waits until bytes received at `start` may be taken (see `spool.rs`); `near`: the
    /// readers need them first (the central directory's segment).
    pub async fn room(&self, start: u64, len: u64, near: bool) -> Room {
        match &self.spool {
            Some(spool) if !self.is_poisoned() => spool.room(start, len, near).await,
            _ => Room::Free,
        }
    }

    /// The extraction reading this landing ended in failure: nothing waits for it any more.
    pub fn unread(&self) {
        if let Some(spool) = &self.spool {
            spool.unread();
        }
    }

    /// Bytes received at `start`, kept and marked landed: a spooled landing only.
    pub fn put(&self, start: u64, bytes: Vec<u8>) -> io::Result<()> {
        let spool = self.spool.as_ref().expect("put on a spooled landing");
        let end = start + bytes.len() as u64;
        spool.put(start, bytes)?;
        self.landed(start, end);
        Ok(())
    }

    /// The SHA-256 of a spooled archive of `total` bytes, once every byte came.
    pub fn sha256(&self, total: u64) -> Option<[u8; 32]> {
        self.spool.as_ref()?.sha256(total)
    }

    /// Bytes of a spooled archive that waited in its spill file, past the memory budget.
    pub fn spilled(&self) -> u64 {
        self.spool.as_ref().map_or(0, Spool::spilled)
    }

    /// A spooled archive's first bytes.
    pub fn head(&self) -> Vec<u8> {
        self.spool.as_ref().map(Spool::head).unwrap_or_default()
    }

    /// Writes a spooled archive of `total` bytes whole into its spill file (a raw file to save,
    /// or an archive to extract again); `false` when part of it was dropped already.
    pub fn write_whole(&self, total: u64) -> io::Result<bool> {
        match &self.spool {
            Some(spool) if !self.is_poisoned() => spool.write_whole(total),
            _ => Ok(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The download comes in ranges, `total` bytes in all, written in place. Only the first call
    /// counts, and none after a poisoning.
    pub fn begin(&self, total: u64) {
        let poisoned = self.lock().poisoned.is_some();
        self.phase.send_if_modified(|p| {
            let start = *p == Phase::Waiting && !poisoned;
            if start {
                *p = Phase::Began(total);
            }
            start
        });
    }

    /// Bytes `start..end` are written and will not change again.
    pub fn landed(&self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let mut state = self.lock();
        let (mut start, mut end) = (start, end);
        // Merge with a range that ends at or after `start` and begins before it...
        if let Some((&s, &e)) = state.landed.range(..=start).next_back()
            && e >= start
        {
            start = s;
            end = end.max(e);
            state.landed.remove(&s);
        }
        // ... and with every range that begins inside the new one.
        while let Some((&s, &e)) = state.landed.range(start..=end).next() {
            end = end.max(e);
            state.landed.remove(&s);
        }
        state.landed.insert(start, end);
        drop(state);
        self.changed.notify_all();
    }

    /// Reads must fail from now on: the bytes on disk may change (a restart, a second download)
    /// or will never all land. Sticky.
    pub fn poison(&self, why: &str) {
        let mut state = self.lock();
        if state.poisoned.is_none() {
            state.poisoned = Some(why.to_owned());
        }
        drop(state);
        if let Some(spool) = &self.spool {
            // Nothing will read it again: its memory goes back to the budget now.
            spool.clear();
        }
        self.phase.send_replace(Phase::Over);
        self.changed.notify_all();
    }

    /// The download is over: if it never began in ranges, nobody should wait for it to; and a
    /// read of bytes that never landed fails at once instead of waiting for ever.
    pub fn close(&self) {
        self.lock().closed = true;
        self.changed.notify_all();
        self.phase.send_if_modified(|p| {
            let waiting = *p == Phase::Waiting;
            if waiting {
                *p = Phase::Over;
            }
            waiting
        });
    }

    pub fn is_poisoned(&self) -> bool {
        self.lock().poisoned.is_some()
    }

    /// Bytes landed so far (for the log).
    pub fn landed_bytes(&self) -> u64 {
        self.lock().landed.iter().map(|(s, e)| e - s).sum()
    }

    /// Whether bytes `start..end` have all landed.
    fn holds(&self, start: u64, end: u64) -> bool {
        let state = self.lock();
        state
            .landed
            .range(..=start)
            .next_back()
            .is_some_and(|(_, &e)| e >= end)
    }

    /// Waits until the download begins in ranges (its total size) or is over without (`None`).
    pub async fn began(&self) -> Option<u64> {
        let mut rx = self.phase.subscribe();
        let phase = rx
            .wait_for(|p| *p != Phase::Waiting)
            .await
            .map(|p| *p)
            .unwrap_or(Phase::Over);
        match phase {
            Phase::Began(total) => Some(total),
            _ => None,
        }
    }

    /// Blocks until byte `pos` has landed; returns the end of the landed range holding it.
    fn wait_for(&self, pos: u64) -> io::Result<u64> {
        let mut state = self.lock();
        loop {
            if let Some(why) = &state.poisoned {
                return Err(io::Error::other(format!("download not usable: {why}")));
            }
            if util::cancel::cancelled() {
                return Err(io::Error::other("cancelled"));
            }
            if let Some((_, &end)) = state.landed.range(..=pos).next_back()
                && end > pos
            {
                return Ok(end);
            }
            if state.closed {
                return Err(io::Error::other(format!(
                    "byte {pos} of the archive was never fetched: its records point outside what its central directory selected"
                )));
            }
            state = self
                .changed
                .wait_timeout(state, CANCEL_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// An archive to extract: a finished file, or one still landing.
#[derive(Clone)]
pub struct Source {
    path: PathBuf,
    len: u64,
    landing: Option<Arc<Landing>>,
    /// A small archive held in memory: `path` names it in messages but was never written.
    memory: Option<Arc<[u8]>>,
}

impl Source {
    /// A complete file.
    pub fn file(path: &Path) -> io::Result<Source> {
        let len = std::fs::metadata(path)?.len();
        Ok(Source {
            path: path.to_path_buf(),
            len,
            landing: None,
            memory: None,
        })
    }

    /// A complete archive held in memory; `path` is what messages call it.
    pub fn memory(path: &Path, bytes: Arc<[u8]>) -> Source {
        Source {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
            landing: None,
            memory: Some(bytes),
        }
    }

    /// A file of `len` bytes still being written, in the ranges `landing` reports.
    pub fn landing(path: &Path, len: u64, landing: Arc<Landing>) -> Source {
        Source {
            path: path.to_path_buf(),
            len,
            landing: Some(landing),
            memory: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    #[allow(clippy::len_without_is_empty)] // an archive is never empty (22 bytes at least)
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Kept in memory as it arrives: what the readers are past is dropped.
    pub fn is_spooled(&self) -> bool {
        self.landing.as_ref().is_some_and(|l| l.spool.is_some())
    }

    /// Still arriving: checks that need the whole archive wait for each entry's turn.
    pub fn is_landing(&self) -> bool {
        self.landing.is_some()
    }

    /// For an archive still arriving: the bytes landed so far, and its size.
    pub fn landing_state(&self) -> Option<(u64, u64)> {
        let landing = self.landing.as_ref()?;
        Some((landing.landed_bytes(), self.len))
    }

    /// Whether bytes `start..end` are there to read without waiting.
    pub fn has_landed(&self, start: u64, end: u64) -> bool {
        self.landing.as_ref().is_none_or(|l| l.holds(start, end))
    }

    /// The extraction will read nothing below `front` again: a spooled archive may drop it.
    pub fn consumed(&self, front: u64) {
        if let Some(spool) = self.landing.as_ref().and_then(|l| l.spool.as_ref()) {
            spool.consumed(front);
        }
    }

    /// [`Self::open`], recording in `cursor` where each read starts (an extraction thread's
    /// archive reader, so what it is past can be dropped).
    pub fn open_tracked(&self, cursor: Arc<AtomicU64>) -> io::Result<Reader> {
        let mut reader = self.open()?;
        reader.cursor = Some(cursor);
        Ok(reader)
    }

    /// A reader of its own (each extraction thread has one).
    pub fn open(&self) -> io::Result<Reader> {
        let bytes = match (&self.memory, &self.landing) {
            (Some(bytes), _) => Bytes::Memory(Arc::clone(bytes)),
            (None, Some(landing)) if landing.spool.is_some() => Bytes::Spool(Arc::clone(landing)),
            (None, _) => Bytes::File(File::open(&self.path)?),
        };
        Ok(Reader {
            bytes,
            pos: 0,
            len: self.len,
            landing: self.landing.clone(),
            cursor: None,
        })
    }
}

/// Positional reads (no seek syscalls), waiting for bytes that have not landed yet.
pub struct Reader {
    bytes: Bytes,
    pos: u64,
    len: u64,
    landing: Option<Arc<Landing>>,
    /// Where the last read started, for whoever tracks this reader.
    cursor: Option<Arc<AtomicU64>>,
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        if let Some(cursor) = &self.cursor {
            cursor.store(self.pos, Ordering::Release);
        }
        let end = match &self.landing {
            Some(landing) => landing.wait_for(self.pos)?.min(self.len),
            None => self.len,
        };
        let n = buf.len().min((end - self.pos) as usize);
        let got = match &self.bytes {
            Bytes::File(file) => read_at(file, &mut buf[..n], self.pos)?,
            Bytes::Memory(bytes) => {
                let at = self.pos as usize;
                buf[..n].copy_from_slice(&bytes[at..at + n]);
                n
            }
            Bytes::Spool(landing) => {
                let spool = landing.spool.as_ref().expect("opened as spooled");
                spool.read_at(self.pos, &mut buf[..n])?
            }
        };
        self.pos += got as u64;
        Ok(got)
    }
}

/// Where a reader's bytes are.
enum Bytes {
    File(File),
    Memory(Arc<[u8]>),
    /// The ranges a spooled landing keeps.
    Spool(Arc<Landing>),
}

impl Seek for Reader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = pos.ok_or_else(|| io::Error::other("seek before the start of the archive"))?;
        Ok(self.pos)
    }

    fn stream_position(&mut self) -> io::Result<u64> {
        Ok(self.pos)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landed_ranges_merge() {
        let l = Landing::new();
        l.landed(10, 20);
        l.landed(30, 40);
        l.landed(20, 30);
        assert_eq!(l.lock().landed.iter().collect::<Vec<_>>(), [(&10, &40)]);
        l.landed(0, 5);
        l.landed(3, 12);
        assert_eq!(l.lock().landed.iter().collect::<Vec<_>>(), [(&0, &40)]);
        assert_eq!(l.landed_bytes(), 40);
        assert_eq!(l.wait_for(39).unwrap(), 40);
    }

    /// Issue 24, bug 3: a partial fetch leaves holes; once it is over, a reader that asks for
    /// a hole (an archive whose records point there) fails instead of waiting for ever, whether
    /// it was already waiting or asks afterwards.
    #[test]
    fn a_read_of_bytes_that_never_landed_fails_once_the_download_is_over() {
        let l = Arc::new(Landing::new());
        l.begin(100);
        l.landed(90, 100);
        let waiting = {
            let l = Arc::clone(&l);
            std::thread::spawn(move || l.wait_for(10))
        };
        l.close();
        let err = waiting.join().unwrap().unwrap_err().to_string();
        assert!(
            err.contains("byte 10") && err.contains("never fetched"),
            "{err}"
        );
        assert!(l.wait_for(50).is_err());
        assert_eq!(l.wait_for(95).unwrap(), 100);
    }

    #[test]
    fn a_reader_waits_for_landed_bytes_and_fails_once_poisoned() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("part");
        std::fs::write(&path, b"0123456789").unwrap();
        let landing = Arc::new(Landing::new());
        let source = Source::landing(&path, 10, Arc::clone(&landing));
        landing.landed(8, 10);
        let mut tail = source.open().unwrap();
        tail.seek(SeekFrom::End(-2)).unwrap();
        let mut got = String::new();
        tail.read_to_string(&mut got).unwrap();
        assert_eq!(got, "89");
        let mut head = source.open().unwrap();
        let reading = std::thread::spawn(move || {
            let mut buf = [0u8; 4];
            head.read_exact(&mut buf).map(|()| buf)
        });
        landing.landed(0, 4);
        assert_eq!(&reading.join().unwrap().unwrap(), b"0123");
        let mut middle = source.open().unwrap();
        middle.seek(SeekFrom::Start(5)).unwrap();
        let waiting = std::thread::spawn(move || middle.read(&mut [0u8; 2]));
        landing.poison("restarted");
        assert!(waiting.join().unwrap().is_err());
        assert!(landing.is_poisoned());
    }
}
