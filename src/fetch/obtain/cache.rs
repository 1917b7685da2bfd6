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
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
// The same hash the download computes: an entry's name is the SHA-256 of its bytes.
use sha2::{Digest, Sha256};

use crate::extract::positioned::{read_exact_at, write_all_at};
use crate::util::hex;
use crate::util::random_hex;

/// Temp files of a writer killed mid-store are removed once this old.
const STALE_TEMP: Duration = Duration::from_secs(60 * 60);
const TEMP_PREFIX: &str = ".tmp-";
const BUF_SIZE: usize = 256 * 1024;
/// A hit copies this much of the entry's end first: the end record and, in all but huge
/// archives, the central directory, which an extractor reads before any entry.
const TAIL_FIRST: u64 = 4 << 20;

#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
    max_bytes: u64,
    /// Tests only (`ARTIFETCH_TEST_BARRIER_DIR`): where a hit announces that its bytes are
    /// hashed and waits to be let go, so a test can change the entry at exactly that moment.
    barrier: Option<PathBuf>,
}

/// What a hit's copy reports as it goes, so the archive can be extracted while it is copied:
/// the copy's length first, then each range of the copy written (and never rewritten).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Copied {
    Began { total: u64 },
    Range { start: u64, end: u64 },
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
    /// refused: the cache must be a directory the runner's user owns, not a pointer elsewhere;
    /// so is one another user could write into or swap (see [`check_private`]).
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
        check_private(dir)?;
        Ok(Cache {
            dir: dir.to_path_buf(),
            max_bytes,
            barrier: None,
        })
    }

    /// Sets the test barrier directory (see [`Cache::barrier`]).
    pub(crate) fn with_barrier(mut self, barrier: Option<PathBuf>) -> Cache {
        self.barrier = barrier;
        self
    }

    /// Test barrier: creates `<barrier>/<point>.reached`, then waits for `<point>.go` (for at
    /// most a minute, so a test that never answers cannot hang the step for ever).
    fn pause(&self, point: &str) {
        self.reached(point);
        self.wait_go(point);
    }

    fn reached(&self, point: &str) {
        if let Some(dir) = &self.barrier {
            let _ = fs::write(dir.join(format!("{point}.reached")), b"");
        }
    }

    fn wait_go(&self, point: &str) {
        if let Some(dir) = &self.barrier {
            let go = dir.join(format!("{point}.go"));
            for _ in 0..6000 {
                if go.exists() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    fn entry(&self, sha256: &str) -> Option<PathBuf> {
        let ok = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| self.dir.join(sha256.to_ascii_lowercase()))
    }

    /// Copies the entry for `sha256` to `to` (a new file, owner-only), hashing each block as it
    /// is copied, so the bytes the fetch goes on to use are exactly the bytes hashed: a process
    /// that rewrites the entry in place afterwards changes nothing of `to`. `copied` hears of
    /// each range of `to` written, so `to` can be extracted while the copy goes on (its result
    /// kept only for a hit). A mismatch removes the entry and `to`. Never a hard link: nothing
    /// handed to the user may share the cache's inode. Blocking.
    pub(crate) fn take(
        &self,
        sha256: &str,
        to: &Path,
        copied: &mut dyn FnMut(Copied),
    ) -> Result<Lookup> {
        let Some(entry) = self.entry(sha256) else {
            return Ok(Lookup::Miss);
        };
        let src = match open_regular(&entry) {
            Ok(Some(src)) => src,
            Ok(None) => {
                let _ = fs::remove_file(&entry);
                let found = "not a regular file".into();
                return Ok(Lookup::Corrupt { found });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Lookup::Miss),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", entry.display())),
        };
        let _ = fs::remove_file(to);
        let found = copy_hashing(&src, to, copied)
            .with_context(|| format!("cannot copy {} to {}", entry.display(), to.display()))?;
        self.pause("cache-hashed");
        if !found.0.eq_ignore_ascii_case(sha256) {
            let _ = fs::remove_file(&entry);
            let _ = fs::remove_file(to);
            let found = format!("sha256:{}", found.0);
            return Ok(Lookup::Corrupt { found });
        }
        // Recently used: eviction goes by mtime.
        if let Ok(f) = File::options().write(true).open(&entry) {
            let _ = f.set_modified(SystemTime::now());
        }
        Ok(Lookup::Hit { bytes: found.1 })
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
        // A copy, never a hard link: `from` may be handed to the user (`skip-decompress`), and
        // nothing of theirs may share the cache's inode.
        let written = File::open(from)
            .and_then(|mut src| {
                let mut out = create_private_file(&temp)?;
                io::copy(&mut src, &mut out).map(|_| ())
            })
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

/// On a shared self-hosted runner another local user must not be able to plant or rewrite an
/// entry, as ssh will not read keys another user could have written. On the way to `dir`, a
/// symlink is refused unless root made it (the system's own, such as macOS's `/var`): anyone
/// else's could be pointed elsewhere later. On the real path, `dir` must be owned by this
/// process's user and writable by nobody else; every directory above it owned by this user or
/// root, and writable by nobody else unless sticky (`/tmp`: others cannot rename what is ours).
#[cfg(unix)]
fn check_private(dir: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let lstat = |p: &Path| {
        fs::symlink_metadata(p).with_context(|| format!("cache-dir: cannot read {}", p.display()))
    };
    for above in dir
        .ancestors()
        .skip(1)
        .filter(|p| !p.as_os_str().is_empty())
    {
        let meta = lstat(above)?;
        if meta.file_type().is_symlink() && meta.uid() != 0 {
            bail!(
                "cache-dir: {}, above {}, is a symlink (of uid {}), which could be pointed elsewhere later; give the real path",
                above.display(),
                dir.display(),
                meta.uid()
            );
        }
    }
    let real = fs::canonicalize(dir)
        .with_context(|| format!("cache-dir: cannot read {}", dir.display()))?;
    let meta = lstat(&real)?;
    let shown = dir.display();
    if meta.uid() != me {
        bail!(
            "cache-dir: {shown} is owned by uid {}, not by this user (uid {me}); another user could plant entries there; use a directory of your own",
            meta.uid()
        );
    }
    if meta.mode() & 0o022 != 0 {
        bail!(
            "cache-dir: {shown} can be written by other users (mode {:o}); another user could plant entries there; chmod 700 it",
            meta.mode() & 0o7777
        );
    }
    for above in real.ancestors().skip(1) {
        check_above(above, dir, me, &lstat(above)?)?;
    }
    Ok(())
}

/// A directory above the cache: only this user or root may own it, and nobody else may write
/// into it unless it is sticky, or they could swap the cache for a directory of theirs.
#[cfg(unix)]
fn check_above(above: &Path, dir: &Path, me: u32, meta: &fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    if meta.uid() != me && meta.uid() != 0 {
        bail!(
            "cache-dir: {}, above {}, is owned by uid {}, who could replace the cache; use a directory under one of your own",
            above.display(),
            dir.display(),
            meta.uid()
        );
    }
    let sticky = meta.mode() & 0o1000 != 0;
    if meta.mode() & 0o022 != 0 && !sticky {
        bail!(
            "cache-dir: {}, above {}, can be written by other users (mode {:o}), who could replace the cache; use a directory under one of your own",
            above.display(),
            dir.display(),
            meta.mode() & 0o7777
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_dir: &Path) -> Result<()> {
    Ok(())
}

/// `path` opened for reading if it is a regular file; `None` for anything else (a symlink is
/// not followed: the file opened must be the one `lstat` saw, same device and inode).
fn open_regular(path: &Path) -> io::Result<Option<File>> {
    let seen = fs::symlink_metadata(path)?;
    if !seen.is_file() {
        return Ok(None);
    }
    let file = File::open(path)?;
    let opened = file.metadata()?;
    Ok((opened.is_file() && same_file(&seen, &opened)).then_some(file))
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// A new file only the owner may read or write.
fn create_private_file(path: &Path) -> io::Result<File> {
    let mut options = File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Copies `src` to a new file `to`, hashing each block as it is written: SHA-256 (hex) and
/// length of exactly the bytes `to` holds. Each block of `src` is read once, for both. The end
/// goes first (held in memory, hashed last), so an extractor starting from the central
/// directory at the end can work while the rest is copied.
fn copy_hashing(
    src: &File,
    to: &Path,
    copied: &mut dyn FnMut(Copied),
) -> io::Result<(String, u64)> {
    let total = src.metadata()?.len();
    let out = create_private_file(to)?;
    out.set_len(total)?;
    copied(Copied::Began { total });
    let tail_start = total.saturating_sub(TAIL_FIRST);
    let mut tail = vec![0u8; (total - tail_start) as usize];
    read_exact_at(src, &mut tail, tail_start)?;
    write_all_at(&out, &tail, tail_start)?;
    copied(Copied::Range {
        start: tail_start,
        end: total,
    });
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; BUF_SIZE];
    let mut pos = 0u64;
    while pos < tail_start {
        let n = BUF_SIZE.min((tail_start - pos) as usize);
        read_exact_at(src, &mut buf[..n], pos)?;
        hasher.update(&buf[..n]);
        write_all_at(&out, &buf[..n], pos)?;
        copied(Copied::Range {
            start: pos,
            end: pos + n as u64,
        });
        pos += n as u64;
    }
    hasher.update(&tail);
    Ok((hex(&hasher.finalize()), total))
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
        assert_eq!(
            cache.take(&digest, &to, &mut |_| ()).unwrap(),
            Lookup::Hit { bytes: 13 }
        );
        assert_eq!(fs::read(&to).unwrap(), b"archive bytes");
        // Tampered in place (a fresh inode, so `to` keeps its own copy).
        let entry = dir.path().join("c").join(&digest);
        fs::remove_file(&entry).unwrap();
        fs::write(&entry, b"other bytes").unwrap();
        let to2 = dir.path().join("got2");
        assert!(matches!(
            cache.take(&digest, &to2, &mut |_| ()).unwrap(),
            Lookup::Corrupt { .. }
        ));
        assert!(!entry.exists() && !to2.exists());
        assert_eq!(
            cache.take(&digest, &to2, &mut |_| ()).unwrap(),
            Lookup::Miss
        );
        // Names that are not a SHA-256 are never looked up.
        assert_eq!(
            cache.take("../a.zip", &to2, &mut |_| ()).unwrap(),
            Lookup::Miss
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_taken_copy_and_a_stored_entry_are_private_files_of_their_own() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(&dir.path().join("c"), 1 << 20).unwrap();
        let src = dir.path().join("a.zip");
        fs::write(&src, b"archive bytes").unwrap();
        fs::set_permissions(&src, fs::Permissions::from_mode(0o644)).unwrap();
        let digest = sha(b"archive bytes");
        cache.store(&digest, &src).unwrap();
        let to = dir.path().join("got");
        assert_eq!(
            cache.take(&digest, &to, &mut |_| ()).unwrap(),
            Lookup::Hit { bytes: 13 }
        );
        let entry = dir.path().join("c").join(&digest);
        let inode = |p: &Path| fs::metadata(p).map(|m| (m.dev(), m.ino())).unwrap();
        assert_ne!(inode(&entry), inode(&src));
        assert_ne!(inode(&entry), inode(&to));
        for p in [&entry, &to] {
            assert_eq!(fs::metadata(p).unwrap().mode() & 0o777, 0o600, "{p:?}");
        }
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
