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
//! Every tool runs round by round (interleaved), each ratio is printed with its range over the
//! rounds, and the report is written as Markdown and JSON side by side (`--out`).
//!
//! With `--baseline REV` it instead builds REV (in a temporary git worktree, cached under
//! `target/bench-baseline/`) and runs it against the current build, run by run, printing per
//! workload the ratio current/baseline (`baseline.rs`).
//!
//! Benchmarks are not tests: nothing here runs under `cargo test` (only the flags' parsing).

mod baseline;
mod figures;
mod limits;
mod machine;
mod measure;
mod render;
mod run;
mod server;
mod startup;
mod targeted;
mod volume;
mod workload;

use self::machine::tool_version;
use self::run::run;
use self::workload::Kind;
use crate::util::Flags;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
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
  --fresh-fs         each artifetch and gh run writes into a new ext4 file system (a loop-mounted
                     image; Linux, root): no run inherits the last one's freed inodes (wide)
  --out DIR          where the report goes: DIR/bench.md and DIR/bench.json (default
                     target/bench)
  --bin PATH         benchmark this artifetch binary (or wrapper script) instead of building
                     target/release/artifetch, e.g. a build with symbols under `perf record`
  --baseline REV     instead of the full report: build commit REV (cached in
                     target/bench-baseline/) and run it and the current build alternately, run
                     by run, on each workload (no throttled variants, no gh, no limits);
                     prints the ratio current/baseline per workload, median (min-max), and
                     fails if a median is more than 5% slower (judged from 5 runs up; use
                     --runs 5). Writes DIR/baseline.md (--out).

Workloads (full size): big = 8 artifacts x 64 MiB (half text, half random, deflate);
many = 300 artifacts of ~10 KiB; wide = 1 artifact, 256 MiB in 20,000 files;
huge = 1 artifact of 2 GiB; big@throttle and huge@throttle: the blob server capped per connection.
Sizes are of the extracted content; the table shows archive and extracted bytes.
Also, under \"Taking less than everything\": huge with `files` of one 64 MiB entry (a partial
fetch by range: bytes transferred and time against the full fetch), and big fetched again from a
warm cache-dir (blob requests and time against the extraction limit).
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
    /// `--fresh-fs`: a new file system for every run ([`volume`]).
    fresh_fs: bool,
    bin: Option<PathBuf>,
    out: PathBuf,
    /// `--baseline REV`: compare with that build instead of the full report.
    baseline: Option<baseline::Rev>,
}

impl Config {
    /// The artifetch binary under test: `--bin`, else the release build (built if stale).
    fn current_binary(&self) -> Result<PathBuf> {
        match &self.bin {
            Some(b) => Ok(std::path::absolute(b)?),
            None => crate::util::release_binary(),
        }
    }
}

pub fn main(args: &[String]) -> Result<()> {
    match config(args)? {
        None => {
            print!("{HELP}");
            Ok(())
        }
        Some(cfg) => match &cfg.baseline {
            Some(rev) => baseline::compare(&cfg, rev),
            None => run(&cfg),
        },
    }
}

