//! The end of central directory record and the central directory, parsed from bytes fetched by
//! range, before any entry data is at hand (partial fetch: the central directory says where each
//! selected entry's bytes are).
//!
//! The central directory is the source of truth: artifact zips put a data descriptor on every
//! entry, so local headers carry no sizes. Everything here is bounds-checked against the
//! archive's length; a record that points outside it, or entries whose spans overlap, are
//! refused ([`Refused`]), while what this parser does not handle (zip64, a split archive) is
//! [`Unsupported`], for which the caller downloads the whole archive instead.

use anyhow::{Result, bail};

use super::names::normalize_entry_name;
use crate::pattern::PathGlobs;

/// End of central directory record: fixed part.
pub const EOCD_LEN: usize = 22;
/// The most bytes the EOCD record can take, with the longest comment.
pub const EOCD_MAX: usize = EOCD_LEN + 0xFFFF;
const CENTRAL_LEN: usize = 46;
/// Local file header: fixed part.
pub const LOCAL_LEN: u64 = 30;
/// A local record's most bytes beyond its fixed part and data: name and extra field (each at
/// most 0xFFFF), and a zip64 data descriptor.
pub const LOCAL_SLACK: u64 = 0xFFFF + 0xFFFF + 24;

/// Where the central directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eocd {
    pub entries: u64,
    pub cd_offset: u64,
    pub cd_size: u64,
}

/// One central directory entry: what a partial fetch needs to find and check its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralEntry {
    pub name: Vec<u8>,
    pub local_offset: u64,
    pub compressed: u64,
    pub uncompressed: u64,
    pub crc32: u32,
}

/// An archive this parser does not handle; not a sign of hostility: fetch it whole.
#[derive(Debug)]
pub struct Unsupported(pub String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

fn unsupported(why: &str) -> anyhow::Error {
    anyhow::Error::new(Unsupported(why.to_owned()))
}

/// An archive readers would read differently: a second end record inside the first's comment.
/// A reader that scans back from the end and accepts a comment that stops short of it (the zip
/// crate) takes the hidden one; this parser takes the other. Refused, never guessed at.
#[derive(Debug)]
pub struct Ambiguous {
    /// Where the hidden record starts.
    pub at: u64,
}

impl std::fmt::Display for Ambiguous {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "refusing the archive: it has two end of central directory records (a second at byte {}, inside the first's comment), so readers disagree on which files it holds",
            self.at
        )
    }
}

impl std::error::Error for Ambiguous {}

fn u16_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn u32_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

/// Finds the EOCD record in `tail`, the last bytes of an archive `total` bytes long: the last
/// signature whose comment length reaches exactly the end. Another signature inside its comment
/// makes the archive [`Ambiguous`]. The one parse of the end record: the partial fetch asks for
/// what it says, and the extractor checks that the zip reader found the same (`scan.rs`).
pub fn find_eocd(tail: &[u8], total: u64) -> Result<Eocd> {
    let Some(last) = tail.len().checked_sub(EOCD_LEN) else {
        bail!(
            "refusing the archive: {} bytes cannot hold a zip's end record",
            tail.len()
        );
    };
    let at = (0..=last)
        .rev()
        .find(|&i| {
            tail[i..].starts_with(b"PK\x05\x06")
                && u16_at(tail, i + 20).is_some_and(|c| i + EOCD_LEN + c as usize == tail.len())
        })
        .ok_or_else(|| unsupported("no end of central directory record in the archive's tail"))?;
    let tail_at = total - tail.len() as u64;
    if let Some(i) = tail[at + 4..].windows(4).position(|w| w == b"PK\x05\x06") {
        let hidden = tail_at + (at + 4 + i) as u64;
        return Err(anyhow::Error::new(Ambiguous { at: hidden }));
    }
    let field16 = |o| u16_at(tail, at + o).unwrap_or(0);
    let field32 = |o| u32_at(tail, at + o).unwrap_or(0);
    if field16(4) != 0 || field16(6) != 0 {
        return Err(unsupported("a split (multi-disk) archive"));
    }
    let eocd = Eocd {
        entries: field16(10),
        cd_size: field32(12),
        cd_offset: field32(16),
    };
    if eocd.entries == 0xFFFF || eocd.cd_size == 0xFFFF_FFFF || eocd.cd_offset == 0xFFFF_FFFF {
        return Err(unsupported("a zip64 archive"));
    }
    let eocd_at = total - (tail.len() - at) as u64;
    if eocd.cd_offset.checked_add(eocd.cd_size) != Some(eocd_at) {
        bail!(
            "refusing the archive: its central directory ({} bytes at {}) does not end where its end record starts ({eocd_at})",
            eocd.cd_size,
            eocd.cd_offset
        );
    }
    Ok(eocd)
}

