//! The canonical manifest of a directory tree, and its `files-digest`.
//!
//! The same text is produced by the producer (`artifetch manifest DIR`, before upload) and by the
//! consumer (over the extracted artifact, before it is moved into place), so one SHA-256 over it
//! says "these are exactly the producer's files". The form, version 1, never changes meaning:
//!
//! * one line per entry, each ended by `\n`, sorted by the entry's relative path as raw bytes;
//! * every regular file, symlink and empty directory under the root, hidden ones included (the
//!   root itself is not an entry; directories that hold something are implied by their entries);
//! * a line is five fields separated by one space: `TYPE MODE SIZE SHA256 PATH`, where
//!   - TYPE is `f` (file), `l` (symlink) or `d` (empty directory);
//!   - MODE is `x` for a file whose owner-execute bit is set, else `-`;
//!   - SIZE is the file's length in bytes, the symlink target's length, or `0`;
//!   - SHA256 is 64 lowercase hex digits of the file's bytes or of the symlink target, or `-`;
//!   - PATH is relative, `/`-separated, with `\` written `\\`, and control bytes (including
//!     newline), DEL and bytes that are not UTF-8 written `\xNN` (two lowercase hex digits);
//! * `files-digest` is `sha256:` + the SHA-256 (lowercase hex) of that text, UTF-8 encoded.
//!
//! An empty tree has an empty manifest, and `files-digest` is the SHA-256 of nothing.

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use util::hex;

/// Size and SHA-256 of each file as an extraction wrote it, by its path in the tree
/// (`/`-separated): see [`Manifest::of_written`].
pub type Written = std::collections::HashMap<String, (u64, [u8; 32])>;

/// What an entry is, with what the canonical line says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File {
        size: u64,
        sha256: String,
        executable: bool,
    },
    Symlink {
        target: Vec<u8>,
    },
    /// An empty directory.
    Dir,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative path, `/`-separated, as raw bytes.
    pub path: Vec<u8>,
    pub kind: Kind,
}

/// Entries sorted by path bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub entries: Vec<Entry>,
}

impl Entry {
    /// The entry's canonical line, without the newline.
    pub fn line(&self) -> String {
        let path = escape_path(&self.path);
        match &self.kind {
            Kind::File {
                size,
                sha256,
                executable,
            } => format!(
                "f {} {size} {sha256} {path}",
                if *executable { "x" } else { "-" }
            ),
            Kind::Symlink { target } => {
                format!(
                    "l - {} {} {path}",
                    target.len(),
                    hex(&Sha256::digest(target))
                )
            }
            Kind::Dir => format!("d - 0 - {path}"),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        let path = escape_path(&self.path);
        match &self.kind {
            Kind::File {
                size,
                sha256,
                executable,
            } => serde_json::json!({
                "path": path, "type": "file", "size": size, "sha256": sha256,
                "executable": executable,
            }),
            Kind::Symlink { target } => serde_json::json!({
                "path": path, "type": "symlink", "target": escape_path(target),
            }),
            Kind::Dir => serde_json::json!({ "path": path, "type": "dir" }),
        }
    }
}

impl Manifest {
    /// Sorts `entries` into canonical order.
    pub fn new(mut entries: Vec<Entry>) -> Manifest {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Manifest { entries }
    }

    /// Walks `root` without following symlinks and hashes every file (several at once).
    pub fn of_dir(root: &Path) -> Result<Manifest> {
        Self::of_written(root, &Written::new())
    }

    /// [`Manifest::of_dir`] of a tree just extracted: a file found in `written` at its size takes
    /// the SHA-256 computed as it was written; any other (a name the file system changed, say)
    /// is read and hashed.
    pub fn of_written(root: &Path, written: &Written) -> Result<Manifest> {
        let mut entries = Vec::new();
        let mut files: Vec<WalkedFile> = Vec::new();
        walk(root, &[], &mut entries, &mut files)?;
        let known = |f: &WalkedFile| {
            let (size, sha256) = written.get(std::str::from_utf8(&f.rel).ok()?)?;
            (*size == f.size).then(|| (*size, hex(sha256)))
        };
        let known: Vec<Option<(u64, String)>> = files.iter().map(known).collect();
        let unknown: Vec<&WalkedFile> = files
            .iter()
            .zip(&known)
            .filter(|(_, k)| k.is_none())
            .map(|(f, _)| f)
            .collect();
        let mut hashed = hash_all(&unknown)?.into_iter();
        let hashed = known
            .into_iter()
            .map(|k| k.or_else(|| hashed.next()).context("hashing stopped early"))
            .collect::<Result<Vec<_>>>()?;
        for (f, (size, sha256)) in files.into_iter().zip(hashed) {
            let (rel, executable) = (f.rel, f.executable);
            entries.push(Entry {
                path: rel,
                kind: Kind::File {
                    size,
                    sha256,
                    executable,
                },
            });
        }
        Ok(Manifest::new(entries))
    }

