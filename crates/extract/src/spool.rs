//! An archive streamed through memory instead of a temp file (issue 25): the ranges a download
//! receives are kept as they come, hashed once in order as the contiguous prefix grows, read from
//! memory by the extraction, and dropped once both the hash and the extraction are past them.
//! The bytes held in memory across all archives are bounded by a [`Budget`]; a range that does
//! not fit waits in a temp file instead (`spill`), read back from there.
//!
//! The download is faster than the extraction on a fast link, so a range far ahead of what the
//! extraction and the hash still need waits for room ([`Spool::room`]) before it is taken: its
//! connection stops reading, and TCP holds the rest. The ranges the readers need next never
//! wait (the [`NEAR`] bytes from the lowest one still needed, the central directory's segment,
//! and any range once the extraction is over), so neither side can wait on the other for ever;
//! a time limit backs that up.
//!
//! Why: the archive's page-cache writes, and the hash reading them back, were a fifth of `big`'s
//! CPU and almost a third of `huge`'s (docs/PERFORMANCE.md); the extracted files are what the
//! user asked for, the archive is not.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

// SHA-256 as the API's `digest` is defined ("sha256:" + hex of the bytes served).
use sha2::{Digest, Sha256};

use crate::positioned::{read_exact_at, write_all_at};

/// The first bytes kept aside: they tell a zip from a raw file after the range holding them is
/// gone.
const HEAD: usize = 16;
/// Bytes hashed per read of a spilled range.
const SPILL_READ: usize = 1 << 20;
/// Bytes from the lowest one still needed (by the hash or a reader) whose ranges never wait for
/// room: what the readers need next.
pub(crate) const NEAR: u64 = 4 << 20;
/// How far apart the extraction's writers may read a spooled archive: a writer takes a file
/// only this close to the lowest byte another still reads (see `queue.rs`), else the bytes
/// between them would all wait in memory.
pub(crate) const READERS_APART: u64 = 8 << 20;
/// Of the budget, what ranges further ahead may not take: kept for the ranges readers need next.
const KEPT_FOR_NEAR: u64 = 8 << 20;
/// The longest a range waits for room before it is taken anyway (to the spill file, if the
/// budget is still full): a guard, not a schedule.
const ROOM_WAIT_MAX: Duration = Duration::from_secs(2);
/// A range waits for room only while memory is being given back: when nothing was for this
/// long, the readers are stuck (on a slow range, say) and the range goes to the spill file.
const STUCK: Duration = Duration::from_millis(250);

/// Bytes that all spools together may hold in memory; past it, ranges go to their spill file.
#[derive(Debug)]
pub struct Budget {
    limit: u64,
    held: AtomicU64,
    /// Told whenever memory is given back or a spool's lowest needed byte moves.
    moved: tokio::sync::Notify,
    /// When memory was last given back, in milliseconds from `born`.
    freed_at: AtomicU64,
    born: Instant,
}

impl Budget {
    pub fn new(limit: u64) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            held: AtomicU64::new(0),
            moved: tokio::sync::Notify::new(),
            freed_at: AtomicU64::new(0),
            born: Instant::now(),
        })
    }

    /// Memory was given back in the last [`STUCK`]: the readers are moving.
    fn moving(&self) -> bool {
        let now = self.born.elapsed().as_millis() as u64;
        now.saturating_sub(self.freed_at.load(Ordering::Acquire)) < STUCK.as_millis() as u64
    }

    /// Whether a range further ahead than [`NEAR`] may take `n` bytes now.
    fn room_ahead(&self, n: u64) -> bool {
        self.held() + n + KEPT_FOR_NEAR.min(self.limit / 2) <= self.limit
    }

    /// Bytes held in memory now (for tests and the log).
    pub fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    fn take(&self, n: u64) -> bool {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held + n <= self.limit).then_some(held + n)
            })
            .is_ok()
    }

    fn give(&self, n: u64) {
        self.held.fetch_sub(n, Ordering::AcqRel);
        let now = self.born.elapsed().as_millis() as u64;
        self.freed_at.store(now, Ordering::Release);
    }
}

