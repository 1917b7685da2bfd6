//! What a downloaded artifact is: a zip to unpack, or a file kept as it was uploaded.

use std::fs::File;
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Zip,
    /// Uploaded unzipped (`archive: false`): kept as one file.
    Raw,
}

/// Zip when the server says so; when it says nothing useful, when the bytes say so. An artifact
/// uploaded unzipped comes with its own type (text/plain, ...) and is kept as is. A URL ending
/// in `.zip` does not count.
pub fn archive_kind(content_type: Option<&str>, file: &Path) -> ArchiveKind {
    kind_by(content_type, || starts_like_zip(file))
}

/// [`archive_kind`] of an archive held in memory.
pub fn archive_kind_of(content_type: Option<&str>, bytes: &[u8]) -> ArchiveKind {
    kind_by(content_type, || zip_magic(bytes))
}

fn kind_by(content_type: Option<&str>, looks_like_zip: impl FnOnce() -> bool) -> ArchiveKind {
    let ct = content_type.unwrap_or("");
    let ct = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let zip = match ct.as_str() {
        "application/zip" | "application/x-zip-compressed" | "application/zip-compressed" => true,
        "" | "application/octet-stream" | "binary/octet-stream" => looks_like_zip(),
        _ => false,
    };
    if zip {
        ArchiveKind::Zip
    } else {
        ArchiveKind::Raw
    }
}

/// Does the file start with a zip signature (a local header, or the end record of an empty zip)?
pub fn starts_like_zip(file: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(file)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && zip_magic(&magic)
}

/// Do these bytes start with a zip signature (see [`starts_like_zip`])?
pub fn zip_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The first bytes of a file, quoted for an error message.
pub fn first_bytes(file: &Path) -> String {
    let mut head = Vec::new();
    let _ = File::open(file).and_then(|f| f.take(16).read_to_end(&mut head));
    quoted_head(&head)
}

/// The first 16 of `bytes`, quoted for an error message.
pub fn quoted_head(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes[..bytes.len().min(16)].escape_ascii())
}