    /// The canonical text (see the module docs).
    pub fn canonical(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            out.push_str(&e.line());
            out.push('\n');
        }
        out
    }

    /// `sha256:<hex>` of [`Manifest::canonical`].
    pub fn files_digest(&self) -> String {
        format!(
            "sha256:{}",
            hex(&Sha256::digest(self.canonical().as_bytes()))
        )
    }

    /// Regular files in the manifest.
    pub fn file_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, Kind::File { .. }))
            .count()
    }

    /// `sha256sum -c` lines for the files, paths prefixed with `prefix` (`""` or `name/`). As GNU
    /// sha256sum writes them: a path with `\` or a newline gets a leading `\` and is escaped.
    pub fn sha256sum(&self, prefix: &str) -> String {
        let mut out = String::new();
        for e in &self.entries {
            if let Kind::File { sha256, .. } = &e.kind {
                let path = format!("{prefix}{}", escape_path(&e.path));
                let escaped = path.contains('\\');
                let _ = writeln!(out, "{}{sha256}  {path}", if escaped { "\\" } else { "" });
            }
        }
        out
    }
}

/// The manifest's path escaping (see the module docs).
pub fn escape_path(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Inverse of [`escape_path`]; `None` for a malformed escape.
pub fn unescape_path(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            Some(b'x') => {
                let hex = text.get(i + 2..i + 4)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 4;
            }
            // GNU sha256sum's escape for a newline in a name.
            Some(b'n') => {
                out.push(b'\n');
                i += 2;
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Collects symlinks and empty directories into `entries` and regular files into `files`.
/// A regular file met by [`walk`], to be hashed.
struct WalkedFile {
    path: PathBuf,
    /// Its path in the tree, `/`-separated.
    rel: Vec<u8>,
    executable: bool,
    size: u64,
}

fn walk(
    dir: &Path,
    rel: &[u8],
    entries: &mut Vec<Entry>,
    files: &mut Vec<WalkedFile>,
) -> Result<()> {
    let list = fs_err::read_dir(dir)?;
    let mut any = false;
    for item in list {
        let item = item?;
        any = true;
        let path = item.path();
        let meta = fs_err::symlink_metadata(&path)?;
        let mut child = rel.to_vec();
        if !child.is_empty() {
            child.push(b'/');
        }
        child.extend_from_slice(&name_bytes(&item.file_name())?);
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = fs_err::read_link(&path)?;
            entries.push(Entry {
                path: child,
                kind: Kind::Symlink {
                    target: name_bytes(target.as_os_str())?,
                },
            });
        } else if kind.is_dir() {
            walk(&path, &child, entries, files)?;
        } else if kind.is_file() {
            files.push(WalkedFile {
                path,
                rel: child,
                executable: executable(&meta),
                size: meta.len(),
            });
        } else {
            bail!(
                "{}: not a regular file, directory or symlink; a manifest cannot describe it",
                path.display()
            );
        }
    }
    if !any && !rel.is_empty() {
        entries.push(Entry {
            path: rel.to_vec(),
            kind: Kind::Dir,
        });
    }
    Ok(())
}

#[cfg(unix)]
fn name_bytes(name: &std::ffi::OsStr) -> Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    Ok(name.as_bytes().to_vec())
}

#[cfg(not(unix))]
fn name_bytes(name: &std::ffi::OsStr) -> Result<Vec<u8>> {
    let s = name
        .to_str()
        .with_context(|| format!("{name:?} is not valid Unicode"))?;
    Ok(s.replace('\\', "/").into_bytes())
}

#[cfg(unix)]
fn executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o100 != 0
}

/// Windows has no execute bit: nothing is executable there.
#[cfg(not(unix))]
fn executable(_: &std::fs::Metadata) -> bool {
    false
}

/// (size, SHA-256 hex) of each file, read by up to 8 threads; files are taken in turn so one huge
/// file does not hold up the rest.
/// Below this many files, hashing runs on the calling thread.
const PARALLEL_HASH_MIN_FILES: usize = 16;

