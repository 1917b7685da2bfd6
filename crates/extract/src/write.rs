//! Writing the planned entries into the staging directory: directories and symlinks first, in
//! entry order, then file data by one or more threads, each re-checking on disk that no parent is a
//! symlink and counting the bytes actually produced against the declared sizes and the limit.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use anyhow::{Context as _, Result, anyhow, bail};
// The manifest's hash, taken while each file is written rather than by reading the tree back.
use sha2::{Digest, Sha256};

use super::landing::{Reader, Source};
use super::queue::{Job, Queue, Taken};
use super::scan::{
    Archive, Entry, Kind, Placed, Plan, check_landed_record, check_records, layout, open_archive,
    open_archive_tracked, plan,
};
use super::spool::READERS_APART;
use super::{Extracted, FileHashes, Limits, Select};
use crate::manifest::Written;
use util::cancel;

/// Copy buffer: big reads keep syscalls and decompressor calls per byte low.
const BUF_SIZE: usize = 256 * 1024;
/// Below this many files, and this many bytes, starting threads (each re-reads the central
/// directory) does not pay; a few large files are worth a thread each.
const PARALLEL_MIN_FILES: usize = 64;
const PARALLEL_MIN_BYTES: u64 = 16 << 20;
/// A writer says where its reader is every this many bytes written (see `Shared::consumed`).
const TICK_BYTES: u64 = 1 << 20;

pub(super) fn extract_with_threads(
    source: &Source,
    staging: &Path,
    limits: &Limits,
    select: Option<Select<'_>>,
    hashes: FileHashes,
    threads: usize,
) -> Result<Extracted> {
    // Only an empty staging directory guarantees that every symlink in it is one we made.
    if fs_err::read_dir(staging)?.next().is_some() {
        bail!("staging directory {} is not empty", staging.display());
    }
    // A partial fetch's sparse archive: the unselected records are holes, never read.
    let sparse = select.as_ref().is_some_and(|s| s.sparse);
    let mut zip = open_archive(source)?;
    let Plan {
        entries,
        mut warnings,
        left,
        unmatched,
    } = plan(&mut zip, source, limits, select)?;
    let (dirs, files) = make_dirs_and_links(&entries, staging, &mut warnings)?;
    let threads = thread_count(&files, threads);
    let jobs: Vec<Job<'_>> = files
        .iter()
        .map(|(e, _)| Job {
            path: &e.path,
            size: e.size,
            span: e.record.as_ref().map(|r| r.span()),
        })
        .collect();
    let mut queue = Queue::new(&jobs, threads);
    if source.is_spooled() {
        queue = queue.within(READERS_APART);
    }
    let shared = Shared::new(staging, &files, queue, limits, hashes);
    // An archive still landing: every record was checked before its data was read; all of them,
    // directories too, are checked together as well, as for an archive that landed whole, while
    // the files are written (a spooled archive drops what every reader is past).
    let records = (source.is_landing() && !sparse)
        .then(|| layout(&zip))
        .transpose()?;
    let laid_out = shared.run(threads, &mut zip, source, dirs, records.as_deref());
    // As for a whole archive, where the layout is checked before any file is written.
    laid_out?;
    let written = shared.finish()?;
    Ok(Extracted {
        files: written.files,
        bytes: written.bytes,
        warnings,
        left,
        unmatched,
        written: written.hashes,
    })
}

/// Directories and symlinks first, serially and in entry order, so file writers only need to
/// verify parents, never race a link being created. Returns the directories made and the files
/// (with their exec bit) left for the writers.
fn make_dirs_and_links<'e>(
    entries: &'e [Entry],
    staging: &'e Path,
    warnings: &mut Vec<String>,
) -> Result<(DirCache<'e>, Vec<(&'e Entry, bool)>)> {
    let mut dirs = DirCache::new(staging);
    let mut files = Vec::new();
    for e in entries {
        match &e.kind {
            Kind::Dir => dirs.ensure(&e.path)?,
            Kind::File { exec } => files.push((e, *exec)),
            Kind::Symlink { target } => {
                if cfg!(unix) {
                    dirs.ensure_parent(&e.path)?;
                    make_symlink(target, &staging.join(&e.path))
                        .with_context(|| format!("cannot extract archive entry {}", e.shown))?;
                } else {
                    warnings.push(format!(
                        "skipped symlink entry {} -> {target:?}: symlinks are not supported on this platform",
                        e.shown
                    ));
                }
            }
        }
    }
    Ok((dirs, files))
}

