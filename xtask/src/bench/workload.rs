//! The workloads: the artifacts each one serves, generated once per benchmark run.

use super::machine::cores;
use anyhow::Result;
use fakehub::zipbuild::{self, Entry, Method, Prepared};
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Big,
    Many,
    Wide,
    Huge,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Big => "big",
            Kind::Many => "many",
            Kind::Wide => "wide",
            Kind::Huge => "huge",
        }
    }

    pub(super) fn throttled_variant(self) -> bool {
        matches!(self, Kind::Big | Kind::Huge)
    }
}

/// The bytes of one workload.
pub(super) struct Data {
    pub(super) kind: Kind,
    pub(super) artifacts: Vec<(String, Vec<u8>)>,
    pub(super) extracted: u64,
    pub(super) files: u64,
}

impl Data {
    pub(super) fn archive(&self) -> u64 {
        self.artifacts.iter().map(|(_, b)| b.len() as u64).sum()
    }
}

/// Runs `f(0..n)` on one thread per core; results in index order.
pub(super) fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, T)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores().min(n.max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break got;
                        }
                        got.push((i, f(i)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Vec<(usize, T)> = parts.drain(..).flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// A deflated file: text for even `i`, random bytes for odd `i` (half compressible, half not).
pub(super) fn payload_entry(name: String, len: usize, i: usize, seed: u64) -> Entry {
    let data = if i.is_multiple_of(2) {
        zipbuild::text_payload(len, seed)
    } else {
        zipbuild::random_payload(len, seed)
    };
    Entry {
        method: Method::Deflate,
        ..Entry::new(name, &data)
    }
}

pub(super) fn prepare(e: Entry) -> Prepared {
    match e.prepare() {
        Ok(p) => p,
        Err(e) => panic!("bench zip: {e}"),
    }
}

pub(super) fn assemble(p: Vec<Prepared>) -> Result<Vec<u8>> {
    zipbuild::assemble(p).map_err(|e| anyhow::anyhow!("bench zip: {e}"))
}

pub(super) fn generate(kind: Kind, quick: bool) -> Result<Data> {
    const MIB: usize = 1024 * 1024;
    let scale = if quick { 16 } else { 1 };
    let (artifacts, extracted, files) = match kind {
        Kind::Big => {
            // 8 artifacts; each 8 files (4 text, 4 random) of 8 MiB.
            let per_file = 8 * MIB / scale;
            let zips = par_map(8, |a| {
                let entries = (0..8)
                    .map(|i| {
                        let ext = if i % 2 == 0 { "txt" } else { "bin" };
                        let name = format!("data/part-{i}.{ext}");
                        prepare(payload_entry(name, per_file, i, (a * 100 + i) as u64))
                    })
                    .collect();
                assemble(entries)
            });
            let zips = zips.into_iter().collect::<Result<Vec<_>>>()?;
            let arts = zips
                .into_iter()
                .enumerate()
                .map(|(a, z)| (format!("big-{a}"), z))
                .collect();
            (arts, (8 * 8 * per_file) as u64, 64)
        }
        Kind::Many => {
            // 300 artifacts of ~10 KiB: 4 KiB of text and 6 KiB of random bytes each.
            let zips = par_map(300, |a| {
                assemble(vec![
                    prepare(payload_entry("notes.txt".into(), 4096, 0, a as u64)),
                    prepare(payload_entry("blob.bin".into(), 6144, 1, a as u64)),
                ])
            });
            let zips = zips.into_iter().collect::<Result<Vec<_>>>()?;
            let arts = zips
                .into_iter()
                .enumerate()
                .map(|(a, z)| (format!("many-{a:03}"), z))
                .collect();
            (arts, 300 * 10_240, 600)
        }
        Kind::Wide => {
            // One artifact, 20,000 files in 200 directories, 256 MiB; sizes spread 0.5x..1.5x.
            let n = 20_000 / scale;
            let mean = 256 * MIB / 20_000;
            let size = |i: usize| mean / 2 + (i.wrapping_mul(2_654_435_761) % mean);
            let entries = par_map(n, |i| {
                let ext = if i % 2 == 0 { "txt" } else { "bin" };
                let name = format!("tree/d{:02}/s{}/f{i:05}.{ext}", i / 1000, (i / 100) % 10);
                prepare(payload_entry(name, size(i), i, i as u64))
            });
            let total: usize = (0..n).map(size).sum();
            (
                vec![("wide".to_string(), assemble(entries)?)],
                total as u64,
                n as u64,
            )
        }
        Kind::Huge => {
            // One artifact of 2 GiB: 32 files of 64 MiB (quick: 32 x 2 MiB).
            let per_file = 64 * MIB / if quick { 32 } else { 1 };
            let entries = par_map(32, |i| {
                let ext = if i % 2 == 0 { "txt" } else { "bin" };
                prepare(payload_entry(
                    format!("huge/file-{i:02}.{ext}"),
                    per_file,
                    i,
                    1000 + i as u64,
                ))
            });
            (
                vec![("huge".to_string(), assemble(entries)?)],
                (32 * per_file) as u64,
                32,
            )
        }
    };
    Ok(Data {
        kind,
        artifacts,
        extracted,
        files,
    })
}
