//! A hand-written zip writer that lays archives out the way the official
//! artifact uploader's streaming zipper does: every entry has general-purpose
//! flag bit 3 set (sizes and CRC in a trailing data descriptor, zeros in the
//! local header), the data descriptor carries its `PK\x07\x08` signature, and
//! the central directory records Unix "version made by" and Unix modes in the
//! external attributes. Entries can lie about their size or CRC so tests can
//! exercise a client's integrity checks. Also: deterministic payload helpers.

use flate2::{Compression, write::DeflateEncoder};
use std::io::Write;

/// Compression method of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Method 0.
    Stored,
    /// Method 8, flate2 level 6.
    Deflate,
}

/// One zip entry, fully specified.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Raw name bytes (any bytes: `../x`, absolute paths, invalid UTF-8 ...).
    pub name: Vec<u8>,
    /// Uncompressed content (for symlinks: the target).
    pub data: Vec<u8>,
    pub method: Method,
    /// Full Unix mode including the file-type bits, e.g. `0o100644`.
    pub mode: u32,
    /// Lie about the uncompressed size (data descriptor and central directory).
    pub declared_size_override: Option<u32>,
    /// Lie about the CRC-32 (data descriptor and central directory).
    pub crc_override: Option<u32>,
}

impl Entry {
    /// A regular deflated file with mode 0644.
    pub fn new(name: impl AsRef<[u8]>, data: &[u8]) -> Entry {
        Entry {
            name: name.as_ref().to_vec(),
            data: data.to_vec(),
            method: Method::Deflate,
            mode: 0o100644,
            declared_size_override: None,
            crc_override: None,
        }
    }
}

/// Why an archive could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipError {
    /// A size or offset does not fit in 32 bits (zip64 is not implemented).
    TooLarge(String),
    /// More than 65535 entries (zip64 is not implemented).
    TooManyEntries,
}

impl std::fmt::Display for ZipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ZipError::TooLarge(what) => write!(f, "{what} exceeds 4 GiB; zip64 is not supported"),
            ZipError::TooManyEntries => {
                write!(f, "more than 65535 entries; zip64 is not supported")
            }
        }
    }
}

impl std::error::Error for ZipError {}

/// Builder for an in-memory zip archive.
#[derive(Debug, Clone, Default)]
pub struct ZipBuilder {
    entries: Vec<Entry>,
}

/// Fixed DOS timestamp (2024-01-01 12:00:00) so archives are reproducible.
const DOS_TIME: u16 = 12 << 11;
const DOS_DATE: u16 = ((2024 - 1980) << 9) | (1 << 5) | 1;
const VERSION_NEEDED: u16 = 20;
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const FLAG_UTF8: u16 = 1 << 11;

impl ZipBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A deflated regular file, mode 0644.
    pub fn file(self, name: &str, data: &[u8]) -> Self {
        self.entry(Entry::new(name, data))
    }

    /// A stored (uncompressed) regular file, mode 0644.
    pub fn stored(self, name: &str, data: &[u8]) -> Self {
        self.entry(Entry {
            method: Method::Stored,
            ..Entry::new(name, data)
        })
    }

    /// A deflated regular file, mode 0755.
    pub fn executable(self, name: &str, data: &[u8]) -> Self {
        self.entry(Entry {
            mode: 0o100755,
            ..Entry::new(name, data)
        })
    }

    /// A directory entry; a trailing `/` is added if missing.
    pub fn dir(self, name: &str) -> Self {
        let name = if name.ends_with('/') {
            name.to_string()
        } else {
            format!("{name}/")
        };
        self.entry(Entry {
            method: Method::Stored,
            mode: 0o40755,
            ..Entry::new(name, b"")
        })
    }

    /// A symbolic link whose data is the target path.
    pub fn symlink(self, name: &str, target: &str) -> Self {
        self.entry(Entry {
            method: Method::Stored,
            mode: 0o120777,
            ..Entry::new(name, target.as_bytes())
        })
    }

    /// Any entry, fully specified.
    pub fn entry(mut self, entry: Entry) -> Self {
        self.entries.push(entry);
        self
    }

    /// Builds the archive; panics with a clear message if it would need zip64.
    pub fn build(self) -> Vec<u8> {
        match self.try_build() {
            Ok(v) => v,
            Err(e) => panic!("ZipBuilder::build: {e}"),
        }
    }

    /// Builds the archive, or explains why it cannot be represented without zip64.
    pub fn try_build(self) -> Result<Vec<u8>, ZipError> {
        let prepared = self
            .entries
            .into_iter()
            .map(Entry::prepare)
            .collect::<Result<Vec<_>, _>>()?;
        assemble(prepared)
    }
}

