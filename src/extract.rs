//! Safe extraction of artifact zips.
//!
//! Threat model: any workflow run can upload an artifact, including one triggered by a fork PR,
//! so every archive is hostile. It may try to write outside the destination (`..`, absolute or
//! drive paths, backslashes, symlinks that point out or that later entries are written through),
//! to fill the disk (decompression bombs, sizes that lie), or to confuse us with duplicate or
//! colliding names. So: every name and symlink target is validated before anything is written;
//! the tree is built in an empty staging directory we own, re-checking on disk as we go (a
//! case-insensitive or normalizing filesystem can alias a name we thought distinct onto one of our
//! symlinks); and `place` then moves it into the destination without ever following a symlink
//! that already exists there.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use anyhow::{Context as _, Result, anyhow, bail};
use zip::{CompressionMethod, ZipArchive};

use crate::fsx;

/// Copy buffer: big reads keep syscalls and decompressor calls per byte low.
const BUF_SIZE: usize = 256 * 1024;
/// NAME_MAX on every filesystem we care about.
const MAX_COMPONENT_BYTES: usize = 255;
/// PATH_MAX - 1: longer names could never be created, and bounding them keeps the per-prefix
/// checks below cheap even for hostile names.
const MAX_NAME_BYTES: usize = 4095;
/// Bounds the per-prefix work for names like `a/a/a/...`; real trees are far shallower.
const MAX_DEPTH: usize = 256;
/// Symlink targets are read into memory, so they are bounded too (PATH_MAX - 1).
const MAX_LINK_TARGET_BYTES: usize = 4095;
const MAX_THREADS: usize = 8;
/// Bytes of an entry name quoted in messages.
const SHOWN_BYTES: usize = 120;
/// Below this many files, starting threads (each re-reads the central directory) does not pay.
const PARALLEL_MIN_FILES: usize = 64;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

type Archive = ZipArchive<BufReader<File>>;

#[derive(Debug, Clone)]
pub struct Limits {
    /// Bound on both the declared and the actually produced uncompressed bytes.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_total_bytes: 20 << 30,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// Regular files written.
    pub files: u64,
    /// Uncompressed bytes written to those files.
    pub bytes: u64,
    pub warnings: Vec<String>,
}

/// Extract the zip at `archive` into `staging` (an empty directory we own), checking every entry.
///
/// Archives with many files are written by up to `min(available_parallelism, 8)` threads.
pub fn extract_zip(archive: &Path, staging: &Path, limits: &Limits) -> Result<Extracted> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS);
    extract_with_threads(archive, staging, limits, threads)
}

/// Move everything under `staging` into `dest` (created if missing): directories merge, existing
/// files (and symlinks) are replaced, unrelated files in `dest` are left alone. A symlink in `dest`
/// where the artifact has a directory is an error: merging would write through it.
pub fn place(staging: &Path, dest: &Path) -> Result<()> {
    // Every conflict is found before the first move, so a refused artifact leaves the
    // destination exactly as it was rather than half-merged.
    check_placeable(staging, dest)?;
    fsx::create_dir_all(dest)?;
    merge_into(staging, dest)
}

/// The checks `merge_into` makes, without moving anything: a directory of the artifact over a
/// symlink or a non-directory in `dest`, or a file of the artifact over a directory.
fn check_placeable(src_dir: &Path, dst_dir: &Path) -> Result<()> {
    for entry in fsx::read_dir(src_dir)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst_dir.join(entry.file_name());
        let from_is_dir = entry
            .file_type()
            .with_context(|| format!("failed to inspect {}", from.display()))?
            .is_dir();
        let meta = match fs::symlink_metadata(&to) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("failed to inspect {}", to.display()));
            }
            Ok(meta) => meta,
        };
        let kind = meta.file_type();
        if from_is_dir && kind.is_symlink() {
            bail!(
                "refusing to write through symlink {} (the artifact has a directory there)",
                to.display()
            );
        } else if from_is_dir && kind.is_dir() {
            check_placeable(&from, &to)?;
        } else if kind.is_dir() {
            bail!(
                "cannot replace directory {} with a file from the artifact",
                to.display()
            );
        } else if from_is_dir {
            bail!(
                "cannot replace {} with a directory from the artifact: it is not a directory",
                to.display()
            );
        }
    }
    Ok(())
}

/// Is `name` a safe single path component (artifact names, Content-Disposition file names)?
pub fn is_safe_component(name: &str) -> bool {
    component_problem(name).is_none()
}

// ---------------------------------------------------------------------------------------------
// Planning: everything here only reads the archive.

#[derive(Debug)]
enum Kind {
    Dir,
    File {
        exec: bool,
    },
    /// `target` is filled in (validated, normalized) once names have been checked.
    Symlink {
        target: String,
    },
}

#[derive(Debug)]
struct Entry {
    /// Index in the central directory.
    index: usize,
    /// Normalized relative path: components joined by '/', no `.`/empty components.
    path: String,
    kind: Kind,
    /// Declared uncompressed size.
    size: u64,
    /// The raw name, quoted and escaped, for error messages.
    shown: String,
}

struct Plan {
    entries: Vec<Entry>,
    warnings: Vec<String>,
}

fn open_archive(path: &Path) -> Result<Archive> {
    let file = fsx::open(path)?;
    // Small buffer: it serves header reads; bulk reads bypass it, and every seek discards it.
    ZipArchive::new(BufReader::with_capacity(16 * 1024, file)).map_err(|err| {
        let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        anyhow!("the downloaded file ({size} bytes) is not a valid zip archive: {err}")
    })
}