/// Room taken in a [`Budget`] for a whole small archive held in memory by its downloader;
/// given back when dropped.
#[derive(Debug)]
pub struct Hold {
    budget: Arc<Budget>,
    n: u64,
}

impl Budget {
    /// `n` bytes of room, if there are.
    pub fn hold(self: &Arc<Self>, n: u64) -> Option<Hold> {
        self.take(n).then(|| Hold {
            budget: Arc::clone(self),
            n,
        })
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.budget.give(self.n);
    }
}

/// Whether a range waited for room before it was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    Free,
    Waited,
}

/// Where a received range is.
enum Held {
    Memory(Arc<Vec<u8>>),
    /// In the spill file, at its own offset; this long.
    Spilled(u64),
}

impl Held {
    fn len(&self) -> u64 {
        match self {
            Held::Memory(bytes) => bytes.len() as u64,
            Held::Spilled(len) => *len,
        }
    }
}

#[derive(Default)]
struct Ranges {
    /// Received ranges not dropped yet: start -> bytes. They never overlap.
    held: BTreeMap<u64, Held>,
    spill: Option<Arc<File>>,
    /// Everything below this the extraction will not read again.
    consumed: u64,
    /// Something was dropped: the archive can no longer be read whole.
    dropped: bool,
    /// Bytes that went to the spill file.
    spilled: u64,
    head: Vec<u8>,
}

/// The SHA-256 of the contiguous prefix received so far.
struct HashFront {
    next: u64,
    hasher: Sha256,
}

/// One archive's received ranges; see the module doc.
pub(crate) struct Spool {
    budget: Arc<Budget>,
    spill_path: PathBuf,
    ranges: Mutex<Ranges>,
    /// Taken before `ranges` when both are: hashing runs outside the ranges' lock.
    front: Mutex<HashFront>,
    /// The hash front, readable without the lock.
    hashed: AtomicU64,
    /// Mirrors `Ranges::consumed`, readable without the lock.
    consumed: AtomicU64,
    /// The extraction is over (it failed): nothing waits for it any more.
    unread: AtomicBool,
}

impl Spool {
    pub(crate) fn new(spill_path: &Path, budget: Arc<Budget>) -> Spool {
        Spool {
            budget,
            spill_path: spill_path.to_path_buf(),
            ranges: Mutex::new(Ranges::default()),
            front: Mutex::new(HashFront {
                next: 0,
                hasher: Sha256::new(),
            }),
            hashed: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            unread: AtomicBool::new(false),
        }
    }

    pub(crate) fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    /// The lowest byte still needed, by the hash or a reader.
    fn needed_from(&self) -> u64 {
        let consumed = self.consumed.load(Ordering::Acquire);
        consumed.min(self.hashed.load(Ordering::Acquire))
    }

    /// Waits until `len` bytes received at `start` may be taken: at once for what the readers
    /// need next (`near`: the caller knows this range is, e.g. the central directory's), else
    /// once the budget has room ahead, at most [`ROOM_WAIT_MAX`].
    pub(crate) async fn room(&self, start: u64, len: u64, near: bool) -> Room {
        let deadline = Instant::now() + ROOM_WAIT_MAX;
        let mut waited = Room::Free;
        loop {
            let moved = self.budget.moved.notified();
            if near
                || self.unread.load(Ordering::Acquire)
                || start < self.needed_from().saturating_add(NEAR)
                || self.budget.room_ahead(len)
                || !self.budget.moving()
                || Instant::now() >= deadline
            {
                return waited;
            }
            waited = Room::Waited;
            // A short poll as well: a wake-up between the check and the wait is not lost for long.
            let _ = tokio::time::timeout(Duration::from_millis(20), moved).await;
        }
    }

    /// The extraction failed: ranges stop waiting for it; what it dropped is gone, so the rest
    /// is only hashed (else all of it is kept, to be extracted again).
    pub(crate) fn unread(&self) {
        self.unread.store(true, Ordering::Release);
        if self.lock().dropped {
            self.consumed(u64::MAX);
        }
        self.budget.moved.notify_waiters();
    }

