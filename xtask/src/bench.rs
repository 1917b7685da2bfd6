//! `cargo xtask bench`: the release `artifetch` binary against the fake GitHub on loopback.
//!
//! For every workload it prints the median wall time of N runs, throughput of archive and of
//! extracted bytes, the child's peak RSS (`ru_maxrss` from `wait4(2)`, so exact and per child,
//! no polling) and the requests the fake server saw. In the same run it measures the machine's
//! limits on the same bytes: copying them over loopback (curl to /dev/null, one connection per
//! artifact; a Rust raw reader when curl is missing) and extracting the same zips locally
//! (Debian's `unzip -q`, one process per artifact, and the zip crate with one thread per core),
//! and prints each artifetch time as a ratio to max(download limit, extraction limit). Where
//! `gh` is installed it also times `gh run download` over HTTPS against the same fake server
//! (TLS with a generated CA, GHES mode) next to artifetch over HTTPS.
//!
//! Benchmarks are not tests: nothing here runs under `cargo test`.

use crate::util::{Flags, Scratch, human, release_binary};
use anyhow::{Context, Result, bail};
use fakehub::zipbuild::{self, Entry, Method, Prepared};
use fakehub::{ArtifactSpec, FakeGitHub, Options, Origin, Run};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const HELP: &str = "\
usage: cargo xtask bench [flags]

  --runs N           runs per measurement; the median is reported (default 3; 1 with --quick)
  --quick            sizes scaled down 16x (huge: 64 MiB) for a smoke run in well under a minute
  --skip-huge        leave out the 2 GiB workload (and its throttled variant)
  --only LIST        comma-separated workloads: big,many,wide,huge (throttled variants follow)
  --throttle MBPS    per-connection blob rate of the throttled variants, MB/s (default 50)
  --no-gh            do not run `gh run download` even if gh is installed
  --no-https         skip the HTTPS section (artifetch and gh over TLS)
  --keep             keep the scratch directory (zips, logs) and print its path
  --bin PATH         benchmark this artifetch binary (or wrapper script) instead of building
                     target/release/artifetch, e.g. a build with symbols under `perf record`

Workloads (full size): big = 8 artifacts x 64 MiB (half text, half random, deflate);
many = 300 artifacts of ~10 KiB; wide = 1 artifact, 256 MiB in 20,000 files;
huge = 1 artifact of 2 GiB; big@throttle and huge@throttle: the blob server capped per connection.
Sizes are of the extracted content; the table shows archive and extracted bytes.
";

/// What the user asked for.
struct Config {
    runs: usize,
    quick: bool,
    kinds: Vec<Kind>,
    throttle: u64,
    gh: bool,
    https: bool,
    keep: bool,
    bin: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Big,
    Many,
    Wide,
    Huge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Big => "big",
            Kind::Many => "many",
            Kind::Wide => "wide",
            Kind::Huge => "huge",
        }
    }

    fn throttled_variant(self) -> bool {
        matches!(self, Kind::Big | Kind::Huge)
    }
}

/// The bytes of one workload.
struct Data {
    kind: Kind,
    artifacts: Vec<(String, Vec<u8>)>,
    extracted: u64,
    files: u64,
}

impl Data {
    fn archive(&self) -> u64 {
        self.artifacts.iter().map(|(_, b)| b.len() as u64).sum()
    }
}

pub fn main(args: &[String]) -> Result<()> {
    let flags = Flags::parse(
        args,
        &["runs", "only", "throttle", "bin"],
        &["quick", "skip-huge", "no-gh", "no-https", "keep", "help"],
    )?;
    if flags.has("help") {
        print!("{HELP}");
        return Ok(());
    }
    let quick = flags.has("quick");
    let runs = match flags.value("runs") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .context("--runs: a positive number")?,
        None if quick => 1,
        None => 3,
    };
    let mut kinds = vec![Kind::Big, Kind::Many, Kind::Wide, Kind::Huge];
    if let Some(only) = flags.value("only") {
        let want: Vec<&str> = only.split(',').map(str::trim).collect();
        for w in &want {
            if !kinds.iter().any(|k| k.name() == *w) {
                bail!("--only: unknown workload '{w}' (big, many, wide, huge)");
            }
        }
        kinds.retain(|k| want.contains(&k.name()));
    }
    if flags.has("skip-huge") {
        kinds.retain(|k| *k != Kind::Huge);
    }
    let throttle = match flags.value("throttle") {
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .context("--throttle: MB/s, a positive number")?,
        None => 50,
    };
    let cfg = Config {
        runs,
        quick,
        kinds,
        throttle: throttle * 1_000_000,
        gh: !flags.has("no-gh") && tool_version("gh", &["--version"]).is_some(),
        https: !flags.has("no-https"),
        keep: flags.has("keep"),
        bin: flags.value("bin").map(PathBuf::from),
    };
    run(&cfg)
}

