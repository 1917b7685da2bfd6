//! Test support shared by the extraction unit tests: a builder for (possibly hostile) zips, a
//! temporary archive + staging directory, and byte-patching helpers.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{Extracted, Limits, extract_zip};

/// Builds test archives; names are raw bytes so hostile ones can be written.
pub(super) struct Zip(ZipWriter<Cursor<Vec<u8>>>);

impl Zip {
    pub(super) fn new() -> Self {
        Self(ZipWriter::new(Cursor::new(Vec::new())))
    }

    pub(super) fn file_with(
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

    pub(super) fn file(self, name: impl AsRef<[u8]>, data: &[u8]) -> Self {
        self.file_with(name, data, SimpleFileOptions::default())
    }

    pub(super) fn stored(self, name: impl AsRef<[u8]>, data: &[u8]) -> Self {
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        self.file_with(name, data, opts)
    }

    pub(super) fn dir(mut self, name: &str) -> Self {
        self.0
            .add_directory(name, SimpleFileOptions::default())
            .unwrap();
        self
    }

    pub(super) fn link(mut self, name: &str, target: &str) -> Self {
        self.0
            .add_symlink(name, target, SimpleFileOptions::default())
            .unwrap();
        self
    }

    pub(super) fn bytes(self) -> Vec<u8> {
        self.0.finish().unwrap().into_inner()
    }
}

pub(super) struct Env {
    pub(super) tmp: tempfile::TempDir,
    pub(super) archive: PathBuf,
    pub(super) staging: PathBuf,
}

pub(super) fn env(bytes: &[u8]) -> Env {
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
    pub(super) fn extract(&self) -> Result<Extracted> {
        extract_zip(&self.archive, &self.staging, &Limits::default())
    }

    pub(super) fn staging_is_empty(&self) -> bool {
        fs::read_dir(&self.staging).unwrap().next().is_none()
    }
}

/// Extraction must fail before writing anything; returns the full error chain.
pub(super) fn refused(bytes: &[u8]) -> String {
    let env = env(bytes);
    let err = format!("{:#}", env.extract().unwrap_err());
    assert!(
        env.staging_is_empty(),
        "wrote something before failing: {err}"
    );
    err
}

pub(super) fn mode(path: &Path) -> u32 {
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
pub(super) fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) {
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

/// A zip whose central directory lists `copies` entries (named `f0`, `f1`, ...) that all point at
/// the one local record of `f0`: the overlapping-entries bomb.
pub(super) fn overlapping(copies: usize, data: &[u8]) -> Vec<u8> {
    let one = Zip::new().file("f0", data).bytes();
    let rd16 = |at: usize| usize::from(u16::from_le_bytes([one[at], one[at + 1]]));
    let rd32 = |at: usize| u32::from_le_bytes(one[at..at + 4].try_into().unwrap()) as usize;
    let eocd = one.len() - 22;
    assert_eq!(&one[eocd..eocd + 4], b"PK\x05\x06");
    let cd_offset = rd32(eocd + 16);
    let cd_len = 46 + rd16(cd_offset + 28) + rd16(cd_offset + 30) + rd16(cd_offset + 32);
    let central = &one[cd_offset..cd_offset + cd_len];
    let mut out = one[..cd_offset].to_vec();
    for i in 0..copies {
        let mut c = central.to_vec();
        assert!(i < 10);
        c[47] = b'0' + i as u8;
        out.extend_from_slice(&c);
    }
    let mut end = one[eocd..].to_vec();
    end[8..10].copy_from_slice(&(copies as u16).to_le_bytes());
    end[10..12].copy_from_slice(&(copies as u16).to_le_bytes());
    end[12..16].copy_from_slice(&((cd_len * copies) as u32).to_le_bytes());
    out.extend_from_slice(&end);
    out
}