    fn lock(&self) -> MutexGuard<'_, Ranges> {
        self.ranges.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keeps `bytes`, received at `start`, then hashes whatever prefix is now contiguous.
    pub(crate) fn put(&self, start: u64, bytes: Vec<u8>) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let len = bytes.len() as u64;
        {
            let mut ranges = self.lock();
            // The first bytes, gathered across ranges as short as a byte.
            let have = ranges.head.len();
            if have < HEAD && start == have as u64 {
                ranges
                    .head
                    .extend_from_slice(&bytes[..bytes.len().min(HEAD - have)]);
            }
            let held = if self.budget.take(bytes.capacity() as u64) {
                Held::Memory(Arc::new(bytes))
            } else {
                let file = self.spill_file(&mut ranges)?;
                write_all_at(&file, &bytes, start)?;
                ranges.spilled += len;
                Held::Spilled(len)
            };
            ranges.held.insert(start, held);
        }
        self.hash_forward()
    }

    /// The spill file, made on first use: a temp file of our own.
    fn spill_file(&self, ranges: &mut Ranges) -> io::Result<Arc<File>> {
        if let Some(file) = &ranges.spill {
            return Ok(Arc::clone(file));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&self.spill_path)?;
        let file = Arc::new(file);
        ranges.spill = Some(Arc::clone(&file));
        Ok(file)
    }

    /// Hashes the ranges that continue the prefix, in order, then drops what nobody needs.
    fn hash_forward(&self) -> io::Result<()> {
        let mut front = self.front.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let next = front.next;
            let (bytes, spill) = {
                let ranges = self.lock();
                match ranges.held.get(&next) {
                    Some(Held::Memory(bytes)) => (Ok(Arc::clone(bytes)), None),
                    Some(Held::Spilled(len)) => (Err(*len), ranges.spill.clone()),
                    None => break,
                }
            };
            let len = match (bytes, spill) {
                (Ok(bytes), _) => {
                    front.hasher.update(&bytes[..]);
                    bytes.len() as u64
                }
                (Err(len), Some(file)) => {
                    hash_spilled(&mut front.hasher, &file, next, len)?;
                    len
                }
                (Err(_), None) => unreachable!("a spilled range has a spill file"),
            };
            front.next = next + len;
            self.hashed.store(front.next, Ordering::Release);
        }
        drop(front);
        self.drop_consumed();
        Ok(())
    }

    /// The extraction will read nothing below `front` again.
    pub(crate) fn consumed(&self, front: u64) {
        {
            let mut ranges = self.lock();
            if front <= ranges.consumed {
                return;
            }
            ranges.consumed = front;
            self.consumed.store(front, Ordering::Release);
        }
        self.drop_consumed();
    }

    /// Drops the ranges both the hash and the extraction are past.
    fn drop_consumed(&self) {
        let mut ranges = self.lock();
        let below = ranges.consumed.min(self.hashed.load(Ordering::Acquire));
        while let Some(entry) = ranges.held.first_entry() {
            let (start, len) = (*entry.key(), entry.get().len());
            if start + len > below {
                break;
            }
            if let Held::Memory(bytes) = entry.remove() {
                self.budget.give(bytes.capacity() as u64);
            }
            ranges.dropped = true;
        }
        drop(ranges);
        self.budget.moved.notify_waiters();
    }

    /// Reads up to `buf.len()` bytes at `pos`, from one range (a short read at its end).
    pub(crate) fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        let ranges = self.lock();
        let Some((&start, held)) = ranges.held.range(..=pos).next_back() else {
            return Err(gone(pos));
        };
        let end = start + held.len();
        if pos >= end {
            return Err(gone(pos));
        }
        let n = buf.len().min((end - pos) as usize);
        match held {
            Held::Memory(bytes) => {
                let at = (pos - start) as usize;
                buf[..n].copy_from_slice(&bytes[at..at + n]);
            }
            Held::Spilled(_) => {
                let file = ranges.spill.clone().expect("a spilled range has a file");
                drop(ranges);
                read_exact_at(&file, &mut buf[..n], pos)?;
            }
        }
        Ok(n)
    }

    /// The SHA-256 of the first `total` bytes, once they have all been hashed.
    pub(crate) fn sha256(&self, total: u64) -> Option<[u8; 32]> {
        let front = self.front.lock().unwrap_or_else(|e| e.into_inner());
        (front.next == total).then(|| front.hasher.clone().finalize().into())
    }

    /// Bytes that did not fit the budget and waited in the spill file.
    pub(crate) fn spilled(&self) -> u64 {
        self.lock().spilled
    }

    pub(crate) fn head(&self) -> Vec<u8> {
        self.lock().head.clone()
    }

    /// Writes the whole archive (`total` bytes) into the spill file, which then holds it; `false`
    /// when part of it was dropped already.
    pub(crate) fn write_whole(&self, total: u64) -> io::Result<bool> {
        let mut ranges = self.lock();
        if ranges.dropped {
            return Ok(false);
        }
        let file = self.spill_file(&mut ranges)?;
        for (&start, held) in &ranges.held {
            if let Held::Memory(bytes) = held {
                write_all_at(&file, bytes, start)?;
            }
        }
        file.set_len(total)?;
        Ok(true)
    }

    /// Lets go of every range (the download failed or starts over).
    pub(crate) fn clear(&self) {
        let mut ranges = self.lock();
        for held in std::mem::take(&mut ranges.held).into_values() {
            if let Held::Memory(bytes) = held {
                self.budget.give(bytes.capacity() as u64);
            }
        }
        ranges.dropped = true;
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        self.clear();
    }
}

