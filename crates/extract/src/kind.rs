//! What a downloaded artifact is: a zip to unpack, or a file kept as it was uploaded. Decided from
//! the headers and the archive's first bytes ([`head`]), wherever the archive is held.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// How many of an archive's first bytes [`head`] reads: a zip signature needs 4, an error
/// message shows 16.
const HEAD: u64 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    /// Uploaded unzipped (`archive: false`): kept as one file.
    Raw,
}

/// Zip when the server says so; when it says nothing useful, when the first bytes say so (`head`
/// gives them, asked only then). An artifact uploaded unzipped comes with its own type
/// (text/plain, ...) and is kept as is. A URL ending in `.zip` does not count.
pub fn archive_kind<'h>(
    content_type: Option<&str>,
    head: impl FnOnce() -> Cow<'h, [u8]>,
) -> ArchiveKind {
    let ct = content_type.unwrap_or("");
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let zip = match ct.as_str() {
        "application/zip" | "application/x-zip-compressed" | "application/zip-compressed" => true,
        "" | "application/octet-stream" | "binary/octet-stream" => starts_like_zip(&head()),
        _ => false,
    };
    if zip {
        ArchiveKind::Zip
    } else {
        ArchiveKind::Raw
    }
}

/// The first bytes of the file at `path` (fewer when it is shorter or cannot be read).
pub fn head(path: &Path) -> Vec<u8> {
    let mut head = Vec::new();
    let _ = File::open(path).and_then(|f| f.take(HEAD).read_to_end(&mut head));
    head
}

/// Do these first bytes hold a zip signature (a local header, or the end record of an empty zip)?
pub fn starts_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// The first bytes, quoted for an error message.
pub fn quoted_head(head: &[u8]) -> String {
    format!(
        "\"{}\"",
        head[..head.len().min(HEAD as usize)].escape_ascii()
    )
}
