//! Plan -> verified archives on disk -> files at their destination.
//!
//! Artifacts download concurrently (bounded by `concurrency`), each streamed to a temp file under
//! the work directory while it is hashed, never held in memory. A body cut short, a 5xx or a stall
//! is retried with backoff, resuming with `Range` when the blob server honours it, and with a fresh
//! signed URL from the API each time (they live about a minute). Only an archive whose SHA-256
//! matches the artifact's `digest` is extracted; extraction goes to a staging directory first and
//! is moved into place only when complete, so a failure leaves the destination as it was.

use std::fs::File;
use std::io::{Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};

use crate::extract::{self, Limits, is_safe_component};
use crate::github::client::{Target, http_status, without_query};
use crate::github::{Blob, GitHub};
use crate::plan::{Item, Plan};
use crate::report::Log;
use crate::settings::{Settings, Severity};
use crate::util::{human_bytes, random_hex, rate};

/// Bytes gathered before one write + hash: large enough to amortise the syscall and the hop to a
/// blocking section, small enough to keep memory flat with several downloads in flight.
const WRITE_BUFFER: usize = 1 << 20;

/// Everything a download task needs; shared by all of them.
pub struct Fetcher {
    pub settings: Arc<Settings>,
    pub github: Arc<GitHub>,
    pub blob: Blob,
    pub log: Log,
    /// Our private directory under `RUNNER_TEMP`; removed by the caller at the end.
    pub workdir: PathBuf,
}

/// How the digest check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestCheck {
    Verified,
    Mismatch,
    /// No digest published (GHES, upload-artifact before v4).
    Missing,
}

/// A fetched artifact.
#[derive(Debug, Clone)]
pub struct Done {
    /// Where it went: the directory extracted into, or the file written.
    pub path: PathBuf,
    pub files: u64,
    pub downloaded: u64,
    pub extracted: u64,
    pub digest: DigestCheck,
    pub sha256: String,
    pub elapsed: Duration,
}

/// One artifact's outcome, in plan order.
#[derive(Debug)]
pub struct Fetched {
    pub item: Item,
    pub result: Result<Done, String>,
}