/// The first name that occurs twice in the central directory, read by hand: the zip crate keys
/// entries by name, so it can only say *that* there are duplicates. `None` if the directory
/// cannot be walked (zip64, damage); the caller still refuses the archive.
fn duplicate_name(path: &Path) -> Option<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let tail_len = len.min(65_557 + 22);
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail).ok()?;
    let eocd = (0..=tail.len().checked_sub(22)?)
        .rev()
        .find(|&i| tail[i..].starts_with(b"PK\x05\x06"))?;
    let rd16 = |b: &[u8], at: usize| Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?));
    let rd32 = |b: &[u8], at: usize| Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?));
    let count = rd16(&tail, eocd + 10)?;
    let cd_size = u64::from(rd32(&tail, eocd + 12)?);
    let cd_offset = u64::from(rd32(&tail, eocd + 16)?);
    if cd_offset.checked_add(cd_size)? > len {
        return None;
    }
    file.seek(SeekFrom::Start(cd_offset)).ok()?;
    let mut cd = vec![0u8; cd_size as usize];
    file.read_exact(&mut cd).ok()?;
    let mut seen = HashSet::new();
    let mut at = 0usize;
    for _ in 0..count {
        if rd32(&cd, at)? != 0x0201_4b50 {
            return None;
        }
        let name_len = usize::from(rd16(&cd, at + 28)?);
        let name = cd.get(at + 46..at + 46 + name_len)?;
        if !seen.insert(name) {
            return Some(name.to_vec());
        }
        at += 46 + name_len + usize::from(rd16(&cd, at + 30)?) + usize::from(rd16(&cd, at + 32)?);
    }
    None
}

fn plan(zip: &mut Archive, archive: &Path, limits: &Limits) -> Result<Plan> {
    // The zip crate indexes entries by name, so a repeated raw name leaves only this flag behind.
    if zip.has_duplicate_names() {
        match duplicate_name(archive) {
            Some(name) => bail!(
                "refusing archive entry {}: the archive holds more than one entry with this name (duplicate entry names)",
                show(&name)
            ),
            None => bail!("refusing the archive: it contains duplicate entry names"),
        }
    }
    let mut declared = 0u64;
    let mut largest = (0u64, String::new());
    for i in 0..zip.len() {
        let data = entry_data(zip, i)?;
        let size = data.size();
        declared = declared.saturating_add(size);
        if size > largest.0 || i == 0 {
            largest = (size, show(data.name_raw()));
        }
    }
    if declared > limits.max_total_bytes {
        bail!(
            "refusing the archive: its entries declare {declared} uncompressed bytes (the largest, entry {}, {} bytes), more than the limit of {} bytes (max-size)",
            largest.1,
            largest.0,
            limits.max_total_bytes
        );
    }

    let mut entries = Vec::with_capacity(zip.len());
    let mut warnings = Vec::new();
    for index in 0..zip.len() {
        let data = entry_data(zip, index)?;
        let shown = show(data.name_raw());
        let refuse = |why: &str| anyhow!("refusing archive entry {shown}: {why}");
        let (path, dir_marker) = normalize_entry_name(data.name_raw()).map_err(|w| refuse(&w))?;
        if data.encrypted() {
            return Err(refuse("it is encrypted"));
        }
        let method = data.compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(refuse(&format!("unsupported compression method {method}")));
        }
        let mode = data.unix_mode().unwrap_or(0);
        let kind = if dir_marker || mode & S_IFMT == S_IFDIR {
            Kind::Dir
        } else if mode & S_IFMT == S_IFLNK {
            Kind::Symlink {
                target: String::new(),
            }
        } else {
            if !matches!(mode & S_IFMT, 0 | S_IFREG) {
                warnings.push(format!(
                    "archive entry {shown} has special file type {:#o}; extracted as a regular file",
                    mode & S_IFMT
                ));
            }
            Kind::File {
                exec: mode & 0o111 != 0,
            }
        };
        if path.is_empty() {
            // "./" names the root itself, which already exists.
            if matches!(kind, Kind::Dir) {
                continue;
            }
            return Err(refuse("empty name"));
        }
        let size = data.size();
        entries.push(Entry {
            index,
            path,
            kind,
            size,
            shown,
        });
    }
    check_collisions(&entries)?;

    // Symlink targets are entry data; read them now so every check precedes the first write.
    for entry in &mut entries {
        if matches!(entry.kind, Kind::Symlink { .. }) {
            let target = read_link_target(zip, entry)?;
            entry.kind = Kind::Symlink { target };
        }
    }
    Ok(Plan { entries, warnings })
}

fn entry_data(zip: &Archive, index: usize) -> Result<zip::read::ZipFileEntry<'_>> {
    zip.by_index_data(index)
        .with_context(|| format!("cannot read central directory entry {index}"))
}

/// Quote a raw name for messages; invalid UTF-8 is shown byte-escaped rather than replaced.
/// Names longer than `SHOWN_BYTES` are cut, with their length, so a 4 KiB hostile name does not
/// flood the log.
fn show(raw: &[u8]) -> String {
    let (head, cut) = if raw.len() > SHOWN_BYTES {
        // Back up to a character boundary when the name is UTF-8.
        let mut end = SHOWN_BYTES;
        while end > 0 && std::str::from_utf8(&raw[..end]).is_err() && raw.len() - end < 4 {
            end -= 1;
        }
        (&raw[..end], true)
    } else {
        (raw, false)
    };
    let quoted = match std::str::from_utf8(head) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("\"{}\"", head.escape_ascii()),
    };
    if cut {
        format!("{quoted}… ({} bytes)", raw.len())
    } else {
        quoted
    }
}

