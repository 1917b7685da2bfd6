//! Property tests for extraction's path checks, on bolero: under `cargo test` each property runs
//! a fixed number of random cases (`ARTIFETCH_PROP_CASES` raises it for a longer local run), and
//! `cargo bolero test` can drive the same properties coverage-guided. A failing case is printed
//! whole (and shrunk) by bolero. The oracles that look at the tree (nothing changed outside
//! staging, no symlink out) are `oracle.rs`, shared with the root crate's fuzz targets.
//!
//! Properties:
//! 1. every entry name `normalize_entry_name` accepts is a relative path of plain components:
//!    joined to a root it stays inside the root, on Unix and on Windows path rules alike;
//! 2. every symlink target `normalize_link_target` accepts, resolved lexically from the link's
//!    directory, stays inside the root;
//! 3. extracting random archives built from such names (files, directories, symlinks, duplicates)
//!    never creates, changes or removes anything outside the staging directory, and every symlink
//!    it leaves resolves inside it;
//! 4. the same, plus no panic, no `.git` path and the size and entry bounds kept, for the seed
//!    corpus in tests/corpus/zip and mutants of it (flipped bytes, extreme header fields,
//!    duplicated records, cut tails, junk).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicUsize, Ordering};

use fakehub::zipbuild::{Entry, ZipBuilder};

use super::names::{normalize_entry_name, normalize_link_target};
use super::oracle::{links_stay_inside, snapshot};
use super::{Limits, extract_zip};

/// Hostile building blocks: traversal, separators of both kinds, drive prefixes, NUL and other
/// controls, lookalike dots and slashes, bidi overrides, Windows device names.
const SEGMENTS: &[&str] = &[
    "..",
    ".",
    "a",
    "b",
    "/",
    "/",
    "\\",
    "C:",
    "c:",
    "\0",
    "\x1b",
    "\x7f",
    "\u{85}",
    "é",
    "日本",
    "\u{202e}",
    "\u{ff0e}\u{ff0e}",
    "\u{2215}",
    "%2e%2e",
    " ",
    "~",
    ":",
    "CON",
    "nul",
    "a.txt",
    "\u{1F600}",
];

/// The choices of one case, as bolero generated them: each `below` takes the next value (zero
/// once they run out).
struct Picks<'a>(std::slice::Iter<'a, u64>);

impl<'a> Picks<'a> {
    fn new(values: &'a [u64]) -> Self {
        Self(values.iter())
    }