/// One writer for few and small files, else up to `threads` (never more than there are files).
fn thread_count(files: &[(&Entry, bool)], threads: usize) -> usize {
    let bytes: u64 = files.iter().map(|(e, _)| e.size).sum();
    if files.len() < PARALLEL_MIN_FILES && bytes < PARALLEL_MIN_BYTES {
        1
    } else {
        threads.clamp(1, files.len().max(1))
    }
}

/// What the writers produced, once all of them are done.
struct WrittenFiles {
    files: u64,
    bytes: u64,
    /// Each file's size and SHA-256, with [`FileHashes::Taken`] (else empty).
    hashes: Written,
}

/// Work shared by the file-writing threads (or the single serial one).
struct Shared<'a> {
    root: &'a Path,
    files: &'a [(&'a Entry, bool)],
    /// Hands out `files` to the worker slots.
    queue: Queue<'a>,
    failed: AtomicBool,
    errors: Mutex<Vec<(usize, anyhow::Error)>>,
    files_written: AtomicU64,
    bytes_written: AtomicU64,
    /// The files' sizes and SHA-256s, when the manifest needs them (`None`: nothing is hashed).
    written: Option<Mutex<Written>>,
    limit: u64,
}

impl<'a> Shared<'a> {
    fn new(
        root: &'a Path,
        files: &'a [(&'a Entry, bool)],
        queue: Queue<'a>,
        limits: &Limits,
        hashes: FileHashes,
    ) -> Self {
        Self {
            root,
            files,
            queue,
            failed: AtomicBool::new(false),
            errors: Mutex::new(Vec::new()),
            files_written: AtomicU64::new(0),
            bytes_written: AtomicU64::new(0),
            written: (hashes == FileHashes::Taken)
                .then(|| Mutex::new(Written::with_capacity(files.len()))),
            limit: limits.max_total_bytes,
        }
    }

    /// The file data, by `threads` writers: this one on `zip`, each other on its own handle;
    /// beside them, for an archive still landing, the check of every record in `records`.
    fn run(
        &self,
        threads: usize,
        zip: &mut Archive,
        source: &Source,
        dirs: DirCache<'_>,
        records: Option<&[Placed]>,
    ) -> Result<()> {
        let expected_len = zip.len();
        // Each thread needs its own file position; re-reading the central directory is cheap
        // next to extraction, and avoids the unsafe shared-metadata constructor. Read before any
        // writer starts: a spooled archive drops what the writers are past.
        // A spooled archive: each writer's reader says where it is, the first one's too, so
        // what all are past can be dropped.
        let tracked = |slot: usize| source.is_spooled().then(|| self.queue.cursor(slot));
        let others: Vec<Result<Archive>> = (1..threads)
            .map(|slot| open_archive_tracked(source, tracked(slot)))
            .collect();
        let mut own = match tracked(0).map(|c| open_archive_tracked(source, Some(c))) {
            Some(Err(err)) => {
                self.fail(usize::MAX, err);
                return Ok(());
            }
            own => own.and_then(Result::ok),
        };
        let zip = own.as_mut().unwrap_or(zip);
        let layout_front = AtomicU64::new(records.map_or(u64::MAX, |_| 0));
        std::thread::scope(|s| {
            let checked = records.map(|records| {
                s.spawn(|| {
                    let reached = |at: u64| {
                        layout_front.store(at, Ordering::Relaxed);
                        self.consumed(source, &layout_front);
                    };
                    let checked = check_records(records, source, reached);
                    if checked.is_err() {
                        // The archive is refused: the writers need not go on.
                        self.failed.store(true, Ordering::Relaxed);
                    }
                    checked
                })
            });
            for (slot, zip) in (1..threads).zip(others) {
                let mut dirs = dirs.clone();
                let layout_front = &layout_front;
                s.spawn(move || match zip {
                    Ok(mut zip) if zip.len() == expected_len => {
                        self.work(slot, &mut zip, source, &mut dirs, layout_front);
                    }
                    Ok(_) => self.fail(usize::MAX, anyhow!("{} changed", source.path().display())),
                    Err(err) => self.fail(usize::MAX, err),
                });
            }
            let mut dirs = dirs;
            self.work(0, zip, source, &mut dirs, &layout_front);
            checked.map_or(Ok(()), |h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow!("the layout check panicked")))
            })
        })
    }

    /// Tells a spooled archive the lowest byte any reader may still need: the earliest file
    /// not written yet, or the record the layout check is at.
    fn consumed(&self, source: &Source, layout_front: &AtomicU64) {
        if source.is_spooled() {
            source.consumed(self.queue.front().min(layout_front.load(Ordering::Relaxed)));
        }
    }

    /// The counts and hashes, or the error of the earliest entry, so the message does not
    /// depend on scheduling.
    fn finish(self) -> Result<WrittenFiles> {
        let errors = self.errors.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some((_, err)) = errors.into_iter().min_by_key(|(index, _)| *index) {
            return Err(err);
        }
        Ok(WrittenFiles {
            files: self.files_written.into_inner(),
            bytes: self.bytes_written.into_inner(),
            hashes: self
                .written
                .map(|w| w.into_inner().unwrap_or_else(|e| e.into_inner()))
                .unwrap_or_default(),
        })
    }
}