/// The flags, checked (`None`: `--help`). `--baseline`'s REV is resolved to a commit here, so a
/// bad one fails before anything is built.
fn config(args: &[String]) -> Result<Option<Config>> {
    let flags = Flags::parse(
        args,
        &["runs", "only", "throttle", "bin", "out", "baseline"],
        &[
            "quick",
            "skip-huge",
            "no-gh",
            "no-https",
            "keep",
            "fresh-fs",
            "help",
        ],
    )?;
    if flags.has("help") {
        return Ok(None);
    }
    let baseline = flags
        .value("baseline")
        .map(baseline::Rev::resolve)
        .transpose()?;
    if baseline.is_some() && flags.has("throttle") {
        bail!("--baseline runs no throttled variant: --throttle does not apply");
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
    Ok(Some(Config {
        runs,
        quick,
        kinds,
        throttle: throttle * 1_000_000,
        gh: !flags.has("no-gh") && tool_version("gh", &["--version"]).is_some(),
        https: !flags.has("no-https"),
        keep: flags.has("keep"),
        fresh_fs: flags.has("fresh-fs"),
        bin: flags.value("bin").map(PathBuf::from),
        out: flags.value("out").map_or_else(
            || crate::util::workspace_root().join("target/bench"),
            PathBuf::from,
        ),
        baseline,
    }))
}
pub use measure::measure_child;

#[cfg(test)]
mod tests {
    use super::baseline::regressed;
    use super::figures::Spread;
    use super::*;

    fn config_of(args: &[&str]) -> Result<Option<Config>> {
        config(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    fn refused(args: &[&str]) -> String {
        match config_of(args) {
            Ok(_) => panic!("{args:?} was accepted"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn baseline_names_a_commit_and_combines_with_the_other_flags() {
        let args = [
            "--runs",
            "5",
            "--baseline",
            "HEAD",
            "--only",
            "big,many",
            "--quick",
            "--keep",
            "--fresh-fs",
        ];
        let cfg = config_of(&args).unwrap().expect("not --help");
        let rev = cfg.baseline.as_ref().expect("--baseline given");
        assert_eq!(rev.given, "HEAD");
        assert_eq!(rev.commit.len(), 40, "{}", rev.commit);
        assert!(rev.commit.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(cfg.runs, 5);
        assert_eq!(cfg.kinds, [Kind::Big, Kind::Many]);
        assert!(cfg.quick && cfg.keep && cfg.fresh_fs);

        // `--baseline=REV` is the same flag; without it the full report runs.
        let cfg = config_of(&["--baseline=HEAD", "--bin", "x"])
            .unwrap()
            .unwrap();
        assert_eq!(cfg.baseline.map(|r| r.given), Some("HEAD".to_string()));
        assert_eq!(cfg.bin, Some(PathBuf::from("x")));
        let cfg = config_of(&["--runs", "2"]).unwrap().unwrap();
        assert!(cfg.baseline.is_none());
        assert!(!cfg.fresh_fs, "the runner's own file system by default");
    }

    #[test]
    fn a_bad_baseline_is_refused_before_anything_is_built() {
        for bad in ["no-such-revision-25", "HEAD~1000000"] {
            let e = refused(&["--baseline", bad]);
            assert!(e.contains("--baseline") && e.contains(bad), "{e}");
            assert!(e.contains("names no commit"), "{e}");
        }
        // A leading dash would reach git as an option.
        let e = refused(&["--baseline=-p"]);
        assert!(e.contains("'-p' is not a revision"), "{e}");
    }

    #[test]
    fn a_missing_baseline_value_is_refused() {
        for args in [
            &["--baseline"][..],
            &["--baseline", "--runs", "5"],
            &["--baseline="],
        ] {
            let e = refused(args);
            assert_eq!(e, "--baseline needs a value", "{args:?}");
        }
    }

    #[test]
    fn baseline_runs_no_throttled_variant_so_throttle_is_refused_with_it() {
        let e = refused(&["--baseline", "HEAD", "--throttle", "50"]);
        assert!(e.contains("--throttle does not apply"), "{e}");
        // Unknown flags stay errors with it too.
        let e = refused(&["--baseline", "HEAD", "--fast"]);
        assert!(e.contains("unknown flag '--fast'"), "{e}");
    }

    #[test]
    fn a_workload_is_flagged_only_past_five_percent_over_five_runs() {
        let ratio = |median| Spread {
            median,
            min: median,
            max: median,
        };
        assert!(regressed(5, &ratio(1.06)));
        assert!(!regressed(5, &ratio(1.05)));
        assert!(!regressed(5, &ratio(0.80)));
        assert!(!regressed(4, &ratio(1.50)), "4 runs are not judged");
    }
}
