//! The order in which file-writing threads take entries: of the entries whose bytes have landed,
//! the largest first, in a directory no other thread is writing into; when none has landed, the
//! next in archive order (its reader waits for the bytes).
//!
//! Why largest first: a big file started last leaves one thread working alone. And it measured
//! 3x faster on `wide` (20,000 files, 100 to a directory) than taking entries in archive order,
//! directory by directory, on this VM's ext4; two threads creating files in one directory at
//! once was slower still, spinning on the directory's lock (docs/PERFORMANCE.md, "wide").

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// How many of the largest landed entries a thread looks through for one in a free directory.
const LOOK: usize = 16;

/// What a worker gets from [`Queue::take`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Taken {
    Job(usize),
    /// Nothing it may take yet (see [`Queue::within`]): ask again shortly.
    Wait,
    /// Every job has been handed out.
    Done,
}

/// One file to write, as the queue sees it.
pub(super) struct Job<'a> {
    /// Its relative path.
    pub(super) path: &'a str,
    pub(super) size: u64,
    /// The archive bytes it needs, for an archive still landing; `None`: already there.
    pub(super) span: Option<(u64, u64)>,
}

pub(super) struct Queue<'a> {
    state: Mutex<State<'a>>,
    /// Per worker slot, the archive byte its reader read last (its job's start when it takes
    /// one; `u64::MAX` when it has none): it never reads below that again for this job.
    cursors: Vec<Arc<AtomicU64>>,
    /// See [`Queue::within`].
    gap: Option<u64>,
}

struct State<'a> {
    jobs: &'a [Job<'a>],
    /// Jobs in archive order; those before `next` have moved to `ready` or been taken.
    in_order: Vec<usize>,
    next: usize,
    /// Landed and not taken yet: the largest on top (the earlier one among equals).
    ready: BinaryHeap<(u64, Reverse<usize>)>,
    /// The directory each worker is writing into, by worker slot.
    busy: Vec<Option<&'a str>>,
    /// Within a gap: `(span start, job)` of every job not handed out yet (0 for a job without a
    /// span). Empty otherwise.
    pending: BTreeSet<(u64, usize)>,
}

/// Where a job's bytes begin in the archive (0 when they are all there).
fn start(job: &Job<'_>) -> u64 {
    job.span.map_or(0, |(start, _)| start)
}

impl<'a> State<'a> {
    /// Job `i`'s directory: its path up to the last `/`.
    fn dir(&self, i: usize) -> &'a str {
        let path = self.jobs[i].path;
        path.rfind('/').map_or("", |end| &path[..end])
    }
}