impl Shared<'_> {
    fn work(
        &self,
        slot: usize,
        zip: &mut Archive,
        source: &Source,
        dirs: &mut DirCache,
        layout_front: &AtomicU64,
    ) {
        // Small files need no big buffer: 256 KiB per file (and per artifact, on `many`) showed
        // up as 10 MiB of peak RSS across the blocking threads.
        let mut buf = vec![0u8; buffer_for(self.files.iter().map(|(e, _)| e.size).max())];
        let mut headers: Option<io::BufReader<Reader>> = None;
        while !self.failed.load(Ordering::Relaxed) {
            if cancel::cancelled() {
                self.fail(usize::MAX, anyhow!("extraction cancelled"));
                break;
            }
            let taken = self
                .queue
                .take_next(slot, |start, end| source.has_landed(start, end));
            let i = match taken {
                Taken::Job(i) => i,
                Taken::Wait => {
                    self.consumed(source, layout_front);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                Taken::Done => {
                    self.consumed(source, layout_front);
                    break;
                }
            };
            self.consumed(source, layout_front);
            let (entry, exec) = self.files[i];
            let written = check_landed_record(&mut headers, source, entry).and_then(|()| {
                // A spooled archive drops what the readers are past as they go, not only
                // between files: one file may be most of it.
                let tick = || self.consumed(source, layout_front);
                self.write_file(zip, entry, exec, dirs, &mut buf, &tick)
            });
            match written {
                Ok(file) => {
                    self.files_written.fetch_add(1, Ordering::Relaxed);
                    if let (Some(written), Some(sha256)) = (&self.written, file.sha256) {
                        let mut w = written.lock().unwrap_or_else(|e| e.into_inner());
                        w.insert(entry.path.clone(), (file.size, sha256));
                    }
                }
                Err(err) => {
                    self.fail(entry.index, err);
                    break;
                }
            }
        }
    }

    fn fail(&self, index: usize, err: anyhow::Error) {
        self.failed.store(true, Ordering::Relaxed);
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((index, err));
    }

    fn write_file(
        &self,
        zip: &mut Archive,
        e: &Entry,
        exec: bool,
        dirs: &mut DirCache,
        buf: &mut [u8],
        tick: &dyn Fn(),
    ) -> Result<WrittenFile> {
        dirs.ensure_parent(&e.path)?;
        let path = self.root.join(&e.path);
        let mut src = zip
            .by_index(e.index)
            .with_context(|| format!("cannot read archive entry {}", e.shown))?;
        let out = create_file(&path, exec).with_context(|| {
            format!(
                "cannot create {} for archive entry {}",
                path.display(),
                e.shown
            )
        })?;
        let mut out = BufWriter::with_capacity(buffer_for(Some(e.size)), out);
        // Only a manifest needs the files' hashes: the default pays for none (issue 25).
        let mut hasher = self.written.is_some().then(Sha256::new);
        let mut n = 0u64;
        loop {
            // Read to EOF: that is where the zip crate verifies the CRC.
            let k = match src.read(buf) {
                Ok(0) => break,
                Ok(k) => k,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    return Err(err)
                        .with_context(|| format!("archive entry {} is corrupt", e.shown));
                }
            };
            if cancel::cancelled() {
                bail!("extraction cancelled (at entry {})", e.shown);
            }
            if (n + k as u64) / TICK_BYTES != n / TICK_BYTES {
                tick();
            }
            n += k as u64;
            self.count(e, n, k)?;
            if let Some(hasher) = &mut hasher {
                hasher.update(&buf[..k]);
            }
            out.write_all(&buf[..k])
                .with_context(|| format!("failed to write {}", path.display()))?;
        }
        if n != e.size {
            bail!(
                "archive entry {} is truncated: {n} of {} declared bytes",
                e.shown,
                e.size
            );
        }
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)
            .with_context(|| format!("failed to write {}", path.display()))?;
        Ok(WrittenFile {
            size: n,
            sha256: hasher.map(|h| h.finalize().into()),
        })
    }

    /// Counts `k` more bytes of `e` (`n` of them so far) against its declared size and, with
    /// every other file's, against the limit: sizes that lie are caught as the bytes come.
    fn count(&self, e: &Entry, n: u64, k: usize) -> Result<()> {
        if n > e.size {
            bail!(
                "archive entry {} holds more than its declared {} bytes",
                e.shown,
                e.size
            );
        }
        let total = self.bytes_written.fetch_add(k as u64, Ordering::Relaxed) + k as u64;
        if total > self.limit {
            bail!(
                "archive exceeds the limit of {} uncompressed bytes (at entry {})",
                self.limit,
                e.shown
            );
        }
        Ok(())
    }
}

