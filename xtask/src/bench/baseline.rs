//! `cargo xtask bench --baseline REV`: the current build against an earlier commit's, so a
//! change that makes a workload slower shows up as such rather than as a drift of the ratio to
//! the machine's limit (issue 25: `big` lost a quarter unnoticed).
//!
//! REV is built once in a temporary git worktree with its own target directory, shared by every
//! baseline (`target/bench-baseline/target`, so dependencies build once), and its binary is
//! kept at `target/bench-baseline/<commit>/artifetch` for later runs. Each workload is served
//! by one fake GitHub; each round runs both builds, the first of them alternating from round to
//! round, and gives one ratio current/baseline: both sides see the same machine, whatever else
//! it is doing, within seconds of each other.

use super::Config;
use super::figures::{Spread, spread};
use super::measure::Sample;
use super::server::{BENCH_RATE_LIMIT, Paths, Server, artifetch_cmd, repeat, scratch, serve};
use super::workload::{Data, generate};
use crate::util::{cargo, workspace_root};
use anyhow::{Context, Result, bail};
use fakehub::Options;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A median more than this much slower than the baseline's is a regression.
const SLOWER: f64 = 1.05;
/// Fewer runs than this are printed but not judged: one slow run would decide.
const JUDGED_FROM: usize = 5;

/// `--baseline REV`: as given, and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Rev {
    pub(super) given: String,
    pub(super) commit: String,
}

impl Rev {
    /// Resolves `given` to a commit of this repository, or says why it cannot.
    pub(super) fn resolve(given: &str) -> Result<Rev> {
        // A leading dash would reach git as an option.
        if given.is_empty() || given.starts_with('-') {
            bail!("--baseline: '{given}' is not a revision; expected a commit, tag or branch");
        }
        let out = git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{given}^{{commit}}"),
        ])?;
        if !out.status.success() {
            bail!(
                "--baseline: '{given}' names no commit of this repository (git rev-parse found none)"
            );
        }
        Ok(Rev {
            given: given.to_string(),
            commit: String::from_utf8_lossy(&out.stdout).trim().to_string(),
        })
    }

    fn short(&self) -> &str {
        &self.commit[..self.commit.len().min(12)]
    }
}

fn git(args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .args(args)
        .current_dir(workspace_root())
        .output()
        .context("cannot run git")
}

/// Where baselines are built and kept.
fn cache_root() -> PathBuf {
    workspace_root().join("target/bench-baseline")
}

/// The release binary of `rev`: the cached one, or built now in a temporary worktree.
pub(super) fn baseline_binary(rev: &Rev) -> Result<PathBuf> {
    let kept = cache_root().join(&rev.commit).join("artifetch");
    if kept.is_file() {
        eprintln!("baseline {}: cached at {}", rev.given, kept.display());
        return Ok(kept);
    }
    let tree = Worktree::add(&cache_root().join(format!("src-{}", rev.short())), rev)?;
    eprintln!(
        "baseline {}: building {} in {} (target dir {})",
        rev.given,
        rev.short(),
        tree.dir.display(),
        cache_root().join("target").display()
    );
    let status = cargo()
        .args([
            "build",
            "--release",
            "--locked",
            "--quiet",
            "-p",
            "artifetch",
        ])
        .env("CARGO_TARGET_DIR", cache_root().join("target"))
        .current_dir(&tree.dir)
        .status()
        .context("cannot run cargo to build the baseline")?;
    if !status.success() {
        bail!(
            "baseline {}: cargo build --release failed ({status})",
            rev.given
        );
    }
    // Copied under a temporary name, then renamed: an interrupted copy is never taken as built.
    let built = cache_root().join("target/release/artifetch");
    std::fs::create_dir_all(cache_root().join(&rev.commit))?;
    let partial = kept.with_extension("partial");
    std::fs::copy(&built, &partial).with_context(|| format!("cannot copy {}", built.display()))?;
    std::fs::rename(&partial, &kept)?;
    Ok(kept)
}