    fn next(&mut self) -> u64 {
        self.0.next().copied().unwrap_or(0)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn name(&mut self, max_segments: usize) -> String {
        let n = 1 + self.below(max_segments);
        (0..n)
            .map(|_| SEGMENTS[self.below(SEGMENTS.len())])
            .collect()
    }
}

/// Choices for one case: fixed-length, so every case draws fully random values (bolero shrinks
/// a failing one towards zeros).
type Choices<const N: usize> = [u64; N];

fn cases(default: usize) -> usize {
    std::env::var("ARTIFETCH_PROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A relative path made only of plain components, under both Unix and Windows rules.
fn assert_plain_relative(path: &str, raw: &str) {
    assert!(!path.is_empty() || raw.ends_with('/'), "{raw:?} -> empty");
    assert!(!path.contains('\\'), "{raw:?} -> {path:?} has a backslash");
    assert!(
        !path.chars().any(char::is_control),
        "{raw:?} -> {path:?} has a control character"
    );
    assert!(!path.starts_with('/'), "{raw:?} -> {path:?} is absolute");
    for part in path.split('/') {
        assert!(
            !part.is_empty() && part != "." && part != "..",
            "{raw:?} -> {path:?} has component {part:?}"
        );
        let b = part.as_bytes();
        assert!(
            !(b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'),
            "{raw:?} -> {path:?} has a drive prefix"
        );
    }
    for c in Path::new(path).components() {
        assert!(
            matches!(c, Component::Normal(_)),
            "{raw:?} -> {path:?} has {c:?}"
        );
    }
    let root = Path::new("/root/of/extraction");
    assert!(root.join(path).starts_with(root), "{raw:?} escapes");
}

#[test]
fn accepted_entry_names_stay_inside_the_root() {
    let accepted = AtomicUsize::new(0);
    bolero::check!()
        .with_type::<Choices<9>>()
        .with_iterations(cases(50_000))
        .for_each(|choices| {
            let raw = Picks::new(choices).name(8);
            if let Ok((path, _)) = normalize_entry_name(raw.as_bytes()) {
                accepted.fetch_add(1, Ordering::Relaxed);
                if !path.is_empty() {
                    assert_plain_relative(&path, &raw);
                }
            }
        });
    // The generator must reach both sides of the check to mean anything.
    let accepted = accepted.into_inner();
    assert!(accepted > 1000, "only {accepted} names accepted");
}

#[test]
fn accepted_link_targets_resolve_inside_the_root() {
    let accepted = AtomicUsize::new(0);
    bolero::check!()
        .with_type::<Choices<10>>()
        .with_iterations(cases(50_000))
        .for_each(|choices| {
            let mut picks = Picks::new(choices);
            let target = picks.name(8);
            let depth = picks.below(4);
            let Ok(norm) = normalize_link_target(&target, depth) else {
                return;
            };
            accepted.fetch_add(1, Ordering::Relaxed);
            // Resolve lexically from a link `depth` directories below the root.
            let mut level = depth as i64;
            for part in norm.split('/') {
                match part {
                    "." => {}
                    ".." => level -= 1,
                    _ => {
                        assert!(!part.contains('\\') && !part.chars().any(char::is_control));
                        level += 1;
                    }
                }
                assert!(
                    level >= 0,
                    "{target:?} at depth {depth} -> {norm:?} escapes"
                );
            }
        });
    let accepted = accepted.into_inner();
    assert!(accepted > 1000, "only {accepted} targets accepted");
}

#[test]
fn extraction_never_touches_anything_outside_the_staging_directory() {
    let tmp = tempfile::tempdir().unwrap();
    // Decoys next to the staging directory, and a directory a `..` would land in.
    fs::create_dir_all(tmp.path().join("a/b")).unwrap();
    fs::write(tmp.path().join("a/b/victim"), b"victim").unwrap();
    fs::write(tmp.path().join("a.txt"), b"victim").unwrap();
    let mut before = BTreeMap::new();
    let staging = tmp.path().join("staging");
    snapshot(tmp.path(), &staging, &mut before);
    let (ok, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    bolero::check!()
        .with_type::<Choices<96>>()
        // About 8% of drawn archives extract (24-46 of 400 over twelve runs): 400 left the
        // `ok > 20` below to chance once seeds varied per run; 1,000 draw about 80.
        .with_iterations(cases(1_000))
        .for_each(|choices| {
            let mut picks = Picks::new(choices);
            let mut zip = ZipBuilder::new();
            for _ in 0..1 + picks.below(6) {
                let name = picks.name(6);
                zip = match picks.below(4) {
                    0 => zip.dir(&name),
                    1 => zip.symlink(&name, &picks.name(6)),
                    _ => zip.entry(Entry::new(name.as_bytes(), b"data")),
                };
            }
            let archive = tmp.path().join("archive.zip");
            fresh(&staging, &archive);
            fs::write(&archive, zip.build()).unwrap();
            fs::create_dir(&staging).unwrap();
            match extract_zip(&archive, &staging, &Limits::default()) {
                Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                Err(_) => refused.fetch_add(1, Ordering::Relaxed),
            };
            fs::remove_file(&archive).unwrap();
            links_stay_inside(&staging, &staging);
            let mut after = BTreeMap::new();
            snapshot(tmp.path(), &staging, &mut after);
            assert_eq!(after, before, "changed something outside staging");
            fs::remove_dir_all(&staging).unwrap();
        });
    let (ok, refused) = (ok.into_inner(), refused.into_inner());
    assert!(ok > 20 && refused > 20, "ok {ok}, refused {refused}");
}

/// Takes away what a failed case left (bolero runs a failing case again, smaller, to shrink it).
fn fresh(staging: &Path, archive: &Path) {
    let _ = fs::remove_dir_all(staging);
    let _ = fs::remove_file(archive);
}

/// The committed seed corpus: hostile and normal archives (see tests/corpus/zip/README.md).
fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/zip");
    let mut seeds: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&p).unwrap())
        })
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 8, "seed corpus missing: {}", dir.display());
    seeds
}

