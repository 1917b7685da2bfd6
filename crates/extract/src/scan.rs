//! Reading the archive without writing anything: open it, find duplicate names, plan every entry
//! (kind, normalized path, declared size, validated symlink target) and refuse collisions.
//!
//! Every check that can refuse an archive runs here, so a refused archive leaves staging empty.

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use anyhow::{Context as _, Result, anyhow, bail};
// The zip crate reads from the central directory, so the data descriptor that artifact zips put
// on every entry (deflated or stored) cannot derail it, as it does naive streaming readers.
use zip::{CompressionMethod, ZipArchive};

use super::central;
use super::landing::{Reader, Source};
use super::names::{git_component, normalize_entry_name, normalize_link_target, show};
use super::{Limits, RATIO_FLOOR, Select};
use crate::pattern::PathGlobs;

/// Symlink targets are read into memory, so they are bounded too (PATH_MAX - 1).
const MAX_LINK_TARGET_BYTES: usize = 4095;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

pub(super) type Archive = ZipArchive<BufReader<Reader>>;

#[derive(Debug)]
pub(super) enum Kind {
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
pub(super) struct Entry {
    /// Index in the central directory.
    pub(super) index: usize,
    /// Normalized relative path: components joined by '/', no `.`/empty components.
    pub(super) path: String,
    pub(super) kind: Kind,
    /// Declared uncompressed size.
    pub(super) size: u64,
    /// The raw name, quoted and escaped, for error messages.
    pub(super) shown: String,
    /// For an archive still landing: its local record, checked right before its data is read.
    pub(super) record: Option<Record>,
}

/// Where an entry's local record is, and how far it may reach: checked when the archive is
/// complete for all entries at once, or entry by entry as an archive still landing is extracted.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub(super) start: u64,
    compressed: u64,
    /// The next record's start (or the archive's end): this one must end by there.
    bound: u64,
    name: Vec<u8>,
}

impl Record {
    /// The archive bytes this entry's header and data need at least (the header's extra field
    /// and the data descriptor may reach a little further): enough to tell whether they landed.
    pub(super) fn span(&self) -> (u64, u64) {
        let end = self.start + 30 + self.name.len() as u64 + self.compressed;
        (self.start, end.min(self.bound))
    }
}

pub(super) struct Plan {
    pub(super) entries: Vec<Entry>,
    pub(super) warnings: Vec<String>,
    /// With `files`: the files and symlinks not taken, and the globs that took nothing.
    pub(super) left: u64,
    pub(super) unmatched: Vec<String>,
}

pub(super) fn open_archive(source: &Source) -> Result<Archive> {
    open_archive_tracked(source, None)
}

/// [`open_archive`], its reader recording where each read starts in `cursor`.
pub(super) fn open_archive_tracked(
    source: &Source,
    cursor: Option<Arc<AtomicU64>>,
) -> Result<Archive> {
    let file = match cursor {
        Some(cursor) => source.open_tracked(cursor),
        None => source.open(),
    };
    let file = file.with_context(|| format!("failed to open {}", source.path().display()))?;
    // Small buffer: it serves header reads; bulk reads bypass it, and every seek discards it.
    let zip = ZipArchive::new(BufReader::with_capacity(16 * 1024, file)).map_err(|err| {
        anyhow!(
            "the downloaded file ({} bytes) is not a valid zip archive: {err}",
            source.len()
        )
    })?;
    same_end_record(&zip, source)?;
    Ok(zip)
}

/// The zip reader must have found the central directory that [`central::find_eocd`] finds (the
/// parse a partial fetch goes by): an archive they read differently is refused. What that parser
/// does not handle (zip64, junk before the archive) is left to the zip reader, as before.
fn same_end_record(zip: &Archive, source: &Source) -> Result<()> {
    let len = source.len();
    let tail_len = len.min(central::EOCD_MAX as u64);
    let mut tail = vec![0u8; tail_len as usize];
    let mut file = source.open()?;
    file.seek(SeekFrom::Start(len - tail_len))?;
    file.read_exact(&mut tail)?;
    match central::find_eocd(&tail, len) {
        Ok(eocd) if zip.offset() == 0 && zip.central_directory_start() != eocd.cd_offset => bail!(
            "refusing the archive: its end records disagree on where the central directory is ({} or {})",
            zip.central_directory_start(),
            eocd.cd_offset
        ),
        Err(e) if e.is::<central::Ambiguous>() => Err(e),
        _ => Ok(()),
    }
}