impl Fetcher {
    pub async fn fetch_all(self: &Arc<Self>, plan: &Plan) -> Vec<Fetched> {
        let mut out: Vec<(usize, Fetched)> =
            futures_util::stream::iter(plan.items.iter().cloned().enumerate())
                .map(|(index, item)| {
                    let me = Arc::clone(self);
                    async move {
                        let mut lines = Vec::new();
                        let result = me
                            .fetch_one(&item, &mut lines)
                            .await
                            .map_err(|e| format!("{e:#}"));
                        let title = format!(
                            "Artifact '{}' (id {}, {})",
                            item.artifact.name,
                            item.artifact.id,
                            human_bytes(item.artifact.size_in_bytes)
                        );
                        if let Err(e) = &result {
                            lines.push(format!("failed: {e}"));
                        }
                        me.log.group_block(&title, &lines);
                        (index, Fetched { item, result })
                    }
                })
                .buffer_unordered(self.settings.concurrency)
                .collect()
                .await;
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, f)| f).collect()
    }

    async fn fetch_one(&self, item: &Item, lines: &mut Vec<String>) -> Result<Done> {
        let started = Instant::now();
        let a = &item.artifact;
        let part = self.workdir.join(format!("{}.download", a.id));
        let download = self.download(item, &part).await?;
        let secs = started.elapsed();
        lines.push(format!(
            "Downloaded {} in {:.2}s ({}){}",
            human_bytes(download.bytes),
            secs.as_secs_f64(),
            rate(download.bytes, secs),
            if download.attempts > 1 {
                format!(" after {} attempts", download.attempts)
            } else {
                String::new()
            }
        ));

        lines.extend(download.notes.iter().cloned());
        let digest = self.check_digest(item, &download.sha256, lines)?;

        let settings = Arc::clone(&self.settings);
        let dest = item.dest.clone();
        let name = a.name.clone();
        let workdir = self.workdir.clone();
        let id = a.id;
        let is_zip = download.is_zip;
        let filename = download.filename.clone();
        let bytes = download.bytes;
        let placed =
            tokio::task::spawn_blocking(move || -> Result<(PathBuf, u64, u64, Vec<String>)> {
                if is_zip && bytes == 0 {
                    bail!(
                        "artifact '{name}': the download is empty (0 bytes); a zip archive is at least 22 bytes"
                    );
                }
                if is_zip && !settings.skip_decompress && !starts_like_zip(&part) {
                    bail!(
                        "artifact '{name}': served as a zip archive but the body is not one ({}, starting with {})",
                        human_bytes(bytes),
                        first_bytes(&part)
                    );
                }
                if settings.skip_decompress || !is_zip {
                    let file_name = if is_zip {
                        format!("{name}.zip")
                    } else {
                        filename.unwrap_or_else(|| name.clone())
                    };
                    let target = dest.join(&file_name);
                    let size = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
                    move_into(&part, &target)?;
                    return Ok((target, 1, size, Vec::new()));
                }
                let (staging, created) = staging_dir(&workdir, &dest, id)?;
                let result = extract::extract_zip(
                    &part,
                    &staging,
                    &Limits {
                        max_total_bytes: settings.max_size,
                    },
                )
                .with_context(|| format!("artifact '{name}'"))
                .and_then(|x| {
                    extract::place(&staging, &dest).with_context(|| {
                        format!(
                            "artifact '{name}': cannot move files into {}",
                            dest.display()
                        )
                    })?;
                    Ok(x)
                });
                let _ = std::fs::remove_dir_all(&staging);
                crate::fsx::unregister_temp(&staging);
                let _ = std::fs::remove_file(&part);
                if result.is_err() {
                    // A destination that did not exist before is not left behind, empty.
                    crate::fsx::remove_created(&created);
                }
                let x = result?;
                Ok((dest, x.files, x.bytes, x.warnings))
            })
            .await
            .map_err(|e| anyhow!("extraction task failed: {e}"))??;
        let (path, files, extracted, warnings) = placed;
        for w in warnings {
            self.log.warning(&format!("artifact '{}': {w}", a.name));
        }
        if is_zip && !self.settings.skip_decompress {
            lines.push(format!(
                "Extracted {files} files ({}) to {}",
                human_bytes(extracted),
                path.display()
            ));
        } else {
            lines.push(format!("Saved {}", path.display()));
        }
        Ok(Done {
            path,
            files,
            downloaded: download.bytes,
            extracted,
            digest,
            sha256: download.sha256,
            elapsed: started.elapsed(),
        })
    }

    fn check_digest(
        &self,
        item: &Item,
        actual: &str,
        lines: &mut Vec<String>,
    ) -> Result<DigestCheck> {
        let a = &item.artifact;
        let Some(expected) = a.digest.as_deref().filter(|d| !d.is_empty()) else {
            lines.push("No digest published for this artifact (GHES or upload-artifact < v4); integrity not checked".into());
            return Ok(DigestCheck::Missing);
        };
        let expected_hex = expected.strip_prefix("sha256:").unwrap_or(expected);
        if expected_hex.eq_ignore_ascii_case(actual) {
            lines.push(format!("Digest verified: sha256:{actual}"));
            return Ok(DigestCheck::Verified);
        }
        let msg = format!(
            "artifact '{}': digest mismatch: expected {expected}, downloaded sha256:{actual}",
            a.name
        );
        match self.settings.digest_mismatch {
            Severity::Error => bail!("{msg}"),
            Severity::Warn => self.log.warning(&msg),
            Severity::Info => lines.push(msg),
            Severity::Ignore => {}
        }
        Ok(DigestCheck::Mismatch)
    }

    /// Streams the artifact to `part`, retrying and resuming; returns what was received.
    async fn download(&self, item: &Item, part: &Path) -> Result<Download> {
        let a = &item.artifact;
        let s = &self.settings;
        let mut sink = Sink::create(part)?;
        let mut last_error = String::new();
        let mut notes = Vec::new();
        for attempt in 1..=s.timing.attempts {
            if attempt > 1 {
                let wait = self.github.backoff(attempt - 1);
                self.log.warning(&format!(
                    "artifact '{}': {last_error}; retrying in {} (attempt {attempt} of {})",
                    a.name,
                    seconds(wait),
                    s.timing.attempts
                ));
                tokio::time::sleep(wait).await;
            }
            // A fresh signed URL every attempt: they expire after about a minute.
            let target = match self.github.download_target(&s.owner, &s.repo, a.id).await {
                Ok(t) => t,
                Err(e) if http_status(&e) == Some(410) => {
                    bail!("artifact '{}' has expired (410 Gone)", a.name)
                }
                Err(e) => {
                    return Err(e.context(format!(
                        "cannot get a download URL for artifact '{}'",
                        a.name
                    )));
                }
            };
            let (response, shown) = match target {
                Target::Redirect(url) => {
                    let shown = without_query(&url);
                    match self.blob.get(&url, sink.len).await {
                        Ok(r) => (r, shown),
                        Err(e) => {
                            last_error = format!("{e:#}");
                            continue;
                        }
                    }
                }
                Target::Body(r) => {
                    let shown = r.url().path().to_string();
                    (r, shown)
                }
            };
            match self
                .receive(a.name.as_str(), response, &shown, &mut sink, &mut notes)
                .await
            {
                Ok(meta) => {
                    let (bytes, sha256) = sink.finish()?;
                    return Ok(Download {
                        bytes,
                        sha256,
                        is_zip: meta.is_zip(part),
                        filename: meta.filename,
                        attempts: attempt,
                        notes,
                    });
                }
                Err(e) => last_error = format!("{e:#}"),
            }
        }
        bail!(
            "artifact '{}': download failed after {} attempts: {last_error}",
            a.name,
            s.timing.attempts
        )
    }

    /// Reads one response into the sink. Resumes when it is a 206 for our offset; restarts on 200.
    async fn receive(
        &self,
        name: &str,
        mut response: Response,
        shown: &str,
        sink: &mut Sink,
        notes: &mut Vec<String>,
    ) -> Result<Meta> {
        let status = response.status();
        match status {
            StatusCode::OK => {
                if sink.len > 0 {
                    notes.push(format!(
                        "The server did not honour the Range request; restarted from byte 0 ({} discarded)",
                        human_bytes(sink.len)
                    ));
                }
                sink.restart()?
            }
            StatusCode::PARTIAL_CONTENT => {
                let start = response
                    .headers()
                    .get(CONTENT_RANGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("bytes "))
                    .and_then(|v| v.split('-').next())
                    .and_then(|v| v.parse::<u64>().ok());
                if start != Some(sink.len) {
                    sink.restart()?;
                    bail!("GET {shown} resumed at the wrong offset; starting over");
                }
                notes.push(format!(
                    "Resumed at byte {} with a Range request (206 Partial Content)",
                    sink.len
                ));
            }
            _ => {
                let body = response.text().await.unwrap_or_default();
                let snippet: String = body.chars().take(120).collect();
                bail!(
                    "GET {shown} answered {status}{}",
                    if snippet.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", snippet.trim())
                    }
                );
            }
        }
        let header = |n| {
            response
                .headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let meta = Meta {
            content_type: header(CONTENT_TYPE),
            filename: header(CONTENT_DISPOSITION).and_then(|d| disposition_filename(&d)),
        };
        let expected = header(CONTENT_LENGTH)
            .and_then(|v| v.parse::<u64>().ok())
            .map(|n| n + sink.len);
        let started = Instant::now();
        let mut last_progress = Instant::now();
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => {
                    let why = if e.is_timeout() {
                        format!("no data for {}", seconds(self.settings.timing.stall))
                    } else {
                        "connection cut".to_string()
                    };
                    bail!(
                        "{why} after {} of {}",
                        human_bytes(sink.len),
                        expected.map(human_bytes).unwrap_or_else(|| "?".into())
                    );
                }
            };
            sink.write(&chunk)?;
            if last_progress.elapsed() >= self.settings.timing.progress {
                last_progress = Instant::now();
                let of = expected
                    .map(|t| {
                        format!(
                            " of {} ({:.0}%)",
                            human_bytes(t),
                            100.0 * sink.len as f64 / t.max(1) as f64
                        )
                    })
                    .unwrap_or_default();
                self.log.info(&format!(
                    "  '{name}': {}{of}, {}",
                    human_bytes(sink.len),
                    rate(sink.received, started.elapsed())
                ));
            }
        }
        if let Some(expected) = expected
            && sink.len < expected
        {
            bail!("body cut short: {} of {} bytes", sink.len, expected);
        }
        Ok(meta)
    }
}