/// Offsets of the zip records (local, central, end) in `bytes`, where field mutations hurt most.
fn record_offsets(bytes: &[u8]) -> Vec<usize> {
    (0..bytes.len().saturating_sub(4))
        .filter(|&i| bytes[i] == b'P' && bytes[i + 1] == b'K' && matches!(bytes[i + 2], 1 | 3 | 5))
        .collect()
}

/// One random mutation: byte flips, a header field overwritten with an extreme value, a record
/// duplicated, the tail cut or junk appended.
fn mutate(rng: &mut Picks<'_>, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let records = record_offsets(&b);
        match rng.below(5) {
            0 if !b.is_empty() => {
                let at = rng.below(b.len());
                b[at] ^= 1 << rng.below(8);
            }
            1 if !records.is_empty() => {
                // A field 4..46 bytes into a record: sizes, offsets, lengths, modes.
                let at = records[rng.below(records.len())] + 4 + rng.below(42);
                let value: u32 = [0, 1, 0xFFFF, 0xFFFF_FFFF, 0x7FFF_FFFF, 46][rng.below(6)];
                let width = if rng.below(2) == 0 { 2 } else { 4 };
                for k in 0..width {
                    if let Some(x) = b.get_mut(at + k) {
                        *x = (value >> (8 * k)) as u8;
                    }
                }
            }
            2 if records.len() > 1 => {
                let i = rng.below(records.len() - 1);
                let (from, to) = (records[i], records[i + 1]);
                let copy = b[from..to].to_vec();
                let at = records[rng.below(records.len())];
                b.splice(at..at, copy);
            }
            3 if !b.is_empty() => b.truncate(rng.below(b.len())),
            _ => b.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
        }
    }
    b
}

#[test]
fn mutated_corpus_archives_never_panic_escape_or_exceed_the_limits() {
    let seeds = corpus();
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir_all(tmp.path().join("a/b")).unwrap();
    fs::write(tmp.path().join("a/b/victim"), b"victim").unwrap();
    fs::write(tmp.path().join("x"), b"victim").unwrap();
    let staging = tmp.path().join("staging");
    let mut before = BTreeMap::new();
    snapshot(tmp.path(), &staging, &mut before);
    let limits = Limits {
        max_total_bytes: 4 << 20,
        max_files: 500,
        ..Limits::default()
    };
    let (ok, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let one = |name: &str, bytes: &[u8]| {
        let archive = tmp.path().join("archive.zip");
        fresh(&staging, &archive);
        fs::write(&archive, bytes).unwrap();
        fs::create_dir(&staging).unwrap();
        match extract_zip(&archive, &staging, &limits) {
            Ok(got) => {
                ok.fetch_add(1, Ordering::Relaxed);
                assert!(got.bytes <= limits.max_total_bytes, "{name}");
                let files = super::relative_files(&staging).unwrap();
                assert!(files.len() as u64 <= limits.max_files, "{name}");
                for f in &files {
                    assert!(super::names::git_component(f).is_none(), "{name} wrote {f}");
                }
            }
            Err(_) => {
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }
        links_stay_inside(&staging, &staging);
        let mut after = BTreeMap::new();
        snapshot(tmp.path(), &staging, &mut after);
        after.remove(&archive.display().to_string());
        assert_eq!(after, before, "{name} changed something outside staging");
        fs::remove_dir_all(&staging).unwrap();
        fs::remove_file(&archive).unwrap();
    };
    // Every seed as is, then mutants of a seed bolero picks.
    for (name, seed) in &seeds {
        one(name, seed);
    }
    bolero::check!()
        .with_type::<(u16, Choices<256>)>()
        .with_iterations(cases(600))
        .for_each(|(pick, choices)| {
            let (name, seed) = &seeds[*pick as usize % seeds.len()];
            one(name, &mutate(&mut Picks::new(choices), seed));
        });
    let (ok, refused) = (ok.into_inner(), refused.into_inner());
    assert!(ok > 20 && refused > 20, "ok {ok}, refused {refused}");
}