/// First line of `tool args` if it runs.
fn tool_version(tool: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(tool).args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("").trim().to_string())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "?".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or("?".into(), |kb| human(kb * 1024));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    format!("{cpu}, {} cores, {mem} RAM, Linux {kernel}", cores())
}

// ---------------------------------------------------------------------------------------------
// Workload data

/// Runs `f(0..n)` on one thread per core; results in index order.
fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, T)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..cores().min(n.max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut got = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break got;
                        }
                        got.push((i, f(i)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut all: Vec<(usize, T)> = parts.drain(..).flatten().collect();
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, t)| t).collect()
}

/// A deflated file: text for even `i`, random bytes for odd `i` (half compressible, half not).
fn payload_entry(name: String, len: usize, i: usize, seed: u64) -> Entry {
    let data = if i.is_multiple_of(2) {
        zipbuild::text_payload(len, seed)
    } else {
        zipbuild::random_payload(len, seed)
    };
    Entry {
        method: Method::Deflate,
        ..Entry::new(name, &data)
    }
}

fn prepare(e: Entry) -> Prepared {
    match e.prepare() {
        Ok(p) => p,
        Err(e) => panic!("bench zip: {e}"),
    }
}

fn assemble(p: Vec<Prepared>) -> Result<Vec<u8>> {
    zipbuild::assemble(p).map_err(|e| anyhow::anyhow!("bench zip: {e}"))
}

fn generate(kind: Kind, quick: bool) -> Result<Data> {
    const MIB: usize = 1024 * 1024;
    let scale = if quick { 16 } else { 1 };
    let (artifacts, extracted, files) = match kind {
        Kind::Big => {
            // 8 artifacts; each 8 files (4 text, 4 random) of 8 MiB.
            let per_file = 8 * MIB / scale;
            let zips = par_map(8, |a| {
                let entries = (0..8)
                    .map(|i| {
                        let ext = if i % 2 == 0 { "txt" } else { "bin" };
                        let name = format!("data/part-{i}.{ext}");
                        prepare(payload_entry(name, per_file, i, (a * 100 + i) as u64))
                    })
                    .collect();
                assemble(entries)
            });
            let zips = zips.into_iter().collect::<Result<Vec<_>>>()?;
            let arts = zips
                .into_iter()
                .enumerate()
                .map(|(a, z)| (format!("big-{a}"), z))
                .collect();
            (arts, (8 * 8 * per_file) as u64, 64)
        }
        Kind::Many => {
            // 300 artifacts of ~10 KiB: 4 KiB of text and 6 KiB of random bytes each.
            let zips = par_map(300, |a| {
                assemble(vec![
                    prepare(payload_entry("notes.txt".into(), 4096, 0, a as u64)),
                    prepare(payload_entry("blob.bin".into(), 6144, 1, a as u64)),
                ])
            });
            let zips = zips.into_iter().collect::<Result<Vec<_>>>()?;
            let arts = zips
                .into_iter()
                .enumerate()
                .map(|(a, z)| (format!("many-{a:03}"), z))
                .collect();
            (arts, 300 * 10_240, 600)
        }
        Kind::Wide => {
            // One artifact, 20,000 files in 200 directories, 256 MiB; sizes spread 0.5x..1.5x.
            let n = 20_000 / scale;
            let mean = 256 * MIB / 20_000;
            let size = |i: usize| mean / 2 + (i.wrapping_mul(2_654_435_761) % mean);
            let entries = par_map(n, |i| {
                let ext = if i % 2 == 0 { "txt" } else { "bin" };
                let name = format!("tree/d{:02}/s{}/f{i:05}.{ext}", i / 1000, (i / 100) % 10);
                prepare(payload_entry(name, size(i), i, i as u64))
            });
            let total: usize = (0..n).map(size).sum();
            (
                vec![("wide".to_string(), assemble(entries)?)],
                total as u64,
                n as u64,
            )
        }
        Kind::Huge => {
            // One artifact of 2 GiB: 32 files of 64 MiB (quick: 32 x 2 MiB).
            let per_file = 64 * MIB / if quick { 32 } else { 1 };
            let entries = par_map(32, |i| {
                let ext = if i % 2 == 0 { "txt" } else { "bin" };
                prepare(payload_entry(
                    format!("huge/file-{i:02}.{ext}"),
                    per_file,
                    i,
                    1000 + i as u64,
                ))
            });
            (
                vec![("huge".to_string(), assemble(entries)?)],
                (32 * per_file) as u64,
                32,
            )
        }
    };
    Ok(Data {
        kind,
        artifacts,
        extracted,
        files,
    })
}

