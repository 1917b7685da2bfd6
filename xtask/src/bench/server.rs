//! The fake GitHub serving a workload, and the command lines of the tools run against it.

use super::measure::{Sample, count_files, fresh_dir, measure};
use super::volume::Volume;
use super::workload::Data;
use crate::util::{Scratch, human};
use anyhow::{Context, Result, bail};
use fakehub::{ArtifactSpec, FakeGitHub, Options, Origin, Run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One fake server serves every run of a workload, so the 1,000 requests an hour of a
/// `GITHUB_TOKEN` would run out after three runs of `many` and artifetch would (rightly) pace
/// itself to the reset: the benchmark measures transfer, not waiting, so its limit is generous.
pub(super) const BENCH_RATE_LIMIT: u64 = 1_000_000;

/// A fake GitHub holding one workload's artifacts in one run.
pub(super) struct Server {
    pub(super) gh: FakeGitHub,
    pub(super) run: u64,
    pub(super) ids: Vec<u64>,
}

pub(super) fn serve(data: &Data, opts: Options) -> Server {
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
    pub(super) fn requests(&self) -> (usize, usize) {
        let log = self.gh.requests();
        let api = log.iter().filter(|r| r.origin == Origin::Api).count();
        (api, log.len() - api)
    }
}

/// Scratch layout shared by all runs.
pub(super) struct Paths {
    pub(super) root: PathBuf,
    pub(super) out: PathBuf,
    pub(super) temp: PathBuf,
    pub(super) home: PathBuf,
    pub(super) logs: PathBuf,
    pub(super) zips: PathBuf,
    /// `--fresh-fs`: `out` and `temp` live on this file system, made anew before each run.
    pub(super) volume: Option<Volume>,
}

/// A fresh scratch directory (kept with `--keep`) and its layout, the directories made; with
/// `fresh_fs`, the destination and temp directory on a file system of their own.
pub(super) fn scratch(keep: bool, fresh_fs: bool) -> Result<(Scratch, Paths)> {
    let mut scratch = Scratch::new("bench")?;
    scratch.keep = keep;
    let volume = fresh_fs.then(|| Volume::new(&scratch.path)).transpose()?;
    let runs_in = volume
        .as_ref()
        .map_or(scratch.path.clone(), |v| v.mount.clone());
    let p = Paths {
        root: scratch.path.clone(),
        out: runs_in.join("out"),
        temp: runs_in.join("temp"),
        home: scratch.join("home"),
        logs: scratch.join("logs"),
        zips: scratch.join("zips"),
        volume,
    };
    for d in [&p.home, &p.logs, &p.zips] {
        std::fs::create_dir_all(d)?;
    }
    Ok((scratch, p))
}

pub(super) fn artifetch_cmd(bin: &Path, s: &Server, p: &Paths, ca: Option<&Path>) -> Command {
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
pub(super) fn gh_cmd(s: &Server, p: &Paths, ca: &Path) -> Result<Command> {
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
pub(super) fn repeat(
    label: &str,
    runs: usize,
    p: &Paths,
    expect_files: u64,
    mut make: impl FnMut() -> Result<Command>,
    before: impl Fn(),
) -> Result<Vec<Sample>> {
    let mut samples = Vec::new();
    for i in 0..runs {
        if let Some(volume) = &p.volume {
            volume.renew()?;
        }
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