fn hash_spilled(hasher: &mut Sha256, file: &File, start: u64, len: u64) -> io::Result<()> {
    let mut buf = vec![0u8; SPILL_READ.min(len as usize)];
    let mut at = start;
    while at < start + len {
        let n = buf.len().min((start + len - at) as usize);
        read_exact_at(file, &mut buf[..n], at)?;
        hasher.update(&buf[..n]);
        at += n as u64;
    }
    Ok(())
}

fn gone(pos: u64) -> io::Error {
    io::Error::other(format!(
        "byte {pos} of the archive is no longer held (read after the extraction moved past it)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize, seed: u8) -> Vec<u8> {
        (0..n).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
    }

    fn read_all(spool: &Spool, total: u64) -> Vec<u8> {
        let mut out = vec![0u8; total as usize];
        let mut at = 0;
        while at < total {
            at += spool.read_at(at, &mut out[at as usize..]).unwrap() as u64;
        }
        out
    }

    #[test]
    fn ranges_out_of_order_are_hashed_once_in_order_and_read_back_joined() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::new(1 << 20);
        let spool = Spool::new(&dir.path().join("part"), Arc::clone(&budget));
        let whole = bytes(3000, 7);
        // The last range first (the central directory), then the rest, one split mid-way.
        spool.put(2000, whole[2000..].to_vec()).unwrap();
        assert_eq!(spool.sha256(3000), None);
        spool.put(0, whole[..700].to_vec()).unwrap();
        spool.put(700, whole[700..2000].to_vec()).unwrap();
        assert_eq!(spool.sha256(3000), Some(Sha256::digest(&whole).into()));
        // A read across two ranges is two reads, joined by the reader.
        assert_eq!(read_all(&spool, 3000), whole);
        assert_eq!(spool.head(), whole[..HEAD]);
        assert!(!dir.path().join("part").exists(), "nothing spilled");
    }

    #[test]
    fn past_the_budget_ranges_spill_to_the_file_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::new(1000);
        let spool = Spool::new(&dir.path().join("part"), Arc::clone(&budget));
        let whole = bytes(4000, 3);
        for (k, piece) in whole.chunks(800).enumerate().rev() {
            spool.put(k as u64 * 800, piece.to_vec()).unwrap();
            assert!(budget.held() <= 1000);
        }
        assert!(dir.path().join("part").exists());
        assert_eq!(spool.spilled(), 4000 - 800);
        assert_eq!(read_all(&spool, 4000), whole);
        assert_eq!(spool.sha256(4000), Some(Sha256::digest(&whole).into()));
    }

    #[test]
    fn a_range_is_dropped_only_once_hashed_and_consumed() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::new(1 << 20);
        let spool = Spool::new(&dir.path().join("part"), Arc::clone(&budget));
        spool.put(100, bytes(100, 1)).unwrap();
        spool.consumed(200);
        // Not hashed yet (byte 0 has not come): kept.
        assert!(spool.read_at(150, &mut [0u8; 10]).is_ok());
        spool.put(0, bytes(100, 2)).unwrap();
        assert!(spool.read_at(150, &mut [0u8; 10]).is_err(), "dropped");
        assert_eq!(budget.held(), 0);
        assert!(!spool.write_whole(200).unwrap(), "no longer whole");
    }

    #[test]
    fn a_hold_takes_room_only_where_there_is_and_gives_it_back() {
        let budget = Budget::new(100);
        let hold = budget.hold(60).unwrap();
        assert!(budget.hold(60).is_none());
        assert_eq!(budget.held(), 60);
        drop(hold);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn the_head_is_gathered_from_short_first_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(&dir.path().join("part"), Budget::new(1 << 20));
        let whole = bytes(100, 4);
        spool.put(0, whole[..3].to_vec()).unwrap();
        spool.put(3, whole[3..].to_vec()).unwrap();
        assert_eq!(spool.head(), whole[..HEAD]);
    }

    /// A range far ahead waits for room while the readers give memory back; the ranges they
    /// need next, and any range once the extraction is over, do not.
    #[tokio::test]
    async fn a_range_far_ahead_waits_for_room_and_a_near_one_does_not() {
        const MIB: u64 = 1 << 20;
        let dir = tempfile::tempdir().unwrap();
        // 10 MiB, of which ranges further ahead than NEAR may take 5 MiB.
        let budget = Budget::new(10 * MIB);
        let spool = Arc::new(Spool::new(&dir.path().join("part"), Arc::clone(&budget)));
        spool.put(0, vec![1u8; 5 * MIB as usize]).unwrap();
        // Within NEAR of the lowest byte the readers still need (0): no wait.
        assert_eq!(spool.room(2 * MIB, MIB, false).await, Room::Free);
        // Memory was given back just now: the readers are moving, so a far range waits...
        budget.give(0);
        let far = NEAR + 4 * MIB;
        let waiting = {
            let spool = Arc::clone(&spool);
            tokio::spawn(async move { spool.room(far, MIB, false).await })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiting.is_finished(), "a far range took room there is not");
        // ... until the readers are past the first range, which frees it.
        spool.consumed(5 * MIB);
        assert_eq!(waiting.await.unwrap(), Room::Waited);
        assert_eq!(budget.held(), 0);
        // The central directory's segment never waits; nor does anything once nobody reads.
        spool.put(5 * MIB, vec![2u8; 5 * MIB as usize]).unwrap();
        budget.give(0);
        let further = 40 * MIB;
        assert_eq!(spool.room(further, 9 * MIB, true).await, Room::Free);
        spool.unread();
        assert_eq!(spool.room(further, 9 * MIB, false).await, Room::Free);
    }

    #[test]
    fn an_intact_spool_writes_the_whole_archive_to_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let budget = Budget::new(600);
        let path = dir.path().join("part");
        let spool = Spool::new(&path, Arc::clone(&budget));
        let whole = bytes(1500, 9);
        for (k, piece) in whole.chunks(500).enumerate() {
            spool.put(k as u64 * 500, piece.to_vec()).unwrap();
        }
        assert!(spool.write_whole(1500).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), whole);
        drop(spool);
        assert_eq!(budget.held(), 0, "memory given back on drop");
    }
}