/// Validate a raw entry name; returns the normalized relative path and whether it ends in '/'.
fn normalize_entry_name(raw: &[u8]) -> Result<(String, bool), String> {
    if raw.is_empty() {
        return Err("empty name".into());
    }
    if raw.len() > MAX_NAME_BYTES {
        return Err(format!("name is longer than {MAX_NAME_BYTES} bytes"));
    }
    let name = std::str::from_utf8(raw).map_err(|_| "name is not valid UTF-8".to_owned())?;
    if name.contains('\\') {
        return Err("name contains a backslash (artifact zips use '/')".into());
    }
    if name.chars().any(char::is_control) {
        return Err("name contains a NUL or control character".into());
    }
    if name.starts_with('/') {
        return Err("absolute path".into());
    }
    let mut parts = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("name has a '..' component".into()),
            _ => {}
        }
        if let Some(why) = component_problem(part) {
            return Err(format!("component {} {why}", show(part.as_bytes())));
        }
        parts.push(part);
    }
    if parts.len() > MAX_DEPTH {
        return Err(format!("path is deeper than {MAX_DEPTH} components"));
    }
    Ok((parts.join("/"), name.ends_with('/')))
}

/// Why `c` is not a safe single path component, if it is not.
fn component_problem(c: &str) -> Option<&'static str> {
    if c.is_empty() {
        return Some("is empty");
    }
    if c == "." || c == ".." {
        return Some("is '.' or '..'");
    }
    if c.contains(['/', '\\']) {
        return Some("contains a path separator");
    }
    if c.chars().any(char::is_control) {
        return Some("contains a NUL or control character");
    }
    if c.len() > MAX_COMPONENT_BYTES {
        return Some("is longer than 255 bytes");
    }
    let b = c.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("has a drive prefix");
    }
    if cfg!(windows) {
        return windows_problem(c);
    }
    None
}

/// Names that are fine on Unix but that Windows would reinterpret.
fn windows_problem(c: &str) -> Option<&'static str> {
    if c.contains(':') {
        return Some("contains ':' (an NTFS alternate data stream)");
    }
    if c.contains(['<', '>', '"', '|', '?', '*']) {
        return Some("contains a character Windows does not allow");
    }
    if c.ends_with(['.', ' ']) {
        return Some("ends with '.' or ' ', which Windows strips");
    }
    let stem = c
        .split('.')
        .next()
        .unwrap_or(c)
        .trim_end()
        .to_ascii_uppercase();
    let numbered = |p: &str| {
        stem.len() == 4 && stem.starts_with(p) && matches!(stem.as_bytes()[3], b'1'..=b'9')
    };
    if matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL") || numbered("COM") || numbered("LPT")
    {
        return Some("is a reserved device name on Windows");
    }
    None
}

/// Duplicates after normalization, and entries nested under a file or symlink entry.
fn check_collisions(entries: &[Entry]) -> Result<()> {
    let mut by_path: HashMap<&str, &Entry> = HashMap::with_capacity(entries.len());
    for e in entries {
        if let Some(prev) = by_path.insert(&e.path, e) {
            bail!(
                "refusing archive entry {}: same path as entry {}",
                e.shown,
                prev.shown
            );
        }
    }
    for e in entries {
        for (end, _) in e.path.match_indices('/') {
            let Some(parent) = by_path.get(&e.path[..end]) else {
                continue;
            };
            match parent.kind {
                Kind::Dir => {}
                Kind::Symlink { .. } => bail!(
                    "refusing archive entry {}: file written through a symlink (entry {} is a symlink)",
                    e.shown,
                    parent.shown
                ),
                Kind::File { .. } => bail!(
                    "refusing archive entry {}: its parent, entry {}, is a file",
                    e.shown,
                    parent.shown
                ),
            }
        }
    }
    Ok(())
}

fn read_link_target(zip: &mut Archive, e: &Entry) -> Result<String> {
    let mut raw = Vec::new();
    {
        let mut file = zip
            .by_index(e.index)
            .with_context(|| format!("cannot read archive entry {}", e.shown))?;
        // Below the bound, read_to_end hits EOF, which is where the zip crate checks the CRC.
        (&mut file)
            .take(MAX_LINK_TARGET_BYTES as u64 + 1)
            .read_to_end(&mut raw)
            .with_context(|| format!("archive entry {} is corrupt", e.shown))?;
    }
    if raw.len() > MAX_LINK_TARGET_BYTES {
        bail!(
            "refusing symlink entry {}: target is longer than {MAX_LINK_TARGET_BYTES} bytes",
            e.shown
        );
    }
    let Ok(target) = String::from_utf8(raw) else {
        bail!(
            "refusing symlink entry {}: target is not valid UTF-8",
            e.shown
        );
    };
    let depth = e.path.matches('/').count();
    normalize_link_target(&target, depth)
        .map_err(|why| anyhow!("refusing symlink entry {} -> {target:?}: {why}", e.shown))
}