/// Parses the central directory `cd` (exactly `eocd.cd_size` bytes). Every entry's local record
/// must lie before the central directory, and no two entries' spans may overlap.
pub fn parse_central(cd: &[u8], eocd: &Eocd) -> Result<Vec<CentralEntry>> {
    let mut entries = Vec::with_capacity(eocd.entries.min(1 << 16) as usize);
    let mut at = 0usize;
    for index in 0..eocd.entries {
        let bad = || {
            anyhow::anyhow!(
                "refusing the archive: central directory entry {index} is cut short or damaged"
            )
        };
        if u32_at(cd, at) != Some(0x0201_4b50) {
            return Err(bad());
        }
        let field16 = |o| u16_at(cd, at + o).ok_or_else(bad);
        let field32 = |o| u32_at(cd, at + o).ok_or_else(bad);
        let (name_len, extra_len, comment_len) = (field16(28)?, field16(30)?, field16(32)?);
        let name_at = at + CENTRAL_LEN;
        let name = cd
            .get(name_at..name_at + name_len as usize)
            .ok_or_else(bad)?;
        let entry = CentralEntry {
            name: name.to_vec(),
            crc32: field32(16)? as u32,
            compressed: field32(20)?,
            uncompressed: field32(24)?,
            local_offset: field32(42)?,
        };
        if entry.compressed == 0xFFFF_FFFF
            || entry.uncompressed == 0xFFFF_FFFF
            || entry.local_offset == 0xFFFF_FFFF
        {
            return Err(unsupported("zip64 entries"));
        }
        entries.push(entry);
        at = name_at + (name_len + extra_len + comment_len) as usize;
    }
    if at != cd.len() {
        bail!(
            "refusing the archive: its central directory holds {} bytes after its {} entries",
            cd.len().saturating_sub(at),
            eocd.entries
        );
    }
    check_spans(&entries, eocd.cd_offset)?;
    Ok(entries)
}

/// Each entry's local record (at least its fixed header, its name and its data) must end at or
/// before the next entry's start, and the last before the central directory.
fn check_spans(entries: &[CentralEntry], cd_offset: u64) -> Result<()> {
    let mut order: Vec<&CentralEntry> = entries.iter().collect();
    order.sort_by_key(|e| e.local_offset);
    for (i, e) in order.iter().enumerate() {
        let end = e.local_offset + LOCAL_LEN + e.name.len() as u64 + e.compressed;
        let limit = order.get(i + 1).map_or(cd_offset, |next| next.local_offset);
        if end > limit {
            let shown = super::names::show(&e.name);
            match order.get(i + 1) {
                Some(next) => bail!(
                    "refusing archive entry {shown}: its local record overlaps that of entry {} (entries that share data are a decompression bomb)",
                    super::names::show(&next.name)
                ),
                None => bail!(
                    "refusing archive entry {shown}: its data runs past the central directory (offset {} and {} bytes, the central directory starts at {cd_offset})",
                    e.local_offset,
                    e.compressed
                ),
            }
        }
    }
    Ok(())
}