/// An entry compressed and checksummed, its uncompressed data dropped: what [`assemble`]
/// lays out. Preparing entries on several threads and assembling them in order builds large
/// archives (the benchmark's) quickly and with only the compressed bytes in memory.
#[derive(Debug, Clone)]
pub struct Prepared {
    name: Vec<u8>,
    method: Method,
    mode: u32,
    data: Vec<u8>,
    written: Written,
}

impl Prepared {
    /// Compressed size of the entry's data.
    pub fn compressed_len(&self) -> usize {
        self.data.len()
    }
}

impl Entry {
    /// Compresses the entry (CPU-bound; independent of other entries).
    pub fn prepare(self) -> Result<Prepared, ZipError> {
        let data = compress(&self);
        let written = Written {
            crc: self
                .crc_override
                .unwrap_or_else(|| crc32fast::hash(&self.data)),
            csize: to_u32(data.len(), "compressed size")?,
            usize: match self.declared_size_override {
                Some(s) => s,
                None => to_u32(self.data.len(), "uncompressed size")?,
            },
            flags: flags_for(&self.name),
        };
        Ok(Prepared {
            name: self.name,
            method: self.method,
            mode: self.mode,
            data,
            written,
        })
    }
}

/// Lays prepared entries out, in order, as one archive.
pub fn assemble(entries: Vec<Prepared>) -> Result<Vec<u8>, ZipError> {
    let count = u16::try_from(entries.len()).map_err(|_| ZipError::TooManyEntries)?;
    let data_len: usize = entries
        .iter()
        .map(|e| 30 + 16 + e.name.len() + e.data.len())
        .sum();
    let mut out = Vec::with_capacity(data_len + entries.len() * 64 + 22);
    let mut central = Vec::new();
    for entry in &entries {
        let offset = to_u32(out.len(), "local header offset")?;
        write_local(&mut out, entry)?;
        write_central(&mut central, entry, offset)?;
    }
    let cd_offset = to_u32(out.len(), "central directory offset")?;
    let cd_size = to_u32(central.len(), "central directory")?;
    out.extend_from_slice(&central);
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, cd_size);
    put32(&mut out, cd_offset);
    put16(&mut out, 0);
    Ok(out)
}

/// A hostile archive: one local record (`entry`), listed in the central directory once under its
/// own name and then once more under each of `aliases`, every listing pointing at that one record
/// (the overlapping-entries bomb: kilobytes of data read many times over).
pub fn sharing_one_record(entry: Entry, aliases: &[&str]) -> Result<Vec<u8>, ZipError> {
    let entry = entry.prepare()?;
    let mut out = Vec::new();
    write_local(&mut out, &entry)?;
    let mut central = Vec::new();
    write_central(&mut central, &entry, 0)?;
    for alias in aliases {
        let mut copy = entry.clone();
        copy.name = alias.as_bytes().to_vec();
        write_central(&mut central, &copy, 0)?;
    }
    let count = u16::try_from(aliases.len() + 1).map_err(|_| ZipError::TooManyEntries)?;
    let cd_offset = to_u32(out.len(), "central directory offset")?;
    let cd_size = to_u32(central.len(), "central directory")?;
    out.extend_from_slice(&central);
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0);
    put16(&mut out, 0);
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, cd_size);
    put32(&mut out, cd_offset);
    put16(&mut out, 0);
    Ok(out)
}

/// What was recorded for an entry after its data was written.
#[derive(Debug, Clone)]
struct Written {
    crc: u32,
    csize: u32,
    usize: u32,
    flags: u16,
}

fn to_u32(n: usize, what: &str) -> Result<u32, ZipError> {
    u32::try_from(n).map_err(|_| ZipError::TooLarge(what.to_string()))
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn flags_for(name: &[u8]) -> u16 {
    let utf8 = !name.is_ascii() && std::str::from_utf8(name).is_ok();
    FLAG_DATA_DESCRIPTOR | if utf8 { FLAG_UTF8 } else { 0 }
}

fn method_code(m: Method) -> u16 {
    match m {
        Method::Stored => 0,
        Method::Deflate => 8,
    }
}

fn compress(entry: &Entry) -> Vec<u8> {
    match entry.method {
        Method::Stored => entry.data.clone(),
        Method::Deflate => {
            let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(6));
            // Writing into a Vec cannot fail.
            let _ = enc.write_all(&entry.data);
            enc.finish().unwrap_or_default()
        }
    }
}