impl<'a> Queue<'a> {
    pub(super) fn new(jobs: &'a [Job<'a>], workers: usize) -> Self {
        let mut in_order: Vec<usize> = (0..jobs.len()).collect();
        in_order.sort_by_key(|&i| jobs[i].span.map(|(start, _)| start));
        Self {
            state: Mutex::new(State {
                jobs,
                in_order,
                next: 0,
                ready: BinaryHeap::new(),
                busy: vec![None; workers],
                pending: BTreeSet::new(),
            }),
            cursors: (0..workers)
                .map(|_| Arc::new(AtomicU64::new(u64::MAX)))
                .collect(),
            gap: None,
        }
    }

    /// For an archive streamed through memory: a worker takes only a job that starts less than
    /// `gap` bytes past the lowest byte another worker (or a job not handed out) still needs,
    /// in archive order, so what must be held between them stays small; largest first would
    /// hold the bytes of every job it skipped.
    pub(super) fn within(mut self, gap: u64) -> Self {
        let s = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        s.pending = (0..s.jobs.len()).map(|i| (start(&s.jobs[i]), i)).collect();
        self.gap = Some(gap);
        self
    }

    /// [`Self::take_next`] for a queue that never says wait (no [`Self::within`]): `Some` job,
    /// or `None` when none is left.
    #[cfg(test)]
    pub(super) fn take(&self, slot: usize, landed: impl Fn(u64, u64) -> bool) -> Option<usize> {
        match self.take_next(slot, landed) {
            Taken::Job(i) => Some(i),
            Taken::Done => None,
            Taken::Wait => unreachable!("only a queue within a gap waits"),
        }
    }

    /// The next job for worker `slot` (done with its previous one). `landed(start, end)`:
    /// whether those archive bytes are all there.
    pub(super) fn take_next(&self, slot: usize, landed: impl Fn(u64, u64) -> bool) -> Taken {
        let Some(gap) = self.gap else {
            return self
                .take_largest(slot, landed)
                .map_or(Taken::Done, Taken::Job);
        };
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *guard;
        s.busy[slot] = None;
        self.cursors[slot].store(u64::MAX, Ordering::Release);
        let Some(&(lowest, _)) = s.pending.first() else {
            return Taken::Done;
        };
        let others =
            (self.cursors.iter().map(|c| c.load(Ordering::Acquire))).fold(lowest, u64::min);
        let limit = others.saturating_add(gap);
        let near: Vec<(u64, usize)> = s
            .pending
            .range(..(limit, 0))
            .take(LOOK * 4)
            .copied()
            .collect();
        let free = |i: usize| s.busy.iter().all(|b| *b != Some(s.dir(i)));
        let is_landed = |i: usize| s.jobs[i].span.is_none_or(|(a, b)| landed(a, b));
        let pick = near
            .iter()
            .find(|&&(_, i)| is_landed(i) && free(i))
            .or_else(|| near.iter().find(|&&(_, i)| is_landed(i)))
            .or(near.first());
        let Some(&(start, i)) = pick else {
            return Taken::Wait;
        };
        s.pending.remove(&(start, i));
        s.busy[slot] = Some(s.dir(i));
        self.cursors[slot].store(start, Ordering::Release);
        Taken::Job(i)
    }

    /// The next job for worker `slot` (done with its previous one), the largest landed first,
    /// or `None` when every job has been handed out.
    fn take_largest(&self, slot: usize, landed: impl Fn(u64, u64) -> bool) -> Option<usize> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = &mut *guard;
        s.busy[slot] = None;
        while let Some(&i) = s.in_order.get(s.next)
            && s.jobs[i].span.is_none_or(|(start, end)| landed(start, end))
        {
            s.ready.push((s.jobs[i].size, Reverse(i)));
            s.next += 1;
        }
        let i = if s.ready.is_empty() {
            let i = *s.in_order.get(s.next)?;
            s.next += 1;
            i
        } else {
            let mut looked = Vec::with_capacity(LOOK);
            while looked.len() < LOOK
                && let Some(top) = s.ready.pop()
            {
                looked.push(top);
            }
            let free = |i: usize| s.busy.iter().all(|b| *b != Some(s.dir(i)));
            let pick = looked
                .iter()
                .position(|&(_, Reverse(i))| free(i))
                .unwrap_or(0);
            let (_, Reverse(i)) = looked.swap_remove(pick);
            s.ready.extend(looked);
            i
        };
        s.busy[slot] = Some(s.dir(i));
        Some(i)
    }

    /// Where worker `slot`'s archive reader records what it reads.
    pub(super) fn cursor(&self, slot: usize) -> Arc<AtomicU64> {
        Arc::clone(&self.cursors[slot])
    }

    /// Within a gap, the lowest archive byte a writer may still read: where each writer's
    /// reader is in its job, or the start of the earliest job not handed out; `u64::MAX` once
    /// all are done.
    pub(super) fn front(&self) -> u64 {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let pending = s.pending.first().map_or(u64::MAX, |&(start, _)| start);
        let reading = self.cursors.iter().map(|c| c.load(Ordering::Acquire));
        reading.fold(pending, u64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Path, size and span of each job.
    type Spec<'a> = (&'a str, u64, Option<(u64, u64)>);

    fn jobs<'a>(list: &[Spec<'a>]) -> Vec<Job<'a>> {
        list.iter()
            .map(|&(path, size, span)| Job { path, size, span })
            .collect()
    }

    fn all_there(_: u64, _: u64) -> bool {
        true
    }

    #[test]
    fn a_finished_archive_goes_largest_first() {
        let jobs = jobs(&[
            ("a", 1, None),
            ("b", 9, None),
            ("c", 5, None),
            ("d", 9, None),
        ]);
        let q = Queue::new(&jobs, 1);
        let got: Vec<_> = std::iter::from_fn(|| q.take(0, all_there)).collect();
        assert_eq!(got, vec![1, 3, 2, 0]);
    }

    #[test]
    fn two_workers_take_files_from_different_directories() {
        let jobs = jobs(&[
            ("a/1", 9, None),
            ("a/2", 8, None),
            ("b/1", 7, None),
            ("a/3", 6, None),
            ("c/1", 5, None),
        ]);
        let q = Queue::new(&jobs, 2);
        assert_eq!(q.take(0, all_there), Some(0)); // a/1
        assert_eq!(q.take(1, all_there), Some(2)); // b/1: a is busy
        assert_eq!(q.take(0, all_there), Some(1)); // a/2: a is its own directory
        assert_eq!(q.take(1, all_there), Some(4)); // c/1: a is busy
        assert_eq!(q.take(1, all_there), Some(3)); // a/3: nothing else is left
        assert_eq!(q.take(0, all_there), None);
        assert_eq!(q.take(1, all_there), None);
    }

    #[test]
    fn a_landing_archive_gives_what_has_landed_before_what_has_not() {
        // Archive order is by span start, whatever the order of the list.
        let jobs = jobs(&[
            ("late", 100, Some((200, 300))),
            ("small", 1, Some((0, 100))),
            ("big", 50, Some((100, 200))),
        ]);
        let q = Queue::new(&jobs, 1);
        let upto = |n: u64| move |_: u64, end: u64| end <= n;
        // Nothing has landed: the first in archive order, whose reader will wait.
        assert_eq!(q.take(0, upto(0)), Some(1));
        // The next two have landed: the largest of them, though later in the archive.
        assert_eq!(q.take(0, upto(300)), Some(0));
        assert_eq!(q.take(0, upto(300)), Some(2));
        assert_eq!(q.take(0, upto(300)), None);
    }

    #[test]
    fn the_front_is_the_earliest_job_not_finished() {
        let jobs = jobs(&[
            ("a", 1, Some((0, 100))),
            ("b", 50, Some((100, 200))),
            ("c", 9, Some((200, 300))),
        ]);
        let q = Queue::new(&jobs, 2).within(1000);
        assert_eq!(q.front(), 0);
        assert_eq!(q.take_next(0, all_there), Taken::Job(0));
        assert_eq!(q.take_next(1, all_there), Taken::Job(1));
        assert_eq!(q.front(), 0, "a is in hand, not read yet");
        // Worker 0's reader is 60 bytes into a; worker 1's at 150, in b.
        q.cursor(0).store(60, Ordering::Release);
        q.cursor(1).store(150, Ordering::Release);
        assert_eq!(q.front(), 60);
        assert_eq!(q.take_next(0, all_there), Taken::Job(2));
        assert_eq!(q.front(), 150, "a is done; b is read from 150 on");
        assert_eq!(q.take_next(1, all_there), Taken::Done);
        assert_eq!(q.front(), 200, "c is in hand");
        assert_eq!(q.take_next(0, all_there), Taken::Done);
        assert_eq!(q.front(), u64::MAX);
    }

    #[test]
    fn within_a_gap_a_worker_waits_for_the_others_to_come_near() {
        let jobs = jobs(&[
            ("a", 1, Some((0, 100))),
            ("b", 50, Some((100, 200))),
            ("c", 90, Some((1000, 1100))),
        ]);
        let q = Queue::new(&jobs, 2).within(500);
        // Archive order, not the largest first: c would hold everything between.
        assert_eq!(q.take_next(0, all_there), Taken::Job(0));
        assert_eq!(q.take_next(1, all_there), Taken::Job(1));
        // Worker 1 is done with b; worker 0 is 50 bytes into a: c is more than 500 past.
        q.cursor(0).store(50, Ordering::Release);
        assert_eq!(q.take_next(1, all_there), Taken::Wait);
        q.cursor(0).store(600, Ordering::Release);
        assert_eq!(q.take_next(1, all_there), Taken::Job(2));
        assert_eq!(q.take_next(0, all_there), Taken::Done);
    }

    #[test]
    fn every_file_is_handed_out_once_across_threads() {
        let paths: Vec<String> = (0..2000).map(|i| format!("d{}/f{i}", i / 100)).collect();
        let jobs: Vec<Job<'_>> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| Job {
                path: p,
                size: (i as u64 * 7919) % 1000,
                span: Some((i as u64 * 10, i as u64 * 10 + 10)),
            })
            .collect();
        let q = Queue::new(&jobs, 4);
        let landed = std::sync::atomic::AtomicU64::new(0);
        let mut all: Vec<usize> = std::thread::scope(|s| {
            let (q, landed) = (&q, &landed);
            let hands: Vec<_> = (0..4)
                .map(|slot| {
                    s.spawn(move || {
                        std::iter::from_fn(|| {
                            // The archive lands as the workers go.
                            let upto = landed.fetch_add(37, std::sync::atomic::Ordering::Relaxed);
                            q.take(slot, |_, end| end <= upto)
                        })
                        .collect::<Vec<_>>()
                    })
                })
                .collect();
            hands.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        all.sort_unstable();
        assert_eq!(all, (0..2000).collect::<Vec<_>>());
    }
}
