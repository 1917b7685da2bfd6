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
//! Benchmarks are not tests: nothing here runs under `cargo test`.

mod limits;
mod machine;
mod measure;
mod render;
mod run;
mod server;
mod startup;
mod targeted;
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
  --out DIR          where the report goes: DIR/bench.md and DIR/bench.json (default
                     target/bench)
  --bin PATH         benchmark this artifetch binary (or wrapper script) instead of building
                     target/release/artifetch, e.g. a build with symbols under `perf record`

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
    bin: Option<PathBuf>,
    out: PathBuf,
}

pub fn main(args: &[String]) -> Result<()> {
    let flags = Flags::parse(
        args,
        &["runs", "only", "throttle", "bin", "out"],
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
        out: flags.value("out").map_or_else(
            || crate::util::workspace_root().join("target/bench"),
            PathBuf::from,
        ),
    };
    run(&cfg)
}
pub use measure::measure_child;