/// Check a symlink target lexically against the directory depth of the link; returns it
/// normalized to `../../down/names`.
///
/// `..` is accepted only before any other component: the link's own directory is a real directory
/// (we never create anything under a symlink), so leading `..`s resolve exactly as written. A
/// `..` after a name would be resolved from wherever that name leads on disk, and if it is another
/// of our links (`up -> ../..`, `x -> up/..`) lexical and real resolution differ and `x` escapes.
/// With that rule each link points inside the root, so chains of links stay inside too.
fn normalize_link_target(target: &str, depth: usize) -> Result<String, String> {
    if target.is_empty() {
        return Err("empty target".into());
    }
    if target.starts_with('/') {
        return Err("absolute target".into());
    }
    if target.contains('\\') {
        return Err("target contains a backslash".into());
    }
    if target.chars().any(char::is_control) {
        return Err("target contains a NUL or control character".into());
    }
    let mut ups = 0;
    let mut down = Vec::new();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." if down.is_empty() => ups += 1,
            ".." => return Err("target has '..' after a name".into()),
            _ => {
                if let Some(why) = component_problem(part) {
                    return Err(format!("target component {} {why}", show(part.as_bytes())));
                }
                down.push(part);
            }
        }
    }
    if ups > depth {
        return Err("target points outside the extraction root".into());
    }
    let mut parts = vec![".."; ups];
    parts.extend(down);
    Ok(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

// ---------------------------------------------------------------------------------------------
// Writing.

fn extract_with_threads(
    archive: &Path,
    staging: &Path,
    limits: &Limits,
    threads: usize,
) -> Result<Extracted> {
    // Only an empty staging directory guarantees that every symlink in it is one we made.
    if fsx::read_dir(staging)?.next().is_some() {
        bail!("staging directory {} is not empty", staging.display());
    }
    let mut zip = open_archive(archive)?;
    let Plan {
        entries,
        mut warnings,
    } = plan(&mut zip, archive, limits)?;

    // Directories and symlinks first, serially and in entry order, so file writers only need to
    // verify parents, never race a link being created.
    let mut dirs = DirCache::new(staging);
    let mut files = Vec::new();
    for e in &entries {
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

    let threads = if files.len() < PARALLEL_MIN_FILES {
        1
    } else {
        threads.max(1)
    };
    let mut order: Vec<usize> = (0..files.len()).collect();
    if threads > 1 {
        // Largest first, so a big file does not start last and leave one thread working alone.
        order.sort_by_key(|&i| std::cmp::Reverse(files[i].0.size));
    }
    let shared = Shared {
        root: staging,
        files: &files,
        order,
        next: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        errors: Mutex::new(Vec::new()),
        files_written: AtomicU64::new(0),
        bytes_written: AtomicU64::new(0),
        limit: limits.max_total_bytes,
    };
    let expected_len = zip.len();
    std::thread::scope(|s| {
        let shared = &shared;
        for _ in 1..threads {
            let mut dirs = dirs.clone();
            s.spawn(move || {
                // Each thread needs its own file position; re-reading the central directory is
                // cheap next to extraction, and avoids the unsafe shared-metadata constructor.
                match open_archive(archive) {
                    Ok(mut zip) if zip.len() == expected_len => {
                        shared.work(&mut zip, &mut dirs);
                    }
                    Ok(_) => shared.fail(usize::MAX, anyhow!("{} changed", archive.display())),
                    Err(err) => shared.fail(usize::MAX, err),
                }
            });
        }
        shared.work(&mut zip, &mut dirs);
    });

    let errors = shared
        .errors
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());
    // Report the error of the earliest entry, so the message does not depend on scheduling.
    if let Some((_, err)) = errors.into_iter().min_by_key(|(index, _)| *index) {
        return Err(err);
    }
    Ok(Extracted {
        files: shared.files_written.into_inner(),
        bytes: shared.bytes_written.into_inner(),
        warnings,
    })
}

/// Work shared by the file-writing threads (or the single serial one).
struct Shared<'a> {
    root: &'a Path,
    files: &'a [(&'a Entry, bool)],
    /// Order in which `files` are handed out.
    order: Vec<usize>,
    next: AtomicUsize,
    failed: AtomicBool,
    errors: Mutex<Vec<(usize, anyhow::Error)>>,
    files_written: AtomicU64,
    bytes_written: AtomicU64,
    limit: u64,
}