/// Local header (zero CRC/sizes), data, then the signed data descriptor.
fn write_local(out: &mut Vec<u8>, entry: &Prepared) -> Result<(), ZipError> {
    let name_len =
        u16::try_from(entry.name.len()).map_err(|_| ZipError::TooLarge("name".into()))?;
    let w = &entry.written;
    put32(out, 0x0403_4b50);
    put16(out, VERSION_NEEDED);
    put16(out, w.flags);
    put16(out, method_code(entry.method));
    put16(out, DOS_TIME);
    put16(out, DOS_DATE);
    put32(out, 0);
    put32(out, 0);
    put32(out, 0);
    put16(out, name_len);
    put16(out, 0);
    out.extend_from_slice(&entry.name);
    out.extend_from_slice(&entry.data);
    put32(out, 0x0807_4b50);
    put32(out, w.crc);
    put32(out, w.csize);
    put32(out, w.usize);
    Ok(())
}

fn external_attrs(mode: u32) -> u32 {
    let dos_dir = if mode & 0o170000 == 0o040000 { 0x10 } else { 0 };
    (mode << 16) | dos_dir
}

fn write_central(out: &mut Vec<u8>, entry: &Prepared, offset: u32) -> Result<(), ZipError> {
    let w = &entry.written;
    let name_len =
        u16::try_from(entry.name.len()).map_err(|_| ZipError::TooLarge("name".into()))?;
    put32(out, 0x0201_4b50);
    put16(out, VERSION_MADE_BY);
    put16(out, VERSION_NEEDED);
    put16(out, w.flags);
    put16(out, method_code(entry.method));
    put16(out, DOS_TIME);
    put16(out, DOS_DATE);
    put32(out, w.crc);
    put32(out, w.csize);
    put32(out, w.usize);
    put16(out, name_len);
    put16(out, 0); // extra
    put16(out, 0); // comment
    put16(out, 0); // disk
    put16(out, 0); // internal attrs
    put32(out, external_attrs(entry.mode));
    put32(out, offset);
    out.extend_from_slice(&entry.name);
    Ok(())
}

/// Sum of the declared uncompressed sizes in a zip's central directory
/// (what a v3 `size_in_bytes` reports). `None` if `zip` is not a readable zip.
pub fn declared_total_size(zip: &[u8]) -> Option<u64> {
    let eocd = zip.len().checked_sub(22)?;
    let eocd = (0..=eocd)
        .rev()
        .take(65_557)
        .find(|&i| zip[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))?;
    let rd16 = |at: usize| Some(u16::from_le_bytes(zip.get(at..at + 2)?.try_into().ok()?));
    let rd32 = |at: usize| Some(u32::from_le_bytes(zip.get(at..at + 4)?.try_into().ok()?));
    let count = rd16(eocd + 10)?;
    let mut at = rd32(eocd + 16)? as usize;
    let mut total = 0u64;
    for _ in 0..count {
        if rd32(at)? != 0x0201_4b50 {
            return None;
        }
        total += u64::from(rd32(at + 24)?);
        at += 46 + rd16(at + 28)? as usize + rd16(at + 30)? as usize + rd16(at + 32)? as usize;
    }
    Some(total)
}

/// Deterministic xorshift64* stream.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed ^ 0x9E37_79B9_7F4A_7C15;
    if s == 0 {
        s = 1;
    }
    move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// `len` bytes of compressible, word-like ASCII text, deterministic in `seed`.
pub fn text_payload(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 16] = [
        "artifact", "workflow", "run", "zip", "download", "the", "of", "and", "build", "test",
        "release", "fetch", "stream", "verify", "extract", "digest",
    ];
    let mut next = xorshift(seed);
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        let r = next();
        out.extend_from_slice(WORDS[(r % 16) as usize].as_bytes());
        out.push(if r.is_multiple_of(13) { b'\n' } else { b' ' });
    }
    out.truncate(len);
    out
}

