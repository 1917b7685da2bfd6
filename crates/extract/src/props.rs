//! Property tests for extraction's path checks, with a hand-rolled deterministic generator.
//!
//! Why not `proptest`: the properties need only "random names from hostile segments" and no
//! shrinking (a failing case is printed whole and is short), so a 10-line xorshift keeps the
//! dependency list as it is. Why not `cargo-fuzz`: it needs a nightly toolchain, which this
//! project's CI and machines do not have. The seeds are fixed, so a failure reproduces exactly;
//! `ARTIFETCH_PROP_CASES` raises the case count for a longer local run.
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

use fakehub::zipbuild::{Entry, ZipBuilder};

use super::names::{normalize_entry_name, normalize_link_target};
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

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
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
    let mut rng = Rng(0x5EED_0001);
    let mut accepted = 0;
    for _ in 0..cases(50_000) {
        let raw = rng.name(8);
        if let Ok((path, _)) = normalize_entry_name(raw.as_bytes()) {
            accepted += 1;
            if !path.is_empty() {
                assert_plain_relative(&path, &raw);
            }
        }
    }
    // The generator must reach both sides of the check to mean anything.
    assert!(accepted > 1000, "only {accepted} names accepted");
}

#[test]
fn accepted_link_targets_resolve_inside_the_root() {
    let mut rng = Rng(0x5EED_0002);
    let mut accepted = 0;
    for _ in 0..cases(50_000) {
        let target = rng.name(8);
        let depth = rng.below(4);
        let Ok(norm) = normalize_link_target(&target, depth) else {
            continue;
        };
        accepted += 1;
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
    }
    assert!(accepted > 1000, "only {accepted} targets accepted");
}

/// Everything under `dir` (not following symlinks), with contents, for before/after checks.
fn snapshot(dir: &Path, skip: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path == skip {
            continue;
        }
        let meta = fs::symlink_metadata(&path).unwrap();
        let key = path.display().to_string();
        if meta.file_type().is_symlink() {
            out.insert(
                key,
                fs::read_link(&path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            );
        } else if meta.is_dir() {
            out.insert(key, b"<dir>".to_vec());
            snapshot(&path, skip, out);
        } else {
            out.insert(key, fs::read(&path).unwrap());
        }
    }
}

/// Every symlink under `root` resolves (lexically; targets may dangle) inside `root`.
fn links_stay_inside(root: &Path, dir: &Path) {
    for e in fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.file_type().is_symlink() {
            let target = fs::read_link(&path).unwrap();
            assert!(
                target.is_relative(),
                "{} -> {}",
                path.display(),
                target.display()
            );
            let mut level = path
                .parent()
                .unwrap()
                .strip_prefix(root)
                .unwrap()
                .components()
                .count() as i64;
            for c in target.components() {
                match c {
                    Component::ParentDir => level -= 1,
                    Component::CurDir => {}
                    Component::Normal(_) => level += 1,
                    other => panic!("{} -> {other:?}", path.display()),
                }
                assert!(
                    level >= 0,
                    "{} -> {} escapes",
                    path.display(),
                    target.display()
                );
            }
            if let Ok(real) = fs::canonicalize(&path) {
                assert!(
                    real.starts_with(fs::canonicalize(root).unwrap()),
                    "{} resolves to {}",
                    path.display(),
                    real.display()
                );
            }
        } else if meta.is_dir() {
            links_stay_inside(root, &path);
        }
    }
}

#[test]
fn extraction_never_touches_anything_outside_the_staging_directory() {
    let mut rng = Rng(0x5EED_0003);
    let tmp = tempfile::tempdir().unwrap();
    // Decoys next to the staging directory, and a directory a `..` would land in.
    fs::create_dir_all(tmp.path().join("a/b")).unwrap();
    fs::write(tmp.path().join("a/b/victim"), b"victim").unwrap();
    fs::write(tmp.path().join("a.txt"), b"victim").unwrap();
    let mut before = BTreeMap::new();
    let staging = tmp.path().join("staging");
    snapshot(tmp.path(), &staging, &mut before);
    let (mut ok, mut refused) = (0, 0);
    for case in 0..cases(400) {
        let mut zip = ZipBuilder::new();
        for _ in 0..1 + rng.below(6) {
            let name = rng.name(6);
            zip = match rng.below(4) {
                0 => zip.dir(&name),
                1 => zip.symlink(&name, &rng.name(6)),
                _ => zip.entry(Entry::new(name.as_bytes(), b"data")),
            };
        }
        let archive = tmp.path().join("archive.zip");
        fs::write(&archive, zip.build()).unwrap();
        fs::create_dir(&staging).unwrap();
        match extract_zip(&archive, &staging, &Limits::default()) {
            Ok(_) => ok += 1,
            Err(_) => refused += 1,
        }
        fs::remove_file(&archive).unwrap();
        links_stay_inside(&staging, &staging);
        let mut after = BTreeMap::new();
        snapshot(tmp.path(), &staging, &mut after);
        assert_eq!(
            after, before,
            "case {case} changed something outside staging"
        );
        fs::remove_dir_all(&staging).unwrap();
    }
    assert!(ok > 20 && refused > 20, "ok {ok}, refused {refused}");
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
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
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
    let mut rng = Rng(0x5EED_0004);
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
    let (mut ok, mut refused) = (0, 0);
    // Every seed as is, then mutants round-robin over the seeds.
    let total = seeds.len() + cases(600);
    for case in 0..total {
        let (name, seed) = &seeds[case % seeds.len()];
        let bytes = if case < seeds.len() {
            seed.clone()
        } else {
            mutate(&mut rng, seed)
        };
        let archive = tmp.path().join("archive.zip");
        fs::write(&archive, &bytes).unwrap();
        fs::create_dir(&staging).unwrap();
        match extract_zip(&archive, &staging, &limits) {
            Ok(got) => {
                ok += 1;
                assert!(got.bytes <= limits.max_total_bytes, "case {case} ({name})");
                let files = super::relative_files(&staging).unwrap();
                assert!(
                    files.len() as u64 <= limits.max_files,
                    "case {case} ({name})"
                );
                for f in &files {
                    assert!(
                        super::names::git_component(f).is_none(),
                        "case {case} ({name}) wrote {f}"
                    );
                }
            }
            Err(_) => refused += 1,
        }
        links_stay_inside(&staging, &staging);
        let mut after = BTreeMap::new();
        snapshot(tmp.path(), &staging, &mut after);
        after.remove(&archive.display().to_string());
        assert_eq!(
            after, before,
            "case {case} ({name}) changed something outside staging"
        );
        fs::remove_dir_all(&staging).unwrap();
        fs::remove_file(&archive).unwrap();
    }
    assert!(ok > 20 && refused > 20, "ok {ok}, refused {refused}");
}