/// The indices of the entries `select` takes (by normalized name; names that do not normalize
/// are left to the extractor to refuse), and for each the byte span to fetch: from its local
/// header to the next entry's (or the central directory), bounded by what a local record can
/// hold.
pub fn selected_spans(
    entries: &[CentralEntry],
    cd_offset: u64,
    select: &PathGlobs,
) -> Vec<(usize, u64, u64)> {
    let mut starts: Vec<u64> = entries.iter().map(|e| e.local_offset).collect();
    starts.sort_unstable();
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let taken = normalize_entry_name(&e.name).is_ok_and(|(path, _)| select.takes(&path));
        if !taken {
            continue;
        }
        let next = starts
            .get(starts.partition_point(|&s| s <= e.local_offset))
            .copied()
            .unwrap_or(cd_offset);
        let most = e.local_offset + LOCAL_LEN + LOCAL_SLACK + e.compressed;
        out.push((i, e.local_offset, next.min(most).min(cd_offset)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::Zip;

    fn parse(bytes: &[u8]) -> Result<Vec<CentralEntry>> {
        let eocd = find_eocd(bytes, bytes.len() as u64)?;
        let start = eocd.cd_offset as usize;
        parse_central(&bytes[start..start + eocd.cd_size as usize], &eocd)
    }

    #[test]
    fn a_normal_archive_parses_and_spans_cover_each_record() {
        let bytes = Zip::new()
            .file("a/x", b"hello")
            .dir("b/")
            .file("b/y", b"world!")
            .bytes();
        let entries = parse(&bytes).unwrap();
        let names: Vec<&[u8]> = entries.iter().map(|e| e.name.as_slice()).collect();
        assert_eq!(names, [&b"a/x"[..], b"b/", b"b/y"]);
        assert_eq!(entries[2].uncompressed, 6);
        let eocd = find_eocd(&bytes, bytes.len() as u64).unwrap();
        let select = PathGlobs::parse("b/*").unwrap().unwrap();
        let spans = selected_spans(&entries, eocd.cd_offset, &select);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].0, 2);
        assert_eq!(spans[0].2, eocd.cd_offset);
    }

    #[test]
    fn overlapping_or_past_the_end_entries_are_refused() {
        let overlapping = crate::testkit::overlapping(3, &[0u8; 500]);
        let e = parse(&overlapping).unwrap_err().to_string();
        assert!(e.contains("overlaps"), "{e}");
        // A local offset moved past the central directory.
        let mut bytes = Zip::new().file("a", b"hello").bytes();
        let eocd = find_eocd(&bytes, bytes.len() as u64).unwrap();
        let at = eocd.cd_offset as usize + 42;
        bytes[at..at + 4].copy_from_slice(&(eocd.cd_offset as u32 + 10).to_le_bytes());
        let e = parse(&bytes).unwrap_err().to_string();
        assert!(e.contains("past the central directory"), "{e}");
    }

    #[test]
    fn a_tail_without_an_end_record_is_unsupported_not_a_panic() {
        let e = find_eocd(&[0u8; 100], 100).unwrap_err();
        assert!(e.is::<Unsupported>());
        assert!(find_eocd(b"PK", 2).is_err());
    }

    /// A second end record in the comment of the one that reaches the end: whichever a reader
    /// takes, another takes the other, so neither is taken.
    #[test]
    fn an_end_record_hidden_in_the_comment_makes_the_archive_ambiguous() {
        let mut bytes = Zip::new().file("a", b"hello").bytes();
        let eocd_at = bytes.len() - EOCD_LEN;
        let mut hidden = bytes[eocd_at..].to_vec();
        hidden.extend_from_slice(b"zz");
        bytes.truncate(bytes.len() - 2);
        bytes.extend_from_slice(&(hidden.len() as u16).to_le_bytes());
        bytes.extend_from_slice(&hidden);
        let e = find_eocd(&bytes, bytes.len() as u64).unwrap_err();
        let ambiguous = e.downcast_ref::<Ambiguous>().expect("ambiguous");
        assert_eq!(ambiguous.at, (eocd_at + EOCD_LEN) as u64);
        assert!(
            e.to_string()
                .contains("two end of central directory records")
        );
    }
}