/// `len` bytes of incompressible pseudo-random data, deterministic in `seed`.
pub fn random_payload(len: usize, seed: u64) -> Vec<u8> {
    let mut next = xorshift(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&next().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A small, typical artifact: a couple of text files, a nested dir and a binary.
pub fn sample_zip() -> Vec<u8> {
    ZipBuilder::new()
        .file("README.txt", b"hello from fakehub\n")
        .dir("sub")
        .file("sub/data.txt", &text_payload(10_000, 1))
        .stored("sub/blob.bin", &random_payload(4096, 2))
        .executable("bin/tool.sh", b"#!/bin/sh\necho hi\n")
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A test that needs `need` (a tool, a device) and does not find it fails, naming it,
    /// unless `ARTIFETCH_TEST_SKIP` lists it: a skip is a choice someone made, never silent.
    fn missing(need: &str, why: &str) {
        let skip = std::env::var("ARTIFETCH_TEST_SKIP").unwrap_or_default();
        assert!(
            skip.split(',').any(|s| s.trim() == need),
            "{why}; install it, or set ARTIFETCH_TEST_SKIP={need} to skip this test"
        );
        eprintln!("SKIPPED ({need} listed in ARTIFETCH_TEST_SKIP): {why}");
    }

    const NO_TOOL: &str = "neither /usr/bin/unzip nor python3 was found to check the archive";

    fn tester() -> Option<Vec<String>> {
        if std::path::Path::new("/usr/bin/unzip").exists() {
            return Some(vec!["/usr/bin/unzip".into(), "-t".into()]);
        }
        // `python` too: Windows runners have no `python3` command.
        ["python3", "python"].into_iter().find_map(|py| {
            let out = Command::new(py).arg("--version").output();
            out.is_ok_and(|o| o.status.success())
                .then(|| vec![py.into(), "-m".into(), "zipfile".into(), "-t".into()])
        })
    }

    fn check_with_tool(zip: &[u8], tag: &str) -> Option<bool> {
        let cmd = tester()?;
        let path = std::env::temp_dir().join(format!("fakehub-{tag}-{}.zip", std::process::id()));
        std::fs::write(&path, zip).ok()?;
        let out = Command::new(&cmd[0])
            .args(&cmd[1..])
            .arg(&path)
            .output()
            .ok()?;
        let _ = std::fs::remove_file(&path);
        if !out.status.success() {
            eprintln!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Some(out.status.success())
    }

    #[test]
    fn archives_pass_external_test() {
        let zip = ZipBuilder::new()
            .file("a.txt", &text_payload(100_000, 7))
            .stored("b.bin", &random_payload(5000, 3))
            .executable("run.sh", b"#!/bin/sh\n")
            .dir("d")
            .symlink("d/link", "../a.txt")
            .file("d/empty", b"")
            .file("ünï.txt", b"utf8 name")
            .build();
        assert_eq!(declared_total_size(&zip), Some(100_000 + 5000 + 10 + 8 + 9));
        match check_with_tool(&zip, "ok") {
            Some(ok) => assert!(ok, "unzip -t rejected a well-formed archive"),
            None => return missing("zip-tool", NO_TOOL),
        }
        assert_eq!(
            check_with_tool(&sample_zip(), "sample"),
            tester().map(|_| true)
        );
    }

    #[test]
    fn crc_lie_is_detected_by_external_tool() {
        let zip = ZipBuilder::new()
            .entry(Entry {
                crc_override: Some(0xdead_beef),
                ..Entry::new("x.txt", b"payload")
            })
            .build();
        match check_with_tool(&zip, "badcrc") {
            Some(ok) => assert!(!ok, "the external tool accepted a CRC that lies"),
            None => missing("zip-tool", NO_TOOL),
        }
    }

    #[test]
    fn layout_matches_streaming_uploader() {
        let zip = ZipBuilder::new().file("f", b"abc").build();
        assert_eq!(&zip[0..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([zip[6], zip[7]]) & 8, 8);
        assert_eq!(&zip[14..26], &[0u8; 12]);
        let cd = zip.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        assert_eq!(u16::from_le_bytes([zip[cd + 4], zip[cd + 5]]), 0x0314);
        let ext = u32::from_le_bytes(zip[cd + 38..cd + 42].try_into().unwrap());
        assert_eq!(ext >> 16, 0o100644);
        assert!(zip.windows(4).any(|w| w == b"PK\x07\x08"));
    }

    #[test]
    fn prepared_entries_assemble_like_build() {
        let entries = vec![
            Entry::new("a/text.txt", &text_payload(50_000, 9)),
            Entry {
                method: Method::Stored,
                ..Entry::new("b.bin", &random_payload(3000, 4))
            },
        ];
        let built = entries
            .iter()
            .cloned()
            .fold(ZipBuilder::new(), ZipBuilder::entry)
            .build();
        let prepared: Vec<Prepared> = entries.into_iter().map(|e| e.prepare().unwrap()).collect();
        assert_eq!(assemble(prepared).unwrap(), built);
    }

    #[test]
    fn payloads_are_deterministic() {
        assert_eq!(random_payload(1000, 5), random_payload(1000, 5));
        assert_ne!(random_payload(1000, 5), random_payload(1000, 6));
        assert_eq!(text_payload(333, 1).len(), 333);
        assert_eq!(
            declared_total_size(b"not a zip at all, definitely not"),
            None
        );
    }
}