// ---------------------------------------------------------------------------------------------
// Running and measuring children

/// Wall time and peak RSS of one child process.
#[derive(Debug, Clone, Copy)]
struct Sample {
    wall: Duration,
    rss_kib: u64,
}

/// Runs `cmd` (built with `env_clear`) with stdout/stderr to `log` and returns its wall time
/// and its own peak RSS. A non-zero exit is an error that quotes the log's tail.
///
/// The child is started by a small helper process (`xtask __measure`, see [`measure_child`])
/// rather than by this process: Linux folds the RSS high-water mark of the address space a
/// child `exec`s away from into its `ru_maxrss`, and with `posix_spawn`/`vfork` that address
/// space is the parent's, i.e. this process holding gigabytes of workload zips. The helper is a
/// few MiB, so the figure is the child's own.
fn measure(cmd: &mut Command, log: &Path) -> Result<Sample> {
    let result = log.with_extension("measure");
    let _ = std::fs::remove_file(&result);
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let mut helper = Command::new(std::env::current_exe()?);
    helper
        .arg("__measure")
        .arg(&result)
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            helper.env(k, v);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        helper.current_dir(dir);
    }
    let status = helper.status().context("cannot run the measuring helper")?;
    let text = std::fs::read_to_string(&result).unwrap_or_default();
    let fields: Vec<u64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    if !status.success() || fields.len() != 2 {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "{:?} failed ({status}); log {}:\n{}",
            cmd.get_program(),
            log.display(),
            tail.join("\n")
        );
    }
    Ok(Sample {
        wall: Duration::from_nanos(fields[0]),
        rss_kib: fields[1],
    })
}

/// `xtask __measure RESULT PROGRAM ARGS...`: spawns the program (inheriting environment, cwd
/// and stdio), waits for it with `wait4(2)` and writes `<wall ns> <ru_maxrss KiB>` to RESULT.
/// Exits with the child's status.
pub fn measure_child(args: &[String]) -> Result<()> {
    let [result, program, rest @ ..] = args else {
        bail!("usage: xtask __measure RESULT PROGRAM ARGS...");
    };
    let started = Instant::now();
    let child = Command::new(program)
        .args(rest)
        .spawn()
        .with_context(|| format!("cannot start {program}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pointers to locals; pid is our own child, not yet reaped.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("wait4");
        }
    }
    let wall = started.elapsed();
    drop(child); // already reaped; dropping a Child neither waits nor kills
    let status = ExitStatus::from_raw(status);
    if !status.success() {
        bail!("{program} failed ({status})");
    }
    std::fs::write(
        result,
        format!("{} {}\n", wall.as_nanos(), usage.ru_maxrss.max(0)),
    )?;
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

/// Median wall time and the largest peak RSS over the samples.
#[derive(Debug, Clone, Copy, Default)]
struct Stat {
    wall: Duration,
    rss_kib: u64,
}

fn stat(samples: &[Sample]) -> Stat {
    Stat {
        wall: median(samples.iter().map(|s| s.wall).collect()),
        rss_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
    }
}

fn fresh_dir(p: &Path) -> Result<()> {
    if p.exists() {
        std::fs::remove_dir_all(p).with_context(|| format!("cannot remove {}", p.display()))?;
    }
    std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))
}

fn count_files(dir: &Path) -> u64 {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => n += 1,
                Err(_) => {}
            }
        }
    }
    n
}

/// A fake GitHub holding one workload's artifacts in one run.
struct Server {
    gh: FakeGitHub,
    run: u64,
    ids: Vec<u64>,
}