/// One file as [`Shared::write_file`] wrote it.
struct WrittenFile {
    size: u64,
    /// Its SHA-256, when the manifest asked for it.
    sha256: Option<[u8; 32]>,
}

/// A copy buffer for files of at most `largest` bytes: `BUF_SIZE`, or less for smaller files.
fn buffer_for(largest: Option<u64>) -> usize {
    let largest = usize::try_from(largest.unwrap_or(0)).unwrap_or(usize::MAX);
    largest.clamp(4096, BUF_SIZE)
}

/// Directories under the staging root known to be real directories (not symlinks), by relative
/// path. Everything not yet known is created or checked on disk with lstat.
#[derive(Clone)]
struct DirCache<'a> {
    root: &'a Path,
    known: HashSet<String>,
}

impl<'a> DirCache<'a> {
    fn new(root: &'a Path) -> Self {
        Self {
            root,
            known: HashSet::new(),
        }
    }

    fn ensure_parent(&mut self, rel: &str) -> Result<()> {
        match rel.rfind('/') {
            Some(end) => self.ensure(&rel[..end]),
            None => Ok(()),
        }
    }

    /// Create `rel` and its parents (mode 0o755), refusing anything on the way that is not a real
    /// directory. Iterative: names can be deep.
    fn ensure(&mut self, rel: &str) -> Result<()> {
        if self.known.contains(rel) {
            return Ok(());
        }
        let ends = rel.match_indices('/').map(|(i, _)| i).chain([rel.len()]);
        for end in ends {
            let prefix = &rel[..end];
            if self.known.contains(prefix) {
                continue;
            }
            let path = self.root.join(prefix);
            match dir_builder().create(&path) {
                Ok(()) => {}
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                    let meta = fs_err::symlink_metadata(&path)?;
                    if meta.file_type().is_symlink() {
                        bail!(
                            "refusing to extract {rel:?}: file written through a symlink ({} is a symlink)",
                            path.display()
                        );
                    }
                    if !meta.is_dir() {
                        bail!(
                            "refusing to extract {rel:?}: {} exists and is not a directory",
                            path.display()
                        );
                    }
                }
                Err(err) => {
                    return Err(err)
                        .with_context(|| format!("failed to create directory {}", path.display()));
                }
            }
            self.known.insert(prefix.to_owned());
        }
        Ok(())
    }
}

