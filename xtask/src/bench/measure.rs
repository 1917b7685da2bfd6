//! Running one child and measuring it: wall time and its own peak RSS (wait4), medians.

use anyhow::{Context, Result, bail};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Wall time and peak RSS of one child process.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sample {
    pub(super) wall: Duration,
    pub(super) rss_kib: u64,
    /// User plus system CPU time: on a busy machine it moves far less than the wall time.
    pub(super) cpu: Duration,
}

/// Runs `cmd` (built with `env_clear`) with stdout/stderr to `log` and returns its wall time
/// and its own peak RSS. A non-zero exit is an error that quotes the log's tail.
///
/// The child is started by a small helper process (`xtask __measure`, see [`measure_child`])
/// rather than by this process: Linux folds the RSS high-water mark of the address space a
/// child `exec`s away from into its `ru_maxrss`, and with `posix_spawn`/`vfork` that address
/// space is the parent's, i.e. this process holding gigabytes of workload zips. The helper is a
/// few MiB, so the figure is the child's own.
pub(super) fn measure(cmd: &mut Command, log: &Path) -> Result<Sample> {
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
    if !status.success() || fields.len() != 3 {
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
        cpu: Duration::from_nanos(fields[2]),
    })
}

/// `xtask __measure RESULT PROGRAM ARGS...`: spawns the program (inheriting environment, cwd
/// and stdio), waits for it with `wait4(2)` and writes `<wall ns> <ru_maxrss KiB> <CPU ns>` (user
/// plus system) to RESULT.
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
    let cpu = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    let cpu = cpu(usage.ru_utime) + cpu(usage.ru_stime);
    std::fs::write(
        result,
        format!(
            "{} {} {}\n",
            wall.as_nanos(),
            usage.ru_maxrss.max(0),
            cpu.as_nanos()
        ),
    )?;
    Ok(())
}

pub(super) fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

/// Median wall time and the largest peak RSS over the samples.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Stat {
    pub(super) wall: Duration,
    pub(super) rss_kib: u64,
}

pub(super) fn stat(samples: &[Sample]) -> Stat {
    Stat {
        wall: median(samples.iter().map(|s| s.wall).collect()),
        rss_kib: samples.iter().map(|s| s.rss_kib).max().unwrap_or(0),
    }
}

pub(super) fn fresh_dir(p: &Path) -> Result<()> {
    if p.exists() {
        std::fs::remove_dir_all(p).with_context(|| format!("cannot remove {}", p.display()))?;
    }
    std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))
}

pub(super) fn count_files(dir: &Path) -> u64 {
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
