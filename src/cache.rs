//! A content-addressed cache of verified archives, for persistent (self-hosted) runners.
//!
//! Artifacts are immutable (an id has one digest), so an archive whose SHA-256 was verified can
//! serve every later fetch of the same digest. Entries are named by that SHA-256 and written to a
//! temp name in the cache directory, then renamed into place: two jobs storing the same archive
//! at once both write the same bytes under the same name, and the rename makes either win
//! harmlessly. The directory belongs to the runner's user, but an entry is never trusted: every
//! hit is hashed again as it is taken, and an entry whose bytes differ from its name is removed
//! and the archive downloaded. Eviction is least recently used: a hit touches the entry's mtime.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
// The same hash the download computes: an entry's name is the SHA-256 of its bytes.
use sha2::{Digest, Sha256};

use crate::util::random_hex;

/// Temp files of a writer killed mid-store are removed once this old.
const STALE_TEMP: Duration = Duration::from_secs(60 * 60);
const TEMP_PREFIX: &str = ".tmp-";
const BUF_SIZE: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

/// What a lookup found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The entry's bytes hash to its name; they are now at the path asked for.
    Hit {
        bytes: u64,
    },
    Miss,
    /// An entry whose bytes did not match its name; it was removed.
    Corrupt {
        found: String,
    },
}

impl Cache {
    /// Opens (creating it, owner-only, if missing) the cache directory. A symlink there is
    /// refused: the cache must be a directory the runner's user owns, not a pointer elsewhere.
    pub(crate) fn open(dir: &Path, max_bytes: u64) -> Result<Cache> {
        match fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => bail!(
                "cache-dir: {} is a symlink; expected a directory (give the real path)",
                dir.display()
            ),
            Ok(m) if !m.is_dir() => {
                bail!("cache-dir: {} is not a directory", dir.display())
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_private_dir(dir)
                .with_context(|| format!("cache-dir: cannot create {}", dir.display()))?,
            Err(e) => {
                return Err(e).with_context(|| format!("cache-dir: cannot read {}", dir.display()));
            }
        }
        Ok(Cache {
            dir: dir.to_path_buf(),
            max_bytes,
        })
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.dir.join(sha256.to_ascii_lowercase()))
    }

    /// Copies (or links) the entry for `sha256` to `to`, hashing what `to` then holds. A
    /// mismatch removes the entry and `to`. Blocking.
    #[cfg(test)]
    pub(crate) fn take(&self, sha256: &str, to: &Path) -> Result<Lookup> {
        self.take_while(sha256, to, |_| ())
            .map(|(lookup, _)| lookup)
    }

    /// [`Self::take`], running `work` on the taken file while it is hashed: when the entry shares
    /// `to`'s file system (a hard link) the two overlap on two threads, so a warm cache costs
    /// little more than the extraction alone; after a copy (hashed as it is written) `work` runs
    /// once the copy is done. `work` runs only when something was taken, and its result must be
    /// thrown away unless the lookup is a [`Lookup::Hit`]. Blocking.
    pub(crate) fn take_while<T: Send>(
        &self,
        sha256: &str,
        to: &Path,
        work: impl FnOnce(&Path) -> T + Send,
    ) -> Result<(Lookup, Option<T>)> {
        let Some(entry) = self.entry(sha256) else {
            return Ok((Lookup::Miss, None));
        };
        // A regular file only: never follow a link planted under an entry's name.
        match fs::symlink_metadata(&entry) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                let _ = fs::remove_file(&entry);
                let found = "not a regular file".into();
                return Ok((Lookup::Corrupt { found }, None));
            }
            Err(_) => return Ok((Lookup::Miss, None)),
        }
        let _ = fs::remove_file(to);
        // The same inode when it shares the filesystem; otherwise a copy. Either way the bytes
        // hashed are the ones the fetch goes on to use.
        let (found, done) = if fs::hard_link(&entry, to).is_ok() {
            std::thread::scope(|s| {
                let hashing = s.spawn(|| hash_file(to));
                let done = work(to);
                let found = hashing
                    .join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("hashing the cache entry failed")));
                found.map(|found| (found, done))
            })?
        } else {
            match copy_hashing(&entry, to) {
                Ok(found) => (found, work(to)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Lookup::Miss, None)),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot copy {}", entry.display()));
                }
            }
        };
        if !found.0.eq_ignore_ascii_case(sha256) {
            let _ = fs::remove_file(&entry);
            let _ = fs::remove_file(to);
            let found = format!("sha256:{}", found.0);
            return Ok((Lookup::Corrupt { found }, Some(done)));
        }
        // Recently used: eviction goes by mtime.
        if let Ok(f) = File::options().write(true).open(&entry) {
            let _ = f.set_modified(SystemTime::now());
        }
        Ok((Lookup::Hit { bytes: found.1 }, Some(done)))
    }

    /// Stores the verified archive at `from` (whose SHA-256 is `sha256`) under its digest, then
    /// evicts the least recently used entries past the bound. An archive larger than the bound
    /// is not stored. Blocking.
    pub(crate) fn store(&self, sha256: &str, from: &Path) -> Result<bool> {
        let Some(entry) = self.entry(sha256) else {
            return Ok(false);
        };
        let len = fs::metadata(from).map(|m| m.len()).unwrap_or(u64::MAX);
        if len > self.max_bytes || entry.exists() {
            return Ok(false);
        }
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}",
            std::process::id(),
            random_hex(12)
        ));
        let written = fs::hard_link(from, &temp)
            .or_else(|_| fs::copy(from, &temp).map(|_| ()))
            .and_then(|()| fs::rename(&temp, &entry));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(e).with_context(|| format!("cannot store {}", entry.display()));
        }
        self.evict(&entry);
        Ok(true)
    }

    /// Removes the oldest entries (by mtime) until the total is within the bound, never `keep`;
    /// also temp files a killed writer left. Best effort: another job may be evicting too.
    fn evict(&self, keep: &Path) {
        let Ok(read) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries = Vec::new();
        for e in read.flatten() {
            let Ok(meta) = e.path().symlink_metadata() else {
                continue;
            };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                if modified.elapsed().is_ok_and(|age| age > STALE_TEMP) {
                    let _ = fs::remove_file(e.path());
                }
            } else if meta.is_file() && self.entry(&name).is_some() {
                entries.push((modified, meta.len(), e.path()));
            }
        }
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if path != keep && fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// SHA-256 (hex) and length of a file.
fn hash_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut len = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex(&hasher.finalize()), len))
}