pub(super) fn dir_builder() -> fs::DirBuilder {
    #[allow(unused_mut)]
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        // Via mkdir's mode argument, so the umask applies, as for any other tool.
        builder.mode(0o755);
    }
    builder
}

/// A new file: `create_new` never follows or replaces whatever is already at `path`.
pub(super) fn create_file(path: &Path, exec: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if exec { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = exec;
    options.open(path)
}

pub(super) fn make_symlink(target: &str, link: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        Ok(fs_err::os::unix::fs::symlink(Path::new(target), link)?)
    }
    #[cfg(not(unix))]
    {
        bail!(
            "cannot create symlink {} -> {target}: not supported on this platform",
            link.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use zip::CompressionMethod;
    use zip::write::SimpleFileOptions;

    use super::*;
    use crate::testkit::{Zip, env, mode, refused, replace_all};

    /// Without a manifest to build, the same tree is written and no file is hashed; with one,
    /// every file's size and SHA-256 are recorded as it is written.
    #[test]
    fn files_are_hashed_only_when_asked() {
        let bytes = Zip::new()
            .file("a/one.txt", b"one\n")
            .stored("two.bin", &[7u8; 5000])
            .bytes();
        let extract = |hashes| {
            let env = env(&bytes);
            let source = Source::file(&env.archive).unwrap();
            let got =
                extract_with_threads(&source, &env.staging, &Limits::default(), None, hashes, 1);
            (got.unwrap(), fs::read(env.staging.join("two.bin")).unwrap())
        };
        let (skipped, tree) = extract(FileHashes::Skipped);
        assert_eq!((skipped.files, skipped.bytes), (2, 5004));
        assert!(skipped.written.is_empty(), "{:?}", skipped.written);
        assert_eq!(tree, [7u8; 5000]);
        let (taken, _) = extract(FileHashes::Taken);
        assert_eq!((taken.files, taken.bytes), (2, 5004));
        let sha: [u8; 32] = Sha256::digest(b"one\n").into();
        assert_eq!(taken.written.get("a/one.txt"), Some(&(4, sha)));
        assert_eq!(taken.written.len(), 2);
    }

    #[test]
    fn normal_tree() {
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let bytes = Zip::new()
            .dir("a/")
            .dir("a/b/")
            .file("a/b/c.txt", b"deflated\n")
            .stored("a/d.bin", &big)
            .file("top.txt", b"top")
            .file("x/y/z.txt", b"implied parents")
            .stored("empty", b"")
            .file("./dot/./f", b"dot")
            .dir("./")
            .bytes();
        let env = env(&bytes);
        let got = env.extract().unwrap();
        assert_eq!(got.files, 6);
        assert_eq!(got.bytes, (9 + big.len() + 3 + 15 + 3) as u64);
        assert!(got.warnings.is_empty());
        let s = &env.staging;
        assert_eq!(fs::read(s.join("a/b/c.txt")).unwrap(), b"deflated\n");
        assert_eq!(fs::read(s.join("a/d.bin")).unwrap(), big);
        assert_eq!(fs::read(s.join("top.txt")).unwrap(), b"top");
        assert_eq!(fs::read(s.join("x/y/z.txt")).unwrap(), b"implied parents");
        assert_eq!(fs::read(s.join("empty")).unwrap(), b"");
        assert_eq!(fs::read(s.join("dot/f")).unwrap(), b"dot");
        assert!(s.join("a/b").is_dir());
        if cfg!(unix) {
            assert_eq!(mode(&s.join("a/b")) & 0o700, 0o700);
            assert_eq!(mode(&s.join("top.txt")) & 0o111, 0);
        }
    }

    #[cfg(unix)]
    #[test]
    fn exec_bit_kept() {
        let exec = SimpleFileOptions::default().unix_permissions(0o755);
        let plain = SimpleFileOptions::default().unix_permissions(0o600);
        let odd = SimpleFileOptions::default().unix_permissions(0o4710);
        let bytes = Zip::new()
            .file_with("bin/tool", b"#!/bin/sh\n", exec)
            .file_with("bin/data", b"x", plain)
            .file_with("bin/setuid", b"x", odd)
            .bytes();
        let env = env(&bytes);
        env.extract().unwrap();
        assert_eq!(mode(&env.staging.join("bin/tool")) & 0o100, 0o100);
        assert_eq!(mode(&env.staging.join("bin/data")) & 0o111, 0);
        // Only 0o755 or 0o644 are ever used: no setuid, and the stored 0o600 is not copied.
        assert_eq!(mode(&env.staging.join("bin/setuid")) & 0o7000, 0);
        assert_eq!(mode(&env.staging.join("bin/data")) & 0o400, 0o400);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_inside_ok() {
        let bytes = Zip::new()
            .dir("d/")
            .file("d/f", b"data")
            .link("l", "d/f")
            .link("d/up", "../d/./f")
            .link("d/self", ".")
            .bytes();
        let env = env(&bytes);
        let got = env.extract().unwrap();
        assert_eq!(got.files, 1);
        let s = &env.staging;
        assert_eq!(fs::read_link(s.join("l")).unwrap(), Path::new("d/f"));
        assert_eq!(fs::read_link(s.join("d/up")).unwrap(), Path::new("../d/f"));
        assert_eq!(fs::read(s.join("d/up")).unwrap(), b"data");
        assert_eq!(fs::read(s.join("l")).unwrap(), b"data");
    }

    #[cfg(unix)]
    #[test]
    fn symlink_chain_stays_inside() {
        let bytes = Zip::new()
            .dir("d/")
            .file("d/f", b"data")
            .link("a", "b/f")
            .link("b", "d")
            .link("x/y/z/up", "../../..")
            .link("c", "x/y/z/up/d")
            .bytes();
        let env = env(&bytes);
        env.extract().unwrap();
        let s = &env.staging;
        assert_eq!(fs::read(s.join("a")).unwrap(), b"data");
        let real = fs::canonicalize(s.join("c")).unwrap();
        assert_eq!(real, fs::canonicalize(s.join("d")).unwrap());
    }

    fn find(bytes: &[u8], needle: &[u8]) -> usize {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
    }

    /// Patch the uncompressed size of the only entry, in both headers.
    fn patch_size(bytes: &mut [u8], size: u32) {
        let local = find(bytes, b"PK\x03\x04");
        bytes[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
        let central = find(bytes, b"PK\x01\x02");
        bytes[central + 24..central + 28].copy_from_slice(&size.to_le_bytes());
    }

    #[test]
    fn data_larger_than_declared() {
        for zip in [
            Zip::new().stored("big", &[7; 100]),
            Zip::new().file("big", &[7; 100]),
        ] {
            let mut bytes = zip.bytes();
            patch_size(&mut bytes, 10);
            let env = env(&bytes);
            let err = format!("{:#}", env.extract().unwrap_err());
            assert!(err.contains("\"big\""), "{err}");
        }
    }

    #[test]
    fn data_smaller_than_declared() {
        let mut bytes = Zip::new().stored("small", &[7; 100]).bytes();
        patch_size(&mut bytes, 1000);
        let env = env(&bytes);
        let err = format!("{:#}", env.extract().unwrap_err());
        assert!(err.contains("\"small\""), "{err}");
    }

    #[test]
    fn crc_mismatch_names_entry() {
        let mut bytes = Zip::new()
            .stored("c.txt", b"hello world")
            .link("l", "c.txt")
            .bytes();
        replace_all(&mut bytes, b"hello world", b"hellO world");
        let env = env(&bytes);
        let err = format!("{:#}", env.extract().unwrap_err());
        assert!(
            err.contains("\"c.txt\"") && err.contains("checksum"),
            "{err}"
        );
        // Symlink targets are checked too.
        let mut bytes = Zip::new().link("l", "target").bytes();
        replace_all(&mut bytes, b"target", b"tarGet");
        let err = refused(&bytes);
        assert!(err.contains("\"l\"") && err.contains("checksum"), "{err}");
    }

    #[test]
    fn staging_must_be_empty() {
        let env = env(&Zip::new().file("a", b"1").bytes());
        fs::write(env.staging.join("stray"), b"").unwrap();
        assert!(env.extract().is_err());
    }

    /// Everything under `root`: relative path -> (mode, contents or link target).
    fn snapshot(root: &Path) -> BTreeMap<String, (u32, Vec<u8>)> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (u32, Vec<u8>)>) {
            for e in fs::read_dir(dir).unwrap() {
                let path = e.unwrap().path();
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let meta = fs::symlink_metadata(&path).unwrap();
                let data = if meta.file_type().is_symlink() {
                    fs::read_link(&path)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes()
                } else if meta.is_dir() {
                    walk(root, &path, out);
                    b"<dir>".to_vec()
                } else {
                    fs::read(&path).unwrap()
                };
                out.insert(rel, (mode(&path), data));
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    #[test]
    fn parallel_equals_serial() {
        let mut zip = Zip::new().dir("d0/");
        let exec = SimpleFileOptions::default().unix_permissions(0o755);
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        for i in 0..2000 {
            let name = format!("d{}/sub{}/f{i}.txt", i % 20, i % 3);
            let data = format!("file {i} ").repeat(i % 97 + (i % 500) * 20);
            let opts = match i % 3 {
                0 => SimpleFileOptions::default(),
                1 => exec,
                _ => stored,
            };
            zip = zip.file_with(name, data.as_bytes(), opts);
        }
        if cfg!(unix) {
            zip = zip.link("d1/link", "sub0/f3.txt");
        }
        let bytes = zip.bytes();
        let serial = env(&bytes);
        let parallel = env(&bytes);
        let limits = Limits::default();
        let file = |p: &Path| Source::file(p).unwrap();
        let a = extract_with_threads(
            &file(&serial.archive),
            &serial.staging,
            &limits,
            None,
            FileHashes::Taken,
            1,
        )
        .unwrap();
        let b = extract_with_threads(
            &file(&parallel.archive),
            &parallel.staging,
            &limits,
            None,
            FileHashes::Taken,
            4,
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.files, 2000);
        let snap = snapshot(&serial.staging);
        assert_eq!(snap, snapshot(&parallel.staging));
        assert_eq!(snap.len(), 2000 + 20 + 60 + usize::from(cfg!(unix)));
        // What was hashed while writing describes the tree as reading it back does.
        assert_eq!(a.written.len(), 2000);
        let described = crate::manifest::Manifest::of_written(&parallel.staging, &b.written);
        let read_back = crate::manifest::Manifest::of_dir(&parallel.staging);
        assert_eq!(described.unwrap(), read_back.unwrap());

        // A bad entry among many fails the parallel path too, naming that entry.
        let mut bytes = bytes;
        replace_all(&mut bytes, b"f1999.txt", b"f1999\\txt");
        let env = env(&bytes);
        let err = extract_with_threads(
            &file(&env.archive),
            &env.staging,
            &limits,
            None,
            FileHashes::Taken,
            4,
        )
        .unwrap_err();
        assert!(format!("{err:#}").contains("f1999\\\\txt"), "{err:#}");
        drop(env.tmp);
    }

    /// A directory of 300 files of growing sizes, and a symlink to one of them with `link`.
    fn three_hundred_files(link: bool) -> Vec<u8> {
        let mut zip = Zip::new().dir("d/");
        for i in 0..300 {
            let data = format!("entry {i} ").repeat(i * 7 + 1);
            zip = zip.file(format!("d/f{i}.txt"), data.as_bytes());
        }
        if link {
            zip = zip.link("d/link", "f3.txt");
        }
        zip.bytes()
    }

    /// `source` extracted into `staging` by `threads` while `feeder` lands it.
    fn extract_fed(
        source: &Source,
        staging: &Path,
        threads: usize,
        feeder: std::thread::JoinHandle<()>,
    ) -> Extracted {
        let got = extract_with_threads(
            source,
            staging,
            &Limits::default(),
            None,
            FileHashes::Taken,
            threads,
        )
        .unwrap();
        feeder.join().unwrap();
        got
    }

    /// An archive landing in scattered pieces (the tail first, as a ranged download brings it)
    /// extracts to the same tree as the finished file, by one thread or several.
    #[test]
    fn a_landing_archive_extracts_as_the_whole_file_does() {
        use crate::landing::Landing;
        use std::sync::Arc;
        let bytes = three_hundred_files(cfg!(unix));
        let whole = env(&bytes);
        let want = whole.extract().unwrap();
        for threads in [1, 4] {
            let landing_env = env(&bytes);
            let landing = Arc::new(Landing::new());
            let len = bytes.len() as u64;
            let source = Source::landing(&landing_env.archive, len, Arc::clone(&landing));
            let feeder = {
                let landing = Arc::clone(&landing);
                std::thread::spawn(move || {
                    let piece = 997;
                    landing.landed(len.saturating_sub(5000), len);
                    for start in (0..len).step_by(piece) {
                        landing.landed(start, (start + piece as u64).min(len));
                        std::thread::yield_now();
                    }
                })
            };
            let got = extract_fed(&source, &landing_env.staging, threads, feeder);
            assert_eq!(got, want);
            assert_eq!(snapshot(&landing_env.staging), snapshot(&whole.staging));
        }
    }

    /// Issue 25: the same archive streamed through memory (a spooled landing: the tail first,
    /// then the rest in pieces) extracts to the same tree, by one thread or several; the
    /// SHA-256 is the archive's, and every byte is given back once both the hash and the
    /// writers are past it, so none is held when the extraction ends.
    #[test]
    fn a_spooled_archive_extracts_as_the_whole_file_does_and_gives_its_memory_back() {
        use crate::landing::Landing;
        use crate::spool::Budget;
        use sha2::{Digest, Sha256};
        use std::sync::Arc;
        let bytes: Arc<[u8]> = three_hundred_files(false).into();
        let whole = env(&bytes);
        let want = whole.extract().unwrap();
        for threads in [1, 4] {
            let spooled_env = env(&bytes);
            let budget = Budget::new(64 << 20);
            let landing = Arc::new(Landing::spooled(
                &spooled_env.tmp.path().join("spill"),
                Arc::clone(&budget),
            ));
            let len = bytes.len() as u64;
            landing.begin(len);
            let source = Source::landing(&spooled_env.archive, len, Arc::clone(&landing));
            let feeder = {
                let (landing, bytes) = (Arc::clone(&landing), Arc::clone(&bytes));
                std::thread::spawn(move || {
                    let tail = len.saturating_sub(5000);
                    landing.put(tail, bytes[tail as usize..].to_vec()).unwrap();
                    for start in (0..tail).step_by(997) {
                        let end = (start + 997).min(tail);
                        let piece = bytes[start as usize..end as usize].to_vec();
                        landing.put(start, piece).unwrap();
                        std::thread::yield_now();
                    }
                })
            };
            let got = extract_fed(&source, &spooled_env.staging, threads, feeder);
            assert_eq!(got, want);
            assert_eq!(snapshot(&spooled_env.staging), snapshot(&whole.staging));
            assert_eq!(landing.sha256(len), Some(Sha256::digest(&bytes[..]).into()));
            assert_eq!(budget.held(), 0, "bytes still held after the extraction");
            assert!(!landing.write_whole(len).unwrap(), "nothing was dropped");
            assert!(!spooled_env.tmp.path().join("spill").exists());
        }
    }

    /// A landing archive whose download is given up fails the extraction instead of waiting.
    #[test]
    fn a_poisoned_landing_fails_the_extraction() {
        use crate::landing::Landing;
        use std::sync::Arc;
        let bytes = Zip::new().file("a", &[b'a'; 5000]).file("b", b"b").bytes();
        let env = env(&bytes);
        let landing = Arc::new(Landing::new());
        let len = bytes.len() as u64;
        landing.landed(len - 200, len);
        let source = Source::landing(&env.archive, len, Arc::clone(&landing));
        let poisoner = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            landing.poison("the download failed");
        });
        let err = extract_with_threads(
            &source,
            &env.staging,
            &Limits::default(),
            None,
            FileHashes::Taken,
            1,
        )
        .unwrap_err();
        poisoner.join().unwrap();
        assert!(
            format!("{err:#}").contains("the download failed"),
            "{err:#}"
        );
    }
}