/// `30s`, or `0.3s` when the test time scale shrinks it.
fn seconds(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0}s")
    } else if secs >= 1.0 {
        format!("{secs:.1}s")
    } else {
        format!("{secs:.2}s")
    }
}

struct Download {
    bytes: u64,
    sha256: String,
    is_zip: bool,
    filename: Option<String>,
    attempts: u32,
    /// Resumes and restarts, for the artifact's log group.
    notes: Vec<String>,
}

struct Meta {
    content_type: Option<String>,
    filename: Option<String>,
}

impl Meta {
    /// Zip when the server says so; when it says nothing useful, when the bytes say so.
    /// An artifact uploaded unzipped comes with its own type (text/plain, ...) and is kept as is.
    fn is_zip(&self, file: &Path) -> bool {
        let ct = self
            .content_type
            .as_deref()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match ct.as_str() {
            "application/zip" | "application/x-zip-compressed" | "application/zip-compressed" => {
                true
            }
            "" | "application/octet-stream" | "binary/octet-stream" => starts_like_zip(file),
            _ => false,
        }
    }
}

/// The first bytes of a file, quoted for an error message.
fn first_bytes(file: &Path) -> String {
    let mut head = Vec::new();
    let _ = File::open(file).and_then(|f| std::io::Read::read_to_end(&mut f.take(16), &mut head));
    format!("\"{}\"", head.escape_ascii())
}