/// A detached git worktree at a commit, removed (and pruned) when dropped.
struct Worktree {
    dir: PathBuf,
}

impl Worktree {
    fn add(dir: &Path, rev: &Rev) -> Result<Worktree> {
        // What an interrupted earlier build left there.
        Worktree::remove(dir);
        let dir_text = dir.to_string_lossy();
        let out = git(&["worktree", "add", "--detach", &dir_text, &rev.commit])?;
        if !out.status.success() {
            bail!(
                "baseline {}: git worktree add failed: {}",
                rev.given,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(Worktree {
            dir: dir.to_path_buf(),
        })
    }

    fn remove(dir: &Path) {
        if dir.exists() {
            let _ = git(&["worktree", "remove", "--force", &dir.to_string_lossy()]);
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = git(&["worktree", "prune"]);
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        Worktree::remove(&self.dir);
    }
}

/// One workload's runs, round by round: each build's wall and CPU seconds.
struct Compared {
    name: &'static str,
    current: Vec<Sample>,
    baseline: Vec<Sample>,
}

impl Compared {
    /// current / baseline of one figure, round by round.
    fn ratio(&self, of: fn(&Sample) -> Duration) -> Spread {
        let secs = |s: &Sample| of(s).as_secs_f64();
        Spread::of(
            self.current
                .iter()
                .zip(&self.baseline)
                .map(|(c, b)| secs(c) / secs(b).max(1e-9))
                .collect(),
        )
    }

    fn each(samples: &[Sample], of: fn(&Sample) -> Duration) -> Spread {
        Spread::of(samples.iter().map(|s| of(s).as_secs_f64()).collect())
    }
}

fn wall(s: &Sample) -> Duration {
    s.wall
}

fn cpu(s: &Sample) -> Duration {
    s.cpu
}

/// `--baseline`: every workload, both builds alternately; the report, and an error when a
/// workload regressed.
pub(super) fn compare(cfg: &Config, rev: &Rev) -> Result<()> {
    let baseline = baseline_binary(rev)?;
    let current = cfg.current_binary()?;
    check_distinct(&current, &baseline)?;
    let (_scratch, p) = scratch(cfg.keep, cfg.fresh_fs)?;
    eprintln!(
        "bench --baseline: {} (current) against {} ({} at {}), {} round(s)",
        current.display(),
        baseline.display(),
        rev.given,
        rev.short(),
        cfg.runs
    );
    let mut all = Vec::new();
    for &kind in &cfg.kinds {
        let data = generate(kind, cfg.quick)?;
        let server = serve(
            &data,
            Options {
                rate_limit: BENCH_RATE_LIMIT,
                ..Options::default()
            },
        );
        all.push(rounds(cfg.runs, &data, &server, &p, [&current, &baseline])?);
    }
    let report = render(cfg, rev, &all);
    println!("{report}");
    std::fs::create_dir_all(&cfg.out)?;
    let file = cfg.out.join("baseline.md");
    std::fs::write(&file, &report)?;
    eprintln!("report written to {}", file.display());
    let slower: Vec<&str> = all
        .iter()
        .filter(|c| regressed(cfg.runs, &c.ratio(wall)))
        .map(|c| c.name)
        .collect();
    if !slower.is_empty() {
        bail!(
            "slower than {} by more than 5% in medians: {} (a regression to fix or explain)",
            rev.given,
            slower.join(", ")
        );
    }
    Ok(())
}

/// The current build must not come out of the baselines' target directory: cargo judges a path
/// package fresh by its sources' mtimes against the last build there, so a checkout whose files
/// are older than the last baseline build gets that baseline's binary as its own (this happened:
/// `CARGO_TARGET_DIR=target/bench-baseline/target cargo xtask bench --baseline ...` compared
/// b94bf57 with itself). Two identical binaries are worth a warning whatever the cause.
fn check_distinct(current: &Path, baseline: &Path) -> Result<()> {
    let shared = cache_root().join("target");
    if std::path::absolute(current)?.starts_with(&shared) {
        bail!(
            "the current build comes from {}, the baselines' target directory, where cargo may take a baseline's binary for it; build it elsewhere (unset CARGO_TARGET_DIR, or --bin)",
            shared.display()
        );
    }
    if let (Ok(a), Ok(b)) = (std::fs::read(current), std::fs::read(baseline))
        && a == b
    {
        eprintln!(
            "warning: {} and {} are the same bytes: the comparison measures noise only",
            current.display(),
            baseline.display()
        );
    }
    Ok(())
}

/// `runs` rounds of one workload; in each, both builds, the first alternating.
fn rounds(
    runs: usize,
    data: &Data,
    server: &Server,
    p: &Paths,
    [current, baseline]: [&Path; 2],
) -> Result<Compared> {
    let name = data.kind.name();
    let mut got = Compared {
        name,
        current: Vec::new(),
        baseline: Vec::new(),
    };
    for round in 0..runs {
        let one = |label: &str, bin: &Path| -> Result<Sample> {
            let label = format!("{name}-{label}-{round}");
            let make = || Ok(artifetch_cmd(bin, server, p, None));
            Ok(repeat(&label, 1, p, data.files, make, || {
                server.gh.clear_requests()
            })?[0])
        };
        let (c, b) = if round % 2 == 0 {
            let c = one("current", current)?;
            (c, one("baseline", baseline)?)
        } else {
            let b = one("baseline", baseline)?;
            (one("current", current)?, b)
        };
        got.current.push(c);
        got.baseline.push(b);
    }
    Ok(got)
}

/// More than 5% slower in medians, over enough runs to say so.
pub(super) fn regressed(runs: usize, ratio: &Spread) -> bool {
    runs >= JUDGED_FROM && ratio.median > SLOWER
}

fn render(cfg: &Config, rev: &Rev, all: &[Compared]) -> String {
    let mut o = String::new();
    let commit = git(&["rev-parse", "--short", "HEAD"])
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "\n## artifetch against {} ({})\n\n- current: commit {commit}{}; baseline: {}; {} round(s), the two builds alternating which goes first; ratio = current / baseline of the same round, median (min–max); CPU = user + system seconds (wait4); the verdict is on wall time{}\n",
        rev.given,
        rev.short(),
        if cfg.bin.is_some() { " (--bin)" } else { "" },
        rev.commit,
        cfg.runs,
        if cfg.quick { "; --quick sizes" } else { "" },
    );
    let _ = writeln!(
        o,
        "| workload | current | baseline | current / baseline | CPU current | CPU baseline | CPU current / baseline | verdict |"
    );
    let _ = writeln!(o, "|---|---:|---:|---:|---:|---:|---:|---|");
    for c in all {
        let ratio = c.ratio(wall);
        let verdict = if cfg.runs < JUDGED_FROM {
            format!("not judged (fewer than {JUDGED_FROM} runs)")
        } else if regressed(cfg.runs, &ratio) {
            format!("**slower by {:.0}%**", (ratio.median - 1.0) * 100.0)
        } else {
            "ok".to_string()
        };
        let _ = writeln!(
            o,
            "| {} | {}s | {}s | {} | {}s | {}s | {} | {verdict} |",
            c.name,
            spread(&Compared::each(&c.current, wall), 2),
            spread(&Compared::each(&c.baseline, wall), 2),
            spread(&ratio, 2),
            spread(&Compared::each(&c.current, cpu), 2),
            spread(&Compared::each(&c.baseline, cpu), 2),
            spread(&c.ratio(cpu), 2),
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_current_build_from_the_baselines_target_directory_is_refused() {
        let current = cache_root().join("target/release/artifetch");
        let e = check_distinct(&current, Path::new("/nonexistent/baseline")).unwrap_err();
        assert!(
            format!("{e:#}").contains("the baselines' target directory"),
            "{e:#}"
        );
        // Anywhere else it is fine (a missing file is for the run to report, not this check).
        let elsewhere = workspace_root().join("target/release/artifetch");
        assert!(check_distinct(&elsewhere, Path::new("/nonexistent/baseline")).is_ok());
    }
}