impl Shared<'_> {
    fn work(&self, zip: &mut Archive, dirs: &mut DirCache) {
        let mut buf = vec![0u8; BUF_SIZE];
        while !self.failed.load(Ordering::Relaxed) {
            if fsx::cancelled() {
                self.fail(usize::MAX, anyhow!("extraction cancelled"));
                break;
            }
            let Some(&i) = self.order.get(self.next.fetch_add(1, Ordering::Relaxed)) else {
                break;
            };
            let (entry, exec) = self.files[i];
            match self.write_file(zip, entry, exec, dirs, &mut buf) {
                Ok(_) => {
                    self.files_written.fetch_add(1, Ordering::Relaxed);
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
    ) -> Result<u64> {
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
        let mut out = BufWriter::with_capacity(BUF_SIZE, out);
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
            if fsx::cancelled() {
                bail!("extraction cancelled (at entry {})", e.shown);
            }
            n += k as u64;
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
        Ok(n)
    }
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
                    let meta = fsx::symlink_metadata(&path)?;
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

fn dir_builder() -> fs::DirBuilder {
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
fn create_file(path: &Path, exec: bool) -> io::Result<File> {
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

fn make_symlink(target: &str, link: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        fsx::symlink(Path::new(target), link)
    }
    #[cfg(not(unix))]
    {
        bail!(
            "cannot create symlink {} -> {target}: not supported on this platform",
            link.display()
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Placing the staged tree.

fn merge_into(src_dir: &Path, dst_dir: &Path) -> Result<()> {
    for entry in fsx::read_dir(src_dir)? {
        let entry = entry?;
        let from = entry.path();
        let to = dst_dir.join(entry.file_name());
        // DirEntry::file_type does not follow symlinks (and usually needs no extra syscall).
        let from_is_dir = entry
            .file_type()
            .with_context(|| format!("failed to inspect {}", from.display()))?
            .is_dir();
        match fs::symlink_metadata(&to) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => move_path(&from, &to)?,
            Err(err) => {
                return Err(err).with_context(|| format!("failed to inspect {}", to.display()));
            }
            Ok(meta) => {
                let kind = meta.file_type();
                if from_is_dir && kind.is_symlink() {
                    bail!(
                        "refusing to write through symlink {} (the artifact has a directory there)",
                        to.display()
                    );
                } else if from_is_dir && kind.is_dir() {
                    merge_into(&from, &to)?;
                    fsx::remove_dir(&from)?;
                } else if kind.is_dir() {
                    bail!(
                        "cannot replace directory {} with a file from the artifact",
                        to.display()
                    );
                } else if from_is_dir {
                    bail!(
                        "cannot replace {} with a directory from the artifact: it is not a directory",
                        to.display()
                    );
                } else {
                    // rename replaces the name itself: an existing file or symlink there is
                    // swapped out, never written through.
                    move_path(&from, &to)?;
                }
            }
        }
    }
    Ok(())
}

fn move_path(from: &Path, to: &Path) -> Result<()> {
    match fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::CrossesDevices => move_by_copy(from, to),
        Err(err) => Err(err)
            .with_context(|| format!("failed to move {} to {}", from.display(), to.display())),
    }
}

/// The cross-filesystem fallback of `move_path`.
fn move_by_copy(from: &Path, to: &Path) -> Result<()> {
    copy_tree(from, to)?;
    if fsx::symlink_metadata(from)?.is_dir() {
        fsx::remove_dir_all(from)
    } else {
        fsx::remove_file(from)
    }
}

/// Copy `from` to `to`. A directory is copied into a new directory; a file or symlink is built
/// under a temporary name next to `to` and renamed over it, since opening `to` itself would
/// follow a symlink there.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let meta = fsx::symlink_metadata(from)?;
    if meta.is_dir() {
        dir_builder()
            .create(to)
            .with_context(|| format!("failed to create directory {}", to.display()))?;
        for entry in fsx::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    let tmp = temp_sibling(to);
    let made = if meta.file_type().is_symlink() {
        make_symlink_like(from, &tmp)
    } else {
        copy_file(from, &tmp, &meta)
    };
    let renamed = made.and_then(|()| {
        fs::rename(&tmp, to)
            .with_context(|| format!("failed to move {} to {}", tmp.display(), to.display()))
    });
    if renamed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    renamed
}

fn make_symlink_like(from: &Path, link: &Path) -> Result<()> {
    let target = fsx::read_link(from)?;
    let Some(target) = target.to_str() else {
        bail!("symlink {} has a non-UTF-8 target", from.display());
    };
    make_symlink(target, link)
}

fn copy_file(from: &Path, to: &Path, meta: &fs::Metadata) -> Result<()> {
    let mut src = fsx::open(from)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(meta.permissions().mode() & 0o777);
    }
    #[cfg(not(unix))]
    let _ = meta;
    let mut dst = options
        .open(to)
        .with_context(|| format!("failed to create {}", to.display()))?;
    // File to File: std uses copy_file_range/sendfile where it can.
    io::copy(&mut src, &mut dst)
        .with_context(|| format!("failed to copy {} to {}", from.display(), to.display()))?;
    Ok(())
}

fn temp_sibling(path: &Path) -> std::path::PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    // Not derived from the file name, which may already be 255 bytes long.
    path.with_file_name(format!(".artifetch-{}-{n}.tmp", std::process::id()))
}

#[cfg(test)]
#[path = "extract_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Cursor;
    use std::path::PathBuf;

    use zip::ZipWriter;
    use zip::write::SimpleFileOptions;

    use super::*;

    /// Builds test archives; names are raw bytes so hostile ones can be written.
    struct Zip(ZipWriter<Cursor<Vec<u8>>>);

    impl Zip {
        fn new() -> Self {
            Self(ZipWriter::new(Cursor::new(Vec::new())))
        }

        fn file_with(
            mut self,
            name: impl AsRef<[u8]>,
            data: &[u8],
            opts: SimpleFileOptions,
        ) -> Self {
            self.0
                .start_file_with_options(opts.name(name.as_ref()))
                .unwrap();
            self.0.write_all(data).unwrap();
            self
        }

        fn file(self, name: impl AsRef<[u8]>, data: &[u8]) -> Self {
            self.file_with(name, data, SimpleFileOptions::default())
        }

        fn stored(self, name: impl AsRef<[u8]>, data: &[u8]) -> Self {
            let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
            self.file_with(name, data, opts)
        }

        fn dir(mut self, name: &str) -> Self {
            self.0
                .add_directory(name, SimpleFileOptions::default())
                .unwrap();
            self
        }

        fn link(mut self, name: &str, target: &str) -> Self {
            self.0
                .add_symlink(name, target, SimpleFileOptions::default())
                .unwrap();
            self
        }

        fn bytes(self) -> Vec<u8> {
            self.0.finish().unwrap().into_inner()
        }
    }

    struct Env {
        tmp: tempfile::TempDir,
        archive: PathBuf,
        staging: PathBuf,
    }

    fn env(bytes: &[u8]) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let archive = tmp.path().join("artifact.zip");
        fs::write(&archive, bytes).unwrap();
        let staging = tmp.path().join("staging");
        fs::create_dir(&staging).unwrap();
        Env {
            tmp,
            archive,
            staging,
        }
    }

    impl Env {
        fn extract(&self) -> Result<Extracted> {
            extract_zip(&self.archive, &self.staging, &Limits::default())
        }

        fn staging_is_empty(&self) -> bool {
            fs::read_dir(&self.staging).unwrap().next().is_none()
        }
    }

    /// Extraction must fail before writing anything; returns the full error chain.
    fn refused(bytes: &[u8]) -> String {
        let env = env(bytes);
        let err = format!("{:#}", env.extract().unwrap_err());
        assert!(
            env.staging_is_empty(),
            "wrote something before failing: {err}"
        );
        err
    }

    fn mode(path: &Path) -> u32 {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            0
        }
    }

    /// Patch every occurrence of `from` in `bytes` with `to` (same length).
    fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
        assert_eq!(from.len(), to.len());
        let mut hits = 0;
        for i in 0..=bytes.len() - from.len() {
            if &bytes[i..i + from.len()] == from {
                bytes[i..i + from.len()].copy_from_slice(to);
                hits += 1;
            }
        }
        assert!(hits > 0);
    }

    fn find(bytes: &[u8], needle: &[u8]) -> usize {
        bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap()
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

    #[test]
    fn hostile_names_refused() {
        for (name, why) in [
            (&b"../x"[..], "'..'"),
            (b"a/../../x", "'..'"),
            (b"a/..", "'..'"),
            (b"/abs", "absolute"),
            (b"C:\\x", "backslash"),
            (b"C:x", "drive prefix"),
            (b"a/C:x", "drive prefix"),
            (b"..\\x", "backslash"),
            (b"a\\b", "backslash"),
            (b"a\0b", "control"),
            (b"a\x1bb", "control"),
            (b"a\x7fb", "control"),
            (b"bad\xff.txt", "UTF-8"),
            (b".", "empty name"),
        ] {
            let bytes = Zip::new().file("ok.txt", b"ok").file(name, b"evil").bytes();
            let err = refused(&bytes);
            let shown = show(name);
            assert!(err.contains(&shown), "{err} should name {shown}");
            assert!(err.contains(why), "{err} should say {why}");
        }
        let long = format!("d/{}", "n".repeat(300));
        let err = refused(&Zip::new().file(&long, b"x").bytes());
        assert!(err.contains("longer than 255 bytes"), "{err}");
        let deep = "d/".repeat(MAX_DEPTH + 1) + "f";
        let err = refused(&Zip::new().file(&deep, b"x").bytes());
        assert!(err.contains("deeper"), "{err}");
        assert!(show(b"bad\xff.txt").contains("\\xff"));
    }

    #[test]
    fn name_normalization() {
        assert_eq!(normalize_entry_name(b"./a/./b/"), Ok(("a/b".into(), true)));
        assert_eq!(normalize_entry_name(b"a//b"), Ok(("a/b".into(), false)));
        assert_eq!(normalize_entry_name(b"./"), Ok((String::new(), true)));
        assert!(normalize_entry_name(b"").is_err());
        assert!(normalize_entry_name(b"a/../b").is_err());
        assert!(normalize_entry_name("naïve/日本.txt".as_bytes()).is_ok());
        assert!(normalize_entry_name(b"ab:c").is_ok() != cfg!(windows));
        assert!(normalize_entry_name(&[b'a'; MAX_NAME_BYTES + 1]).is_err());
    }

    #[test]
    fn safe_components() {
        for ok in [
            "artifact",
            "my-artifact_1.2",
            "a b",
            "日本",
            ".hidden",
            "..x",
            "x..y",
            "ab:c",
        ] {
            assert_eq!(
                is_safe_component(ok),
                !(cfg!(windows) && ok == "ab:c"),
                "{ok}"
            );
        }
        let long = "x".repeat(256);
        for bad in [
            "", ".", "..", "a/b", "/", "a\\b", "a\0b", "a\nb", "a\x7f", "C:", "c:x", &long,
        ] {
            assert!(!is_safe_component(bad), "{bad:?}");
        }
        for bad in [
            "a:b", "x.", "x ", "CON", "con.txt", "Lpt1", "COM9.log", "a|b", "a?",
        ] {
            assert!(windows_problem(bad).is_some(), "{bad:?}");
        }
        for ok in ["CONSOLE", "COM0", "LPT10", "x.y", "nul_"] {
            assert!(windows_problem(ok).is_none(), "{ok:?}");
        }
    }

    #[test]
    fn link_targets() {
        assert_eq!(normalize_link_target("a/./b", 0).unwrap(), "a/b");
        assert_eq!(normalize_link_target("../../x", 2).unwrap(), "../../x");
        assert_eq!(normalize_link_target("..", 1).unwrap(), "..");
        assert_eq!(normalize_link_target(".", 0).unwrap(), ".");
        assert!(normalize_link_target("../x", 0).is_err());
        assert!(normalize_link_target("../../../x", 2).is_err());
        assert!(normalize_link_target("a/../b", 3).is_err());
        assert!(normalize_link_target("/etc/passwd", 3).is_err());
        assert!(normalize_link_target("C:x", 3).is_err());
        assert!(normalize_link_target("a\\b", 3).is_err());
        assert!(normalize_link_target("a\0", 3).is_err());
        assert!(normalize_link_target("", 3).is_err());
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

    #[test]
    fn symlink_outside_refused() {
        for (name, target) in [
            ("l", "../x"),
            ("l", "/etc/passwd"),
            ("d/l", "../../x"),
            ("d/l", "../d/../../x"),
            ("l", "..\\x"),
        ] {
            let err = refused(&Zip::new().dir("d/").link(name, target).bytes());
            assert!(err.contains(&format!("{name:?}")), "{err}");
            assert!(err.contains("symlink"), "{err}");
        }
    }

    #[test]
    fn file_through_symlink_refused() {
        let bytes = Zip::new()
            .dir("d/")
            .link("l", "d")
            .file("l/x", b"evil")
            .bytes();
        let err = refused(&bytes);
        assert!(err.contains("\"l/x\""), "{err}");
        assert!(err.contains("file written through a symlink"), "{err}");
        // Order does not matter: the file may come first.
        let bytes = Zip::new()
            .file("l/x", b"evil")
            .dir("d/")
            .link("l", "d")
            .bytes();
        let err = refused(&bytes);
        assert!(err.contains("file written through a symlink"), "{err}");
        // Nor can a link be placed under a link.
        let err = refused(&Zip::new().link("l", ".").link("l/m", "x").bytes());
        assert!(err.contains("file written through a symlink"), "{err}");
    }

    #[test]
    fn symlink_chains() {
        // a -> b -> d: each hop points inside, writing through either is refused.
        let err = refused(
            &Zip::new()
                .dir("d/")
                .link("a", "b")
                .link("b", "d")
                .file("a/x", b"evil")
                .bytes(),
        );
        assert!(err.contains("\"a/x\""), "{err}");
        assert!(err.contains("file written through a symlink"), "{err}");
        // `up` points at the root (lexically fine); `esc` goes one '..' further *through* it,
        // which lexically looks like x/y/z but really is the parent of the root.
        let err = refused(
            &Zip::new()
                .link("x/y/z/up", "../../..")
                .link("esc", "x/y/z/up/..")
                .bytes(),
        );
        assert!(err.contains("\"esc\""), "{err}");
        assert!(err.contains("'..' after a name"), "{err}");
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

    #[test]
    fn dir_file_collisions() {
        let err = refused(&Zip::new().file("a", b"1").file("a/b", b"2").bytes());
        assert!(
            err.contains("\"a/b\"") && err.contains("is a file"),
            "{err}"
        );
        let err = refused(&Zip::new().file("a/b", b"2").file("a", b"1").bytes());
        assert!(
            err.contains("\"a/b\"") && err.contains("is a file"),
            "{err}"
        );
        let err = refused(&Zip::new().dir("a/").file("a", b"1").bytes());
        assert!(err.contains("\"a\"") && err.contains("same path"), "{err}");
        let err = refused(&Zip::new().file("a", b"1").file("./a", b"2").bytes());
        assert!(
            err.contains("\"./a\"") && err.contains("same path"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_raw_names() {
        let mut bytes = Zip::new().file("dupA", b"1").file("dupB", b"2").bytes();
        replace_all(&mut bytes, b"dupB", b"dupA");
        let err = refused(&bytes);
        assert!(err.contains("duplicate"), "{err}");
    }

    #[test]
    fn declared_size_over_limit() {
        let bytes = Zip::new()
            .file("a", &[b'a'; 600])
            .file("b", &[b'b'; 600])
            .bytes();
        let env = env(&bytes);
        let limits = Limits {
            max_total_bytes: 1000,
        };
        let err = format!(
            "{:#}",
            extract_zip(&env.archive, &env.staging, &limits).unwrap_err()
        );
        assert!(
            err.contains("declare 1200") && err.contains("limit") && err.contains("\"a\""),
            "{err}"
        );
        assert!(env.staging_is_empty());
        let limits = Limits {
            max_total_bytes: 1200,
        };
        extract_zip(&env.archive, &env.staging, &limits).unwrap();
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
    fn invalid_archives() {
        let good = Zip::new().file("a", b"some data").bytes();
        for bytes in [&good[..good.len() - 30], b"", b"this is not a zip file"] {
            let err = refused(bytes);
            assert!(err.contains("is not a valid zip archive: "), "{err}");
        }
    }

    #[test]
    fn staging_must_be_empty() {
        let env = env(&Zip::new().file("a", b"1").bytes());
        fs::write(env.staging.join("stray"), b"").unwrap();
        assert!(env.extract().is_err());
    }

    #[test]
    fn place_merges() {
        let tmp = tempfile::tempdir().unwrap();
        let staging = tmp.path().join("staging");
        let dest = tmp.path().join("dest");
        fs::create_dir_all(staging.join("sub/deeper")).unwrap();
        fs::create_dir_all(staging.join("newdir")).unwrap();
        fs::write(staging.join("sub/replace.txt"), b"new").unwrap();
        fs::write(staging.join("sub/new.txt"), b"new").unwrap();
        fs::write(staging.join("sub/deeper/f"), b"f").unwrap();
        fs::write(staging.join("newdir/f"), b"f").unwrap();
        fs::create_dir_all(dest.join("sub")).unwrap();
        fs::write(dest.join("keep.txt"), b"keep").unwrap();
        fs::write(dest.join("sub/old.txt"), b"old").unwrap();
        fs::write(dest.join("sub/replace.txt"), b"old").unwrap();

        place(&staging, &dest).unwrap();
        assert_eq!(fs::read(dest.join("keep.txt")).unwrap(), b"keep");
        assert_eq!(fs::read(dest.join("sub/old.txt")).unwrap(), b"old");
        assert_eq!(fs::read(dest.join("sub/replace.txt")).unwrap(), b"new");
        assert_eq!(fs::read(dest.join("sub/new.txt")).unwrap(), b"new");
        assert_eq!(fs::read(dest.join("sub/deeper/f")).unwrap(), b"f");
        assert_eq!(fs::read(dest.join("newdir/f")).unwrap(), b"f");

        // A dest that does not exist yet is created.
        let fresh = tmp.path().join("a/b/fresh");
        fs::create_dir_all(staging.join("x")).unwrap();
        place(&staging, &fresh).unwrap();
        assert!(fresh.join("x").is_dir());
    }

    #[test]
    fn place_type_conflicts() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest) = (tmp.path().join("s"), tmp.path().join("d"));
        fs::create_dir_all(staging.join("f")).unwrap();
        fs::create_dir_all(&dest).unwrap();
        fs::write(dest.join("f"), b"file").unwrap();
        let err = format!("{:#}", place(&staging, &dest).unwrap_err());
        assert!(err.contains("not a directory"), "{err}");

        fs::remove_dir(staging.join("f")).unwrap();
        fs::write(staging.join("g"), b"file").unwrap();
        fs::create_dir_all(dest.join("g")).unwrap();
        let err = format!("{:#}", place(&staging, &dest).unwrap_err());
        assert!(err.contains("cannot replace directory"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn place_never_writes_through_dest_symlink() {
        let tmp = tempfile::tempdir().unwrap();
        let (staging, dest, outside) = (
            tmp.path().join("s"),
            tmp.path().join("d"),
            tmp.path().join("outside"),
        );
        fs::create_dir_all(staging.join("sub")).unwrap();
        fs::write(staging.join("sub/f"), b"evil").unwrap();
        fs::create_dir_all(&dest).unwrap();
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, dest.join("sub")).unwrap();
        let err = format!("{:#}", place(&staging, &dest).unwrap_err());
        assert!(
            err.contains(&dest.join("sub").display().to_string()),
            "{err}"
        );
        assert!(err.contains("symlink"), "{err}");
        assert!(fs::read_dir(&outside).unwrap().next().is_none());

        // A file in the artifact replaces a symlink in dest: the link goes, its target stays.
        let (staging, dest) = (tmp.path().join("s2"), tmp.path().join("d2"));
        fs::create_dir_all(&staging).unwrap();
        fs::create_dir_all(&dest).unwrap();
        fs::write(staging.join("f"), b"new").unwrap();
        fs::write(outside.join("victim"), b"victim").unwrap();
        std::os::unix::fs::symlink(outside.join("victim"), dest.join("f")).unwrap();
        place(&staging, &dest).unwrap();
        assert!(
            !fs::symlink_metadata(dest.join("f"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(dest.join("f")).unwrap(), b"new");
        assert_eq!(fs::read(outside.join("victim")).unwrap(), b"victim");
    }

    #[cfg(unix)]
    #[test]
    fn move_by_copy_fallback() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("src");
        fs::create_dir_all(src.join("d/e")).unwrap();
        fs::write(src.join("d/e/f"), b"f").unwrap();
        fs::write(src.join("d/x"), b"x").unwrap();
        create_file(&src.join("d/tool"), true).unwrap();
        std::os::unix::fs::symlink("e/f", src.join("d/link")).unwrap();
        let to = tmp.path().join("dst");
        move_by_copy(&src.join("d"), &to).unwrap();
        assert!(!src.join("d").exists());
        assert_eq!(fs::read(to.join("e/f")).unwrap(), b"f");
        assert_eq!(fs::read(to.join("x")).unwrap(), b"x");
        assert_eq!(mode(&to.join("tool")) & 0o100, 0o100);
        assert_eq!(fs::read_link(to.join("link")).unwrap(), Path::new("e/f"));

        // Replacing a symlink by copy must not write through it.
        let victim = tmp.path().join("victim");
        fs::write(&victim, b"victim").unwrap();
        std::os::unix::fs::symlink(&victim, to.join("swap")).unwrap();
        fs::write(tmp.path().join("new"), b"new").unwrap();
        move_by_copy(&tmp.path().join("new"), &to.join("swap")).unwrap();
        assert_eq!(fs::read(&victim).unwrap(), b"victim");
        assert_eq!(fs::read(to.join("swap")).unwrap(), b"new");
        assert!(!tmp.path().join("new").exists());
        let leftovers: Vec<_> = fs::read_dir(&to)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
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
        let a = extract_with_threads(&serial.archive, &serial.staging, &limits, 1).unwrap();
        let b = extract_with_threads(&parallel.archive, &parallel.staging, &limits, 4).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.files, 2000);
        let snap = snapshot(&serial.staging);
        assert_eq!(snap, snapshot(&parallel.staging));
        assert_eq!(snap.len(), 2000 + 20 + 60 + usize::from(cfg!(unix)));

        // A bad entry among many fails the parallel path too, naming that entry.
        let mut bytes = bytes;
        replace_all(&mut bytes, b"f1999.txt", b"f1999\\txt");
        let env = env(&bytes);
        let err = extract_with_threads(&env.archive, &env.staging, &limits, 4).unwrap_err();
        assert!(format!("{err:#}").contains("f1999\\\\txt"), "{err:#}");
        drop(env.tmp);
    }
}