fn starts_like_zip(file: &Path) -> bool {
    let mut magic = [0u8; 4];
    File::open(file)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

/// The file name from `Content-Disposition`: `filename*=UTF-8''…` first, then `filename=`; base
/// name only, and only when it is a safe single path component.
pub fn disposition_filename(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in header.split(';').map(str::trim) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let v = value.trim();
                let encoded = v.split_once("''").map(|(_, rest)| rest).unwrap_or(v);
                extended = percent_decode(encoded);
            }
            "filename" => plain = Some(value.trim().trim_matches('"').to_string()),
            _ => {}
        }
    }
    let name = extended.or(plain)?;
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").to_string();
    is_safe_component(&base).then_some(base)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A temp file that hashes what is written to it, in large blocks.
struct Sink {
    path: PathBuf,
    file: File,
    hasher: Sha256,
    buffer: Vec<u8>,
    /// Bytes of the archive we hold (written + buffered).
    len: u64,
    /// Bytes received in this attempt, for the rate.
    received: u64,
}

impl Sink {
    fn create(path: &Path) -> Result<Sink> {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Sink {
            path: path.to_path_buf(),
            file,
            hasher: Sha256::new(),
            buffer: Vec::with_capacity(WRITE_BUFFER),
            len: 0,
            received: 0,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.buffer.extend_from_slice(bytes);
        self.len += bytes.len() as u64;
        self.received += bytes.len() as u64;
        if self.buffer.len() >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let (file, hasher, buffer, path) = (
            &mut self.file,
            &mut self.hasher,
            &mut self.buffer,
            &self.path,
        );
        tokio::task::block_in_place(|| {
            hasher.update(&buffer[..]);
            file.write_all(buffer)
                .with_context(|| format!("cannot write {}", path.display()))
        })?;
        buffer.clear();
        Ok(())
    }

    /// Back to zero bytes: the server sent the whole body again.
    fn restart(&mut self) -> Result<()> {
        self.received = 0;
        if self.len == 0 {
            return Ok(());
        }
        self.buffer.clear();
        self.hasher = Sha256::new();
        self.len = 0;
        self.file = File::create(&self.path)
            .with_context(|| format!("cannot truncate {}", self.path.display()))?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(u64, String)> {
        self.flush()?;
        self.file.sync_data().ok();
        let hex: String = self
            .hasher
            .clone()
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((self.len, hex))
    }
}

/// A staging directory on the destination's filesystem, so that placing is a rename: under our
/// work directory when it shares the filesystem, else a hidden directory inside the destination,
/// registered so that it goes even on cancellation. Also returns the directories created for the
/// destination itself (outermost first), which a failure removes again.
fn staging_dir(workdir: &Path, dest: &Path, id: u64) -> Result<(PathBuf, Vec<PathBuf>)> {
    if same_filesystem(workdir, dest) {
        let staging = workdir.join(format!("staging-{id}"));
        crate::fsx::create_dir_all(&staging)?;
        return Ok((staging, Vec::new()));
    }
    let created = crate::fsx::create_dir_all_tracked(dest)?;
    let staging = dest.join(format!(".artifetch-staging-{}", random_hex(12)));
    crate::fsx::register_temp(&staging);
    if let Err(e) = std::fs::create_dir(&staging) {
        crate::fsx::unregister_temp(&staging);
        crate::fsx::remove_created(&created);
        return Err(e).with_context(|| format!("cannot create {}", staging.display()));
    }
    Ok((staging, created))
}

#[cfg(unix)]
fn same_filesystem(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let dev = |p: &Path| {
        p.ancestors()
            .find_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.dev())
    };
    dev(a).is_some() && dev(a) == dev(b)
}

#[cfg(not(unix))]
fn same_filesystem(_: &Path, _: &Path) -> bool {
    true
}

/// Moves a finished download to `target`, replacing a file there; copies across filesystems.
fn move_into(from: &Path, target: &Path) -> Result<()> {
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if let Ok(meta) = std::fs::symlink_metadata(target)
        && (meta.is_dir() || meta.file_type().is_symlink())
    {
        bail!(
            "{} exists and is not a regular file; refusing to replace it",
            target.display()
        );
    }
    if std::fs::rename(from, target).is_err() {
        std::fs::copy(from, target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        let _ = std::fs::remove_file(from);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_names() {
        assert_eq!(
            disposition_filename("attachment; filename=\"report.txt\"").as_deref(),
            Some("report.txt")
        );
        assert_eq!(
            disposition_filename(
                "attachment; filename=\"a.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
            )
            .as_deref(),
            Some("résumé.txt")
        );
        assert_eq!(
            disposition_filename("attachment; filename=\"../../etc/passwd\"").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            disposition_filename("attachment; filename=\"..\"").as_deref(),
            None
        );
        assert_eq!(disposition_filename("attachment").as_deref(), None);
    }
}