/// The first name that occurs twice in the central directory, read by hand: the zip crate keys
/// entries by name, so it can only say *that* there are duplicates. `None` if the directory
/// cannot be walked (zip64, damage); the caller still refuses the archive.
fn duplicate_name(source: &Source) -> Option<Vec<u8>> {
    let mut file = source.open().ok()?;
    let len = source.len();
    let tail_len = len.min(central::EOCD_MAX as u64);
    file.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    file.read_exact(&mut tail).ok()?;
    // The one parse of the end record (it checks the directory's bounds too).
    let eocd = central::find_eocd(&tail, len).ok()?;
    let rd16 = |b: &[u8], at: usize| Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?));
    let rd32 = |b: &[u8], at: usize| Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?));
    let (count, cd_size, cd_offset) = (eocd.entries, eocd.cd_size, eocd.cd_offset);
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

/// The archive-wide checks, before any entry is planned: duplicate names, the layout of local
/// records (for an archive still landing: each entry's record, to check before its data is read),
/// the entry count, the declared size and the compression ratio.
/// With `select` (the `files` input), the size and ratio bounds apply to the entries it takes.
fn check_archive(
    zip: &Archive,
    source: &Source,
    limits: &Limits,
    select: Option<Select<'_>>,
) -> Result<HashMap<usize, Record>> {
    // The zip crate indexes entries by name, so a repeated raw name leaves only this flag behind.
    if zip.has_duplicate_names() {
        match duplicate_name(source) {
            Some(name) => bail!(
                "refusing archive entry {}: the archive holds more than one entry with this name (duplicate entry names)",
                show(&name)
            ),
            None => bail!("refusing the archive: it contains duplicate entry names"),
        }
    }
    // An archive still landing has its records checked entry by entry, as their bytes land; so
    // has a sparse one (a partial fetch), whose unselected records are holes never read.
    let records = if source.is_landing() || select.is_some_and(|s| s.sparse) {
        records(zip, source.len())?
    } else {
        check_layout(zip, source)?;
        HashMap::new()
    };
    if zip.len() as u64 > limits.max_files {
        bail!(
            "refusing the archive: it holds {} entries, more than the limit of {} (max-files)",
            zip.len(),
            limits.max_files
        );
    }
    let mut declared = 0u64;
    let mut largest = (0u64, String::new());
    for i in 0..zip.len() {
        let data = entry_data(zip, i)?;
        // A name that does not normalize is counted (and refused below).
        let taken = select.is_none_or(|s| {
            normalize_entry_name(data.name_raw()).is_ok_and(|(path, _)| s.globs.takes(&path))
        });
        if !taken {
            continue;
        }
        let size = data.size();
        declared = declared.saturating_add(size);
        if size > largest.0 || largest.1.is_empty() {
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

    let compressed = source.len().max(1);
    if declared > RATIO_FLOOR && declared / compressed >= limits.max_ratio {
        bail!(
            "refusing the archive: its entries declare {declared} uncompressed bytes from {compressed} compressed bytes, a ratio of {}:1, more than the limit of {}:1 (max-ratio; a decompression bomb?)",
            declared / compressed,
            limits.max_ratio
        );
    }
    Ok(records)
}

/// Plans every entry. With `select` (the `files` input), every entry is still checked (names,
/// layout, collisions: the archive is judged whole), but only the entries it takes are planned
/// for writing, and the size and ratio bounds apply to those.
pub(super) fn plan(
    zip: &mut Archive,
    source: &Source,
    limits: &Limits,
    select: Option<Select<'_>>,
) -> Result<Plan> {
    let mut records = check_archive(zip, source, limits, select)?;
    let mut entries = Vec::with_capacity(zip.len());
    let mut warnings = Vec::new();
    for index in 0..zip.len() {
        if let Some(entry) = plan_entry(zip, index, limits, &mut records, &mut warnings)? {
            entries.push(entry);
        }
    }
    check_collisions(&entries)?;
    let (left, unmatched) = match select {
        Some(select) => take_selected(&mut entries, select.globs),
        None => (0, Vec::new()),
    };
    read_link_targets(zip, source, limits, &mut entries)?;
    Ok(Plan {
        entries,
        warnings,
        left,
        unmatched,
    })
}

/// The entry at `index`, its name, encryption and method checked; `None` for `./`, the root
/// itself, which already exists. A symlink's target is read later ([`read_link_targets`]).
fn plan_entry(
    zip: &mut Archive,
    index: usize,
    limits: &Limits,
    records: &mut HashMap<usize, Record>,
    warnings: &mut Vec<String>,
) -> Result<Option<Entry>> {
    let data = entry_data(zip, index)?;
    let shown = show(data.name_raw());
    let refuse = |why: &str| anyhow!("refusing archive entry {shown}: {why}");
    let (path, dir_marker) = normalize_entry_name(data.name_raw()).map_err(|w| refuse(&w))?;
    if !limits.allow_git_paths
        && let Some(git) = git_component(&path)
    {
        return Err(refuse(&git_refusal(git)));
    }
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
    let kind = entry_kind(data.unix_mode().unwrap_or(0), dir_marker, &shown, warnings);
    if path.is_empty() {
        // "./" names the root itself, which already exists.
        if matches!(kind, Kind::Dir) {
            return Ok(None);
        }
        return Err(refuse("empty name"));
    }
    let size = data.size();
    Ok(Some(Entry {
        index,
        path,
        kind,
        size,
        shown,
        record: records.remove(&index),
    }))
}

/// What an entry is, by its name's trailing `/` and its Unix mode; a special file type is
/// written as a regular file, with a warning.
fn entry_kind(mode: u32, dir_marker: bool, shown: &str, warnings: &mut Vec<String>) -> Kind {
    if dir_marker || mode & S_IFMT == S_IFDIR {
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
    }
}

/// Symlink targets are entry data; read them now so every check precedes the first write.
fn read_link_targets(
    zip: &mut Archive,
    source: &Source,
    limits: &Limits,
    entries: &mut [Entry],
) -> Result<()> {
    let mut headers = None;
    for entry in entries {
        if matches!(entry.kind, Kind::Symlink { .. }) {
            check_landed_record(&mut headers, source, entry)?;
            let target = read_link_target(zip, entry)?;
            if !limits.allow_git_paths
                && let Some(git) = git_component(&target)
            {
                bail!(
                    "refusing symlink entry {} -> {target:?}: {}",
                    entry.shown,
                    git_refusal(git)
                );
            }
            entry.kind = Kind::Symlink { target };
        }
    }
    Ok(())
}

/// Keeps the entries `select` takes; returns how many files and symlinks it left, and its globs
/// that took nothing. Directories are kept only when taken (parents are made as files need them).
fn take_selected(entries: &mut Vec<Entry>, select: &PathGlobs) -> (u64, Vec<String>) {
    let unmatched = select.unmatched(entries.iter().map(|e| e.path.as_str()));
    let before = entries
        .iter()
        .filter(|e| !matches!(e.kind, Kind::Dir))
        .count();
    entries.retain(|e| select.takes(&e.path));
    let after = entries
        .iter()
        .filter(|e| !matches!(e.kind, Kind::Dir))
        .count();
    ((before - after) as u64, unmatched)
}

/// Why a `.git` component is refused, and how to allow it.
fn git_refusal(component: &str) -> String {
    let shown = show(component.as_bytes());
    let folded = if component == ".git" {
        String::new()
    } else {
        " (a name that Windows or macOS treat as '.git')".to_owned()
    };
    format!(
        "component {shown}{folded} would write into git metadata (.git), which runs code at the next git command; set allow-git-paths: true to allow it"
    )
}

/// Each central directory entry must point at its own local record, under its own name: entries
/// that share or overlap local records (one record's data read by thousands of entries turns
/// kilobytes into gigabytes), or a local header naming another file than the central directory
/// (readers that stream disagree about what is extracted), are refused.
pub(super) fn check_layout(zip: &Archive, source: &Source) -> Result<()> {
    check_records(&layout(zip)?, source, |_| {})
}

/// One entry's local record, as the central directory places it.
pub(super) struct Placed {
    start: u64,
    compressed: u64,
    name: Vec<u8>,
}

/// Every entry's record, in archive order: what [`check_records`] walks.
pub(super) fn layout(zip: &Archive) -> Result<Vec<Placed>> {
    spans(zip)?
        .into_iter()
        .map(|(start, compressed, index)| {
            let name = entry_data(zip, index)?.name_raw().to_vec();
            Ok(Placed {
                start,
                compressed,
                name,
            })
        })
        .collect()
}

/// [`check_layout`]'s walk over `records`; `reached(start)` before each record is read (an
/// archive still landing drops what every reader is past).
pub(super) fn check_records(
    records: &[Placed],
    source: &Source,
    mut reached: impl FnMut(u64),
) -> Result<()> {
    let mut file = BufReader::with_capacity(512, source.open()?);
    let mut name = Vec::new();
    let mut previous: Option<(u64, &[u8])> = None;
    for r in records {
        reached(r.start);
        let shown = show(&r.name);
        if let Some((end, prev)) = previous
            && r.start < end
        {
            bail!(
                "refusing archive entry {shown}: its local record overlaps that of entry {} (entries that share data are a decompression bomb)",
                show(prev)
            );
        }
        let end = record_end(&mut file, &mut name, r.start, &r.name)?;
        let end = end
            .checked_add(r.compressed)
            .filter(|&end| end <= source.len());
        let end = end.with_context(|| {
            format!("refusing archive entry {shown}: its data runs past the end of the archive")
        })?;
        previous = Some((end, &r.name));
    }
    reached(u64::MAX);
    Ok(())
}

/// `(local header offset, compressed size, index)` of every entry, in archive order.
fn spans(zip: &Archive) -> Result<Vec<(u64, u64, usize)>> {
    let mut spans = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let data = entry_data(zip, index)?;
        spans.push((data.header_start(), data.compressed_size(), index));
    }
    spans.sort_unstable();
    Ok(spans)
}

/// Every entry's record and its bound (the next record's start), for checking one at a time.
fn records(zip: &Archive, len: u64) -> Result<HashMap<usize, Record>> {
    let spans = spans(zip)?;
    let mut out = HashMap::with_capacity(spans.len());
    for (k, &(start, compressed, index)) in spans.iter().enumerate() {
        let bound = spans.get(k + 1).map_or(len, |next| next.0);
        let name = entry_data(zip, index)?.name_raw().to_vec();
        let record = Record {
            start,
            compressed,
            bound,
            name,
        };
        out.insert(index, record);
    }
    Ok(out)
}

/// Reads the local header at `start`: it must be one, under `expected`'s name. Returns where its
/// data begins.
fn record_end(
    file: &mut BufReader<Reader>,
    name: &mut Vec<u8>,
    start: u64,
    expected: &[u8],
) -> Result<u64> {
    let shown = show(expected);
    let mut header = [0u8; 30];
    file.seek(SeekFrom::Start(start))
        .and_then(|_| file.read_exact(&mut header))
        .with_context(|| format!("archive entry {shown}: cannot read its local header"))?;
    if header[..4] != *b"PK\x03\x04" {
        bail!("refusing archive entry {shown}: no local header where the central directory points");
    }
    let name_len = usize::from(u16::from_le_bytes([header[26], header[27]]));
    let extra_len = u64::from(u16::from_le_bytes([header[28], header[29]]));
    name.resize(name_len, 0);
    file.read_exact(name)
        .with_context(|| format!("archive entry {shown}: cannot read its local header"))?;
    if name != expected {
        bail!(
            "refusing archive entry {shown}: its local header names it {} (the central directory and the local header disagree)",
            show(name)
        );
    }
    // The header was read, so `start` lies inside the archive: no overflow.
    Ok(start + 30 + name_len as u64 + extra_len)
}

/// An entry of an archive still landing: its local record is checked, as [`check_layout`] checks
/// them all, before its data is read (waiting for the header to land).
fn check_record(file: &mut BufReader<Reader>, e: &Entry) -> Result<()> {
    let Some(r) = &e.record else {
        return Ok(());
    };
    let mut name = Vec::new();
    let end = record_end(file, &mut name, r.start, &r.name)?;
    if end
        .checked_add(r.compressed)
        .is_none_or(|end| end > r.bound)
    {
        bail!(
            "refusing archive entry {}: its local record overlaps the next one or runs past the end of the archive",
            e.shown
        );
    }
    Ok(())
}

/// [`check_record`] with a header reader opened on first use.
pub(super) fn check_landed_record(
    headers: &mut Option<BufReader<Reader>>,
    source: &Source,
    e: &Entry,
) -> Result<()> {
    if e.record.is_none() {
        return Ok(());
    }
    if headers.is_none() {
        *headers = Some(BufReader::with_capacity(512, source.open()?));
    }
    check_record(headers.as_mut().expect("opened above"), e)
}

fn entry_data(zip: &Archive, index: usize) -> Result<zip::read::ZipFileEntry<'_>> {
    zip.by_index_data(index)
        .with_context(|| format!("cannot read central directory entry {index}"))
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

#[cfg(test)]
mod tests {
    use crate::testkit::{Zip, env, overlapping, refused, replace_all};
    use crate::{Limits, extract_zip};

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
            ..Limits::default()
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
            ..Limits::default()
        };
        extract_zip(&env.archive, &env.staging, &limits).unwrap();
    }

    #[test]
    fn overlapping_entries_refused() {
        // Sanity: one copy is a normal archive.
        let env1 = env(&overlapping(1, &[0u8; 5000]));
        env1.extract().unwrap();
        let err = refused(&overlapping(5, &[0u8; 5000]));
        assert!(err.contains("\"f1\"") && err.contains("\"f0\""), "{err}");
        assert!(err.contains("overlaps"), "{err}");
    }

    #[test]
    fn local_name_differing_from_central_refused() {
        let mut bytes = Zip::new().file("ok.txt", b"ok").file("aaaa", b"x").bytes();
        // Only the first occurrence: the local header.
        let at = bytes.windows(4).position(|w| w == b"aaaa").unwrap();
        bytes[at..at + 4].copy_from_slice(b"bbbb");
        let err = refused(&bytes);
        assert!(
            err.contains("\"aaaa\"") && err.contains("\"bbbb\""),
            "{err}"
        );
        assert!(err.contains("local header"), "{err}");
    }

    #[test]
    fn ratio_and_file_count_bounds() {
        let zeros = vec![0u8; (super::RATIO_FLOOR + 1) as usize];
        let bytes = Zip::new().file("zeros", &zeros).bytes();
        let err = refused(&bytes);
        assert!(err.contains("max-ratio") && err.contains(":1"), "{err}");
        let env1 = env(&bytes);
        let raised = Limits {
            max_ratio: 5000,
            ..Limits::default()
        };
        extract_zip(&env1.archive, &env1.staging, &raised).unwrap();
        // Below the floor, any ratio is fine.
        refused_not(&Zip::new().file("z", &[0u8; 1 << 20]).bytes());

        let bytes = Zip::new()
            .dir("d/")
            .file("d/a", b"a")
            .file("b", b"b")
            .bytes();
        let env2 = env(&bytes);
        let few = Limits {
            max_files: 2,
            ..Limits::default()
        };
        let err = format!(
            "{:#}",
            extract_zip(&env2.archive, &env2.staging, &few).unwrap_err()
        );
        assert!(
            err.contains("3 entries") && err.contains("max-files"),
            "{err}"
        );
        assert!(env2.staging_is_empty());
        let enough = Limits {
            max_files: 3,
            ..Limits::default()
        };
        extract_zip(&env2.archive, &env2.staging, &enough).unwrap();
    }

    fn refused_not(bytes: &[u8]) {
        env(bytes).extract().unwrap();
    }

    #[test]
    fn invalid_archives() {
        let good = Zip::new().file("a", b"some data").bytes();
        for bytes in [&good[..good.len() - 30], b"", b"this is not a zip file"] {
            let err = refused(bytes);
            assert!(err.contains("is not a valid zip archive: "), "{err}");
        }
    }
}
