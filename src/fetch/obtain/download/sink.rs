//! Where a download's body goes: a temp file hashed as it is written, or memory for a small one.

use std::borrow::Cow;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
// SHA-256 as `digest` is defined ("sha256:" + hex of the bytes served); sha2 picks SHA-NI
// where the CPU has it.
use sha2::{Digest, Sha256};

use super::bounds::local;
use super::{INLINE_WRITE, WRITE_BUFFER};
use crate::extract::{self, Hold, Landing};
use crate::util::hex;

/// A temp file that hashes what is written to it, in large blocks; or, for a small archive, a
/// buffer that becomes that file only if the body outgrows what it may hold
/// ([`IN_MEMORY_MAX`], or more with room held in the spool's budget).
pub(super) struct Sink {
    path: PathBuf,
    /// The archive is held in memory (in `buffer`).
    in_memory: bool,
    /// The most it holds in memory before it goes to the temp file after all.
    memory_max: usize,
    /// The temp file, made on the first write to it: a download that goes by ranges (into a
    /// file of their own, or streamed through memory) never makes it.
    file: Option<File>,
    hasher: Sha256,
    buffer: Vec<u8>,
    /// Bytes of the archive we hold (written + buffered).
    pub(super) len: u64,
    /// Bytes received in this attempt, for the rate.
    pub(super) received: u64,
    /// Poisoned before the file is emptied: what an extraction read from it may change.
    pub(super) landing: Option<Arc<Landing>>,
    /// The room a body held in memory takes in the spool's budget, if it counts there.
    pub(super) held: Option<Hold>,
}

impl Sink {
    /// `in_memory`: keep the archive in memory while it stays within this many bytes.
    pub(super) fn create(
        path: &Path,
        landing: Option<Arc<Landing>>,
        in_memory: Option<usize>,
    ) -> Result<Sink> {
        Ok(Sink {
            path: path.to_path_buf(),
            in_memory: in_memory.is_some(),
            memory_max: in_memory.unwrap_or(0),
            file: None,
            hasher: Sha256::new(),
            buffer: Vec::new(),
            len: 0,
            received: 0,
            landing,
            held: None,
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.extend_from_slice(bytes);
        self.len += bytes.len() as u64;
        self.received += bytes.len() as u64;
        if self.in_memory && self.buffer.len() > self.memory_max {
            // Larger than the listing said: to the temp file after all.
            self.in_memory = false;
        }
        if !self.in_memory && self.buffer.len() >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Hashes and writes the buffer to the file; held in memory, nothing to do yet.
    pub(super) fn flush(&mut self) -> Result<()> {
        if self.in_memory {
            return Ok(());
        }
        if self.file.is_none() {
            let created = File::create(&self.path).map_err(|e| local(e, "create", &self.path))?;
            self.file = Some(created);
        }
        let (Some(file), hasher, buffer, path) = (
            self.file.as_mut(),
            &mut self.hasher,
            &mut self.buffer,
            &self.path,
        ) else {
            return Ok(());
        };
        let mut write = || {
            hasher.update(&buffer[..]);
            file.write_all(buffer).map_err(|e| local(e, "write", path))
        };
        // A small write (the whole of a small archive) takes microseconds: done in place. Handing
        // the worker off costs more: block_in_place starts a thread to take over its tasks.
        if buffer.len() <= INLINE_WRITE {
            write()?;
        } else {
            tokio::task::block_in_place(write)?;
        }
        buffer.clear();
        Ok(())
    }

    /// Back to zero bytes: the server sent the whole body again.
    pub(super) fn restart(&mut self) -> Result<()> {
        self.received = 0;
        if self.len == 0 {
            return Ok(());
        }
        self.reset()
    }

    /// Back to an empty file, whatever we think it holds: a ranged attempt may have written into
    /// it behind our back.
    pub(super) fn reset(&mut self) -> Result<()> {
        if let Some(landing) = &self.landing {
            landing.poison("the download started over");
        }
        self.buffer.clear();
        self.hasher = Sha256::new();
        self.len = 0;
        self.received = 0;
        if self.file.is_some() {
            self.file =
                Some(File::create(&self.path).map_err(|e| local(e, "truncate", &self.path))?);
        }
        Ok(())
    }

    /// The archive's first bytes (after [`Self::finish`]): the whole of one held in memory, else
    /// read from the file.
    pub(super) fn head(&self) -> Cow<'_, [u8]> {
        match self.in_memory {
            true => (&self.buffer[..]).into(),
            false => extract::head(&self.path).into(),
        }
    }

    /// The archive, when it was held in memory (after [`Self::finish`]).
    pub(super) fn take_body(&mut self) -> Option<Arc<[u8]>> {
        if !self.in_memory {
            return None;
        }
        Some(std::mem::take(&mut self.buffer).into())
    }

    pub(super) fn finish(&mut self) -> Result<(u64, String)> {
        if self.in_memory {
            // Held in memory: hashed once, whole.
            let mut hasher = Sha256::new();
            hasher.update(&self.buffer);
            self.hasher = hasher;
        }
        self.flush()?;
        Ok((self.len, hex(&self.hasher.clone().finalize())))
    }
}

#[cfg(test)]
mod tests {
    use super::super::IN_MEMORY_MAX;
    use super::*;

    fn sha256_hex(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_small_archive_stays_in_memory_and_no_file_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.download");
        let mut sink = Sink::create(&part, None, Some(IN_MEMORY_MAX)).unwrap();
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in body.chunks(7_000) {
            sink.write(chunk).unwrap();
        }
        let (len, sha256) = sink.finish().unwrap();
        assert_eq!((len, sha256), (body.len() as u64, sha256_hex(&body)));
        assert_eq!(&*sink.head(), &body[..]);
        assert_eq!(sink.take_body().as_deref(), Some(&body[..]));
        assert!(!part.exists(), "a temp file was made");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_body_larger_than_announced_spills_to_the_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.download");
        let mut sink = Sink::create(&part, None, Some(IN_MEMORY_MAX)).unwrap();
        // A server sending more than `size_in_bytes` said: memory stays bounded.
        let body: Vec<u8> = (0..IN_MEMORY_MAX as u32 * 3)
            .map(|i| (i % 253) as u8)
            .collect();
        for chunk in body.chunks(64 << 10) {
            sink.write(chunk).unwrap();
            assert!(sink.buffer.len() <= IN_MEMORY_MAX + (64 << 10));
        }
        let (len, sha256) = sink.finish().unwrap();
        assert_eq!((len, sha256), (body.len() as u64, sha256_hex(&body)));
        assert_eq!(sink.take_body(), None);
        assert_eq!(std::fs::read(&part).unwrap(), body);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_restart_in_memory_forgets_what_was_held() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("1.download");
        let mut sink = Sink::create(&part, None, Some(IN_MEMORY_MAX)).unwrap();
        sink.write(b"the first attempt, cut short").unwrap();
        sink.restart().unwrap();
        let whole = b"PK\x05\x06 whole";
        sink.write(whole).unwrap();
        let (len, sha256) = sink.finish().unwrap();
        assert_eq!((len, sha256), (whole.len() as u64, sha256_hex(whole)));
        assert_eq!(sink.take_body().as_deref(), Some(&whole[..]));
    }
}