fn hash_all(files: &[&WalkedFile]) -> Result<Vec<(u64, String)>> {
    // Asked once per process (it reads cgroup files), and only worth threads for many files:
    // starting them costs more than hashing a small artifact's few files (`many`: 300 of them).
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let cores = *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if files.len() < PARALLEL_HASH_MIN_FILES {
        return files.iter().map(|f| hash_file(&f.path)).collect();
    }
    let threads = cores.clamp(1, 8).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    type Slot = Option<Result<(u64, String)>>;
    let results: Mutex<Vec<Slot>> = Mutex::new((0..files.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(f) = files.get(i) else {
                        break;
                    };
                    let r = hash_file(&f.path);
                    let failed = r.is_err();
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
                    if failed {
                        // Stop everyone early: the first error is reported.
                        next.store(files.len(), Ordering::Relaxed);
                        break;
                    }
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::with_capacity(files.len());
    let mut missing = false;
    for r in results {
        match r {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => return Err(e),
            None => missing = true,
        }
    }
    if missing {
        bail!("hashing stopped early");
    }
    Ok(out)
}

pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = fs_err::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_taken_while_writing_are_used_only_at_the_size_found() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), b"alpha").unwrap();
        std::fs::create_dir(dir.path().join("d")).unwrap();
        std::fs::write(dir.path().join("d/b.txt"), b"beta").unwrap();
        let read_back = Manifest::of_dir(dir.path()).unwrap();
        // A record at the file's size stands for the file (it is not read again) ...
        let mut written = Written::new();
        written.insert("a.txt".into(), (5, [7; 32]));
        let m = Manifest::of_written(dir.path(), &written).unwrap();
        assert!(
            m.canonical().contains(&"07".repeat(32)),
            "{}",
            m.canonical()
        );
        assert_ne!(m, read_back);
        // ... one at another size does not: the file is read and hashed.
        written.insert("a.txt".into(), (6, [7; 32]));
        written.insert("d/b.txt".into(), (4, Sha256::digest(b"beta").into()));
        assert_eq!(
            Manifest::of_written(dir.path(), &written).unwrap(),
            read_back
        );
    }

    #[test]
    fn canonical_lines_for_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("a b.txt"), b"hello\n").unwrap();
        std::fs::write(root.join(".env"), b"").unwrap();
        std::fs::write(root.join("bin/tool"), b"#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                root.join("bin/tool"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
            std::os::unix::fs::symlink("bin/tool", root.join("link")).unwrap();
        }
        let m = Manifest::of_dir(root).unwrap();
        let sha = |b: &[u8]| hex(&Sha256::digest(b));
        let mut want = vec![
            format!("f - 0 {} .env", sha(b"")),
            format!("f - 6 {} a b.txt", sha(b"hello\n")),
        ];
        if cfg!(unix) {
            want.push(format!("f x 10 {} bin/tool", sha(b"#!/bin/sh\n")));
        } else {
            want.push(format!("f - 10 {} bin/tool", sha(b"#!/bin/sh\n")));
        }
        want.push("d - 0 - empty".into());
        if cfg!(unix) {
            want.push(format!("l - 8 {} link", sha(b"bin/tool")));
        }
        let text = m.canonical();
        assert_eq!(text.lines().collect::<Vec<_>>(), want);
        assert_eq!(m.files_digest(), format!("sha256:{}", sha(text.as_bytes())));
        assert_eq!(m.file_count(), 3);
        assert!(
            m.sha256sum("dist/")
                .contains(&format!("{}  dist/a b.txt\n", sha(b"hello\n")))
        );
    }

    /// A small deterministic generator (xorshift), so failures reproduce from the printed seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }
    }

    /// A tree to build on disk: path -> what is there.
    #[derive(Clone, Debug)]
    enum Node {
        File(Vec<u8>, bool),
        Link(String),
        EmptyDir,
    }
    type Tree = std::collections::BTreeMap<String, Node>;

    fn random_tree(rng: &mut Rng) -> Tree {
        const PARTS: &[&str] = &[
            "a", "b", ".hidden", "Z", "é", "a b", "a.b", "a-b", "0", "x\\y",
        ];
        let mut tree = Tree::new();
        for _ in 0..1 + rng.below(12) {
            let depth = 1 + rng.below(3);
            let path: Vec<&str> = (0..depth).map(|_| rng.pick(PARTS)).collect();
            let path = path.join("/");
            // No entry may sit inside a file, nor a file on a directory path.
            if tree.keys().any(|k| {
                k == &path
                    || path.starts_with(&format!("{k}/"))
                    || k.starts_with(&format!("{path}/"))
            }) {
                continue;
            }
            let node = match rng.below(10) {
                0 if cfg!(unix) => Node::Link(rng.pick(PARTS).to_string()),
                1 => Node::EmptyDir,
                _ => {
                    let len = rng.below(40);
                    let data = (0..len).map(|_| rng.next() as u8).collect();
                    Node::File(data, cfg!(unix) && rng.below(3) == 0)
                }
            };
            tree.insert(path, node);
        }
        tree
    }

    /// Builds `tree` under a fresh directory, creating entries in the order `order` gives.
    fn build(tree: &Tree, order: &[usize]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<(&String, &Node)> = tree.iter().collect();
        for &i in order {
            let (path, node) = items[i];
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            match node {
                Node::File(data, exec) => {
                    std::fs::write(&p, data).unwrap();
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        let mode = if *exec { 0o755 } else { 0o644 };
                        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
                            .unwrap();
                    }
                    let _ = exec;
                }
                Node::EmptyDir => std::fs::create_dir_all(&p).unwrap(),
                #[cfg(unix)]
                Node::Link(target) => std::os::unix::fs::symlink(target, &p).unwrap(),
                #[cfg(not(unix))]
                Node::Link(_) => unreachable!(),
            }
        }
        dir
    }

    fn shuffled(n: usize, rng: &mut Rng) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            v.swap(i, rng.below(i + 1));
        }
        v
    }

    /// One change of one kind, anywhere in the tree; `None` when this tree offers no place.
    fn mutate(tree: &Tree, rng: &mut Rng) -> Option<(Tree, String)> {
        let mut t = tree.clone();
        let keys: Vec<String> = t.keys().cloned().collect();
        let key = keys[rng.below(keys.len())].clone();
        let change = rng.below(7);
        let many = t.len() > 1;
        let what = match (change, t.get_mut(&key).unwrap()) {
            (0, Node::File(data, _)) if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
                "flipped a bit"
            }
            (1, Node::File(data, _)) => {
                data.push(rng.next() as u8);
                "appended a byte"
            }
            (2, Node::File(_, exec)) if cfg!(unix) => {
                *exec = !*exec;
                "toggled the exec bit"
            }
            (3, Node::Link(target)) => {
                target.push('2');
                "changed a symlink target"
            }
            (4, _) => {
                let node = t.remove(&key).unwrap();
                t.insert(format!("{key}~"), node);
                "renamed an entry"
            }
            (5, _) if many => {
                t.remove(&key);
                "removed an entry"
            }
            (6, _) => {
                let extra = format!(".new{}", rng.below(1000));
                if t.keys().any(|k| k == &extra) {
                    return None;
                }
                t.insert(extra, Node::File(Vec::new(), false));
                "added a dotfile"
            }
            _ => return None,
        };
        Some((t, format!("{what} at {key:?}")))
    }

    #[test]
    fn property_stable_under_file_system_order() {
        for seed in 1..=40u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let tree = random_tree(&mut rng);
            let first = build(&tree, &(0..tree.len()).collect::<Vec<_>>());
            let again = build(&tree, &shuffled(tree.len(), &mut rng));
            let a = Manifest::of_dir(first.path()).unwrap();
            let b = Manifest::of_dir(again.path()).unwrap();
            assert_eq!(a.canonical(), b.canonical(), "seed {seed}: {tree:?}");
            assert_eq!(a.files_digest(), b.files_digest(), "seed {seed}");
            // Entries handed over in any order sort to the same manifest.
            let mut entries = a.entries.clone();
            entries.reverse();
            assert_eq!(Manifest::new(entries), a, "seed {seed}");
        }
    }

    #[test]
    fn property_any_single_change_changes_the_digest() {
        let mut checked = 0;
        for seed in 1..=120u64 {
            let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
            let tree = random_tree(&mut rng);
            let Some((changed, what)) = mutate(&tree, &mut rng) else {
                continue;
            };
            let a = Manifest::of_dir(build(&tree, &(0..tree.len()).collect::<Vec<_>>()).path())
                .unwrap();
            let b = Manifest::of_dir(build(&changed, &shuffled(changed.len(), &mut rng)).path())
                .unwrap();
            assert_ne!(
                a.files_digest(),
                b.files_digest(),
                "seed {seed}: {what} left the digest unchanged\n{}",
                a.canonical()
            );
            checked += 1;
        }
        assert!(checked > 60, "only {checked} mutations applied");
    }

    #[test]
    fn the_empty_tree() {
        let dir = tempfile::tempdir().unwrap();
        let m = Manifest::of_dir(dir.path()).unwrap();
        assert_eq!(m.canonical(), "");
        assert_eq!(
            m.files_digest(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn escaping_round_trips() {
        for raw in [
            b"plain/name.txt".to_vec(),
            b"back\\slash".to_vec(),
            b"new\nline\ttab".to_vec(),
            vec![b'a', 0xff, 0xfe, b'z'],
            "unicodé/文件".as_bytes().to_vec(),
        ] {
            let text = escape_path(&raw);
            assert!(!text.contains('\n') && !text.contains(' ') || raw.contains(&b' '));
            assert_eq!(unescape_path(&text), Some(raw.clone()), "{text}");
        }
        assert_eq!(escape_path(b"a\\b\nc"), "a\\\\b\\x0ac");
        assert_eq!(unescape_path("bad\\q"), None);
        assert_eq!(unescape_path("bad\\x1"), None);
    }
}