/// Copies `from` to `to`, hashing the bytes as they are written.
fn copy_hashing(from: &Path, to: &Path) -> io::Result<(String, u64)> {
    let mut src = File::open(from)?;
    let mut out = File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut len = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
        len += n as u64;
    }
    Ok((hex(&hasher.finalize()), len))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(bytes: &[u8]) -> String {
        hex(&Sha256::digest(bytes))
    }

    #[test]
    fn a_stored_archive_is_taken_back_and_a_tampered_one_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c"), 1 << 20).unwrap();
        let src = dir.path().join("a.zip");
        fs::write(&src, b"archive bytes").unwrap();
        let digest = sha(b"archive bytes");
        assert!(cache.store(&digest, &src).unwrap());
        let to = dir.path().join("got");
        assert_eq!(cache.take(&digest, &to).unwrap(), Lookup::Hit { bytes: 13 });
        assert_eq!(fs::read(&to).unwrap(), b"archive bytes");
        // Tampered in place (a fresh inode, so `to` keeps its own copy).
        let entry = dir.path().join("c").join(&digest);
        fs::remove_file(&entry).unwrap();
        fs::write(&entry, b"other bytes").unwrap();
        let to2 = dir.path().join("got2");
        assert!(matches!(
            cache.take(&digest, &to2).unwrap(),
            Lookup::Corrupt { .. }
        ));
        assert!(!entry.exists() && !to2.exists());
        assert_eq!(cache.take(&digest, &to2).unwrap(), Lookup::Miss);
        // Names that are not a SHA-256 are never looked up.
        assert_eq!(cache.take("../a.zip", &to2).unwrap(), Lookup::Miss);
    }

    #[test]
    fn work_on_the_taken_file_runs_while_it_is_hashed_and_is_returned_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c"), 1 << 20).unwrap();
        let src = dir.path().join("a.zip");
        fs::write(&src, b"archive bytes").unwrap();
        let digest = sha(b"archive bytes");
        cache.store(&digest, &src).unwrap();
        let to = dir.path().join("got");
        let read = |p: &Path| fs::read(p).unwrap();
        let (lookup, seen) = cache.take_while(&digest, &to, read).unwrap();
        assert_eq!(lookup, Lookup::Hit { bytes: 13 });
        assert_eq!(seen.as_deref(), Some(&b"archive bytes"[..]));
        // A corrupt entry: the work saw its bytes, and the caller learns it must drop them.
        let entry = dir.path().join("c").join(&digest);
        fs::remove_file(&entry).unwrap();
        fs::write(&entry, b"other bytes").unwrap();
        let (lookup, seen) = cache.take_while(&digest, &to, read).unwrap();
        assert!(matches!(lookup, Lookup::Corrupt { .. }), "{lookup:?}");
        assert_eq!(seen.as_deref(), Some(&b"other bytes"[..]));
        // Nothing there: no work.
        let (lookup, seen) = cache.take_while(&digest, &to, read).unwrap();
        assert_eq!((lookup, seen), (Lookup::Miss, None));
    }

    #[test]
    fn eviction_removes_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c"), 25).unwrap();
        let mut digests = Vec::new();
        for (i, age) in [(0u8, 300u64), (1, 200), (2, 100)] {
            let body = vec![i; 10];
            let src = dir.path().join(format!("{i}"));
            fs::write(&src, &body).unwrap();
            let d = sha(&body);
            cache.store(&d, &src).unwrap();
            let f = File::options()
                .write(true)
                .open(dir.path().join("c").join(&d));
            f.unwrap()
                .set_modified(SystemTime::now() - Duration::from_secs(age))
                .unwrap();
            digests.push(d);
        }
        // 30 bytes > 25: the first stored (oldest) went when the third came.
        let left: Vec<bool> = digests
            .iter()
            .map(|d| dir.path().join("c").join(d).exists())
            .collect();
        assert_eq!(left, [false, true, true]);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_cache_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).unwrap();
        let e = Cache::open(&dir.path().join("link"), 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cache-dir") && e.contains("symlink"), "{e}");
    }
}
