//! The machine's limits on the same bytes: loopback download (curl) and local extraction
//! (unzip, the zip crate), which every artifetch time is divided by.

use super::machine::cores;
use super::measure::fresh_dir;
use super::server::Server;
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Fresh signed blob URLs for the artifacts (the API's 302 `Location`), over plain HTTP.
pub(super) fn signed_urls(s: &Server) -> Result<Vec<String>> {
    let api = s.gh.api_url();
    let hostport = api
        .strip_prefix("http://")
        .context("limits are measured over plain HTTP")?
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    s.ids
        .iter()
        .map(|id| {
            let path = format!("/repos/{}/actions/artifacts/{id}/zip", s.gh.repo());
            let head = http_get(
                &hostport,
                &path,
                &[("Authorization", &format!("Bearer {}", s.gh.token()))],
                &mut std::io::sink(),
            )?;
            head.lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("location")
                        .then(|| v.trim().to_string())
                })
                .with_context(|| format!("no Location for artifact {id}: {head}"))
        })
        .collect()
}

/// A minimal HTTP/1.1 GET (Connection: close) that copies the body into `sink`; returns the head.
pub(super) fn http_get(
    hostport: &str,
    path: &str,
    headers: &[(&str, &str)],
    sink: &mut dyn Write,
) -> Result<String> {
    let mut tcp = std::net::TcpStream::connect(hostport)?;
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: artifetch-xtask-bench\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes())?;
    let mut buf = vec![0u8; 1 << 20];
    let mut head = Vec::new();
    loop {
        let n = tcp.read(&mut buf)?;
        if n == 0 {
            return Ok(String::from_utf8_lossy(&head).into_owned());
        }
        head.extend_from_slice(&buf[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            sink.write_all(&head[end + 4..])?;
            head.truncate(end);
            break;
        }
    }
    loop {
        let n = tcp.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sink.write_all(&buf[..n])?;
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// How the download limit is measured on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Downloader {
    Curl,
    RawReader,
}

/// Copies every artifact's bytes over loopback to nowhere, one connection per artifact, up to
/// `parallel` at once; returns the wall time (URLs are signed before the clock starts).
pub(super) fn download_limit(s: &Server, how: Downloader, parallel: usize) -> Result<Duration> {
    let urls = signed_urls(s)?;
    match how {
        Downloader::Curl => {
            let mut c = Command::new("curl");
            c.args([
                "-sS",
                "--fail",
                "-Z",
                "--parallel-max",
                &parallel.to_string(),
            ]);
            for u in &urls {
                c.args(["-o", "/dev/null", u]);
            }
            let started = Instant::now();
            let st = c
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .context("curl")?;
            let wall = started.elapsed();
            if !st.success() {
                bail!("curl failed ({st})");
            }
            Ok(wall)
        }
        Downloader::RawReader => {
            let started = Instant::now();
            let next = AtomicUsize::new(0);
            let results = std::thread::scope(|sc| {
                let hs: Vec<_> = (0..parallel.min(urls.len()))
                    .map(|_| {
                        sc.spawn(|| -> Result<()> {
                            loop {
                                let i = next.fetch_add(1, Ordering::Relaxed);
                                let Some(u) = urls.get(i) else { return Ok(()) };
                                let rest = u.strip_prefix("http://").context("http URL")?;
                                let (hp, path) =
                                    rest.split_at(rest.find('/').unwrap_or(rest.len()));
                                http_get(hp, path, &[], &mut std::io::sink())?;
                            }
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| {
                        h.join()
                            .unwrap_or_else(|_| Err(anyhow::anyhow!("reader panicked")))
                    })
                    .collect::<Vec<_>>()
            });
            let wall = started.elapsed();
            for r in results {
                r?;
            }
            Ok(wall)
        }
    }
}

/// One round's extraction limits into `dest` (removed after): `unzip -q` (when `unzip`) and the
/// zip crate, one per core; `.2` is the faster, the limit a ratio is taken against.
pub(super) fn extract_limits(
    zips: &[PathBuf],
    dest: &Path,
    unzip: bool,
) -> Result<(Option<Duration>, Duration, Duration)> {
    let unzip_took = if unzip {
        Some(unzip_limit(zips, dest, cores())?)
    } else {
        None
    };
    let ziprs_took = ziprs_limit(zips, dest, cores())?;
    let _ = std::fs::remove_dir_all(dest);
    let faster = unzip_took.map_or(ziprs_took, |u| u.min(ziprs_took));
    Ok((unzip_took, ziprs_took, faster))
}

/// `unzip -q` of every zip, one process per artifact, `parallel` at once.
pub(super) fn unzip_limit(zips: &[PathBuf], dest: &Path, parallel: usize) -> Result<Duration> {
    fresh_dir(dest)?;
    let started = Instant::now();
    let mut running: Vec<std::process::Child> = Vec::new();
    for (i, z) in zips.iter().enumerate() {
        if running.len() >= parallel {
            let mut c = running.remove(0);
            let st = c.wait()?;
            if !st.success() {
                bail!("unzip failed ({st})");
            }
        }
        running.push(
            Command::new("unzip")
                .args(["-q", "-o"])
                .arg(z)
                .arg("-d")
                .arg(dest.join(i.to_string()))
                .stdin(Stdio::null())
                .spawn()
                .context("unzip")?,
        );
    }
    for mut c in running {
        let st = c.wait()?;
        if !st.success() {
            bail!("unzip failed ({st})");
        }
    }
    Ok(started.elapsed())
}

/// The zip crate (zlib-rs, as artifetch uses it) with `threads` threads, each with its own file
/// handle, splitting every archive's entries between them in contiguous blocks.
pub(super) fn ziprs_limit(zips: &[PathBuf], dest: &Path, threads: usize) -> Result<Duration> {
    fresh_dir(dest)?;
    let started = Instant::now();
    let results: Vec<Result<()>> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                sc.spawn(move || -> Result<()> {
                    let mut buf = vec![0u8; 256 * 1024];
                    for (a, z) in zips.iter().enumerate() {
                        let file = std::fs::File::open(z)?;
                        let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))?;
                        let root = dest.join(a.to_string());
                        // Contiguous blocks, not interleaved entries: neighbouring entries
                        // share a directory, and creates in one directory serialize on its lock.
                        let n = zip.len();
                        for i in (t * n / threads)..((t + 1) * n / threads) {
                            let mut entry = zip.by_index(i)?;
                            let Some(rel) = entry.enclosed_name() else {
                                bail!("unsafe entry name");
                            };
                            let path = root.join(rel);
                            if entry.is_dir() {
                                std::fs::create_dir_all(&path)?;
                                continue;
                            }
                            if let Some(parent) = path.parent() {
                                std::fs::create_dir_all(parent)?;
                            }
                            let mut out = std::fs::File::create(&path)?;
                            loop {
                                let n = entry.read(&mut buf)?;
                                if n == 0 {
                                    break;
                                }
                                out.write_all(&buf[..n])?;
                            }
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("extractor panicked")))
            })
            .collect()
    });
    let wall = started.elapsed();
    for r in results {
        r?;
    }
    Ok(wall)
}

/// The limits of one workload (medians).
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub(super) download: Duration,
    pub(super) unzip: Option<Duration>,
    pub(super) ziprs: Duration,
}