fn serve(data: &Data, opts: Options) -> Server {
    let gh = FakeGitHub::start(opts);
    let run = gh.add_run(Run::new(&gh.repo()));
    let ids = data
        .artifacts
        .iter()
        .map(|(name, body)| gh.add_artifact(run, ArtifactSpec::new(name, body.clone())))
        .collect();
    Server { gh, run, ids }
}

impl Server {
    fn requests(&self) -> (usize, usize) {
        let log = self.gh.requests();
        let api = log.iter().filter(|r| r.origin == Origin::Api).count();
        (api, log.len() - api)
    }
}

/// Scratch layout shared by all runs.
struct Paths {
    root: PathBuf,
    out: PathBuf,
    temp: PathBuf,
    home: PathBuf,
    logs: PathBuf,
    zips: PathBuf,
}

fn artifetch_cmd(bin: &Path, s: &Server, p: &Paths, ca: Option<&Path>) -> Command {
    let mut c = Command::new(bin);
    c.arg("--path")
        .arg(&p.out)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &p.home)
        .env("GITHUB_API_URL", s.gh.api_url())
        .env("GITHUB_SERVER_URL", s.gh.server_url())
        .env("GITHUB_REPOSITORY", s.gh.repo())
        .env("GITHUB_RUN_ID", s.run.to_string())
        .env("GITHUB_TOKEN", s.gh.token())
        .env("GITHUB_STEP_SUMMARY", p.root.join("summary.md"))
        .env("GITHUB_OUTPUT", p.root.join("output"))
        .env("RUNNER_TEMP", &p.temp)
        .current_dir(&p.home);
    if let Some(ca) = ca {
        c.env("SSL_CERT_FILE", ca);
    }
    c
}

/// `gh run download` against the TLS/GHES server: `GH_HOST` is `127.0.0.1:PORT`, and the token
/// is given for exactly that host in `GH_CONFIG_DIR/hosts.yml` (gh looks tokens up per
/// `host:port`, so the blob origin on another port gets none; `GH_ENTERPRISE_TOKEN` would go
/// to every non-github.com host, the blob host included, which refuses it with 403).
fn gh_cmd(s: &Server, p: &Paths, ca: &Path) -> Result<Command> {
    let host = s.gh.server_url().trim_start_matches("https://").to_string();
    let cfg = p.root.join("gh-config");
    std::fs::create_dir_all(&cfg)?;
    std::fs::write(
        cfg.join("hosts.yml"),
        format!(
            "{host}:\n    oauth_token: {}\n    user: octocat\n    git_protocol: https\n",
            s.gh.token()
        ),
    )?;
    std::fs::write(cfg.join("config.yml"), "version: \"1\"\nprompt: disabled\n")?;
    let mut c = Command::new("gh");
    c.args([
        "run",
        "download",
        &s.run.to_string(),
        "-R",
        &s.gh.repo(),
        "-D",
    ])
    .arg(&p.out)
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", &p.home)
    .env("GH_CONFIG_DIR", &cfg)
    .env("GH_HOST", &host)
    .env("SSL_CERT_FILE", ca)
    .env("GH_NO_UPDATE_NOTIFIER", "1")
    .env("GH_PROMPT_DISABLED", "1")
    .env("NO_COLOR", "1")
    .current_dir(&p.home);
    Ok(c)
}

/// Runs `make()` `runs` times into a fresh output dir; checks the first run's file count.
fn repeat(
    label: &str,
    runs: usize,
    p: &Paths,
    expect_files: u64,
    mut make: impl FnMut() -> Result<Command>,
    before: impl Fn(),
) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for i in 0..runs {
        fresh_dir(&p.out)?;
        fresh_dir(&p.temp)?;
        let _ = std::fs::remove_file(p.root.join("summary.md"));
        before();
        let log = p
            .logs
            .join(format!("{}-{i}.log", label.replace(['/', '@'], "_")));
        let s = measure(&mut make()?, &log).with_context(|| format!("{label}, run {}", i + 1))?;
        if i == 0 {
            let got = count_files(&p.out);
            if got != expect_files {
                bail!(
                    "{label}: expected {expect_files} files in {}, found {got} (log {})",
                    p.out.display(),
                    log.display()
                );
            }
        }
        eprintln!(
            "    {label} run {}: {:.3}s, peak RSS {}",
            i + 1,
            s.wall.as_secs_f64(),
            human(s.rss_kib * 1024)
        );
        samples.push(s);
    }
    Ok(samples)
}

// ---------------------------------------------------------------------------------------------
// Machine limits

/// Fresh signed blob URLs for the artifacts (the API's 302 `Location`), over plain HTTP.
fn signed_urls(s: &Server) -> Result<Vec<String>> {
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
fn http_get(
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
enum Downloader {
    Curl,
    RawReader,
}

/// Copies every artifact's bytes over loopback to nowhere, one connection per artifact, up to
/// `parallel` at once; returns the wall time (URLs are signed before the clock starts).
fn download_limit(s: &Server, how: Downloader, parallel: usize) -> Result<Duration> {
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

/// `unzip -q` of every zip, one process per artifact, `parallel` at once.
fn unzip_limit(zips: &[PathBuf], dest: &Path, parallel: usize) -> Result<Duration> {
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
fn ziprs_limit(zips: &[PathBuf], dest: &Path, threads: usize) -> Result<Duration> {
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
struct Limits {
    download: Duration,
    unzip: Option<Duration>,
    ziprs: Duration,
}

impl Limits {
    fn extract(&self) -> Duration {
        self.unzip.map_or(self.ziprs, |u| u.min(self.ziprs))
    }

    fn limit(&self) -> Duration {
        self.download.max(self.extract())
    }
}

// ---------------------------------------------------------------------------------------------
// The benchmark

/// One row of the loopback table.
struct Row {
    name: String,
    archive: u64,
    extracted: u64,
    files: u64,
    artifetch: Stat,
    api: usize,
    blob: usize,
    limits: Limits,
    throttle: Option<u64>,
}

/// One row of the HTTPS table.
struct TlsRow {
    name: String,
    artifetch: Stat,
    gh: Option<Result<Stat, String>>,
    api: usize,
    gh_api: Option<usize>,
}

fn secs(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}

fn mbps(bytes: u64, d: Duration) -> String {
    format!("{:.0}", bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9))
}

fn run(cfg: &Config) -> Result<()> {
    let bin = match &cfg.bin {
        Some(b) => std::path::absolute(b)?,
        None => release_binary()?,
    };
    let mut scratch = Scratch::new("bench")?;
    scratch.keep = cfg.keep;
    let p = Paths {
        root: scratch.path.clone(),
        out: scratch.join("out"),
        temp: scratch.join("temp"),
        home: scratch.join("home"),
        logs: scratch.join("logs"),
        zips: scratch.join("zips"),
    };
    for d in [&p.home, &p.logs, &p.zips] {
        std::fs::create_dir_all(d)?;
    }
    let downloader = if tool_version("curl", &["--version"]).is_some() {
        Downloader::Curl
    } else {
        Downloader::RawReader
    };
    let unzip = tool_version("unzip", &["-v"]);
    let gh_version = if cfg.gh {
        tool_version("gh", &["--version"])
    } else {
        None
    };
    let started = Instant::now();
    let load_start = load_average();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(crate::util::workspace_root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    eprintln!(
        "bench: {} runs each{}, binary {} (commit {commit}), scratch {}",
        cfg.runs,
        if cfg.quick { ", quick sizes" } else { "" },
        bin.display(),
        p.root.display()
    );

    let mut rows: Vec<Row> = Vec::new();
    let mut tls_rows: Vec<TlsRow> = Vec::new();
    let mut gh_problem: Option<String> = None;
    for &kind in &cfg.kinds {
        let t = Instant::now();
        let data = generate(kind, cfg.quick)?;
        eprintln!(
            "  {}: {} artifacts, {} archive, {} extracted, {} files (built in {:.1}s)",
            kind.name(),
            data.artifacts.len(),
            human(data.archive()),
            human(data.extracted),
            data.files,
            t.elapsed().as_secs_f64()
        );
        fresh_dir(&p.zips)?;
        let zips: Vec<PathBuf> = data
            .artifacts
            .iter()
            .map(|(name, body)| {
                let f = p.zips.join(format!("{name}.zip"));
                std::fs::write(&f, body).map(|_| f)
            })
            .collect::<std::io::Result<_>>()?;

        let ext = measure_extraction(cfg, &zips, &p, unzip.is_some())?;
        let mut variants: Vec<Option<u64>> = vec![None];
        if kind.throttled_variant() {
            variants.push(Some(cfg.throttle));
        }
        for throttle in variants {
            let name = match throttle {
                None => kind.name().to_string(),
                Some(t) => format!("{}@{}MB/s", kind.name(), t / 1_000_000),
            };
            let s = serve(
                &data,
                Options {
                    throttle_bytes_per_sec: throttle,
                    ..Options::default()
                },
            );
            let parallel = data.artifacts.len().min(8);
            let mut dl = Vec::new();
            for _ in 0..cfg.runs {
                dl.push(download_limit(&s, downloader, parallel)?);
            }
            let limits = Limits {
                download: median(dl),
                ..ext
            };
            eprintln!(
                "    {name} limits: download {}, unzip {}, zip-rs x{} {}",
                secs(limits.download),
                limits.unzip.map_or("-".into(), secs),
                cores(),
                secs(limits.ziprs)
            );
            let samples = repeat(
                &name,
                cfg.runs,
                &p,
                data.files,
                || Ok(artifetch_cmd(&bin, &s, &p, None)),
                || s.gh.clear_requests(),
            )?;
            let (api, blob) = s.requests();
            rows.push(Row {
                name,
                archive: data.archive(),
                extracted: data.extracted,
                files: data.files,
                artifetch: stat(&samples),
                api,
                blob,
                limits,
                throttle,
            });
        }
        if cfg.https {
            let row = https_compare(cfg, &bin, &data, &p, &mut gh_problem)?;
            tls_rows.push(row);
        }
        drop(data);
        fresh_dir(&p.out)?;
    }

    let report = render(
        cfg,
        &rows,
        &tls_rows,
        &Header {
            machine: machine(),
            load_start,
            load_end: load_average(),
            commit,
            downloader,
            unzip,
            gh: gh_version,
            gh_problem,
            total: started.elapsed(),
        },
    );
    println!("{report}");
    if cfg.keep {
        eprintln!("scratch kept at {}", p.root.display());
    }
    Ok(())
}

fn measure_extraction(cfg: &Config, zips: &[PathBuf], p: &Paths, unzip: bool) -> Result<Limits> {
    let dest = p.root.join("limit-out");
    let mut u = Vec::new();
    let mut z = Vec::new();
    for _ in 0..cfg.runs {
        if unzip {
            u.push(unzip_limit(zips, &dest, cores())?);
        }
        z.push(ziprs_limit(zips, &dest, cores())?);
    }
    let _ = std::fs::remove_dir_all(&dest);
    Ok(Limits {
        download: Duration::ZERO,
        unzip: unzip.then(|| median(u)),
        ziprs: median(z),
    })
}

/// artifetch and `gh run download` over HTTPS (TLS, GHES mode), runs interleaved.
fn https_compare(
    cfg: &Config,
    bin: &Path,
    data: &Data,
    p: &Paths,
    gh_problem: &mut Option<String>,
) -> Result<TlsRow> {
    let s = serve(
        data,
        Options {
            tls: true,
            ghes: true,
            ghes_external_storage: true,
            ..Options::default()
        },
    );
    let ca = s.gh.ca_file().context("TLS server without a CA file")?;
    let name = data.kind.name().to_string();
    let mut a = Vec::new();
    let mut g = Vec::new();
    let mut api = 0;
    let mut gh_api = None;
    let mut gh_err: Option<String> = gh_problem.clone();
    for i in 0..cfg.runs {
        a.extend(repeat(
            &format!("{name}-https-{i}"),
            1,
            p,
            data.files,
            || Ok(artifetch_cmd(bin, &s, p, Some(&ca))),
            || s.gh.clear_requests(),
        )?);
        api = s.requests().0;
        if cfg.gh && gh_err.is_none() {
            match repeat(
                &format!("{name}-gh-{i}"),
                1,
                p,
                data.files,
                || gh_cmd(&s, p, &ca),
                || s.gh.clear_requests(),
            ) {
                Ok(v) => {
                    g.extend(v);
                    gh_api = Some(s.requests().0);
                }
                Err(e) => {
                    let msg = format!("{e:#}");
                    eprintln!("    gh failed: {msg}");
                    gh_err = Some(msg);
                }
            }
        }
    }
    if gh_err.is_some() && gh_problem.is_none() {
        gh_problem.clone_from(&gh_err);
    }
    let gh = if !cfg.gh {
        None
    } else if let Some(e) = gh_err {
        Some(Err(e))
    } else {
        Some(Ok(stat(&g)))
    };
    Ok(TlsRow {
        name,
        artifetch: stat(&a),
        gh,
        api,
        gh_api,
    })
}

struct Header {
    machine: String,
    load_start: String,
    load_end: String,
    commit: String,
    downloader: Downloader,
    unzip: Option<String>,
    gh: Option<String>,
    gh_problem: Option<String>,
    total: Duration,
}

fn render(cfg: &Config, rows: &[Row], tls: &[TlsRow], h: &Header) -> String {
    let mut o = String::new();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(o, "\n## artifetch benchmark ({date})\n");
    let _ = writeln!(o, "- machine: {}", h.machine);
    let _ = writeln!(
        o,
        "- load average (1/5/15 min): {} at start, {} at end; total {:.0}s",
        h.load_start,
        h.load_end,
        h.total.as_secs_f64()
    );
    let _ = writeln!(
        o,
        "- artifetch commit {}; median of {} run(s){}; peak RSS = max `ru_maxrss` over the runs (wait4)",
        h.commit,
        cfg.runs,
        if cfg.quick { "; --quick sizes" } else { "" }
    );
    let dl = match h.downloader {
        Downloader::Curl => "curl to /dev/null",
        Downloader::RawReader => "a Rust raw HTTP reader (curl not found)",
    };
    let _ = writeln!(
        o,
        "- download limit: {dl}, one connection per artifact, up to 8 at once; extraction limit: the faster of {} and the zip crate with {} threads",
        h.unzip
            .as_ref()
            .map_or("(unzip not found)".to_string(), |_| format!(
                "`unzip -q` ({} at once)",
                cores()
            )),
        cores()
    );
    let _ = writeln!(
        o,
        "- ratio = artifetch time / max(download limit, extraction limit); 1.00 is the machine's limit\n"
    );
    let _ = writeln!(
        o,
        "| workload | archive | extracted | files | artifetch | MB/s archive | MB/s extracted | peak RSS | API / blob requests | download limit | extract limit (unzip / zip-rs) | ratio to limit |"
    );
    let _ = writeln!(
        o,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in rows {
        let w = r.artifetch.wall;
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {} / {} | {:.2} |",
            r.name,
            human(r.archive),
            human(r.extracted),
            r.files,
            secs(w),
            mbps(r.archive, w),
            mbps(r.extracted, w),
            human(r.artifetch.rss_kib * 1024),
            r.api,
            r.blob,
            secs(r.limits.download),
            r.limits.unzip.map_or("-".into(), secs),
            secs(r.limits.ziprs),
            w.as_secs_f64() / r.limits.limit().as_secs_f64().max(1e-9)
        );
    }
    let throttled: Vec<&Row> = rows.iter().filter(|r| r.throttle.is_some()).collect();
    if !throttled.is_empty() {
        let _ = writeln!(o);
        for r in throttled {
            let rate = r.throttle.unwrap_or(1) as f64;
            let got = r.archive as f64 / r.artifetch.wall.as_secs_f64().max(1e-9);
            let _ = writeln!(
                o,
                "- {}: artifetch moved {:.0} MB/s = {:.2}x one throttled connection ({:.0} MB/s)",
                r.name,
                got / 1e6,
                got / rate,
                rate / 1e6
            );
        }
    }
    if !tls.is_empty() {
        let _ = writeln!(
            o,
            "\n### Over HTTPS (fakehub TLS with a generated CA, GHES mode `/api/v3`, blob on another port)\n"
        );
        let _ = writeln!(
            o,
            "gh: {}\n",
            h.gh.as_deref().unwrap_or("not installed or --no-gh")
        );
        let _ = writeln!(
            o,
            "| workload | artifetch | gh run download | artifetch / gh | artifetch RSS | gh RSS | API requests (artifetch / gh) |"
        );
        let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|");
        for r in tls {
            let (g, ratio, grss) = match &r.gh {
                Some(Ok(g)) => (
                    secs(g.wall),
                    format!(
                        "{:.2}",
                        r.artifetch.wall.as_secs_f64() / g.wall.as_secs_f64().max(1e-9)
                    ),
                    human(g.rss_kib * 1024),
                ),
                Some(Err(_)) => ("failed".into(), "-".into(), "-".into()),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} / {} |",
                r.name,
                secs(r.artifetch.wall),
                g,
                ratio,
                human(r.artifetch.rss_kib * 1024),
                grss,
                r.api,
                r.gh_api.map_or("-".into(), |n| n.to_string())
            );
        }
        if let Some(e) = &h.gh_problem {
            let _ = writeln!(o, "\ngh could not be run against the fake server: {e}");
        }
    }
    o
}
